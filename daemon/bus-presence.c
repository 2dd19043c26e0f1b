/* SPDX-License-Identifier: MIT */
/*
 * /im/presenced/Presence1: a thin D-Bus view of the Service. Handlers decode
 * their arguments (types, options, the signature via bus-object.c) and the
 * Service judges the values (validate.c), changing nothing on error, so bad
 * input is answered with InvalidArgs and nothing reaches the server; the
 * service's observer becomes PresenceChanged and ContactsChanged (both
 * batched: bus-presence-batch.c), SubscriptionRequested, RosterChanged and
 * PropertiesChanged.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"
#include "dbus/bus-object.h"
#include "dbus/presence1-xml.h"
#include "bus-presence-private.h"
#include "bus-presence.h"
#include "validate.h"

G_DEFINE_QUARK(bus - presence - error - quark, bus_presence_error)

/*
 * The one GError → D-Bus error mapping (STYLE.md §4). Validation codes of
 * any layer are InvalidArgs.
 */
static const char *error_name(const GError *error)
{
	if (error->domain == SERVICE_ERROR) {
		switch ((ServiceError)error->code) {
		case SERVICE_ERROR_INVALID_ARGS:
			return DBUS_ERROR_INVALID_ARGS;
		case SERVICE_ERROR_NOT_CONNECTED:
			return BUS_PRESENCE_ERROR_NOT_CONNECTED;
		case SERVICE_ERROR_FAILED:
			return DBUS_ERROR_FAILED;
		case SERVICE_ERROR_NOT_SUPPORTED:
			return DBUS_ERROR_NOT_SUPPORTED;
		}
	}
	if (error->domain == JID_ERROR || error->domain == PRESENCE_ERROR)
		return DBUS_ERROR_INVALID_ARGS;
	return DBUS_ERROR_FAILED;
}

DBusMessage *bus_presence_error_reply(DBusMessage *msg, const GError *error)
{
	g_autofree char *text = g_utf8_make_valid(error->message, -1);

	return dbus_message_new_error(msg, error_name(error), text);
}

DBusMessage *bus_presence_empty_reply(DBusMessage *msg, bool ok,
				      const GError *error)
{
	return ok ? dbus_message_new_method_return(msg)
		  : bus_presence_error_reply(msg, error);
}

/*
 * A JID argument of a method that only reads the table: normalized bare
 * JID in *ret_jid, or the InvalidArgs reply (validate.c judges it).
 */
DBusMessage *bus_presence_parse_jid_arg(DBusMessage *msg, const char *str,
					char **ret_jid)
{
	g_autoptr(GError) error = NULL;
	char *jid = validate_jid("jid", str, false, &error);

	if (!jid)
		return bus_presence_error_reply(msg, error);
	*ret_jid = jid;
	return NULL;
}

/* ---- SetPresence -------------------------------------------------------- */

typedef struct {
	bool has_priority;
	int priority;
	bool has_nick;
	char *nick;
	char *to;
} Options;

static void options_clear(Options *opts)
{
	g_free(opts->nick);
	g_free(opts->to);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Options, options_clear)

static DBusMessage *wrong_option_type(DBusMessage *msg, const char *key,
				      const char *want, DBusMessageIter *var)
{
	char *got = dbus_message_iter_get_signature(var);
	DBusMessage *reply = bus_error_invalid_args(
		msg, "Option '%s' must be of type '%s', got '%s'", key, want,
		got ? got : "?");

	dbus_free(got);
	return reply;
}

static DBusMessage *parse_option(DBusMessage *msg, const char *key,
				 DBusMessageIter *var, Options *opts)
{
	const char *str;
	dbus_int32_t i32;
	int type = dbus_message_iter_get_arg_type(var);

	if (strcmp(key, "priority") == 0) {
		if (type != DBUS_TYPE_INT32)
			return wrong_option_type(msg, key, "i", var);
		if (opts->has_priority)
			return bus_error_invalid_args(msg, "Option 'priority' "
							   "given twice");
		dbus_message_iter_get_basic(var, &i32);
		opts->has_priority = true;
		opts->priority = i32;
		return NULL;
	}
	if (strcmp(key, "nick") == 0) {
		if (type != DBUS_TYPE_STRING)
			return wrong_option_type(msg, key, "s", var);
		if (opts->has_nick)
			return bus_error_invalid_args(msg, "Option 'nick' "
							   "given twice");
		dbus_message_iter_get_basic(var, &str);
		opts->has_nick = true;
		opts->nick = g_strdup(str);
		return NULL;
	}
	if (strcmp(key, "to") == 0) {
		if (type != DBUS_TYPE_STRING)
			return wrong_option_type(msg, key, "s", var);
		if (opts->to)
			return bus_error_invalid_args(msg, "Option 'to' given "
							   "twice");
		dbus_message_iter_get_basic(var, &str);
		opts->to = g_strdup(str);
		return NULL;
	}
	return bus_error_invalid_args(msg,
				      "Unknown option '%.100s': expected "
				      "priority (i), nick (s) or to (s)",
				      key);
}

static DBusMessage *set_presence(BusObject *object, DBusMessage *msg,
				 void *user_data)
{
	BusPresence *bus = user_data;
	g_auto(Options) opts = {0};
	g_autoptr(GError) error = NULL;
	ServicePresenceOptions sopts = {0};
	DBusMessageIter iter, array;
	const char *show, *status;
	DBusMessage *reply;
	bool ok;

	/* Types only (the signature is checked by bus-object.c); the
	 * service validates the values. */
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &show);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &status);
	dbus_message_iter_next(&iter);

	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_DICT_ENTRY) {
		DBusMessageIter entry, var;
		const char *key;

		dbus_message_iter_recurse(&array, &entry);
		dbus_message_iter_get_basic(&entry, &key);
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &var);
		reply = parse_option(msg, key, &var, &opts);
		if (reply)
			return reply;
		dbus_message_iter_next(&array);
	}

	sopts.has_priority = opts.has_priority;
	sopts.priority = opts.priority;
	sopts.nick = opts.nick;
	sopts.to = opts.to;
	ok = service_set_presence(bus->service, show, status, &sopts, &error);
	return bus_presence_empty_reply(msg, ok, error);
}

/* ---- other methods ------------------------------------------------------ */

static DBusMessage *get_presence(BusObject *object, DBusMessage *msg,
				 void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) reply = dbus_message_new_method_return(msg);
	const char *show =
		presence_show_to_string(service_get_show(bus->service));
	dbus_int32_t priority = service_get_priority(bus->service);
	DBusMessageIter iter;

	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!bus_iter_append_string(&iter, show) ||
	    !bus_iter_append_string(&iter, service_get_status(bus->service)) ||
	    !dbus_message_iter_append_basic(&iter, DBUS_TYPE_INT32, &priority))
		return NULL;
	return g_steal_pointer(&reply);
}

bool bus_presence_append_contact_state(DBusMessageIter *array, const char *jid,
				       PresenceShow show, const char *status)
{
	DBusMessageIter st;

	if (!dbus_message_iter_open_container(array, DBUS_TYPE_STRUCT, NULL,
					      &st))
		return false;
	if (!bus_iter_append_string(&st, jid) ||
	    !bus_iter_append_string(&st, presence_show_to_string(show)) ||
	    !bus_iter_append_string(&st, status)) {
		dbus_message_iter_abandon_container(array, &st);
		return false;
	}
	return dbus_message_iter_close_container(array, &st);
}

typedef struct {
	DBusMessageIter *array;
	bool ok;
} AppendData;

static void append_contact_cb(const Contact *contact, void *user_data)
{
	AppendData *data = user_data;

	if (data->ok)
		data->ok = bus_presence_append_contact_state(
			data->array, contact_get_jid(contact),
			contact_get_show(contact), contact_get_status(contact));
}

static void collect_cb(const Contact *contact, void *user_data)
{
	g_ptr_array_add(user_data, (gpointer)contact);
}

static int compare_jid(gconstpointer a, gconstpointer b)
{
	const Contact *ca = *(const Contact *const *)a;
	const Contact *cb = *(const Contact *const *)b;

	return strcmp(contact_get_jid(ca), contact_get_jid(cb));
}

/* Every contact, sorted by JID so that replies are stable. */
static void foreach_sorted(const ContactTable *table, ContactFunc func,
			   void *user_data)
{
	g_autoptr(GPtrArray) all = g_ptr_array_new();

	contacts_foreach(table, collect_cb, all);
	g_ptr_array_sort(all, compare_jid);
	for (guint i = 0; i < all->len; i++)
		func(all->pdata[i], user_data);
}

/*
 * A reply holding one array, an element per contact in JID order, each
 * appended by cb (which clears data->ok on failure).
 */
static DBusMessage *reply_contacts_array(BusPresence *bus, DBusMessage *msg,
					 const char *element_sig,
					 ContactFunc cb)
{
	g_autoptr(DBusMessage) reply = dbus_message_new_method_return(msg);
	DBusMessageIter iter, array;
	AppendData data = {&array, true};

	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY,
					      element_sig, &array))
		return NULL;
	foreach_sorted(service_get_contacts(bus->service), cb, &data);
	if (!data.ok) {
		dbus_message_iter_abandon_container(&iter, &array);
		return NULL;
	}
	if (!dbus_message_iter_close_container(&iter, &array))
		return NULL;
	return g_steal_pointer(&reply);
}

static DBusMessage *list_contacts(BusObject *object, DBusMessage *msg,
				  void *user_data)
{
	return reply_contacts_array(user_data, msg, "(sss)", append_contact_cb);
}

static bool append_resources(DBusMessageIter *iter, const Contact *contact)
{
	DBusMessageIter array;
	size_t n = contact ? contact_get_n_resources(contact) : 0;

	if (!dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "(sssi)",
					      &array))
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *resource, *status;
		PresenceShow show;
		int priority;
		dbus_int32_t prio;
		DBusMessageIter st;

		if (!contact_get_resource(contact, i, &resource, &show, &status,
					  &priority))
			continue;
		prio = priority;
		if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT,
						      NULL, &st))
			goto fail;
		if (!bus_iter_append_string(&st, resource) ||
		    !bus_iter_append_string(&st,
					    presence_show_to_string(show)) ||
		    !bus_iter_append_string(&st, status) ||
		    !dbus_message_iter_append_basic(&st, DBUS_TYPE_INT32,
						    &prio)) {
			dbus_message_iter_abandon_container(&array, &st);
			goto fail;
		}
		if (!dbus_message_iter_close_container(&array, &st))
			goto fail;
	}
	return dbus_message_iter_close_container(iter, &array);
fail:
	dbus_message_iter_abandon_container(iter, &array);
	return false;
}

static DBusMessage *get_contact(BusObject *object, DBusMessage *msg,
				void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *jid = NULL;
	const Contact *contact;
	DBusMessageIter iter;
	const char *arg;

	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &arg);
	reply = bus_presence_parse_jid_arg(msg, arg, &jid);
	if (reply)
		return g_steal_pointer(&reply);

	contact = contacts_lookup(service_get_contacts(bus->service), jid);
	reply = dbus_message_new_method_return(msg);
	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	/* A JID never seen is offline with no resources (CONTRACT.md). */
	if (!bus_iter_append_string(
		    &iter,
		    presence_show_to_string(contact ? contact_get_show(contact)
						    : PRESENCE_SHOW_OFFLINE)) ||
	    !bus_iter_append_string(&iter, contact ? contact_get_status(contact)
						   : "") ||
	    !append_resources(&iter, contact))
		return NULL;
	return g_steal_pointer(&reply);
}

static DBusMessage *subscribe(BusObject *object, DBusMessage *msg,
			      void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(GError) error = NULL;
	const char *jid, *message;
	bool ok;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &jid,
				   DBUS_TYPE_STRING, &message,
				   DBUS_TYPE_INVALID))
		return NULL;
	ok = service_subscribe(bus->service, jid, message, &error);
	return bus_presence_empty_reply(msg, ok, error);
}

/* A method whose one argument is a JID, which the service validates. */
static DBusMessage *call_with_jid(BusPresence *bus, DBusMessage *msg,
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

static DBusMessage *unsubscribe(BusObject *object, DBusMessage *msg,
				void *user_data)
{
	return call_with_jid(user_data, msg, service_unsubscribe);
}

static DBusMessage *authorize(BusObject *object, DBusMessage *msg,
			      void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(GError) error = NULL;
	dbus_bool_t allow;
	const char *jid;
	bool ok;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &jid,
				   DBUS_TYPE_BOOLEAN, &allow,
				   DBUS_TYPE_INVALID))
		return NULL;
	ok = service_authorize(bus->service, jid, allow, &error);
	return bus_presence_empty_reply(msg, ok, error);
}

static DBusMessage *remove_contact(BusObject *object, DBusMessage *msg,
				   void *user_data)
{
	return call_with_jid(user_data, msg, service_remove_contact);
}

static void append_roster_cb(const Contact *contact, void *user_data)
{
	AppendData *data = user_data;
	DBusMessageIter st, groups;
	const char *const *g;

	if (!data->ok || !contact_is_in_roster(contact))
		return;
	data->ok = false;
	if (!dbus_message_iter_open_container(data->array, DBUS_TYPE_STRUCT,
					      NULL, &st))
		return;
	if (!bus_iter_append_string(&st, contact_get_jid(contact)) ||
	    !bus_iter_append_string(&st, contact_get_name(contact)) ||
	    !bus_iter_append_string(
		    &st, roster_subscription_to_string(
				 contact_get_subscription(contact))) ||
	    !dbus_message_iter_open_container(&st, DBUS_TYPE_ARRAY, "s",
					      &groups)) {
		dbus_message_iter_abandon_container(data->array, &st);
		return;
	}
	for (g = contact_get_groups(contact); g && *g; g++) {
		if (!bus_iter_append_string(&groups, *g)) {
			dbus_message_iter_abandon_container(&st, &groups);
			dbus_message_iter_abandon_container(data->array, &st);
			return;
		}
	}
	data->ok = dbus_message_iter_close_container(&st, &groups) &&
		   dbus_message_iter_close_container(data->array, &st);
}

static DBusMessage *get_roster(BusObject *object, DBusMessage *msg,
			       void *user_data)
{
	return reply_contacts_array(user_data, msg, "(sssas)",
				    append_roster_cb);
}

/*
 * An addition to the contract (issue #4): the roster item's fields with
 * whether our own subscription request is pending (RFC 6121 §2.1.2.2
 * ask='subscribe', §3.1.2 "pending out"), which GetRoster's a(sssas)
 * cannot say. Appends "jid, name, subscription, pending, groups" to iter;
 * contact NULL or not a roster item: the RFC's "remove" (§2.5), no name,
 * not pending, no groups.
 */
static bool append_roster_item(DBusMessageIter *iter, const char *jid,
			       const Contact *contact)
{
	bool in_roster = contact && contact_is_in_roster(contact);
	dbus_bool_t pending = in_roster && contact_get_ask(contact);
	DBusMessageIter groups;

	if (!bus_iter_append_string(iter, jid) ||
	    !bus_iter_append_string(iter, in_roster ? contact_get_name(contact)
						    : "") ||
	    !bus_iter_append_string(
		    iter, in_roster ? roster_subscription_to_string(
					      contact_get_subscription(contact))
				    : "remove") ||
	    !dbus_message_iter_append_basic(iter, DBUS_TYPE_BOOLEAN,
					    &pending) ||
	    !dbus_message_iter_open_container(iter, DBUS_TYPE_ARRAY, "s",
					      &groups))
		return false;
	for (const char *const *g = in_roster ? contact_get_groups(contact)
					      : NULL;
	     g && *g; g++) {
		if (!bus_iter_append_string(&groups, *g)) {
			dbus_message_iter_abandon_container(iter, &groups);
			return false;
		}
	}
	return dbus_message_iter_close_container(iter, &groups);
}

static void append_roster_item_cb(const Contact *contact, void *user_data)
{
	AppendData *data = user_data;
	DBusMessageIter st;

	if (!data->ok || !contact_is_in_roster(contact))
		return;
	data->ok = false;
	if (!dbus_message_iter_open_container(data->array, DBUS_TYPE_STRUCT,
					      NULL, &st))
		return;
	if (!append_roster_item(&st, contact_get_jid(contact), contact)) {
		dbus_message_iter_abandon_container(data->array, &st);
		return;
	}
	data->ok = dbus_message_iter_close_container(data->array, &st);
}

static DBusMessage *get_roster_items(BusObject *object, DBusMessage *msg,
				     void *user_data)
{
	return reply_contacts_array(user_data, msg, "(sssbas)",
				    append_roster_item_cb);
}

/*
 * GetSubscription (an addition): our subscription to jid as GetRoster
 * says it, "none" for a JID outside the roster, and whether our request
 * awaits an answer. "none" + pending is RFC 6121's "None + Pending Out"
 * (§3.1.2, Appendix A): the contact shows as requested.
 */
static DBusMessage *get_subscription(BusObject *object, DBusMessage *msg,
				     void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *jid = NULL;
	const Contact *contact;
	dbus_bool_t pending;
	const char *arg, *sub;
	bool in_roster;

	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &arg,
				   DBUS_TYPE_INVALID))
		return NULL;
	reply = bus_presence_parse_jid_arg(msg, arg, &jid);
	if (reply)
		return g_steal_pointer(&reply);

	contact = contacts_lookup(service_get_contacts(bus->service), jid);
	in_roster = contact && contact_is_in_roster(contact);
	pending = in_roster && contact_get_ask(contact);
	sub = roster_subscription_to_string(
		in_roster ? contact_get_subscription(contact)
			  : ROSTER_SUBSCRIPTION_NONE);
	reply = dbus_message_new_method_return(msg);
	if (!reply)
		return NULL;
	if (!dbus_message_append_args(reply, DBUS_TYPE_STRING, &sub,
				      DBUS_TYPE_BOOLEAN, &pending,
				      DBUS_TYPE_INVALID))
		return NULL;
	return g_steal_pointer(&reply);
}

static DBusMessage *
list_subscription_requests(BusObject *object, DBusMessage *msg, void *user_data)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) reply = dbus_message_new_method_return(msg);
	const SubscriptionRequests *reqs =
		service_get_subscription_requests(bus->service);
	size_t n = subscription_requests_get_count(reqs);
	DBusMessageIter iter, array, st;

	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(ss)",
					      &array))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!dbus_message_iter_open_container(&array, DBUS_TYPE_STRUCT,
						      NULL, &st))
			goto fail;
		if (!bus_iter_append_string(
			    &st, subscription_requests_get_jid(reqs, i)) ||
		    !bus_iter_append_string(
			    &st, subscription_requests_get_message(reqs, i))) {
			dbus_message_iter_abandon_container(&array, &st);
			goto fail;
		}
		if (!dbus_message_iter_close_container(&array, &st))
			goto fail;
	}
	if (!dbus_message_iter_close_container(&iter, &array))
		return NULL;
	return g_steal_pointer(&reply);
fail:
	dbus_message_iter_abandon_container(&iter, &array);
	return NULL;
}

/* ---- properties --------------------------------------------------------- */

static bool get_string_prop(DBusMessageIter *iter, const char *value)
{
	return bus_iter_append_string(iter, value);
}

static bool get_state(BusObject *o, DBusMessageIter *iter, void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(
		iter, service_state_to_string(service_get_state(bus->service)));
}

static bool get_state_reason(BusObject *o, DBusMessageIter *iter,
			     void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_state_reason(bus->service));
}

static bool get_state_message(BusObject *o, DBusMessageIter *iter,
			      void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_state_message(bus->service));
}

static bool get_roster_ready(BusObject *o, DBusMessageIter *iter,
			     void *user_data)
{
	BusPresence *bus = user_data;
	dbus_bool_t ready = service_get_roster_ready(bus->service);

	return dbus_message_iter_append_basic(iter, DBUS_TYPE_BOOLEAN, &ready);
}

static bool get_jid(BusObject *o, DBusMessageIter *iter, void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_jid(bus->service));
}

static bool get_show(BusObject *o, DBusMessageIter *iter, void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(
		iter, presence_show_to_string(service_get_show(bus->service)));
}

static bool get_status(BusObject *o, DBusMessageIter *iter, void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_status(bus->service));
}

static bool get_priority(BusObject *o, DBusMessageIter *iter, void *user_data)
{
	BusPresence *bus = user_data;
	dbus_int32_t priority = service_get_priority(bus->service);

	return dbus_message_iter_append_basic(iter, DBUS_TYPE_INT32, &priority);
}

static bool get_presence_cause(BusObject *o, DBusMessageIter *iter,
			       void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_presence_cause(bus->service));
}

static bool get_authentication(BusObject *o, DBusMessageIter *iter,
			       void *user_data)
{
	BusPresence *bus = user_data;

	return get_string_prop(iter, service_get_authentication(bus->service));
}

/* ---- tables (checked against im.presenced.Presence1.xml by a test) ----- */

static const BusMethod methods[] = {
	{"SetPresence", "ssa{sv}", "", set_presence},
	{"GetPresence", "", "ssi", get_presence},
	{"ListContacts", "", "a(sss)", list_contacts},
	{"GetContact", "s", "ssa(sssi)", get_contact},
	{"Subscribe", "ss", "", subscribe},
	{"Unsubscribe", "s", "", unsubscribe},
	{"Authorize", "sb", "", authorize},
	{"GetRoster", "", "a(sssas)", get_roster},
	{"RemoveContact", "s", "", remove_contact},
	{"ListSubscriptionRequests", "", "a(ss)", list_subscription_requests},
	{"GetSubscription", "s", "sb", get_subscription},
	{"GetRosterItems", "", "a(sssbas)", get_roster_items},
	{"GetContactClients", "s", "a(sssas)",
	 bus_presence_get_contact_clients},
	{"Block", "s", "", bus_presence_block},
	{"Unblock", "s", "", bus_presence_unblock},
	{NULL},
};

static const BusSignal signals[] = {
	{"PresenceChanged", "sss"},
	{"ContactsChanged", "a(sss)"},
	{"SubscriptionRequested", "ss"},
	{"RosterChanged", "sssbas"},
	{NULL},
};

static const BusProperty properties[] = {
	{"State", "s", get_state},
	{"StateReason", "s", get_state_reason},
	{"StateMessage", "s", get_state_message},
	{"RosterReady", "b", get_roster_ready},
	{"Jid", "s", get_jid},
	{"Show", "s", get_show},
	{"Status", "s", get_status},
	{"Priority", "i", get_priority},
	{"PresenceCause", "s", get_presence_cause},
	{"Authentication", "s", get_authentication},
	{"Blocked", "as", bus_presence_get_blocked},
	{NULL},
};

static const BusInterface interface = {
	.name = BUS_PRESENCE_INTERFACE,
	.methods = methods,
	.signals = signals,
	.properties = properties,
};

const struct _BusInterface *bus_presence_get_interface(void)
{
	return &interface;
}

/* ---- signals ------------------------------------------------------------ */

void bus_presence_emit(BusPresence *bus, DBusMessage *sig)
{
	if (!sig || !bus_object_send(bus->object, sig))
		g_warning("Could not emit a D-Bus signal: out of memory");
}

static void on_property_changed(void *user_data, const char *name)
{
	BusPresence *bus = user_data;

	bus_object_property_changed(bus->object, name);
}

static void on_subscription_requested(void *user_data, const char *jid,
				      const char *message)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) sig = NULL;
	DBusMessageIter iter;

	sig = bus_object_new_signal(bus->object, "SubscriptionRequested");
	if (sig) {
		dbus_message_iter_init_append(sig, &iter);
		if (!bus_iter_append_string(&iter, jid) ||
		    !bus_iter_append_string(&iter, message))
			g_clear_pointer(&sig, dbus_message_unref);
	}
	bus_presence_emit(bus, sig);
}

/* append_roster_item's arguments, marshalled by hand (bus-object.h). */
static DBusMessage *new_roster_changed(BusPresence *bus, const char *jid,
				       const Contact *contact)
{
	bool in_roster = contact && contact_is_in_roster(contact);
	g_autoptr(GString) body = g_string_sized_new(128);
	size_t groups;

	bus_wire_string(body, jid);
	bus_wire_string(body, in_roster ? contact_get_name(contact) : "");
	bus_wire_string(body,
			in_roster ? roster_subscription_to_string(
					    contact_get_subscription(contact))
				  : "remove");
	bus_wire_boolean(body, in_roster && contact_get_ask(contact));
	groups = bus_wire_array_open(body);
	for (const char *const *g = in_roster ? contact_get_groups(contact)
					      : NULL;
	     g && *g; g++)
		bus_wire_string(body, *g);
	bus_wire_array_close(body, groups);
	return bus_object_new_signal_wire(bus->object, "RosterChanged",
					  "sssbas", body);
}

/* RosterChanged: the item as the table holds it now (removed: "remove"). */
static void on_roster_changed(void *user_data, const char *jid)
{
	BusPresence *bus = user_data;
	g_autoptr(DBusMessage) sig = NULL;
	const Contact *contact;
	DBusMessageIter iter;

	contact = contacts_lookup(service_get_contacts(bus->service), jid);
	/* One per item of a 50,000-item roster: the fast builder first. */
	sig = new_roster_changed(bus, jid, contact);
	if (!sig)
		sig = bus_object_new_signal(bus->object, "RosterChanged");
	if (sig && dbus_message_get_signature(sig)[0] == '\0') {
		dbus_message_iter_init_append(sig, &iter);
		if (!append_roster_item(&iter, jid, contact))
			g_clear_pointer(&sig, dbus_message_unref);
	}
	bus_presence_emit(bus, sig);
}

/*
 * Signals wait in libdbus' outgoing queue until the bus takes them; past
 * this much, the service stops reading from the server (a flood from a
 * million JIDs must not become a gigabyte queue, or a bus that drops us).
 */
#define BUS_CONGESTION_BYTES ((long)1024 * 1024)

/*
 * The ContactsChanged batch waits for an idle moment (one signal per loop
 * iteration); a flood leaves none, so a large batch also asks the service
 * to pause reading until it has gone out.
 */
#define BUS_CONGESTION_BATCH 4096u

static bool is_congested(void *user_data)
{
	BusPresence *bus = user_data;

	return dbus_connection_get_outgoing_size(bus->conn) >
		       BUS_CONGESTION_BYTES ||
	       g_hash_table_size(bus->changed) > BUS_CONGESTION_BATCH;
}

/*
 * The server's input is handled and the daemon is about to wait: the
 * batch goes now, not from the idle an iteration later (one poll() and
 * one pass over the sources sooner at the client; the contract's "every
 * state reported when the daemon goes back to waiting" either way).
 */
static void on_input_drained(void *user_data)
{
	bus_presence_batch_flush(user_data);
}

static void on_presence_changed(void *user_data, const char *jid,
				PresenceShow show, const char *status)
{
	bus_presence_batch_note(user_data, jid, show, status);
}

static const ServiceObserver observer = {
	.presence_changed = on_presence_changed,
	.property_changed = on_property_changed,
	.subscription_requested = on_subscription_requested,
	.roster_changed = on_roster_changed,
	.is_congested = is_congested,
	.input_drained = on_input_drained,
};

/*
 * A method call is handled: what it sent the server (SetPresence's
 * stanza) goes out now, before the reply and PropertiesChanged, not from
 * the connection's idle in the next iteration — the server sees it one
 * pass over the sources and two bus writes sooner (BENCHMARKS.md).
 */
static void on_call_handled(void *user_data)
{
	BusPresence *bus = user_data;

	service_flush_output(bus->service);
}

/* ---- life cycle --------------------------------------------------------- */

static gboolean disconnect_idle_cb(gpointer user_data)
{
	BusPresence *bus = user_data;

	g_clear_pointer(&bus->disconnect_idle, g_source_unref);
	g_warning("Lost the connection to the session bus");
	if (bus->on_disconnect)
		bus->on_disconnect(bus->user_data);
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult filter_cb(DBusConnection *conn, DBusMessage *msg,
				   void *user_data)
{
	BusPresence *bus = user_data;

	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected") &&
	    dbus_message_has_path(msg, DBUS_PATH_LOCAL) &&
	    !bus->disconnect_idle) {
		/* Not from inside libdbus' dispatch: the callback may well
		 * free us. */
		bus->disconnect_idle = g_idle_source_new();
		g_source_set_callback(bus->disconnect_idle, disconnect_idle_cb,
				      bus, NULL);
		g_source_attach(bus->disconnect_idle,
				g_main_context_get_thread_default());
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

BusPresence *bus_presence_new(Service *service,
			      void (*on_disconnect)(void *user_data),
			      void *user_data, GError **error)
{
	g_autoptr(BusPresence) bus = NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(GError) local = NULL;
	int ret;

	g_return_val_if_fail(service != NULL, NULL);

	bus = g_new0(BusPresence, 1);
	bus->service = service;
	bus->on_disconnect = on_disconnect;
	bus->user_data = user_data;
	bus_presence_batch_init(bus);

	bus->conn = bus_connection_open(DBUS_BUS_SESSION, &local);
	if (!bus->conn) {
		g_set_error(error, BUS_PRESENCE_ERROR,
			    BUS_PRESENCE_ERROR_CONNECT,
			    "Could not connect to the session bus: %s",
			    local->message);
		return NULL;
	}
	if (!dbus_connection_add_filter(bus->conn, filter_cb, bus, NULL)) {
		g_set_error(error, BUS_PRESENCE_ERROR,
			    BUS_PRESENCE_ERROR_CONNECT,
			    "Could not set up the session bus connection: "
			    "out of memory");
		return NULL;
	}
	bus->filter_added = true;

	bus->object = bus_object_new(bus->conn, BUS_PRESENCE_PATH, &interface,
				     presence1_xml, bus, &local);
	if (!bus->object) {
		g_set_error(error, BUS_PRESENCE_ERROR,
			    BUS_PRESENCE_ERROR_CONNECT, "%s", local->message);
		return NULL;
	}
	bus_object_set_call_handled(bus->object, on_call_handled);
	service_set_observer(service, &observer, bus);
	bus->observing = true;

	/*
	 * Last: owning the name is the Type=dbus readiness signal, so the
	 * object must already answer (STYLE.md §5).
	 */
	ret = dbus_bus_request_name(bus->conn, BUS_PRESENCE_NAME,
				    DBUS_NAME_FLAG_DO_NOT_QUEUE, &err);
	if (ret == -1) {
		g_set_error(error, BUS_PRESENCE_ERROR,
			    BUS_PRESENCE_ERROR_CONNECT,
			    "Could not request the name %s: %s",
			    BUS_PRESENCE_NAME, err.message);
		return NULL;
	}
	if (ret != DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER) {
		g_set_error(error, BUS_PRESENCE_ERROR,
			    BUS_PRESENCE_ERROR_NAME_TAKEN,
			    "another presenced already owns %s on this bus",
			    BUS_PRESENCE_NAME);
		return NULL;
	}
	return g_steal_pointer(&bus);
}

void bus_presence_free(BusPresence *bus)
{
	if (!bus)
		return;
	if (bus->observing)
		service_set_observer(bus->service, NULL, NULL);
	/* What changed last (e.g. State going offline on shutdown) still
	 * reaches the bus before the name is released. */
	if (bus->object && dbus_connection_get_is_connected(bus->conn)) {
		bus_presence_batch_flush(bus);
		bus_object_flush_properties(bus->object);
	}
	if (bus->disconnect_idle) {
		g_source_destroy(bus->disconnect_idle);
		g_source_unref(bus->disconnect_idle);
	}
	g_clear_pointer(&bus->object, bus_object_free);
	if (bus->conn) {
		if (bus->filter_added)
			dbus_connection_remove_filter(bus->conn, filter_cb,
						      bus);
		/* Closing releases the name; flush what is queued first. */
		if (dbus_connection_get_is_connected(bus->conn))
			dbus_connection_flush(bus->conn);
		bus_connection_close(bus->conn);
	}
	bus_presence_batch_clear(bus);
	g_free(bus);
}
