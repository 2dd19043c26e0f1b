# SPDX-License-Identifier: MIT
# The daemon (STYLE.md §1 layer 2): sockets, SRV, back-off, signals, wiring.
#
# daemon/config.h shares its name with autoconf's config.h, and a quoted
# include looks in the including file's directory first; so daemon code
# names the Config API "daemon/config.h" and gets autoconf's header with
# -include from the build directory.
daemon_cppflags = $(AM_CPPFLAGS) -include $(top_builddir)/config.h \
	-DG_LOG_DOMAIN=\"presenced\"

bin_PROGRAMS += presenced
presenced_SOURCES = daemon/main.c
presenced_CPPFLAGS = $(daemon_cppflags)
presenced_LDADD = libpresenced-core.la $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) $(DBUS_LIBS)

if HAVE_CHECK
check_PROGRAMS += tests/test-connection
TESTS += tests/test-connection
tests_test_connection_SOURCES = tests/test-connection.c \
	daemon/connection.c daemon/connection.h
tests_test_connection_CPPFLAGS = $(daemon_cppflags)
tests_test_connection_CFLAGS = $(unit_cflags)
tests_test_connection_LDADD = $(CHECK_LIBS) $(GLIB_LIBS)
endif
