/* SPDX-License-Identifier: MIT */
/*
 * The one way this tree opens a D-Bus connection (STYLE.md §5): private (no
 * one else in the process can share or close it), exit-on-disconnect off
 * (bus loss is the caller's decision, never exit()), and attached to the
 * thread-default GMainContext through bus-mainloop. Used by the bus object,
 * the desktop watcher and presencectl.
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>

#define BUS_CONNECTION_ERROR (bus_connection_error_quark())
GQuark bus_connection_error_quark(void);

typedef enum {
	BUS_CONNECTION_ERROR_CONNECT, /* no bus, refused, Hello failed */
	BUS_CONNECTION_ERROR_NO_MEMORY,
} BusConnectionError;

/*
 * Connects to the session or system bus (type) and registers (Hello). NULL
 * with error on failure: the message is libdbus' reason, for the caller to
 * prefix with what it was doing. Transfer full: bus_connection_close().
 */
DBusConnection *bus_connection_open(DBusBusType type, GError **error);

/* The same for a bus at address (e.g. a test's private dbus-daemon). */
DBusConnection *bus_connection_open_address(const char *address,
					    GError **error);

/* Closes conn, removes it from the main loop and drops the reference.
 * Messages still queued are lost: flush first if they matter. NULL-safe. */
void bus_connection_close(DBusConnection *conn);
