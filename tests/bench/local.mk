# SPDX-License-Identifier: MIT
# The presence benchmark (issue #6): `make bench` (minutes), `make
# bench-smoke` (under a minute, for CI). Never part of `make check`.
# Built only on demand (EXTRA_PROGRAMS), so libstrophe is needed for
# `make bench` alone.

EXTRA_PROGRAMS = tests/bench/bench-presence tests/bench/strophe-tracker \
	tests/bench/core-tracker

tests_bench_bench_presence_SOURCES = \
	tests/bench/bench-presence.c \
	tests/bench/bench-wire.c tests/bench/bench-wire.h \
	tests/bench/bench-server.c tests/bench/bench-server.h \
	tests/bench/bench-bus.c tests/bench/bench-bus.h \
	tests/bench/bench-floor.c tests/bench/bench-floor.h \
	tests/support/tls-test-certs.c tests/support/tls-test-certs.h
tests_bench_bench_presence_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
tests_bench_bench_presence_LDADD = $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) \
	$(DBUS_LIBS) -lm

# libstrophe is not a configure check: only the benchmark needs it
# (Debian libstrophe-dev; `pkg-config --libs libstrophe` is -lstrophe).
tests_bench_strophe_tracker_SOURCES = tests/bench/strophe-tracker.c
tests_bench_strophe_tracker_CFLAGS = $(AM_CFLAGS)
tests_bench_strophe_tracker_LDADD = $(GLIB_LIBS) -lstrophe

tests_bench_core_tracker_SOURCES = tests/bench/core-tracker.c
tests_bench_core_tracker_LDADD = libpresenced-core.la $(GLIB_LIBS) \
	$(XML_LIBS) $(GNUTLS_LIBS)

CLEANFILES += $(EXTRA_PROGRAMS)
EXTRA_DIST += BENCHMARKS.md

bench_programs = presenced tests/bench/bench-presence \
	tests/bench/strophe-tracker tests/bench/core-tracker

bench: $(bench_programs)
	./tests/bench/bench-presence --presenced ./presenced \
		--tracker ./tests/bench/strophe-tracker \
		--core ./tests/bench/core-tracker $(BENCH_FLAGS)

bench-smoke: $(bench_programs)
	./tests/bench/bench-presence --smoke --presenced ./presenced \
		--tracker ./tests/bench/strophe-tracker \
		--core ./tests/bench/core-tracker $(BENCH_FLAGS)

# The idle window with a fake Mutter IdleMonitor and a DND source on the
# bus (issue #15): watched sources must add no wake-ups.
bench-desktop: $(bench_programs)
	./tests/bench/bench-presence --smoke --subjects presenced \
		--idle-seconds 30 --presenced ./presenced \
		--desktop $(srcdir)/tests/integration/fake-desktop.py \
		$(BENCH_FLAGS)

.PHONY: bench bench-smoke bench-desktop bench-reconnect

# The reconnect benchmark (issue #16): legacy SASL, SASL2 + Bind2 and FAST,
# resumed and new sessions, against Prosody 13 and ejabberd 24.12 from
# scripts/test-servers.sh (about two minutes).
bench-reconnect: presenced presencectl
	PRESENCED=$(abs_top_builddir)/presenced \
	PRESENCECTL=$(abs_top_builddir)/presencectl \
	top_srcdir=$(abs_top_srcdir) top_builddir=$(abs_top_builddir) \
		python3 $(srcdir)/tests/bench/bench-reconnect.py \
		$(BENCH_RECONNECT_FLAGS)
EXTRA_DIST += tests/bench/bench-reconnect.py
