# SPDX-License-Identifier: MIT
# The systemd user unit, generated with the install prefix's bindir.
systemduserunit_DATA = systemd/presenced.service
EXTRA_DIST += systemd/presenced.service.in
CLEANFILES += systemd/presenced.service

systemd/presenced.service: $(srcdir)/systemd/presenced.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	$(SED) -e 's|@bindir[@]|$(bindir)|g' $< > $@-t && mv -f $@-t $@
