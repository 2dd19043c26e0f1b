#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Failures against a real Prosody: a wrong password ends in State offline /
StateReason auth-failed (not retried), an untrusted certificate in
reconnecting / tls-failed (retried with back-off, CONTRACT.md "Staying
connected"); each with
a clear log line, the daemon still running, and the password nowhere in the
log (and, for the untrusted server, never sent).
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def wait_reason(env, d, reason, timeout=30):
    return harness.wait_for(
        lambda: not d.alive() or env.get_property("StateReason") == reason,
        timeout, 0.05) and env.get_property("StateReason") == reason


def people_lines(log):
    """Log lines for people: not wire dumps, not debug traces."""
    return [x for x in log.splitlines()
            if "SEND:" not in x and "RECV:" not in x and
            "-DEBUG" not in x and "<debug>" not in x]


def check_common(tap, env, d, what, secret, cause_re, state_want="offline"):
    state = env.get_property("State")
    tap.ok(state == state_want, "%s: State %s" % (what, state_want),
           "State=%r" % state)
    msg = env.get_property("StateMessage") or ""
    tap.ok(msg and "localhost" in msg and secret not in msg,
           "%s: StateMessage names the domain, no secret" % what, repr(msg))
    # The bus still answers: the daemon did not crash or hang.
    ok, v = env.gdbus_call("GetPresence")
    tap.ok(ok and d.alive(), "%s: daemon alive and answering" % what,
           repr(v))
    log = d.read_log()
    lines = [x for x in people_lines(log) if re.search(cause_re, x, re.I)]
    tap.ok(lines, "%s: a clear log line (/%s/)" % (what, cause_re))
    if lines:
        tap.diag("%s: %s" % (what, lines[0].strip()))
    tap.ok(secret not in log, "%s: password never in the log" % what)
    tap.ok(not re.search(r"AddressSanitizer|runtime error|CRITICAL|"
                         r"assertion", log),
           "%s: no sanitizer report, critical or assertion" % what)


def run(tap, env):
    pw = env.setup_server(("alice",))

    # ---- wrong password --------------------------------------------------
    env.start_bus()
    wrong = "Wrong-S3cret-%s" % pw["alice"][-6:]
    a = env.account("alice", wrong, resource="wrongpw")
    conf = env.write_config("wrongpw", a)
    d = env.start_daemon("wrongpw", conf)
    ok = wait_reason(env, d, "auth-failed")
    tap.ok(ok, "wrong password: StateReason auth-failed",
           env.fail_with_log(d))
    check_common(tap, env, d, "wrong password", wrong,
                 r"authenticat|not-authorized|password|credentials|auth-failed")
    # No endless retry storm: Prosody saw a bounded number of attempts.
    # (ejabberd's logger writes a moment later: wait for the first one.)
    attempts = harness.wait_for(lambda: env.prosody.auth_attempts(
        env.prosody.read_log()), 5) or 0
    tap.ok(1 <= attempts <= 3, "wrong password: not retried in a loop "
           "(%d attempts)" % attempts)
    d.stop()

    # ---- untrusted certificate -------------------------------------------
    env.start_bus()
    before = env.prosody.read_log()
    a = env.account("alice", pw["alice"], ca=False, resource="untrusted")
    conf = env.write_config("untrusted", a)
    d = env.start_daemon("untrusted", conf)
    ok = wait_reason(env, d, "tls-failed")
    tap.ok(ok, "untrusted certificate: StateReason tls-failed",
           env.fail_with_log(d))
    check_common(tap, env, d, "untrusted certificate", pw["alice"],
                 r"certificate|not trusted|untrusted|verif|tls-failed|"
                 r"TLS (handshake )?(with \S+ )?failed",
                 state_want="reconnecting")
    after = env.prosody.read_log()[len(before):]
    tap.ok("<auth" not in after and "Authenticated as" not in after,
           "untrusted certificate: no SASL exchange reached the server")
    tap.ok(not re.search(r"SEND: <auth", d.read_log()),
           "untrusted certificate: no <auth> sent")
    d.stop()

    # ---- certificate for another name --------------------------------------
    # Trusted (our CA) but issued to "localhost", not to the JID's domain.
    host = env.prosody.WRONG_NAME_HOST
    env.prosody.register("alice", pw["alice"], host=host)
    env.start_bus()
    before = env.prosody.read_log()
    a = env.account("alice", pw["alice"], domain=host, resource="wrongname")
    conf = env.write_config("wrongname", a)
    d = env.start_daemon("wrongname", conf)
    ok = wait_reason(env, d, "tls-failed")
    tap.ok(ok, "certificate for another name: StateReason tls-failed",
           env.fail_with_log(d))
    msg = env.get_property("StateMessage") or ""
    tap.ok(host in msg, "certificate for another name: StateMessage names "
           "the domain", repr(msg))
    tap.ok(d.alive(), "certificate for another name: daemon alive")
    after = env.prosody.read_log()[len(before):]
    tap.ok("<auth" not in after and "Authenticated as" not in after,
           "certificate for another name: no SASL exchange")
    tap.ok(pw["alice"] not in d.read_log(),
           "certificate for another name: password never in the log")
    d.stop()

    # ---- password-file readable by others -----------------------------------
    env.start_bus()
    pwfile = os.path.join(env.tmp, "password-open")
    with open(pwfile, "w") as f:
        f.write(pw["alice"] + "\n")
    os.chmod(pwfile, 0o644)
    a = env.account("alice", None, resource="pwfile")
    del a["password"]
    a["password-file"] = pwfile
    conf = env.write_config("pwfile-open", a)
    d = env.start_daemon("pwfile-open", conf)
    rc = d.proc.wait(10)
    out = d.read_log()
    tap.ok(rc == 1, "password-file readable by others: exit status 1",
           "exit status %r" % rc)
    tap.ok(pwfile in out or "password-file" in out,
           "password-file readable by others: the message names the file "
           "or key", out[-1000:])
    tap.ok(pw["alice"] not in out,
           "password-file readable by others: password not printed")


if __name__ == "__main__":
    sys.exit(harness.run_test("failures", run, budget=120))
