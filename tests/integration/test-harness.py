#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The harness checks itself, without presenced: the throwaway Prosody
listens on loopback only, requires TLS before SASL, offers SCRAM, serves
our certificate on STARTTLS and direct TLS; the peer library logs in and
exchanges presence; the private bus answers; the GVariant parser reads
what gdbus prints. When a daemon test fails, this one says whether the
fixture was at fault.
"""

import os
import socket
import ssl
import subprocess
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def read_until(sock, marker, limit=65536):
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.decode("utf-8", "replace")


def listening(port):
    """Local addresses (hex) listening on TCP port, from /proc/net/tcp*."""
    found = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            addr, hexport = cols[1].split(":")
            if int(hexport, 16) == port and cols[3] == "0A":
                found.append(addr)
    return found


HEADER = ("<?xml version='1.0'?><stream:stream to='localhost' "
          "version='1.0' xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams'>")


def run(tap, env):
    pv = harness.parse_gvariant
    tap.ok(pv("('a\\'b', @a(sssi) [], [('r', 'away', 's', -3)], true)") ==
           ("a'b", [], [("r", "away", "s", -3)], True),
           "GVariant parser: strings, empty typed arrays, tuples, bools")
    tap.ok(pv("({'Show': <'away'>, 'Priority': <int32 5>},)") ==
           ({"Show": "away", "Priority": 5},),
           "GVariant parser: a{sv} with typed values")
    tap.ok(pv("('\\u00e9\\t',)") == ("\u00e9\t",),
           "GVariant parser: escapes")

    pw = env.setup_server(("alice", "bob"))
    pr = env.prosody
    tap.diag("prosody c2s port %d, direct TLS port %d" % (pr.port,
                                                          pr.tls_port))

    # Plain c2s: STARTTLS required, no SASL before it.
    with socket.create_connection(("127.0.0.1", pr.port), 5) as s:
        s.settimeout(5)
        s.sendall(HEADER.encode())
        feats = read_until(s, b"</stream:features>")
        tap.ok("<starttls" in feats and "<required" in feats,
               "c2s offers STARTTLS, required", feats)
        tap.ok("<mechanisms" not in feats, "no SASL before TLS", feats)

    # Direct TLS with our CA; the stream offers SCRAM.
    ctx = ssl.create_default_context(cafile=pr.cert)
    with socket.create_connection(("127.0.0.1", pr.tls_port), 5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.settimeout(5)
            tap.ok(True, "direct TLS handshake verifies against the "
                   "generated certificate (%s)" % s.version())
            s.sendall(HEADER.encode())
            feats = read_until(s, b"</stream:features>")
            tap.ok("SCRAM-SHA-1" in feats, "SCRAM-SHA-1 offered", feats)

    # Without our CA the certificate is not trusted.
    ctx = ssl.create_default_context()
    try:
        with socket.create_connection(("127.0.0.1", pr.tls_port), 5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                verified = True
    except ssl.SSLCertVerificationError:
        verified = False
    tap.ok(not verified, "the certificate is untrusted without ca-file")

    # Loopback only: every listening socket on our ports is bound to
    # 127.0.0.1 (/proc/net/tcp: local address 0100007F, state 0A LISTEN).
    binds = listening(pr.port) + listening(pr.tls_port)
    tap.ok(binds and all(b == "0100007F" for b in binds),
           "Prosody listens on 127.0.0.1 only", repr(binds))

    # Two peers exchange presence through the roster we wrote.
    bob = env.peer("bob", pw["bob"]).start()
    m = bob.mark()
    alice = env.peer("alice", pw["alice"], resource="a",
                     initial=("away", "hello", 7)).start()
    ev = bob.wait_presence(lambda e: e.frm == "alice@localhost/a" and
                           e.type == "available", 10, m)
    tap.ok(ev and (ev.show, ev.status, ev.priority) == ("away", "hello", 7),
           "peer library: presence with show/status/priority", repr(ev))
    m = alice.mark()
    bob.set_presence("dnd", "busy", 2)
    ev = alice.wait_presence(lambda e: e.bare == "bob@localhost" and
                             e.show == "dnd", 10, m)
    tap.ok(ev and ev.status == "busy", "peer library: presence changes",
           repr(ev))
    m = bob.mark()
    alice.stop()
    ev = bob.wait_presence(lambda e: e.frm == "alice@localhost/a" and
                           e.type == "unavailable", 10, m)
    tap.ok(ev, "peer library: unavailable on stop")

    bus = env.start_bus()
    r = subprocess.run(["gdbus", "call", "--address", bus.address,
                        "--dest", "org.freedesktop.DBus", "--object-path",
                        "/org/freedesktop/DBus", "--method",
                        "org.freedesktop.DBus.GetId"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=10)
    tap.ok(r.returncode == 0, "private bus answers", r.stderr)


if __name__ == "__main__":
    sys.exit(harness.run_test("harness", run, budget=90))
