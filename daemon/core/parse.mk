# SPDX-License-Identifier: MIT
# The core: XMPP with no I/O (STYLE.md §1). Every core fragment adds to it.
noinst_LTLIBRARIES += libpresenced-core.la
libpresenced_core_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
libpresenced_core_la_LIBADD = $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)
libpresenced_core_la_SOURCES =

# Parsing foundation: element tree, JIDs, the stream reader, log redaction.
libpresenced_core_la_SOURCES += \
	daemon/core/stanza.c daemon/core/stanza.h \
	daemon/core/presence-record.c daemon/core/presence-record.h \
	daemon/core/jid.c daemon/core/jid.h \
	daemon/core/xml-lexer.c daemon/core/xml-lexer.h \
	daemon/core/xml-reader.c daemon/core/xml-reader.h \
	daemon/core/redact.c daemon/core/redact.h \
	daemon/core/text.c daemon/core/text.h

if HAVE_CHECK
parse_tests = \
	tests/test-stanza \
	tests/test-jid \
	tests/test-xml-reader \
	tests/test-redact
check_PROGRAMS += $(parse_tests)
TESTS += $(parse_tests)

tests_test_stanza_SOURCES = tests/test-stanza.c
tests_test_stanza_CFLAGS = $(unit_cflags)
tests_test_stanza_LDADD = $(unit_ldadd)
tests_test_jid_SOURCES = tests/test-jid.c
tests_test_jid_CFLAGS = $(unit_cflags)
tests_test_jid_LDADD = $(unit_ldadd)
tests_test_xml_reader_SOURCES = tests/test-xml-reader.c
tests_test_xml_reader_CFLAGS = $(unit_cflags)
tests_test_xml_reader_LDADD = $(unit_ldadd)
tests_test_redact_SOURCES = tests/test-redact.c
tests_test_redact_CFLAGS = $(unit_cflags)
tests_test_redact_LDADD = $(unit_ldadd)
endif

# Throughput benchmark; built, never run by make check.
noinst_PROGRAMS += tests/bench/bench-xml-reader
tests_bench_bench_xml_reader_SOURCES = tests/bench/bench-xml-reader.c
tests_bench_bench_xml_reader_LDADD = libpresenced-core.la \
	$(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)

# libFuzzer target (configure --enable-fuzzing CC=clang). The fuzzer flags
# are added here, not to AM_CFLAGS, so the library is instrumented for
# coverage but keeps its own main-less build.
EXTRA_DIST += tests/fuzz/fuzz-xml-reader.c \
	tests/fuzz/corpus/xml-reader/badns \
	tests/fuzz/corpus/xml-reader/badprefix-utf8 \
	tests/fuzz/corpus/xml-reader/comment \
	tests/fuzz/corpus/xml-reader/deep \
	tests/fuzz/corpus/xml-reader/dtd \
	tests/fuzz/corpus/xml-reader/encoding \
	tests/fuzz/corpus/xml-reader/entities \
	tests/fuzz/corpus/xml-reader/pi \
	tests/fuzz/corpus/xml-reader/presence \
	tests/fuzz/corpus/xml-reader/refs \
	tests/fuzz/corpus/xml-reader/roster \
	tests/fuzz/corpus/xml-reader/starttls \
	tests/fuzz/corpus/xml-reader/xxe
if ENABLE_FUZZING
fuzz_cflags = -fsanitize=fuzzer-no-link,address,undefined -g
noinst_PROGRAMS += tests/fuzz/fuzz-xml-reader
tests_fuzz_fuzz_xml_reader_SOURCES = tests/fuzz/fuzz-xml-reader.c \
	daemon/core/stanza.c daemon/core/xml-reader.c \
	daemon/core/xml-lexer.c daemon/core/presence-record.c
tests_fuzz_fuzz_xml_reader_CPPFLAGS = $(AM_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"presenced\"
tests_fuzz_fuzz_xml_reader_CFLAGS = $(AM_CFLAGS) $(fuzz_cflags)
tests_fuzz_fuzz_xml_reader_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_xml_reader_LDADD = $(GLIB_LIBS) $(XML_LIBS)

# Bounded fuzzing run over the seed corpus (new finds go to a scratch dir).
FUZZ_TIME ?= 30
# Each fuzzer in turn: this one, then the stanza handlers (tests/hostile),
# the caps parsers (model.mk), SCRAM (crypto.mk) and the config parser
# (daemon/local.mk).
fuzz-smoke: tests/fuzz/fuzz-xml-reader fuzz-smoke-stanza-handlers fuzz-smoke-caps \
		fuzz-smoke-sasl-scram fuzz-smoke-settings
	$(MKDIR_P) tests/fuzz/new-corpus
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz-xml-reader \
		-max_total_time=$(FUZZ_TIME) -max_len=4096 -timeout=10 \
		-rss_limit_mb=2048 \
		tests/fuzz/new-corpus $(srcdir)/tests/fuzz/corpus/xml-reader
else
fuzz-smoke:
	@echo "fuzz-smoke: configure with --enable-fuzzing CC=clang" >&2; exit 1
endif
.PHONY: fuzz-smoke
