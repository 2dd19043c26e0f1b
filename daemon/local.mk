# SPDX-License-Identifier: MIT
# The daemon (STYLE.md §1 layer 2): sockets, SRV, back-off, signals, wiring.
# Each source is compiled once, into one of two convenience libraries that
# presenced and the tests link:
#   libpresenced-daemon.la        settings, connection, lock policy, the
#                                 Service, the desktop (screen lock) client;
#   libpresenced-bus-presence.la  the bus object, alone, because the bus
#                                 tests link it against tests/support's fake
#                                 Service instead of the real one.
daemon_cppflags = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
daemon_ldadd = libpresenced-daemon.la libpresenced-bus.la \
	libpresenced-core.la \
	$(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) $(DBUS_LIBS)

noinst_LTLIBRARIES += libpresenced-daemon.la libpresenced-bus-presence.la
libpresenced_daemon_la_SOURCES = \
	daemon/settings.c daemon/settings.h \
	daemon/connection.c daemon/connection.h \
	daemon/lock-policy.c daemon/lock-policy.h \
	daemon/service.c daemon/service.h \
	daemon/bus-desktop.c daemon/bus-desktop.h
libpresenced_daemon_la_CPPFLAGS = $(daemon_cppflags)
libpresenced_daemon_la_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)

libpresenced_bus_presence_la_SOURCES = \
	daemon/bus-presence.c daemon/bus-presence.h
libpresenced_bus_presence_la_CPPFLAGS = $(daemon_cppflags)
libpresenced_bus_presence_la_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)

bin_PROGRAMS += presenced
presenced_SOURCES = daemon/main.c
presenced_CPPFLAGS = $(daemon_cppflags)
presenced_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
presenced_LDADD = libpresenced-bus-presence.la $(daemon_ldadd)

if HAVE_CHECK
check_PROGRAMS += tests/test-settings tests/test-connection \
	tests/test-service tests/test-lock-policy
TESTS += tests/test-settings tests/test-connection tests/test-service \
	tests/test-lock-policy

tests_test_settings_SOURCES = tests/test-settings.c
tests_test_settings_CPPFLAGS = $(daemon_cppflags)
tests_test_settings_CFLAGS = $(unit_cflags)
tests_test_settings_LDADD = libpresenced-daemon.la $(unit_ldadd)

# Loopback only: a GSocketService plays the server, a fake GResolver the DNS.
tests_test_connection_SOURCES = tests/test-connection.c
tests_test_connection_CPPFLAGS = $(daemon_cppflags)
tests_test_connection_CFLAGS = $(unit_cflags)
tests_test_connection_LDADD = libpresenced-daemon.la $(unit_ldadd)

tests_test_service_SOURCES = tests/test-service.c
tests_test_service_CPPFLAGS = $(daemon_cppflags)
tests_test_service_CFLAGS = $(unit_cflags)
tests_test_service_LDADD = libpresenced-daemon.la $(unit_ldadd)

# Screen lock → presence rules (issue #7), pure and through the Service.
tests_test_lock_policy_SOURCES = tests/test-lock-policy.c
tests_test_lock_policy_CPPFLAGS = $(daemon_cppflags)
tests_test_lock_policy_CFLAGS = $(unit_cflags)
tests_test_lock_policy_LDADD = libpresenced-daemon.la $(unit_ldadd)
endif
