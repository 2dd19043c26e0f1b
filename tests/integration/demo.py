#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
The demo behind scripts/demo.sh: a throwaway Prosody with alice and bob,
a private session bus, presenced logged in as alice, and bob (peer.py in
CLI mode) changing presence while alice's view is printed through
presencectl; then alice sets her presence and bob sees it. Everything
started here is stopped at the end (and bounded: see harness.py).
"""

import os
import shlex
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BOB = "bob@localhost"


def say(msg):
    print("\033[1m%s\033[0m" % msg if sys.stdout.isatty() else msg,
          flush=True)


def shell(env, *args):
    say("$ presencectl " + " ".join(shlex.quote(a) for a in args))
    r = env.ctl(*args)
    out = (r.stdout + r.stderr).rstrip("\n")
    for line in out.splitlines():
        print("    " + line.replace("\t", "    "), flush=True)
    return r


def pump(stream, prefix, lines, cond):
    for raw in stream:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        print("%s %s" % (prefix, line.replace("\t", "  ")), flush=True)
        with cond:
            lines.append(line)
            cond.notify_all()


def wait_line(lines, cond, pred, timeout):
    deadline = time.monotonic() + timeout
    with cond:
        while not any(pred(x) for x in lines):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            cond.wait(left)
    return True


def run(tap, env):
    say("== starting a throwaway Prosody on 127.0.0.1 (accounts alice, bob)")
    pw = env.setup_server(("alice", "bob"))
    pr = env.prosody
    print("    c2s port %d, direct TLS port %d, certificate %s" %
          (pr.port, pr.tls_port, pr.cert), flush=True)
    # Like an installed system, the bus knows how to start presenced (the
    # demo starts it by hand anyway, with alice's config).
    services = os.path.join(env.tmp, "services")
    os.makedirs(services)
    with open(os.path.join(services, harness.BUS_NAME + ".service"),
              "w") as f:
        f.write("[D-BUS Service]\nName=%s\nExec=%s\n" %
                (harness.BUS_NAME, harness.presenced_path()))
    env.start_bus(servicedir=services)
    print("    private session bus %s" % env.bus.address, flush=True)

    say("== starting presenced as alice@localhost")
    d = env.start_alice(resource="demo", debug=False,
                        presence={"show": "available",
                                  "status": "hello from presenced"})
    t0 = time.monotonic()
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "presenced logged in (%.0f ms)" %
                  ((time.monotonic() - t0) * 1000), env.fail_with_log(d)):
        return
    shell(env, "state")
    shell(env, "get")

    say("== alice watches her contacts (presencectl watch)")
    watch = env.watch("demo-watch")
    wlines, wcond = [], threading.Condition()

    def relay():
        seen = 0
        while not env._closed:
            snap = watch.snapshot()
            for line in snap[seen:]:
                print("[alice: presencectl watch] %s" %
                      line.replace("\t", "  "), flush=True)
                with wcond:
                    wlines.append(line)
                    wcond.notify_all()
            seen = len(snap)
            time.sleep(0.05)
    threading.Thread(target=relay, daemon=True).start()

    say("== bob logs in and changes his presence (tests/integration/peer.py)")
    script = [("away", "lunch", 3), ("dnd", "in a meeting", 5),
              ("chat", "free to talk", 1)]
    argv = [sys.executable, os.path.join(harness.HERE, "peer.py"),
            "--jid", BOB, "--password", pw["bob"], "--port", str(pr.port),
            "--ca-file", pr.cert, "--resource", "laptop",
            "--interval", "2.5", "--duration", "13",
            "--script", ",".join("%s:%s:%d" % s for s in script)]
    peer = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL,
                            preexec_fn=harness._die_with_parent)
    plines, pcond = [], threading.Condition()
    threading.Thread(target=pump, args=(peer.stdout, "[bob: peer.py]",
                                        plines, pcond), daemon=True).start()
    try:
        for show, status, _ in script:
            ok = wait_line(wlines, wcond, lambda x: x == "%s\t%s\t%s" %
                           (BOB, show, status), 10)
            tap.ok(ok, "alice sees bob %s/%s" % (show, status))
            shell(env, "list")
        shell(env, "contact", BOB)

        say("== alice sets her presence; bob sees it")
        shell(env, "set", "away", "back in 5 minutes", "--priority", "5")
        ok = wait_line(plines, pcond, lambda x: "alice@localhost/demo" in x
                       and "back in 5 minutes" in x, 10)
        tap.ok(ok, "bob sees alice away 'back in 5 minutes'")
        shell(env, "get")

        say("== presenced stops (SIGTERM): bob sees alice go offline")
        d.proc.signal(15)
        ok = wait_line(plines, pcond, lambda x: "alice@localhost/demo" in x
                       and "unavailable" in x, 10)
        tap.ok(ok, "bob sees alice unavailable")
        rc = d.proc.wait(10)
        tap.ok(rc == 0, "presenced exited with status %r" % rc)
    finally:
        if peer.poll() is None:
            peer.terminate()
            try:
                peer.wait(5)
            except subprocess.TimeoutExpired:
                peer.kill()
    say("== cleaning up (Prosody, bus, daemon, peer)")


if __name__ == "__main__":
    sys.exit(harness.run_test("demo", run, budget=90))
