# SPDX-License-Identifier: MIT
# The data model: presence values and stanzas, the contact table.
libpresenced_core_la_SOURCES += \
	daemon/core/presence.c daemon/core/presence.h \
	daemon/core/contacts.c daemon/core/contacts.h

# Memory and speed of the contact table: tests/bench/bench-contacts
noinst_PROGRAMS += tests/bench/bench-contacts
tests_bench_bench_contacts_SOURCES = tests/bench/bench-contacts.c
tests_bench_bench_contacts_LDADD = libpresenced-core.la $(GLIB_LIBS) \
	$(XML_LIBS) $(GNUTLS_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/test-presence tests/test-contacts \
	tests/test-presence-record
TESTS += tests/test-presence tests/test-contacts tests/test-presence-record

tests_test_presence_SOURCES = tests/test-presence.c
tests_test_presence_CFLAGS = $(unit_cflags)
tests_test_presence_LDADD = $(unit_ldadd)
tests_test_presence_record_SOURCES = tests/test-presence-record.c
tests_test_presence_record_CFLAGS = $(unit_cflags)
tests_test_presence_record_LDADD = $(unit_ldadd)

tests_test_contacts_SOURCES = tests/test-contacts.c
tests_test_contacts_CFLAGS = $(unit_cflags)
tests_test_contacts_LDADD = $(unit_ldadd)
endif

# XEP-0115/0030 capabilities (ours and the contacts' cache), XEP-0191
# blocking, XEP-0012 last activity: parse, build, decide; no I/O.
libpresenced_core_la_SOURCES += \
	daemon/core/caps.c daemon/core/caps.h \
	daemon/core/caps-cache.c daemon/core/caps-cache.h \
	daemon/core/blocking.c daemon/core/blocking.h \
	daemon/core/last-activity.c daemon/core/last-activity.h

if HAVE_CHECK
caps_tests = tests/test-caps tests/test-caps-cache tests/test-blocking \
	tests/test-last-activity
check_PROGRAMS += $(caps_tests)
TESTS += $(caps_tests)

tests_test_caps_SOURCES = tests/test-caps.c
tests_test_caps_CFLAGS = $(unit_cflags)
tests_test_caps_LDADD = $(unit_ldadd)
tests_test_caps_cache_SOURCES = tests/test-caps-cache.c
tests_test_caps_cache_CFLAGS = $(unit_cflags)
tests_test_caps_cache_LDADD = $(unit_ldadd)
tests_test_blocking_SOURCES = tests/test-blocking.c
tests_test_blocking_CFLAGS = $(unit_cflags)
tests_test_blocking_LDADD = $(unit_ldadd)
tests_test_last_activity_SOURCES = tests/test-last-activity.c
tests_test_last_activity_CFLAGS = $(unit_cflags)
tests_test_last_activity_LDADD = $(unit_ldadd)
endif

# libFuzzer target for the caps, caps cache and blocking parsers
# (configure --enable-fuzzing CC=clang); the core is compiled in so it is
# instrumented, as for tests/fuzz/fuzz-stanza-handlers.
EXTRA_DIST += tests/fuzz/fuzz-caps.c tests/fuzz/corpus/caps
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-caps
tests_fuzz_fuzz_caps_SOURCES = tests/fuzz/fuzz-caps.c \
	$(libpresenced_core_la_SOURCES)
tests_fuzz_fuzz_caps_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
tests_fuzz_fuzz_caps_CFLAGS = $(AM_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -g
tests_fuzz_fuzz_caps_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_caps_LDADD = $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)

# Bounded run over the seed corpus (new finds go to a scratch dir).
fuzz-smoke-caps: tests/fuzz/fuzz-caps
	$(MKDIR_P) tests/fuzz/new-corpus-caps
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz-caps \
		-max_total_time=$(FUZZ_TIME) -max_len=8192 -timeout=10 \
		tests/fuzz/new-corpus-caps $(srcdir)/tests/fuzz/corpus/caps
endif
.PHONY: fuzz-smoke-caps
