# SPDX-License-Identifier: MIT
# Hostile and broken servers (issue #5): a scripted misbehaving XMPP server
# on loopback and one TAP test a scenario, driving the real daemon on a
# private bus; plus the libFuzzer target for the stanza handlers.
hostile_tests = tests/hostile/test-hostile.py
TESTS += $(hostile_tests)
dist_check_SCRIPTS += $(hostile_tests)
EXTRA_DIST += tests/hostile/hostile_server.py tests/hostile/README.md

# Stanza handlers of an ONLINE session (configure --enable-fuzzing CC=clang).
# Every input starts from a session over the in-memory test server, whose
# check assertions are renamed to the fuzzer's own abort() versions: check's
# runner kills the process group on libFuzzer's alarm (see the target).
EXTRA_DIST += tests/fuzz/corpus/stanza-handlers
if ENABLE_FUZZING
if HAVE_CHECK
noinst_PROGRAMS += tests/fuzz/fuzz-stanza-handlers
tests_fuzz_fuzz_stanza_handlers_SOURCES = \
	tests/fuzz/fuzz-stanza-handlers.c \
	tests/support/session-test-server.c tests/support/session-test-server.h \
	tests/support/tls-test-certs.c tests/support/tls-test-certs.h \
	$(libpresenced_core_la_SOURCES)
tests_fuzz_fuzz_stanza_handlers_CPPFLAGS = $(AM_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"presenced\" \
	-D_ck_assert_failed=fuzz_assert_failed -D_mark_point=fuzz_mark_point
tests_fuzz_fuzz_stanza_handlers_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -g
tests_fuzz_fuzz_stanza_handlers_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_stanza_handlers_LDADD = $(GLIB_LIBS) \
	$(XML_LIBS) $(GNUTLS_LIBS)

# Bounded run over the seed corpus, like fuzz-smoke for the reader (new
# finds go to a scratch dir). Not a prerequisite of fuzz-smoke: automake
# warns about a second definition of that target in another fragment, so
# daemon/core/parse.mk is the place to add it.
fuzz-smoke-stanza-handlers: tests/fuzz/fuzz-stanza-handlers
	$(MKDIR_P) tests/fuzz/new-corpus-stanza-handlers
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz-stanza-handlers \
		-max_total_time=$(FUZZ_TIME) -max_len=8192 -timeout=10 \
		-rss_limit_mb=2048 \
		tests/fuzz/new-corpus-stanza-handlers \
		$(srcdir)/tests/fuzz/corpus/stanza-handlers
endif
endif
.PHONY: fuzz-smoke-stanza-handlers
