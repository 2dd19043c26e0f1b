/* SPDX-License-Identifier: MIT */
/*
 * Opening and closing our private bus connections: the three settings every
 * connection needs (private, exit-on-disconnect off, on the GLib loop) in
 * one place.
 */
#include "config.h"

#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"
#include "dbus/bus-mainloop.h"

G_DEFINE_QUARK(presenced - bus - connection - error - quark,
	       bus_connection_error)

/* Takes conn (a new private connection, registered) and finishes it. */
static DBusConnection *finish(DBusConnection *conn, GError **error)
{
	/* Bus loss ends the caller's loop or request, not the process. */
	dbus_connection_set_exit_on_disconnect(conn, FALSE);
	if (!bus_mainloop_attach(conn, NULL)) {
		g_set_error_literal(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_NO_MEMORY,
				    "out of memory");
		bus_connection_close(conn);
		return NULL;
	}
	return conn;
}

DBusConnection *bus_connection_open(DBusBusType type, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusConnection *conn = dbus_bus_get_private(type, &err);

	if (!conn) {
		g_set_error_literal(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_CONNECT, err.message);
		return NULL;
	}
	return finish(conn, error);
}

DBusConnection *bus_connection_open_address(const char *address, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusConnection *conn;

	g_return_val_if_fail(address != NULL, NULL);

	conn = dbus_connection_open_private(address, &err);
	if (!conn) {
		g_set_error_literal(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_CONNECT, err.message);
		return NULL;
	}
	if (!dbus_bus_register(conn, &err)) {
		g_set_error_literal(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_CONNECT, err.message);
		dbus_connection_close(conn);
		dbus_connection_unref(conn);
		return NULL;
	}
	return finish(conn, error);
}

void bus_connection_close(DBusConnection *conn)
{
	if (!conn)
		return;
	dbus_connection_close(conn);
	bus_mainloop_detach(conn);
	dbus_connection_unref(conn);
}
