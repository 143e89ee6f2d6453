//! Ordering candidates for a key: descending score, ties by id ascending (byte order).
//! [`rank`] returns the whole preferred order; [`first_eligible`] and [`top2`] walk the
//! candidates once without allocating, for the per-request hot path.

use std::cmp::Ordering;

use super::ids::Weight;
use super::key::PlacementKey;
use super::score::Scorer;

/// Anything placement can rank: a registrar machine or a pool.
pub trait Candidate {
    /// The id string's bytes, as hashed.
    fn placement_id(&self) -> &[u8];
    /// The weight (>= 1).
    fn placement_weight(&self) -> Weight;
}

/// A plain id + weight candidate (for tools, tests and benches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The id.
    pub id: Box<str>,
    /// The weight.
    pub weight: Weight,
}

impl Member {
    /// A member with this id and weight.
    pub fn new(id: impl Into<Box<str>>, weight: Weight) -> Self {
        Self {
            id: id.into(),
            weight,
        }
    }
}

impl Candidate for Member {
    fn placement_id(&self) -> &[u8] {
        self.id.as_bytes()
    }
    fn placement_weight(&self) -> Weight {
        self.weight
    }
}

/// One entry of a preferred order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranked {
    /// Index into the candidate slice.
    pub index: usize,
    /// The candidate's score for the key.
    pub score: u64,
}

/// `Ordering::Less` when `a` comes first in the preferred order.
fn preference(a_score: u64, a_id: &[u8], b_score: u64, b_id: &[u8]) -> Ordering {
    b_score.cmp(&a_score).then_with(|| a_id.cmp(b_id))
}

/// All candidates in preferred order for `key`.
pub fn rank<C: Candidate>(key: &PlacementKey, candidates: &[C]) -> Vec<Ranked> {
    let mut scorer = Scorer::new(key);
    let mut ranked: Vec<Ranked> = candidates
        .iter()
        .enumerate()
        .map(|(index, c)| Ranked {
            index,
            score: scorer.score(c.placement_id(), c.placement_weight()),
        })
        .collect();
    ranked.sort_by(|a, b| {
        preference(
            a.score,
            candidates[a.index].placement_id(),
            b.score,
            candidates[b.index].placement_id(),
        )
    });
    ranked
}

/// The first candidate in preferred order for which `eligible(index)` holds. No allocation.
pub fn first_eligible<C: Candidate>(
    key: &PlacementKey,
    candidates: &[C],
    eligible: impl Fn(usize) -> bool,
) -> Option<usize> {
    first_eligible_with(&mut Scorer::new(key), candidates, eligible)
}

/// [`first_eligible`] with a scorer built once for the key and reused across candidate lists
/// (the pool hash, then the primary and backup pools' machines). One linear max-scan: the
/// best is the highest score, ties broken by the smaller id, then by the lower index.
pub fn first_eligible_with<C: Candidate>(
    scorer: &mut Scorer<'_>,
    candidates: &[C],
    eligible: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (index, c) in candidates.iter().enumerate() {
        if !eligible(index) {
            continue;
        }
        let id = c.placement_id();
        let score = scorer.score(id, c.placement_weight());
        let better = match best {
            None => true,
            Some((held, held_score)) => {
                score > held_score
                    || (score == held_score
                        && preference(score, id, held_score, candidates[held].placement_id())
                            == Ordering::Less)
            }
        };
        if better {
            best = Some((index, score));
        }
    }
    best.map(|(index, _)| index)
}

/// The first two eligible candidates in preferred order. No allocation.
pub fn top2<C: Candidate>(
    key: &PlacementKey,
    candidates: &[C],
    eligible: impl Fn(usize) -> bool,
) -> (Option<usize>, Option<usize>) {
    let [a, b] = top_n::<C, 2>(key, candidates, eligible);
    (a, b)
}

fn top_n<C: Candidate, const N: usize>(
    key: &PlacementKey,
    candidates: &[C],
    eligible: impl Fn(usize) -> bool,
) -> [Option<usize>; N] {
    let mut scorer = Scorer::new(key);
    let mut best: [Option<(usize, u64)>; N] = [None; N];
    for (index, c) in candidates.iter().enumerate() {
        if !eligible(index) {
            continue;
        }
        let id = c.placement_id();
        let score = scorer.score(id, c.placement_weight());
        let position = best.iter().position(|slot| match slot {
            None => true,
            Some((held, held_score)) => {
                preference(score, id, *held_score, candidates[*held].placement_id())
                    == Ordering::Less
            }
        });
        if let Some(position) = position {
            best[position..].rotate_right(1);
            best[position] = Some((index, score));
        }
    }
    best.map(|slot| slot.map(|(index, _)| index))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(n: usize) -> Vec<Member> {
        (0..n)
            .map(|i| Member::new(format!("m{i}"), Weight::new(1 + (i % 3) as u32).expect("w")))
            .collect()
    }

    #[test]
    fn hot_path_agrees_with_rank() {
        let ms = members(7);
        for u in 0..500 {
            let key = PlacementKey::parse_aor(&format!("user{u}@example.com")).expect("key");
            let order: Vec<usize> = rank(&key, &ms).iter().map(|r| r.index).collect();
            let eligible = |i: usize| (i + u) % 3 != 0;
            let filtered: Vec<usize> = order.iter().copied().filter(|&i| eligible(i)).collect();
            assert_eq!(
                first_eligible(&key, &ms, eligible),
                filtered.first().copied()
            );
            assert_eq!(
                top2(&key, &ms, eligible),
                (filtered.first().copied(), filtered.get(1).copied())
            );
            assert_eq!(top2(&key, &ms, |_| true), (Some(order[0]), Some(order[1])));
        }
    }

    #[test]
    fn empty_and_ties() {
        let key = PlacementKey::parse_aor("a@b").expect("key");
        let none: [Member; 0] = [];
        assert_eq!(first_eligible(&key, &none, |_| true), None);
        assert_eq!(top2(&key, &members(1), |_| true), (Some(0), None));
        // Identical ids tie on score: the order is by id, then stable by index.
        let twins = [Member::new("b", Weight::ONE), Member::new("b", Weight::ONE)];
        let ranked = rank(&key, &twins);
        assert_eq!(ranked[0].score, ranked[1].score);
    }
}
