#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command: installs what is missing, builds in _build with
# warnings as errors, and runs every test (unit, D-Bus, Prosody integration).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/install-deps.sh
[ -x configure ] || autoreconf -fi
mkdir -p _build
cd _build
[ -f Makefile ] || ../configure --enable-werror ${CONFIGURE_FLAGS:-}
make -j"$(nproc)"
make -j"$(nproc)" check || { cat test-suite.log 2>/dev/null | tail -n 200; exit 1; }
