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

Then the real lockers, each under Xorg with the dummy video driver
(gnome-screensaver crashes under Xvfb in its fade code), on the same bus:

  - mate-screensaver and gnome-screensaver: "--lock" sets away with the
    status kept and an XEP-0319 idle time, "--deactivate" restores;
  - a daemon started while mate-screensaver has been locked a few seconds
    stamps the locker's lock time (GetActiveTime), not its own start.

Needs dunst, dunstctl, Xvfb, Xorg with xserver-xorg-video-dummy,
mate-screensaver and gnome-screensaver (scripts/install-deps.sh installs
them); Xorg runs as root here (CI). By hand as a user whose Xorg cannot
start without a console: PRESENCED_IT_NO_XORG=1 skips the locker part.
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


XORG_CONF = """Section "Device"
  Identifier "dummy"
  Driver "dummy"
  VideoRam 16384
EndSection
Section "Screen"
  Identifier "screen"
  Device "dummy"
  DefaultDepth 24
  SubSection "Display"
    Depth 24
    Modes "1024x768"
  EndSubSection
EndSection
Section "ServerFlags"
  Option "AutoAddDevices" "false"
  Option "AutoEnableDevices" "false"
EndSection
"""


def start_xorg(env):
    """Xorg with the dummy driver on a display it picks; ':N' or None."""
    import select
    conf = os.path.join(env.tmp, "xorg.conf")
    with open(conf, "w") as f:
        f.write(XORG_CONF)
    r, w = os.pipe()
    log = open(os.path.join(env.tmp, "xorg.out"), "ab")
    p = subprocess.Popen(["Xorg", "-displayfd", str(w), "-config", conf,
                          "-noreset", "-nolisten", "tcp", "-logfile",
                          os.path.join(env.tmp, "xorg.log")],
                         stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, pass_fds=(w,))
    log.close()
    os.close(w)
    env.extra_pids.append(p.pid)
    env.logs.append(("Xorg", os.path.join(env.tmp, "xorg.out")))
    data = b""
    while b"\n" not in data:
        ready, _, _ = select.select([r], [], [], 30)
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
    if os.environ.get("PRESENCED_IT_NO_XORG"):
        tap.diag("PRESENCED_IT_NO_XORG: real lockers not tested")
        tap.ok(d.stop(10) == 0, "daemon stops cleanly")
        return
    run_lockers(tap, env, bus, bob, d, own, wait_own)


def has_idle(ev):
    return ev is not None and "urn:xmpp:idle:1" in ev.xml


def run_lockers(tap, env, bus, bob, d, own, wait_own):
    import time
    for tool in ("Xorg", "mate-screensaver", "gnome-screensaver"):
        if not harness.find_tool(tool):
            tap.bail("%s not installed (scripts/install-deps.sh)" % tool)
    display = start_xorg(env)
    if not tap.ok(display, "Xorg (dummy driver) started", display):
        return
    xenv = bus.env()
    xenv["DISPLAY"] = display
    want = ("available", "on a call anyway")
    for name in ("mate", "gnome"):
        prog, ctl = "%s-screensaver" % name, "%s-screensaver-command" % name
        log = os.path.join(env.tmp, "%s.log" % prog)
        saver = harness.Proc(prog, [prog, "--no-daemon"], log, env=xenv)
        env.extra_pids.append(saver.pid)
        env.logs.append((prog, log))

        def command(*args):
            return subprocess.run([ctl] + list(args), env=xenv,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True,
                                  timeout=20, stdin=subprocess.DEVNULL)
        tap.ok(harness.wait_for(lambda: "inactive" in
                                command("--query").stdout, 20),
               "%s is on the bus, inactive" % prog)
        start = bob.mark()
        command("--lock")
        tap.ok(wait_own(("away", want[1])) == ("away", want[1]) and
               env.get_property("PresenceCause") == "lock",
               "%s --lock: away, status kept, cause lock" % ctl,
               repr(own()))
        ev = bob.wait_presence(lambda e: e.bare == ALICE and
                               e.show == "away", 10, start)
        tap.ok(has_idle(ev), "bob sees away with an idle time",
               ev.xml if ev else None)
        if name == "mate":
            # Restarted under the lock: the stamp is the lock's time.
            t_lock = time.time()
            time.sleep(3)
            start = bob.mark()
            d.stop(10)
            d = env.start_alice(name="alice-relocked", presence={
                "show": want[0], "status": want[1]})
            env.wait_state("online", 30, daemon=d)
            ev = bob.wait_presence(lambda e: e.bare == ALICE and
                                   e.type == "available", 10, start)
            ts = idle_stamp(ev)
            tap.ok(ev and ev.show == "away" and ts is not None and
                   abs(ts - t_lock) <= 2,
                   "a daemon started under the lock stamps the lock time",
                   "%r %r vs %r" % (ev, ts, t_lock))
        command("--deactivate")
        tap.ok(wait_own(want) == want and
               env.get_property("PresenceCause") == "user",
               "%s --deactivate: the presence comes back" % ctl,
               repr(own()))
        saver.stop()
    tap.ok(d.stop(10) == 0, "daemon stops cleanly")


def idle_stamp(ev):
    """The XEP-0319 since of a presence, unix seconds, or None."""
    import calendar
    import re
    import time
    m = ev and re.search(r"since=['\"]([0-9T:\-]+)(?:\.\d+)?Z['\"]",
                         ev.xml)
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))


if __name__ == "__main__":
    sys.exit(harness.run_test("desktop-real", run, budget=180))
