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

Usage: tcpdump -i lo -nn -s 96 -w cap.pcap 'tcp port PORT' & ... loadgen ...
       tcpdump -nn -tt -r cap.pcap > cap.txt; bench/lib/wire_latency.py cap.txt PORT
"""
import collections
import re
import sys

LINE = re.compile(
    r"^(\d+\.\d+) IP (\S+) > (\S+): Flags \[[^\]]+\], seq \d+:(\d+),.*length [1-9]\d*"
)


def quantile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    path, port = sys.argv[1], sys.argv[2]
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
        server.append((answers[-1] - request) * 1e6)
        client.append((close - answers[-1]) * 1e6)
    if not server:
        sys.exit(f"{path}: no one-request TLS connection to port {port} found")
    print(f"connections {len(server)} (skipped {skipped}), retransmitted segments ignored {retransmitted}")
    for name, xs in (
        ("server: REGISTER segment -> response segment", server),
        ("client: response segment -> its close_notify", client),
    ):
        cells = "  ".join(f"p{q * 100:g} {quantile(xs, q):.0f}" for q in (0.5, 0.9, 0.99, 0.999))
        print(f"{name}: {cells}  max {max(xs):.0f} us")


if __name__ == "__main__":
    main()
