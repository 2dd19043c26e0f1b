#!/bin/sh
# SPDX-License-Identifier: MIT
# LOG_COMPILER for `make check-valgrind`: runs compiled tests under valgrind
# (errors and definite leaks fail the test); scripts run as they are.
case "$1" in
*.py) exec python3 "$@" ;;
*.sh) exec sh "$@" ;;
esac
supp=""
[ -f "${top_srcdir:-.}/tests/valgrind.supp" ] && supp="--suppressions=${top_srcdir}/tests/valgrind.supp"
exec env CK_FORK=no G_SLICE=always-malloc G_DEBUG=gc-friendly \
	valgrind --quiet --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --track-origins=yes $supp "$@"
