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
check_PROGRAMS += tests/test-presence tests/test-contacts
TESTS += tests/test-presence tests/test-contacts

tests_test_presence_SOURCES = tests/test-presence.c
tests_test_presence_CFLAGS = $(unit_cflags)
tests_test_presence_LDADD = $(unit_ldadd)

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
