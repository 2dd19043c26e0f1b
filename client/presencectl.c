/* SPDX-License-Identifier: MIT */
/*
 * presencectl: the command-line client of presenced. It talks to the
 * daemon over the session bus only (im.presenced.Presence1) and prints
 * tab-separated lines. Exit status (CONTRACT.md): 0 success, 1 the daemon
 * answered with an error or is not running, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <glib-unix.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"

#define NAME "im.presenced.Presence1"
#define PATH "/im/presenced/Presence1"
#define IFACE "im.presenced.Presence1"

enum {
	EXIT_OK = 0,
	EXIT_DAEMON = 1,
	EXIT_USAGE = 2,
};

static const char usage_text[] =
	"Usage: presencectl [--help] [--version] COMMAND [ARGS...]\n"
	"\n"
	"Talk to the presenced XMPP presence daemon over D-Bus.\n"
	"\n"
	"Commands:\n"
	"  set SHOW [STATUS] [--priority N] [--nick NICK] [--to JID]\n"
	"                       set own presence; SHOW is available, chat,\n"
	"                       away, xa, dnd or offline; with --to, send\n"
	"                       directed presence to JID only\n"
	"  get                  own presence: SHOW<TAB>STATUS<TAB>PRIORITY\n"
	"  state                connection state (offline, connecting, "
	"online,\n"
	"                       reconnecting)\n"
	"  status               an overview for people: state, JID, own\n"
	"                       presence and what set it, contacts, server\n"
	"  list                 every contact: JID<TAB>SHOW<TAB>STATUS\n"
	"  contact JID          the contact (JID<TAB>SHOW<TAB>STATUS), then\n"
	"                       each online resource with its client "
	"(XEP-0115;\n"
	"                       empty while unknown):\n"
	"                       "
	"RESOURCE<TAB>SHOW<TAB>STATUS<TAB>PRIORITY<TAB>\n"
	"                       TYPE<TAB>NAME\n"
	"  watch                print JID<TAB>SHOW<TAB>STATUS for every "
	"presence\n"
	"                       change until interrupted\n"
	"  subscribe JID [MESSAGE]\n"
	"                       ask to see JID's presence\n"
	"  unsubscribe JID      stop seeing JID's presence\n"
	"  authorize JID        let JID see our presence\n"
	"  deny JID             refuse JID's subscription request\n"
	"  remove JID           remove JID from the roster\n"
	"  requests             pending subscription requests: "
	"JID<TAB>MESSAGE\n"
	"  roster               roster items:\n"
	"                       JID<TAB>NAME<TAB>SUBSCRIPTION<TAB>GROUP,GROUP\n"
	"  subscription JID     our subscription to JID's presence:\n"
	"                       SUBSCRIPTION<TAB>pending (our request awaits\n"
	"                       an answer) or SUBSCRIPTION<TAB>-\n"
	"  block JID            block a bare JID or a domain (XEP-0191)\n"
	"  unblock JID          remove it from the block list\n"
	"  blocked              the block list, one JID a line\n"
	"\n"
	"In output fields a backslash, tab or newline is written \\\\, \\t, "
	"\\n;\n"
	"a comma in a group name is written \\,.\n"
	"\n"
	"Exit status: 0 on success, 1 if the daemon answered with an error or\n"
	"is not running, 2 on a usage error.\n";

static int usage_error(const char *format, ...) G_GNUC_PRINTF(1, 2);
static int usage_error(const char *format, ...)
{
	va_list ap;

	fputs("presencectl: ", stderr);
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputs("\nTry 'presencectl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* ---- output ----------------------------------------------------------- */

/* Appends str escaped for a tab-separated field; commas too in a group. */
static void append_escaped(GString *out, const char *str, bool group)
{
	for (const char *p = str; *p; p++) {
		switch (*p) {
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case ',':
			g_string_append(out, group ? "\\," : ",");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
}

/* Prints the fields (NULL-terminated) as one escaped, tab-separated line. */
static void print_fields(const char *first, ...) G_GNUC_NULL_TERMINATED;
static void print_fields(const char *first, ...)
{
	g_autoptr(GString) line = g_string_new(NULL);
	va_list ap;

	va_start(ap, first);
	for (const char *f = first; f; f = va_arg(ap, const char *)) {
		if (f != first)
			g_string_append_c(line, '\t');
		append_escaped(line, f, false);
	}
	va_end(ap);
	g_string_append_c(line, '\n');
	fputs(line->str, stdout);
}

/* ---- talking to the daemon -------------------------------------------- */

static int report_error(const char *name, const char *message)
{
	if (g_strcmp0(name, DBUS_ERROR_SERVICE_UNKNOWN) == 0 ||
	    g_strcmp0(name, DBUS_ERROR_NAME_HAS_NO_OWNER) == 0)
		fprintf(stderr, "presencectl: the presenced daemon is not "
				"running (" NAME " has no owner)\n");
	else if (name && g_str_has_prefix(name, "org.freedesktop.DBus.Error."
						"Spawn."))
		fprintf(stderr, "presencectl: could not start presenced: %s\n",
			message);
	else if (g_strcmp0(name, DBUS_ERROR_NO_REPLY) == 0 ||
		 g_strcmp0(name, DBUS_ERROR_TIMEOUT) == 0)
		fprintf(stderr, "presencectl: presenced did not answer: %s\n",
			message);
	else
		fprintf(stderr, "presencectl: %s\n", message);
	return EXIT_DAEMON;
}

static DBusConnection *connect_bus(void)
{
	g_autoptr(GError) error = NULL;
	DBusConnection *conn = bus_connection_open(DBUS_BUS_SESSION, &error);

	if (!conn)
		fprintf(stderr,
			"presencectl: cannot connect to the session bus: %s\n",
			error->message);
	return conn;
}

/*
 * Sends msg and waits for the reply. NULL after reporting an error. The
 * default timeout leaves D-Bus activation time to start the daemon.
 */
static DBusMessage *call(DBusConnection *conn, DBusMessage *msg)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusMessage *reply = dbus_connection_send_with_reply_and_block(
		conn, msg, DBUS_TIMEOUT_USE_DEFAULT, &err);

	if (!reply)
		report_error(err.name, err.message);
	return reply;
}

static DBusMessage *new_call(const char *method)
{
	DBusMessage *msg =
		dbus_message_new_method_call(NAME, PATH, IFACE, method);

	if (!msg)
		g_error("out of memory");
	return msg;
}

static bool has_signature(DBusMessage *reply, const char *sig)
{
	if (dbus_message_has_signature(reply, sig))
		return true;
	fprintf(stderr,
		"presencectl: unexpected reply from presenced: signature "
		"'%s', expected '%s'\n",
		dbus_message_get_signature(reply), sig);
	return false;
}

/* ---- commands --------------------------------------------------------- */

typedef struct {
	const char *show;
	const char *status;
	bool has_priority;
	dbus_int32_t priority;
	const char *nick;
	const char *to;
} SetArgs;

static bool append_option(DBusMessageIter *dict, const char *key, int type,
			  const void *value)
{
	DBusMessageIter entry, var;
	char sig[2] = {(char)type, '\0'};

	return dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY,
						NULL, &entry) &&
	       dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING, &key) &&
	       dbus_message_iter_open_container(&entry, DBUS_TYPE_VARIANT, sig,
						&var) &&
	       dbus_message_iter_append_basic(&var, type, value) &&
	       dbus_message_iter_close_container(&entry, &var) &&
	       dbus_message_iter_close_container(dict, &entry);
}

static int cmd_set(DBusConnection *conn, const SetArgs *args)
{
	g_autoptr(DBusMessage) msg = new_call("SetPresence");
	g_autoptr(DBusMessage) reply = NULL;
	DBusMessageIter iter, dict;
	const char *status = args->status ? args->status : "";
	bool ok;

	dbus_message_iter_init_append(msg, &iter);
	ok = dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING,
					    &args->show) &&
	     dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &status) &&
	     dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}",
					      &dict);
	if (ok && args->has_priority)
		ok = append_option(&dict, "priority", DBUS_TYPE_INT32,
				   &args->priority);
	if (ok && args->nick)
		ok = append_option(&dict, "nick", DBUS_TYPE_STRING,
				   &args->nick);
	if (ok && args->to)
		ok = append_option(&dict, "to", DBUS_TYPE_STRING, &args->to);
	if (!ok || !dbus_message_iter_close_container(&iter, &dict))
		g_error("out of memory");
	reply = call(conn, msg);
	return reply ? EXIT_OK : EXIT_DAEMON;
}

static int cmd_get(DBusConnection *conn)
{
	g_autoptr(DBusMessage) msg = new_call("GetPresence");
	g_autoptr(DBusMessage) reply = call(conn, msg);
	g_autofree char *prio = NULL;
	const char *show, *status;
	dbus_int32_t priority;

	if (!reply)
		return EXIT_DAEMON;
	if (!has_signature(reply, "ssi"))
		return EXIT_DAEMON;
	dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &show,
			      DBUS_TYPE_STRING, &status, DBUS_TYPE_INT32,
			      &priority, DBUS_TYPE_INVALID);
	prio = g_strdup_printf("%d", (int)priority);
	print_fields(show, status, prio, NULL);
	return EXIT_OK;
}

static int cmd_state(DBusConnection *conn)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		NAME, PATH, DBUS_INTERFACE_PROPERTIES, "Get");
	g_autoptr(DBusMessage) reply = NULL;
	const char *iface = IFACE, *prop = "State", *value;
	DBusMessageIter iter, var;

	if (!msg || !dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					      DBUS_TYPE_STRING, &prop,
					      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = call(conn, msg);
	if (!reply || !has_signature(reply, "v"))
		return EXIT_DAEMON;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_STRING) {
		fprintf(stderr, "presencectl: State is not a string\n");
		return EXIT_DAEMON;
	}
	dbus_message_iter_get_basic(&var, &value);
	print_fields(value, NULL);
	return EXIT_OK;
}

/* Prints each (sss) or (ss) struct of the array reply as a line. */
static int print_string_structs(DBusConnection *conn, const char *method,
				const char *sig, int n)
{
	g_autoptr(DBusMessage) msg = new_call(method);
	g_autoptr(DBusMessage) reply = call(conn, msg);
	DBusMessageIter iter, array, st;

	if (!reply || !has_signature(reply, sig))
		return EXIT_DAEMON;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *f[3] = {NULL, NULL, NULL};

		dbus_message_iter_recurse(&array, &st);
		for (int i = 0; i < n; i++) {
			dbus_message_iter_get_basic(&st, &f[i]);
			dbus_message_iter_next(&st);
		}
		print_fields(f[0], f[1], f[2], NULL);
		dbus_message_iter_next(&array);
	}
	return EXIT_OK;
}

/*
 * resource → "TYPE\tNAME" of each online resource's client
 * (GetContactClients); empty when the daemon cannot say.
 */
static GHashTable *get_clients(DBusConnection *conn, const char *jid)
{
	g_autoptr(DBusMessage) msg = new_call("GetContactClients");
	g_autoptr(DBusMessage) reply = NULL;
	GHashTable *clients =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	DBusMessageIter iter, array, st;

	if (!dbus_message_append_args(msg, DBUS_TYPE_STRING, &jid,
				      DBUS_TYPE_INVALID))
		g_error("out of memory");
	/* Quietly: a daemon without GetContactClients still has contacts. */
	reply = dbus_connection_send_with_reply_and_block(
		conn, msg, DBUS_TIMEOUT_USE_DEFAULT, NULL);
	if (!reply || !dbus_message_has_signature(reply, "a(sssas)"))
		return clients;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *f[3];

		dbus_message_iter_recurse(&array, &st);
		for (int i = 0; i < 3; i++) {
			dbus_message_iter_get_basic(&st, &f[i]);
			dbus_message_iter_next(&st);
		}
		g_hash_table_insert(clients, g_strdup(f[0]),
				    g_strjoin("\t", f[1], f[2], NULL));
		dbus_message_iter_next(&array);
	}
	return clients;
}

static void print_resource(const char *resource, const char *show,
			   const char *status, dbus_int32_t priority,
			   GHashTable *clients)
{
	g_autofree char *prio = g_strdup_printf("%d", (int)priority);
	const char *client = g_hash_table_lookup(clients, resource);
	g_autofree char *type = g_strdup(client ? client : "\t");
	char *name = strchr(type, '\t');

	*name++ = '\0';
	print_fields(resource, show, status, prio, type, name, NULL);
}

static int cmd_contact(DBusConnection *conn, const char *jid)
{
	g_autoptr(DBusMessage) msg = new_call("GetContact");
	g_autoptr(DBusMessage) reply = NULL;
	g_autoptr(GHashTable) clients = NULL;
	DBusMessageIter iter, array, st;
	const char *show, *status;

	if (!dbus_message_append_args(msg, DBUS_TYPE_STRING, &jid,
				      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = call(conn, msg);
	if (!reply || !has_signature(reply, "ssa(sssi)"))
		return EXIT_DAEMON;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_get_basic(&iter, &show);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &status);
	dbus_message_iter_next(&iter);
	print_fields(jid, show, status, NULL);
	dbus_message_iter_recurse(&iter, &array);
	if (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT)
		clients = get_clients(conn, jid);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *resource, *rshow, *rstatus;
		dbus_int32_t priority;

		dbus_message_iter_recurse(&array, &st);
		dbus_message_iter_get_basic(&st, &resource);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &rshow);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &rstatus);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &priority);
		print_resource(resource, rshow, rstatus, priority, clients);
		dbus_message_iter_next(&array);
	}
	return EXIT_OK;
}

static int cmd_roster(DBusConnection *conn)
{
	g_autoptr(DBusMessage) msg = new_call("GetRoster");
	g_autoptr(DBusMessage) reply = call(conn, msg);
	DBusMessageIter iter, array, st, groups;

	if (!reply || !has_signature(reply, "a(sssas)"))
		return EXIT_DAEMON;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		g_autoptr(GString) line = g_string_new(NULL);
		const char *f;
		bool first = true;

		dbus_message_iter_recurse(&array, &st);
		for (int i = 0; i < 3; i++) {
			dbus_message_iter_get_basic(&st, &f);
			append_escaped(line, f, false);
			g_string_append_c(line, '\t');
			dbus_message_iter_next(&st);
		}
		dbus_message_iter_recurse(&st, &groups);
		while (dbus_message_iter_get_arg_type(&groups) ==
		       DBUS_TYPE_STRING) {
			dbus_message_iter_get_basic(&groups, &f);
			if (!first)
				g_string_append_c(line, ',');
			append_escaped(line, f, true);
			first = false;
			dbus_message_iter_next(&groups);
		}
		g_string_append_c(line, '\n');
		fputs(line->str, stdout);
		dbus_message_iter_next(&array);
	}
	return EXIT_OK;
}

/* Calls method with the arguments of dbus_message_append_args(). */
static int call_simple(DBusConnection *conn, const char *method, int first_type,
		       ...)
{
	g_autoptr(DBusMessage) msg = new_call(method);
	g_autoptr(DBusMessage) reply = NULL;
	va_list ap;
	bool ok;

	va_start(ap, first_type);
	ok = dbus_message_append_args_valist(msg, first_type, ap);
	va_end(ap);
	if (!ok)
		g_error("out of memory");
	reply = call(conn, msg);
	return reply ? EXIT_OK : EXIT_DAEMON;
}

static int authorize(DBusConnection *conn, const char *jid, bool allow)
{
	dbus_bool_t value = allow;

	return call_simple(conn, "Authorize", DBUS_TYPE_STRING, &jid,
			   DBUS_TYPE_BOOLEAN, &value, DBUS_TYPE_INVALID);
}

/* ---- watch ------------------------------------------------------------ */

typedef struct {
	GMainLoop *loop;
	int status;
	/* The unique name that owns NAME now, NULL while nobody does: only
	 * its signals are believed. Anyone on the bus can send a signal to
	 * us directly, whatever our match rules say. */
	char *owner;
} Watch;

static void set_owner(Watch *watch, const char *owner)
{
	g_free(watch->owner);
	watch->owner = owner && *owner ? g_strdup(owner) : NULL;
}

/* NameOwnerChanged for NAME, from the bus itself: a new owner (or none). */
static bool note_owner_change(Watch *watch, DBusMessage *msg)
{
	const char *name, *old_owner, *new_owner;

	if (!dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
				    "NameOwnerChanged") ||
	    g_strcmp0(dbus_message_get_sender(msg), DBUS_SERVICE_DBUS) != 0 ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
				   DBUS_TYPE_STRING, &old_owner,
				   DBUS_TYPE_STRING, &new_owner,
				   DBUS_TYPE_INVALID) ||
	    strcmp(name, NAME) != 0)
		return false;
	set_owner(watch, new_owner);
	return true;
}

static bool is_from_owner(const Watch *watch, DBusMessage *msg)
{
	return watch->owner &&
	       g_strcmp0(dbus_message_get_sender(msg), watch->owner) == 0;
}

static DBusHandlerResult watch_filter(DBusConnection *conn, DBusMessage *msg,
				      void *user_data)
{
	Watch *watch = user_data;
	const char *jid, *show, *status;

	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		fprintf(stderr, "presencectl: lost the session bus\n");
		watch->status = EXIT_DAEMON;
		g_main_loop_quit(watch->loop);
		return DBUS_HANDLER_RESULT_HANDLED;
	}
	if (note_owner_change(watch, msg))
		return DBUS_HANDLER_RESULT_HANDLED;
	if (!dbus_message_is_signal(msg, IFACE, "PresenceChanged") ||
	    !is_from_owner(watch, msg) || !dbus_message_has_path(msg, PATH) ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &jid,
				   DBUS_TYPE_STRING, &show, DBUS_TYPE_STRING,
				   &status, DBUS_TYPE_INVALID))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	print_fields(jid, show, status, NULL);
	/* One line per change, as it happens, even into a pipe. */
	if (fflush(stdout) != 0) {
		watch->status = EXIT_DAEMON;
		g_main_loop_quit(watch->loop);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

static gboolean on_quit_signal(gpointer user_data)
{
	Watch *watch = user_data;

	g_main_loop_quit(watch->loop);
	return G_SOURCE_CONTINUE;
}

/* GetNameOwner(NAME): the unique name, or NULL (error set) when none. */
static char *get_name_owner(DBusConnection *conn, DBusError *err)
{
	g_autoptr(DBusMessage) call = dbus_message_new_method_call(
		DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
		"GetNameOwner");
	g_autoptr(DBusMessage) reply = NULL;
	const char *name = NAME, *owner = NULL;

	if (!call || !dbus_message_append_args(call, DBUS_TYPE_STRING, &name,
					       DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = dbus_connection_send_with_reply_and_block(
		conn, call, DBUS_TIMEOUT_USE_DEFAULT, err);
	if (!reply || !dbus_message_get_args(reply, err, DBUS_TYPE_STRING,
					     &owner, DBUS_TYPE_INVALID))
		return NULL;
	return g_strdup(owner);
}

static int cmd_watch(DBusConnection *conn)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Watch watch = {loop, EXIT_OK, NULL};
	guint term, intr;

	/* Interruption is the normal end: handle it from the start. */
	term = g_unix_signal_add(SIGTERM, on_quit_signal, &watch);
	intr = g_unix_signal_add(SIGINT, on_quit_signal, &watch);

	/* Match first, so nothing is missed between start and match; the
	 * owner's changes too, so that a restarted daemon is followed. */
	dbus_bus_add_match(conn,
			   "type='signal',sender='" DBUS_SERVICE_DBUS "',"
			   "interface='" DBUS_INTERFACE_DBUS "',"
			   "member='NameOwnerChanged',arg0='" NAME "'",
			   &err);
	if (!dbus_error_is_set(&err))
		dbus_bus_add_match(
			conn,
			"type='signal',sender='" NAME "',path='" PATH "',"
			"interface='" IFACE "',member='PresenceChanged'",
			&err);
	if (dbus_error_is_set(&err)) {
		g_source_remove(term);
		g_source_remove(intr);
		return report_error(err.name, err.message);
	}
	/* Like every other command, make sure the daemon runs (D-Bus
	 * activation starts it where installed). Ask the owner first: the
	 * bus refuses StartServiceByName for a name that has no .service
	 * file even while someone owns it. */
	if (!dbus_bus_name_has_owner(conn, NAME, &err) &&
	    !dbus_error_is_set(&err) &&
	    !dbus_bus_start_service_by_name(conn, NAME, 0, NULL, &err)) {
		g_source_remove(term);
		g_source_remove(intr);
		return report_error(err.name, err.message);
	}
	/* Queued NameOwnerChanged signals, dispatched later, only bring
	 * this up to date. */
	if (!dbus_error_is_set(&err))
		watch.owner = get_name_owner(conn, &err);
	if (dbus_error_is_set(&err)) {
		g_source_remove(term);
		g_source_remove(intr);
		return report_error(err.name, err.message);
	}

	if (!dbus_connection_add_filter(conn, watch_filter, &watch, NULL))
		g_error("out of memory");
	g_main_loop_run(loop);
	g_source_remove(term);
	g_source_remove(intr);
	dbus_connection_remove_filter(conn, watch_filter, &watch);
	g_free(watch.owner);
	return watch.status;
}

/*
 * GetSubscription (an addition to the contract): "none\tpending" is a
 * request of ours awaiting the contact's answer (RFC 6121 "pending out").
 */
static int cmd_subscription(DBusConnection *conn, const char *jid)
{
	g_autoptr(DBusMessage) msg = new_call("GetSubscription");
	g_autoptr(DBusMessage) reply = NULL;
	dbus_bool_t pending;
	const char *sub;

	if (!dbus_message_append_args(msg, DBUS_TYPE_STRING, &jid,
				      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = call(conn, msg);
	if (!reply || !has_signature(reply, "sb"))
		return EXIT_DAEMON;
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &sub,
				   DBUS_TYPE_BOOLEAN, &pending,
				   DBUS_TYPE_INVALID))
		return EXIT_DAEMON;
	print_fields(sub, pending ? "pending" : "-", NULL);
	return EXIT_OK;
}

/* ---- status: one screen for people ------------------------------------ */

/* The properties the overview shows; strings borrowed from the reply. */
typedef struct {
	const char *state, *reason, *message, *jid;
	const char *show, *status, *cause, *auth;
	dbus_int32_t priority;
	dbus_bool_t roster_ready;
} Overview;

static void take_property(Overview *o, const char *name, DBusMessageIter *var)
{
	static const struct {
		const char *name;
		size_t offset;
	} strings[] = {
		{"State", offsetof(Overview, state)},
		{"StateReason", offsetof(Overview, reason)},
		{"StateMessage", offsetof(Overview, message)},
		{"Jid", offsetof(Overview, jid)},
		{"Show", offsetof(Overview, show)},
		{"Status", offsetof(Overview, status)},
		{"PresenceCause", offsetof(Overview, cause)},
		{"Authentication", offsetof(Overview, auth)},
	};
	int type = dbus_message_iter_get_arg_type(var);

	if (type == DBUS_TYPE_INT32 && strcmp(name, "Priority") == 0)
		dbus_message_iter_get_basic(var, &o->priority);
	else if (type == DBUS_TYPE_BOOLEAN && strcmp(name, "RosterReady") == 0)
		dbus_message_iter_get_basic(var, &o->roster_ready);
	if (type != DBUS_TYPE_STRING)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(strings); i++)
		if (strcmp(name, strings[i].name) == 0)
			dbus_message_iter_get_basic(
				var,
				(const char **)((char *)o + strings[i].offset));
}

/* GetAll into o; the reply (transfer full) owns the strings. */
static DBusMessage *get_overview(DBusConnection *conn, Overview *o)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		NAME, PATH, DBUS_INTERFACE_PROPERTIES, "GetAll");
	DBusMessage *reply;
	const char *iface = IFACE;
	DBusMessageIter iter, dict, entry, var;

	if (!msg || !dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = call(conn, msg);
	if (!reply || !has_signature(reply, "a{sv}")) {
		g_clear_pointer(&reply, dbus_message_unref);
		return NULL;
	}
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *name;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &name);
		dbus_message_iter_next(&entry);
		dbus_message_iter_recurse(&entry, &var);
		take_property(o, name, &var);
		dbus_message_iter_next(&dict);
	}
	return reply;
}

/*
 * Counts the structs of method's array reply, and of those the ones whose
 * second field (a show) is online. -1: the call failed (reported).
 */
static int count_items(DBusConnection *conn, const char *method,
		       const char *sig, int *ret_online)
{
	g_autoptr(DBusMessage) msg = new_call(method);
	g_autoptr(DBusMessage) reply = call(conn, msg);
	DBusMessageIter iter, array, st;
	int n = 0, online = 0;

	if (!reply || !has_signature(reply, sig))
		return -1;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *show = NULL;

		dbus_message_iter_recurse(&array, &st);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &show);
		if (strcmp(show, "offline") != 0 &&
		    strcmp(show, "unknown") != 0)
			online++;
		n++;
		dbus_message_iter_next(&array);
	}
	if (ret_online)
		*ret_online = online;
	return n;
}

static const char *cause_text(const char *cause)
{
	if (g_strcmp0(cause, "dnd") == 0)
		return "dnd (the desktop is in Do Not Disturb)";
	if (g_strcmp0(cause, "lock") == 0)
		return "lock (the screen is locked)";
	if (g_strcmp0(cause, "idle") == 0)
		return "idle (no input for a while)";
	return "user (you or an app)";
}

/* "Label: value" lines, right-aligned labels as hostnamectl prints. */
static void print_row(const char *label, const char *value)
{
	g_autoptr(GString) v = g_string_new(NULL);

	append_escaped(v, value ? value : "", false);
	printf("%10s: %s\n", label, v->str);
}

/* The XMPP service is the JID's domain (RFC 7622 §3.2). Transfer full. */
static char *jid_domain(const char *jid)
{
	const char *at = jid ? strchr(jid, '@') : NULL;
	const char *domain = at ? at + 1 : jid;

	return domain ? g_strndup(domain, strcspn(domain, "/")) : NULL;
}

static int cmd_status(DBusConnection *conn)
{
	Overview o = {0};
	g_autoptr(DBusMessage) props = get_overview(conn, &o);
	g_autofree char *state = NULL, *presence = NULL, *contacts = NULL;
	g_autofree char *domain = NULL;
	int online = 0, n_contacts, n_roster;

	if (!props)
		return EXIT_DAEMON;
	n_contacts = count_items(conn, "ListContacts", "a(sss)", &online);
	n_roster = count_items(conn, "GetRoster", "a(sssas)", NULL);
	if (n_contacts < 0 || n_roster < 0)
		return EXIT_DAEMON;
	state = g_strcmp0(o.state, "online") == 0 || !o.reason || !*o.reason
			? g_strdup(o.state)
			: g_strdup_printf("%s (%s: %s)", o.state, o.reason,
					  o.message ? o.message : "");
	presence = o.status && *o.status
			   ? g_strdup_printf("%s, \"%s\" (priority %d)", o.show,
					     o.status, (int)o.priority)
			   : g_strdup_printf("%s (priority %d)", o.show,
					     (int)o.priority);
	contacts = g_strdup_printf("%d online, %d in the roster%s", online,
				   n_roster,
				   o.roster_ready ? "" : " (not received)");
	domain = jid_domain(o.jid);
	print_row("State", state);
	print_row("JID", o.jid);
	print_row("Presence", presence);
	print_row("Set by", cause_text(o.cause));
	print_row("Contacts", contacts);
	print_row("Server", domain);
	if (o.auth && *o.auth)
		print_row("Login", o.auth);
	return EXIT_OK;
}

/* ---- verbs ------------------------------------------------------------ */

/* args[0] is the verb, then its arguments (as many as the table allows). */
typedef int (*VerbFunc)(DBusConnection *conn, char **args,
			const SetArgs *options);

static int verb_set(DBusConnection *conn, char **args, const SetArgs *options)
{
	SetArgs set = *options;

	set.show = args[1];
	set.status = args[2] ? args[2] : "";
	return cmd_set(conn, &set);
}

static int verb_get(DBusConnection *conn, char **args, const SetArgs *options)
{
	return cmd_get(conn);
}

static int verb_state(DBusConnection *conn, char **args, const SetArgs *options)
{
	return cmd_state(conn);
}

static int verb_status(DBusConnection *conn, char **args,
		       const SetArgs *options)
{
	return cmd_status(conn);
}

static int verb_list(DBusConnection *conn, char **args, const SetArgs *options)
{
	return print_string_structs(conn, "ListContacts", "a(sss)", 3);
}

static int verb_contact(DBusConnection *conn, char **args,
			const SetArgs *options)
{
	return cmd_contact(conn, args[1]);
}

static int verb_watch(DBusConnection *conn, char **args, const SetArgs *options)
{
	return cmd_watch(conn);
}

static int verb_subscribe(DBusConnection *conn, char **args,
			  const SetArgs *options)
{
	const char *message = args[2] ? args[2] : "";

	return call_simple(conn, "Subscribe", DBUS_TYPE_STRING, &args[1],
			   DBUS_TYPE_STRING, &message, DBUS_TYPE_INVALID);
}

static int verb_authorize(DBusConnection *conn, char **args,
			  const SetArgs *options)
{
	return authorize(conn, args[1], true);
}

static int verb_deny(DBusConnection *conn, char **args, const SetArgs *options)
{
	return authorize(conn, args[1], false);
}

static int verb_requests(DBusConnection *conn, char **args,
			 const SetArgs *options)
{
	return print_string_structs(conn, "ListSubscriptionRequests", "a(ss)",
				    2);
}

static int verb_roster(DBusConnection *conn, char **args,
		       const SetArgs *options)
{
	return cmd_roster(conn);
}

static int verb_subscription(DBusConnection *conn, char **args,
			     const SetArgs *options)
{
	return cmd_subscription(conn, args[1]);
}

/* The Blocked property, one JID a line. */
static int verb_blocked(DBusConnection *conn, char **args,
			const SetArgs *options)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		NAME, PATH, DBUS_INTERFACE_PROPERTIES, "Get");
	g_autoptr(DBusMessage) reply = NULL;
	const char *iface = IFACE, *prop = "Blocked";
	DBusMessageIter iter, variant, array;

	if (!msg || !dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					      DBUS_TYPE_STRING, &prop,
					      DBUS_TYPE_INVALID))
		g_error("out of memory");
	reply = call(conn, msg);
	if (!reply || !has_signature(reply, "v"))
		return EXIT_DAEMON;
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &variant);
	if (dbus_message_iter_get_arg_type(&variant) != DBUS_TYPE_ARRAY ||
	    dbus_message_iter_get_element_type(&variant) != DBUS_TYPE_STRING)
		return report_error(NULL, "Blocked is not an array of strings");
	dbus_message_iter_recurse(&variant, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRING) {
		const char *jid;

		dbus_message_iter_get_basic(&array, &jid);
		print_fields(jid, NULL);
		dbus_message_iter_next(&array);
	}
	return EXIT_OK;
}

/* ---- command line ----------------------------------------------------- */

/* The verb table (systemd hostnamectl.c style): name, arguments, handler;
 * a verb that only calls one method with its JID names the method and no
 * handler. */
typedef struct {
	const char *name;
	int min_args, max_args;
	bool set_options; /* --priority, --nick, --to */
	VerbFunc run;
	const char *jid_method;
} Verb;

static const Verb verbs[] = {
	{"set", 1, 2, true, verb_set},
	{"get", 0, 0, false, verb_get},
	{"state", 0, 0, false, verb_state},
	{"status", 0, 0, false, verb_status},
	{"list", 0, 0, false, verb_list},
	{"contact", 1, 1, false, verb_contact},
	{"watch", 0, 0, false, verb_watch},
	{"subscribe", 1, 2, false, verb_subscribe},
	{"unsubscribe", 1, 2, false, NULL, "Unsubscribe"},
	{"authorize", 1, 2, false, verb_authorize},
	{"deny", 1, 2, false, verb_deny},
	{"remove", 1, 2, false, NULL, "RemoveContact"},
	{"requests", 0, 0, false, verb_requests},
	{"roster", 0, 0, false, verb_roster},
	{"subscription", 1, 1, false, verb_subscription},
	{"block", 1, 1, false, NULL, "Block"},
	{"unblock", 1, 1, false, NULL, "Unblock"},
	{"blocked", 0, 0, false, verb_blocked},
};

static bool parse_priority(const char *str, dbus_int32_t *ret)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(str, &end, 10);
	if (errno || end == str || *end || value < G_MININT32 ||
	    value > G_MAXINT32)
		return false;
	*ret = (dbus_int32_t)value;
	return true;
}

int main(int argc, char **argv)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new();
	const Verb *verb = NULL;
	DBusConnection *conn;
	SetArgs set = {0};
	bool options_done = false;
	int status;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char *value = NULL;
		const char *opt = NULL;

		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			g_ptr_array_add(args, (gpointer)arg);
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		if (strcmp(arg, "--version") == 0) {
			puts("presencectl " PACKAGE_VERSION);
			return EXIT_OK;
		}
		for (const char *const *o =
			     (const char *const[]){"--priority", "--nick",
						   "--to", NULL};
		     *o; o++) {
			size_t len = strlen(*o);

			if (strncmp(arg, *o, len) != 0)
				continue;
			if (arg[len] == '=') {
				opt = *o;
				value = arg + len + 1;
			} else if (arg[len] == '\0') {
				opt = *o;
				if (i + 1 >= argc)
					return usage_error(
						"option %s needs a value", *o);
				value = argv[++i];
			}
		}
		if (!opt)
			return usage_error("unknown option '%s'", arg);
		if (strcmp(opt, "--priority") == 0) {
			if (!parse_priority(value, &set.priority))
				return usage_error("--priority needs an "
						   "integer, not '%s'",
						   value);
			set.has_priority = true;
		} else if (strcmp(opt, "--nick") == 0) {
			set.nick = value;
		} else {
			set.to = value;
		}
	}

	if (args->len == 0)
		return usage_error("no command given");
	for (size_t i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (strcmp(verbs[i].name, args->pdata[0]) == 0)
			verb = &verbs[i];
	if (!verb)
		return usage_error("unknown command '%s'",
				   (const char *)args->pdata[0]);
	if ((int)args->len - 1 < verb->min_args ||
	    (int)args->len - 1 > verb->max_args)
		return usage_error("wrong number of arguments for '%s'",
				   verb->name);
	if (!verb->set_options && (set.has_priority || set.nick || set.to))
		return usage_error("--priority, --nick and --to go with 'set' "
				   "only");
	/* libdbus aborts on a string that is not UTF-8: refuse it here. */
	for (guint i = 1; i < args->len; i++)
		if (!g_utf8_validate(args->pdata[i], -1, NULL))
			return usage_error("argument %u is not valid UTF-8", i);
	if ((set.nick && !g_utf8_validate(set.nick, -1, NULL)) ||
	    (set.to && !g_utf8_validate(set.to, -1, NULL)))
		return usage_error("--nick and --to must be valid UTF-8");

	conn = connect_bus();
	if (!conn)
		return EXIT_DAEMON;

	/* Absent optional arguments read as NULL. */
	g_ptr_array_add(args, NULL);
	g_ptr_array_add(args, NULL);
	status = verb->run
			 ? verb->run(conn, (char **)args->pdata, &set)
			 : call_simple(conn, verb->jid_method, DBUS_TYPE_STRING,
				       &g_ptr_array_index(args, 1),
				       DBUS_TYPE_INVALID);

	bus_connection_close(conn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "presencectl: cannot write output: %s\n",
			g_strerror(errno));
		return EXIT_DAEMON;
	}
	return status;
}
