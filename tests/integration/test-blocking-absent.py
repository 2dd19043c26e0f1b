#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #14, the other half of blocking: a server without XEP-0191 (Prosody
without mod_blocklist, ejabberd without mod_blocking). Block and Unblock
fail with org.freedesktop.DBus.Error.NotSupported (presencectl: exit 1),
Blocked is empty, and our caps ver is the one without urn:xmpp:blocking.
"""

import os
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BOB = "bob@localhost"
# README: the ver of our description without urn:xmpp:blocking.
VER_NO_BLOCKING = "EnOTE0V66hB3WVO5dyTpdPp/qa0="


def run(tap, env):
    cls = harness.server_class()
    if not cls.CAN_DISABLE_BLOCKING:
        tap.skip_all("%s: blocking cannot be switched off" % cls.NAME)
    cls.BLOCKING = False
    pw = env.setup_server(("alice", "bob"))
    env.start_bus()
    bob = env.peer("bob", pw["bob"], resource="peer", caps=True).start()
    d = env.start_alice(resource="it")
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "daemon online", env.fail_with_log(d)):
        return
    full = harness.bound_jid(env, "alice@localhost/it")
    # The domain's disco#info answered (no blocking) once our presence has
    # gone out with its final ver: slixmpp has verified that one.
    info = harness.wait_for(lambda: bob.verified_caps(full),
                            15)
    tap.ok(info, "a peer verified our caps", repr(info))
    sent = [ln for ln in d.read_log().splitlines()
            if "SEND: <presence" in ln and "ver=" in ln]
    tap.ok(sent and all(VER_NO_BLOCKING in ln for ln in sent),
           "our ver lists no urn:xmpp:blocking", "\n".join(sent))
    ok, err = env.gdbus_call("Block", BOB)
    tap.ok(not ok and "org.freedesktop.DBus.Error.NotSupported" in err,
           "Block: NotSupported", err)
    ok, err = env.gdbus_call("Unblock", BOB)
    tap.ok(not ok and "org.freedesktop.DBus.Error.NotSupported" in err,
           "Unblock: NotSupported", err)
    r = env.ctl("block", BOB)
    tap.ok(r.returncode == 1 and "blocking" in r.stderr,
           "presencectl block: exit 1, says why", repr((r.returncode,
                                                         r.stderr)))
    tap.ok(env.get_property("Blocked") == [], "Blocked is empty",
           repr(env.get_property("Blocked")))
    r = env.ctl("blocked")
    tap.ok(r.returncode == 0 and r.stdout == "", "presencectl blocked: "
           "nothing", repr(r.stdout))


if __name__ == "__main__":
    sys.exit(harness.run_test("blocking-absent", run, budget=90))
