#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The reconnect benchmark (issue #16): what it costs presenced to come back
after the link drops, per server and per login, in one run.

  make bench-reconnect          (tests/bench/local.mk)
  bench-reconnect.py [--servers prosody13,ejabberd24] [--rounds 5]

For each server (the integration harness starts it on loopback, with the
test servers of scripts/test-servers.sh) and each login:

  legacy   RFC 6120 SASL (PRESENCED_SASL2=0): SCRAM, stream restart, bind
  sasl2    SASL2 + Bind2 with the password (the kept token removed first)
  fast     SASL2 + Bind2 with the FAST token

two kinds of reconnect, each --rounds times through a loopback proxy:

  resumed  the link is cut (the proxy drops it): the stream is resumed
           (XEP-0198; inside the <authenticate/> with SASL2)
  new      the link is cut and the server restarted meanwhile: no stream
           to resume, a new session (roster included)

and prints per cell the medians of: link back -> online (ms, from the
daemon's log: the connection that succeeded to its "online" line), round
trips after TLS (a SEND followed by a RECV in the wire log, up to online:
the stream header, the login, and for a new session the roster), those of
the login alone (the first <auth…/> to the bound or resumed stream), and
presenced's CPU per reconnect (ms, /proc/PID/schedstat, from link back
to 300 ms after online, so the presence and caps that follow count; in
rounds of their own without --debug, since the wire log is not free). The
link is cut a second after the daemon went online (SETTLED). The
target (issue #16): a FAST reconnect logs in with one round trip and costs
under 5 ms of presenced's CPU.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

MODES = ("legacy", "sasl2", "fast")
KINDS = ("resumed", "new")
STAMP = re.compile(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d): ")
SETTLE = 0.3
# The link drops a while after the login, as a desktop's network change
# does, not in the login's tail: the session's discovery (disco#info,
# block list, nick) has finished, and a resumed stream keeps it.
SETTLED = 1.0
PERF_DIR = os.environ.get("BENCH_RECONNECT_PERF")


def cpu_ns(pid):
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def stamp(line):
    m = STAMP.search(line)
    if not m:
        return None
    h, mi, s, ms = (int(x) for x in m.groups())
    return ((h * 60 + mi) * 60 + s) * 1000 + ms


ONLINE = re.compile(r"online as |resumed the session as ")
LOGIN = re.compile(r"SEND: <auth")
BOUND = re.compile(r"xmpp stream: bound |RECV: <(?:[^\n]*<)?resumed ")


def trips(lines, start, stop):
    """Round trips in lines: a SEND followed by a RECV, from the first
    line matching start to the first matching stop (included)."""
    n, on, last = 0, False, None
    for x in lines:
        on = on or bool(start.search(x))
        if not on:
            continue
        d = "S" if "SEND: " in x else "R" if "RECV: " in x else None
        if d == "R" and last == "S":
            n += 1
        last = d or last
        if stop.search(x):
            break
    return n


def segment_figures(text):
    """(ms link back -> online, round trips after TLS, round trips of
    the login) of the last connection in text, a log slice that ends at
    its online line. The login is the first <auth…/> to the bound or
    resumed stream (SASL2 and its inline requests, or SASL, the stream
    restart, bind or resume)."""
    lines = text.splitlines()
    start = max(i for i, x in enumerate(lines) if "connecting to " in x)
    seg = lines[start:]
    t0 = stamp(seg[0])
    t1 = stamp([x for x in seg if ONLINE.search(x)][-1])
    tls = re.compile(r"TLS established|TLS handshake with")
    return (t1 - t0, trips(seg, tls, ONLINE), trips(seg, LOGIN, BOUND))


def forget_token(env):
    path = env.state_file()
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return
    with open(path, "w") as f:
        f.write(re.sub(r"^fast-(token|mechanism|expiry)=.*\n", "", text,
                       flags=re.M))


def cut(env, d, proxy, kind, mode, wait_reconnecting):
    """Cuts the link (and for a new session restarts the server while
    it is down); returns presenced's CPU counter at link back."""
    if mode == "sasl2":
        forget_token(env)
    if kind == "new":
        proxy.down()
        wait_reconnecting()
        env.prosody.stop()
        env.prosody.start(same_ports=True)
        c0 = cpu_ns(d.pid)
        proxy.up()
    else:
        c0 = cpu_ns(d.pid)
        proxy.cut()
    return c0


def timed_round(env, d, proxy, kind, mode):
    """With --debug: (ms link back -> online, round trips after TLS,
    login round trips) from the wire log, or None."""
    before = len(d.read_log())
    cut(env, d, proxy, kind, mode,
        lambda: env.wait_state("reconnecting", 15, daemon=d))
    if not harness.wait_for(lambda: ONLINE.search(d.read_log()[before:]),
                            60, 0.005):
        return None
    text = d.read_log()[before:]
    lines = text.splitlines()
    end = max(i for i, x in enumerate(lines) if ONLINE.search(x))
    if ("<resumed" in text) != (kind == "resumed"):
        return None  # not what this cell measures
    return segment_figures("\n".join(lines[:end + 1]))


def cpu_round(env, d, proxy, kind, mode, mon):
    """Without --debug (no wire log to write): presenced's CPU in ms
    from link back to SETTLE after State online, or None. The daemon is
    watched through a bus monitor, which costs it nothing."""
    def seen(what, since):
        return harness.wait_for(lambda: any(
            "'State': <'%s'>" % what in x for x in mon.snapshot()[since:]),
            60, 0.005)
    n = len(mon.snapshot())
    perf = None
    if PERF_DIR:
        # The profile of exactly what is measured (--perf DIR).
        out = os.path.join(PERF_DIR, "%s-%s-%d.data" % (mode, kind, d.pid))
        perf = subprocess.Popen(["perf", "record", "-q", "-F", "20000",
                                 "-e", "cpu-clock", "--call-graph=dwarf",
                                 "-o", out, "-p", str(d.pid)])
        time.sleep(0.5)
    c0 = cut(env, d, proxy, kind, mode, lambda: seen("reconnecting", n))
    if not seen("online", n):
        return None
    time.sleep(SETTLE)
    c1 = cpu_ns(d.pid)
    if perf:
        perf.send_signal(2)
        perf.wait(30)
    auth = env.get_property("Authentication") or ""
    if ("resumed" in auth) != (kind == "resumed"):
        return None
    return (c1 - c0) / 1e6


def start(env, mode, pw, proxy, debug):
    start.n = getattr(start, "n", 0) + 1
    e = env.daemon_env()
    e["PRESENCED_SASL2"] = "0" if mode == "legacy" else "1"
    a = env.account("alice", pw, resource="bench", port=proxy.port)
    name = "bench-%s-%s-%d" % (mode, "debug" if debug else "quiet",
                               start.n)
    return env.start_daemon(name, env.write_config(name, a), debug, e)


def one_server(rounds, modes):
    """Runs inside a TestEnv for $PRESENCED_IT_SERVER; prints JSON:
    per "mode/kind" a list of (ms, round trips after TLS, CPU ms, login
    round trips), the CPU from the quiet daemon's rounds."""
    out = {}

    def measure(tap, env, pw, proxy, mode, debug, mon):
        # A fresh daemon a round: one daemon cut again and again would
        # soon wait out its own limit of five attempts a minute
        # (retry-policy.h); its start is not measured.
        got = {}
        for kind in KINDS:
            good = []
            for _ in range(rounds):
                d = start(env, mode, pw, proxy, debug)
                if env.wait_state("online", 30, daemon=d) != "online":
                    d.stop(10)
                    continue
                if mode == "fast":
                    auth = env.get_property("Authentication") or ""
                    if "FAST token" not in auth:
                        # The first start of the mode asks for the token;
                        # measure from the next one on.
                        d.stop(10)
                        d = start(env, mode, pw, proxy, debug)
                        env.wait_state("online", 30, daemon=d)
                time.sleep(SETTLED)
                if debug:
                    r = timed_round(env, d, proxy, kind, mode)
                else:
                    r = cpu_round(env, d, proxy, kind, mode, mon)
                if r is not None:
                    good.append(r)
                d.stop(10)
            tap.ok(len(good) == rounds, "%s %s%s: %d/%d rounds" % (
                mode, kind, "" if debug else " (CPU)", len(good), rounds))
            got[kind] = good
        return got

    def body(tap, env):
        env.prosody_modules = ("smacks",)  # ejabberd: mod_stream_mgmt
        pw = env.setup_server(("alice", "bob"))
        env.start_bus()
        mon = env.monitor("bench-monitor")
        proxy = harness.CutProxy(env.prosody.port)
        try:
            for mode in modes:
                timed = measure(tap, env, pw["alice"], proxy, mode, True,
                                mon)
                quiet = measure(tap, env, pw["alice"], proxy, mode, False,
                                mon)
                forget_token(env)
                for kind in KINDS:
                    out["%s/%s" % (mode, kind)] = [
                        (t[0], t[1], c, t[2]) for t, c in
                        zip(timed.get(kind, []), quiet.get(kind, []))]
        finally:
            proxy.close()
        print("RESULT " + json.dumps(out), flush=True)

    return harness.run_test("bench-reconnect", body, budget=900,
                            need_peer=False)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def table(results, rounds):
    print("\nReconnect after a cut link, medians of %d (loopback; wall "
          "clock, round trips, presenced's CPU)" % rounds)
    print("| server | login | reconnect | link back -> online ms | "
          "round trips after TLS | of which the login | presenced CPU ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    verdicts = []
    for server, cells in results.items():
        for mode in MODES:
            for kind in KINDS:
                g = cells.get("%s/%s" % (mode, kind), [])
                col = [median([x[i] for x in g]) for i in range(4)]
                print("| %s | %s | %s | %.1f | %s | %s | %.2f |" % (
                    server, mode, kind, col[0],
                    "%g" % col[1] if g else "-",
                    "%g" % col[3] if g else "-", col[2]))
                if mode == "fast":
                    verdicts.append((server, kind, col[3], col[2]))
    print()
    ok = True
    for server, kind, rt, cpu in verdicts:
        good = rt <= 1 and cpu < 5.0
        ok = ok and good
        print("target FAST %s reconnect on %s: a one-round-trip login and "
              "< 5 ms of presenced's CPU: %s (%g, %.2f ms)" % (
                  kind, server, "PASS" if good else "MISS", rt, cpu))
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--servers", default="prosody13,ejabberd24")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--modes", default=",".join(MODES),
                    help="of %s" % ",".join(MODES))
    ap.add_argument("--perf", metavar="DIR",
                    help="perf record each quiet round into DIR (the CPU "
                    "figures then include perf's own cost)")
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        return one_server(args.rounds, args.modes.split(","))
    if args.perf:
        os.makedirs(args.perf, exist_ok=True)
        os.environ["BENCH_RECONNECT_PERF"] = os.path.abspath(args.perf)
    results = {}
    failed = False
    for server in args.servers.split(","):
        env = dict(os.environ, PRESENCED_IT_SERVER=server)
        p = subprocess.run([sys.executable, os.path.abspath(__file__),
                            "--one", "--rounds", str(args.rounds),
                            "--modes", args.modes],
                           env=env, stdout=subprocess.PIPE, text=True)
        lines = p.stdout.splitlines()
        for x in lines:
            if x.startswith("not ok") or x.startswith("Bail"):
                print("%s: %s" % (server, x))
        res = [x for x in lines if x.startswith("RESULT ")]
        if p.returncode != 0 or not res:
            failed = True
            print("%s: the run failed (exit %d)" % (server, p.returncode))
            if not res:
                print("\n".join(lines[-60:]))
                continue
        results[server] = json.loads(res[-1][len("RESULT "):])
    ok = table(results, args.rounds)
    return 0 if ok and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
