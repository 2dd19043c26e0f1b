#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Small fake desktop services for the desktop-integration tests, on a bus
given by address (python3-dbus with the GLib main loop of python3-gi):

  fake-desktop.py screensaver ADDRESS NAME PATH [PATH...] [--active]
                  [--active-since SECONDS] [--idle-ms N]
      owns NAME (org.freedesktop, org.gnome, org.mate or org.cinnamon
      .ScreenSaver) and
      serves interface NAME on each PATH: GetActive() -> b,
      SetActive(b) -> b (emits ActiveChanged(b) on every PATH when the
      state changes). Test control, interface im.presenced.Test on the
      first PATH: Emit(b) sends ActiveChanged(b) without any change of
      state (a repeated signal).

      Also GetActiveTime() -> u (seconds since it became active, 0 when
      not; --active-since: active since that long before the start) and, with --idle-ms N, GetSessionIdleTime() -> u (N, in ms;
      Test.SetIdle(u) changes it, Test.Polls() -> u counts the calls).

  fake-desktop.py mutter ADDRESS [--idle-ms N]
      owns org.gnome.Mutter.IdleMonitor, /org/gnome/Mutter/IdleMonitor/Core:
      GetIdletime() -> t, AddIdleWatch(t) -> u, AddUserActiveWatch() -> u,
      RemoveWatch(u), signal WatchFired(u). Test control on the same path:
      SetIdletime(t) (fires the idle watches it crosses upward; 0 fires
      and removes the user-active watches), Watches() -> a(ut) (id,
      interval; 0 for a user-active watch), Calls() -> u (method calls).

  fake-desktop.py notifications ADDRESS kde|dunst [--dnd]
      owns org.freedesktop.Notifications with, on
      /org/freedesktop/Notifications, the property Inhibited of
      org.freedesktop.Notifications (kde) or paused of
      org.dunstproject.cmd0 (dunst); Test.SetDnd(b) changes it
      (PropertiesChanged), Test.Invalidate() sends it as invalidated.

  fake-desktop.py xfconf ADDRESS [--dnd]
      owns org.xfce.Xfconf, /org/xfce/Xfconf: GetProperty(ss) -> v for
      xfce4-notifyd /do-not-disturb (an error while never set), signals
      PropertyChanged(ssv) and PropertyRemoved(ss); Test.SetDnd(b),
      Test.Remove().

  fake-desktop.py logind ADDRESS [--session-by-pid] [--locked]
      owns org.freedesktop.login1: Manager.GetSessionByPID (fails with
      NoSessionForPID unless --session-by-pid), GetUser, Inhibit (a pipe:
      the write end goes to the caller; the read end tells when it is
      closed), signal PrepareForSleep; one session c1 with the LockedHint
      property; user _UID with Display = (c1, path). Test control,
      im.presenced.Test on /org/freedesktop/login1: SetLockedHint(b)
      (PropertiesChanged), Sleep(b) (PrepareForSleep(b)), Inhibitors() ->
      a(ssssbd): what, who, why, mode, held, monotonic time of release.

Prints "READY" once the name is owned; runs until SIGTERM.
"""

import os
import signal
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

TEST = "im.presenced.Test"
LOGIN1 = "org.freedesktop.login1"
LOGIN1_PATH = "/org/freedesktop/login1"
SESSION_PATH = LOGIN1_PATH + "/session/c1"
PROPS = "org.freedesktop.DBus.Properties"


def connect(address):
    bus = dbus.bus.BusConnection(address, mainloop=DBusGMainLoop())
    return bus


# ------------------------------------------------------------ screensaver --

def make_saver_class(iface):
    class Saver(dbus.service.Object):
        def __init__(self, bus, path, shared):
            super().__init__(bus, path)
            self.shared = shared

        @dbus.service.method(iface, in_signature="", out_signature="b")
        def GetActive(self):
            return self.shared["active"]

        @dbus.service.method(iface, in_signature="b", out_signature="b")
        def SetActive(self, active):
            active = bool(active)
            if active != self.shared["active"]:
                self.shared["active"] = active
                self.shared["since"] = time.time()
                for o in self.shared["objects"]:
                    o.ActiveChanged(active)
            return True

        @dbus.service.signal(iface, signature="b")
        def ActiveChanged(self, active):
            pass

        @dbus.service.method(TEST, in_signature="b", out_signature="")
        def Emit(self, active):
            for o in self.shared["objects"]:
                o.ActiveChanged(bool(active))

        @dbus.service.method(iface, in_signature="", out_signature="u")
        def GetActiveTime(self):
            if not self.shared["active"]:
                return dbus.UInt32(0)
            return dbus.UInt32(int(time.time() - self.shared["since"]))

        @dbus.service.method(iface, in_signature="", out_signature="u")
        def GetSessionIdleTime(self):
            if self.shared["idle_ms"] is None:
                raise dbus.exceptions.DBusException(
                    "not supported",
                    name="org.freedesktop.DBus.Error.NotSupported")
            self.shared["polls"] += 1
            return dbus.UInt32(self.shared["idle_ms"])

        @dbus.service.method(TEST, in_signature="u", out_signature="")
        def SetIdle(self, ms):
            self.shared["idle_ms"] = int(ms)

        @dbus.service.method(TEST, in_signature="", out_signature="u")
        def Polls(self):
            return dbus.UInt32(self.shared["polls"])

    return Saver


def take_option(args, name):
    """Removes --name VALUE from args; returns VALUE or None."""
    if name not in args:
        return None
    i = args.index(name)
    value = args[i + 1]
    del args[i:i + 2]
    return value


def run_screensaver(args):
    active = "--active" in args
    args = [a for a in args if a != "--active"]
    idle = take_option(args, "--idle-ms")
    since = take_option(args, "--active-since")
    address, name, paths = args[0], args[1], args[2:]
    bus = connect(address)
    cls = make_saver_class(name)
    shared = {"active": active, "objects": [],
              "since": time.time() - float(since or 0),
              "idle_ms": None if idle is None else int(idle), "polls": 0}
    for p in paths:
        shared["objects"].append(cls(bus, p, shared))
    keep = dbus.service.BusName(name, bus, do_not_queue=True)
    return bus, keep


# ----------------------------------------------------------------- logind --

class Manager(dbus.service.Object):
    def __init__(self, bus, state):
        super().__init__(bus, LOGIN1_PATH)
        self.state = state

    @dbus.service.method(LOGIN1 + ".Manager", in_signature="u",
                         out_signature="o")
    def GetSessionByPID(self, pid):
        if not self.state["session_by_pid"]:
            raise dbus.exceptions.DBusException(
                "PID %d does not belong to any known session" % pid,
                name=LOGIN1 + ".NoSessionForPID")
        return dbus.ObjectPath(SESSION_PATH)

    @dbus.service.method(LOGIN1 + ".Manager", in_signature="u",
                         out_signature="o")
    def GetUser(self, uid):
        self.state["uid_asked"] = int(uid)
        return dbus.ObjectPath(LOGIN1_PATH + "/user/_%d" % uid)

    @dbus.service.method(LOGIN1 + ".Manager", in_signature="ssss",
                         out_signature="h")
    def Inhibit(self, what, who, why, mode):
        r, w = os.pipe()
        rec = {"what": str(what), "who": str(who), "why": str(why),
               "mode": str(mode), "held": True, "released": 0.0}
        self.state["inhibitors"].append(rec)

        def on_hup(fd, cond):
            rec["held"] = False
            rec["released"] = time.monotonic()
            os.close(fd)
            return False
        GLib.io_add_watch(r, GLib.PRIORITY_DEFAULT,
                          GLib.IO_HUP | GLib.IO_ERR, on_hup)
        fd = dbus.types.UnixFd(w)  # a duplicate
        os.close(w)
        return fd

    @dbus.service.signal(LOGIN1 + ".Manager", signature="b")
    def PrepareForSleep(self, start):
        pass

    @dbus.service.method(TEST, in_signature="b", out_signature="")
    def SetLockedHint(self, locked):
        self.state["session"].set_locked(bool(locked))

    @dbus.service.method(TEST, in_signature="b", out_signature="")
    def Sleep(self, start):
        self.PrepareForSleep(bool(start))

    @dbus.service.method(TEST, in_signature="", out_signature="a(ssssbd)")
    def Inhibitors(self):
        return [(i["what"], i["who"], i["why"], i["mode"], i["held"],
                 i["released"]) for i in self.state["inhibitors"]]


class Session(dbus.service.Object):
    def __init__(self, bus, locked):
        super().__init__(bus, SESSION_PATH)
        self.locked = locked

    def props(self):
        return {"LockedHint": dbus.Boolean(self.locked),
                "Id": "c1", "Active": dbus.Boolean(True)}

    def set_locked(self, locked):
        self.locked = locked
        self.PropertiesChanged(LOGIN1 + ".Session",
                               {"LockedHint": dbus.Boolean(locked)}, [])

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != LOGIN1 + ".Session" or prop not in self.props():
            raise dbus.exceptions.DBusException(
                "no property %s.%s" % (iface, prop),
                name="org.freedesktop.DBus.Error.UnknownProperty")
        return self.props()[prop]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props() if iface == LOGIN1 + ".Session" else {}

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass


class User(dbus.service.Object):
    def __init__(self, bus, uid):
        super().__init__(bus, LOGIN1_PATH + "/user/_%d" % uid)

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface == LOGIN1 + ".User" and prop == "Display":
            return dbus.Struct(("c1", dbus.ObjectPath(SESSION_PATH)),
                               signature="so")
        raise dbus.exceptions.DBusException(
            "no property %s.%s" % (iface, prop),
            name="org.freedesktop.DBus.Error.UnknownProperty")


def run_logind(args):
    address = args[0]
    bus = connect(address)
    state = {"session_by_pid": "--session-by-pid" in args,
             "inhibitors": [], "uid_asked": None}
    state["session"] = Session(bus, "--locked" in args)
    keep = [Manager(bus, state), state["session"], User(bus, os.getuid())]
    keep.append(dbus.service.BusName(LOGIN1, bus, do_not_queue=True))
    return bus, keep


# ----------------------------------------------------------------- mutter --

MUTTER = "org.gnome.Mutter.IdleMonitor"
MUTTER_PATH = "/org/gnome/Mutter/IdleMonitor/Core"


class IdleMonitor(dbus.service.Object):
    def __init__(self, bus, idle_ms):
        super().__init__(bus, MUTTER_PATH)
        self.idle = idle_ms
        self.watches = {}  # id -> interval ms; 0: user-active
        self.next_id = 1
        self.calls = 0

    def _add(self, interval):
        self.calls += 1
        wid = self.next_id
        self.next_id += 1
        self.watches[wid] = interval
        return dbus.UInt32(wid)

    @dbus.service.method(MUTTER, in_signature="", out_signature="t")
    def GetIdletime(self):
        self.calls += 1
        return dbus.UInt64(self.idle)

    @dbus.service.method(MUTTER, in_signature="t", out_signature="u")
    def AddIdleWatch(self, interval):
        return self._add(int(interval))

    @dbus.service.method(MUTTER, in_signature="", out_signature="u")
    def AddUserActiveWatch(self):
        return self._add(0)

    @dbus.service.method(MUTTER, in_signature="u", out_signature="")
    def RemoveWatch(self, wid):
        self.calls += 1
        self.watches.pop(int(wid), None)

    @dbus.service.signal(MUTTER, signature="u")
    def WatchFired(self, wid):
        pass

    @dbus.service.method(TEST, in_signature="t", out_signature="")
    def SetIdletime(self, ms):
        old, self.idle = self.idle, int(ms)
        for wid, interval in sorted(self.watches.items()):
            if interval and old < interval <= self.idle:
                self.WatchFired(dbus.UInt32(wid))
        if self.idle < old:
            for wid in [w for w, i in self.watches.items() if i == 0]:
                del self.watches[wid]
                self.WatchFired(dbus.UInt32(wid))

    @dbus.service.method(TEST, in_signature="", out_signature="a(ut)")
    def Watches(self):
        return [(dbus.UInt32(w), dbus.UInt64(i))
                for w, i in sorted(self.watches.items())]

    @dbus.service.method(TEST, in_signature="", out_signature="u")
    def Calls(self):
        return dbus.UInt32(self.calls)


def run_mutter(args):
    idle = take_option(args, "--idle-ms")
    bus = connect(args[0])
    keep = [IdleMonitor(bus, int(idle or 0))]
    keep.append(dbus.service.BusName(MUTTER, bus, do_not_queue=True))
    return bus, keep


# ---------------------------------------------------------- notifications --

NOTIF = "org.freedesktop.Notifications"
NOTIF_PATH = "/org/freedesktop/Notifications"


class Notifications(dbus.service.Object):
    def __init__(self, bus, kind, dnd):
        super().__init__(bus, NOTIF_PATH)
        self.iface, self.prop = ((NOTIF, "Inhibited") if kind == "kde"
                                 else ("org.dunstproject.cmd0", "paused"))
        self.dnd = dnd

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, prop):
        if iface != self.iface or prop != self.prop:
            raise dbus.exceptions.DBusException(
                "no property %s.%s" % (iface, prop),
                name="org.freedesktop.DBus.Error.UnknownProperty")
        return dbus.Boolean(self.dnd)

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {self.prop: dbus.Boolean(self.dnd)} \
            if iface == self.iface else {}

    @dbus.service.signal(PROPS, signature="sa{sv}as")
    def PropertiesChanged(self, iface, changed, invalidated):
        pass

    @dbus.service.method(TEST, in_signature="b", out_signature="")
    def SetDnd(self, dnd):
        self.dnd = bool(dnd)
        self.PropertiesChanged(self.iface,
                               {self.prop: dbus.Boolean(self.dnd)},
                               dbus.Array([], signature="s"))

    @dbus.service.method(TEST, in_signature="b", out_signature="")
    def Invalidate(self, dnd):
        self.dnd = bool(dnd)
        self.PropertiesChanged(self.iface,
                               dbus.Dictionary({}, signature="sv"),
                               [self.prop])


def run_notifications(args):
    bus = connect(args[0])
    keep = [Notifications(bus, args[1], "--dnd" in args)]
    keep.append(dbus.service.BusName(NOTIF, bus, do_not_queue=True))
    return bus, keep


# ----------------------------------------------------------------- xfconf --

XFCONF = "org.xfce.Xfconf"
XFCONF_PATH = "/org/xfce/Xfconf"
XFCE_CHANNEL = "xfce4-notifyd"
XFCE_PROP = "/do-not-disturb"


class Xfconf(dbus.service.Object):
    def __init__(self, bus, dnd):
        super().__init__(bus, XFCONF_PATH)
        self.dnd = dnd  # None: never set

    @dbus.service.method(XFCONF, in_signature="ss", out_signature="v")
    def GetProperty(self, channel, prop):
        if channel != XFCE_CHANNEL or prop != XFCE_PROP or self.dnd is None:
            raise dbus.exceptions.DBusException(
                "Property \"%s\" does not exist on channel \"%s\"" %
                (prop, channel), name="org.xfce.Xfconf.Error.InvalidProperty")
        return dbus.Boolean(self.dnd)

    @dbus.service.signal(XFCONF, signature="ssv")
    def PropertyChanged(self, channel, prop, value):
        pass

    @dbus.service.signal(XFCONF, signature="ss")
    def PropertyRemoved(self, channel, prop):
        pass

    @dbus.service.method(TEST, in_signature="b", out_signature="")
    def SetDnd(self, dnd):
        self.dnd = bool(dnd)
        # Another channel's change first: it must change nothing.
        self.PropertyChanged("xfce4-panel", XFCE_PROP, dbus.Boolean(True))
        self.PropertyChanged(XFCE_CHANNEL, XFCE_PROP, dbus.Boolean(self.dnd))

    @dbus.service.method(TEST, in_signature="", out_signature="")
    def Remove(self):
        self.dnd = None
        self.PropertyRemoved(XFCE_CHANNEL, XFCE_PROP)


def run_xfconf(args):
    bus = connect(args[0])
    keep = [Xfconf(bus, True if "--dnd" in args else None)]
    keep.append(dbus.service.BusName(XFCONF, bus, do_not_queue=True))
    return bus, keep


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    if sys.argv[1] == "screensaver":
        keep = run_screensaver(sys.argv[2:])
    elif sys.argv[1] == "logind":
        keep = run_logind(sys.argv[2:])
    elif sys.argv[1] == "mutter":
        keep = run_mutter(sys.argv[2:])
    elif sys.argv[1] == "notifications":
        keep = run_notifications(sys.argv[2:])
    elif sys.argv[1] == "xfconf":
        keep = run_xfconf(sys.argv[2:])
    else:
        sys.stderr.write(__doc__)
        return 2
    print("READY", flush=True)
    loop.run()
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
