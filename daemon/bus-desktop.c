/* SPDX-License-Identifier: MIT */
/*
 * The desktop client's frame; see bus-desktop.h and bus-desktop-private.h.
 * This file owns the two connections, the names whose owners are followed,
 * the dispatch of signals to the source files and the asynchronous calls.
 * Every call is asynchronous (the daemon never waits on a desktop
 * service), and every reply is checked against the owner it was meant
 * for: a reply from a service that has since gone or been replaced
 * changes nothing.
 */
#include "config.h"

#include <string.h>

#include <dbus/dbus.h>

#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"
#include "daemon/bus-desktop-private.h"

#define CALL_TIMEOUT_MS 10000

static const char *const names[N_NAMES] = {
	[NAME_FDO_SCREENSAVER] = "org.freedesktop.ScreenSaver",
	[NAME_GNOME_SCREENSAVER] = "org.gnome.ScreenSaver",
	[NAME_MATE_SCREENSAVER] = "org.mate.ScreenSaver",
	[NAME_CINNAMON_SCREENSAVER] = "org.cinnamon.ScreenSaver",
	[NAME_MUTTER_IDLE] = "org.gnome.Mutter.IdleMonitor",
	[NAME_NOTIFICATIONS] = "org.freedesktop.Notifications",
	[NAME_XFCONF] = "org.xfce.Xfconf",
	[NAME_LOGIN1] = "org.freedesktop.login1",
};

/* ---- asynchronous calls ------------------------------------------------- */

typedef struct {
	BusDesktop *bd;
	ReplyFunc func;
	char *owner; /* whom the call was for: stale replies are dropped */
	unsigned arg;
} Call;

static void call_free(void *data)
{
	Call *call = data;

	g_free(call->owner);
	g_free(call);
}

static void call_notify(DBusPendingCall *pending, void *user_data)
{
	Call *call = user_data;
	BusDesktop *bd = call->bd;
	g_autoptr(DBusMessage) reply = dbus_pending_call_steal_reply(pending);

	/* Keep the Call alive past the removal (it is the notify's data). */
	dbus_pending_call_ref(pending);
	g_ptr_array_remove_fast(bd->pending, pending);
	if (reply)
		call->func(bd, reply, call->owner, call->arg);
	dbus_pending_call_unref(pending);
}

bool bus_desktop_call(BusDesktop *bd, DBusConnection *conn, DBusMessage *msg,
		      ReplyFunc func, const char *owner, unsigned arg)
{
	DBusPendingCall *pending = NULL;
	Call *call;

	if (!msg || !conn)
		return false;
	if (!dbus_connection_send_with_reply(conn, msg, &pending,
					     CALL_TIMEOUT_MS) ||
	    !pending) {
		g_debug("cannot call %s.%s: disconnected or out of memory",
			dbus_message_get_interface(msg),
			dbus_message_get_member(msg));
		return false;
	}
	call = g_new0(Call, 1);
	call->bd = bd;
	call->func = func;
	call->owner = g_strdup(owner);
	call->arg = arg;
	if (!dbus_pending_call_set_notify(pending, call_notify, call,
					  call_free)) {
		call_free(call);
		dbus_pending_call_cancel(pending);
		dbus_pending_call_unref(pending);
		return false;
	}
	g_ptr_array_add(bd->pending, pending);
	return true;
}

bool bus_desktop_reply_is_error(DBusMessage *reply, const char *what)
{
	if (dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_ERROR)
		return false;
	g_debug("%s: %s", what, dbus_message_get_error_name(reply));
	return true;
}

bool bus_desktop_iter_get_variant_bool(DBusMessageIter *iter, bool *ret)
{
	DBusMessageIter var;
	dbus_bool_t b;

	if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_VARIANT)
		return false;
	dbus_message_iter_recurse(iter, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_BOOLEAN)
		return false;
	dbus_message_iter_get_basic(&var, &b);
	*ret = b;
	return true;
}

DBusMessage *bus_desktop_new_get_property(const char *dest, const char *path,
					  const char *iface, const char *prop)
{
	DBusMessage *msg = dbus_message_new_method_call(
		dest, path, DBUS_INTERFACE_PROPERTIES, "Get");

	if (msg && !dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					     DBUS_TYPE_STRING, &prop,
					     DBUS_TYPE_INVALID))
		g_clear_pointer(&msg, dbus_message_unref);
	return msg;
}

void bus_desktop_each_changed(DBusMessageIter *iter,
			      void (*func)(BusDesktop *bd, const char *name,
					   DBusMessageIter *value),
			      BusDesktop *bd)
{
	DBusMessageIter dict, entry, inval;

	/* iter is at a{sv}, then as (the caller checked "sa{sv}as"). */
	dbus_message_iter_recurse(iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *key;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &key);
		dbus_message_iter_next(&entry);
		func(bd, key, &entry);
		dbus_message_iter_next(&dict);
	}
	/* Invalidated rather than sent: the source asks for the value. */
	dbus_message_iter_next(iter);
	dbus_message_iter_recurse(iter, &inval);
	while (dbus_message_iter_get_arg_type(&inval) == DBUS_TYPE_STRING) {
		const char *key;

		dbus_message_iter_get_basic(&inval, &key);
		func(bd, key, NULL);
		dbus_message_iter_next(&inval);
	}
}

const char *bus_desktop_get_owner(const BusDesktop *bd, WatchedName name)
{
	return name < N_NAMES ? bd->owners[name] : NULL;
}

int64_t bus_desktop_now(void)
{
	return g_get_real_time() / G_USEC_PER_SEC;
}

/* ---- aggregated sources ------------------------------------------------- */

void bus_desktop_set_lock(BusDesktop *bd, unsigned source, bool locked,
			  int64_t since)
{
	if (desktop_sources_set(&bd->locks, source, locked))
		service_set_locked(bd->service,
				   desktop_sources_is_on(&bd->locks), since);
}

void bus_desktop_set_dnd(BusDesktop *bd, unsigned source, bool on)
{
	if (desktop_sources_set(&bd->dnds, source, on))
		service_set_dnd(bd->service, desktop_sources_is_on(&bd->dnds));
}

/* ---- names -------------------------------------------------------------- */

static void name_owner_is(BusDesktop *bd, WatchedName name, const char *owner)
{
	if (owner && !*owner)
		owner = NULL;
	if (g_strcmp0(owner, bd->owners[name]) == 0)
		return;
	g_free(bd->owners[name]);
	bd->owners[name] = g_strdup(owner);
	g_debug("%s: %s", names[name], owner ? "appeared" : "went away");
	switch (name) {
	case NAME_FDO_SCREENSAVER:
		bus_desktop_lock_owner(bd, name, owner);
		bus_desktop_idle_owner(bd, name, owner);
		break;
	case NAME_GNOME_SCREENSAVER:
	case NAME_MATE_SCREENSAVER:
	case NAME_CINNAMON_SCREENSAVER:
		bus_desktop_lock_owner(bd, name, owner);
		break;
	case NAME_MUTTER_IDLE:
		bus_desktop_idle_owner(bd, name, owner);
		break;
	case NAME_NOTIFICATIONS:
	case NAME_XFCONF:
		bus_desktop_dnd_owner(bd, name, owner);
		break;
	case NAME_LOGIN1:
		bus_desktop_logind_owner(bd, owner);
		break;
	case N_NAMES:
		break;
	}
}

static void on_name_owner(BusDesktop *bd, DBusMessage *reply,
			  const char *unused, unsigned arg)
{
	const char *owner = NULL;

	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
		return; /* NameHasNoOwner: NameOwnerChanged tells us later */
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner,
				   DBUS_TYPE_INVALID))
		return;
	name_owner_is(bd, (WatchedName)arg, owner);
}

static void get_name_owner(BusDesktop *bd, DBusConnection *conn,
			   WatchedName name)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
		"GetNameOwner");
	const char *str = names[name];

	if (msg && dbus_message_append_args(msg, DBUS_TYPE_STRING, &str,
					    DBUS_TYPE_INVALID))
		(void)bus_desktop_call(bd, conn, msg, on_name_owner, NULL,
				       name);
}

static void on_name_owner_changed(BusDesktop *bd, DBusConnection *conn,
				  DBusMessage *msg)
{
	const char *name, *old_owner, *new_owner;

	if (g_strcmp0(dbus_message_get_sender(msg), DBUS_SERVICE_DBUS) != 0 ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
				   DBUS_TYPE_STRING, &old_owner,
				   DBUS_TYPE_STRING, &new_owner,
				   DBUS_TYPE_INVALID))
		return;
	for (unsigned i = 0; i < N_NAMES; i++) {
		/* logind is followed on the system bus only. */
		if ((i == NAME_LOGIN1) != (conn == bd->system))
			continue;
		if (strcmp(name, names[i]) == 0)
			name_owner_is(bd, (WatchedName)i, new_owner);
	}
}

/* ---- connections -------------------------------------------------------- */

static void drop_connection(BusDesktop *bd, DBusConnection **conn,
			    bool *filter);

static gboolean drop_idle_cb(gpointer user_data)
{
	BusDesktop *bd = user_data;

	g_clear_pointer(&bd->drop_idle, g_source_unref);
	if (bd->session && !dbus_connection_get_is_connected(bd->session)) {
		g_debug("lost the session bus: no desktop to follow");
		for (unsigned i = 0; i < NAME_LOGIN1; i++)
			name_owner_is(bd, (WatchedName)i, NULL);
		drop_connection(bd, &bd->session, &bd->session_filter);
	}
	if (bd->system && !dbus_connection_get_is_connected(bd->system)) {
		g_debug("lost the system bus: no logind to follow");
		name_owner_is(bd, NAME_LOGIN1, NULL);
		drop_connection(bd, &bd->system, &bd->system_filter);
	}
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult filter_cb(DBusConnection *conn, DBusMessage *msg,
				   void *user_data)
{
	BusDesktop *bd = user_data;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		/* Not from inside the dispatch of this very connection. */
		if (!bd->drop_idle) {
			bd->drop_idle = g_idle_source_new();
			g_source_set_callback(bd->drop_idle, drop_idle_cb, bd,
					      NULL);
			g_source_attach(bd->drop_idle,
					g_main_context_get_thread_default());
		}
	} else if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
					  "NameOwnerChanged")) {
		on_name_owner_changed(bd, conn, msg);
	} else if (conn == bd->session) {
		bus_desktop_lock_signal(bd, msg);
		bus_desktop_idle_signal(bd, msg);
		bus_desktop_dnd_signal(bd, msg);
		/* A lock's "away" leaves now, not an iteration later. */
		service_flush_output(bd->service);
	} else if (conn == bd->system) {
		bus_desktop_logind_signal(bd, msg);
		/* Before a suspend, the "offline" is on the wire at once. */
		service_flush_output(bd->service);
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static void drop_connection(BusDesktop *bd, DBusConnection **conn, bool *filter)
{
	if (!*conn)
		return;
	if (*filter)
		dbus_connection_remove_filter(*conn, filter_cb, bd);
	*filter = false;
	bus_connection_close(*conn);
	*conn = NULL;
}

static void add_rules(DBusConnection *conn, const char *const *rules)
{
	/* No error argument: sent without waiting for the bus's reply. */
	for (size_t i = 0; rules[i]; i++)
		dbus_bus_add_match(conn, rules[i], NULL);
}

static DBusConnection *connect_bus(BusDesktop *bd, DBusBusType type,
				   const char *what, bool *filter)
{
	g_autoptr(GError) error = NULL;
	DBusConnection *conn = bus_connection_open(type, &error);

	if (!conn) {
		if (g_error_matches(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_NO_MEMORY))
			g_warning("cannot watch the %s bus: out of memory",
				  what);
		else
			g_debug("no %s bus (%s): carrying on without it", what,
				error->message);
		return NULL;
	}
	if (!dbus_connection_add_filter(conn, filter_cb, bd, NULL)) {
		g_warning("cannot watch the %s bus: out of memory", what);
		bus_connection_close(conn);
		return NULL;
	}
	*filter = true;
	return conn;
}

/* One NameOwnerChanged rule per followed name (arg0 = the name). */
static void add_name_rules(DBusConnection *conn, bool system)
{
	for (unsigned i = 0; i < N_NAMES; i++) {
		g_autofree char *rule = NULL;

		if ((i == NAME_LOGIN1) != system)
			continue;
		rule = g_strdup_printf(
			"type='signal',sender='" DBUS_SERVICE_DBUS
			"',interface='" DBUS_INTERFACE_DBUS
			"',member='NameOwnerChanged',arg0='%s'",
			names[i]);
		dbus_bus_add_match(conn, rule, NULL);
	}
}

static void on_state(void *user_data, ServiceState state)
{
	bus_desktop_idle_state(user_data, state);
}

static void on_settings(void *user_data)
{
	bus_desktop_idle_settings(user_data);
}

static const ServiceDesktopHooks hooks = {
	.state_changed = on_state,
	.settings_changed = on_settings,
};

BusDesktop *bus_desktop_new(Service *service)
{
	BusDesktop *bd;

	g_return_val_if_fail(service != NULL, NULL);

	bd = g_new0(BusDesktop, 1);
	bd->service = service;
	bd->inhibit_fd = -1;
	bd->pending = g_ptr_array_new_with_free_func(
		(GDestroyNotify)dbus_pending_call_unref);
	/* GSettings needs no bus of ours. */
	bus_desktop_dnd_init(bd);
	bd->poll.online = service_get_state(service) == SERVICE_STATE_ONLINE;
	service_set_desktop_hooks(service, &hooks, bd);

	bd->session = connect_bus(bd, DBUS_BUS_SESSION, "session",
				  &bd->session_filter);
	if (bd->session) {
		add_name_rules(bd->session, false);
		add_rules(bd->session, bus_desktop_lock_rules);
		add_rules(bd->session, bus_desktop_idle_rules);
		add_rules(bd->session, bus_desktop_dnd_rules);
		for (unsigned i = 0; i < NAME_LOGIN1; i++)
			get_name_owner(bd, bd->session, (WatchedName)i);
	}
	bd->system =
		connect_bus(bd, DBUS_BUS_SYSTEM, "system", &bd->system_filter);
	if (bd->system) {
		add_name_rules(bd->system, true);
		add_rules(bd->system, bus_desktop_logind_rules);
		get_name_owner(bd, bd->system, NAME_LOGIN1);
	}
	return bd;
}

void bus_desktop_free(BusDesktop *bd)
{
	if (!bd)
		return;
	service_set_desktop_hooks(bd->service, NULL, NULL);
	bus_desktop_logind_free(bd);
	bus_desktop_idle_free(bd);
	bus_desktop_dnd_free(bd);
	for (guint i = 0; i < bd->pending->len; i++)
		dbus_pending_call_cancel(g_ptr_array_index(bd->pending, i));
	g_ptr_array_unref(bd->pending);
	if (bd->drop_idle) {
		g_source_destroy(bd->drop_idle);
		g_source_unref(bd->drop_idle);
	}
	drop_connection(bd, &bd->session, &bd->session_filter);
	drop_connection(bd, &bd->system, &bd->system_filter);
	for (unsigned i = 0; i < N_NAMES; i++)
		g_free(bd->owners[i]);
	g_free(bd);
}
