#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #2 against a real Prosody: presenced logs in over STARTTLS with
SCRAM (and over direct TLS, XEP-0368), State becomes online, and the peer
sees our initial presence with the configured show/status/priority.
"""

import os
import re
import sys
import time

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

STATUS = "Integration test \u2713 <&> \"quoted\""


def check_auth(tap, env, log, mech):
    """XEP-0440/0474 (issue #11): -PLUS exactly with a type the server
    lists, and the downgrade hash checked where the server sends one."""
    cls = type(env.prosody)
    line = re.search(r"authenticated with (\S+)( bound to (\S+))? over "
                     r"TLS (\S+?)(, downgrade protection checked)?$",
                     log, re.M)
    tap.diag("%s: %s" % (cls.NAME, line.group(0) if line else "no line"))
    if not tap.ok(line, "--debug log says how the session authenticated"):
        return
    binding = line.group(3)
    tap.ok(binding == cls.EXPECT_BINDING and
           mech.endswith("-PLUS") == (binding is not None),
           "%s: channel binding %s" % (cls.NAME, cls.EXPECT_BINDING),
           "mechanism %s, binding %s" % (mech, binding))
    tap.ok(bool(line.group(5)) == cls.EXPECT_DOWNGRADE_HASH,
           "%s: XEP-0474 hash %s" % (
               cls.NAME, "checked" if cls.EXPECT_DOWNGRADE_HASH
               else "not sent"))
    out = env.ctl("status")
    want = "Login: TLS %s, %s" % (line.group(4), mech)
    tap.ok(out.returncode == 0 and want in out.stdout,
           "presencectl status shows the login (%s)" % want, out.stdout)
    state = env.state_file()
    try:
        with open(state) as f:
            marked = "[alice@localhost]" in f.read()
    except OSError:
        marked = False
    tap.ok(marked, "the SCRAM mark is kept in XDG_STATE_HOME")


def run(tap, env):
    pw = env.setup_server(("alice", "bob"))
    env.start_bus()
    bob = env.peer("bob", pw["bob"]).start()
    m = bob.mark()

    d = env.start_alice(presence={"show": "away", "status": STATUS,
                                  "priority": 7},
                        resource="it-login")
    state = env.wait_state("online", 30, daemon=d)
    login_ms = (time.monotonic() - d.started) * 1000
    if not tap.ok(state == "online", "STARTTLS+SCRAM login: State "
                  "becomes online", env.fail_with_log(d)):
        return
    tap.diag("login time (process start -> State online): %.0f ms"
             % login_ms)

    log = d.read_log()
    tap.ok(re.search(r"SEND: <starttls[ >/]", log),
           "--debug log shows STARTTLS being sent")
    # <auth> (RFC 6120) or <authenticate> (SASL2, XEP-0388).
    mech = re.search(r"SEND: <auth(?:enticate)?[^>]*"
                     r"mechanism=['\"]([A-Z0-9-]+)['\"]", log)
    tap.ok(mech and mech.group(1).startswith("SCRAM-SHA-"),
           "--debug log shows a SCRAM mechanism (%s)" %
           (mech.group(1) if mech else "no <auth> line"))
    tap.ok(not re.search(r"mechanism=['\"]PLAIN['\"]", log),
           "PLAIN is never used")
    check_auth(tap, env, log, mech.group(1) if mech else "")
    tap.ok(pw["alice"] not in log, "password never in the log")
    tap.ok(re.search(r"RECV: <success", log),
           "--debug log shows SASL success")

    jid = env.get_property("Jid")
    # Bind2 (XEP-0386): the server makes the resource from our tag
    # (Prosody 13 "tag~suffix", ejabberd 24.12 "tag.suffix").
    tap.ok(jid == "alice@localhost/it-login" or
           re.match(r"alice@localhost/it-login[~.]", jid or ""),
           "Jid property is the bound full JID", "Jid=%r" % jid)
    ready = harness.wait_for(
        lambda: env.get_property("RosterReady") is True, 10)
    tap.ok(ready, "RosterReady becomes true")
    ok, v = env.gdbus_call("GetPresence")
    tap.ok(ok and tuple(v) == ("away", STATUS, 7),
           "GetPresence is the configured presence", repr(v))
    r = env.ctl("state")
    tap.ok(r.returncode == 0 and r.stdout.strip() == "online",
           "presencectl state prints online",
           "rc=%d out=%r err=%r" % (r.returncode, r.stdout, r.stderr))

    ev = bob.wait_presence(
        lambda e: e.frm == jid and e.type == "available", 15, m)
    tap.ok(ev is not None, "peer receives our initial presence")
    tap.ok(ev and ev.show == "away" and ev.status == STATUS and
           ev.priority == 7,
           "initial presence carries show/status/priority from config",
           repr(ev))
    tap.ok(ev and ev.nick == "",
           "no nick in the presence broadcast (XEP-0172 4.5)",
           ev.xml if ev else None)

    # Direct TLS (XEP-0368) on the second port, on a second bus so the
    # two daemons do not compete for the name.
    first_bus = env.bus
    env.start_bus()
    m = bob.mark()
    # This one reads its password from a password-file (mode 0600).
    pwfile = os.path.join(env.tmp, "password")
    with open(pwfile, "w") as f:
        f.write(pw["alice"] + "\n")
    os.chmod(pwfile, 0o600)
    a = env.account("alice", None, tls="direct", resource="it-direct")
    del a["password"]
    a["password-file"] = pwfile
    conf = env.write_config("alice-direct", a,
                            {"show": "dnd", "status": "direct"})
    d2 = env.start_daemon("alice-direct", conf)
    state = env.wait_state("online", 30, daemon=d2)
    tap.ok(state == "online", "direct TLS login (password-file): State becomes online",
           env.fail_with_log(d2))
    log2 = d2.read_log()
    tap.ok(not re.search(r"SEND: <starttls[ >/]", log2),
           "direct TLS: no STARTTLS on the wire")
    jid2 = env.get_property("Jid")
    ev = bob.wait_presence(
        lambda e: e.frm == jid2 and e.type == "available", 15, m)
    tap.ok(ev and ev.show == "dnd" and ev.status == "direct",
           "direct TLS: peer sees the configured presence", repr(ev))
    tap.ok(d.alive() and d2.alive(), "both daemons still running")
    env.bus = first_bus
    tap.ok(env.get_property("State") == "online",
           "first session still online beside the second resource")


if __name__ == "__main__":
    sys.exit(harness.run_test("login", run, budget=150))
