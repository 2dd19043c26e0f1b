# SPDX-License-Identifier: MIT
# The core: XMPP with no I/O (STYLE.md §1). Every core fragment adds to it.
noinst_LTLIBRARIES += libpresenced-core.la
libpresenced_core_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
libpresenced_core_la_LIBADD = $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)
libpresenced_core_la_SOURCES =
