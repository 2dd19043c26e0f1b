#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #7 against a real Prosody, with a private session bus and a private
"system" bus (two dbus-daemons), and fake ScreenSaver and logind services
(fake-desktop.py) owned by the test:

  - away on lock (CONTRACT.md away-on-lock): lock sets away keeping the
    status, with XEP-0319 idle; GetPresence and Show say away; a repeated
    signal changes nothing; unlock restores exactly what was set before;
    never over dnd; a SetPresence while locked wins and is kept; locked
    while any source says so (org.freedesktop.ScreenSaver,
    org.gnome.ScreenSaver appearing after the daemon started, logind
    LockedHint of the user's display session);
  - XEP-0352: <inactive/> on lock and <active/> on unlock where Prosody
    offers CSI;
  - sleep: a logind delay inhibitor is held; PrepareForSleep(true) sends
    unavailable and closes the stream, then releases it; PrepareForSleep
    (false) reconnects at once and takes a new one;
  - away-on-lock = false, no system bus and no GSettings schema at all;
  - issue #15, on a bus of its own (run_stacked): the causes stacked
    (PresenceCause user/dnd/lock/idle), a MATE locker found locked at
    start (the XEP-0319 stamp is its GetActiveTime), idle away and xa from
    a fake Mutter IdleMonitor (watches, no polling), DND from KDE, dunst,
    xfconf and GSettings (a schema of the test's own, keyfile backend), a
    SetPresence under causes kept when they end, and the polled
    org.freedesktop.ScreenSaver.GetSessionIdleTime (once at start, not
    again within 30 s, not while offline).
"""

import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost"
FDO = "org.freedesktop.ScreenSaver"
GNOME = "org.gnome.ScreenSaver"
LOGIN1 = "org.freedesktop.login1"
MATE = "org.mate.ScreenSaver"
CINNAMON = "org.cinnamon.ScreenSaver"
SAVER_PATHS = {FDO: "/ScreenSaver", GNOME: "/org/gnome/ScreenSaver",
               MATE: "/org/mate/ScreenSaver",
               CINNAMON: "/org/cinnamon/ScreenSaver"}
MUTTER = "org.gnome.Mutter.IdleMonitor"
MUTTER_PATH = "/org/gnome/Mutter/IdleMonitor/Core"
NOTIF = "org.freedesktop.Notifications"
NOTIF_PATH = "/org/freedesktop/Notifications"
XFCONF = "org.xfce.Xfconf"
TESTI = "im.presenced.Test."
HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake-desktop.py")


def fake_python():
    """An interpreter with python3-dbus and python3-gi, or None."""
    for py in (sys.executable, "/usr/bin/python3"):
        if not py or not os.path.exists(py):
            continue
        r = subprocess.run([py, "-c", "import dbus, dbus.mainloop.glib; "
                            "from gi.repository import GLib"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        if r.returncode == 0:
            return py
    return None


class Desktop:
    """The fake services and calls to them."""

    def __init__(self, env, py, session, system):
        self.env = env
        self.py = py
        self.session = session
        self.system = system

    def start(self, name, *args):
        bus = self.system if args[0] == "logind" else self.session
        argv = [self.py, FAKE, args[0], bus.address] + list(args[1:])
        r = harness.LineReader(argv, bus.env(),
                               os.path.join(self.env.tmp, "%s.err" % name))
        self.env.readers.append(r)
        self.env.logs.append(("fake %s stderr" % name,
                              os.path.join(self.env.tmp, "%s.err" % name)))
        if not r.wait_line(lambda line: line == "READY", 20):
            raise RuntimeError("fake %s did not start" % name)
        return r

    def call(self, bus, dest, path, method, *args):
        argv = ["gdbus", "call", "--address", bus.address, "--dest", dest,
                "--object-path", path, "--method", method] + \
            [str(a) for a in args]
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=20,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (method, r.stderr.strip()))
        return harness.parse_gvariant(r.stdout) if r.stdout.strip() else ()

    def saver(self, name, active):
        path = SAVER_PATHS[name]
        self.call(self.session, name, path, name + ".SetActive",
                  "true" if active else "false")

    def saver_emit(self, name, active):
        path = SAVER_PATHS[name]
        self.call(self.session, name, path, "im.presenced.Test.Emit",
                  "true" if active else "false")

    def locked_hint(self, locked):
        self.call(self.system, LOGIN1, "/org/freedesktop/login1",
                  "im.presenced.Test.SetLockedHint",
                  "true" if locked else "false")

    def sleep(self, start):
        self.call(self.system, LOGIN1, "/org/freedesktop/login1",
                  "im.presenced.Test.Sleep", "true" if start else "false")

    def inhibitors(self):
        return self.call(self.system, LOGIN1, "/org/freedesktop/login1",
                         "im.presenced.Test.Inhibitors")[0]


def own(env):
    ok, v = env.gdbus_call("GetPresence")
    return tuple(v[:2]) if ok else None


def wait_own(env, want, timeout=10):
    harness.wait_for(lambda: own(env) == want, timeout)
    return own(env)


def from_alice(bob, start, pred=lambda e: True, timeout=10):
    return bob.wait_presence(lambda e: e.bare == ALICE and pred(e),
                             timeout, start)


def has_idle(ev):
    return ev is not None and "urn:xmpp:idle:1" in ev.xml and \
        "since=" in ev.xml


def idle_stamp(ev):
    """The XEP-0319 since of a presence, unix seconds, or None."""
    import calendar
    import re
    m = ev and re.search(r"since=['\"]([0-9T:\-]+)(?:\.\d+)?Z['\"]",
                         ev.xml)
    if not m:
        return None
    return calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))


def ctxt_switches(pid):
    """Voluntary context switches of all the process's threads, or None."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
    except OSError:
        return None
    return total


def quiet(bob, start, secs=1.0):
    """No presence from alice arrives for secs; returns what did."""
    time.sleep(secs)
    return bob.events_from(ALICE, start)


def wire(d, text):
    return [line for line in d.read_log().splitlines()
            if "SEND:" in line and text in line]


def caps_settled(d, timeout=10):
    """The server's disco#info is in, so our caps ver is final: until then
    a server feature we learn (blocking) changes the ver, and the presence
    is sent again with it (XEP-0115 §4), which a "nothing sent" check
    would count. On a loaded machine that answer can come after a lock."""
    return harness.wait_for(
        lambda: "xmpp session: blocking " in d.read_log(), timeout)


def run(tap, env):
    py = fake_python()
    if not py:
        tap.skip_all("python3-dbus and python3-gi not installed")

    # Prosody with XEP-0352 (mod_csi_simple) in addition to the usual.
    import secrets
    pw = {u: "%s-Pw-%s" % (u, secrets.token_hex(6)) for u in
          ("alice", "bob")}
    env.passwords = pw
    # (ejabberd: mod_client_state; jabberd2 has no XEP-0352.)
    env.prosody_modules = ("csi_simple",)
    pr = env.start_prosody(pw)
    csi = pr.has_module("csi_simple")
    if not csi:
        tap.diag("%s has no XEP-0352: presenced must not send CSI" %
                 pr.NAME)
    pr.set_roster("alice", {"bob@localhost": "both"})
    pr.set_roster("bob", {ALICE: "both"})
    env.launch_prosody()

    system = env.start_bus()
    session = env.start_bus()  # env.bus: what presencectl and gdbus use
    desk = Desktop(env, py, session, system)

    bob = env.peer("bob", pw["bob"], resource="peer").start()
    desk.start("fdo", "screensaver", FDO, "/org/freedesktop/ScreenSaver",
               "/ScreenSaver")
    desk.start("logind", "logind")

    a = env.account("alice", pw["alice"], resource="desk")
    conf = env.write_config("alice", a, {"show": "available",
                                         "status": "working"})
    denv = env.daemon_env()
    denv["DBUS_SYSTEM_BUS_ADDRESS"] = system.address
    start = bob.mark()
    d = env.start_daemon("alice", conf, env=denv)
    if not tap.ok(env.wait_state("online", 30, daemon=d) == "online",
                  "daemon online", env.fail_with_log(d)):
        return
    tap.ok(from_alice(bob, start, lambda e: e.type == "available"),
           "bob sees alice available")
    tap.ok(wait_own(env, ("available", "working")) ==
           ("available", "working"), "initial presence available/working")
    caps_settled(d)

    # An inhibitor is taken at start (logind was there first).
    inh = harness.wait_for(lambda: [i for i in desk.inhibitors()
                                    if i[4]], 10)
    tap.ok(inh and inh[0][0] == "sleep" and inh[0][3] == "delay" and
           len(inh) == 1, "a sleep delay inhibitor is held",
           repr(desk.inhibitors()))

    # ---- lock / unlock: org.freedesktop.ScreenSaver ---------------------
    start = bob.mark()
    t_lock = int(time.time())
    desk.saver(FDO, True)
    tap.ok(wait_own(env, ("away", "working")) == ("away", "working"),
           "lock: GetPresence away, status kept", repr(own(env)))
    tap.ok(env.get_property("Show") == "away", "lock: Show is away")
    ev = from_alice(bob, start, lambda e: e.show == "away")
    tap.ok(ev and ev.status == "working", "lock: bob sees away/working",
           repr(ev))
    tap.ok(has_idle(ev), "lock: the away carries XEP-0319 idle",
           ev.xml if ev else None)
    if ev and has_idle(ev):
        import re
        m = re.search(r"since=['\"]([0-9T:\-]+)(?:\.\d+)?Z['\"]", ev.xml)
        import calendar
        ts = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
                             ) if m else None
        tap.ok(ts is not None and abs(ts - t_lock) <= 2,
               "idle since is the lock time", "%r vs %r" % (ts, t_lock))
    else:
        tap.ok(False, "idle since is the lock time")
    if csi:
        tap.ok(harness.wait_for(lambda: wire(d, "<inactive"), 5) and
               wire(d, "urn:xmpp:csi:0"),
               "lock: XEP-0352 <inactive/> sent",
               "\n".join(wire(d, "csi")))
    else:
        tap.ok(not harness.wait_for(lambda: wire(d, "<inactive"), 2),
               "lock: no <inactive/> to a server without XEP-0352",
               "\n".join(wire(d, "csi")))

    # A repeated signal (from both objects) changes nothing.
    start = bob.mark()
    desk.saver_emit(FDO, True)
    extra = quiet(bob, start)
    tap.ok(not extra and own(env) == ("away", "working") and
           len(wire(d, "<inactive")) == (1 if csi else 0),
           "repeated ActiveChanged(true): nothing sent, nothing changed",
           repr(extra))

    start = bob.mark()
    desk.saver(FDO, False)
    tap.ok(wait_own(env, ("available", "working")) ==
           ("available", "working"), "unlock: available/working restored",
           repr(own(env)))
    ev = from_alice(bob, start, lambda e: e.show == "available")
    tap.ok(ev and ev.status == "working" and not has_idle(ev),
           "unlock: bob sees available/working without idle",
           ev.xml if ev else None)
    if csi:
        tap.ok(harness.wait_for(lambda: wire(d, "<active"), 5),
               "unlock: XEP-0352 <active/> sent")
    else:
        tap.ok(not wire(d, "<active"),
               "unlock: no <active/> to a server without XEP-0352")
    start = bob.mark()
    desk.saver_emit(FDO, False)
    tap.ok(not quiet(bob, start, 0.5), "repeated ActiveChanged(false): "
           "nothing sent")

    # A signal from another connection than the name's owner (dbus-send;
    # gdbus emit --address sends before Hello) counts as well: the session
    # bus is the user's own.
    def emit(path, iface, active):
        subprocess.run(["dbus-send", "--bus=" + session.address,
                        "--type=signal", path, iface + ".ActiveChanged",
                        "boolean:" + active],
                       check=True, timeout=20, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
    if not harness.find_tool("dbus-send"):
        tap.bail("dbus-send not installed")
    emit("/org/freedesktop/ScreenSaver", FDO, "true")
    tap.ok(wait_own(env, ("away", "working")) == ("away", "working"),
           "ActiveChanged from gdbus emit locks")
    emit("/org/freedesktop/ScreenSaver", FDO, "false")
    tap.ok(wait_own(env, ("available", "working")) ==
           ("available", "working"), "and unlocks")
    emit("/org/freedesktop/Other", FDO, "true")
    time.sleep(0.5)
    tap.ok(own(env) == ("available", "working"),
           "ActiveChanged on another object is ignored")

    # ---- never over dnd ----------------------------------------------------
    r = env.ctl("set", "dnd", "meeting")
    tap.ok(r.returncode == 0, "set dnd/meeting", r.stderr)
    tap.ok(wait_own(env, ("dnd", "meeting")) == ("dnd", "meeting"),
           "dnd/meeting set")
    time.sleep(0.3)
    start = bob.mark()
    desk.saver(FDO, True)
    extra = quiet(bob, start)
    tap.ok(own(env) == ("dnd", "meeting") and not extra,
           "lock during dnd: dnd kept, nothing sent",
           "%r %r" % (own(env), extra))
    desk.saver(FDO, False)
    extra = quiet(bob, start, 0.5)
    tap.ok(own(env) == ("dnd", "meeting") and not extra,
           "unlock after dnd: dnd kept", "%r %r" % (own(env), extra))

    # ---- SetPresence while locked wins -----------------------------------
    env.ctl("set", "chat", "free")
    wait_own(env, ("chat", "free"))
    desk.saver(FDO, True)
    tap.ok(wait_own(env, ("away", "free")) == ("away", "free"),
           "lock over chat: away/free")
    r = env.ctl("set", "available", "on the phone")
    tap.ok(r.returncode == 0 and own(env) == ("available", "on the phone"),
           "SetPresence while locked is taken", repr(own(env)))
    start = bob.mark()
    desk.saver(FDO, False)
    extra = quiet(bob, start)
    tap.ok(own(env) == ("available", "on the phone") and
           not [e for e in extra if e.show == "chat"],
           "unlock keeps the presence set while locked",
           "%r %r" % (own(env), extra))

    # ---- two sources: gnome appears later; logind LockedHint -------------
    env.ctl("set", "available", "two")
    wait_own(env, ("available", "two"))
    desk.start("gnome", "screensaver", GNOME, "/org/gnome/ScreenSaver")
    time.sleep(0.3)  # NameOwnerChanged → GetActive: not locked
    tap.ok(own(env) == ("available", "two"),
           "a screensaver appearing unlocked changes nothing")
    desk.saver(GNOME, True)
    tap.ok(wait_own(env, ("away", "two")) == ("away", "two"),
           "gnome screensaver (appeared later) locks: away")
    desk.saver(FDO, True)
    desk.saver(GNOME, False)
    time.sleep(0.5)
    tap.ok(own(env) == ("away", "two"),
           "gnome unlocks, fdo still locked: still away", repr(own(env)))
    desk.locked_hint(True)
    desk.saver(FDO, False)
    time.sleep(0.5)
    tap.ok(own(env) == ("away", "two"),
           "fdo unlocks, logind LockedHint still set: still away",
           repr(own(env)))
    start = bob.mark()
    desk.locked_hint(False)
    tap.ok(wait_own(env, ("available", "two")) == ("available", "two"),
           "LockedHint false: every source unlocked, available/two back")
    ev = from_alice(bob, start, lambda e: e.show == "available")
    tap.ok(ev and ev.status == "two", "bob sees available/two", repr(ev))
    desk.locked_hint(True)
    tap.ok(wait_own(env, ("away", "two")) == ("away", "two"),
           "LockedHint alone locks (user's display session)")

    # ---- sleep and wake (locked: the away survives) ----------------------
    n_inactive = len(wire(d, "<inactive"))
    start = bob.mark()
    desk.sleep(True)
    ev = from_alice(bob, start, lambda e: e.type == "unavailable")
    tap.ok(ev, "sleep: bob sees alice unavailable")
    released = harness.wait_for(
        lambda: [i for i in desk.inhibitors() if not i[4]], 5)
    tap.ok(released, "sleep: the inhibitor is released",
           repr(desk.inhibitors()))
    tap.ok(env.get_property("State") == "offline",
           "sleep: State offline when the inhibitor is released")
    tap.ok("</stream:stream>" in d.read_log(), "sleep: stream closed")
    time.sleep(1.0)
    tap.ok(env.get_property("State") == "offline",
           "asleep: no reconnect attempt")

    start = bob.mark()
    t0 = time.monotonic()
    desk.sleep(False)
    st = env.wait_state("online", 10, daemon=d)
    took = time.monotonic() - t0
    tap.ok(st == "online" and took < 5, "wake: online again at once "
           "(%.2f s)" % took, repr(st))
    ev = from_alice(bob, start, lambda e: e.type == "available")
    tap.ok(ev and ev.show == "away" and ev.status == "two" and has_idle(ev),
           "wake: bob sees alice back, away/two with idle (still locked)",
           ev.xml if ev else None)
    held = harness.wait_for(lambda: [i for i in desk.inhibitors() if i[4]],
                            5)
    tap.ok(held and len(desk.inhibitors()) == 2,
           "wake: a new inhibitor is held", repr(desk.inhibitors()))
    if csi:
        tap.ok(harness.wait_for(lambda: len(wire(d, "<inactive")) >
                                n_inactive, 5),
               "wake while locked: <inactive/> again on the new session")
    else:
        tap.ok(not harness.wait_for(lambda: wire(d, "<inactive"), 2),
               "wake while locked: still no <inactive/> without XEP-0352")
    desk.locked_hint(False)
    tap.ok(wait_own(env, ("available", "two")) == ("available", "two"),
           "unlock after wake: available/two")

    # A clean stop releases what is held.
    tap.ok(d.stop(10) == 0, "daemon stops cleanly")
    tap.ok(not [i for i in desk.inhibitors() if i[4]],
           "no inhibitor left after exit", repr(desk.inhibitors()))

    # ---- away-on-lock = false, no system bus at all -----------------------
    conf2 = env.write_config("alice2", a, {"show": "available",
                                           "status": "off",
                                           "away-on-lock": "false"})
    denv = env.daemon_env()
    denv["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + \
        os.path.join(env.tmp, "no-such-bus")
    # No GSettings schema at all: looked up, not found, no abort.
    denv["XDG_DATA_DIRS"] = os.path.join(env.tmp, "no-data")
    denv.pop("GSETTINGS_SCHEMA_DIR", None)
    d2 = env.start_daemon("alice2", conf2, env=denv)
    tap.ok(env.wait_state("online", 30, daemon=d2) == "online",
           "no system bus: daemon online", env.fail_with_log(d2))
    start = bob.mark()
    desk.saver(FDO, True)
    time.sleep(0.5)
    desk.saver(GNOME, True)
    extra = quiet(bob, start)
    tap.ok(own(env) == ("available", "off") and
           not [e for e in extra if e.show == "away"],
           "away-on-lock = false: lock leaves the presence alone",
           "%r %r" % (own(env), extra))
    desk.saver(FDO, False)
    desk.saver(GNOME, False)
    tap.ok(d2.stop(10) == 0, "second daemon stops cleanly")

    run_stacked(tap, env, py, bob, a)


GSCHEMA = """<schemalist>
  <schema id="org.gnome.desktop.notifications"
          path="/org/gnome/desktop/notifications/">
    <key name="show-banners" type="b"><default>true</default></key>
  </schema>
</schemalist>
"""


def gsettings_env(env, denv):
    """A schema of our own and the keyfile backend: no dconf, no user's."""
    d = os.path.join(env.tmp, "schemas")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "notifications.gschema.xml"), "w") as f:
        f.write(GSCHEMA)
    subprocess.run(["glib-compile-schemas", d], check=True, timeout=30)
    denv["GSETTINGS_SCHEMA_DIR"] = d
    denv["GSETTINGS_BACKEND"] = "keyfile"
    return denv


def gsettings_set(denv, value):
    subprocess.run(["gsettings", "set", "org.gnome.desktop.notifications",
                    "show-banners", value], env=denv, check=True,
                   timeout=20, stdin=subprocess.DEVNULL)


def run_stacked(tap, env, py, bob, account):
    """Issue #15: idle, DND and more lockers, stacked (see the top)."""
    session = env.start_bus()  # a clean bus: presencectl uses it now
    desk = Desktop(env, py, session, None)
    call = desk.call

    def cause():
        return env.get_property("PresenceCause")

    def wait_cause(want, timeout=10):
        harness.wait_for(lambda: cause() == want, timeout)
        return cause()

    def mutter(method, *args):
        return call(session, MUTTER, MUTTER_PATH, TESTI + method, *args)

    # Found locked: MATE's locker has been active for 120 s.
    desk.start("mate", "screensaver", MATE, "/org/mate/ScreenSaver",
               "--active", "--active-since", "120")
    mut = desk.start("mutter", "mutter")
    kde = desk.start("kde", "notifications", "kde")
    desk.start("xfconf", "xfconf")

    conf = env.write_config("alice3", account, {
        "show": "available", "status": "hi", "away-after": "5",
        "xa-after": "15", "dnd-follows-desktop": "true"})
    denv = gsettings_env(env, env.daemon_env())
    denv["DBUS_SYSTEM_BUS_ADDRESS"] = "unix:path=" + \
        os.path.join(env.tmp, "no-such-bus")
    start = bob.mark()
    t0 = int(time.time())
    d = env.start_daemon("alice3", conf, env=denv)
    if not tap.ok(env.wait_state("online", 30, daemon=d) == "online",
                  "#15: daemon online", env.fail_with_log(d)):
        return
    tap.ok(wait_own(env, ("away", "hi")) == ("away", "hi") and
           wait_cause("lock") == "lock",
           "started under a MATE lock: away/hi, PresenceCause lock",
           "%r %r" % (own(env), cause()))
    caps_settled(d)
    r = env.ctl("status")
    tap.ok(r.returncode == 0 and "State: online" in r.stdout and
           "Set by: lock" in r.stdout and "Presence: away, \"hi\"" in
           r.stdout and "Server: localhost" in r.stdout,
           "presencectl status says away, set by the lock", r.stdout)
    ev = from_alice(bob, start, lambda e: e.show == "away")
    ts = idle_stamp(ev)
    tap.ok(ts is not None and abs(ts - (t0 - 120)) <= 3,
           "the idle stamp is the locker's GetActiveTime, not our start",
           "%r vs %r" % (ts, t0 - 120))
    watches = mutter("Watches")[0]
    tap.ok(sorted(w[1] for w in watches) == [300000, 900000],
           "two IdleMonitor watches: away-after and xa-after",
           repr(watches))

    desk.saver(MATE, False)
    tap.ok(wait_own(env, ("available", "hi")) == ("available", "hi") and
           wait_cause("user") == "user", "MATE unlock: available/hi, user")

    desk.start("cinnamon", "screensaver", CINNAMON,
               "/org/cinnamon/ScreenSaver")
    desk.saver(CINNAMON, True)
    tap.ok(wait_own(env, ("away", "hi")) == ("away", "hi") and
           wait_cause("lock") == "lock", "Cinnamon locks: away, lock")
    desk.saver(CINNAMON, False)
    tap.ok(wait_own(env, ("available", "hi")) == ("available", "hi"),
           "Cinnamon unlocks: available/hi")

    # Idle away from Mutter, then a lock: still away, nothing resent.
    start = bob.mark()
    t1 = int(time.time())
    mutter("SetIdletime", 300000)
    tap.ok(wait_own(env, ("away", "hi")) == ("away", "hi") and
           wait_cause("idle") == "idle", "idle 5 min: away, cause idle")
    ev = from_alice(bob, start, lambda e: e.show == "away")
    ts = idle_stamp(ev)
    tap.ok(ts is not None and abs(ts - (t1 - 300)) <= 3,
           "idle away carries idle since the start of inactivity",
           "%r vs %r" % (ts, t1 - 300))
    start = bob.mark()
    desk.saver(MATE, True)
    tap.ok(wait_cause("lock") == "lock" and own(env) == ("away", "hi"),
           "a lock while idle away: away, cause lock")
    tap.ok(not quiet(bob, start, 0.7), "… and no presence resent")

    # xa wins over the lock; DND over all.
    mutter("SetIdletime", 900000)
    tap.ok(wait_own(env, ("xa", "hi")) == ("xa", "hi") and
           wait_cause("idle") == "idle", "idle 15 min: xa over the lock")
    start = bob.mark()
    call(session, NOTIF, NOTIF_PATH, TESTI + "SetDnd", "true")
    tap.ok(wait_own(env, ("dnd", "hi")) == ("dnd", "hi") and
           wait_cause("dnd") == "dnd", "KDE Inhibited: dnd over idle xa")
    ev = from_alice(bob, start, lambda e: e.show == "dnd")
    tap.ok(ev and ev.status == "hi", "bob sees dnd/hi", repr(ev))

    # A SetPresence under every cause wins and is kept when they end.
    r = env.ctl("set", "available", "manual")
    tap.ok(r.returncode == 0 and own(env) == ("available", "manual") and
           wait_cause("user") == "user", "SetPresence under dnd, idle and "
           "lock: available/manual, cause user", r.stderr)
    start = bob.mark()
    call(session, NOTIF, NOTIF_PATH, TESTI + "SetDnd", "false")
    mutter("SetIdletime", 0)
    desk.saver(MATE, False)
    extra = quiet(bob, start, 1.0)
    tap.ok(own(env) == ("available", "manual") and cause() == "user" and
           not extra, "every cause ends: the manual presence stays, "
           "nothing sent", "%r %r" % (own(env), extra))
    tap.ok(not [w for w in mutter("Watches")[0] if w[1] == 0],
           "the user-active watch fired and is gone")

    # Each DND source alone.
    call(session, NOTIF, NOTIF_PATH, TESTI + "Invalidate", "true")
    tap.ok(wait_own(env, ("dnd", "manual")) == ("dnd", "manual"),
           "KDE Inhibited invalidated, then read: dnd")
    call(session, NOTIF, NOTIF_PATH, TESTI + "SetDnd", "false")
    tap.ok(wait_own(env, ("available", "manual")) ==
           ("available", "manual"), "KDE Inhibited false: back")
    kde.stop()
    desk.start("dunst", "notifications", "dunst", "--dnd")
    tap.ok(wait_own(env, ("dnd", "manual")) == ("dnd", "manual") and
           wait_cause("dnd") == "dnd", "dunst started paused: dnd")
    call(session, NOTIF, NOTIF_PATH, TESTI + "SetDnd", "false")
    tap.ok(wait_own(env, ("available", "manual")) ==
           ("available", "manual"), "dunst resumed: back")
    call(session, XFCONF, "/org/xfce/Xfconf", TESTI + "SetDnd", "true")
    tap.ok(wait_own(env, ("dnd", "manual")) == ("dnd", "manual"),
           "xfconf /do-not-disturb true: dnd")
    call(session, XFCONF, "/org/xfce/Xfconf", TESTI + "Remove")
    tap.ok(wait_own(env, ("available", "manual")) ==
           ("available", "manual"), "xfconf property removed: back")
    gsettings_set(denv, "false")
    tap.ok(wait_own(env, ("dnd", "manual")) == ("dnd", "manual"),
           "GSettings show-banners false: dnd")
    gsettings_set(denv, "true")
    tap.ok(wait_own(env, ("available", "manual")) ==
           ("available", "manual"), "GSettings show-banners true: back")

    # Watches, not polls: nothing asks Mutter anything while nothing
    # happens (the daemon's own wake-ups are the benchmark's to count).
    n = mutter("Calls")[0]
    cs0 = ctxt_switches(d.pid)
    time.sleep(3.0)
    cs1 = ctxt_switches(d.pid)
    tap.ok(mutter("Calls")[0] == n, "no calls to Mutter while quiet")
    # Every desktop source is there (MATE, Cinnamon, Mutter, dunst later,
    # KDE, xfconf, GSettings): watched, so the daemon sleeps.
    tap.ok(cs0 is not None and cs1 - cs0 <= 2,
           "idle with every watched source: no wake-ups in 3 s",
           "%r -> %r context switches" % (cs0, cs1))

    # A reload with new thresholds replaces the watches.
    import signal
    env.write_config("alice3", account, {
        "show": "available", "status": "hi", "away-after": "2",
        "xa-after": "0"}, path=conf)
    d.proc.signal(signal.SIGHUP)
    harness.wait_for(lambda: sorted(w[1] for w in mutter("Watches")[0]) ==
                     [120000], 10)
    watches = mutter("Watches")[0]
    tap.ok(sorted(w[1] for w in watches) == [120000],
           "SIGHUP with away-after 2, xa-after 0: one 2-minute watch",
           repr(watches))

    # Without Mutter: GetSessionIdleTime of org.freedesktop.ScreenSaver,
    # polled at once (6 min idle: away), then not again within 30 s.
    mut.stop()
    fdo = desk.start("fdo", "screensaver", FDO,
                     "/org/freedesktop/ScreenSaver", "--idle-ms", "360000")

    def polls():
        return call(session, FDO, "/org/freedesktop/ScreenSaver",
                    TESTI + "Polls")[0]
    tap.ok(wait_own(env, ("away", "manual")) == ("away", "manual") and
           wait_cause("idle") == "idle",
           "polled GetSessionIdleTime 6 min: away, cause idle")
    time.sleep(1.5)
    tap.ok(polls() == 1, "polled once, not again within 30 s",
           "%d polls" % polls())
    r = env.ctl("set", "offline")
    env.wait_state("offline", 10, daemon=d)
    tap.ok(polls() == 1, "offline: no poll")
    env.ctl("set", "available", "back")
    st = env.wait_state("online", 30, daemon=d)
    time.sleep(0.5)
    tap.ok(st == "online" and polls() == 1,
           "online again within 30 s of the last poll: not polled yet",
           "%r, %d polls" % (st, polls()))
    fdo.stop()
    tap.ok(d.stop(10) == 0, "#15 daemon stops cleanly")


if __name__ == "__main__":
    sys.exit(harness.run_test("desktop", run, budget=180))
