#!/usr/bin/env python3
"""Plots for bench results (matplotlib; bench/latency.sh installs it when missing).

  plot.py OUT/latency.json PNG   throughput vs offered load + latency percentiles vs offered load
  plot.py OUT/results.json PNG   median throughput per target and worker count (bench/run.sh)
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"director": "tab:blue", "kamailio": "tab:red", "echo": "tab:gray"}


def color(t):
    return COLORS.get(t, None)


def plot_latency(data, png):
    points = data["points"]
    series = {}
    for p in points:
        series.setdefault((p["target"], p["workers"]), []).append(p)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    top = 0
    for (t, w), ps in sorted(series.items()):
        ps.sort(key=lambda p: p["offered"])
        x = [p["offered"] / 1000 for p in ps]
        top = max(top, max(x))
        label = f"{t} ({w} workers)"
        ax1.plot(x, [p["achieved"] / 1000 for p in ps], "o-", color=color(t), label=label)
        for key, style, name in (("p50_us", "-", "p50"), ("p99_us", "--", "p99"), ("p999_us", ":", "p99.9")):
            pts = [(xx, p[key] / 1000) for xx, p in zip(x, ps) if p.get(key)]
            if pts:
                ax2.plot([a for a, _ in pts], [b for _, b in pts], style, marker=".", color=color(t), label=f"{t} {name}")
    ax1.plot([0, top], [0, top], color="black", linewidth=0.6, linestyle=":", label="achieved = offered")
    ax1.set_xlabel("offered load (k REGISTER/s)")
    ax1.set_ylabel("achieved (k responses/s)")
    ax1.set_title("Throughput vs offered load")
    ax1.grid(True, alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.set_xlabel("offered load (k REGISTER/s)")
    ax2.set_ylabel("latency (ms, log scale)")
    ax2.set_yscale("log")
    ax2.axhline(1.0, color="black", linewidth=0.6, linestyle=":")
    ax2.set_title("Latency percentiles vs offered load (open loop)")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def plot_results(data, png):
    rows = data["rows"]
    targets = data["targets"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    n = len(targets)
    width = 0.8 / max(n, 1)
    for i, t in enumerate(targets):
        xs, ys, lo, hi = [], [], [], []
        for j, row in enumerate(rows):
            s = row["targets"].get(t)
            if not s:
                continue
            xs.append(j + (i - (n - 1) / 2) * width)
            ys.append(s["median_rate"] / 1000)
            lo.append((s["median_rate"] - s["min_rate"]) / 1000)
            hi.append((s["max_rate"] - s["median_rate"]) / 1000)
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, color=color(t), label=t)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([f"{row['workers']} workers" for row in rows])
    ax.set_ylabel("k responses/s (median, min-max bars)")
    ax.set_title(f"REGISTER throughput ({data.get('mode', 'redirect')} mode, UDP, loopback)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    if "points" in data:
        plot_latency(data, sys.argv[2])
    elif "rows" in data:
        plot_results(data, sys.argv[2])
    else:
        sys.exit(f"plot.py: {sys.argv[1]} is neither latency.json nor results.json")


if __name__ == "__main__":
    main()
