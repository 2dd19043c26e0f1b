#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Hostile and broken servers (issue #5): the real presenced against the
scripted misbehaving server in hostile_server.py, one TAP test a scenario.

Each scenario gets a fresh private dbus-daemon, a fresh daemon and a fresh
server (loopback, random port, bounded lifetime, killed by PID). It waits
for the StateReason the contract gives for that failure, then checks:
  - the daemon is alive and in the expected State, with a StateMessage
    that is logged (the "clear log line") and holds no secret;
  - the password never crossed the wire outside TLS (the server captures
    every plaintext byte) and never reached the log;
  - the scenario's own checks (no <auth/> without TLS, /etc/passwd never
    echoed, memory bounded, table bounds, D-Bus still answering);
  - SIGTERM stops it cleanly (exit 0), with no sanitizer report and no
    GLib critical in its log.

Environment: PRESENCED (the binary; default ./presenced from the build
tree), HOSTILE_SCENARIOS (comma-separated subset), HOSTILE_FLOOD_COUNT
(default 1000000), HOSTILE_KEEP=1 (keep the temporary directory),
HOSTILE_JOBS (scenarios run at once, default 2).
"""

import base64
import concurrent.futures
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hostile_server as hs  # noqa: E402

BUS_NAME = "im.presenced.Presence1"
OBJ_PATH = "/im/presenced/Presence1"
IFACE = "im.presenced.Presence1"
JID = "%s@%s" % (hs.USER, hs.DOMAIN)
NEGOTIATION_TIMEOUT = 30  # the session's default; the daemon offers no knob
TEST_DEADLINE = 900       # the whole script, seconds (SIGALRM)


# ---- processes ----------------------------------------------------------------

def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when this test dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def stop(proc, timeout=10):
    """Ends a process we started, by PID: SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return proc.returncode if proc else None
    try:
        os.kill(proc.pid, signal.SIGTERM)
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        return None


def find_presenced():
    path = os.environ.get("PRESENCED")
    if not path:
        build = os.environ.get("top_builddir", os.getcwd())
        path = os.path.join(build, "presenced")
    return path


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=True,
                          **kw).stdout


# ---- certificates ---------------------------------------------------------------

def make_certs(d):
    """A test CA, a good server certificate for the JID's domain, one for
    another name, and a self-signed one for the right name (certtool)."""
    def tmpl(name, text):
        p = os.path.join(d, name + ".tmpl")
        with open(p, "w") as f:
            f.write(text + "expiration_days = 2\n")
        return p

    def key(name):
        p = os.path.join(d, name + ".key")
        run(["certtool", "--generate-privkey", "--key-type=ecdsa",
             "--outfile", p])
        return p

    ca_key = key("ca")
    run(["certtool", "--generate-self-signed", "--load-privkey", ca_key,
         "--template", tmpl("ca", 'cn = "Hostile Test CA"\nca\n'
                            "cert_signing_key\n"),
         "--outfile", os.path.join(d, "ca.pem")])
    server = ("tls_www_server\nsigning_key\nencryption_key\n")
    for name, dns in (("good", hs.DOMAIN), ("wrongname", "other.example")):
        run(["certtool", "--generate-certificate",
             "--load-privkey", key(name),
             "--load-ca-certificate", os.path.join(d, "ca.pem"),
             "--load-ca-privkey", ca_key,
             "--template", tmpl(name, 'cn = "%s"\ndns_name = "%s"\n%s'
                                % (dns, dns, server)),
             "--outfile", os.path.join(d, name + ".pem")])
    run(["certtool", "--generate-self-signed",
         "--load-privkey", key("untrusted"),
         "--template", tmpl("untrusted", 'cn = "%s"\ndns_name = "%s"\n%s'
                            % (hs.DOMAIN, hs.DOMAIN, server)),
         "--outfile", os.path.join(d, "untrusted.pem")])


# ---- D-Bus ----------------------------------------------------------------------

def start_bus(d):
    conf = os.path.join(d, "bus.conf")
    with open(conf, "w") as f:
        f.write("""<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
  <!-- The limits of the distribution's session.conf, which users get. -->
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">1000000000</limit>
  <limit name="service_start_timeout">120000</limit>
  <limit name="auth_timeout">240000</limit>
  <limit name="pending_fd_timeout">150000</limit>
  <limit name="max_completed_connections">100000</limit>
  <limit name="max_incomplete_connections">10000</limit>
  <limit name="max_connections_per_user">100000</limit>
  <limit name="max_pending_service_starts">10000</limit>
  <limit name="max_names_per_connection">50000</limit>
  <limit name="max_match_rules_per_connection">50000</limit>
  <limit name="max_replies_per_connection">50000</limit>
</busconfig>
""" % d)
    bus_log = open(os.path.join(d, "dbus-daemon.log"), "w")
    proc = subprocess.Popen(["dbus-daemon", "--config-file=" + conf,
                             "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=bus_log,
                            text=True,
                            preexec_fn=_die_with_parent)
    bus_log.close()
    address = proc.stdout.readline().strip()
    if not address:
        stop(proc)
        raise RuntimeError("dbus-daemon printed no address")
    return proc, address


class Bus:
    def __init__(self, address):
        self.env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=address)

    def call(self, method, *args, iface=IFACE, timeout=10):
        """gdbus call; returns (stdout, seconds) or (None, seconds)."""
        t0 = time.monotonic()
        try:
            out = subprocess.run(
                ["gdbus", "call", "--session", "--dest", BUS_NAME,
                 "--object-path", OBJ_PATH, "--timeout", str(timeout),
                 "--method", "%s.%s" % (iface, method)] + list(args),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=self.env, timeout=timeout + 5)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - t0
        dt = time.monotonic() - t0
        return (out.stdout if out.returncode == 0 else None), dt

    def props(self):
        """State, StateReason, StateMessage (None if the call fails)."""
        out, _ = self.call("GetAll", IFACE,
                           iface="org.freedesktop.DBus.Properties")
        if out is None:
            return None
        props = {}
        for key in ("State", "StateReason", "StateMessage"):
            m = re.search(r"'%s': <'((?:[^'\\]|\\.)*)'>" % key, out)
            if not m:
                m = re.search(r"'%s': <\"((?:[^\"\\]|\\.)*)\">" % key, out)
            props[key] = m.group(1) if m else None
        return props

    def has_owner(self):
        out = subprocess.run(
            ["gdbus", "call", "--session", "--dest", "org.freedesktop.DBus",
             "--object-path", "/org/freedesktop/DBus", "--method",
             "org.freedesktop.DBus.NameHasOwner", BUS_NAME],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=self.env)
        return "true" in out.stdout


def wait_for(pred, timeout, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


# ---- memory ---------------------------------------------------------------------

def vm_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


class RssWatch(threading.Thread):
    """Samples the daemon's VmRSS every 50 ms; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            v = vm_rss_kib(self.pid)
            if v is None:
                return
            self.peak = max(self.peak, v)
            self.stopped.wait(0.05)


def is_asan_build(binary):
    with open(binary, "rb") as f:
        return b"AddressSanitizer" in f.read()


# ---- one scenario ----------------------------------------------------------------

class Scenario:
    """What a scenario expects. reasons: acceptable StateReason values;
    states: acceptable State values once it failed (None: online)."""

    def __init__(self, name, reasons, states=("reconnecting", "offline"),
                 timeout=20, check=None, rss=False, desc=None, alone=False,
                 fast_token=False):
        self.name = name
        self.fast_token = fast_token  # seed the state file with a token
        self.alone = alone
        self.reasons = reasons
        self.states = states
        self.timeout = timeout
        self.check = check
        self.rss = rss
        self.desc = desc or name


class Run:
    """Everything one scenario started, and its verdict."""

    def __init__(self, sc, top, binary):
        self.sc = sc
        self.dir = os.path.join(top, sc.name)
        os.makedirs(self.dir)
        self.binary = binary
        self.certs = os.path.join(top, "certs")
        self.capture = os.path.join(self.dir, "capture")
        self.log_path = os.path.join(self.dir, "presenced.log")
        # $XDG_STATE_HOME of this daemon alone: the SCRAM mark, the
        # user-agent id and a FAST token never leak between scenarios.
        self.state_home = os.path.join(self.dir, "state")
        self.state_path = os.path.join(self.state_home, "presenced",
                                       "accounts")
        self.problems = []
        self.notes = []
        self.server = self.daemon = self.bus_proc = None

    def fail(self, what):
        self.problems.append(what)

    def read(self, suffix, mode="rb"):
        try:
            with open(self.capture + suffix, mode) as f:
                return f.read()
        except OSError:
            return b"" if mode == "rb" else ""

    @staticmethod
    def _text(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log(self):
        return self._text(self.log_path)

    def state(self):
        return self._text(self.state_path)

    def seed_fast_token(self):
        """The key file of daemon/account-state.c, as a FAST login
        left it: the installation's user-agent id and the account's
        token, its mechanism and an expiry far ahead."""
        os.makedirs(os.path.dirname(self.state_path), mode=0o700)
        fd = os.open(self.state_path, os.O_WRONLY | os.O_CREAT, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("[installation]\nuser-agent-id=%s\n\n"
                    "[%s]\nfast-token=%s\nfast-mechanism=%s\n"
                    "fast-expiry=2099-01-01T00:00:00Z\n"
                    % (uuid.uuid4(), JID, hs.FAST_TOKEN,
                       hs.FAST_MECHANISM))

    def start(self):
        lifetime = self.sc.timeout + 60
        if self.sc.fast_token:
            self.seed_fast_token()
        self.server = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "hostile_server.py"),
             "--scenario", self.sc.name, "--certs", self.certs,
             "--capture", self.capture, "--lifetime", str(lifetime)],
            stdout=subprocess.PIPE, text=True, preexec_fn=_die_with_parent)
        line = self.server.stdout.readline()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            raise RuntimeError("hostile server did not start: %r" % line)
        port = int(m.group(1))
        cfg = os.path.join(self.dir, "presenced.conf")
        with open(cfg, "w") as f:
            f.write("[account]\njid = %s\npassword = %s\nresource = hostile\n"
                    "server = 127.0.0.1\nport = %d\nca-file = %s\n"
                    "[presence]\nshow = available\nstatus = testing\n"
                    % (JID, hs.PASSWORD, port,
                       os.path.join(self.certs, "ca.pem")))
        self.bus_proc, address = start_bus(self.dir)
        self.bus = Bus(address)
        env = dict(self.bus.env, G_MESSAGES_DEBUG="all",
                   XDG_STATE_HOME=self.state_home)
        # Freed memory waits in ASan's quarantine (256 MiB by default),
        # which would swamp the VmRSS bounds: keep it small.
        env["ASAN_OPTIONS"] = ":".join(
            x for x in (os.environ.get("ASAN_OPTIONS"),
                        "quarantine_size_mb=16") if x)
        self.log_file = open(self.log_path, "w")
        self.daemon = subprocess.Popen(
            [self.binary, "--debug", "--config", cfg], stdout=self.log_file,
            stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
        if not wait_for(self.bus.has_owner, 15, 0.05):
            raise RuntimeError("presenced did not take %s" % BUS_NAME)
        self.baseline_rss = vm_rss_kib(self.daemon.pid) or 0
        self.watch = RssWatch(self.daemon.pid)
        self.watch.start()

    def wait_reason(self):
        """Polls the properties until StateReason is one we expect."""
        seen = []

        def got():
            if self.daemon.poll() is not None:
                return "dead"
            p = self.bus.props()
            if p and p != (seen[-1] if seen else None):
                seen.append(p)
            if p and self.sc.reasons and p["StateReason"] in self.sc.reasons:
                return p
            return None

        t0 = time.monotonic()
        p = wait_for(got, self.sc.timeout, 0.1)
        self.elapsed = time.monotonic() - t0
        self.seen = seen
        return p

    def common_checks(self, props):
        sc = self.sc
        if props == "dead":
            self.fail("presenced died (status %s)" % self.daemon.returncode)
            return
        if not props:
            last = self.seen[-1] if self.seen else None
            self.fail("StateReason never became %s within %d s (last: %s)"
                      % ("/".join(sc.reasons), sc.timeout, last))
            return
        self.notes.append("State=%s StateReason=%s after %.1f s"
                          % (props["State"], props["StateReason"],
                             self.elapsed))
        self.notes.append("StateMessage: %s" % props["StateMessage"])
        if props["State"] not in sc.states:
            self.fail("State %s, expected %s" % (props["State"],
                                                 "/".join(sc.states)))
        msg = props["StateMessage"] or ""
        if not msg:
            self.fail("empty StateMessage")
        if hs.PASSWORD in msg:
            self.fail("password in StateMessage")
        # One line: it is logged as one and shown in one (gdbus prints a
        # control character escaped, as \n or \t).
        if re.search(r"\\[ntr]|[\x00-\x1f]", msg):
            self.fail("StateMessage spans lines or has control characters")

    def log_line_check(self, props):
        """The clear log line: a warning that carries the StateMessage."""
        log = self.log()
        lines = [line for line in log.splitlines()
                 if re.search(r"WARNING|Warning|warning", line)
                 and not line.startswith(("SEND", "RECV"))]
        msg = props["StateMessage"] if isinstance(props, dict) else None
        # GLib may escape or wrap; compare the first 40 characters.
        if msg and not any(msg[:40] in line for line in log.splitlines()):
            self.fail("StateMessage not in the daemon log")
        if lines:
            self.notes.append("log: " + lines[-1].strip()[:200])
        elif props and props != "dead":
            self.fail("no warning line in the daemon log")

    def wire_checks(self):
        plain = self.read(".plain")
        secrets = [hs.PASSWORD.encode(),
                   base64.b64encode(b"\0" + hs.USER.encode() + b"\0" +
                                    hs.PASSWORD.encode())]
        for s in secrets:
            if s in plain:
                self.fail("password on the wire outside TLS")
        if hs.PASSWORD in self.log():
            self.fail("password in the daemon log")
        events = self.read(".events", "r")
        if "AUTH IN PLAINTEXT" in events or \
                re.search(rb"<auth[ >]", plain):
            self.fail("client sent <auth/> outside TLS")

    def finish(self):
        """SIGTERM: clean stop, exit 0; then sanitizer/critical scan."""
        if self.daemon.poll() is None:
            status = stop(self.daemon, 15)
            if status is None:
                self.fail("presenced did not stop within 15 s of SIGTERM")
            elif status != 0:
                self.fail("presenced exited %s on SIGTERM" % status)
        self.watch.stopped.set()
        self.log_file.close()
        log = self.log()
        for pat, what in ((r"ERROR: AddressSanitizer", "ASan report"),
                          (r"ERROR: LeakSanitizer", "leak report"),
                          (r"runtime error:", "UBSan report"),
                          (r"CRITICAL", "GLib critical")):
            if re.search(pat, log):
                self.fail(what + " in the daemon log")

    def cleanup(self):
        for p in (self.daemon, self.server, self.bus_proc):
            stop(p, 5)


# ---- scenario-specific checks ----------------------------------------------------

def rss_limit_kib(run):
    # ASan's allocator and shadow memory cost more even with the small
    # quarantine; either bound still catches buffering the 512 MiB stanza
    # or a table that grows with the flood.
    return (160 if run.asan else 96) * 1024


def check_rss(run):
    grow = run.watch.peak - run.baseline_rss
    run.notes.append("VmRSS: %d KiB at start, peak %d KiB (+%d KiB)"
                     % (run.baseline_rss, run.watch.peak, grow))
    if grow > rss_limit_kib(run):
        run.fail("memory not bounded: VmRSS grew by %d MiB" % (grow >> 10))


def check_no_passwd(run):
    try:
        with open("/etc/passwd", "rb") as f:
            first = f.readline().strip()
    except OSError:
        first = b"root:x:0:0"
    for where, data in (("wire (TLS)", run.read(".tls")),
                        ("wire (plain)", run.read(".plain")),
                        ("log", run.log().encode())):
        if first and first in data:
            run.fail("/etc/passwd contents in the %s" % where)


def check_no_restart_after_bad_signature(run):
    if "CLIENT RESTARTED" in run.read(".events", "r"):
        run.fail("the client went on after a bad server signature")


def check_no_injected_login(run):
    # Online means the client ignored the forged features and <success/>
    # and logged in for real inside TLS (the server insists on SCRAM);
    # <auth/> outside TLS is caught by wire_checks.
    if "online as" not in run.read(".events", "r"):
        run.fail("no real login after the injection")


def flood_check(distinct):
    """distinct: True, presence from a million JIDs (the stranger bound);
    False, bob's 100 resources (the resource bound); None, neither (the
    byte-budget floods: only the marker, the replies and the state)."""
    def check(run):
        def done():
            out, _ = run.bus.call("GetContact", hs.MARKER_CONTACT,
                                  timeout=30)
            return out if out and "flood-done" in out else None

        # The flood can take a while under sanitizers; the D-Bus calls are
        # timed while it is processed to show the daemon keeps answering.
        worst = 0.0
        start = time.monotonic()
        deadline = start + run.sc.timeout
        result = None
        while time.monotonic() < deadline:
            if run.daemon.poll() is not None:
                run.fail("presenced died during the flood")
                return
            t0 = time.monotonic()
            result = done()
            worst = max(worst, time.monotonic() - t0)
            if result:
                break
            time.sleep(0.5)
        run.notes.append("slowest D-Bus reply during the flood: %.2f s"
                         % worst)
        if not result:
            run.fail("the flood was not processed within %d s"
                     % run.sc.timeout)
            return
        events = run.read(".events", "r")
        m = re.search(r"flood of (\d+) sent", events)
        # The server's clock is the same CLOCK_MONOTONIC: time from its
        # login to the marker seen here.
        t = re.search(r"^([\d.]+) conn \d+: online as", events, re.M)
        run.notes.append("flood of %s presences processed in %.1f s"
                         % (m.group(1) if m else "?",
                            time.monotonic() - (float(t.group(1)) if t
                                                else start)))
        if worst > 5:
            run.fail("a D-Bus call took %.1f s during the flood" % worst)
        p = run.bus.props()
        if not p or p["State"] != "online":
            run.fail("not online after the flood: %s" % p)
        out, dt = run.bus.call("ListContacts")
        n = len(re.findall(r"\('", out or ""))
        run.notes.append("ListContacts: %d contacts (%.2f s)" % (n, dt))
        if out is None:
            run.fail("ListContacts failed")
        elif distinct and n > 1000 + 2:
            run.fail("%d contacts: the stranger bound of 1,000 broke" % n)
        out, _ = run.bus.call("GetContact", hs.ROSTER_CONTACT)
        if distinct is None:
            return
        if distinct is False and out:
            # 100 resources in the flood: 64 at most.
            nres = len(re.findall(r"\('[^']*', '[a-z]+', '", out))
            run.notes.append("bob has %d resources" % nres)
            if nres > 64 or nres < 1:
                run.fail("%d resources: the bound is 64" % nres)
        check_rss(run)
    return check


def connection_times(run):
    return [float(m.group(1)) for m in re.finditer(
        r"^([\d.]+) connection from", run.read(".events", "r"), re.M)]


HANDFUL = 5  # connections a minute at most (daemon/retry-policy.h)


def heals(run):
    """Issue #12: once the server behaves again the daemon is back online
    within 60 s by itself, in a handful of connections."""
    t0 = time.monotonic()
    online = wait_for(lambda: (run.bus.props() or {}).get("State")
                      == "online", 60, 0.2)
    n = len(connection_times(run))
    run.notes.append("online again %.1f s after the failure was seen, "
                     "%d connections" % (time.monotonic() - t0, n))
    if not online:
        run.fail("not back online within 60 s: %s" % run.bus.props())
    if n > 3:
        run.fail("%d connections to heal one failure" % n)


def check_retry_rate(run):
    """A failure that persists: retried, but never more than a handful of
    connections in any minute."""
    times = connection_times(run)
    wait_for(lambda: time.monotonic() > (times[0] if times else 0) + 62,
             70, 0.5)
    times = connection_times(run)
    worst = max((sum(1 for u in times if t <= u < t + 60) for t in times),
                default=0)
    run.notes.append("%d connections, at most %d in a minute"
                     % (len(times), worst))
    if len(times) < 2:
        run.fail("never retried")
    if worst > HANDFUL:
        run.fail("%d connections in one minute" % worst)
    p = run.bus.props()
    if not p or p["State"] != "reconnecting" or \
            p["StateReason"] != "tls-failed":
        run.fail("not reconnecting with tls-failed: %s" % p)


def check_close_deadline(run):
    """Issue #12: offline while the server never answers our close: State
    is offline a few seconds later, and the next SetPresence connects."""
    out, _ = run.bus.call("SetPresence", "offline", "bye", "@a{sv} {}")
    if out is None:
        run.fail("SetPresence offline failed")
        return
    t0 = time.monotonic()
    off = wait_for(lambda: (run.bus.props() or {}).get("State")
                   == "offline", 20, 0.1)
    dt = time.monotonic() - t0
    run.notes.append("State offline %.1f s after SetPresence offline" % dt)
    if not off or dt > 10:
        run.fail("close not bounded: %s after %.1f s" % (run.bus.props(),
                                                         dt))
        return
    if "client dropped the connection" not in run.read(".events", "r"):
        wait_for(lambda: "client dropped" in run.read(".events", "r"), 5)
    if "client dropped the connection" not in run.read(".events", "r"):
        run.fail("the TCP connection was not dropped")
    run.bus.call("SetPresence", "available", "back", "@a{sv} {}")
    if not wait_for(lambda: (run.bus.props() or {}).get("State")
                    == "online", 30, 0.1):
        run.fail("SetPresence available did not bring it back online: %s"
                 % run.bus.props())
        return
    # A SetPresence while the close is still waiting for the server is
    # kept, not dropped: once the close gives up, it connects with it.
    run.bus.call("SetPresence", "offline", "bye", "@a{sv} {}")
    run.bus.call("SetPresence", "away", "kept", "@a{sv} {}")
    t0 = time.monotonic()
    wait_for(lambda: len(connection_times(run)) >= 3, 20, 0.1)
    online = wait_for(lambda: (run.bus.props() or {}).get("State")
                      == "online", 20, 0.1)
    run.notes.append("SetPresence during the close: online again after "
                     "%.1f s" % (time.monotonic() - t0))
    out, _ = run.bus.call("GetPresence")
    if not online or not out or "'away', 'kept'" not in out:
        run.fail("a SetPresence during the close was lost: %s, %s"
                 % (run.bus.props(), out))
    if "could not send presence" in run.log():
        run.fail("a SetPresence was dropped with a log line")


def sasl2_logins(run):
    """[(connection, 'auth'|'authenticate', mechanism, rest)] in order."""
    return [(int(m.group(1)), m.group(2), m.group(3), m.group(4))
            for m in re.finditer(r"^[\d.]+ conn (\d+): (auth|authenticate) "
                                 r"(\S+) received inside TLS(.*)$",
                                 run.read(".events", "r"), re.M)]


def wait_online(run, timeout=30):
    """Waits for State online; fails if StateReason was ever
    auth-failed on the way (the credentials were never rejected)."""
    reasons = set(p["StateReason"] for p in run.seen if p)

    def online():
        p = run.bus.props() or {}
        reasons.add(p.get("StateReason"))
        return p.get("State") == "online"

    ok = wait_for(online, timeout, 0.1)
    if "auth-failed" in reasons:
        run.fail("StateReason auth-failed on the way")
    if not ok:
        run.fail("not online within %d s: %s" % (timeout, run.bus.props()))
    return ok


def connections_before_online(run):
    """The connection the server saw the client online on. State online
    may come before the server has read the initial presence: wait."""
    def online_conn():
        return re.search(r"^[\d.]+ conn (\d+): online as",
                         run.read(".events", "r"), re.M)

    m = wait_for(online_conn, 5, 0.05)
    return int(m.group(1)) if m else None


def sasl2_start(run):
    """Online, then the logins the server saw (noted) and its events;
    None when the client never got online."""
    if not wait_online(run):
        return None
    logins = sasl2_logins(run)
    run.notes.append("logins: " + "; ".join(
        "conn %d %s %s%s" % x for x in logins))
    return logins, run.read(".events", "r")


def sasl2_healed(run, events, what):
    """Online by the second connection, and nothing sent after what."""
    n = connections_before_online(run)
    run.notes.append("online on connection %s" % n)
    if n is None or n > 2:
        run.fail("%s connections before online, at most 2" % n)
    if "CLIENT WENT ON" in events:
        run.fail("the client went on after %s" % what)


def check_sasl2_fallback(sign=None):
    """Issue #16: SASL2 broke without rejecting our credentials
    (server-error, retried): the next connection logs in with legacy
    SASL and gets online. One <authenticate/> in the whole run, and no
    loop. sign: what the server must have seen the client send after
    the misbehaviour (the <abort/> of a task)."""
    def check(run):
        got = sasl2_start(run)
        if not got:
            return
        logins, events = got
        n2 = sum(1 for x in logins if x[1] == "authenticate")
        if n2 != 1:
            run.fail("%d <authenticate/> in the run, expected one" % n2)
        if logins and logins[0][1] == "authenticate" and \
                "software presenced" not in logins[0][3]:
            run.fail("<authenticate/> without our <user-agent/>")
        if len(logins) < 2 or logins[1][1] != "auth" or \
                logins[1][0] != logins[0][0] + 1:
            run.fail("the next connection did not use legacy SASL")
        sasl2_healed(run, events, "the broken SASL2 answer")
        if sign and sign not in events:
            run.fail("the server never saw %s" % sign)
        n2 = len(re.findall(rb"<authenticate[ >/]", run.read(".tls")))
        if n2 != 1:
            run.fail("%d <authenticate/> on the wire, expected one" % n2)
    return check


def check_fast_bad_hmac(run):
    """Issue #16: the server's FAST answer does not verify: server-error,
    the token forgotten, the password once on the next connection, online;
    the token itself never in the log, nor on any wire."""
    got = sasl2_start(run)
    if not got:
        return
    logins, events = got
    fast = [x for x in logins if x[2] == hs.FAST_MECHANISM]
    if len(fast) != 1 or fast[0][0] != 1 or ", fast" not in fast[0][3]:
        run.fail("not one FAST login, on the first connection")
    if "FAST initiator verified" not in events:
        run.fail("the client's FAST initiator HMAC did not verify")
    rest = [x for x in logins if x[2] != hs.FAST_MECHANISM]
    if not rest or rest[0][2] != "SCRAM-SHA-1" or rest[0][0] != 2:
        run.fail("the next connection did not log in with the password")
    sasl2_healed(run, events, "a bad FAST HMAC")
    state = run.state()
    if hs.FAST_TOKEN in state or "fast-token" in state:
        run.fail("the refused FAST token is still in the state file")
    if "user-agent-id" not in state:
        run.fail("the user-agent id is gone from the state file")
    for where, data in (("daemon log", run.log().encode()),
                        ("wire (plain)", run.read(".plain")),
                        ("wire (TLS)", run.read(".tls"))):
        if hs.FAST_TOKEN.encode() in data:
            run.fail("the FAST token in the %s" % where)


FAIL_STATES = ("reconnecting", "offline")

SCENARIOS = [
    Scenario("good", None, states=("online",),
             desc="baseline: the scripted server logs the daemon in"),
    Scenario("no-starttls", ("tls-failed",), states=("reconnecting",),
             desc="no STARTTLS offered: tls-failed, no <auth/>"),
    Scenario("untrusted-cert", ("tls-failed",), states=("reconnecting",),
             check=check_retry_rate, timeout=80,
             desc="certificate from an unknown CA: tls-failed, retried "
             "a handful of times a minute"),
    Scenario("wrong-name-cert", ("tls-failed",), states=("reconnecting",),
             desc="certificate for another name: tls-failed"),
    Scenario("proceed-injection", None, states=("online",),
             check=check_no_injected_login,
             desc="<proceed/> with injected plaintext is never read"),
    Scenario("dtd", ("server-error",), desc="a DTD: server-error"),
    Scenario("entity-decl", ("server-error",),
             desc="entity declarations: server-error"),
    Scenario("billion-laughs", ("server-error",), rss=True,
             desc="billion laughs: server-error, memory bounded"),
    Scenario("external-entity", ("server-error",), check=check_no_passwd,
             desc="external entity file:///etc/passwd: never read"),
    Scenario("xxe-after-restart", ("server-error",), check=check_no_passwd,
             desc="external entity in the post-SASL stream, inside TLS"),
    Scenario("undeclared-entity", ("server-error",), check=check_no_passwd,
             desc="undeclared entity reference online: server-error"),
    Scenario("endless-stanza", ("server-error",), rss=True, timeout=90,
             desc="endless stanza: cut off, memory bounded"),
    Scenario("deep-nesting", ("server-error",),
             desc="deep nesting: server-error"),
    Scenario("invalid-utf8", ("server-error",),
             desc="invalid UTF-8: server-error"),
    Scenario("nul-bytes", ("server-error",), desc="NUL bytes: server-error"),
    Scenario("conflict", ("conflict",), states=("offline",),
             desc="stream error conflict inside TLS: conflict, no retry"),
    Scenario("see-other-host", ("server-error",),
             desc="stream error see-other-host: server-error"),
    Scenario("system-shutdown", ("server-error",),
             desc="stream error system-shutdown: server-error"),
    Scenario("close-mid-stanza", ("network",),
             desc="close in the middle of a stanza: network"),
    Scenario("tcp-reset", ("network",), desc="TCP reset: network"),
    Scenario("never-answers", ("network",),
             timeout=NEGOTIATION_TIMEOUT + 20,
             desc="server accepts and never answers: negotiation timeout"),
    Scenario("connect-timeout", ("network",), timeout=40,
             desc="TCP connect never completes: connect timeout"),
    Scenario("sasl-failure", ("auth-failed",), states=("offline",),
             desc="SASL failure: auth-failed, no retry"),
    Scenario("bad-server-signature", ("server-error",),
             states=("reconnecting",),
             check=check_no_restart_after_bad_signature,
             desc="SCRAM server signature does not verify: server-error, "
             "retried (the server did not reject our credentials)"),
    # Issue #12: each of these used to strand the daemon offline.
    Scenario("untrusted-cert-then-good", ("tls-failed",),
             states=("reconnecting",), check=heals,
             desc="unknown CA, then a good server: online again"),
    Scenario("wrong-name-cert-then-good", ("tls-failed",),
             states=("reconnecting",), check=heals,
             desc="wrong-name certificate, then good: online again"),
    Scenario("no-starttls-then-good", ("tls-failed",),
             states=("reconnecting",), check=heals,
             desc="no STARTTLS, then good: online again"),
    Scenario("starttls-failure-then-good", ("tls-failed",),
             states=("reconnecting",), check=heals,
             desc="STARTTLS <failure/>, then good: online again"),
    Scenario("plain-conflict-then-good", ("server-error",),
             states=("reconnecting",), check=heals,
             desc="forged plaintext conflict, then good: online again"),
    Scenario("bad-server-signature-then-good", ("server-error",),
             states=("reconnecting",), check=heals,
             desc="bad SCRAM server signature, then good: online again"),
    Scenario("hostile-iterations-then-good", ("server-error",),
             states=("reconnecting",), check=heals,
             desc="hostile SCRAM iteration count, then good: online "
             "again"),
    Scenario("temporary-auth-failure-then-good", ("server-error",),
             states=("reconnecting",), check=heals,
             desc="temporary-auth-failure, then good: online again"),
    Scenario("close-never-answered", None, states=("online",),
             check=check_close_deadline,
             desc="our close is never answered: offline within the "
             "close deadline, then online again"),
    # Issue #16: SASL2 that breaks without rejecting our credentials.
    Scenario("sasl2-malformed-success", ("server-error",),
             states=("reconnecting",), check=check_sasl2_fallback(),
             desc="SASL2 <success/> without a server signature: "
             "server-error, then legacy SASL and online"),
    Scenario("sasl2-unknown-continue", ("server-error",),
             states=("reconnecting",),
             check=check_sasl2_fallback(
                 "client sent {urn:xmpp:sasl:2}abort"),
             desc="SASL2 <continue/> with an unknown task: <abort/>, "
             "server-error, then legacy SASL and online"),
    Scenario("sasl2-fails", ("server-error",), states=("reconnecting",),
             check=check_sasl2_fallback(),
             desc="SASL2 temporary-auth-failure: server-error, then "
             "legacy SASL and online"),
    Scenario("fast-bad-hmac", ("server-error",), states=("reconnecting",),
             check=check_fast_bad_hmac, fast_token=True,
             desc="FAST answer that does not verify: server-error, "
             "token forgotten, the password next, online"),
    # Issue #12, byte budgets: peak RSS stays under the bound.
    Scenario("strangers-big", None, states=("online",), rss=True,
             timeout=300, check=flood_check(None), alone=True,
             desc="1,000 strangers x 64 resources x 2 KiB: RSS bounded"),
    Scenario("empty-children", ("server-error",), rss=True, timeout=120,
             desc="16 MiB stanza of empty elements: policy-violation, "
             "RSS bounded"),
    Scenario("roster-bloat", None, states=("online",), rss=True,
             timeout=300, check=flood_check(None), alone=True,
             desc="roster pushes of 64 KiB items: RSS bounded"),
    Scenario("slow-drip", ("network",), timeout=NEGOTIATION_TIMEOUT + 20,
             desc="one byte a second: the negotiation timeout ends it"),
    Scenario("presence-flood", None, states=("online",), timeout=300,
             check=flood_check(False), alone=True,
             desc="a flood of presences: memory bounded, responsive"),
    Scenario("distinct-jids", None, states=("online",), timeout=300,
             check=flood_check(True), alone=True,
             desc="presence from distinct JIDs: stranger bound holds"),
]


def run_scenario(sc, top, binary, asan):
    r = Run(sc, top, binary)
    r.asan = asan
    try:
        r.start()
        if sc.reasons:
            props = r.wait_reason()
            r.common_checks(props)
            if isinstance(props, dict):
                r.log_line_check(props)
        else:
            props = wait_for(lambda: (r.bus.props() or {}).get("State")
                             == "online", 30, 0.1)
            if not props:
                r.fail("never online: %s" % r.bus.props())
        # The check first: a flood's peak comes while it is processed.
        if sc.check and not r.problems:
            sc.check(r)
        if sc.rss:
            check_rss(r)
        r.wire_checks()
        if r.daemon.poll() is not None:
            r.fail("presenced is not running (status %s)"
                   % r.daemon.returncode)
    except Exception as e:
        r.fail("harness: %r" % e)
    finally:
        try:
            r.finish()
        except Exception as e:
            r.fail("harness: %r" % e)
        r.cleanup()
    if r.problems:
        tail = r.log().splitlines()[-25:]
        r.notes += ["presenced log (tail):"] + ["  " + x[:300] for x in tail]
        r.notes += ["server events:"] + [
            "  " + x for x in r.read(".events", "r").splitlines()[-10:]]
    return r


def main():
    signal.signal(signal.SIGALRM, lambda *a: (print(
        "Bail out! test-hostile.py over %d s" % TEST_DEADLINE, flush=True),
        os._exit(1)))
    signal.alarm(TEST_DEADLINE)
    binary = find_presenced()
    if not os.access(binary, os.X_OK):
        print("1..0 # SKIP no presenced binary at %s" % binary)
        return 0 if os.environ.get("MAKELEVEL") else 77
    for tool in ("dbus-daemon", "gdbus", "certtool"):
        if not shutil.which(tool):
            print("Bail out! %s not found" % tool)
            return 1
    wanted = os.environ.get("HOSTILE_SCENARIOS")
    scenarios = [s for s in SCENARIOS
                 if not wanted or s.name in wanted.split(",")]
    top = tempfile.mkdtemp(prefix="presenced-hostile-")
    os.makedirs(os.path.join(top, "certs"))
    make_certs(os.path.join(top, "certs"))
    asan = is_asan_build(binary)
    print("1..%d" % len(scenarios), flush=True)
    failed = 0
    jobs = int(os.environ.get("HOSTILE_JOBS", "2"))
    # The floods measure memory and latency: they run alone, last.
    parallel = [s for s in scenarios if not s.alone]
    n = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_scenario, s, top, binary, asan)
                   for s in parallel]
        results = iter(futures)
        for s in scenarios:
            r = (next(results).result() if s in parallel
                 else run_scenario(s, top, binary, asan))
            n += 1
            print("%s %d - %s" % ("not ok" if r.problems else "ok", n,
                                  s.desc), flush=True)
            for line in r.problems + r.notes:
                print("# " + line, flush=True)
            failed += bool(r.problems)
    if os.environ.get("HOSTILE_KEEP"):
        print("# kept %s" % top)
    else:
        shutil.rmtree(top, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
