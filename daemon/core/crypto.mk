# SPDX-License-Identifier: MIT
# SASL (SCRAM, PLAIN, the mechanism choice) and the TLS client on memory
# buffers.
libpresenced_core_la_SOURCES += \
	daemon/core/sasl-scram.c daemon/core/sasl-scram.h \
	daemon/core/sasl-choice.c daemon/core/sasl-choice.h \
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
