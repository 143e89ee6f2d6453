//! Turning byte offsets into `line:column` and into the field path (`pool[1].id`) of the TOML
//! key or value at that offset, for error messages.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::error::Location;

/// The 1-based line and character column of a byte offset (clamped to the text).
pub(super) fn line_col(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

/// The path of the innermost key or value whose span contains `offset`, e.g.
/// `pool[1].registrar[0].contact`; `None` if the text is not TOML or nothing matches.
pub(super) fn field_path_at(text: &str, offset: usize) -> Option<String> {
    let root = DeTable::parse(text).ok()?;
    let mut path = String::new();
    walk_table(root.get_ref(), offset, &mut path).then_some(path)
}

fn contains(span: Range<usize>, offset: usize) -> bool {
    span.contains(&offset) || (span.is_empty() && span.start == offset)
}

fn walk_table(table: &DeTable<'_>, offset: usize, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let len = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        if contains(key.span(), offset) || walk_value(value, offset, path) {
            return true;
        }
        path.truncate(len);
    }
    false
}

fn walk_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) -> bool {
    let inner = match value.get_ref() {
        DeValue::Table(table) => walk_table(table, offset, path),
        DeValue::Array(array) => array.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = walk_value(item, offset, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    };
    inner || contains(value.span(), offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), Location { line: 1, column: 1 });
        assert_eq!(line_col(text, 6), Location { line: 2, column: 1 });
        assert_eq!(line_col(text, 10), Location { line: 2, column: 4 });
        assert_eq!(line_col(text, 999).line, 3);
    }

    #[test]
    fn paths() {
        let text = "[director]\nexpires = 5\n[[pool]]\nid = \"a\"\n[[pool]]\nid = \"b\"\n[[pool.registrar]]\ncontact = \"x\"\n";
        let at = |needle: &str| text.find(needle).expect("needle in text");
        assert_eq!(
            field_path_at(text, at("5")).as_deref(),
            Some("director.expires")
        );
        assert_eq!(
            field_path_at(text, at("\"b\"")).as_deref(),
            Some("pool[1].id")
        );
        assert_eq!(
            field_path_at(text, at("contact")).as_deref(),
            Some("pool[1].registrar[0].contact")
        );
    }
}
