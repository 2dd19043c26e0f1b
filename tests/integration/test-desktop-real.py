#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #15 against a real notification server: dunst under Xvfb on a
private session bus, with Prosody and a test peer. dunstctl set-paused is
what a user (or a desktop's "Do Not Disturb" switch) runs:

  - a daemon started while dunst is paused starts in dnd (PresenceCause
    dnd), and the peer sees dnd with the configured status;
  - resuming dunst puts back what was set; pausing again: dnd again;
  - a SetPresence while paused wins and is kept when dunst resumes;
  - dunst going away ends its Do Not Disturb.

Needs dunst, dunstctl and Xvfb (scripts/install-deps.sh installs them).
Real GNOME and MATE lockers are not tested here: gnome-screensaver crashes
under Xvfb in its fade code and needs Xorg's dummy driver; their D-Bus
behaviour is what fake-desktop.py plays in test-desktop.py.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost"
NOTIF = "org.freedesktop.Notifications"


def start_xvfb(env):
    """An Xvfb on a display it picks itself; returns ':N' or None."""
    import select
    r, w = os.pipe()
    log = open(os.path.join(env.tmp, "xvfb.log"), "ab")
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-nolisten", "tcp",
                          "-screen", "0", "640x480x24"],
                         stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, pass_fds=(w,))
    log.close()
    os.close(w)
    env.extra_pids.append(p.pid)
    env.logs.append(("Xvfb", os.path.join(env.tmp, "xvfb.log")))
    data = b""
    while b"\n" not in data:
        ready, _, _ = select.select([r], [], [], 20)
        chunk = os.read(r, 16) if ready else b""
        if not chunk:
            break
        data += chunk
    os.close(r)
    return ":" + data.decode().strip() if data.strip() else None


def dunstctl(bus, *args):
    return subprocess.run(["dunstctl"] + list(args), env=bus.env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=20, stdin=subprocess.DEVNULL)


def run(tap, env):
    for tool in ("dunst", "dunstctl", "Xvfb"):
        if not harness.find_tool(tool):
            tap.skip_all("%s not installed" % tool)
    pw = env.setup_server(("alice", "bob"))
    bus = env.start_bus()
    display = start_xvfb(env)
    if not tap.ok(display, "Xvfb started", display):
        return
    denv = bus.env()
    denv["DISPLAY"] = display
    dunst_log = os.path.join(env.tmp, "dunst.log")
    dunst = harness.Proc("dunst", ["dunst"], dunst_log, env=denv)
    env.extra_pids.append(dunst.pid)
    env.logs.append(("dunst", dunst_log))
    tap.ok(harness.wait_for(lambda: dunstctl(bus, "is-paused").returncode
                            == 0, 20), "dunst is on the bus")
    r = dunstctl(bus, "set-paused", "true")
    tap.ok(r.returncode == 0 and
           dunstctl(bus, "is-paused").stdout.strip() == "true",
           "dunstctl set-paused true", r.stderr)

    bob = env.peer("bob", pw["bob"], resource="peer").start()
    start = bob.mark()
    d = env.start_alice(presence={"show": "chat", "status": "around",
                                  "dnd-follows-desktop": "true"})
    if not tap.ok(env.wait_state("online", 30, daemon=d) == "online",
                  "daemon online", env.fail_with_log(d)):
        return

    def own():
        ok, v = env.gdbus_call("GetPresence")
        return tuple(v[:2]) if ok else None

    def wait_own(want):
        harness.wait_for(lambda: own() == want, 10)
        return own()

    tap.ok(wait_own(("dnd", "around")) == ("dnd", "around") and
           env.get_property("PresenceCause") == "dnd",
           "started while dunst is paused: dnd, cause dnd", repr(own()))
    ev = bob.wait_presence(lambda e: e.bare == ALICE and e.show == "dnd",
                           10, start)
    tap.ok(ev and ev.status == "around", "bob sees dnd/around", repr(ev))

    dunstctl(bus, "set-paused", "false")
    tap.ok(wait_own(("chat", "around")) == ("chat", "around") and
           env.get_property("PresenceCause") == "user",
           "dunst resumed: chat/around again, cause user")
    start = bob.mark()
    dunstctl(bus, "set-paused", "true")
    tap.ok(wait_own(("dnd", "around")) == ("dnd", "around"),
           "paused again: dnd")
    ev = bob.wait_presence(lambda e: e.bare == ALICE and e.show == "dnd",
                           10, start)
    tap.ok(ev is not None, "bob sees dnd again")

    r = env.ctl("set", "available", "on a call anyway")
    tap.ok(r.returncode == 0 and
           wait_own(("available", "on a call anyway")) ==
           ("available", "on a call anyway"),
           "SetPresence while paused is taken", r.stderr)
    dunstctl(bus, "set-paused", "false")
    dunstctl(bus, "set-paused", "true")
    harness.wait_for(lambda: own() == ("dnd", "on a call anyway"), 10)
    tap.ok(own() == ("dnd", "on a call anyway"),
           "resumed and paused again: a new DND applies", repr(own()))

    dunst.stop()
    tap.ok(wait_own(("available", "on a call anyway")) ==
           ("available", "on a call anyway"),
           "dunst exits: its Do Not Disturb ends", repr(own()))
    tap.ok(d.stop(10) == 0, "daemon stops cleanly")


if __name__ == "__main__":
    sys.exit(harness.run_test("desktop-real", run, budget=120))
