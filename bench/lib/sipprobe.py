#!/usr/bin/env python3
"""One-off SIP requests over UDP on loopback, for bench scripts.

  sipprobe.py wait HOST:PORT [--timeout S]      send OPTIONS until a 200 comes back (readiness)
  sipprobe.py register HOST:PORT [--user U]     send one REGISTER, print the response
  sipprobe.py options HOST:PORT                 send one OPTIONS, print the response

Exit status 0 when a final response arrived (wait: a 200), 1 otherwise.
Standard library only.
"""
import argparse
import random
import socket
import sys
import time


def request(method, target, user, local):
    host, port = target
    lhost, lport = local
    branch = "z9hG4bK-probe-%08x" % random.getrandbits(32)
    tag = "%08x" % random.getrandbits(32)
    callid = "probe-%016x@%s" % (random.getrandbits(64), lhost)
    if method == "REGISTER":
        ruri = "sip:example.com"
        aor = "sip:%s@example.com" % user
        contact = "Contact: <sip:%s@%s:%d>\r\nExpires: 3600\r\n" % (user, lhost, lport)
    else:
        ruri = "sip:%s:%d" % (host, port)
        aor = "sip:probe@example.com"
        contact = ""
    return (
        "%s %s SIP/2.0\r\n"
        "Via: SIP/2.0/UDP %s:%d;branch=%s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <%s>;tag=%s\r\n"
        "To: <%s>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: 1 %s\r\n"
        "%s"
        "User-Agent: bench-sipprobe\r\n"
        "Content-Length: 0\r\n\r\n"
        % (method, ruri, lhost, lport, branch, aor, tag, aor, callid, method, contact)
    ).encode()


def once(method, target, user, timeout):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(timeout)
        sock.sendto(request(method, target, user, sock.getsockname()), target)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = sock.recvfrom(65535)
            except (socket.timeout, ConnectionRefusedError):
                return None
            text = data.decode("utf-8", "replace")
            code = text.split(" ", 2)[1] if text.startswith("SIP/2.0 ") else ""
            if code.startswith("1"):
                continue
            return text
        return None
    finally:
        sock.close()


def parse_target(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["wait", "register", "options"])
    ap.add_argument("target", help="HOST:PORT")
    ap.add_argument("--user", default="alice")
    ap.add_argument("--timeout", type=float, default=20.0, help="wait: give up after S seconds")
    args = ap.parse_args()
    target = parse_target(args.target)
    if args.mode == "wait":
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            resp = once("OPTIONS", target, args.user, 0.3)
            if resp is not None and resp.startswith("SIP/2.0 200"):
                return 0
            time.sleep(0.1)
        print("sipprobe: no 200 to OPTIONS from %s:%d within %.0fs" % (target + (args.timeout,)), file=sys.stderr)
        return 1
    resp = once(args.mode.upper(), target, args.user, 2.0)
    if resp is None:
        print("sipprobe: no response from %s:%d" % target, file=sys.stderr)
        return 1
    sys.stdout.write(resp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
