#!/usr/bin/env python3
"""Result handling for bench/*.sh (standard library only).

  results.py record LOADGEN_JSON key=value...   one normalized run record (JSON line) on stdout
  results.py record-sipp STAT_CSV key=value...  same from a SIPp -trace_stat CSV
  results.py summarize RUNS_JSONL OUTDIR        results.json + results.md (medians, ratios), table on stdout
  results.py latency RUNS_JSONL OUTDIR          latency.json + latency.md for open-loop runs
  results.py last RUNS_JSONL                    one-line summary of the last record
  results.py sipp RUNS_JSONL OUTDIR             sipp.json + sipp.md (SIPp vs loadgen per target)
  results.py peak RESULTS_JSON TARGET WORKERS   median peak rate of TARGET at WORKERS (for latency.sh)

A normalized record has: rate (responses/s), p50_us, p99_us, p999_us, sent,
received, errors (when the source has them) plus the key=value pairs given.

The loadgen JSON is read by key *names*, not by a fixed layout: the summary is
flattened and the first key that looks like the achieved rate / a percentile is
taken (units from the suffix: _ns, _us, _ms, _s). `record` fails loudly when it
finds no rate, printing the keys it saw, so a changed loadgen output shows up.
"""
import csv
import json
import math
import re
import statistics
import sys


def flatten(obj, prefix=""):
    out = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(obj, list):
        pass
    else:
        out[prefix[:-1]] = obj
    return out


UNIT = {"ns": 1e-3, "us": 1.0, "micros": 1.0, "ms": 1e3, "millis": 1e3, "s": 1e6, "secs": 1e6}

RATE_KEYS = [
    r"^response_rate$",  # loadgen: final responses / elapsed_s
    r"(^|\.)achieved_rate(_per_s(ec)?)?$",
    r"(^|\.)(responses|replies|ok|completed|transactions)_per_s(ec)?$",
    r"(^|\.)(rate|throughput|rps|tps)$",
    r"(^|\.)(rate|throughput)_per_s(ec)?$",
]


def pick_rate(flat):
    for pat in RATE_KEYS:
        for k, v in flat.items():
            if re.search(pat, k, re.I) and isinstance(v, (int, float)) and not re.search(r"(offered|target|requested)", k, re.I):
                return float(v), k
    return None, None


def pick_pct(flat, names):
    """names: e.g. ['p50'] -> value in microseconds."""
    for k, v in flat.items():
        if not isinstance(v, (int, float)):
            continue
        leaf = k.lower()
        for n in names:
            m = re.search(r"(^|[._])" + re.escape(n) + r"(_(ns|us|micros|ms|millis|s|secs))?$", leaf)
            if m:
                unit = m.group(3)
                if unit is None:
                    # "latency_us.p50" style: unit in the parent key
                    pm = re.search(r"_(ns|us|micros|ms|millis)\.[^.]*$", leaf)
                    unit = pm.group(1) if pm else "us"
                return float(v) * UNIT[unit]
    return None


def pick_int(flat, pats):
    for pat in pats:
        for k, v in flat.items():
            if isinstance(v, (int, float)) and re.search(pat, k, re.I):
                return v
    return None


def parse_kv(items):
    out = {}
    for it in items:
        k, _, v = it.partition("=")
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def record_loadgen(path, kv):
    with open(path) as f:
        data = json.load(f)
    flat = flatten(data)
    rate, key = pick_rate(flat)
    if rate is None:
        sys.exit(f"results.py: no achieved-rate key in {path}; keys: {sorted(flat)}")
    rec = {
        "rate": rate,
        "rate_key": key,
        "p50_us": pick_pct(flat, ["p50", "p50_0", "median"]),
        "p99_us": pick_pct(flat, ["p99", "p99_0"]),
        "p999_us": pick_pct(flat, ["p999", "p99_9", "p99.9"]),
        "sent": pick_int(flat, [r"(^|\.)(sent|requests_sent|requests)$"]),
        "received": pick_int(flat, [r"(^|\.)(received|responses|replies|ok)$"]),
        "errors": pick_int(flat, [r"^errors_total$", r"(^|\.)(errors|failed|failures)$"]),
        "timeouts": pick_int(flat, [r"^errors\.timeout$", r"(^|\.)(timeouts|timed_out|lost)$"]),
        "request_rate": flat.get("request_rate"),
        # TCP/TLS connections the client established (loadgen's `connections`)
        "connections_opened": flat.get("connections"),
        # of those, TLS handshakes that resumed a session (the rest were full handshakes)
        "resumed_handshakes": flat.get("resumed_handshakes"),
        "elapsed_s": flat.get("elapsed_s"),
        "send_duration_s": flat.get("send_duration_s"),
        "source": path,
    }
    rec.update(kv)
    return rec


def sipp_time_us(s):
    # "HH:MM:SS:uuuuuu" (ResponseTime columns)
    parts = s.split(":")
    if len(parts) != 4:
        return None
    h, m, sec, us = (int(p) for p in parts)
    return ((h * 60 + m) * 60 + sec) * 1e6 + us


def record_sipp(path, kv):
    with open(path, newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    if len(rows) < 2:
        sys.exit(f"results.py: no data rows in {path}")
    head, last = rows[0], rows[-1]
    col = {name: last[i] for i, name in enumerate(head) if i < len(last)}
    # SIPp times have millisecond resolution: take percentiles as bucket bounds
    # of the ResponseTimeRepartition (ms), e.g. p99_le_ms = 2 means p99 < 2 ms.
    buckets = []
    for name, v in col.items():
        m = re.match(r"ResponseTimeRepartition1_(<|>=)(\d+)$", name)
        if m and v.strip():
            bound = float(m.group(2)) if m.group(1) == "<" else math.inf
            buckets.append((bound, int(v)))
    buckets.sort()
    total = sum(n for _, n in buckets)

    def bucket_pct(q):
        acc = 0
        for bound, n in buckets:
            acc += n
            if total and acc >= q * total:
                return bound if bound != math.inf else None
        return None

    rec = {
        "rate": float(col["CallRate(C)"]),
        "p50_le_ms": bucket_pct(0.5),
        "p99_le_ms": bucket_pct(0.99),
        "rate_key": "CallRate(C)",
        "mean_us": sipp_time_us(col.get("ResponseTime1(C)", "")),
        "sent": int(col["TotalCallCreated"]),
        "received": int(col["SuccessfulCall(C)"]),
        "errors": int(col["FailedCall(C)"]),
        "retransmissions": int(col.get("Retransmissions(C)", 0) or 0),
        "source": path,
    }
    rec.update(kv)
    return rec


def load_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_rate(x):
    return "-" if x is None else f"{x / 1000:.1f}k"


def fmt_us(x):
    if x is None:
        return "-"
    return f"{x:.0f}" if x >= 100 else f"{x:.1f}"


def per_core(r):
    cpu, elapsed = r.get("target_cpu_s"), r.get("elapsed_s")
    if not isinstance(cpu, (int, float)) or cpu <= 0 or not elapsed:
        return None
    return r["rate"] * elapsed / cpu


def fmt_cores(r, key):
    cpu, elapsed = r.get(key), r.get("elapsed_s")
    if not isinstance(cpu, (int, float)) or not elapsed:
        return "-"
    return f"{cpu / elapsed:.2f}"


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}"


def scaling_of(rows, targets, workers):
    """Per target, the median rate at each worker count over the one at the smallest count
    measured; and the director at its largest worker count over Kamailio at its best one
    (DESIGN.md: >= 5x Kamailio's best worker count). Worker counts are keys as strings (JSON)."""
    def rate(t, w):
        return next((r["targets"].get(t, {}).get("median_rate") for r in rows if r["workers"] == w), None)
    scaling = {}
    for t in targets:
        measured = [w for w in workers if rate(t, w)]
        if len(measured) < 2:
            continue
        base = rate(t, measured[0])
        scaling[t] = {str(w): rate(t, w) / base for w in measured}
    vs_best = None
    d_workers = [w for w in workers if rate("director", w)]
    k_rates = [(rate("kamailio", w), w) for w in workers if rate("kamailio", w)]
    if d_workers and k_rates:
        top = d_workers[-1]
        k_rate, k_w = max(k_rates)
        vs_best = {"director_workers": top, "director_rate": rate("director", top),
                   "kamailio_workers": k_w, "kamailio_rate": k_rate,
                   "ratio": rate("director", top) / k_rate}
    return scaling, vs_best


def summarize(runs_path, outdir):
    runs = load_jsonl(runs_path)
    targets = []
    for r in runs:
        if r["target"] not in targets:
            targets.append(r["target"])
    workers = sorted({r["workers"] for r in runs})
    mode = runs[0].get("mode", "redirect") if runs else "redirect"
    transport = runs[0].get("transport", "udp") if runs else "udp"
    # director/echo (UDP) and director/registrar (the TLS reference) only when measured
    refs = ["kamailio"] + [r for r in ("echo", "registrar") if r in targets]
    if transport == "udp" and "echo" not in refs:
        refs.append("echo")
    rows = []
    for w in workers:
        row = {"workers": w, "targets": {}}
        for t in targets:
            rs = [r for r in runs if r["workers"] == w and r["target"] == t]
            if not rs:
                continue
            row["targets"][t] = {
                "runs": len(rs),
                "rates": [r["rate"] for r in rs],
                "median_rate": med([r["rate"] for r in rs]),
                "min_rate": min(r["rate"] for r in rs),
                "max_rate": max(r["rate"] for r in rs),
                "median_p50_us": med([r.get("p50_us") for r in rs]),
                "median_p99_us": med([r.get("p99_us") for r in rs]),
                # responses per second of target CPU time: the work per request, less
                # sensitive than the rate to what else the shared machine runs
                "median_rate_per_target_core": med([per_core(r) for r in rs]),
            }
        d = row["targets"].get("director", {}).get("median_rate")
        for ref in refs:
            x = row["targets"].get(ref, {}).get("median_rate")
            row[f"director/{ref}"] = d / x if d and x else None
        d = row["targets"].get("director", {}).get("median_rate_per_target_core")
        x = row["targets"].get("kamailio", {}).get("median_rate_per_target_core")
        row["director/kamailio per target core"] = d / x if d and x else None
        rows.append(row)
    scaling, vs_best = scaling_of(rows, targets, workers)
    out = {"mode": mode, "transport": transport, "targets": targets, "workers": workers, "rows": rows,
           "scaling": scaling, "director_top/kamailio_best": vs_best, "runs": runs}
    with open(f"{outdir}/results.json", "w") as f:
        json.dump(out, f, indent=2)
    lines = []
    hdr = ["workers"]
    for t in targets:
        hdr += [f"{t} rate", f"{t} p50 us", f"{t} p99 us"]
    hdr += [f"director/{ref}" for ref in refs]
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for row in rows:
        cells = [str(row["workers"])]
        for t in targets:
            s = row["targets"].get(t)
            if s:
                cells += [fmt_rate(s["median_rate"]), fmt_us(s["median_p50_us"]), fmt_us(s["median_p99_us"])]
            else:
                cells += ["-", "-", "-"]
        cells += [fmt_ratio(row[f"director/{ref}"]) for ref in refs]
        lines.append("| " + " | ".join(cells) + " |")
    if any(row["director/kamailio per target core"] for row in rows):
        lines += [
            "",
            "| workers | " + " | ".join(f"{t} responses per target CPU-s" for t in targets)
            + " | director/kamailio per target CPU-s |",
            "|" + "---|" * (len(targets) + 2),
        ]
        for row in rows:
            cells = [str(row["workers"])]
            cells += [fmt_rate(row["targets"].get(t, {}).get("median_rate_per_target_core")) for t in targets]
            cells.append(fmt_ratio(row["director/kamailio per target core"]))
            lines.append("| " + " | ".join(cells) + " |")
    if len(workers) > 1 and scaling:
        lines += [
            "",
            f"Scaling: each target's median rate over its own at {workers[0]} worker(s).",
            "",
            "| target | " + " | ".join(f"{w} workers" for w in workers) + " |",
            "|" + "---|" * (len(workers) + 1),
        ]
        for t, by_w in scaling.items():
            lines.append(f"| {t} | " + " | ".join(fmt_ratio(by_w.get(str(w))) for w in workers) + " |")
    if vs_best:
        lines += [
            "",
            f"director at {vs_best['director_workers']} workers ({fmt_rate(vs_best['director_rate'])}/s) over "
            f"Kamailio's best worker count ({vs_best['kamailio_workers']}: {fmt_rate(vs_best['kamailio_rate'])}/s): "
            f"**{fmt_ratio(vs_best['ratio'])}**",
        ]
    table = "\n".join(lines)
    nrounds = max((s["runs"] for row in rows for s in row["targets"].values()), default=0)
    md = [
        f"# Benchmark results ({mode} mode, {transport.upper()}"
        + (", a new connection per request" if runs and runs[0].get("new_connection_per_request") == 1 else "")
        + ")",
        "",
        f"Median over {nrounds} alternating round(s) per cell; rate = responses/s seen by the client;",
        "p50/p99 = median over rounds of each run's percentile (microseconds).",
        "",
        table,
        "",
        "## All runs",
        "",
        "client/target cores = CPU seconds used by loadgen / by the target's processes during",
        "the run, divided by the run's elapsed time (1.00 = one core busy the whole time).",
        "",
        "| round | workers | target | rate | p50 us | p99 us | p99.9 us | errors | client cores | target cores |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        md.append(
            f"| {r.get('round', '-')} | {r['workers']} | {r['target']} | {fmt_rate(r['rate'])} | "
            f"{fmt_us(r.get('p50_us'))} | {fmt_us(r.get('p99_us'))} | {fmt_us(r.get('p999_us'))} | {r.get('errors', '-')} | "
            f"{fmt_cores(r, 'client_cpu_s')} | {fmt_cores(r, 'target_cpu_s')} |"
        )
    with open(f"{outdir}/results.md", "w") as f:
        f.write("\n".join(md) + "\n")
    print(table)


def latency(runs_path, outdir):
    runs = load_jsonl(runs_path)
    groups = {}
    for r in runs:
        groups.setdefault((r["target"], r["workers"], r["offered"]), []).append(r)
    points = []
    for (t, w, offered), rs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        points.append({
            "target": t, "workers": w, "offered": offered,
            "fraction": rs[0].get("fraction"),
            "peak": rs[0].get("peak"),
            "achieved": med([r["rate"] for r in rs]),
            "p50_us": med([r.get("p50_us") for r in rs]),
            "p99_us": med([r.get("p99_us") for r in rs]),
            "p999_us": med([r.get("p999_us") for r in rs]),
            "errors": sum((r.get("errors") or 0) for r in rs),
            "runs": len(rs),
        })
    with open(f"{outdir}/latency.json", "w") as f:
        json.dump({"points": points, "runs": runs}, f, indent=2)
    lines = [
        "| target | workers | offered | % of peak | achieved | p50 us | p99 us | p99.9 us | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        frac = "-" if p["fraction"] is None else f"{100 * p['fraction']:.0f}%"
        lines.append(
            f"| {p['target']} | {p['workers']} | {fmt_rate(p['offered'])} | {frac} | {fmt_rate(p['achieved'])} | "
            f"{fmt_us(p['p50_us'])} | {fmt_us(p['p99_us'])} | {fmt_us(p['p999_us'])} | {p['errors']} |"
        )
    table = "\n".join(lines)
    with open(f"{outdir}/latency.md", "w") as f:
        f.write("# Latency vs offered load (open loop)\n\n" + table + "\n")
    print(table)


def sipp_summary(runs_path, outdir):
    runs = load_jsonl(runs_path)
    groups = {}
    for r in runs:
        groups.setdefault((r["target"], r.get("client", "sipp")), []).append(r)
    targets = []
    for r in runs:
        if r["target"] not in targets:
            targets.append(r["target"])
    rows = []
    for t in targets:
        row = {"target": t}
        for client in ("sipp", "loadgen"):
            rs = groups.get((t, client), [])
            row[client] = {
                "runs": len(rs),
                "median_rate": med([r["rate"] for r in rs]),
                "errors": sum((r.get("errors") or 0) for r in rs),
                "p99_le_ms": med([r.get("p99_le_ms") for r in rs]),
                "p99_us": med([r.get("p99_us") for r in rs]),
            } if rs else None
        s, lg = row["sipp"], row["loadgen"]
        row["loadgen/sipp"] = lg["median_rate"] / s["median_rate"] if s and lg and s["median_rate"] else None
        rows.append(row)
    with open(f"{outdir}/sipp.json", "w") as f:
        json.dump({"rows": rows, "runs": runs}, f, indent=2)
    lines = [
        "| target | workers | SIPp rate | SIPp failed calls | SIPp p99 below (ms) | loadgen rate | loadgen/SIPp |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        s, lg = row["sipp"], row["loadgen"]
        w = next((r["workers"] for r in runs if r["target"] == row["target"]), "-")
        lines.append(
            f"| {row['target']} | {w} | {fmt_rate(s and s['median_rate'])} | {s['errors'] if s else '-'} | "
            f"{'-' if not s or s['p99_le_ms'] is None else '%g' % s['p99_le_ms']} | {fmt_rate(lg and lg['median_rate'])} | {fmt_ratio(row['loadgen/sipp'])} |"
        )
    table = "\n".join(lines)
    with open(f"{outdir}/sipp.md", "w") as f:
        f.write("# SIPp reference runs\n\n" + table + "\n")
    print(table)


def peak(results_path, target, workers):
    with open(results_path) as f:
        data = json.load(f)
    for row in data["rows"]:
        if int(row["workers"]) == int(workers) and target in row["targets"]:
            print(int(math.floor(row["targets"][target]["median_rate"])))
            return
    sys.exit(f"results.py: no {target} at {workers} workers in {results_path}")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "record":
        print(json.dumps(record_loadgen(args[0], parse_kv(args[1:]))))
    elif cmd == "record-sipp":
        print(json.dumps(record_sipp(args[0], parse_kv(args[1:]))))
    elif cmd == "summarize":
        summarize(args[0], args[1])
    elif cmd == "latency":
        latency(args[0], args[1])
    elif cmd == "last":
        r = load_jsonl(args[0])[-1]
        print(f"{r['rate']:.0f}/s p50 {fmt_us(r.get('p50_us'))} us p99 {fmt_us(r.get('p99_us'))} us"
              f" errors {r.get('errors', '-')}")
    elif cmd == "sipp":
        sipp_summary(args[0], args[1])
    elif cmd == "peak":
        peak(args[0], args[1], args[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
