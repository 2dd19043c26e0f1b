# SPDX-License-Identifier: MIT
# SASL (SCRAM, PLAIN, the mechanism choice) and the TLS client on memory
# buffers.
libpresenced_core_la_SOURCES += \
	daemon/core/sasl-scram.c daemon/core/sasl-scram.h \
	daemon/core/sasl-choice.c daemon/core/sasl-choice.h \
	daemon/core/fast-token.c daemon/core/fast-token.h \
	daemon/core/tls-session.c daemon/core/tls-session.h

if HAVE_CHECK
check_PROGRAMS += tests/test-sasl-scram
TESTS += tests/test-sasl-scram
tests_test_sasl_scram_SOURCES = tests/test-sasl-scram.c
tests_test_sasl_scram_CFLAGS = $(unit_cflags)
tests_test_sasl_scram_LDADD = $(unit_ldadd)

check_PROGRAMS += tests/test-tls-session
TESTS += tests/test-tls-session
tests_test_tls_session_SOURCES = tests/test-tls-session.c
tests_test_tls_session_CFLAGS = $(unit_cflags)
tests_test_tls_session_LDADD = $(unit_ldadd)
endif

# SCRAM's parsing of server-first and server-final (configure
# --enable-fuzzing CC=clang); fuzz-smoke (parse.mk) runs it.
EXTRA_DIST += tests/fuzz/fuzz-sasl-scram.c tests/fuzz/corpus/sasl-scram
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-sasl-scram
tests_fuzz_fuzz_sasl_scram_SOURCES = tests/fuzz/fuzz-sasl-scram.c \
	daemon/core/sasl-scram.c
tests_fuzz_fuzz_sasl_scram_CPPFLAGS = $(AM_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"presenced\"
tests_fuzz_fuzz_sasl_scram_CFLAGS = $(AM_CFLAGS) $(fuzz_cflags)
tests_fuzz_fuzz_sasl_scram_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_sasl_scram_LDADD = $(GLIB_LIBS) $(GNUTLS_LIBS)

fuzz-smoke-sasl-scram: tests/fuzz/fuzz-sasl-scram
	$(MKDIR_P) tests/fuzz/new-corpus-sasl-scram
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz-sasl-scram \
		-max_total_time=$(FUZZ_TIME) -max_len=1024 -timeout=10 \
		tests/fuzz/new-corpus-sasl-scram \
		$(srcdir)/tests/fuzz/corpus/sasl-scram
endif
.PHONY: fuzz-smoke-sasl-scram
