# SPDX-License-Identifier: MIT
# The XMPP link (xmpp-stream*), what runs once bound (xmpp-session), and
# their scripted-exchange tests.
libpresenced_core_la_SOURCES += \
	daemon/core/xmpp-stream.c daemon/core/xmpp-stream.h \
	daemon/core/xmpp-stream-private.h \
	daemon/core/xmpp-stream-sasl.c daemon/core/xmpp-stream-iq.c \
	daemon/core/xmpp-stream-sm.c daemon/core/xmpp-stream-sasl2.c \
	daemon/core/xmpp-session.c daemon/core/xmpp-session.h \
	daemon/core/xmpp-session-private.h \
	daemon/core/xmpp-session-internal.h \
	daemon/core/xmpp-session-caps.c daemon/core/xmpp-session-blocking.c \
	daemon/core/stream-mgmt.c daemon/core/stream-mgmt.h \
	daemon/core/roster.c daemon/core/roster.h

if HAVE_CHECK
check_PROGRAMS += tests/test-xmpp-stream tests/test-xmpp-session \
	tests/test-stream-mgmt
TESTS += tests/test-xmpp-stream tests/test-xmpp-session tests/test-stream-mgmt
tests_test_stream_mgmt_SOURCES = tests/test-stream-mgmt.c
tests_test_stream_mgmt_CFLAGS = $(unit_cflags)
tests_test_stream_mgmt_LDADD = $(unit_ldadd)
tests_test_xmpp_stream_SOURCES = tests/test-xmpp-stream.c
tests_test_xmpp_stream_CFLAGS = $(unit_cflags)
tests_test_xmpp_stream_LDADD = $(unit_ldadd)
tests_test_xmpp_session_SOURCES = \
	tests/test-xmpp-session.c
tests_test_xmpp_session_CFLAGS = $(unit_cflags)
tests_test_xmpp_session_LDADD = $(unit_ldadd)
endif

# Roster parsing, push validation, versioning, subscription decisions.
if HAVE_CHECK
check_PROGRAMS += tests/test-roster
TESTS += tests/test-roster
tests_test_roster_SOURCES = tests/test-roster.c
tests_test_roster_CFLAGS = $(unit_cflags)
tests_test_roster_LDADD = $(unit_ldadd)
endif

# SASL2, Bind2, XEP-0198 inside SASL2 and FAST (xmpp-stream-sasl2.c,
# fast-token.c).
if HAVE_CHECK
check_PROGRAMS += tests/test-xmpp-stream-sasl2
TESTS += tests/test-xmpp-stream-sasl2
tests_test_xmpp_stream_sasl2_SOURCES = tests/test-xmpp-stream-sasl2.c
tests_test_xmpp_stream_sasl2_CFLAGS = $(unit_cflags)
tests_test_xmpp_stream_sasl2_LDADD = $(unit_ldadd)
endif
