# SPDX-License-Identifier: MIT
# The daemon (STYLE.md §1 layer 2): sockets, SRV, back-off, signals, wiring.
daemon_cppflags = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"

bin_PROGRAMS += presenced
presenced_SOURCES = daemon/main.c \
	daemon/service.c daemon/service.h \
	daemon/connection.c daemon/connection.h \
	daemon/bus-presence.c daemon/bus-presence.h \
	daemon/bus-desktop.c daemon/bus-desktop.h \
	daemon/lock-policy.c daemon/lock-policy.h
presenced_CPPFLAGS = $(daemon_cppflags)
presenced_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
presenced_LDADD = libpresenced-settings.la libpresenced-bus.la \
	libpresenced-core.la \
	$(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) $(DBUS_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/test-connection tests/test-service \
	tests/test-lock-policy
TESTS += tests/test-connection tests/test-service tests/test-lock-policy

# Loopback only: a GSocketService plays the server, a fake GResolver the DNS.
tests_test_connection_SOURCES = tests/test-connection.c \
	daemon/connection.c daemon/connection.h
tests_test_connection_CPPFLAGS = $(daemon_cppflags)
tests_test_connection_CFLAGS = $(unit_cflags)
tests_test_connection_LDADD = libtest-support.la $(CHECK_LIBS) $(GLIB_LIBS)

tests_test_service_SOURCES = tests/test-service.c \
	daemon/service.c daemon/service.h \
	daemon/lock-policy.c daemon/lock-policy.h \
	daemon/connection.c daemon/connection.h
tests_test_service_CPPFLAGS = $(daemon_cppflags)
tests_test_service_CFLAGS = $(unit_cflags)
tests_test_service_LDADD = libpresenced-settings.la $(unit_ldadd)

# Screen lock → presence rules (issue #7), pure and through the Service.
tests_test_lock_policy_SOURCES = tests/test-lock-policy.c \
	daemon/lock-policy.c daemon/lock-policy.h \
	daemon/service.c daemon/service.h \
	daemon/connection.c daemon/connection.h
tests_test_lock_policy_CPPFLAGS = $(daemon_cppflags)
tests_test_lock_policy_CFLAGS = $(unit_cflags)
tests_test_lock_policy_LDADD = libpresenced-settings.la $(unit_ldadd)
endif
