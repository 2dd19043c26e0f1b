#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Life cycle against a real Prosody and a private bus: SIGTERM sends
unavailable and exits 0; D-Bus activation starts the daemon on the first
presencectl call (config from $XDG_CONFIG_HOME); a second daemon on the
same bus exits 1 with a clear message.
"""

import os
import signal
import sys
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost"


def pid_gone(pid):
    """True once pid has exited (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def run(tap, env):
    pw = env.setup_server(("alice", "bob", "carol"))
    bob = env.peer("bob", pw["bob"]).start()

    # ---- f: SIGTERM --------------------------------------------------------
    env.start_bus()
    m = bob.mark()
    d = env.start_alice(resource="term", presence={"show": "chat"})
    state = env.wait_state("online", 30, daemon=d)
    tap.ok(state == "online", "daemon online", env.fail_with_log(d))
    term_jid = harness.bound_jid(env, ALICE + "/term")
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE + "/term")
                           and e.type == "available", 10, m)
    tap.ok(ev, "peer sees the daemon available")

    # SIGHUP with a broken config: StateReason config, nothing crashes.
    good = open(d.conf).read()
    with open(d.conf, "w") as f:
        f.write(good.replace("port = %d" % env.prosody.port,
                             "port = not-a-port"))
    d.proc.signal(signal.SIGHUP)
    reason = harness.wait_for(
        lambda: env.get_property("StateReason") == "config", 10)
    msg = env.get_property("StateMessage") or ""
    tap.ok(reason and d.alive(),
           "SIGHUP with an invalid config: StateReason config, daemon alive",
           env.fail_with_log(d))
    tap.ok("port" in msg and pw["alice"] not in msg,
           "StateMessage names the key, no secret", repr(msg))
    with open(d.conf, "w") as f:
        f.write(good)
    m = bob.mark()
    t0 = time.monotonic()
    was_alive = d.alive()
    d.proc.signal(signal.SIGTERM)
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE + "/term")
                           and e.type == "unavailable", 10, m)
    tap.ok(ev, "SIGTERM: peer sees unavailable presence")
    rc = d.proc.wait(10)
    tap.diag("SIGTERM -> exit: %.0f ms" % ((time.monotonic() - t0) * 1000))
    tap.ok(was_alive and rc == 0, "SIGTERM: exit status 0",
           "alive before SIGTERM: %s, exit status %r" % (was_alive, rc))
    closed = env.prosody.stream_closed(term_jid)
    if closed is None:
        tap.diag("%s does not log how a stream ended: presenced's own "
                 "log is checked" % env.prosody.NAME)
        closed = "SEND: </stream:stream>" in d.read_log()
    tap.ok(closed, "SIGTERM: the stream was closed, not dropped")

    # ---- g: D-Bus activation ----------------------------------------------
    xdg = os.path.join(env.tmp, "xdg-activation")
    a = env.account("alice", pw["alice"], resource="activated")
    env.write_config("activated", a, {"show": "away", "status": "activated"},
                     path=os.path.join(xdg, "presenced", "presenced.conf"))
    # The build tree's activation file (dbus/local.mk generates it from the
    # installed one's template) if there is one, else our own.
    services = os.path.join(os.environ.get("top_builddir", "."), "tests",
                            "services")
    if os.path.exists(os.path.join(services, harness.BUS_NAME + ".service")):
        tap.diag("activation file from the build tree: %s" % services)
    else:
        services = os.path.join(env.tmp, "services")
        os.makedirs(services)
        with open(os.path.join(services, harness.BUS_NAME + ".service"),
                  "w") as f:
            f.write("[D-BUS Service]\nName=%s\nExec=%s\n" %
                    (harness.BUS_NAME, harness.presenced_path()))
        tap.diag("activation file generated in %s" % services)
    benv = dict(os.environ)
    benv.pop("DBUS_SESSION_BUS_ADDRESS", None)  # never the outer bus
    benv["XDG_CONFIG_HOME"] = xdg
    benv["G_MESSAGES_DEBUG"] = "all"   # its log goes to the bus's log
    env.start_bus(servicedir=services, env=benv)
    tap.ok(env.name_owner_pid() is None, "activation: nobody owns the name "
           "before the first call")
    m = bob.mark()
    t0 = time.monotonic()
    r = env.ctl("state")
    tap.ok(r.returncode == 0 and r.stdout.strip() in
           ("offline", "connecting", "online", "reconnecting"),
           "activation: the first presencectl call starts the daemon",
           "rc=%d out=%r err=%r" % (r.returncode, r.stdout, r.stderr))
    state = env.wait_state("online", 30)
    pid = env.name_owner_pid()
    if pid:
        env.extra_pids.append(pid)
    tap.ok(state == "online", "activation: the activated daemon logs in "
           "with $XDG_CONFIG_HOME/presenced/presenced.conf",
           "State=%r" % state)
    tap.diag("activation -> State online: %.0f ms" %
             ((time.monotonic() - t0) * 1000))
    ev = bob.wait_presence(
        lambda e: harness.ours(e.frm, ALICE + "/activated") and
        e.type == "available", 10, m)
    tap.ok(ev and ev.show == "away" and ev.status == "activated",
           "activation: peer sees the configured presence", repr(ev))

    # ---- h: a second daemon on the same bus ---------------------------------
    a2 = env.account("carol", pw["carol"], resource="second")
    conf2 = env.write_config("second", a2)
    d2 = env.start_daemon("second", conf2, env=env.daemon_env())
    rc = d2.proc.wait(15)
    tap.ok(rc == 1, "second daemon on the same bus exits 1",
           "exit status %r" % rc)
    out = d2.read_log()
    tap.ok(harness.BUS_NAME in out or "already" in out.lower(),
           "second daemon: clear message", out[-2000:])
    tap.diag("second daemon said: %s" % " | ".join(
        x for x in out.splitlines() if "SEND:" not in x and "RECV:" not in x
    )[-400:])
    tap.ok(env.name_owner_pid() == pid and pid and not pid_gone(pid),
           "the first daemon still owns the name")
    tap.ok(env.get_property("State") == "online",
           "the first daemon is still online")

    # Stop the activated daemon by PID: it must also exit cleanly.
    if pid:
        m = bob.mark()
        os.kill(pid, signal.SIGTERM)
        gone = harness.wait_for(lambda: pid_gone(pid), 10, 0.05)
        tap.ok(gone, "activated daemon exits on SIGTERM")
        ev = bob.wait_presence(
            lambda e: harness.ours(e.frm, ALICE + "/activated") and
            e.type == "unavailable", 10, m)
        tap.ok(ev, "activated daemon sent unavailable")


if __name__ == "__main__":
    sys.exit(harness.run_test("lifecycle", run, budget=150))
