/* SPDX-License-Identifier: MIT */
/*
 * The bus object's members of issue #14 (contract version 3): Block,
 * Unblock and the Blocked property (XEP-0191), GetContactClients
 * (XEP-0115). Decoding only: the Service validates (validate.c) and
 * bus-presence.c maps its errors.
 */
#include "config.h"

#include "dbus/bus-autoptr.h"
#include "dbus/bus-object.h"
#include "bus-presence-private.h"
#include "service.h"

static bool append_strv(DBusMessageIter *iter, const char *const *strv)
{
	DBusMessageIter array;

	if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s",
					      &array))
		return false;
	for (; strv && *strv; strv++) {
		if (!bus_iter_append_string(&array, *strv)) {
			dbus_message_iter_abandon_container(iter, &array);
			return false;
		}
	}
	return dbus_message_iter_close_container(iter, &array);
}

static bool append_client(DBusMessageIter *array, const ServiceClient *client)
{
	DBusMessageIter st;

	if (!dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, NULL,
					      &st))
		return false;
	if (!bus_iter_append_string(&st, client->resource) ||
	    !bus_iter_append_string(&st, client->type) ||
	    !bus_iter_append_string(&st, client->name) ||
	    !append_strv(&st, (const char *const *)client->features)) {
		dbus_message_iter_abandon_container(array, &st);
		return false;
	}
	return dbus_message_iter_close_container(array, &st);
}

static bool append_clients(DBusMessageIter *iter, const GPtrArray *clients)
{
	DBusMessageIter array;

	if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(sssas)",
					      &array))
		return false;
	for (guint i = 0; i < clients->len; i++) {
		if (!append_client(&array, g_ptr_array_index(clients, i))) {
			dbus_message_iter_abandon_container(iter, &array);
			return false;
		}
	}
	return dbus_message_iter_close_container(iter, &array);
}

/* GetContactClients(s jid) → a(sssas): one entry per online resource. */
DBusMessage *bus_presence_get_contact_clients(BusObject *object,
					      DBusMessage *msg, void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) reply = NULL;
	g_autoptr(GPtrArray) clients = NULL;
	g_autofree char *jid = NULL;
	DBusMessageIter iter;
	const char *arg;

	(void)object;
	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &arg,
				   DBUS_TYPE_INVALID))
		return NULL;
	reply = bus_presence_parse_jid_arg(msg, arg, &jid);
	if (reply)
		return g_steal_pointer(&reply);
	clients = service_dup_contact_clients(bus->service, jid);
	reply = dbus_message_new_method_return(msg);
	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!append_clients(&iter, clients))
		return NULL;
	return g_steal_pointer(&reply);
}

static DBusMessage *call_block(BusPresence *bus, DBusMessage *msg,
			       bool (*op)(Service *service, const char *jid,
					  GError **error))
{
	g_autoptr(GError) error = NULL;
	const char *jid;
	bool ok;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &jid,
				   DBUS_TYPE_INVALID))
		return NULL;
	ok = op(bus->service, jid, &error);
	return bus_presence_empty_reply(msg, ok, error);
}

DBusMessage *bus_presence_block(BusObject *object, DBusMessage *msg,
				void *user_data)
{
	(void)object;
	return call_block(user_data, msg, service_block);
}

DBusMessage *bus_presence_unblock(BusObject *object, DBusMessage *msg,
				  void *user_data)
{
	(void)object;
	return call_block(user_data, msg, service_unblock);
}

bool bus_presence_get_blocked(BusObject *object, DBusMessageIter *iter,
			      void *user_data)
{
	BusPresence *bus = user_data;
	g_auto(GStrv) items = service_dup_blocked(bus->service);

	(void)object;
	return append_strv(iter, (const char *const *)items);
}
