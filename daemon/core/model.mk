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
