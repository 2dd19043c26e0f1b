#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Surviving a drop, against a real Prosody with mod_smacks (XEP-0198):

- the TCP connection is cut under the daemon (a loopback proxy between it
  and Prosody, which the test can cut and refuse): the daemon resumes the
  stream, the peer sees no unavailable/available flap, and a presence set
  during the drop arrives after the resumption;
- the server restarts (stream error system-shutdown, session lost): a full
  new session with the same presence, and on the bus no storm of
  PresenceChanged: contacts whose state did not change are not signalled.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost/sm"


def run(tap, env):
    env.prosody_modules = ("smacks",)
    pw = env.setup_server(("alice", "bob", "carol"))
    pr = env.prosody
    env.start_bus()
    proxy = harness.CutProxy(pr.port)
    try:
        run_with_proxy(tap, env, pw, pr, proxy)
    finally:
        proxy.close()


def run_with_proxy(tap, env, pw, pr, proxy):
    bob = env.peer("bob", pw["bob"]).start()
    carol = env.peer("carol", pw["carol"]).start()
    d = env.start_alice(resource="sm", port=proxy.port,
                        presence={"show": "chat", "status": "first"})
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "daemon online through the proxy",
                  env.fail_with_log(d)):
        return
    # XEP-0198 where the server offers it (jabberd2 has none): then the
    # drop is a new session, and what the test checks is the resync.
    sm = bool(re.search(r"RECV: <features[^\n]*xmlns='urn:xmpp:sm:3'",
                        d.read_log()))
    if sm:
        ok = harness.wait_for(lambda: "<enabled" in d.read_log(), 10)
        tap.ok(ok, "stream management enabled (Prosody mod_smacks)")
    else:
        tap.ok("<enable " not in d.read_log(),
               "%s offers no XEP-0198: presenced sends no <enable/>" %
               pr.NAME)
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.type == "available", 10)
    tap.ok(ev and ev.status == "first", "peer sees alice online", repr(ev))
    harness.wait_for(lambda: env.ctl("contact", "carol@localhost")
                     .stdout.startswith("carol@localhost\tavailable"), 10)

    # ---- the link drops; resumption --------------------------------------
    m = bob.mark()
    mon = env.monitor("resume-monitor")
    harness.wait_for(lambda: any("is owned by" in x for x in mon.snapshot()),
                     5)
    proxy.down()
    state = env.wait_state("reconnecting", 15, daemon=d)
    tap.ok(state == "reconnecting", "link cut: State reconnecting",
           env.fail_with_log(d))
    tap.ok(env.get_property("StateReason") == "network",
           "link cut: StateReason network")
    r = env.ctl("set", "away", "during the drop")
    tap.ok(r.returncode == 0, "SetPresence during the drop", r.stderr)
    t0 = time.monotonic()
    proxy.up()
    state = env.wait_state("online", 30, daemon=d)
    tap.ok(state == "online", "link back: online again",
           env.fail_with_log(d))
    tap.diag("proxy up -> State online (resumed): %.0f ms" %
             ((time.monotonic() - t0) * 1000))
    if sm:
        tap.ok("<resumed" in d.read_log(),
               "the stream was resumed (XEP-0198)")
    else:
        tap.ok("<resume " not in d.read_log() and
               d.read_log().count("xmpp stream: bound ") == 2,
               "no XEP-0198: a new session, no <resume/> tried")
    if getattr(type(pr), "OFFERS_SASL2", False):
        # Issue #16: inside SASL2, one <authenticate/> carries <resume/>.
        tap.ok(re.search(r"SEND: <authenticate[^\n]*<resume xmlns="
                         r"['\"]urn:xmpp:sm:3['\"]", d.read_log()),
               "resumed inside SASL2: <resume/> in the <authenticate/>")
        auth = env.get_property("Authentication") or ""
        tap.ok("resumed (XEP-0198 in SASL2)" in auth,
               "Authentication says resumed (XEP-0198 in SASL2)", auth)
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.status == "during the drop", 10, m)
    tap.ok(ev and ev.show == "away",
           "presence set during the drop arrives after resuming", repr(ev))
    flap = [e for e in bob.events_from("alice@localhost", m)
            if e.type == "unavailable"]
    if sm:
        tap.ok(not flap, "peer saw no unavailable from alice", repr(flap))
    else:
        # The server ended the old session: nothing can hide that.
        tap.ok(flap, "no XEP-0198: the peer saw the old session go "
               "unavailable", repr(flap))
    r = env.ctl("contact", "carol@localhost")
    tap.ok(r.stdout.startswith("carol@localhost\tavailable"),
           "table kept through the resumption", r.stdout)
    sigs = [x for x in mon.snapshot() if "PresenceChanged" in x]
    tap.ok(not sigs, "no PresenceChanged across the resumption", repr(sigs))

    # ---- server restart: resumption refused, a full session, no storm --
    # The daemon is cut off first, so it sees none of what happens next:
    # Prosody restarts (the old session is gone), bob comes back as he
    # was, carol does not. The new session must report carol only.
    mon2 = env.monitor("restart-monitor")
    harness.wait_for(lambda: any("is owned by" in x
                                 for x in mon2.snapshot()), 5)
    proxy.down()
    state = env.wait_state("reconnecting", 15, daemon=d)
    tap.ok(state == "reconnecting", "cut again: reconnecting",
           env.fail_with_log(d))
    bob.stop()
    carol.stop()
    pr.stop()
    pr.start(same_ports=True)
    bob = env.peer("bob", pw["bob"]).start()
    t0 = time.monotonic()
    proxy.up()
    state = env.wait_state("online", 60, daemon=d)
    tap.ok(state == "online", "server restarted: online again",
           env.fail_with_log(d))
    tap.diag("proxy up -> State online (new session): %.0f ms" %
             ((time.monotonic() - t0) * 1000))
    if sm:
        tap.ok("<failed" in d.read_log(),
               "resumption refused by the restarted server: new session")
    else:
        tap.ok("<resume " not in d.read_log(),
               "no XEP-0198: a new session again, no <resume/> tried")
    ev = bob.wait_presence(lambda e: harness.ours(e.frm, ALICE) and
                           e.type == "available", 10)
    tap.ok(ev and (ev.show, ev.status) == ("away", "during the drop"),
           "the new session has the same presence", repr(ev))
    # Resync: stale resources go after the grace period (10 s).
    ok = harness.wait_for(lambda: env.ctl("contact", "carol@localhost")
                          .stdout.startswith("carol@localhost\toffline"), 20)
    tap.ok(ok, "carol, gone while we were away, reads offline after resync")
    r = env.ctl("contact", "bob@localhost")
    tap.ok(r.stdout.startswith("bob@localhost\tavailable"),
           "bob available in the table", r.stdout)
    sigs = [x for x in mon2.snapshot() if "PresenceChanged" in x]
    bob_sigs = [x for x in sigs if "'bob@localhost'" in x]
    carol_sigs = [x for x in sigs if "'carol@localhost'" in x]
    tap.ok(len(carol_sigs) == 1 and not bob_sigs,
           "no PresenceChanged storm after a full reconnect: only carol "
           "(%d signals)" % len(sigs), repr(sigs))
    tap.ok(d.alive(), "daemon still running")


if __name__ == "__main__":
    sys.exit(harness.run_test("resume", run, budget=200))
