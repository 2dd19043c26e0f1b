# SPDX-License-Identifier: MIT
# presencectl: the command-line client, libdbus through libpresenced-bus.la.
bin_PROGRAMS += presencectl
presencectl_SOURCES = client/presencectl.c
presencectl_CPPFLAGS = $(AM_CPPFLAGS) -DG_LOG_DOMAIN=\"presencectl\"
presencectl_CFLAGS = $(AM_CFLAGS) $(DBUS_CFLAGS)
presencectl_LDADD = libpresenced-bus.la $(DBUS_LIBS) $(GLIB_LIBS)

# Installed under the command's name, as bash-completion looks it up.
EXTRA_DIST += client/presencectl.bash-completion
install-data-local: install-bash-completion
uninstall-local: uninstall-bash-completion
install-bash-completion:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/client/presencectl.bash-completion \
		'$(DESTDIR)$(bashcompletiondir)/presencectl'
uninstall-bash-completion:
	rm -f '$(DESTDIR)$(bashcompletiondir)/presencectl'
.PHONY: install-bash-completion uninstall-bash-completion

dist_man_MANS += man/presenced.8 man/presencectl.1 man/presenced.conf.5

# presencectl against tests/fake-presenced on a private bus: output
# formats and escaping, exit statuses, --help, "not running".
dist_check_SCRIPTS += tests/test-presencectl.sh
TESTS += tests/test-presencectl.sh
