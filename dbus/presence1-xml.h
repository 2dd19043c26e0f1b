/* SPDX-License-Identifier: MIT */
/*
 * dbus/im.presenced.Presence1.xml as a C string, generated at build time
 * (dbus/local.mk) so that Introspect serves exactly the installed file.
 */
#pragma once

extern const char presence1_xml[];
