# SPDX-License-Identifier: MIT
bin_PROGRAMS += presenced
presenced_SOURCES = daemon/main.c
presenced_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
presenced_LDADD = libpresenced-core.la $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS) $(DBUS_LIBS)
