#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Issue #14 against a real server (Prosody's mod_blocklist, ejabberd's
mod_blocking): python3-slixmpp peers with their own XEP-0115 code verify
our ver against our disco#info; a peer with caps shows up in
GetContactClients and `presencectl contact`; two peers on one client cost
one disco#info query; a peer whose ver does not match its disco#info shows
nothing; last activity reaches a subscribed contact; Block stops presence
both ways and a block made by a second client of the account shows up.
"""

import os
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

ALICE = "alice@localhost"
ALICE_FULL = ALICE + "/it"
BOB = "bob@localhost"
CAROL = "carol@localhost"
DAVE = "dave@localhost"
NS_CAPS = "http://jabber.org/protocol/caps"
BOGUS_C = ("<presence><c xmlns='http://jabber.org/protocol/caps' "
           "hash='sha-1' node='http://example.com/liar' "
           "ver='AAAAAAAAAAAAAAAAAAAAAAAAAAA='/></presence>")


def clients(env, jid):
    ok, v = env.gdbus_call("GetContactClients", jid)
    return sorted(tuple(c) for c in v[0]) if ok else None


def show_of(env, jid):
    ok, v = env.gdbus_call("GetContact", jid)
    return v[0] if ok else None


def blocked(env):
    v = env.get_property("Blocked")
    return sorted(v) if v is not None else None


def sent_lines(d, needle):
    return [ln for ln in d.read_log().splitlines()
            if "SEND: " in ln and needle in ln]


def quirk(env, name):
    return name in type(env.prosody).QUIRKS


def check_our_caps(tap, env, bob, d):
    if quirk(env, "disco-info-answered-by-sm"):
        # jabberd2's sm answers for us: the daemon is never asked, and no
        # peer can verify any client's ver there.
        harness.wait_for(lambda: bob.verified_caps(ALICE_FULL), 5)
        asked = [ln for ln in d.read_log().splitlines()
                 if "RECV: " in ln and "disco#info" in ln and
                 "from='bob@localhost" in ln and "type='get'" in ln]
        tap.ok(not bob.verified_caps(ALICE_FULL) and not asked,
               "the server answers disco#info to our full JID itself "
               "(quirk disco-info-answered-by-sm)", repr(asked))
        return
    got = harness.wait_for(lambda: bob.verified_caps(ALICE_FULL), 15)
    info = bob.verified_caps(ALICE_FULL)
    tap.ok(got and info, "slixmpp verified our ver against our disco#info "
           "(XEP-0115 5.4) and cached it", repr(info))
    if not info:
        return
    idents, features = info
    tap.ok(any(i[0] == "client" and i[1] == "pc" and i[3] == "presenced"
               for i in idents), "identity client/pc presenced",
           repr(idents))
    tap.ok(NS_CAPS in features and "jabber:iq:last" in features and
           "urn:xmpp:csi:0" not in features,
           "features: what the daemon implements, no stream features",
           repr(features))


def check_contact_clients_unverifiable(tap, env, d):
    """The server answers our queries itself (an account identity, not
    the client's): the ver never verifies, so nothing is shown, and the
    attempts stop at the bound (3 per ver)."""
    asked = harness.wait_for(lambda: sent_lines(d, "slixmpp.com"), 10)
    harness.wait_for(lambda: len(sent_lines(d, "slixmpp.com")) >= 2, 5)
    c = clients(env, BOB)
    tap.ok(asked and c == [("peer", "", "", [])],
           "GetContactClients: nothing shown for a ver that does not verify",
           repr(c))
    q = sent_lines(d, "slixmpp.com")
    tap.ok(1 <= len(q) <= 3, "queries for that ver stop at the bound",
           "\n".join(q))


def check_contact_clients(tap, env, d):
    if quirk(env, "disco-info-answered-by-sm"):
        check_contact_clients_unverifiable(tap, env, d)
        return

    def bob_known():
        c = clients(env, BOB)
        return c and c[0][1] != "" and c
    c = harness.wait_for(bob_known, 15) and clients(env, BOB)
    tap.ok(c and c[0][0] == "peer" and c[0][1] and NS_CAPS in c[0][3],
           "GetContactClients: bob's resource with its verified client",
           repr(c))
    r = env.ctl("contact", BOB)
    lines = r.stdout.splitlines()
    tap.ok(r.returncode == 0 and len(lines) == 2 and
           lines[1].split("\t")[0] == "peer" and
           c and lines[1].split("\t")[4] == c[0][1],
           "presencectl contact shows the client type and name",
           repr(r.stdout))
    cc = harness.wait_for(lambda: (clients(env, CAROL) or [("", "")])[0][1]
                          and clients(env, CAROL), 15)
    tap.ok(cc and c and cc[0][1:] == c[0][1:],
           "carol, on the same client, is described too", repr(cc))
    q = sent_lines(d, "slixmpp.com")
    tap.ok(len(q) == 1, "two peers with one ver cost one disco#info query",
           "\n".join(q))


def check_mismatch(tap, env, d, dave):
    dave.send_raw(BOGUS_C)
    asked = harness.wait_for(lambda: sent_lines(d, "example.com/liar"), 10)
    # The answer (an error: slixmpp without caps knows no such node) is in
    # once dave's next presence, sent after it, is.
    harness.wait_for(lambda: "RECV: " in d.read_log() and any(
        "dave@localhost/peer" in ln and "type='error'" in ln
        for ln in d.read_log().splitlines() if "RECV: " in ln), 10)
    c = clients(env, DAVE)
    tap.ok(asked and c == [("peer", "", "", [])],
           "a ver its sender cannot back shows nothing", repr(c))


def check_last_activity(tap, env, bob):
    reply = bob.query(ALICE_FULL, "<query xmlns='jabber:iq:last'/>")
    tap.ok(reply and "type=\"result\"" in reply and "seconds=" in reply,
           "last activity answered to a subscribed contact", repr(reply))


def check_block(tap, env, bob, carol):
    r = env.ctl("block", BOB)
    tap.ok(r.returncode == 0, "presencectl block", r.stderr)
    tap.ok(harness.wait_for(lambda: blocked(env) == [BOB], 10),
           "Blocked holds bob after the server's push", repr(blocked(env)))
    tap.ok(harness.wait_for(lambda: show_of(env, BOB) == "offline", 10),
           "a blocked contact is offline", repr(show_of(env, BOB)))
    r = env.ctl("blocked")
    tap.ok(r.returncode == 0 and r.stdout == BOB + "\n",
           "presencectl blocked", repr(r.stdout))
    # Ours does not reach bob; carol, who is not blocked, is the marker.
    mb, mc = bob.mark(), carol.mark()
    env.ctl("set", "dnd", "blocked-test")
    got_c = carol.wait_presence(lambda e: e.bare == ALICE and
                                e.status == "blocked-test", 10, mc)
    got_b = bob.wait_presence(lambda e: e.bare == ALICE and
                              e.status == "blocked-test", 2, mb)
    tap.ok(got_c and not got_b, "our presence does not reach bob",
           repr((got_c, got_b)))
    # Bob's does not reach us.
    bob.set_presence("chat", "from-blocked", 0)
    carol.set_presence("away", "marker-1", 0)
    harness.wait_for(lambda: show_of(env, CAROL) == "away", 10)
    tap.ok(show_of(env, BOB) == "offline",
           "bob's presence does not reach us", repr(show_of(env, BOB)))
    r = env.ctl("unblock", BOB)
    tap.ok(r.returncode == 0 and
           harness.wait_for(lambda: blocked(env) == [], 10),
           "presencectl unblock empties Blocked", repr(blocked(env)))


def check_second_client(tap, env, other):
    reply = other.query(None, "<block xmlns='urn:xmpp:blocking'>"
                        "<item jid='%s'/></block>" % CAROL, itype="set")
    tap.ok(reply and "type=\"result\"" in reply,
           "a second client blocks carol", repr(reply))
    if quirk(env, "blocking-without-push"):
        # Without the server's push another client's block cannot be
        # known: Blocked stays as it was.
        tap.ok(not harness.wait_for(lambda: blocked(env) == [CAROL], 3),
               "no push, so another client's block is not seen "
               "(quirk blocking-without-push)", repr(blocked(env)))
    else:
        tap.ok(harness.wait_for(lambda: blocked(env) == [CAROL], 10),
               "its block shows up in Blocked", repr(blocked(env)))
    other.query(None, "<unblock xmlns='urn:xmpp:blocking'/>", itype="set")
    tap.ok(harness.wait_for(lambda: blocked(env) == [], 10),
           "and its unblock-all too", repr(blocked(env)))


def check_cache_file(tap, env, d):
    """The verified cache outlives the daemon: the next login asks
    nothing for a client it has seen."""
    d.stop()
    path = os.path.join(env.tmp, "xdg-cache", "presenced", "caps-cache")
    if quirk(env, "disco-info-answered-by-sm"):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = ""
        tap.ok("slixmpp" not in text,
               "nothing unverified is cached", text[:120])
        return
    try:
        st = os.stat(path)
        with open(path) as f:
            text = f.read()
    except OSError as e:
        tap.ok(False, "caps cache written at stop", str(e))
        return
    tap.ok(st.st_mode & 0o777 == 0o600 and
           text.startswith("presenced-caps-cache 1"),
           "caps cache written at stop, mode 0600",
           "%o %r" % (st.st_mode, text[:80]))
    d2 = env.start_alice(name="alice2", resource="it")
    if not tap.ok(env.wait_state("online", 30, daemon=d2) == "online",
                  "second daemon online", env.fail_with_log(d2)):
        return
    c = harness.wait_for(lambda: (clients(env, BOB) or [("", "")])[0][1]
                         and clients(env, BOB), 15)
    tap.ok(c and not sent_lines(d2, "slixmpp.com"),
           "next login: bob described from the cache, no query",
           repr((c, sent_lines(d2, "slixmpp.com"))))


def run(tap, env):
    pw = env.setup_server(("alice", "bob", "carol", "dave"))
    env.start_bus()
    bob = env.peer("bob", pw["bob"], resource="peer", caps=True).start()
    carol = env.peer("carol", pw["carol"], resource="c", caps=True).start()
    dave = env.peer("dave", pw["dave"], resource="peer").start()
    d = env.start_alice(resource="it")
    state = env.wait_state("online", 30, daemon=d)
    if not tap.ok(state == "online", "daemon online", env.fail_with_log(d)):
        return
    global ALICE_FULL
    ALICE_FULL = harness.bound_jid(env, ALICE_FULL)  # Bind2: the server's
    check_our_caps(tap, env, bob, d)
    check_contact_clients(tap, env, d)
    check_mismatch(tap, env, d, dave)
    check_last_activity(tap, env, bob)
    check_block(tap, env, bob, carol)
    other = env.peer("alice", pw["alice"], resource="other").start()
    check_second_client(tap, env, other)
    check_cache_file(tap, env, d)


if __name__ == "__main__":
    sys.exit(harness.run_test("caps", run, budget=150))
