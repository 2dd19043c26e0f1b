# SPDX-License-Identifier: MIT
"""
Integration-test harness: a throwaway Prosody on 127.0.0.1, a private D-Bus
session bus, presenced and presencectl from the build tree, and TAP output.

Everything started here has a bounded lifetime: Prosody runs under
timeout(1), every child gets PR_SET_PDEATHSIG so it dies with the test, the
whole test is bounded by SIGALRM, and TestEnv.close() (also run at exit)
ends each process it started, by PID, then removes the temporary directory.

Environment:
  PRESENCED, PRESENCECTL   build-tree binaries (set by make check)
  PRESENCED_IT_KEEP=1      keep the temporary directory for inspection
  PRESENCED_IT_VERBOSE=1   print every log on exit, not only on failure
"""

import atexit
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
BUS_NAME = "im.presenced.Presence1"
OBJ_PATH = "/im/presenced/Presence1"
IFACE = "im.presenced.Presence1"
DOMAIN = "localhost"

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- python --

def ensure_slixmpp():
    """
    The peer needs python3-slixmpp, which lives in the system Python's
    dist-packages. If the python3 first in PATH (pyenv, venv) lacks it,
    re-run this script with the system interpreter, once.
    """
    import logging
    logging.getLogger("slixmpp").setLevel(logging.ERROR)
    try:
        import slixmpp  # noqa: F401
        return True
    except ImportError:
        pass
    system = "/usr/bin/python3"
    if (os.path.exists(system) and os.path.realpath(sys.executable)
            != os.path.realpath(system)
            and not os.environ.get("PRESENCED_IT_REEXEC")):
        os.environ["PRESENCED_IT_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(system, [system] + sys.argv)
    return False


# ------------------------------------------------------------------- TAP --

class Tap:
    """Minimal TAP producer; counts failures for the exit status."""

    def __init__(self, plan=None):
        self.n = 0
        self.failed = 0
        self.planned = plan
        if plan is not None:
            print("1..%d" % plan, flush=True)

    def ok(self, cond, desc, diag=None):
        self.n += 1
        cond = bool(cond)
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, desc),
              flush=True)
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        return cond

    @staticmethod
    def diag(msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def skip_all(self, reason):
        """
        Nothing can run here (no Prosody, no slixmpp). Under make the
        tap-driver turns "1..0 # SKIP" into a SKIP result (which CI counts
        as a failure); run by hand we exit 77, the automake skip status.
        """
        print("1..0 # SKIP %s" % reason, flush=True)
        sys.exit(0 if os.environ.get("MAKELEVEL") else SKIP)

    def bail(self, reason):
        print("Bail out! %s" % reason, flush=True)
        sys.exit(1)

    def done(self):
        if self.planned is None:
            print("1..%d" % self.n, flush=True)
        return 1 if self.failed or (self.planned is not None
                                    and self.n != self.planned) else 0


# ------------------------------------------------------------- processes --

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """preexec_fn: the child gets SIGTERM when the test process dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass
    os.setpgid(0, 0)


def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ours(frm, full):
    """True when frm is the daemon's full JID for the configured `full`:
    the same, or what a Bind2 server (XEP-0386) made of our resource as
    its tag: "tag~suffix" (Prosody 13), "tag.suffix" (ejabberd 24.12).
    The suffix is the server's (base64: it may hold "/"), derived from
    our user-agent id, so it stays the same across reconnects."""
    return bool(frm) and (frm == full or re.fullmatch(
        re.escape(full) + r"[~.].+", frm) is not None)


def bound_jid(env, configured):
    """The full JID the daemon was bound to (the Jid property), checked
    to be ours for the configured one; the configured one otherwise."""
    j = env.get_property("Jid")
    return j if ours(j, configured) else configured


class CutProxy:
    """TCP proxy on 127.0.0.1 to a target port; cut() drops every open
    connection, down() also stops accepting until up()."""

    def __init__(self, target_port):
        self.target = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.conns = []
        self.listener = None
        self.accepted = 0
        self.up()

    def up(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(8)
        self.listener = ls
        threading.Thread(target=self._accept, args=(ls,),
                         daemon=True).start()

    def _accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                s = socket.create_connection(("127.0.0.1", self.target), 5)
            except OSError:
                c.close()
                continue
            # The 5 s is for connecting only: left on the socket, it
            # would end the pump (and cut the link) after 5 s in which
            # the server sent nothing, which ejabberd's quiet streams do.
            s.settimeout(None)
            with self.lock:
                self.conns += [c, s]
                self.accepted += 1
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pump, args=(a, b),
                                 daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for x in conns:
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def down(self):
        if self.listener:
            try:
                # Wakes the accept() of the other thread (Linux).
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        self.cut()

    def close(self):
        self.down()


def wait_for(pred, timeout, interval=0.02):
    """Poll pred() until it returns a true value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def find_tool(name):
    return shutil.which(name)


class Proc:
    """A child process with its output in a log file."""

    def __init__(self, name, argv, log_path, env=None, cwd=None,
                 stdin=subprocess.DEVNULL):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.started = time.monotonic()
        self.p = subprocess.Popen(argv, stdout=self.log,
                                  stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                  stdin=stdin, preexec_fn=_die_with_parent)
        self.pid = self.p.pid

    def alive(self):
        return self.p.poll() is None

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig):
        if self.alive():
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout=5):
        """SIGTERM, then SIGKILL after timeout. Returns the exit status."""
        if self.alive():
            self.signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.signal(signal.SIGKILL)
                self.wait(5)
        self.log.close()
        return self.p.returncode

    def read_log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class LineReader:
    """
    A long-running command (presencectl watch, gdbus monitor) whose stdout
    lines are collected by a thread and can be awaited.
    """

    def __init__(self, argv, env, stderr_path):
        self.lines = []
        self.cond = threading.Condition()
        self.err = open(stderr_path, "ab")
        if not os.access(argv[0], os.X_OK) and not shutil.which(argv[0]):
            # Keep the interface (an empty reader) so the test fails on
            # its assertions rather than with a traceback.
            argv = ["sh", "-c", "echo '%s: not found' >&2" % argv[0]]
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                  stderr=self.err, env=env,
                                  stdin=subprocess.DEVNULL,
                                  preexec_fn=_die_with_parent)
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()

    def wait_line(self, pred, timeout, start=0):
        """First line (index >= start) matching pred, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if pred(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def snapshot(self):
        with self.cond:
            return list(self.lines)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.err.close()


# ------------------------------------------------------ GVariant parsing --

_GV_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<kw>true|false|nothing|just)
    | (?P<typed>(?:byte|int16|uint16|int32|uint32|int64|uint64|handle|double
                 |objectpath|signature)\b)
    | (?P<at>@[a-z{}()*?]+[^\s]*)
    | (?P<p>[()\[\]{}<>,:])
    )""", re.X)

_GV_ESC = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"',
           "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _gv_unescape(s):
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "u":
                out.append(chr(int(s[i + 2:i + 6], 16)))
                i += 6
                continue
            if n == "U":
                out.append(chr(int(s[i + 2:i + 10], 16)))
                i += 10
                continue
            out.append(_GV_ESC.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_gvariant(text):
    """
    Parse the GVariant text format gdbus prints (tuples, arrays, dicts,
    variants, strings, numbers, booleans) into Python values: tuples,
    lists, dicts, str, int, bool. Enough for our API's types.
    """
    toks = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _GV_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError("cannot parse GVariant at %r" % text[pos:])
        pos = m.end()
        kind = m.lastgroup
        toks.append((kind, m.group(kind)))
    toks.append(("end", None))
    i = 0

    def value():
        nonlocal i
        kind, tok = toks[i]
        i += 1
        if kind in ("typed", "at"):
            return value()
        if kind == "str":
            return _gv_unescape(tok[1:-1])
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if kind == "kw":
            if tok == "just":
                return value()
            return {"true": True, "false": False, "nothing": None}[tok]
        if tok == "(":
            items = seq(")")
            return tuple(items)
        if tok == "[":
            return seq("]")
        if tok == "<":
            v = value()
            expect(">")
            return v
        if tok == "{":
            d = {}
            while toks[i][1] != "}":
                k = value()
                expect(":")
                d[k] = value()
                if toks[i][1] == ",":
                    i += 1
            i += 1
            return d
        raise ValueError("unexpected token %r" % (tok,))

    def expect(t):
        nonlocal i
        if toks[i][1] != t:
            raise ValueError("expected %r, got %r" % (t, toks[i][1]))
        i += 1

    def seq(close):
        nonlocal i
        items = []
        while toks[i][1] != close:
            items.append(value())
            if toks[i][1] == ",":
                i += 1
        i += 1
        return items

    v = value()
    return v


# ---------------------------------------------------------------- Prosody --

class ProsodyError(Exception):
    pass


def make_certificate(workdir, name=DOMAIN):
    """
    A self-signed certificate for `name` (also its own CA, so it can be a
    trust anchor in ca-file). Prefers certtool (gnutls-bin), else openssl.
    Returns (cert_path, key_path).
    """
    key = os.path.join(workdir, "%s.key" % name)
    cert = os.path.join(workdir, "%s.crt" % name)
    if find_tool("certtool"):
        tmpl = os.path.join(workdir, "%s.tmpl" % name)
        with open(tmpl, "w") as f:
            f.write('cn = "%s"\ndns_name = "%s"\nca\ncert_signing_key\n'
                    'signing_key\nencryption_key\ntls_www_server\n'
                    'expiration_days = 2\n' % (name, name))
        subprocess.run(["certtool", "--generate-privkey", "--key-type=ecdsa",
                        "--outfile", key], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["certtool", "--generate-self-signed",
                        "--load-privkey", key, "--template", tmpl,
                        "--outfile", cert], check=True, timeout=30,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elif find_tool("openssl"):
        subprocess.run(["openssl", "req", "-x509", "-newkey",
                        "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=%s" % name,
                        "-addext", "subjectAltName=DNS:%s" % name,
                        "-addext", "basicConstraints=critical,CA:TRUE"],
                       check=True, timeout=30, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    else:
        raise ProsodyError("neither certtool nor openssl found")
    os.chmod(key, 0o600)
    return cert, key


def _lua_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


class Prosody:
    """
    A throwaway Prosody 0.12 (the system package): own config, data dir,
    pid file and log in workdir; c2s (STARTTLS) and direct-TLS c2s on free
    loopback ports; internal_hashed auth (SCRAM); encryption required.

    This is also the interface of every server of the matrix (Prosody13,
    Ejabberd, Ejabberd24, Jabberd2; PRESENCED_IT_SERVER picks one): ports,
    cert, register, set_roster, start, crash, stop, read_log, server_pid,
    plus the facts a test may need to branch on (HAS_PEP, QUIRKS, ...).
    """

    ID = "prosody"
    NAME = "Prosody 0.12"
    KIND = "prosody"
    # XEP-0163 PEP (the nick published and read back).
    HAS_PEP = True
    # Server-specific behaviours a test asserts instead of the usual one.
    QUIRKS = frozenset()
    # How presenced must authenticate here (issue #11): the binding type
    # (None: no -PLUS, the server lists no XEP-0440 type) and whether the
    # server sends a XEP-0474 downgrade hash.
    EXPECT_BINDING = None
    EXPECT_DOWNGRADE_HASH = False
    # What the server log shows for a received SASL <auth> (debug level).
    AUTH_RE = re.escape("Received[c2s_unauthed]: <auth")
    # extra_modules are Prosody names; other servers map them (or not).
    MODULES = ("roster", "saslauth", "tls", "disco", "ping", "posix", "pep",
               "blocklist")
    # XEP-0191 loaded (the default); a test of the daemon without it sets
    # this to False on the class before the server is made.
    BLOCKING = True
    CAN_DISABLE_BLOCKING = True

    # A second virtual host served with the certificate for "localhost":
    # a client for a JID at this domain must refuse it (RFC 6125 name
    # check), whatever trust anchors it has.
    WRONG_NAME_HOST = "wrongname.test"

    def __init__(self, workdir, lifetime=300, extra_modules=()):
        # extra_modules: e.g. ("smacks",) for XEP-0198 (built into
        # Prosody 0.12; it changes how a shutdown looks to clients, so
        # only the tests that want it load it).
        self.extra_modules = tuple(extra_modules)
        self.dir = os.path.join(workdir, "prosody")
        os.makedirs(self.dir, exist_ok=True)
        self.data = os.path.join(self.dir, "data")
        os.makedirs(self.data, exist_ok=True)
        self.certdir = os.path.join(self.dir, "certs")
        os.makedirs(self.certdir, exist_ok=True)
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        self.log_path = os.path.join(self.dir, "prosody.log")
        self.pidfile = os.path.join(self.dir, "prosody.pid")
        self.lifetime = lifetime
        self.proc = None
        self.cert, self.key = make_certificate(self.certdir)
        self._log_start = 0
        self._pick_ports()
        self._write_config()

    def _pick_ports(self):
        self.port = free_port()
        self.tls_port = free_port()
        while self.tls_port == self.port:
            self.tls_port = free_port()

    @classmethod
    def available(cls):
        return find_tool("prosody") and find_tool("prosodyctl")

    def _bin(self, name):
        return name

    def has_module(self, name):
        """Whether an extra module (a Prosody name) can be loaded here."""
        return True

    def log_files(self):
        return [(self.NAME, self.log_path)]

    def stream_closed(self, full_jid):
        """Whether the server log shows full_jid closing its stream with
        </stream:stream> (not a dropped connection); None: the server
        does not log that."""
        text = self.read_log()
        return ("c2s stream for %s closed: session closed" % full_jid
                in text or "Received </stream:stream>" in text)

    def auth_attempts(self, text):
        """How many SASL <auth> the server log text shows as received."""
        return len(re.findall(self.AUTH_RE, text))

    def _write_config(self):
        d = {k: _lua_str(v) for k, v in {
            "pid": self.pidfile, "data": self.data, "log": self.log_path,
            "certs": self.certdir, "cert": self.cert, "key": self.key,
        }.items()}
        root = "run_as_root = true\n" if os.geteuid() == 0 else ""
        mods = "".join(" %s;" % _lua_str(m) for m in
                       self.MODULES + self.extra_modules
                       if self.BLOCKING or m != "blocklist")
        # s2s is not loaded (nothing here federates, and its default port
        # 5269 would collide between parallel tests); offline storage is
        # left out so a test never sees a stale stanza.
        cfg = f"""-- generated by tests/integration/harness.py
{root}pidfile = {d['pid']}
data_path = {d['data']}
certificates = {d['certs']}
log = {{ {{ levels = {{ min = "debug" }}, to = "file", filename = {d['log']} }} }}
interfaces = {{ "127.0.0.1" }}
local_interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {self.port} }}
c2s_direct_tls_ports = {{ {self.tls_port} }}
legacy_ssl_ports = {{ }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{{mods} }}
modules_disabled = {{ "s2s"; "offline" }}
authentication = "internal_hashed"
storage = "internal"
c2s_require_encryption = true
allow_registration = false
ssl = {{ key = {d['key']}, certificate = {d['cert']} }}
c2s_direct_tls_ssl = {{ key = {d['key']}, certificate = {d['cert']} }}

VirtualHost "{DOMAIN}"
	ssl = {{ key = {d['key']}, certificate = {d['cert']} }}

VirtualHost "{self.WRONG_NAME_HOST}"
	ssl = {{ key = {d['key']}, certificate = {d['cert']} }}
"""
        with open(self.config, "w") as f:
            f.write(cfg)

    def prosodyctl(self, *args, check=True):
        r = subprocess.run([self._bin("prosodyctl"), "--config",
                            self.config] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise ProsodyError("prosodyctl %s: %s" % (
                " ".join(args[:2]), r.stdout.decode(errors="replace")))
        return r

    def register(self, user, password, host=DOMAIN):
        """Creates user@host (works with the server up or down)."""
        self.prosodyctl("register", user, host, password)

    def set_roster(self, user, items):
        """
        Writes user's roster straight into Prosody's storage, before the
        user or anyone interested in them logs in (Prosody caches rosters).
        items: {bare_jid: subscription} ("both", "to", "from", "none").
        """
        d = os.path.join(self.data, DOMAIN, "roster")
        os.makedirs(d, exist_ok=True)
        lines = ["return {",
                 '\t[false] = { ["version"] = 1; ["pending"] = {} };']
        for jid, sub in items.items():
            lines.append('\t[%s] = { ["subscription"] = %s; ["groups"] = {};'
                         ' ["name"] = %s };' % (_lua_str(jid), _lua_str(sub),
                                                _lua_str(jid.split("@")[0])))
        lines.append("};")
        with open(os.path.join(d, "%s.dat" % user), "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, attempts=3, same_ports=False):
        """Starts the server and waits until c2s accepts connections.
        same_ports: a restart, on the ports clients were configured with."""
        if not self.available():
            raise ProsodyError("%s not installed" % self.NAME)
        last = ""
        if same_ports:
            attempts = 1
        for n in range(attempts):
            if n:
                self._pick_ports()
                self._write_config()
            self._log_start = len(self.read_log())
            # timeout(1) bounds the server's life even if everything else
            # here fails; -F keeps it in the foreground.
            self.proc = Proc("prosody",
                             ["timeout", "-k", "5", str(self.lifetime),
                              self._bin("prosody"), "-F", "--config",
                              self.config],
                             os.path.join(self.dir, "prosody.out"))
            if wait_for(lambda: self._ready() or not self.proc.alive(), 20):
                if self.proc.alive() and self._ready():
                    return self
            last = self.read_log()[-3000:] + self.proc.read_log()[-2000:]
            self.proc.stop()
        raise ProsodyError("%s did not start:\n%s" % (self.NAME, last))

    def _ready(self):
        log = self.read_log()[self._log_start:]
        if ("Activated service 'c2s' on [127.0.0.1]:%d" % self.port) not in log:
            return False
        with socket.socket() as s:
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", self.port))
                return True
            except OSError:
                return False

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def server_pid(self):
        """Prosody's own PID (from its pid file; proc is timeout(1))."""
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def crash(self):
        """SIGKILL the server: connections drop without a stream error."""
        pid = self.server_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)
        self.proc.stop()
        try:
            os.unlink(self.pidfile)
        except OSError:
            pass

    def stop(self):
        if self.proc:
            self.proc.stop()


# ------------------------------------------------ the rest of the matrix --

def servers_root():
    """Where scripts/test-servers.sh unpacked the other servers."""
    r = os.environ.get("PRESENCED_TEST_SERVERS")
    if r:
        return r
    if os.geteuid() == 0:
        return "/var/cache/presenced-test-servers"
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or
                        os.path.expanduser("~/.cache"),
                        "presenced-test-servers")


def _children(pid):
    """Direct children of pid (Linux /proc)."""
    out = []
    try:
        for t in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


class Prosody13(Prosody):
    """
    Prosody 13.0.1 and prosody-modules (bookworm-backports), unpacked by
    scripts/test-servers.sh. bin/prosody hard-codes its code directory, so
    we run copies that point into the prefix; modules from
    prosody-modules live in the same plugin directory. Loads SASL2,
    Bind2, FAST, SASL2-SM and SSDP.
    """

    ID = "prosody13"
    NAME = "Prosody 13.0.1"
    OFFERS_SASL2 = True  # with Bind2 and FAST (test-sasl2)

    def revoke_fast_tokens(self, user):
        """Revokes the user's XEP-0484 tokens on the server: mod_sasl2_fast
        keeps them in the file store, read at each use. True when done."""
        path = os.path.join(self.data, DOMAIN, "fast_tokens",
                            "%s.dat" % user)
        try:
            os.unlink(path)
        except FileNotFoundError:
            return False
        return True
    EXPECT_BINDING = "tls-exporter"
    EXPECT_DOWNGRADE_HASH = True  # mod_sasl_ssdp
    # tls-server-end-point is offered only on the server's first c2s
    # connection when its hash is "auto" (13.0.1).
    # shutdown-drops-resumable: on SIGTERM, mod_smacks' server-stopping
    # hook (mod_smacks.lua, priority -90, before mod_c2s' system-shutdown
    # at -100) closes the connection of every resumable session with no
    # stream error, to keep it resumable after the restart; SM is always
    # on here (mod_sasl2_sm), so presenced sees a dropped link.
    QUIRKS = frozenset({"tls-server-end-point-first-only",
                        "shutdown-drops-resumable"})
    MODULES = Prosody.MODULES + ("sasl2", "sasl2_bind2", "sasl2_fast",
                                 "sasl2_sm", "sasl_ssdp")

    @classmethod
    def prefix(cls):
        return os.path.join(servers_root(), cls.ID)

    @classmethod
    def available(cls):
        return (os.path.exists(os.path.join(cls.prefix(), "usr/bin/prosody"))
                and find_tool("lua5.4"))

    def _bin(self, name):
        path = os.path.join(self.dir, "bin", name)
        if os.path.exists(path):
            return path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pre = self.prefix()
        with open(os.path.join(pre, "usr/bin", name)) as f:
            text = f.read()
        for var, val in (("CFG_SOURCEDIR", pre + "/usr/lib/prosody"),
                         ("CFG_PLUGINDIR", pre + "/usr/lib/prosody/modules/"),
                         ("CFG_CONFIGDIR", self.dir),
                         ("CFG_DATADIR", self.data)):
            text = re.sub(r"^%s=.*$" % var, "%s=%s;" % (var, _lua_str(val)),
                          text, count=1, flags=re.M)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
        return path


class Ejabberd(Prosody):
    """
    ejabberd 23.01 (bookworm), unpacked by scripts/test-servers.sh, run as
    `erl` directly: no node name, so no Erlang distribution and no epmd
    (-start_epmd false as well); nothing listens but c2s, direct-TLS c2s
    and an HTTP API port, all on 127.0.0.1. Accounts and rosters go
    through mod_http_api (loopback only) once the server runs; before
    that they are queued. Mnesia lives in the data dir, so a restart keeps
    them.
    """

    ID = "ejabberd"
    NAME = "ejabberd 23.01"
    KIND = "ejabberd"
    # shutdown-error-racy: on SIGTERM, ejabberd_sm:host_down/1 only casts
    # <system-shutdown/> to each c2s process (ejabberd_c2s:send/2, then
    # stop_async/1) while the listeners and the VM stop (~30 ms); a c2s
    # still busy with the session's first stanzas never writes it and the
    # socket just closes: "SIGTERM received", then no "Send XML ...
    # system-shutdown" in ejabberd.log (both versions).
    # withdrawn-request-not-delivered: an 'unsubscribe' from a JID whose
    # request is pending (no roster item) clears it in mod_roster
    # (in_subscription) and is not delivered to the client, RFC 6121
    # 3.3.3's text (its Appendix A.3.2 says deliver).
    QUIRKS = frozenset({"shutdown-error-racy",
                        "withdrawn-request-not-delivered"})
    AUTH_RE = re.escape("Received XML on stream = <<\"<auth")
    ALWAYS_MODS = ()
    # Prosody module name -> ejabberd module (None: not available).
    MODMAP = {"smacks": "mod_stream_mgmt", "csi_simple": "mod_client_state",
              "csi": "mod_client_state"}

    def __init__(self, workdir, lifetime=300, extra_modules=()):
        self._pending = []
        self.api_port = None
        super().__init__(workdir, lifetime, extra_modules)
        self.pidfile = None

    @classmethod
    def prefix(cls):
        return os.path.join(servers_root(), cls.ID)

    @classmethod
    def ebin(cls):
        import glob
        g = glob.glob(os.path.join(cls.prefix(), "usr/lib/*/ejabberd-*/ebin"))
        return g[0] if g else None

    @classmethod
    def available(cls):
        return cls.ebin() and find_tool("erl")

    def has_module(self, name):
        return name in self.MODMAP

    def _pick_ports(self):
        used = set()
        ports = []
        while len(ports) < 3:
            p = free_port()
            if p not in used:
                used.add(p)
                ports.append(p)
        self.port, self.tls_port, self.api_port = ports

    def _write_config(self):
        self.pem = os.path.join(self.certdir, "server.pem")
        with open(self.pem, "w") as out:
            for path in (self.key, self.cert):
                with open(path) as f:
                    out.write(f.read())
        os.chmod(self.pem, 0o600)
        mods = ["mod_roster: {versioning: true}", "mod_disco: {}",
                "mod_ping: {}", "mod_caps: {}",
                # PEP is the "pep" node plugin; mod_pubsub's default
                # plugins are [flat] only (then disco#info on a bare JID
                # shows no pubsub/pep identity).
                "mod_pubsub: {plugins: [flat, pep]}",
                "mod_privacy: {}", "mod_blocking: {}", "mod_admin_extra: {}",
                "mod_http_api: {}"]
        if not self.BLOCKING:
            mods.remove("mod_blocking: {}")
        mods.extend(self.ALWAYS_MODS)
        for m in self.extra_modules:
            if self.MODMAP.get(m):
                mods.append("%s: {}" % self.MODMAP[m])
        cfg = f"""# generated by tests/integration/harness.py
hosts: ["{DOMAIN}", "{self.WRONG_NAME_HOST}"]
loglevel: debug
certfiles: ["{self.pem}"]
listen:
  - {{port: {self.port}, ip: "127.0.0.1", module: ejabberd_c2s,
     starttls_required: true}}
  - {{port: {self.tls_port}, ip: "127.0.0.1", module: ejabberd_c2s,
     tls: true}}
  - {{port: {self.api_port}, ip: "127.0.0.1", module: ejabberd_http,
     request_handlers: {{/api: mod_http_api}}}}
auth_method: internal
auth_password_format: scram
s2s_access: none
acl:
  loopback: {{ip: ["127.0.0.0/8"]}}
api_permissions:
  "loopback":
    from: [mod_http_api]
    who: {{acl: loopback}}
    what: "*"
modules:
""" + "".join("  %s\n" % m for m in mods)
        self.config = os.path.join(self.dir, "ejabberd.yml")
        with open(self.config, "w") as f:
            f.write(cfg)
        self.log_path = os.path.join(self.dir, "ejabberd.log")

    def _argv(self):
        q = lambda s: '"%s"' % s  # noqa: E731 - an Erlang string
        return ["erl", "-noinput", "-noshell", "-start_epmd", "false",
                "-pa", self.ebin(),
                "-mnesia", "dir", q(self.data),
                "-ejabberd", "config", q(self.config),
                "log_path", q(self.log_path),
                "-s", "ejabberd"]

    def _env(self):
        e = dict(os.environ)
        pre = self.prefix()
        e["ERL_LIBS"] = ":".join(os.path.join(pre, d) for d in
                                 ("usr/lib/erlang/lib", "usr/lib/" +
                                  os.path.basename(os.path.dirname(
                                      os.path.dirname(self.ebin())))))
        e["HOME"] = self.dir  # the .erlang.cookie, if any, goes here
        return e

    def api(self, command, args):
        import json
        import urllib.request
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/%s" % (self.api_port, command),
            data=json.dumps(args).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def _do(self, op):
        if op[0] == "register":
            _, user, password, host = op
            code, body = self.api("register", {
                "user": user, "host": host, "password": password})
            if code != 200 and "already registered" not in body:
                raise ProsodyError("register %s: %s %s" % (user, code, body))
        else:
            _, user, items = op
            for jid, sub in items.items():
                u, h = jid.split("@", 1)
                args = {"localuser": user, "localhost": DOMAIN, "user": u,
                        "host": h, "nick": u, "subs": sub}
                code, body = self.api("add_rosteritem",
                                      dict(args, groups=[]))
                if code != 200 or body.strip() not in ("0", '""'):
                    # 23.01's API v0 names it "group" (a string).
                    code, body = self.api("add_rosteritem",
                                          dict(args, group=""))
                if code != 200 or body.strip() not in ("0", '""'):
                    raise ProsodyError("add_rosteritem %s %s: %s %s" % (
                        user, jid, code, body))

    def stream_closed(self, full_jid):
        # ejabberd_c2s ends each session with a line naming its cause: a
        # client's </stream:stream> (xmpp_stream_in's xmlstreamend) is
        # "Stream reset by peer". The XML received by that same process
        # must show the </stream:stream> too: it often shares one TLS
        # record, so one log line, with the unavailable presence before
        # it. The logger writes a moment later.
        def check():
            text = self.read_log()
            m = re.search(r"\((\w+)\|(<[0-9.]+>)\) Closing c2s session for "
                          r"%s: Stream reset by peer" % re.escape(full_jid),
                          text)
            return m and re.search(
                r"\(%s\|%s\) Received XML on stream = <<\"[^\n]*"
                r"</stream:stream>\">>" % (m.group(1), re.escape(m.group(2))),
                text)
        return bool(wait_for(check, 5))

    def register(self, user, password, host=DOMAIN):
        op = ("register", user, password, host)
        if self.proc and self.proc.alive():
            self._do(op)
        else:
            self._pending.append(op)

    def set_roster(self, user, items):
        """Adds items to user's roster (before anyone concerned logs in)."""
        op = ("roster", user, dict(items))
        if self.proc and self.proc.alive():
            self._do(op)
        else:
            self._pending.append(op)

    def start(self, attempts=3, same_ports=False):
        if not self.available():
            raise ProsodyError("%s not installed" % self.NAME)
        last = ""
        if same_ports:
            attempts = 1
        for n in range(attempts):
            if n:
                self._pick_ports()
                self._write_config()
            self._log_start = len(self.read_log())
            self.proc = Proc(self.ID, ["timeout", "-k", "5",
                                       str(self.lifetime)] + self._argv(),
                             os.path.join(self.dir, "%s.out" % self.ID),
                             env=self._env(), cwd=self.dir)
            if wait_for(lambda: self._ready() or not self.proc.alive(), 40):
                if self.proc.alive() and self._ready():
                    pending, self._pending = self._pending, []
                    for op in pending:
                        self._do(op)
                    return self
            last = self.read_log()[-3000:] + self.proc.read_log()[-3000:]
            self.proc.stop()
        raise ProsodyError("%s did not start:\n%s" % (self.NAME, last))

    def _ready(self):
        if " is started in the node " not in self.read_log()[self._log_start:]:
            return False
        for port in (self.port, self.api_port):
            with socket.socket() as s:
                s.settimeout(1)
                try:
                    s.connect(("127.0.0.1", port))
                except OSError:
                    return False
        return True

    def server_pid(self):
        """beam.smp (erl execs it) under timeout(1)."""
        if not self.proc:
            return None
        kids = _children(self.proc.pid)
        return kids[0] if kids else None

    def crash(self):
        pid = self.server_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(10)
        self.proc.stop()


class Ejabberd24(Ejabberd):
    """ejabberd 24.12 with its erlang-p1-* (bookworm-backports)."""

    ID = "ejabberd24"
    NAME = "ejabberd 24.12"
    OFFERS_SASL2 = True  # with Bind2, and FAST with mod_auth_fast
    EXPECT_BINDING = "tls-exporter"
    EXPECT_DOWNGRADE_HASH = True
    # XEP-0484 FAST (SASL2 and Bind2 need no module).
    ALWAYS_MODS = ("mod_auth_fast: {}",)


class Jabberd2(Prosody):
    """
    jabberd2 2.7 (bookworm), unpacked by scripts/test-servers.sh: router,
    sm and c2s as three processes (each under timeout(1)) on loopback
    ports, sqlite storage and authreg (plaintext passwords, so SCRAM works);
    accounts and roster items are rows inserted into the database. No PEP.
    """
    # Its privacy module (and with it blocking) is not made optional here.
    CAN_DISABLE_BLOCKING = False

    ID = "jabberd2"
    NAME = "jabberd2 2.7"
    KIND = "jabberd2"
    HAS_PEP = False
    # After 'subscribed' only the approving resource's presence arrives;
    # an 'unsubscribed' that denies a pending request is dropped.
    # shutdown-closes-stream: on SIGTERM jabberd2-c2s ("shutting down" in
    # c2s.log) ends each stream with a bare </stream:stream>, no stream
    # error (RFC 6120 §4.4 allows that).
    # s10n-needs-nonnegative-priority: subscription stanzas reach only
    # sessions of priority >= 0 (the "top" session, sm/pres.c
    # _pres_top(); delivered by sm/mod_offline.c _offline_pkt_user(),
    # or by mod_roster for a request from outside the roster); with none
    # they are queued until a session of priority >= 0 comes available.
    # withdrawn-request-not-delivered: an 'unsubscribe' from a JID not in
    # the roster is dropped (sm/mod_roster.c _roster_pkt_user(): "other
    # S10Ns: we didn't ask for this").
    # approver-presence-before-subscribed: the approving contact's
    # presence goes out before its 'subscribed' (_roster_in_sess_s10n():
    # pres_roster(), then the stanza passed on).
    QUIRKS = frozenset({"subscribed-presence-approver-only",
                        "deny-pending-dropped", "shutdown-closes-stream",
                        "s10n-needs-nonnegative-priority",
                        "withdrawn-request-not-delivered",
                        "approver-presence-before-subscribed",
                        # sm answers disco#info to a user's full JID
                        # itself (identity account/registered): the
                        # client is never asked, so no caps verify.
                        "disco-info-answered-by-sm",
                        # A block is answered but neither pushed (XEP-0191
                        # §3.3) nor applied to inbound presence.
                        "blocking-without-push"})
    # No XML in its logs (not a debug build): the c2s outcome lines.
    AUTH_RE = r"\] [A-Z0-9-]+ authentication (?:succeeded|failed)"
    # c2s.c logs a SASL success only ("[n] MECH authentication succeeded",
    # c2s/c2s.c event_OPEN); a failure is not logged at all. A client
    # that did not get in shows as a connection that sent data and ended
    # unbound; the harness's readiness probes send nothing (bytes: 0).
    UNBOUND_RE = r"disconnect jid=unbound, packets: \d+, bytes: [1-9]"

    def __init__(self, workdir, lifetime=300, extra_modules=()):
        self.procs = []
        self.db = os.path.join(workdir, "prosody", "data", "sqlite.db")
        super().__init__(workdir, lifetime, extra_modules)
        self.pidfile = None
        self._init_db()

    @classmethod
    def prefix(cls):
        return os.path.join(servers_root(), cls.ID)

    @classmethod
    def libdir(cls):
        return os.path.join(cls.prefix(), "usr/lib/x86_64-linux-gnu/jabberd2")

    @classmethod
    def available(cls):
        return os.path.exists(os.path.join(cls.prefix(),
                                           "usr/sbin/jabberd2-c2s"))

    def has_module(self, name):
        return False

    def _pick_ports(self):
        used = set()
        ports = []
        while len(ports) < 3:
            p = free_port()
            if p not in used:
                used.add(p)
                ports.append(p)
        self.port, self.tls_port, self.router_port = ports

    def _init_db(self):
        import gzip
        import sqlite3
        if os.path.exists(self.db):
            return
        path = os.path.join(self.prefix(),
                            "usr/share/doc/jabberd2/db-setup.sqlite.gz")
        with gzip.open(path, "rt") as f:
            schema = f.read()
        c = sqlite3.connect(self.db)
        c.executescript(schema)
        c.commit()
        c.close()

    def _sql(self, sql, args=()):
        import sqlite3
        c = sqlite3.connect(self.db, timeout=10)
        try:
            c.execute(sql, args)
            c.commit()
        finally:
            c.close()

    def register(self, user, password, host=DOMAIN):
        """A row in authreg, and the user made 'active' for the sm."""
        owner = "%s@%s" % (user, host)
        self._sql('DELETE FROM "authreg" WHERE "username"=? AND "realm"=?',
                  (user, host))
        self._sql('INSERT INTO "authreg" ("username", "realm", "password") '
                  'VALUES (?, ?, ?)', (user, host, password))
        self._sql('INSERT INTO "active" ("collection-owner", "time") '
                  'VALUES (?, ?)', (owner, int(time.time())))

    def stream_closed(self, full_jid):
        return None  # c2s logs only "disconnect jid=…"

    def auth_attempts(self, text):
        return (len(re.findall(self.AUTH_RE, text)) +
                len(re.findall(self.UNBOUND_RE, text)))

    def set_roster(self, user, items):
        owner = "%s@%s" % (user, DOMAIN)
        for jid, sub in items.items():
            self._sql('INSERT INTO "roster-items" ("collection-owner", "jid",'
                      ' "name", "to", "from", "ask") VALUES (?, ?, ?, ?, ?, 0)',
                      (owner, jid, jid.split("@")[0],
                       1 if sub in ("both", "to") else 0,
                       1 if sub in ("both", "from") else 0))

    def _write_config(self):
        self.pem = os.path.join(self.certdir, "server.pem")
        with open(self.pem, "w") as out:
            for path in (self.cert, self.key):
                with open(path) as f:
                    out.write(f.read())
        os.chmod(self.pem, 0o600)
        d = self.dir
        lib = self.libdir()
        self.logs = {n: os.path.join(d, "%s.log" % n)
                     for n in ("router", "sm", "c2s")}
        self.log_path = self.logs["c2s"]
        router = "<user><name>jabberd</name><secret>secret</secret></user>"
        with open(os.path.join(d, "router-users.xml"), "w") as f:
            f.write("<users>%s</users>\n" % router)
        conn = f"""<router><ip>127.0.0.1</ip><port>{self.router_port}</port>
    <user>jabberd</user><pass>secret</pass>
    <retry><init>10</init><lost>3</lost><sleep>1</sleep></retry></router>"""
        files = {
            "router.xml": f"""<router><id>router</id>
  <pidfile>{d}/router.pid</pidfile>
  <log type='file'><file>{self.logs['router']}</file></log>
  <local><ip>127.0.0.1</ip><port>{self.router_port}</port>
    <users>{d}/router-users.xml</users><secret>secret</secret></local>
  <check><interval>60</interval><keepalive>0</keepalive></check>
  <io><max_fds>1024</max_fds><limits><bytes>0</bytes><connects>0</connects>
    </limits><access><order>allow,deny</order></access></io>
  <aliases/>
  <aci><acl type='all'><user>jabberd</user></acl></aci>
</router>
""",
            # mod_offline is what delivers subscription stanzas to online
            # sessions (sm/mod_offline.c _offline_pkt_user(); mod_presence
            # only handles presence proper): without it they are lost.
            # <dropmessages/> keeps it from storing messages.
            "sm.xml": f"""<sm><id>sm</id>
  <pidfile>{d}/sm.pid</pidfile>
  {conn}
  <log type='file'><file>{self.logs['sm']}</file></log>
  <local><id>{DOMAIN}</id><id>{self.WRONG_NAME_HOST}</id></local>
  <storage><path>{lib}</path><driver>sqlite</driver>
    <sqlite><dbname>{self.db}</dbname><busy-timeout>2000</busy-timeout>
    </sqlite></storage>
  <modules><path>{lib}</path>
    <chain id='sess-start'><module>status</module></chain>
    <chain id='sess-end'><module>status</module><module>iq-last</module>
    </chain>
    <chain id='in-sess'><module>validate</module><module>status</module>
      <module>privacy</module><module>roster</module>
      <module>iq-vcard</module><module>iq-ping</module>
      <module>iq-private</module><module>disco</module>
      <module>offline</module><module>presence</module>
      <module>deliver</module></chain>
    <chain id='out-sess'/>
    <chain id='in-router'><module>session</module><module>validate</module>
      <module>presence</module><module>privacy</module></chain>
    <chain id='out-router'><module>privacy</module></chain>
    <chain id='pkt-sm'><module>iq-last</module><module>iq-ping</module>
      <module>iq-time</module><module>iq-version</module>
      <module>disco</module><module>status</module>
      <module>presence</module></chain>
    <chain id='pkt-user'><module>roster</module><module>presence</module>
      <module>disco</module><module>iq-vcard</module>
      <module>deliver</module><module>offline</module>
      <module>iq-last</module></chain>
    <chain id='pkt-router'><module>session</module><module>disco</module>
    </chain>
    <chain id='user-load'><module>active</module><module>roster</module>
      <module>privacy</module></chain>
    <chain id='user-unload'/>
    <chain id='user-create'><module>active</module></chain>
    <chain id='user-delete'><module>active</module><module>privacy</module>
      <module>roster</module><module>status</module>
      <module>iq-last</module><module>iq-private</module>
      <module>iq-vcard</module></chain>
    <chain id='disco-extend'><module>iq-version</module></chain>
  </modules>
  <offline><dropmessages/></offline>
  <discovery><identity><category>server</category><type>im</type>
    <name>jabberd2 (presenced tests)</name></identity></discovery>
  <user><template><active-cache-ttl>60</active-cache-ttl></template></user>
</sm>
""",
            "c2s.xml": f"""<c2s><id>c2s</id>
  <pidfile>{d}/c2s.pid</pidfile>
  {conn}
  <log type='file'><file>{self.logs['c2s']}</file></log>
  <local>
    <id realm='{DOMAIN}' pemfile='{self.pem}'
        require-starttls='mu'>{DOMAIN}</id>
    <id realm='{self.WRONG_NAME_HOST}' pemfile='{self.pem}'
        require-starttls='mu'>{self.WRONG_NAME_HOST}</id>
    <ip>127.0.0.1</ip><port>{self.port}</port>
    <ssl-port>{self.tls_port}</ssl-port>
    <pemfile>{self.pem}</pemfile>
  </local>
  <io><max_fds>1024</max_fds>
    <limits><bytes>0</bytes><stanzas>0</stanzas><connects>0</connects>
      <stanzasize>262144</stanzasize></limits>
    <access><order>allow,deny</order></access>
    <check><interval>0</interval><idle>0</idle><keepalive>0</keepalive>
    </check></io>
  <authreg><path>{lib}</path><module>sqlite</module>
    <mechanisms><sasl/></mechanisms>
    <ssl-mechanisms><sasl><plain/><scram-sha-1/>{self._plus()}</sasl>
    </ssl-mechanisms>
    <sqlite><dbname>{self.db}</dbname><busy-timeout>2000</busy-timeout>
      <password_type><plaintext/></password_type></sqlite>
  </authreg>
</c2s>
""",
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        self.config = os.path.join(d, "c2s.xml")

    def _plus(self):
        # What a jabberd2 offers is its config's choice; this one offers
        # SCRAM-SHA-1-PLUS too (without XEP-0440: presenced must not use
        # it, issue #11).
        return "<scram-sha-1-plus/>"

    def read_log(self):
        out = []
        for n in ("router", "sm", "c2s"):
            try:
                with open(self.logs[n], errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        return "".join(out)

    def log_files(self):
        return [("%s %s" % (self.NAME, n), self.logs[n])
                for n in ("router", "sm", "c2s")]

    def _env(self):
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = self.libdir()
        return e

    def start(self, attempts=3, same_ports=False):
        if not self.available():
            raise ProsodyError("%s not installed" % self.NAME)
        last = ""
        if same_ports:
            attempts = 1
        sbin = os.path.join(self.prefix(), "usr/sbin")
        for n in range(attempts):
            if n:
                self._pick_ports()
                self._write_config()
            self._log_start = {k: self._size(v) for k, v in self.logs.items()}
            self.procs = []
            for comp in ("router", "sm", "c2s"):
                self.procs.append(Proc(
                    comp, ["timeout", "-k", "5", str(self.lifetime),
                           os.path.join(sbin, "jabberd2-" + comp), "-c",
                           os.path.join(self.dir, comp + ".xml")],
                    os.path.join(self.dir, comp + ".out"), env=self._env(),
                    cwd=self.dir))
                if comp == "router":
                    wait_for(lambda: self._connectable(self.router_port), 10)
            self.proc = self.procs[-1]
            if wait_for(lambda: self._ready() or
                        not all(p.alive() for p in self.procs), 30):
                if all(p.alive() for p in self.procs) and self._ready():
                    return self
            last = self.read_log()[-4000:] + "".join(
                p.read_log()[-1000:] for p in self.procs)
            for p in self.procs:
                p.stop()
        raise ProsodyError("%s did not start:\n%s" % (self.NAME, last))

    @staticmethod
    def _size(path):
        try:
            return os.path.getsize(path)
        except OSError:
            return 0

    @staticmethod
    def _connectable(port):
        with socket.socket() as s:
            s.settimeout(1)
            try:
                s.connect(("127.0.0.1", port))
                return True
            except OSError:
                return False

    def _since(self, name):
        try:
            with open(self.logs[name], errors="replace") as f:
                f.seek(self._log_start.get(name, 0))
                return f.read()
        except OSError:
            return ""

    def _ready(self):
        # The sm announces itself to the router, c2s is connected and
        # listening.
        return ("ready for sessions" in self._since("sm") and
                "listening for" in self._since("c2s") and
                self._connectable(self.port))

    def server_pid(self):
        kids = _children(self.procs[-1].pid) if self.procs else []
        return kids[0] if kids else None

    def crash(self):
        for p in reversed(self.procs):
            for pid in _children(p.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            p.wait(10)
            p.stop()

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


SERVERS = {c.ID: c for c in (Prosody, Prosody13, Ejabberd, Ejabberd24,
                             Jabberd2)}


def server_class():
    """The server class PRESENCED_IT_SERVER names (default: prosody)."""
    sid = os.environ.get("PRESENCED_IT_SERVER") or "prosody"
    if sid not in SERVERS:
        raise SystemExit("PRESENCED_IT_SERVER=%s: not one of %s" % (
            sid, ", ".join(SERVERS)))
    return SERVERS[sid]


# ------------------------------------------------------------------ D-Bus --

SESSION_CONF = """<!DOCTYPE busconfig PUBLIC
 "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<!-- generated by tests/integration/harness.py: a private session bus -->
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  {servicedir}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Bus:
    """
    dbus-daemon --nofork --print-address with a generated session config;
    servicedir (optional) holds activation files. env: environment passed
    to the bus (and so to activated services).
    """

    def __init__(self, workdir, servicedir=None, env=None):
        self.dir = os.path.join(workdir, "bus")
        os.makedirs(self.dir, exist_ok=True)
        self.conf = os.path.join(self.dir, "session.conf")
        sd = "<servicedir>%s</servicedir>" % servicedir if servicedir else ""
        with open(self.conf, "w") as f:
            f.write(SESSION_CONF.format(dir=self.dir, servicedir=sd))
        self.log_path = os.path.join(self.dir, "dbus-daemon.log")
        self.log = open(self.log_path, "ab")
        e = dict(env or os.environ)
        self.p = subprocess.Popen(
            ["dbus-daemon", "--nofork", "--print-address=1",
             "--nopidfile", "--config-file=" + self.conf],
            stdout=subprocess.PIPE, stderr=self.log, env=e,
            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.pid = self.p.pid
        self.address = self._read_address(10)
        if not self.address:
            self.stop()
            raise RuntimeError("dbus-daemon printed no address: " +
                               self.read_log())

    def _read_address(self, timeout):
        result = []

        def rd():
            result.append(self.p.stdout.readline().decode().strip())
        t = threading.Thread(target=rd, daemon=True)
        t.start()
        t.join(timeout)
        return result[0] if result else None

    def env(self, base=None):
        e = dict(base or os.environ)
        e["DBUS_SESSION_BUS_ADDRESS"] = self.address
        return e

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)
        self.log.close()


# --------------------------------------------------------- the test env --

def presenced_path():
    return os.environ.get("PRESENCED") or os.path.join(
        os.environ.get("top_builddir", "."), "presenced")


def presencectl_path():
    return os.environ.get("PRESENCECTL") or os.path.join(
        os.environ.get("top_builddir", "."), "presencectl")


class Daemon:
    """A presenced we started ourselves (not bus-activated)."""

    def __init__(self, env, conf, log_path, debug=True, extra_args=()):
        argv = [presenced_path(), "--config", conf]
        if debug:
            argv.append("--debug")
        argv += list(extra_args)
        self.conf = conf
        self.proc = Proc("presenced", argv, log_path, env=env)
        self.started = self.proc.started

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.alive()

    def read_log(self):
        return self.proc.read_log()

    def stop(self, timeout=10):
        return self.proc.stop(timeout)


class TestEnv:
    """
    Owns every process and file of one test script. Use as a context
    manager; on failure (or PRESENCED_IT_VERBOSE=1) it prints the logs.
    """

    def __init__(self, tap, name, budget=120):
        self.tap = tap
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix="presenced-it-%s-" % name)
        os.chmod(self.tmp, 0o700)
        self.prosody = None  # the XMPP server, whichever it is
        self.server = None
        self.prosody_modules = ()  # extra Prosody modules (set before
        # setup_server), e.g. ("smacks",)
        self.bus = None
        self.buses = []
        self.daemons = []
        self.readers = []
        self.peers = []
        self.extra_pids = []
        self.logs = []
        self._closed = False
        atexit.register(self.close)
        # The hard bound on the whole script: SIGALRM raises, and the
        # finally/atexit clean-up still runs.
        signal.signal(signal.SIGALRM, self._on_alarm)
        signal.signal(signal.SIGTERM, self._on_alarm)
        signal.alarm(budget)

    def _on_alarm(self, signum, frame):
        raise TimeoutError("test budget exceeded (signal %d)" % signum)

    def __enter__(self):
        return self

    def __exit__(self, et, ev, tb):
        if et is not None and et is not SystemExit:
            import traceback
            self.tap.ok(False, "no exception in the test script",
                        "".join(traceback.format_exception(et, ev, tb)))
        self.close()
        # The exception is reported as a failed TAP test; the script goes on
        # to print its plan and exit non-zero.
        return et is not SystemExit if et else False

    # --- pieces --------------------------------------------------------

    def start_prosody(self, accounts):
        """accounts: {user: password}. Returns the running Prosody."""
        self.prosody = server_class()(self.tmp,
                                      extra_modules=self.prosody_modules)
        self.server = self.prosody
        for u, p in accounts.items():
            self.prosody.register(u, p)
        return self.prosody

    def launch_prosody(self):
        self.prosody.start()
        self.logs += self.prosody.log_files()
        return self.prosody

    def start_bus(self, servicedir=None, env=None):
        n = len(self.buses)
        self.bus = Bus(os.path.join(self.tmp, "bus%d" % n) if n else
                       self.tmp, servicedir, env)
        self.buses.append(self.bus)
        self.logs.append(("dbus-daemon (and activated services)",
                          self.bus.log_path))
        return self.bus

    def write_config(self, name, account, presence=None, path=None):
        """A presenced.conf from dicts; returns its path."""
        lines = ["[account]"]
        lines += ["%s = %s" % (k, v) for k, v in account.items()]
        if presence:
            lines.append("")
            lines.append("[presence]")
            lines += ["%s = %s" % (k, v) for k, v in presence.items()]
        path = path or os.path.join(self.tmp, "%s.conf" % name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        return path

    def account(self, user, password, tls="starttls", ca=True,
                domain=DOMAIN, **extra):
        p = self.prosody
        a = {"jid": "%s@%s" % (user, domain), "password": password,
             "server": "127.0.0.1",
             "port": p.tls_port if tls == "direct" else p.port,
             "tls": tls}
        if ca:
            a["ca-file"] = p.cert
        a.update(extra)
        return a

    def daemon_env(self):
        e = self.bus.env()
        # --debug alone must make the wire log visible (CONTRACT.md), so
        # the daemon does not inherit make check's G_MESSAGES_DEBUG=all.
        e.pop("G_MESSAGES_DEBUG", None)
        # Keep the daemon away from the user's real config.
        e["XDG_CONFIG_HOME"] = os.path.join(self.tmp, "xdg-config")
        # ... and its state (the "SCRAM worked" mark) and cache.
        e["XDG_STATE_HOME"] = os.path.join(self.tmp, "xdg-state")
        e["XDG_CACHE_HOME"] = os.path.join(self.tmp, "xdg-cache")
        return e

    def state_file(self):
        """The daemons' account-state file (daemon/account-state.c) under
        the XDG_STATE_HOME of daemon_env()."""
        return os.path.join(self.tmp, "xdg-state", "presenced", "accounts")

    def start_daemon(self, name, conf, debug=True, env=None):
        log = os.path.join(self.tmp, "%s.log" % name)
        d = Daemon(env or self.daemon_env(), conf, log, debug)
        self.daemons.append(d)
        self.logs.append(("presenced %s" % name, log))
        return d

    def peer(self, user, password, resource="peer", **kw):
        import peer as peermod
        p = peermod.Peer("%s@%s/%s" % (user, DOMAIN, resource), password,
                         "127.0.0.1", self.prosody.port, self.prosody.cert,
                         **kw)
        self.peers.append(p)
        return p

    def setup_server(self, users=("alice", "bob", "carol")):
        """
        Prosody with the given accounts, each with a distinctive random
        password (so a log can be grepped for it), all in each other's
        roster with subscription "both". Returns {user: password}.
        """
        import secrets
        pw = {u: "%s-Pw-%s" % (u, secrets.token_hex(6)) for u in users}
        self.passwords = pw
        pr = self.start_prosody(pw)
        for u in users:
            pr.set_roster(u, {"%s@%s" % (o, DOMAIN): "both"
                              for o in users if o != u})
        self.launch_prosody()
        return pw

    def start_alice(self, name="alice", user="alice", presence=None,
                    debug=True, **account):
        """Config for user + a presenced started with it (not waited)."""
        a = self.account(user, self.passwords[user], **account)
        conf = self.write_config(name, a, presence)
        return self.start_daemon(name, conf, debug)

    def fail_with_log(self, d):
        """Diagnostics for a daemon that did not do what was expected."""
        return ("State=%r StateReason=%r StateMessage=%r alive=%s "
                "exit=%r" % (
                    self.get_property("State"),
                    self.get_property("StateReason"),
                    self.get_property("StateMessage"), d.alive(),
                    d.proc.p.returncode))

    # --- talking to the daemon ----------------------------------------

    def ctl(self, *args, timeout=15, env=None):
        """Runs presencectl; returns CompletedProcess (text). A missing
        binary or a hang is a failed call (rc 127 / 124), not an
        exception."""
        argv = [presencectl_path()] + [str(a) for a in args]
        try:
            return subprocess.run(argv, env=env or self.bus.env(),
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, timeout=timeout,
                                  text=True, errors="replace")
        except OSError as e:
            return subprocess.CompletedProcess(argv, 127, "", str(e))
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 124, "",
                                               "timed out after %ss" %
                                               timeout)

    def gdbus_call(self, method, *args, iface=IFACE, timeout=15):
        """gdbus call; returns (ok, parsed result or error text)."""
        argv = ["gdbus", "call", "--address", self.bus.address,
                "--dest", BUS_NAME, "--object-path", OBJ_PATH,
                "--method", "%s.%s" % (iface, method),
                "--timeout", str(timeout)] + [str(a) for a in args]
        r = subprocess.run(argv, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           errors="replace", timeout=timeout + 5,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            return False, r.stderr.strip()
        try:
            return True, parse_gvariant(r.stdout)
        except ValueError as e:
            return False, "unparsable reply %r: %s" % (r.stdout, e)

    def get_property(self, name, timeout=5):
        ok, v = self.gdbus_call("Get", IFACE, name,
                                iface="org.freedesktop.DBus.Properties",
                                timeout=timeout)
        return v[0] if ok else None

    def get_all(self):
        ok, v = self.gdbus_call("GetAll", IFACE,
                                iface="org.freedesktop.DBus.Properties")
        return v[0] if ok else {}

    def name_owner_pid(self):
        """PID owning our bus name, or None."""
        r = subprocess.run(
            ["gdbus", "call", "--address", self.bus.address,
             "--dest", "org.freedesktop.DBus", "--object-path",
             "/org/freedesktop/DBus", "--method",
             "org.freedesktop.DBus.GetConnectionUnixProcessID", BUS_NAME],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            timeout=10, stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            return None
        try:
            return int(parse_gvariant(r.stdout)[0])
        except (ValueError, IndexError, TypeError):
            return None

    def wait_state(self, state, timeout=20, daemon=None):
        """Polls State until it equals state; returns the last value."""
        last = [None]

        def check():
            if daemon is not None and not daemon.alive():
                return True
            last[0] = self.get_property("State", timeout=2)
            return last[0] == state
        wait_for(check, timeout, 0.02)
        return last[0]

    def watch(self, name="watch"):
        """presencectl watch, lines collected."""
        r = LineReader([presencectl_path(), "watch"], self.bus.env(),
                       os.path.join(self.tmp, "%s.err" % name))
        self.readers.append(r)
        self.logs.append(("presencectl watch stderr",
                          os.path.join(self.tmp, "%s.err" % name)))
        return r

    def monitor(self, name="monitor"):
        """gdbus monitor on our object, lines collected."""
        r = LineReader(["gdbus", "monitor", "--address", self.bus.address,
                        "--dest", BUS_NAME, "--object-path", OBJ_PATH],
                       self.bus.env(), os.path.join(self.tmp, "%s.err" % name))
        self.readers.append(r)
        return r

    # --- the end ---------------------------------------------------------

    def print_logs(self, tail=40000):
        for title, path in self.logs:
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            self.tap.diag("----- %s (%s) -----" % (title, path))
            if len(text) > tail:
                text = "[... %d bytes cut ...]\n" % (len(text) - tail) + \
                    text[-tail:]
            self.tap.diag(text)

    def close(self):
        if self._closed:
            return
        self._closed = True
        signal.alarm(0)
        for p in self.peers:
            try:
                p.stop()
            except Exception:
                pass
        for r in self.readers:
            r.stop()
        for d in self.daemons:
            d.stop(5)
        for pid in self.extra_pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        for b in self.buses:
            b.stop()
        if self.prosody:
            self.prosody.stop()
        if self.tap.failed or os.environ.get("PRESENCED_IT_VERBOSE"):
            self.print_logs()
        if os.environ.get("PRESENCED_IT_KEEP"):
            self.tap.diag("kept %s" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def run_test(name, body, budget=120, need_peer=True):
    """
    The main() of a test script: TAP, preflight (skip without Prosody),
    one TestEnv, body(tap, env), clean-up, exit status.
    """
    tap = Tap()
    preflight(tap, need_peer)
    with TestEnv(tap, name, budget) as env:
        body(tap, env)
    return tap.done()


def preflight(tap, need_peer=True):
    """Skip (77) without Prosody or slixmpp; fail without the binaries."""
    if need_peer and not ensure_slixmpp():
        tap.skip_all("python3-slixmpp not installed")
    cls = server_class()
    if not cls.available():
        tap.skip_all("%s not installed (scripts/test-servers.sh)" % cls.NAME)
    tap.diag("server: %s (PRESENCED_IT_SERVER=%s)" % (cls.NAME, cls.ID))
    for tool in ("dbus-daemon", "gdbus", "timeout"):
        if not find_tool(tool):
            tap.skip_all("%s not installed" % tool)
    sys.path.insert(0, HERE)
