# SPDX-License-Identifier: MIT
# The daemon (STYLE.md §1 layer 2): sockets, SRV, back-off, signals, wiring.
# Each source is compiled once, into one of three convenience libraries
# that presenced and the tests link:
#   libpresenced-daemon.la        the parts that need no Service: settings,
#                                 connection, the session as its sink, desktop
#                                 policy, subscription requests, validation;
#   libpresenced-service.la       the Service and the desktop (screen lock,
#                                 sleep) client that drives it;
#   libpresenced-bus-presence.la  the bus object, alone, because the bus
#                                 tests link it against tests/support's fake
#                                 Service instead of the real one.
daemon_cppflags = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
daemon_ldadd = libpresenced-daemon.la libpresenced-bus.la \
	libpresenced-core.la \
	$(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) $(DBUS_LIBS)
service_ldadd = libpresenced-service.la $(daemon_ldadd)

noinst_LTLIBRARIES += libpresenced-daemon.la libpresenced-service.la \
	libpresenced-bus-presence.la
libpresenced_daemon_la_SOURCES = \
	daemon/settings.c daemon/settings.h \
	daemon/connection.c daemon/connection.h \
	daemon/session-sink.c daemon/session-sink.h \
	daemon/desktop-policy.c daemon/desktop-policy.h \
	daemon/retry-policy.c daemon/retry-policy.h \
	daemon/subscription-requests.c daemon/subscription-requests.h \
	daemon/validate.c daemon/validate.h \
	daemon/account-state.c daemon/account-state.h
libpresenced_daemon_la_CPPFLAGS = $(daemon_cppflags)
libpresenced_daemon_la_CFLAGS = $(AM_CFLAGS)

libpresenced_service_la_SOURCES = \
	daemon/service.c daemon/service.h daemon/service-private.h \
	daemon/service-roster.c daemon/service-caps.c \
	daemon/service-desktop.c daemon/service-auth.c \
	daemon/bus-desktop.c daemon/bus-desktop.h \
	daemon/bus-desktop-private.h daemon/bus-desktop-lock.c \
	daemon/bus-desktop-logind.c daemon/bus-desktop-idle.c \
	daemon/bus-desktop-dnd.c
libpresenced_service_la_CPPFLAGS = $(daemon_cppflags)
libpresenced_service_la_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)

libpresenced_bus_presence_la_SOURCES = \
	daemon/bus-presence.c daemon/bus-presence.h \
	daemon/bus-presence-private.h daemon/bus-presence-caps.c \
	daemon/bus-presence-batch.c
libpresenced_bus_presence_la_CPPFLAGS = $(daemon_cppflags)
libpresenced_bus_presence_la_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)

bin_PROGRAMS += presenced
presenced_SOURCES = daemon/main.c
presenced_CPPFLAGS = $(daemon_cppflags)
presenced_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
presenced_LDADD = libpresenced-bus-presence.la $(service_ldadd)

if HAVE_CHECK
check_PROGRAMS += tests/test-settings tests/test-connection \
	tests/test-service tests/test-desktop-policy \
	tests/test-subscription-requests tests/test-account-state
TESTS += tests/test-settings tests/test-connection tests/test-service \
	tests/test-desktop-policy tests/test-subscription-requests \
	tests/test-account-state

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
tests_test_service_LDADD = $(service_ldadd) $(unit_ldadd)

# Desktop causes → presence rules (issues #7, #15), pure and through the
# Service.
tests_test_desktop_policy_SOURCES = tests/test-desktop-policy.c
tests_test_desktop_policy_CPPFLAGS = $(daemon_cppflags)
tests_test_desktop_policy_CFLAGS = $(unit_cflags)
tests_test_desktop_policy_LDADD = $(service_ldadd) $(unit_ldadd)

# The bounded table of pending subscription requests.
tests_test_subscription_requests_SOURCES = tests/test-subscription-requests.c
tests_test_subscription_requests_CPPFLAGS = $(daemon_cppflags)
tests_test_subscription_requests_CFLAGS = $(unit_cflags)
tests_test_subscription_requests_LDADD = libpresenced-daemon.la $(unit_ldadd)
tests_test_account_state_SOURCES = tests/test-account-state.c
tests_test_account_state_CPPFLAGS = $(daemon_cppflags)
tests_test_account_state_CFLAGS = $(unit_cflags)
tests_test_account_state_LDADD = libpresenced-daemon.la $(unit_ldadd)
endif

# The configuration parser (configure --enable-fuzzing CC=clang);
# fuzz-smoke (daemon/core/parse.mk) runs it.
EXTRA_DIST += tests/fuzz/fuzz-settings.c tests/fuzz/corpus/settings
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-settings
tests_fuzz_fuzz_settings_SOURCES = tests/fuzz/fuzz-settings.c \
	daemon/settings.c $(libpresenced_core_la_SOURCES)
tests_fuzz_fuzz_settings_CPPFLAGS = $(daemon_cppflags)
tests_fuzz_fuzz_settings_CFLAGS = $(AM_CFLAGS) $(fuzz_cflags)
tests_fuzz_fuzz_settings_LDFLAGS = $(AM_LDFLAGS) \
	-fsanitize=fuzzer,address,undefined
tests_fuzz_fuzz_settings_LDADD = $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)

fuzz-smoke-settings: tests/fuzz/fuzz-settings
	$(MKDIR_P) tests/fuzz/new-corpus-settings
	ASAN_OPTIONS=detect_leaks=1 ./tests/fuzz/fuzz-settings \
		-max_total_time=$(FUZZ_TIME) -max_len=2048 -timeout=10 \
		tests/fuzz/new-corpus-settings \
		$(srcdir)/tests/fuzz/corpus/settings
endif
.PHONY: fuzz-smoke-settings
