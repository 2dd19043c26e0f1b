#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: installs what is missing, builds in _build, then runs
# tests/integration/demo.py: a throwaway Prosody on 127.0.0.1 with alice and
# bob, a private session bus, presenced logged in as alice, bob changing
# presence while alice's view is printed, and alice's presence seen by bob.
# Everything it starts is stopped at the end; the whole run is bounded.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ "$(id -u)" = 0 ]; then
	bash scripts/install-deps.sh
else
	bash scripts/install-deps.sh || echo "demo: continuing; install the missing packages as root if the build fails" >&2
fi

[ -x configure ] || autoreconf -fi
mkdir -p _build
(
	cd _build
	[ -f Makefile ] || ../configure
	make -j"$(nproc)" >/dev/null
)

export PRESENCED="$top/_build/presenced"
export PRESENCECTL="$top/_build/presencectl"
# Quiet daemon on the terminal; its log is printed only if something fails.
export G_MESSAGES_DEBUG=
exec timeout -k 5 120 python3 tests/integration/demo.py
