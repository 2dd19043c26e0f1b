# SPDX-License-Identifier: MIT
# The XMPP client session state machine and its scripted-exchange tests.
libpresenced_core_la_SOURCES += \
	daemon/core/xmpp-session.c daemon/core/xmpp-session.h \
	daemon/core/stream-mgmt.c daemon/core/stream-mgmt.h \
	daemon/core/roster.c daemon/core/roster.h

if HAVE_CHECK
check_PROGRAMS += tests/test-xmpp-session tests/test-stream-mgmt
TESTS += tests/test-xmpp-session tests/test-stream-mgmt
tests_test_stream_mgmt_SOURCES = tests/test-stream-mgmt.c
tests_test_stream_mgmt_CFLAGS = $(unit_cflags)
tests_test_stream_mgmt_LDADD = $(unit_ldadd)
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
