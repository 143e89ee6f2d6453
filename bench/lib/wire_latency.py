#!/usr/bin/env python3
"""Server-side and client-side latency of one-request-per-connection TLS runs, from the wire.

Reads `tcpdump -nn -tt -r CAPTURE` text of a `loadgen register --transport tls
--tls-new-connection-per-request` run against PORT and, for every connection, takes

- the client's last data segment before its close_notify (the REGISTER) and the server's last
  data segment before that close_notify (the response): the server's time to answer, as the
  loopback saw it;
- the response segment and the client's close_notify: how long loadgen took to read the
  response and close (its own share of the latency it reports).

Retransmitted segments (same end sequence number; on loopback these are tail loss probes sent
while the receiver had not acknowledged yet) are ignored: the first copy was delivered.

With --sched, also says what the server's CPU did while the slowest answers (the top 1 % of
the server's share) were pending: idle (`swapper/N`: the server had nothing to do, so the
request had not reached its socket yet), the server's own threads, or something else. SCHED is
`perf script` text of `perf record -k mono -e sched:sched_switch -C CPU`, and OFFSET the
wall-clock time minus CLOCK_MONOTONIC (seconds) when it was recorded, to put both on the
capture's clock.

Usage: tcpdump -i lo -nn -s 96 -w cap.pcap 'tcp port PORT' & ... loadgen ...
       tcpdump -nn -tt -r cap.pcap > cap.txt
       bench/lib/wire_latency.py cap.txt PORT [--sched SCHED --offset OFFSET --cpu CPU]
(bench/tls_storm_wire.sh does all of it.)
"""
import bisect
import collections
import re
import sys

LINE = re.compile(
    r"^(\d+\.\d+) IP (\S+) > (\S+): Flags \[[^\]]+\], seq \d+:(\d+),.*length [1-9]\d*"
)


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


SWITCH = re.compile(r"\[(\d+)\]\s+(\d+\.\d+): sched:sched_switch: .*==> next_comm=(\S+)")


def cpu_timeline(path, offset, cpu):
    """(times, comms): from each time on, the CPU ran that task (capture clock)."""
    times, comms = [], []
    with open(path) as f:
        for line in f:
            m = SWITCH.search(line)
            if m and int(m[1]) == cpu:
                times.append(float(m[2]) + offset)
                comms.append(m[3])
    return times, comms


def occupancy(timeline, start, end, into):
    """Adds to `into` the seconds each task held the CPU in [start, end)."""
    times, comms = timeline
    i = bisect.bisect_right(times, start) - 1
    if i < 0:
        return False  # before the recording
    t, who = start, comms[i]
    for j in range(i + 1, len(times)):
        if times[j] >= end:
            break
        into[who] += times[j] - t
        t, who = times[j], comms[j]
    into[who] += end - t
    return True


def options(argv):
    if len(argv) < 3 or (len(argv) - 3) % 2:
        sys.exit(__doc__)
    opts = dict(zip(argv[3::2], argv[4::2]))
    if set(opts) - {"--sched", "--offset", "--cpu"} or ("--sched" in opts) != ("--offset" in opts):
        sys.exit(__doc__)
    return argv[1], argv[2], opts


def main():
    path, port, opts = options(sys.argv)
    suffix = "." + port
    conns = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            t, src, dst, seq_end = float(m[1]), m[2], m[3], int(m[4])
            to_server = dst.endswith(suffix)
            conns[src if to_server else dst].append((t, to_server, seq_end))
    server, client, retransmitted, skipped = [], [], 0, 0
    for segments in conns.values():
        seen, up, down = set(), [], []
        for t, to_server, seq_end in segments:
            if (to_server, seq_end) in seen:
                retransmitted += 1
                continue
            seen.add((to_server, seq_end))
            (up if to_server else down).append(t)
        # ClientHello, [Finished,] REGISTER, close_notify: a client port used once
        if len(up) not in (3, 4):
            skipped += 1
            continue
        close, request = up[-1], up[-2]
        answers = [t for t in down if request <= t < close]
        if not answers:
            skipped += 1
            continue
        server.append(((answers[-1] - request) * 1e6, request, answers[-1]))
        client.append((close - answers[-1]) * 1e6)
    if not server:
        sys.exit(f"{path}: no one-request TLS connection to port {port} found")
    print(f"connections {len(server)} (skipped {skipped}), retransmitted segments ignored {retransmitted}")
    for name, xs in (
        ("server: REGISTER segment -> response segment", [s[0] for s in server]),
        ("client: response segment -> its close_notify", client),
    ):
        cells = "  ".join(f"p{q * 100:g} {quantile(xs, q):.0f}" for q in (0.5, 0.9, 0.99, 0.999))
        print(f"{name}: {cells}  max {max(xs):.0f} us")
    if "--sched" in opts:
        cpu = int(opts.get("--cpu", "1"))
        timeline = cpu_timeline(opts["--sched"], float(opts["--offset"]), cpu)
        slowest = sorted(server, reverse=True)[: max(1, len(server) // 100)]
        held = collections.Counter()
        counted = sum(occupancy(timeline, start, end, held) for _, start, end in slowest)
        total = sum(held.values())
        if not counted or total <= 0:
            sys.exit(f"{opts['--sched']}: no scheduler events of CPU {cpu} during the capture")
        shares = ", ".join(f"{who} {t / total:.1%}" for who, t in held.most_common(6))
        print(
            f"CPU {cpu} while the slowest {counted} answers were pending "
            f"({slowest[-1][0]:.0f}-{slowest[0][0]:.0f} us): {shares}"
        )


if __name__ == "__main__":
    main()
