#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #3 against a real Prosody: the peer's presence changes land in the
daemon's table (presencectl list/contact, GetContact with resources, one
PresenceChanged per change), and SetPresence reaches the peer; directed
presence (--to) reaches only that JID.

The daemon runs without --debug, as users run it: contacts' presence then
takes the reader's presence path (a record filled from the SAX events,
issue #13), not the tree the wire log needs, which the other scripts
(all with --debug) cover.
"""

import os
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BOB = "bob@localhost"
CAROL = "carol@localhost"


def contact(env, jid):
    ok, v = env.gdbus_call("GetContact", jid)
    if not ok:
        return None
    show, status, res = v
    return show, status, sorted(tuple(r) for r in res)


def list_lines(env):
    r = env.ctl("list")
    return r.stdout.splitlines() if r.returncode == 0 else []


def bob_signals(mon, start=0):
    """PresenceChanged lines about bob from gdbus monitor, parsed."""
    out = []
    for line in mon.snapshot()[start:]:
        if ".PresenceChanged (" not in line:
            continue
        try:
            args = harness.parse_gvariant(line[line.index(" ("):])
        except ValueError:
            continue
        if args[0] == BOB:
            out.append(tuple(args))
    return out


def run(tap, env):
    pw = env.setup_server(("alice", "bob", "carol"))
    env.start_bus()
    bob = env.peer("bob", pw["bob"], resource="peer").start()
    carol = env.peer("carol", pw["carol"], resource="c").start()
    mon = env.monitor()
    d = env.start_alice(resource="it", presence={"show": "available",
                                                  "priority": 1},
                        debug=False)
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "daemon online",
                  env.fail_with_log(d)):
        return

    # The peer's initial presence (sent before we logged in) reaches us
    # through the server's probe (RFC 6121 4.3).
    c = harness.wait_for(lambda: (contact(env, BOB) or ("",))[0] ==
                         "available" and contact(env, BOB), 10)
    tap.ok(c and c[2] == [("peer", "available", "", 0)],
           "GetContact: bob available with resource peer", repr(c))
    tap.ok(harness.wait_for(lambda: BOB + "\tavailable\t" in
                            list_lines(env), 5),
           "presencectl list shows bob available", repr(list_lines(env)))

    watch = env.watch()
    # presencectl watch and gdbus monitor subscribe asynchronously; carol
    # changes her status until both have printed it, so every change of
    # bob's below is one they are listening for.
    n = [0]

    def warm():
        n[0] += 1
        carol.set_presence("away", "warm-up %d" % n[0], 0)
        return (watch.wait_line(lambda x: x.startswith(CAROL + "\taway"),
                                0.3) and
                any("warm-up" in x for x in mon.snapshot()))
    tap.ok(harness.wait_for(warm, 15, 0),
           "presencectl watch and gdbus monitor are listening",
           "watch %r" % watch.snapshot())
    mark_mon = len(mon.snapshot())
    steps = []

    def expect(show, status):
        steps.append((BOB, show, status))
        line = "%s\t%s\t%s" % (BOB, show, status)
        got = watch.wait_line(lambda x: x == line, 10)
        tap.ok(got is not None, "presencectl watch prints %r" % line,
               "watch lines: %r" % watch.snapshot())

    bob.set_presence("away", "out to lunch", 3)
    expect("away", "out to lunch")
    c = contact(env, BOB)
    tap.ok(c == ("away", "out to lunch",
                 [("peer", "away", "out to lunch", 3)]),
           "GetContact: show, status and the resource's priority", repr(c))

    # A second, less available resource changes the resources but not
    # the aggregate: no signal.
    phone = env.peer("bob", pw["bob"], resource="phone",
                     initial=("xa", "phone idle", 0)).start()
    c = harness.wait_for(lambda: (lambda x: x and len(x[2]) == 2 and x)(
        contact(env, BOB)), 10)
    tap.ok(c == ("away", "out to lunch",
                 [("peer", "away", "out to lunch", 3),
                  ("phone", "xa", "phone idle", 0)]),
           "GetContact lists both resources; aggregate stays away (away > xa)",
           repr(c))
    r = env.ctl("contact", BOB)
    out = r.stdout
    tap.ok(r.returncode == 0 and "phone" in out and "phone idle" in out and
           "out to lunch" in out and out.splitlines()[0].count("away"),
           "presencectl contact shows the contact and its resources",
           "rc=%d out=%r err=%r" % (r.returncode, out, r.stderr))

    bob.set_presence("chat", "free", 5)
    expect("chat", "free")
    # The same presence again changes nothing: no signal. The next change
    # (from the same connection, so in order) proves it was processed.
    bob.set_presence("chat", "free", 5)
    bob.set_presence("chat", "free", 5)
    bob.set_presence("offline", "gone home", None)
    expect("xa", "phone idle")
    phone.set_presence("offline", "bye", None)
    expect("offline", "bye")
    c = contact(env, BOB)
    tap.ok(c == ("offline", "bye", []),
           "no resource left: offline with the last unavailable status",
           repr(c))
    tap.ok(harness.wait_for(lambda: BOB + "\toffline\tbye" in
                            list_lines(env), 5),
           "presencectl list shows bob offline")

    got = [tuple(x.split("\t")) for x in watch.snapshot()
           if x.startswith(BOB + "\t")]
    tap.ok(got == steps, "exactly one watch line per change, in order",
           "got %r\nwant %r" % (got, steps))
    sig = harness.wait_for(lambda: len(bob_signals(mon, mark_mon)) >=
                           len(steps) and bob_signals(mon, mark_mon), 5)
    tap.ok(sig == steps, "exactly one PresenceChanged signal per change",
           "got %r\nwant %r" % (sig, steps))

    batches = [harness.parse_gvariant(x[x.index(" ("):])[0]
               for x in mon.snapshot()[mark_mon:]
               if ".ContactsChanged (" in x]
    mine = [tuple(e) for b in batches for e in b if e[0] == BOB]
    tap.ok(mine and mine[-1] == steps[-1] and len(mine) <= len(steps) and
           all(len([e for e in b if e[0] == BOB]) <= 1 for b in batches),
           "ContactsChanged: batched, one entry per contact, ends in the "
           "final state", "batches %r" % batches)

    # What real clients send besides show/status/priority (caps, nick,
    # idle, children nobody reads): the same table as a bare presence
    # would give. (Padded values are the unit tests': ejabberd refuses
    # them before they reach us.)
    mark_mon = len(mon.snapshot())
    bob.send_raw(
        "<presence><show>dnd</show><status>on a call</status>"
        "<priority>7</priority>"
        "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
        "node='https://example.invalid/c' ver='AAAAAAAAAAAAAAAAAAAAAAAAAAA='/>"
        "<nick xmlns='http://jabber.org/protocol/nick'>Bobby</nick>"
        "<idle xmlns='urn:xmpp:idle:1' since='2026-01-01T00:00:00Z'/>"
        "<x xmlns='urn:example:unknown'><show>chat</show>"
        "<status>not this</status></x></presence>")
    c = harness.wait_for(lambda: (contact(env, BOB) or ("",))[0] == "dnd"
                         and contact(env, BOB), 10)
    tap.ok(c == ("dnd", "on a call", [("peer", "dnd", "on a call", 7)]),
           "a presence with caps, nick, idle and unknown children: "
           "show, status and priority as sent", repr(c))
    sig = harness.wait_for(lambda: bob_signals(mon, mark_mon), 5)
    tap.ok(sig == [(BOB, "dnd", "on a call")],
           "one PresenceChanged for it", repr(sig))
    bob.set_presence("offline", "bye", None)
    harness.wait_for(lambda: (contact(env, BOB) or ("",))[0] == "offline",
                     10)

    ok, v = env.gdbus_call("GetContact", "nobody@localhost")
    tap.ok(ok and v[0] == "offline" and list(v[2]) == [],
           "GetContact of a JID never seen: offline, no resources", repr(v))

    # ---- SetPresence reaches the peers --------------------------------
    bob = env.peer("bob", pw["bob"], resource="peer2").start()
    m_b, m_c = bob.mark(), carol.mark()
    r = env.ctl("set", "away", "in a meeting", "--priority", "5")
    tap.ok(r.returncode == 0, "presencectl set away ... --priority 5",
           r.stderr)
    ev = bob.wait_presence(lambda e: e.frm.startswith("alice@localhost/") and
                           e.show == "away", 10, m_b)
    tap.ok(ev and ev.status == "in a meeting" and ev.priority == 5,
           "peer sees away/'in a meeting'/5", repr(ev))
    ok, v = env.gdbus_call("GetPresence")
    tap.ok(ok and tuple(v) == ("away", "in a meeting", 5),
           "GetPresence reflects SetPresence", repr(v))
    r = env.ctl("get")
    tap.ok(r.returncode == 0 and r.stdout == "away\tin a meeting\t5\n",
           "presencectl get prints SHOW<TAB>STATUS<TAB>PRIORITY",
           repr(r.stdout))
    props = env.get_all()
    tap.ok(props.get("Show") == "away" and
           props.get("Status") == "in a meeting" and
           props.get("Priority") == 5,
           "Show/Status/Priority properties", repr(props))

    # Directed presence: only bob gets it, own presence unchanged.
    m_b, m_c = bob.mark(), carol.mark()
    r = env.ctl("set", "dnd", "secret for bob", "--to", BOB)
    tap.ok(r.returncode == 0, "presencectl set ... --to bob", r.stderr)
    ev = bob.wait_presence(lambda e: e.status == "secret for bob", 10, m_b)
    tap.ok(ev and ev.show == "dnd" and ev.bare == "alice@localhost",
           "bob receives the directed presence", repr(ev))
    ok, v = env.gdbus_call("GetPresence")
    tap.ok(ok and tuple(v) == ("away", "in a meeting", 5),
           "directed presence leaves own presence unchanged", repr(v))
    # A broadcast after it is the barrier: once carol has it, she would
    # have had the directed one too.
    r = env.ctl("set", "available", "back")
    ev = carol.wait_presence(lambda e: e.status == "back", 10, m_c)
    tap.ok(ev is not None, "carol receives the next broadcast")
    leaked = [e for e in carol.events[m_c:] if e.status == "secret for bob"]
    tap.ok(ev is not None and not leaked,
           "carol never receives the directed presence", repr(leaked))

    # Through the bus directly, as busctl/gdbus users would.
    m_b = bob.mark()
    ok, v = env.gdbus_call("SetPresence", "xa", "gone",
                           "{'priority': <int32 -3>}")
    tap.ok(ok, "SetPresence over D-Bus with a{sv} priority", repr(v))
    ev = bob.wait_presence(lambda e: e.status == "gone", 10, m_b)
    tap.ok(ev and ev.show == "xa" and ev.priority == -3,
           "peer sees xa/gone/-3", repr(ev))

    # Bad input: an error, and nothing sent.
    m_b = bob.mark()
    r = env.ctl("set", "sleeping")
    tap.ok(r.returncode in (1, 2) and r.stderr.strip(),
           "presencectl set with an unknown show fails with a message",
           "rc=%d err=%r" % (r.returncode, r.stderr))
    ok, v = env.gdbus_call("SetPresence", "away", "x",
                           "{'priority': <int32 200>}")
    tap.ok(not ok and "InvalidArgs" in v,
           "priority out of range: InvalidArgs", repr(v))
    ok, v = env.gdbus_call("SetPresence", "away", "x",
                           "{'colour': <'red'>}")
    tap.ok(not ok and "InvalidArgs" in v, "unknown option: InvalidArgs",
           repr(v))
    env.ctl("set", "chat", "barrier")
    ev = bob.wait_presence(lambda e: e.status == "barrier", 10, m_b)
    tap.ok(ev, "a valid call after the rejected ones goes through")
    bad = [e for e in bob.events[m_b:] if e.bare == "alice@localhost" and
           e.status != "barrier"]
    tap.ok(not bad, "rejected calls sent nothing", repr(bad))
    tap.ok(d.alive(), "daemon still running")


if __name__ == "__main__":
    sys.exit(harness.run_test("presence", run, budget=150))
