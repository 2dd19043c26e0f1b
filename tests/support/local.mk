# SPDX-License-Identifier: MIT
# Shared by the check programs (STYLE.md §11), built once and linked: the
# suite runner, the scripted in-memory server and the certificate matrix.
# (The fuzzers and the benchmark build their own copies: other flags, no
# check.)
if HAVE_CHECK
noinst_LTLIBRARIES += libtest-support.la
libtest_support_la_SOURCES = \
	tests/support/check-suite.c tests/support/check-suite.h \
	tests/support/session-test-server.c tests/support/session-test-server.h \
	tests/support/tls-test-certs.c tests/support/tls-test-certs.h \
	tests/support/stanza-parse.c tests/support/stanza-parse.h
libtest_support_la_CFLAGS = $(unit_cflags)
libtest_support_la_LIBADD = $(CHECK_LIBS) $(GNUTLS_LIBS) $(GLIB_LIBS)
endif

# The fake Service (daemon/service.h replaced) for tests/fake-presenced,
# tests/test-bus-object and tests/test-bus-presence: built once here.
check_LTLIBRARIES = libtest-fake-service.la
libtest_fake_service_la_SOURCES = \
	tests/support/fake-service.c tests/support/fake-service.h
libtest_fake_service_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
