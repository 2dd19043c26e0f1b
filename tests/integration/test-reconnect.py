#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Losing the server, against a real Prosody: a server shutdown (stream error
system-shutdown) and a crash (connection dropped) both end in
State reconnecting with the right StateReason, the daemon comes back online
by itself when the server returns, with the presence set while it was away;
SetPresence offline closes the session until another show is set.
"""

import os
import sys
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost/re"


def wait_prop(env, name, pred, timeout):
    last = [None]

    def check():
        last[0] = env.get_property(name, timeout=2)
        return pred(last[0])
    harness.wait_for(check, timeout, 0.05)
    return last[0]


def run(tap, env):
    pw = env.setup_server(("alice", "bob"))
    pr = env.prosody
    env.start_bus()
    d = env.start_alice(resource="re", presence={"show": "chat",
                                                  "status": "first"})
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "daemon online", env.fail_with_log(d)):
        return

    # ---- server shutdown: <system-shutdown/> --------------------------
    # The reason is caught from PropertiesChanged: the failed reconnect
    # attempts that follow replace it with "network".
    mon = env.monitor()
    harness.wait_for(lambda: any("is owned by" in x for x in mon.snapshot()),
                     5)
    # The server has answered the session's first requests (the PEP
    # disco#info comes last): it is idle when told to stop.
    harness.wait_for(lambda: "xmpp session: PEP" in d.read_log(), 10)
    mark = len(d.read_log())
    pr.stop()
    line = mon.wait_line(lambda x: "PropertiesChanged" in x and
                         "'StateReason': <'" in x, 15)
    reason = None
    if line:
        props = harness.parse_gvariant(line[line.index(" ("):])[1]
        reason = props.get("StateReason")
    wire = d.read_log()[mark:]
    got_error = ("RECV: <error xmlns='http://etherx.jabber.org/streams'>"
                 "<system-shutdown" in wire)
    got_close = "RECV: </stream:stream>" in wire
    diag = "first StateReason change: %r; wire: %s" % (
        line, "system-shutdown" if got_error else
        "</stream:stream>" if got_close else "the link dropped")
    quirks = pr.QUIRKS
    if "shutdown-drops-resumable" in quirks:
        # Prosody 13's mod_smacks drops resumable sessions' links.
        tap.ok(reason == "network" and not got_error and not got_close,
               "server shutdown: the link drops (%s keeps the XEP-0198 "
               "session), StateReason network" % pr.NAME, diag)
    elif "shutdown-closes-stream" in quirks:
        # jabberd2: a clean close, no stream error.
        tap.ok(reason == "network" and got_close and not got_error,
               "server shutdown: </stream:stream> without a stream error "
               "(%s), StateReason network" % pr.NAME, diag)
    elif "shutdown-error-racy" in quirks:
        # ejabberd: the error only if its c2s wrote it before the VM
        # stopped; presenced must report what it got.
        tap.diag("%s sent %s" % (pr.NAME, "system-shutdown" if got_error
                                 else "no stream error"))
        tap.ok(reason == ("server-error" if got_error else "network"),
               "server shutdown: StateReason server-error on "
               "system-shutdown, network on a bare drop (%s)" % pr.NAME,
               diag)
    else:
        tap.ok(reason == "server-error" and got_error,
               "server shutdown: StateReason server-error (system-shutdown)",
               diag)
    state = wait_prop(env, "State", lambda v: v in ("reconnecting",
                                                    "connecting"), 5)
    tap.ok(state in ("reconnecting", "connecting"),
           "server shutdown: State reconnecting", "State=%r" % state)
    msg = env.get_property("StateMessage") or ""
    tap.ok("localhost" in msg, "StateMessage says what happened", repr(msg))
    tap.ok(env.get_property("RosterReady") is False,
           "RosterReady false while not online")

    # Presence set while disconnected is kept and sent once back.
    r = env.ctl("set", "dnd", "set while away", "--priority", "2")
    tap.ok(r.returncode == 0, "SetPresence while disconnected succeeds",
           r.stderr)

    t0 = time.monotonic()
    pr.start(same_ports=True)
    state = env.wait_state("online", 60, daemon=d)
    tap.ok(state == "online", "server back: online again by itself",
           env.fail_with_log(d))
    tap.diag("server up -> State online: %.0f ms" %
             ((time.monotonic() - t0) * 1000))
    tap.ok(env.get_property("StateReason") == "",
           "StateReason empty once a new session is up",
           repr(env.get_property("StateReason")))
    bob = env.peer("bob", pw["bob"]).start()
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.type == "available", 10)
    tap.ok(ev and (ev.show, ev.status, ev.priority) ==
           ("dnd", "set while away", 2),
           "the presence set while away is what the peer sees", repr(ev))
    bob.stop()

    # ---- crash: the connection just drops ------------------------------
    pr.crash()
    reason = wait_prop(env, "StateReason", lambda v: v == "network", 15)
    tap.ok(reason == "network", "server crash: StateReason network",
           env.fail_with_log(d))
    tap.ok(d.alive(), "daemon alive while the server is gone")
    pr.start(same_ports=True)
    state = env.wait_state("online", 60, daemon=d)
    tap.ok(state == "online", "server back after a crash: online again",
           env.fail_with_log(d))

    # ---- SetPresence offline: closed until another show ----------------
    bob = env.peer("bob", pw["bob"], resource="peer2").start()
    m = bob.mark()
    r = env.ctl("set", "offline")
    tap.ok(r.returncode == 0, "presencectl set offline", r.stderr)
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.type == "unavailable", 10, m)
    tap.ok(ev, "set offline: peer sees unavailable")
    state = wait_prop(env, "State", lambda v: v == "offline", 10)
    tap.ok(state == "offline" and
           env.get_property("StateReason") == "requested",
           "set offline: State offline, StateReason requested",
           env.fail_with_log(d))
    # It stays offline: a later probe of the state finds it still so
    # after the first reconnect back-off would have fired.
    still = not harness.wait_for(
        lambda: env.get_property("State") != "offline", 3, 0.1)
    tap.ok(still, "set offline: no reconnect by itself")
    m = bob.mark()
    r = env.ctl("set", "available", "again")
    state = env.wait_state("online", 30, daemon=d)
    tap.ok(state == "online", "set available after offline: online again",
           env.fail_with_log(d))
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.type == "available", 10, m)
    tap.ok(ev and ev.status == "again", "peer sees the new presence",
           repr(ev))
    tap.ok(d.alive(), "daemon still running")


if __name__ == "__main__":
    sys.exit(harness.run_test("reconnect", run, budget=200))
