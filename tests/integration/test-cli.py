#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
Command lines and exit statuses (CONTRACT.md): presenced --version/--help,
usage error 2, configuration errors 1 naming file, key and reason;
presencectl usage error 2, daemon not running 1 with a message.
"""

import os
import subprocess
import sys

sys.dont_write_bytecode = True  # the source tree may be read-only
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def run_prog(env, argv, timeout=10):
    try:
        return subprocess.run(argv, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return subprocess.CompletedProcess(argv, -1, "", str(e))


def run(tap, env):
    pw = env.setup_server(("alice",))
    bus = env.start_bus()
    e = env.daemon_env()
    pd = harness.presenced_path()

    r = run_prog(e, [pd, "--version"])
    tap.ok(r.returncode == 0 and "presenced" in r.stdout + r.stderr,
           "presenced --version", repr(r))
    r = run_prog(e, [pd, "--help"])
    tap.ok(r.returncode == 0 and "--config" in r.stdout + r.stderr,
           "presenced --help mentions --config", repr(r))
    r = run_prog(e, [pd, "--no-such-option"])
    tap.ok(r.returncode == 2 and r.stderr.strip(),
           "presenced: usage error exits 2 with a message", repr(r))

    missing = os.path.join(env.tmp, "missing.conf")
    r = run_prog(e, [pd, "--config", missing])
    tap.ok(r.returncode == 1 and missing in r.stderr,
           "missing config file: exit 1, message names the file", repr(r))

    # Default path: $XDG_CONFIG_HOME/presenced/presenced.conf.
    xdg = os.path.join(env.tmp, "xdg-cli")
    e2 = dict(e, XDG_CONFIG_HOME=xdg)
    r = run_prog(e2, [pd])
    want = os.path.join(xdg, "presenced", "presenced.conf")
    tap.ok(r.returncode == 1 and want in r.stderr,
           "no --config: $XDG_CONFIG_HOME/presenced/presenced.conf", repr(r))

    cases = [
        ("bad-port", {"port": "seventy"}, "port"),
        ("bad-tls", {"tls": "none"}, "tls"),
        ("bad-jid", {"jid": "not a jid@@"}, "jid"),
    ]
    for name, override, key in cases:
        a = env.account("alice", pw["alice"])
        a.update(override)
        conf = env.write_config(name, a)
        r = run_prog(e, [pd, "--config", conf])
        tap.ok(r.returncode == 1 and conf in r.stderr and key in r.stderr
               and pw["alice"] not in r.stderr,
               "config error (%s): exit 1 naming file and key, no password"
               % name, repr(r))
    a = env.account("alice", pw["alice"])
    conf = env.write_config("bad-show", a, {"show": "sleepy"})
    r = run_prog(e, [pd, "--config", conf])
    tap.ok(r.returncode == 1 and "show" in r.stderr,
           "config error (unknown show): exit 1 naming the key", repr(r))
    a = env.account("alice", None)
    del a["password"]
    conf = env.write_config("no-password", a)
    e3 = dict(e)
    e3.pop("CREDENTIALS_DIRECTORY", None)
    r = run_prog(e3, [pd, "--config", conf])
    tap.ok(r.returncode == 1 and "password" in r.stderr,
           "no password anywhere: exit 1 naming the password", repr(r))

    # presencectl without a daemon (nothing to activate on this bus).
    ctl = harness.presencectl_path()
    r = run_prog(bus.env(), [ctl, "state"])
    tap.ok(r.returncode == 1 and r.stderr.strip(),
           "presencectl with no daemon: exit 1 with a message", repr(r))
    r = run_prog(bus.env(), [ctl, "frobnicate"])
    tap.ok(r.returncode == 2 and r.stderr.strip(),
           "presencectl unknown command: exit 2", repr(r))
    r = run_prog(bus.env(), [ctl, "set"])
    tap.ok(r.returncode == 2, "presencectl set without SHOW: exit 2",
           repr(r))
    r = run_prog(bus.env(), [ctl, "set", "away", "--priority", "high"])
    tap.ok(r.returncode == 2, "presencectl set --priority high: exit 2",
           repr(r))
    # libdbus aborts on non-UTF-8 strings: a usage error, never SIGABRT.
    for argv in ([ctl, "set", "away", b"\xff"],
                 [ctl, "set", "away", "x", "--to", b"b\xe9@x"]):
        r = run_prog(bus.env(), argv)
        tap.ok(r.returncode == 2 and "UTF-8" in r.stderr,
               "presencectl with a non-UTF-8 argument: exit 2", repr(r))


if __name__ == "__main__":
    sys.exit(harness.run_test("cli", run, budget=90, need_peer=False))
