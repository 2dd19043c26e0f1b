# SPDX-License-Identifier: MIT
"""
A scripted misbehaving XMPP server for the hostile-server tests (issue #5).

It speaks enough RFC 6120 to take a client to any stage — stream header,
features, STARTTLS (Python's ssl with a certificate from the test CA), SASL
SCRAM-SHA-1 server side (RFC 5802, hashlib/hmac), resource binding, the
roster — and then misbehaves as the scenario says.

Bounded and loopback-only: it listens on 127.0.0.1 on a port the kernel
picks, prints "PORT <n>" on stdout, serves every connection the client makes
(the daemon reconnects) with the same scenario, and exits after --lifetime
seconds whatever happens. The test kills it by PID before that.

Capture: every byte the client sends before TLS is appended to
<capture>.plain (the "outside TLS" wire the password must never appear on),
every byte it sends inside TLS to <capture>.tls; one line a notable event
(connection, auth received, flood done...) goes to <capture>.events.

Run by hand:
  python3 hostile_server.py --scenario sasl-failure --certs DIR \
      --capture /tmp/cap --lifetime 60
"""

import argparse
import base64
import hashlib
import hmac
import os
import re
import select
import socket
import ssl
import sys
import threading
import time
import xml.etree.ElementTree as ET

NS_STREAMS = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind"
NS_SASL2 = "urn:xmpp:sasl:2"
NS_BIND2 = "urn:xmpp:bind:0"
NS_FAST = "urn:xmpp:fast:0"
NS_CLIENT = "jabber:client"
NS_ROSTER = "jabber:iq:roster"
NS_PING = "urn:xmpp:ping"
NS_STREAM_ERR = "urn:ietf:params:xml:ns:xmpp-streams"

DOMAIN = "hostile.example"
USER = "alice"
PASSWORD = "h0stile-Pa55word-never-in-clear"
ROSTER_CONTACT = "bob@" + DOMAIN
MARKER_CONTACT = "carol@" + DOMAIN  # says "the flood is over"
SALT = b"hostile-test-salt"
# The XEP-0484 token test-hostile.py seeds into the daemon's state file.
FAST_TOKEN = "secret-token:hostile-FAST-n3ver-in-the-log"
FAST_MECHANISM = "HT-SHA-256-NONE"
ITERATIONS = 4096
IO_TIMEOUT = 20.0


def header(extra=""):
    return ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' from='%s' "
            "id='h-%d' version='1.0' xml:lang='en'%s>"
            % (DOMAIN, int(time.monotonic() * 1000) % 100000, extra))


FEATURES_STARTTLS = (
    "<stream:features><starttls xmlns='%s'><required/></starttls>"
    "</stream:features>" % NS_TLS)
FEATURES_SASL = (
    "<stream:features><mechanisms xmlns='%s'>"
    "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>"
    % NS_SASL)
FEATURES_SASL_PLAIN = (
    "<stream:features><mechanisms xmlns='%s'>"
    "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism>"
    "</mechanisms></stream:features>" % NS_SASL)
FEATURES_BIND = ("<stream:features><bind xmlns='%s'/></stream:features>"
                 % NS_BIND)
PROCEED = "<proceed xmlns='%s'/>" % NS_TLS


def features_sasl2(fast=False):
    """SASL2 (XEP-0388) with Bind2 (XEP-0386) inline, and FAST (XEP-0484)
    if asked, next to the legacy <mechanisms/> a client may fall back
    to."""
    return ("<stream:features><mechanisms xmlns='%s'>"
            "<mechanism>SCRAM-SHA-1</mechanism></mechanisms>"
            "<authentication xmlns='%s'><mechanism>SCRAM-SHA-1</mechanism>"
            "<inline><bind xmlns='%s'/>%s</inline></authentication>"
            "</stream:features>"
            % (NS_SASL, NS_SASL2, NS_BIND2,
               "<fast xmlns='%s'><mechanism>%s</mechanism></fast>"
               % (NS_FAST, FAST_MECHANISM) if fast else ""))


def stream_error(condition, text=None, content=""):
    body = "<%s xmlns='%s'>%s</%s>" % (condition, NS_STREAM_ERR, content,
                                       condition)
    if text:
        body += "<text xmlns='%s'>%s</text>" % (NS_STREAM_ERR, text)
    return "<stream:error>%s</stream:error></stream:stream>" % body


class Closed(Exception):
    """The client went away (or stopped reading)."""


class ClientStream:
    """
    The client's side of the stream, parsed incrementally: the header and
    then each top-level element as an ElementTree element. A new instance
    per stream restart (RFC 6120 §4.3.3).
    """

    def __init__(self):
        self.parser = ET.XMLPullParser(events=("start", "end"))
        self.depth = 0
        self.header = None
        self.closed = False
        self.queue = []

    def feed(self, data):
        self.parser.feed(data)
        for event, el in self.parser.read_events():
            if event == "start":
                self.depth += 1
                if self.depth == 1:
                    self.header = el
                    self.queue.append(("header", el))
            else:
                self.depth -= 1
                if self.depth == 1:
                    self.queue.append(("stanza", el))
                    # Free the tree as we go: the client may send a lot.
                    self.header.remove(el)
                elif self.depth == 0:
                    self.closed = True
                    self.queue.append(("close", None))


class Conn:
    """One client connection, blocking with timeouts, in its own thread."""

    def __init__(self, server, sock, n):
        self.server = server
        self.sock = sock
        self.raw = sock
        self.n = n
        self.tls = False
        self.stream = ClientStream()
        self.sock.settimeout(IO_TIMEOUT)
        self.scram = {}

    # -- wire --------------------------------------------------------------

    def event(self, text):
        self.server.event("conn %d: %s" % (self.n, text))

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        try:
            self.sock.sendall(data)
        except (OSError, ssl.SSLError) as e:
            raise Closed("send: %s" % e)

    def recv_some(self, timeout=IO_TIMEOUT):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise Closed("client silent for %.0f s" % timeout)
        except (OSError, ssl.SSLError) as e:
            raise Closed("recv: %s" % e)
        if not data:
            raise Closed("client closed the connection")
        self.server.capture(self.tls, data)
        return data

    def next(self, timeout=IO_TIMEOUT):
        """The next ('header'|'stanza'|'close', element) from the client."""
        deadline = time.monotonic() + timeout
        while not self.stream.queue:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Closed("timed out waiting for the client")
            try:
                self.stream.feed(self.recv_some(left))
            except ET.ParseError as e:
                raise Closed("client sent bad XML: %s" % e)
        return self.stream.queue.pop(0)

    def expect(self, kind, tag=None, timeout=IO_TIMEOUT):
        """Waits for kind (and tag '{ns}name'), answering pings and
        unknown IQs on the way."""
        while True:
            got, el = self.next(timeout)
            if got == "stanza" and el.tag == "{%s}iq" % NS_CLIENT and \
                    tag != el.tag and self.answer_iq(el):
                continue
            if got != kind or (tag and el.tag != tag):
                raise Closed("expected %s %s, got %s %s"
                             % (kind, tag, got,
                                el.tag if el is not None else ""))
            return el

    def answer_iq(self, el):
        """Answers an IQ the script does not care about: pings get a
        result, any other get/set service-unavailable (RFC 6120 §8.4)."""
        kind = el.get("type")
        if kind not in ("get", "set"):
            return True
        iq_id = el.get("id", "")
        if el.find("{%s}ping" % NS_PING) is not None:
            self.send("<iq type='result' id='%s'/>" % xml_attr(iq_id))
            return True
        if el.find("{%s}query" % NS_ROSTER) is not None or \
                el.find("{%s}bind" % NS_BIND) is not None:
            return False
        self.send("<iq type='error' id='%s'><error type='cancel'>"
                  "<service-unavailable xmlns='urn:ietf:params:xml:ns:"
                  "xmpp-stanzas'/></error></iq>" % xml_attr(iq_id))
        return True

    def restart(self):
        self.stream = ClientStream()

    def start_tls(self, cert="good"):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server.cert_path(cert),
                            self.server.key_path(cert))
        self.sock.settimeout(IO_TIMEOUT)
        try:
            self.sock = ctx.wrap_socket(self.raw, server_side=True)
        except (OSError, ssl.SSLError) as e:
            raise Closed("TLS handshake failed: %s" % e)
        self.tls = True
        self.restart()
        self.event("TLS up (%s certificate)" % cert)

    def reset(self):
        """TCP RST: SO_LINGER with a zero timeout, then close."""
        self.raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
        self.raw.close()

    # -- stages ------------------------------------------------------------

    def to_starttls(self):
        """Header and STARTTLS features; returns after <starttls/>."""
        self.expect("header")
        self.send(header() + FEATURES_STARTTLS)
        self.expect("stanza", "{%s}starttls" % NS_TLS)

    def to_auth(self, cert="good", features=FEATURES_SASL, proceed=PROCEED,
                sasl2=False):
        """Up to the <auth/> element, inside TLS; proceed is what answers
        <starttls/> (the injection scenario adds to it). sasl2: the
        client may answer with <authenticate/> (XEP-0388) instead."""
        self.to_starttls()
        self.send(proceed)
        self.start_tls(cert)
        self.expect("header")
        self.send(header() + features)
        auth = self.expect("stanza", None if sasl2 else
                           "{%s}auth" % NS_SASL)
        if auth.tag == "{%s}authenticate" % NS_SASL2:
            self.note_authenticate(auth)
            return auth
        if auth.tag != "{%s}auth" % NS_SASL:
            raise Closed("expected <auth/> or <authenticate/>, got %s"
                         % auth.tag)
        self.event("auth %s received inside TLS" % auth.get("mechanism"))
        return auth

    def note_authenticate(self, auth):
        """One event line an <authenticate/>: what the client sent."""
        ua = auth.find("{%s}user-agent" % NS_SASL2)
        req = auth.find("{%s}request-token" % NS_FAST)
        self.event("authenticate %s received inside TLS (user-agent %s, "
                   "software %s%s%s%s)"
                   % (auth.get("mechanism"),
                      "id" if ua is not None and ua.get("id") else "none",
                      ua.findtext("{%s}software" % NS_SASL2)
                      if ua is not None else None,
                      ", bind2" if self.bind2_tag(auth) is not None
                      else "",
                      ", fast" if auth.find("{%s}fast" % NS_FAST)
                      is not None else "",
                      ", request-token %s" % req.get("mechanism")
                      if req is not None else ""))

    @staticmethod
    def bind2_tag(auth):
        """The Bind2 request's tag ("" without one), None without Bind2."""
        bind = auth.find("{%s}bind" % NS_BIND2)
        if bind is None:
            return None
        return bind.findtext("{%s}tag" % NS_BIND2) or ""

    def scram_challenge(self, auth, iterations=ITERATIONS):
        """Answers <auth/> (or SASL2's <authenticate/>) with
        server-first."""
        mech = auth.get("mechanism")
        if mech != "SCRAM-SHA-1":
            raise Closed("client chose %s" % mech)
        ns = NS_SASL
        text = auth.text
        if auth.tag == "{%s}authenticate" % NS_SASL2:
            ns = NS_SASL2
            text = auth.findtext("{%s}initial-response" % NS_SASL2)
        client_first = base64.b64decode(text or "").decode()
        m = re.match(r"^([nyp][^,]*,[^,]*,)(.*)$", client_first)
        if not m:
            raise Closed("bad client-first %r" % client_first)
        gs2, bare = m.group(1), m.group(2)
        attrs = dict(kv.split("=", 1) for kv in bare.split(","))
        nonce = attrs["r"] + "Hst1leServerN0nce"
        server_first = "r=%s,s=%s,i=%d" % (
            nonce, base64.b64encode(SALT).decode(), iterations)
        self.scram = {"gs2": gs2, "bare": bare, "first": server_first,
                      "nonce": nonce}
        self.send("<challenge xmlns='%s'>%s</challenge>"
                  % (ns, base64.b64encode(server_first.encode())
                     .decode()))

    def scram_verify(self, response):
        """Checks client-final; returns the server signature (bytes) or
        None when the proof is wrong."""
        final = base64.b64decode(response.text or "").decode()
        without_proof, _, proof = final.rpartition(",p=")
        attrs = dict(kv.split("=", 1) for kv in without_proof.split(","))
        if attrs.get("r") != self.scram["nonce"]:
            return None
        if base64.b64decode(attrs.get("c", "")) != \
                self.scram["gs2"].encode():
            return None
        salted = hashlib.pbkdf2_hmac("sha1", PASSWORD.encode(), SALT,
                                     ITERATIONS)
        client_key = hmac.new(salted, b"Client Key", "sha1").digest()
        stored_key = hashlib.sha1(client_key).digest()
        auth_message = ",".join((self.scram["bare"], self.scram["first"],
                                 without_proof)).encode()
        client_sig = hmac.new(stored_key, auth_message, "sha1").digest()
        want = bytes(a ^ b for a, b in zip(client_key, client_sig))
        if base64.b64decode(proof) != want:
            return None
        server_key = hmac.new(salted, b"Server Key", "sha1").digest()
        return hmac.new(server_key, auth_message, "sha1").digest()

    def success(self, signature):
        final = b"v=" + base64.b64encode(signature)
        self.send("<success xmlns='%s'>%s</success>"
                  % (NS_SASL, base64.b64encode(final).decode()))

    def authenticate(self, proceed=PROCEED, auth=None):
        """SCRAM-SHA-1 through to <success/> and the stream restart; auth:
        the client's <auth/> if it was already read."""
        if auth is None:
            auth = self.to_auth(proceed=proceed)
        sig = self.scram_exchange(auth)
        self.success(sig)
        self.restart()
        self.event("authenticated")

    def scram_exchange(self, auth):
        """SCRAM-SHA-1 after <auth/> or <authenticate/>, up to the
        client's proof; returns the server signature."""
        ns = NS_SASL2 if auth.tag == "{%s}authenticate" % NS_SASL2 \
            else NS_SASL
        self.scram_challenge(auth)
        response = self.expect("stanza", "{%s}response" % ns)
        sig = self.scram_verify(response)
        if sig is None:
            self.send("<failure xmlns='%s'><not-authorized xmlns='%s'/>"
                      "</failure>" % (ns, NS_SASL))
            raise Closed("client proof did not verify")
        return sig

    def sasl2_success(self, auth, data):
        """<success/> of SASL2 (XEP-0388 §2.6.1): data (bytes, or None for
        none) as <additional-data/>, the JID Bind2 bound (the client must
        have asked for it), <bound/>, then the features of the same stream
        (no restart)."""
        tag = self.bind2_tag(auth)
        if tag is None:
            raise Closed("the client asked for no Bind2")
        self.full_jid = "%s@%s/%s~h0st1le" % (USER, DOMAIN,
                                              tag or "presenced")
        self.send("<success xmlns='%s'>%s<authorization-identifier>%s"
                  "</authorization-identifier><bound xmlns='%s'/>"
                  "</success><stream:features/>"
                  % (NS_SASL2, "" if data is None else
                     "<additional-data>%s</additional-data>"
                     % base64.b64encode(data).decode(),
                     xml_attr(self.full_jid), NS_BIND2))
        self.event("SASL2 success sent")

    def sasl2_login(self, auth):
        """A correct SCRAM-SHA-1 login inside SASL2, with Bind2, through to
        online; no FAST token is given."""
        sig = self.scram_exchange(auth)
        self.sasl2_success(auth, b"v=" + base64.b64encode(sig))
        self.event("authenticated (SASL2)")
        self.roster_and_presence()

    def login(self, roster=None, proceed=PROCEED, auth=None):
        """A complete login: returns once the client is online (bound, the
        roster answered, its initial presence received)."""
        self.authenticate(proceed, auth)
        self.expect("header")
        self.send(header() + FEATURES_BIND)
        iq = self.expect("stanza", "{%s}iq" % NS_CLIENT)
        bind = iq.find("{%s}bind" % NS_BIND)
        if bind is None:
            raise Closed("expected bind")
        res = bind.findtext("{%s}resource" % NS_BIND) or "hostile"
        self.full_jid = "%s@%s/%s" % (USER, DOMAIN, res)
        self.send("<iq type='result' id='%s'><bind xmlns='%s'><jid>%s</jid>"
                  "</bind></iq>" % (xml_attr(iq.get("id", "")), NS_BIND,
                                    self.full_jid))
        self.roster_and_presence(roster)

    def roster_and_presence(self, roster=None):
        """Bound: the roster get answered, then the initial presence."""
        iq = self.expect("stanza", "{%s}iq" % NS_CLIENT)
        if iq.find("{%s}query" % NS_ROSTER) is None:
            raise Closed("expected the roster get")
        items = roster if roster is not None else (
            "<item jid='%s' subscription='both' name='Bob'/>"
            "<item jid='%s' subscription='both' name='Carol'/>"
            % (ROSTER_CONTACT, MARKER_CONTACT))
        self.send("<iq type='result' id='%s' to='%s'><query xmlns='%s'>%s"
                  "</query></iq>" % (xml_attr(iq.get("id", "")),
                                     self.full_jid, NS_ROSTER, items))
        self.expect("stanza", "{%s}presence" % NS_CLIENT)
        self.event("online as %s" % self.full_jid)

    def drain(self, seconds):
        """Reads and answers whatever the client sends for a while."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                got, el = self.next(left)
            except Closed as e:
                if "timed out" in str(e):
                    return
                raise
            if got == "stanza" and el.tag == "{%s}iq" % NS_CLIENT:
                self.answer_iq(el)
            if got == "close":
                raise Closed("client closed the stream")


def xml_attr(s):
    return (s.replace("&", "&amp;").replace("'", "&apos;")
            .replace("<", "&lt;"))


# ---- scenarios --------------------------------------------------------------
#
# Each takes a Conn and misbehaves. Returning or raising Closed ends the
# connection (the socket is closed unless the scenario reset it).


def sc_no_starttls(c):
    """Features without STARTTLS, SASL offered in the clear: the client
    must give up before any <auth/>."""
    c.expect("header")
    c.send(header() + FEATURES_SASL_PLAIN)
    try:
        got, el = c.next(10)
        if got == "stanza" and el.tag == "{%s}auth" % NS_SASL:
            c.event("AUTH IN PLAINTEXT")
    except Closed:
        pass


def sc_untrusted_cert(c):
    c.to_starttls()
    c.send(PROCEED)
    c.start_tls("untrusted")
    c.drain(10)


def sc_wrong_name_cert(c):
    c.to_starttls()
    c.send(PROCEED)
    c.start_tls("wrongname")
    c.drain(10)


def sc_proceed_injection(c):
    """<proceed/> and a forged post-TLS stream in the same write
    (CVE-2011-0411): the forged bytes (features offering PLAIN, a
    <success/>) must never be read as XMPP. The client has to run the TLS
    handshake, open a fresh stream inside TLS and log in for real."""
    c.event("injecting plaintext after <proceed/>")
    c.login(proceed=PROCEED + header() + FEATURES_SASL_PLAIN +
            "<success xmlns='%s'/>" % NS_SASL)
    c.drain(c.server.lifetime)


def dtd_scenario(prolog, body=""):
    def run(c):
        c.expect("header")
        c.send("<?xml version='1.0'?>" + prolog +
               header().replace("<?xml version='1.0'?>", "") + body)
        c.drain(10)
    return run


LOL = ("<!DOCTYPE stream:stream [<!ENTITY lol 'lol'>" +
       "".join("<!ENTITY lol%d '%s'>" % (i, ("&lol%s;" % ("" if i == 1
                                                          else i - 1)) * 10)
               for i in range(1, 10)) + "]>")

SCENARIO_DTD = dtd_scenario(
    "<!DOCTYPE stream:stream [<!ELEMENT stream:stream ANY>]>",
    FEATURES_STARTTLS)
SCENARIO_ENTITY = dtd_scenario(
    "<!DOCTYPE stream:stream [<!ENTITY feat '%s'>]>"
    % FEATURES_STARTTLS.replace("'", "&apos;"), "&feat;")
SCENARIO_LAUGHS = dtd_scenario(LOL, "<stream:features>&lol9;"
                               "</stream:features>")
SCENARIO_XXE = dtd_scenario(
    "<!DOCTYPE stream:stream [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>",
    "<stream:features><starttls xmlns='%s'><required/>&xxe;</starttls>"
    "</stream:features>" % NS_TLS)


def sc_xxe_after_restart(c):
    """The same external entity inside TLS, in the stream the server opens
    after SASL success: the reader reset for the restart must keep the
    restrictions."""
    c.authenticate()
    c.expect("header")
    c.send("<?xml version='1.0'?><!DOCTYPE stream:stream [<!ENTITY xxe "
           "SYSTEM 'file:///etc/passwd'>]>" +
           header().replace("<?xml version='1.0'?>", "") +
           "<stream:features><bind xmlns='%s'/>&xxe;</stream:features>"
           % NS_BIND)
    c.drain(10)


def online_then(payload_fn):
    """Logs the client in, then hands the connection to payload_fn."""
    def run(c):
        c.login()
        payload_fn(c)
    return run


def sc_undeclared_entity(c):
    c.send("<message from='%s/x'><body>&xxe;</body></message>"
           % ROSTER_CONTACT)
    c.drain(10)


def sc_endless_stanza(c):
    """A stanza that never ends: 64 KiB of text at a time, up to 512 MiB,
    until the client hangs up."""
    c.send("<message from='%s/x'><body>" % ROSTER_CONTACT)
    chunk = b"A" * 65536
    sent = 0
    try:
        while sent < 512 * 1024 * 1024:
            c.send(chunk)
            sent += len(chunk)
    finally:
        c.event("endless stanza: %d MiB sent" % (sent >> 20))


def sc_deep_nesting(c):
    c.send("<message from='%s/x'>" % ROSTER_CONTACT + "<a>" * 100000)
    c.drain(10)


def sc_invalid_utf8(c):
    c.send(b"<presence from='bob@hostile.example/x'><status>caf\xc3("
           b"\xff\xfe</status></presence>")
    c.drain(10)


def sc_nul_bytes(c):
    c.send(b"<presence from='bob@hostile.example/x'><status>a\x00b"
           b"</status></presence>")
    c.drain(10)


def sc_stream_error(condition, content=""):
    def run(c):
        c.send(stream_error(condition, "hostile test", content))
        c.drain(5)
    return run


def sc_close_mid_stanza(c):
    c.send("<presence from='%s/x'><show>aw" % ROSTER_CONTACT)
    time.sleep(0.2)
    c.raw.shutdown(socket.SHUT_RDWR)


def sc_tcp_reset(c):
    c.send("<presence from='%s/x'><show>away</show></presence>"
           % ROSTER_CONTACT)
    time.sleep(0.2)
    c.reset()


def sc_never_answers(c):
    """Accepts and says nothing; reads what the client sends."""
    c.drain(c.server.lifetime)


def sc_sasl_failure(c):
    auth = c.to_auth()
    c.scram_challenge(auth)
    c.expect("stanza", "{%s}response" % NS_SASL)
    c.send("<failure xmlns='%s'><not-authorized/><text>hostile: wrong "
           "password</text></failure>" % NS_SASL)
    c.drain(10)


def sc_bad_server_signature(c):
    auth = c.to_auth()
    c.scram_challenge(auth)
    response = c.expect("stanza", "{%s}response" % NS_SASL)
    sig = c.scram_verify(response)
    if sig is None:
        raise Closed("client proof did not verify")
    c.success(bytes([sig[0] ^ 1]) + sig[1:])
    c.restart()
    # A client that believed us would now restart the stream.
    try:
        c.expect("header", timeout=5)
        c.event("CLIENT RESTARTED AFTER A BAD SIGNATURE")
        c.send(header() + FEATURES_BIND)
        c.drain(5)
    except Closed:
        pass


# ---- failures that heal (issue #12) -------------------------------------------
#
# The first connection fails as the scenario says; every later one is a
# well-behaved server. The daemon must come back online by itself.


def then_good(first):
    def run(c):
        if c.n == 1:
            first(c)
            return
        c.login()
        c.drain(c.server.lifetime)
    return run


def sc_starttls_failure(c):
    """<starttls/> answered with <failure/> (RFC 6120 §5.4.2.2)."""
    c.to_starttls()
    c.send("<failure xmlns='%s'/></stream:stream>" % NS_TLS)


def sc_plain_conflict(c):
    """A forged conflict before TLS: unauthenticated, it must not stop
    the daemon's attempts."""
    c.expect("header")
    c.send(header() + stream_error("conflict", "forged in plaintext"))
    try:
        c.next(5)
    except Closed:
        pass


def sc_hostile_iterations(c):
    """A SCRAM iteration count no client should compute."""
    auth = c.to_auth()
    c.scram_challenge(auth, iterations=1 << 31)
    try:
        c.next(5)
    except Closed:
        pass


def sc_temporary_auth_failure(c):
    auth = c.to_auth()
    c.scram_challenge(auth)
    c.expect("stanza", "{%s}response" % NS_SASL)
    c.send("<failure xmlns='%s'><temporary-auth-failure/></failure>"
           % NS_SASL)
    try:
        c.next(5)
    except Closed:
        pass


def sc_close_never_answered(c):
    """Online; when the client closes the stream, say nothing and keep
    the TCP connection open: only the client's own deadline ends it.
    Every connection does the same."""
    c.login()
    try:
        while True:
            got, el = c.next(c.server.lifetime)
            if got == "stanza" and el.tag == "{%s}iq" % NS_CLIENT:
                c.answer_iq(el)
            if got == "close":
                c.event("client closed the stream: not answering")
                break
    except Closed:
        return
    # Below TLS: its close_notify reads as an end of the TLS stream, but
    # the TCP connection stays open until the client drops it.
    fd = c.sock.fileno()
    deadline = time.monotonic() + c.server.lifetime
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if ready and not os.read(fd, 65536):
            c.event("client dropped the connection")
            return


# ---- SASL2, Bind2 and FAST (issue #16) --------------------------------------
#
# SASL2 is offered next to legacy SASL. An <authenticate/> gets the
# misbehaviour; an <auth/> (the client fell back) a correct legacy login.


def sasl2_then_legacy(misbehave, fast=False):
    def run(c):
        auth = c.to_auth(features=features_sasl2(fast), sasl2=True)
        if auth.tag == "{%s}auth" % NS_SASL:
            c.login(auth=auth)
            c.drain(c.server.lifetime)
            return
        misbehave(c, auth)
    return run


def watch_after(c, what):
    """After a SASL2 answer the client must not take: an IQ from it means
    it went on as if logged in."""
    try:
        while True:
            got, el = c.next(5)
            if got == "stanza" and el.tag == "{%s}iq" % NS_CLIENT:
                c.event("CLIENT WENT ON AFTER %s" % what)
                return
            if got == "stanza":
                c.event("client sent %s" % el.tag)
            if got == "close":
                c.event("client closed the stream")
                return
    except Closed:
        pass


def sc_sasl2_malformed_success(c, auth):
    """A SCRAM exchange, then a <success/> without <additional-data/>:
    no server signature, nothing proves the server knows the password."""
    c.scram_exchange(auth)
    c.sasl2_success(auth, None)
    watch_after(c, "A SUCCESS WITHOUT A SERVER SIGNATURE")


def sc_sasl2_unknown_continue(c, auth):
    """A valid server-final, but in a <continue/> with a task no client
    knows (XEP-0388 §2.6.3)."""
    sig = c.scram_exchange(auth)
    c.send("<continue xmlns='%s'><additional-data>%s</additional-data>"
           "<tasks><task>UNKNOWN-TASK</task></tasks>"
           "<text>hostile: a task</text></continue>"
           % (NS_SASL2, base64.b64encode(b"v=" + base64.b64encode(sig))
              .decode()))
    watch_after(c, "AN UNKNOWN TASK")


def sc_sasl2_fails(c, auth):
    c.send("<failure xmlns='%s'><temporary-auth-failure xmlns='%s'/>"
           "<text>hostile: try later</text></failure>"
           % (NS_SASL2, NS_SASL))
    watch_after(c, "A FAILURE")


def ht_hmac(label):
    """HT-SHA-256-NONE (XEP-0484): HMAC-SHA-256(token, label), no
    channel binding."""
    return hmac.new(FAST_TOKEN.encode(), label, "sha256").digest()


def sc_fast_bad_hmac(c, auth):
    """The client's FAST token is taken, but the server's answer is the
    Initiator HMAC, not the Responder one: it does not verify. A password
    login (SCRAM inside SASL2) is served correctly."""
    if auth.get("mechanism") != FAST_MECHANISM:
        c.sasl2_login(auth)
        c.drain(c.server.lifetime)
        return
    initial = base64.b64decode(
        auth.findtext("{%s}initial-response" % NS_SASL2) or "")
    c.event("FAST initiator %s"
            % ("verified" if initial == USER.encode() + b"\0" +
               ht_hmac(b"Initiator") else "DID NOT VERIFY"))
    c.sasl2_success(auth, ht_hmac(b"Initiator"))
    watch_after(c, "A BAD FAST HMAC")


def flood(make, count, batch=5000):
    def run(c):
        sent = 0
        while sent < count:
            n = min(batch, count - sent)
            c.send("".join(make(i) for i in range(sent, sent + n)))
            sent += n
        # The marker the test waits for: everything before it was read.
        # From another contact: bob's resources may be at their bound.
        c.send("<presence from='%s/marker'><show>chat</show>"
               "<status>flood-done</status><priority>1</priority>"
               "</presence>" % MARKER_CONTACT)
        c.event("flood of %d sent" % count)
        c.drain(c.server.lifetime)
    return run


SHOWS = ("away", "dnd", "xa", "chat")


def flood_presence(i):
    return ("<presence from='%s/r%d'><show>%s</show><status>n%d</status>"
            "</presence>" % (ROSTER_CONTACT, i % 100, SHOWS[i % 4], i))


def flood_distinct(i):
    return ("<presence from='u%d@flood.example/r'><status>s</status>"
            "</presence>" % i)


def strangers_big(i):
    """1,000 strangers × 64 resources of 1 KiB names and 1 KiB statuses:
    ~128 MB if the table kept it all (issue #12)."""
    who, res = divmod(i, 64)
    return ("<presence from='s%d@big.example/%s%d'><status>%s</status>"
            "</presence>" % (who % 1000, "r" * 1000, res, "s" * 1000))


def sc_empty_children(c):
    """One 16 MiB stanza of empty child elements: ~470 MB of tree if it
    were built whole; the tree budget ends it (policy-violation)."""
    c.login()
    c.send("<message from='%s/x'>" % ROSTER_CONTACT)
    chunk = b"<a/>" * 16384
    sent = 0
    try:
        while sent < 16 * 1024 * 1024:
            c.send(chunk)
            sent += len(chunk)
        c.send("</message>")
    finally:
        c.event("empty children: %d MiB sent" % (sent >> 20))
    c.drain(c.server.lifetime)


def roster_bloat(i):
    """Roster pushes whose items carry 64 groups of 1 KiB and a 1 KiB name:
    64 KiB each; 4,000 of them would be 256 MB without the byte budget."""
    groups = "".join("<group>%s%d</group>" % ("g" * 1000, g)
                     for g in range(64))
    return ("<iq type='set' id='push%d'><query xmlns='jabber:iq:roster'>"
            "<item jid='bloat%d@big.example' name='%s' subscription='both'>"
            "%s</item></query></iq>" % (i, i, "n" * 1000, groups))


def sc_slow_drip(c):
    """The stream header, one byte a second, forever."""
    c.expect("header")
    for b in (header() + FEATURES_STARTTLS).encode():
        c.send(bytes([b]))
        time.sleep(1)


def flood_count():
    return int(os.environ.get("HOSTILE_FLOOD_COUNT", "1000000"))


SCENARIOS = {
    "no-starttls": sc_no_starttls,
    "untrusted-cert": sc_untrusted_cert,
    "wrong-name-cert": sc_wrong_name_cert,
    "proceed-injection": sc_proceed_injection,
    "dtd": SCENARIO_DTD,
    "entity-decl": SCENARIO_ENTITY,
    "billion-laughs": SCENARIO_LAUGHS,
    "external-entity": SCENARIO_XXE,
    "undeclared-entity": online_then(sc_undeclared_entity),
    "xxe-after-restart": sc_xxe_after_restart,
    "endless-stanza": online_then(sc_endless_stanza),
    "deep-nesting": online_then(sc_deep_nesting),
    "invalid-utf8": online_then(sc_invalid_utf8),
    "nul-bytes": online_then(sc_nul_bytes),
    "conflict": online_then(sc_stream_error("conflict")),
    "see-other-host": online_then(sc_stream_error(
        "see-other-host", content="[::1]:5222")),
    "system-shutdown": online_then(sc_stream_error("system-shutdown")),
    "close-mid-stanza": online_then(sc_close_mid_stanza),
    "tcp-reset": online_then(sc_tcp_reset),
    "never-answers": sc_never_answers,
    "connect-timeout": None,  # Server.serve: the handshake never completes
    "sasl-failure": sc_sasl_failure,
    "bad-server-signature": sc_bad_server_signature,
    "presence-flood": lambda c: (c.login(),
                                 flood(flood_presence, flood_count())(c)),
    "distinct-jids": lambda c: (c.login(),
                                flood(flood_distinct, flood_count())(c)),
    "slow-drip": sc_slow_drip,
    "strangers-big": lambda c: (c.login(),
                                flood(strangers_big, 64000, batch=500)(c)),
    "empty-children": sc_empty_children,
    "roster-bloat": lambda c: (c.login(),
                               flood(roster_bloat, 4000, batch=50)(c)),
    "good": online_then(lambda c: c.drain(c.server.lifetime)),
    "untrusted-cert-then-good": then_good(sc_untrusted_cert),
    "wrong-name-cert-then-good": then_good(sc_wrong_name_cert),
    "no-starttls-then-good": then_good(sc_no_starttls),
    "starttls-failure-then-good": then_good(sc_starttls_failure),
    "plain-conflict-then-good": then_good(sc_plain_conflict),
    "bad-server-signature-then-good": then_good(sc_bad_server_signature),
    "hostile-iterations-then-good": then_good(sc_hostile_iterations),
    "temporary-auth-failure-then-good": then_good(
        sc_temporary_auth_failure),
    "close-never-answered": sc_close_never_answered,
    "sasl2-malformed-success": sasl2_then_legacy(
        sc_sasl2_malformed_success),
    "sasl2-unknown-continue": sasl2_then_legacy(sc_sasl2_unknown_continue),
    "sasl2-fails": sasl2_then_legacy(sc_sasl2_fails),
    "fast-bad-hmac": sasl2_then_legacy(sc_fast_bad_hmac, fast=True),
}


class Server:
    def __init__(self, scenario, certs, capture, lifetime):
        self.scenario = SCENARIOS[scenario]
        self.name = scenario
        self.certs = certs
        self.capture_base = capture
        self.lifetime = lifetime
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.fillers = []
        if scenario == "connect-timeout":
            # A full accept queue: the kernel drops further SYNs, so the
            # client's connect() hangs until its own timeout.
            self.listener.listen(0)
            for _ in range(3):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                try:
                    s.connect(("127.0.0.1", self.port))
                except BlockingIOError:
                    pass
                self.fillers.append(s)
        else:
            self.listener.listen(8)
        for suffix in (".plain", ".tls", ".events"):
            open(capture + suffix, "wb").close()

    def cert_path(self, name):
        return os.path.join(self.certs, name + ".pem")

    def key_path(self, name):
        return os.path.join(self.certs, name + ".key")

    def capture(self, tls, data):
        with self.lock, open(self.capture_base +
                             (".tls" if tls else ".plain"), "ab") as f:
            f.write(data)

    def event(self, text):
        with self.lock, open(self.capture_base + ".events", "a") as f:
            f.write("%.3f %s\n" % (time.monotonic(), text))

    def handle(self, sock, n):
        c = Conn(self, sock, n)
        self.event("connection from %s:%d" % sock.getpeername())
        try:
            self.scenario(c)
            self.event("scenario done")
        except Closed as e:
            self.event("ended: %s" % e)
        except Exception as e:  # a bug here must not hang the test
            self.event("server error: %r" % e)
        finally:
            try:
                c.sock.close()
            except OSError:
                pass

    def serve(self):
        deadline = time.monotonic() + self.lifetime
        n = 0
        if self.scenario is None:
            self.event("listening, never accepting")
            time.sleep(self.lifetime)
            return
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.listener.settimeout(min(left, 1.0))
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            n += 1
            threading.Thread(target=self.handle, args=(sock, n),
                             daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--certs", required=True,
                    help="directory with good/untrusted/wrongname .pem/.key")
    ap.add_argument("--capture", required=True, help="capture file prefix")
    ap.add_argument("--lifetime", type=float, default=120.0)
    args = ap.parse_args()
    server = Server(args.scenario, args.certs, args.capture, args.lifetime)
    print("PORT %d" % server.port, flush=True)
    server.serve()
    # Threads are daemons: leaving main ends them and their sockets.
    os._exit(0)


if __name__ == "__main__":
    main()
