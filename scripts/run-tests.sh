#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's test command: installs what is missing, builds with warnings
# as errors, and runs every test (unit, D-Bus, Prosody integration).
#
#   bash scripts/run-tests.sh                 # _build, gcc, -Werror
#   BUILD_DIR=build-asan CONFIGURE_FLAGS="--enable-sanitizers CC=clang" \
#       bash scripts/run-tests.sh             # clang ASan+UBSan
#   DISTCHECK=1 bash scripts/run-tests.sh     # also make distcheck
#
# The automake summary is in $BUILD_DIR/test-suite.log; on failure the logs
# of the failed tests are printed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${BUILD_DIR:-_build}
flags="--enable-werror ${CONFIGURE_FLAGS:-}"

if [ -z "${SKIP_DEPS:-}" ]; then
	bash scripts/install-deps.sh
fi
[ -x configure ] || autoreconf -fi
mkdir -p "$build"
cd "$build"
# Reconfigure when the build dir was configured with other flags (the
# demo builds without -Werror).
want="$flags"
if [ ! -f Makefile ] || [ "$(cat .run-tests-flags 2>/dev/null)" != "$want" ]; then
	# shellcheck disable=SC2086 # flags are words on purpose
	"$top/configure" $flags
	echo "$want" > .run-tests-flags
fi
make -j"$(nproc)"
status=0
make -j"$(nproc)" check || status=$?
if [ "$status" -ne 0 ]; then
	echo "=== test-suite.log (failed tests) ===" >&2
	tail -n 400 test-suite.log >&2 || true
	exit "$status"
fi
if [ -n "${DISTCHECK:-}" ]; then
	make -j"$(nproc)" distcheck
fi
