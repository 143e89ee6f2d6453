#!/usr/bin/env python3
"""One-off SIP requests over UDP (or TCP, or TLS) on loopback, for bench scripts.

  sipprobe.py wait HOST:PORT [--timeout S]      send OPTIONS until a 200 comes back (readiness)
  sipprobe.py register HOST:PORT [--user U]     send one REGISTER, print the response
  sipprobe.py options HOST:PORT                 send one OPTIONS, print the response
  sipprobe.py resume HOST:PORT                  TLS: two connections, one OPTIONS on each, the
                                                second offering the first's session (ticket);
                                                prints whether the server resumed it

--tls: over a TLS connection instead (certificate not verified); `register` and `options`
then also print the negotiated protocol and cipher to stderr. --tcp: over a plain TCP connection.

Exit status 0 when a final response arrived (wait: a 200), 1 otherwise.
Standard library only.
"""
import argparse
import random
import socket
import ssl
import sys
import time


def request(method, target, user, local, transport="UDP"):
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
        "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <%s>;tag=%s\r\n"
        "To: <%s>\r\n"
        "Call-ID: %s\r\n"
        "CSeq: 1 %s\r\n"
        "%s"
        "User-Agent: bench-sipprobe\r\n"
        "Content-Length: 0\r\n\r\n"
        % (method, ruri, transport, lhost, lport, branch, aor, tag, aor, callid, method, contact)
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


_TLS_CONTEXT = None


def tls_context():
    """One client context for the process (a session can only be resumed from its context)."""
    global _TLS_CONTEXT
    if _TLS_CONTEXT is None:
        _TLS_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        _TLS_CONTEXT.check_hostname = False
        _TLS_CONTEXT.verify_mode = ssl.CERT_NONE
    return _TLS_CONTEXT


def once_tls(method, target, user, timeout, show=False, tls=True, session=None, out=None):
    """One request over a TLS connection (tls=False: over plain TCP). session: a TLS session
    to offer for resumption; out: a dict that gets the connection's session and whether it
    was resumed (after the answer, so TLS 1.3 tickets have arrived)."""
    try:
        raw = socket.create_connection(target, timeout=timeout)
    except OSError:
        return None
    try:
        if tls:
            sock = tls_context().wrap_socket(raw, server_hostname="localhost", session=session)
        else:
            sock = raw
        with sock:
            sock.settimeout(timeout)
            if show and tls:
                print("sipprobe: %s %s" % (sock.version(), sock.cipher()[0]), file=sys.stderr)
            sock.sendall(request(method, target, user, sock.getsockname(), "TLS" if tls else "TCP"))
            data = b""
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                chunk = sock.recv(65535)
                if not chunk:
                    return None
                data += chunk
                # responses are framed by the blank line (Content-Length: 0 here)
                while b"\r\n\r\n" in data:
                    head, _, data = data.partition(b"\r\n\r\n")
                    text = head.decode("utf-8", "replace") + "\r\n\r\n"
                    code = text.split(" ", 2)[1] if text.startswith("SIP/2.0 ") else ""
                    if not code.startswith("1"):
                        if out is not None and tls:
                            out["session"] = sock.session
                            out["reused"] = sock.session_reused
                            out["version"] = sock.version()
                        return text
            return None
    except (OSError, ssl.SSLError):
        return None
    finally:
        raw.close()


def parse_target(s):
    host, _, port = s.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["wait", "register", "options", "resume"])
    ap.add_argument("target", help="HOST:PORT")
    ap.add_argument("--user", default="alice")
    ap.add_argument("--timeout", type=float, default=20.0, help="wait: give up after S seconds")
    ap.add_argument("--tls", action="store_true", help="over TLS (certificate not verified)")
    ap.add_argument("--tcp", action="store_true", help="over a plain TCP connection")
    args = ap.parse_args()
    target = parse_target(args.target)
    probe = once
    if args.tls or args.tcp:
        def probe(method, target, user, timeout):
            return once_tls(method, target, user, timeout, args.mode != "wait", tls=args.tls)
    if args.mode == "wait":
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            resp = probe("OPTIONS", target, args.user, 1.0 if args.tls or args.tcp else 0.3)
            if resp is not None and resp.startswith("SIP/2.0 200"):
                return 0
            time.sleep(0.1)
        print("sipprobe: no 200 to OPTIONS from %s:%d within %.0fs" % (target + (args.timeout,)), file=sys.stderr)
        return 1
    if args.mode == "resume":
        first, second = {}, {}
        if once_tls("OPTIONS", target, args.user, 2.0, out=first) is None or not first.get("session"):
            print("sipprobe: no TLS answer (or no session) from %s:%d" % target, file=sys.stderr)
            return 1
        if once_tls("OPTIONS", target, args.user, 2.0, session=first["session"], out=second) is None:
            print("sipprobe: no TLS answer on the second connection to %s:%d" % target, file=sys.stderr)
            return 1
        print("%s: ticket/session offered: %s, resumed: %s" % (
            second.get("version"), "yes" if first["session"].has_ticket else "no (no ticket)",
            "yes" if second.get("reused") else "no"))
        return 0
    resp = probe(args.mode.upper(), target, args.user, 2.0)
    if resp is None:
        print("sipprobe: no response from %s:%d" % target, file=sys.stderr)
        return 1
    sys.stdout.write(resp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
