# SPDX-License-Identifier: MIT
# D-Bus glue (STYLE.md §5): the only code that includes <dbus/dbus.h>,
# shared by the daemon and presencectl.
noinst_LTLIBRARIES += libpresenced-bus.la
libpresenced_bus_la_SOURCES = \
	dbus/bus-autoptr.h \
	dbus/bus-connection.c dbus/bus-connection.h \
	dbus/bus-mainloop.c dbus/bus-mainloop.h \
	dbus/bus-object.c dbus/bus-object.h \
	dbus/presence1-xml.h
nodist_libpresenced_bus_la_SOURCES = dbus/presence1-xml.c
libpresenced_bus_la_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presenced\"
libpresenced_bus_la_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
libpresenced_bus_la_LIBADD = $(DBUS_LIBS) $(GLIB_LIBS)

# The interface description, installed and embedded for Introspect. The
# generated C string is the file verbatim: backslashes and quotes escaped,
# each line quoted with its newline.
dbusinterfaces_DATA = dbus/im.presenced.Presence1.xml
EXTRA_DIST += dbus/im.presenced.Presence1.xml
BUILT_SOURCES += dbus/presence1-xml.c
CLEANFILES += dbus/presence1-xml.c
dbus/presence1-xml.c: $(srcdir)/dbus/im.presenced.Presence1.xml $(srcdir)/dbus/local.mk
	$(AM_V_GEN)$(MKDIR_P) dbus && { \
	echo '/* Generated from im.presenced.Presence1.xml by dbus/local.mk. */'; \
	echo '#include "dbus/presence1-xml.h"'; \
	echo 'const char presence1_xml[] ='; \
	$(SED) -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' \
		$(srcdir)/dbus/im.presenced.Presence1.xml; \
	echo ';'; } > $@-t && mv -f $@-t $@

# D-Bus activation: the installed file starts the systemd user unit; the
# build-tree one (tests/services) starts the uninstalled daemon, found by
# the private bus of tests/session.conf.
dbusservices_DATA = dbus/im.presenced.Presence1.service
EXTRA_DIST += dbus/im.presenced.Presence1.service.in \
	tests/support/session.conf.in
CLEANFILES += dbus/im.presenced.Presence1.service \
	tests/services/im.presenced.Presence1.service tests/session.conf
check_DATA = tests/services/im.presenced.Presence1.service tests/session.conf

dbus/im.presenced.Presence1.service: $(srcdir)/dbus/im.presenced.Presence1.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) dbus && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' $< > $@-t && mv -f $@-t $@

tests/services/im.presenced.Presence1.service: $(srcdir)/dbus/im.presenced.Presence1.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tests/services && \
	$(SED) -e 's|@bindir[@]|$(abs_top_builddir)|g' \
		-e '/^SystemdService=/d' $< > $@-t && mv -f $@-t $@

tests/session.conf: $(srcdir)/tests/support/session.conf.in Makefile
	$(AM_V_GEN)$(MKDIR_P) tests && \
	$(SED) -e 's|@abs_top_builddir[@]|$(abs_top_builddir)|g' $< > $@-t && \
	mv -f $@-t $@

# ---- tests ---------------------------------------------------------------
# The bus object (libpresenced-bus-presence.la) over a private dbus-daemon
# (tests/session.conf), with the Service replaced by libtest-fake-service.la.
bus_test_cppflags = $(AM_CPPFLAGS) \
	-DG_LOG_DOMAIN=\"presenced\" \
	-DTEST_SESSION_CONF=\""$(abs_top_builddir)/tests/session.conf"\"
bus_test_ldadd = libpresenced-bus-presence.la libtest-fake-service.la \
	libpresenced-daemon.la libpresenced-bus.la libpresenced-core.la \
	$(DBUS_LIBS) $(GLIB_LIBS) $(XML_LIBS) $(GNUTLS_LIBS)

# A stand-in presenced owning the name with the fake service, for the
# presencectl tests (the real daemon is tested by tests/integration).
check_PROGRAMS += tests/fake-presenced
tests_fake_presenced_SOURCES = tests/support/fake-presenced.c
tests_fake_presenced_CPPFLAGS = $(bus_test_cppflags)
tests_fake_presenced_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
tests_fake_presenced_LDADD = $(bus_test_ldadd)

if HAVE_CHECK
check_PROGRAMS += tests/test-bus-object tests/test-bus-presence
TESTS += tests/test-bus-object tests/test-bus-presence

tests_test_bus_object_SOURCES = tests/test-bus-object.c
tests_test_bus_object_CPPFLAGS = $(bus_test_cppflags)
tests_test_bus_object_CFLAGS = $(unit_cflags) $(DBUS_CFLAGS)
tests_test_bus_object_LDADD = libtest-support.la $(bus_test_ldadd) \
	$(CHECK_LIBS)

tests_test_bus_presence_SOURCES = tests/test-bus-presence.c
tests_test_bus_presence_CPPFLAGS = $(bus_test_cppflags)
tests_test_bus_presence_CFLAGS = $(unit_cflags) $(DBUS_CFLAGS)
tests_test_bus_presence_LDADD = libtest-support.la $(bus_test_ldadd) \
	$(CHECK_LIBS)
endif
