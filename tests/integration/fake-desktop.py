#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Small fake desktop services for the desktop-integration tests, on a bus
given by address (python3-dbus with the GLib main loop of python3-gi):

  fake-desktop.py screensaver ADDRESS NAME PATH [PATH...] [--active]
      owns NAME (org.freedesktop.ScreenSaver or org.gnome.ScreenSaver) and
      serves interface NAME on each PATH: GetActive() -> b,
      SetActive(b) -> b (emits ActiveChanged(b) on every PATH when the
      state changes). Test control, interface im.presenced.Test on the
      first PATH: Emit(b) sends ActiveChanged(b) without any change of
      state (a repeated signal).

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

    return Saver


def run_screensaver(args):
    active = "--active" in args
    args = [a for a in args if a != "--active"]
    address, name, paths = args[0], args[1], args[2:]
    bus = connect(address)
    cls = make_saver_class(name)
    shared = {"active": active, "objects": []}
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
    else:
        sys.stderr.write(__doc__)
        return 2
    print("READY", flush=True)
    loop.run()
    del keep
    return 0


if __name__ == "__main__":
    sys.exit(main())
