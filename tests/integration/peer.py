# SPDX-License-Identifier: MIT
"""
A small XMPP test peer (python3-slixmpp): logs in as a second account, sets
presence, and records every presence stanza it receives.

As a library (the integration tests):
    p = Peer("bob@localhost/peer", "pw", "127.0.0.1", port, "ca.pem")
    p.start()                       # connected, roster fetched, available
    p.set_presence("away", "brb", 3)
    ev = p.wait_presence(lambda e: e.jid == "alice@localhost/x", 10)
    p.stop()
slixmpp runs its asyncio loop in a thread of its own; the methods here
are called from the test's thread and are thread-safe.

As a program (the demo):
    peer.py --jid bob@localhost --password pw --port N --ca-file F \
            [--script "away:lunch:5,dnd:busy,available:"] [--interval S] \
            [--duration S]
It prints "PRESENCE FROM TYPE SHOW STATUS PRIORITY" for each presence
received, and runs the script of presence changes, then exits.
"""

import argparse
import asyncio
import logging
import sys
import threading
import time

# slixmpp warns about its pure-Python stringprep on import; not our concern.
logging.getLogger("slixmpp").setLevel(logging.ERROR)
import slixmpp  # noqa: E402
import slixmpp.exceptions  # noqa: E402


class PresenceEvent:
    """One presence stanza received."""

    def __init__(self, stanza):
        self.frm = str(stanza["from"])
        self.jid = self.frm
        self.bare = stanza["from"].bare
        self.to = str(stanza["to"])
        self.type = stanza.xml.get("type", "available")
        self.show = stanza["show"] or ("available" if self.type ==
                                       "available" else "")
        self.status = stanza["status"] or ""
        try:
            self.priority = int(stanza["priority"] or 0)
        except ValueError:
            self.priority = None
        self.nick = ""
        nick = stanza.xml.find("{http://jabber.org/protocol/nick}nick")
        if nick is not None:
            self.nick = nick.text or ""
        self.xml = str(stanza)
        self.time = time.monotonic()

    def __repr__(self):
        return "<presence from=%s type=%s show=%s status=%r prio=%s>" % (
            self.frm, self.type, self.show, self.status, self.priority)


class _Client(slixmpp.ClientXMPP):
    def __init__(self, owner, jid, password, caps=False):
        # PLAIN over the verified TLS: slixmpp 1.8 binds SCRAM-*-PLUS to
        # tls-unique even on TLS 1.3, and once a server offers -PLUS
        # (Prosody 13, ejabberd, jabberd2) its fallback SCRAM with the "y"
        # flag is refused as a downgrade. Every server of the matrix
        # offers PLAIN after TLS; the peers are fixtures, not under test.
        super().__init__(jid, password, sasl_mech="PLAIN")
        self.owner = owner
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("presence", self._on_presence)
        self.add_event_handler("failed_auth", self._on_failed)
        self.add_event_handler("disconnected", self._on_disconnected)
        if caps:
            # slixmpp's own XEP-0115: <c/> on its presence, disco#info
            # answers for node#ver, and the check of other entities' ver
            # (XEP-0115 5.4) before caching it.
            self.register_plugin("xep_0030")
            self.register_plugin("xep_0115")

    async def _on_start(self, event):
        try:
            await self.get_roster(timeout=10)
        except Exception as e:  # a roster failure is reported, not fatal
            self.owner.error = "roster: %s" % e
        if "xep_0115" in self.plugin:
            # The ver of what we answer, before the first presence.
            await self["xep_0115"].update_caps(broadcast=False)
        if self.owner.initial is not None:
            show, status, prio = self.owner.initial
            self.owner._send(show, status, prio, None)
        self.owner._ready.set()

    def _on_presence(self, stanza):
        self.owner._record(PresenceEvent(stanza))

    def _on_failed(self, event):
        self.owner.error = "authentication failed"
        self.owner._ready.set()

    def _on_disconnected(self, event):
        self.owner._disconnected.set()


class Peer:
    def __init__(self, jid, password, host, port, ca_file,
                 initial=("available", "", 0), verbose=False, caps=False):
        self.jid = jid
        self.password = password
        self.host = host
        self.port = port
        self.ca_file = ca_file
        self.initial = initial
        self.caps = caps
        self.events = []
        self.error = None
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._disconnected = threading.Event()
        self._loop = None
        self._xmpp = None
        self._thread = None
        self.on_presence = None
        if verbose:
            logging.basicConfig(level=logging.DEBUG)

    # -- the loop thread ---------------------------------------------------

    def _run(self):
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        x = _Client(self, self.jid, self.password, self.caps)
        x.loop = self._loop
        x.ca_certs = self.ca_file
        # Loopback test server: no SRV look-up, STARTTLS required.
        x.connect(address=(self.host, self.port), force_starttls=True,
                  disable_starttls=False)
        self._xmpp = x
        self._loop_ready.set()
        try:
            self._loop.run_forever()
        finally:
            # Let slixmpp's pending tasks finish cancelling before the loop
            # closes, or they complain on stderr.
            pending = asyncio.all_tasks(self._loop)
            for t in pending:
                t.cancel()
            if pending:
                self._loop.run_until_complete(
                    asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def start(self, timeout=15, attempts=3):
        """Connects and waits for the session (raises on failure).
        A connection the server drops before the session is tried again:
        jabberd2 2.7's c2s drops one accepted right after another
        client's disconnect ("disconnect jid=unbound, packets: 0, bytes:
        128" in c2s.log; the peers are fixtures, not under test)."""
        deadline = time.monotonic() + timeout
        for n in range(attempts):
            self._ready.clear()
            self._disconnected.clear()
            self._loop_ready = threading.Event()
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name="peer-%s" % self.jid)
            self._thread.start()
            while not self._ready.is_set() and time.monotonic() < deadline:
                if self._disconnected.wait(0.05) and not self._ready.is_set():
                    break
            if self._ready.is_set() or n == attempts - 1 or \
                    time.monotonic() >= deadline:
                break
            self.stop(2)
        if not self._ready.is_set():
            raise RuntimeError("peer %s: no session within %ss" %
                               (self.jid, timeout))
        if self.error == "authentication failed":
            raise RuntimeError("peer %s: %s" % (self.jid, self.error))
        return self

    def _call(self, fn, *args):
        self._loop.call_soon_threadsafe(fn, *args)

    def _record(self, ev):
        with self._cond:
            self.events.append(ev)
            self._cond.notify_all()
        if self.on_presence:
            self.on_presence(ev)

    def _send(self, show, status, priority, to):
        x = self._xmpp
        kw = {}
        if show == "offline":
            kw["ptype"] = "unavailable"
        elif show not in ("available", "", None):
            kw["pshow"] = show
        if status:
            kw["pstatus"] = status
        if priority is not None and show != "offline":
            kw["ppriority"] = priority
        if to:
            kw["pto"] = to
        x.send_presence(**kw)

    # -- API -----------------------------------------------------------------

    def set_presence(self, show="available", status="", priority=0,
                     to=None):
        """Broadcast (or, with to, directed) presence; "offline" sends
        unavailable."""
        self._call(self._send, show, status, priority, to)

    def send_raw(self, xml):
        self._call(self._xmpp.send_raw, xml)

    def query(self, to, payload_xml, itype="get", timeout=10):
        """Sends an IQ with the raw payload; the reply as XML, or None."""
        from xml.etree import ElementTree as ET

        async def go():
            iq = self._xmpp.make_iq(ito=to, itype=itype)
            iq.append(ET.fromstring(payload_xml))
            try:
                reply = await iq.send(timeout=timeout)
            except slixmpp.exceptions.IqError as e:
                reply = e.iq
            except slixmpp.exceptions.IqTimeout:
                return None
            return str(reply)
        fut = asyncio.run_coroutine_threadsafe(go(), self._loop)
        return fut.result(timeout + 2)

    def verified_caps(self, jid, timeout=10):
        """
        With caps=True: what slixmpp's XEP-0115 code verified and cached
        for jid (a full JID) from its presence, as
        (identities, features), or None if it has nothing verified.
        """
        async def go():
            info = await self._xmpp["xep_0115"].get_caps(jid=jid)
            if info is None:
                return None
            return (sorted(tuple(i) for i in info["identities"]),
                    sorted(info["features"]))
        fut = asyncio.run_coroutine_threadsafe(go(), self._loop)
        return fut.result(timeout)

    def mark(self):
        """Index to pass to wait_presence(start=) for "after now"."""
        with self._cond:
            return len(self.events)

    def wait_presence(self, pred, timeout, start=0):
        """First event (index >= start) with pred(event) true, or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[start:]:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)

    def events_from(self, bare, start=0):
        with self._cond:
            return [e for e in self.events[start:] if e.bare == bare]

    def stop(self, timeout=5):
        if not self._thread:
            return
        if self._xmpp and self._loop and not self._loop.is_closed():
            try:
                self._call(self._xmpp.disconnect)
                self._disconnected.wait(timeout)
                self._loop.call_soon_threadsafe(self._loop.stop)
            except RuntimeError:
                pass
        self._thread.join(timeout)
        self._thread = None


def _parse_script(text):
    """ "away:lunch:5,dnd:busy" → [(show, status, priority|None)]."""
    steps = []
    for item in filter(None, (s.strip() for s in text.split(","))):
        parts = item.split(":", 2)
        show = parts[0]
        status = parts[1] if len(parts) > 1 else ""
        prio = int(parts[2]) if len(parts) > 2 and parts[2] else None
        steps.append((show, status, prio))
    return steps


def main(argv=None):
    ap = argparse.ArgumentParser(description="XMPP test peer")
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--resource", default="peer")
    ap.add_argument("--script", default="",
                    help="presence changes: show:status:priority,...")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--duration", type=float, default=10.0,
                    help="total time to stay online")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args(argv)

    jid = a.jid if "/" in a.jid else "%s/%s" % (a.jid, a.resource)
    me = jid.split("/")[0]

    def show_event(ev):
        if ev.bare == me:
            return
        print("peer %s received: %s %s show=%s status=%r priority=%s" % (
            me, ev.frm, ev.type, ev.show, ev.status, ev.priority),
            flush=True)

    p = Peer(jid, a.password, a.host, a.port, a.ca_file, verbose=a.verbose)
    p.on_presence = show_event
    try:
        p.start()
    except RuntimeError as e:
        print("peer: %s" % e, file=sys.stderr)
        return 1
    print("peer %s online" % jid, flush=True)
    end = time.monotonic() + a.duration
    for show, status, prio in _parse_script(a.script):
        time.sleep(min(a.interval, max(0.0, end - time.monotonic())))
        print("peer %s sets: %s %r priority=%s" % (me, show, status, prio),
              flush=True)
        p.set_presence(show, status, prio)
    left = end - time.monotonic()
    if left > 0:
        time.sleep(left)
    p.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
