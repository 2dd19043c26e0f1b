/* SPDX-License-Identifier: MIT */
/*
 * /im/presenced/Presence1 over a private dbus-daemon (tests/session.conf,
 * never the user's bus), with the Service replaced by
 * tests/support/fake-service.c. The object and a client connection share this
 * process's main context, so a test drives both by iterating it until the reply
 * or signal it waits for has arrived.
 */
#include "config.h"

#include <check.h>
#include <libxml/parser.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus-presence.h"
#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"
#include "dbus/presence1-xml.h"
#include "tests/support/check-suite.h"
#include "tests/support/fake-service.h"

#define NAME BUS_PRESENCE_NAME
#define PATH BUS_PRESENCE_PATH
#define IFACE BUS_PRESENCE_INTERFACE
#define PROPS "org.freedesktop.DBus.Properties"

/* ---- a private bus --------------------------------------------------------
 */

typedef struct {
	GPid pid;
	char *address;
} TestBus;

static TestBus suite_bus;

static void test_bus_stop(TestBus *tb)
{
	if (!tb->pid)
		return;
	kill(tb->pid, SIGTERM);
	waitpid(tb->pid, NULL, 0);
	g_spawn_close_pid(tb->pid);
	tb->pid = 0;
	g_clear_pointer(&tb->address, g_free);
}

/* The daemon dies with us, even if a test crashes. */
static void child_setup(gpointer user_data)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Not ck_assert: this also runs outside any test (main). */
static bool test_bus_start(TestBus *tb)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *conf = NULL;
	const char *builddir = g_getenv("top_builddir");
	char *argv[5];
	GString *line = g_string_new(NULL);
	int out;
	char c;

	conf = builddir ? g_build_filename(builddir, "tests", "session.conf",
					   NULL)
			: g_strdup(TEST_SESSION_CONF);
	argv[0] = (char *)"dbus-daemon";
	argv[1] = g_strdup_printf("--config-file=%s", conf);
	argv[2] = (char *)"--print-address=1";
	argv[3] = (char *)"--nofork";
	argv[4] = NULL;
	if (!g_spawn_async_with_pipes(
		    NULL, argv, NULL,
		    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
		    child_setup, NULL, &tb->pid, NULL, &out, NULL, &error)) {
		g_free(argv[1]);
		fprintf(stderr, "cannot start dbus-daemon: %s\n",
			error->message);
		return false;
	}
	g_free(argv[1]);
	/* The daemon prints its address once it listens: wait for it. */
	while (read(out, &c, 1) == 1 && c != '\n')
		g_string_append_c(line, c);
	close(out);
	if (line->len == 0) {
		fprintf(stderr, "dbus-daemon printed no address\n");
		g_string_free(line, TRUE);
		test_bus_stop(tb);
		return false;
	}
	tb->address = g_string_free(line, FALSE);
	return true;
}

static bool suite_setup(void)
{
	if (!test_bus_start(&suite_bus))
		return false;
	g_setenv("DBUS_SESSION_BUS_ADDRESS", suite_bus.address, TRUE);
	return true;
}

static void suite_teardown(void)
{
	test_bus_stop(&suite_bus);
}

/* ---- per-test fixture ------------------------------------------------------
 */

static Service *service;
static BusPresence *bus;
static DBusConnection *client;
static GPtrArray *signals; /* DBusMessage*, as received */
static int disconnects;

static DBusHandlerResult client_filter(DBusConnection *conn, DBusMessage *msg,
				       void *user_data)
{
	if (dbus_message_get_type(msg) == DBUS_MESSAGE_TYPE_SIGNAL &&
	    (dbus_message_has_path(msg, PATH) ||
	     dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
				    "NameOwnerChanged")))
		g_ptr_array_add(signals, dbus_message_ref(msg));
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static void on_disconnect(void *user_data)
{
	disconnects++;
}

static DBusConnection *client_connect(const char *address)
{
	g_autoptr(GError) error = NULL;
	DBusConnection *conn = bus_connection_open_address(address, &error);

	ck_assert_msg(conn, "connect: %s", error ? error->message : "");
	return conn;
}

static void client_close(DBusConnection **conn)
{
	g_clear_pointer(conn, bus_connection_close);
}

static void setup(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;

	signals = g_ptr_array_new_with_free_func(
		(GDestroyNotify)dbus_message_unref);
	disconnects = 0;
	service = fake_service_new();
	bus = bus_presence_new(service, on_disconnect, NULL, &error);
	ck_assert_msg(bus, "bus_presence_new: %s",
		      error ? error->message : "?");

	client = client_connect(suite_bus.address);
	ck_assert(
		dbus_connection_add_filter(client, client_filter, NULL, NULL));
	dbus_bus_add_match(client, "type='signal',path='" PATH "'", &err);
	ck_assert_msg(!dbus_error_is_set(&err), "AddMatch: %s", err.message);
}

static void teardown(void)
{
	client_close(&client);
	g_clear_pointer(&bus, bus_presence_free);
	g_clear_pointer(&service, fake_service_free);
	g_clear_pointer(&signals, g_ptr_array_unref);
	/* Nothing of ours may be left in the context. */
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* ---- helpers --------------------------------------------------------------
 */

/* Runs the context until the call is answered; transfer full. */
static DBusMessage *send_and_wait(DBusConnection *conn, DBusMessage *msg)
{
	g_autoptr(DBusPendingCall) pending = NULL;

	ck_assert(dbus_connection_send_with_reply(conn, msg, &pending, 10000));
	ck_assert_ptr_nonnull(pending);
	while (!dbus_pending_call_get_completed(pending))
		g_main_context_iteration(NULL, TRUE);
	return dbus_pending_call_steal_reply(pending);
}

static DBusMessage *new_call(const char *iface, const char *method)
{
	DBusMessage *msg =
		dbus_message_new_method_call(NAME, PATH, iface, method);

	ck_assert_ptr_nonnull(msg);
	return msg;
}

/* A call with basic arguments (dbus_message_append_args conventions). */
static DBusMessage *call(const char *method, int first_type, ...)
{
	g_autoptr(DBusMessage) msg = new_call(IFACE, method);
	va_list ap;

	va_start(ap, first_type);
	ck_assert(dbus_message_append_args_valist(msg, first_type, ap));
	va_end(ap);
	return send_and_wait(client, msg);
}

/*
 * SetPresence(show, status, options): options are given as key, D-Bus type
 * char, value pointer triplets ending with a NULL key.
 */
static DBusMessage *set_presence(const char *show, const char *status, ...)
{
	g_autoptr(DBusMessage) msg = new_call(IFACE, "SetPresence");
	DBusMessageIter iter, dict, entry, var;
	const char *key;
	va_list ap;

	dbus_message_iter_init_append(msg, &iter);
	ck_assert(
		dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &show));
	ck_assert(dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING,
						 &status));
	ck_assert(dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY,
						   "{sv}", &dict));
	va_start(ap, status);
	while ((key = va_arg(ap, const char *))) {
		int type = va_arg(ap, int);
		const void *value = va_arg(ap, const void *);
		char sig[2] = {(char)type, 0};

		ck_assert(dbus_message_iter_open_container(
			&dict, DBUS_TYPE_DICT_ENTRY, NULL, &entry));
		ck_assert(dbus_message_iter_append_basic(
			&entry, DBUS_TYPE_STRING, &key));
		ck_assert(dbus_message_iter_open_container(
			&entry, DBUS_TYPE_VARIANT, sig, &var));
		ck_assert(dbus_message_iter_append_basic(&var, type, value));
		ck_assert(dbus_message_iter_close_container(&entry, &var));
		ck_assert(dbus_message_iter_close_container(&dict, &entry));
	}
	va_end(ap);
	ck_assert(dbus_message_iter_close_container(&iter, &dict));
	return send_and_wait(client, msg);
}

static void assert_ok(DBusMessage *reply)
{
	ck_assert_ptr_nonnull(reply);
	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		const char *text = "";

		(void)dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING,
					    &text, DBUS_TYPE_INVALID);
		ck_abort_msg("unexpected error %s: %s",
			     dbus_message_get_error_name(reply), text);
	}
}

/* Checks an error reply: its name, and that its message contains needle. */
static void assert_error(DBusMessage *reply, const char *name,
			 const char *needle)
{
	const char *text = "";

	ck_assert_ptr_nonnull(reply);
	ck_assert_int_eq(dbus_message_get_type(reply), DBUS_MESSAGE_TYPE_ERROR);
	ck_assert_str_eq(dbus_message_get_error_name(reply), name);
	ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text,
					DBUS_TYPE_INVALID));
	ck_assert_msg(strstr(text, needle), "error message '%s' lacks '%s'",
		      text, needle);
}

/* Lets every source of the object run, then makes a round trip so that all
 * it sent has reached the client. */
static void settle(void)
{
	g_autoptr(DBusMessage) ping = NULL;
	g_autoptr(DBusMessage) reply = NULL;

	while (g_main_context_iteration(NULL, FALSE))
		;
	ping = new_call("org.freedesktop.DBus.Peer", "Ping");
	reply = send_and_wait(client, ping);
	assert_ok(reply);
	while (g_main_context_iteration(NULL, FALSE))
		;
}

static guint count_signals(const char *iface, const char *member)
{
	guint n = 0;

	for (guint i = 0; i < signals->len; i++)
		n += dbus_message_is_signal(signals->pdata[i], iface, member);
	return n;
}

static DBusMessage *nth_signal(const char *iface, const char *member, guint nth)
{
	for (guint i = 0; i < signals->len; i++)
		if (dbus_message_is_signal(signals->pdata[i], iface, member) &&
		    nth-- == 0)
			return signals->pdata[i];
	ck_abort_msg("no signal %s.%s", iface, member);
	return NULL;
}

static void assert_no_calls(void)
{
	const GPtrArray *calls = fake_service_get_calls(service);

	ck_assert_msg(calls->len == 0, "the service was called: %s",
		      calls->len ? (const char *)calls->pdata[0] : "");
}

static void assert_call(const char *expected)
{
	const GPtrArray *calls = fake_service_get_calls(service);

	ck_assert_uint_eq(calls->len, 1);
	ck_assert_str_eq(calls->pdata[0], expected);
	fake_service_clear_calls(service);
}

/* Reads an a(sss) at iter into "a|b|c" lines joined by ";". */
static char *read_sss_array(DBusMessageIter *iter)
{
	GString *out = g_string_new(NULL);
	DBusMessageIter array, st;

	ck_assert_int_eq(dbus_message_iter_get_arg_type(iter), DBUS_TYPE_ARRAY);
	dbus_message_iter_recurse(iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *a, *b, *c;

		dbus_message_iter_recurse(&array, &st);
		dbus_message_iter_get_basic(&st, &a);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &b);
		dbus_message_iter_next(&st);
		dbus_message_iter_get_basic(&st, &c);
		g_string_append_printf(out, "%s%s|%s|%s", out->len ? ";" : "",
				       a, b, c);
		dbus_message_iter_next(&array);
	}
	return g_string_free(out, FALSE);
}

static int compare_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ContactsChanged entries, sorted, as read_sss_array. */
static char *read_contacts_changed(DBusMessage *sig)
{
	DBusMessageIter iter;
	g_autofree char *joined = NULL;
	g_auto(GStrv) parts = NULL;

	ck_assert(dbus_message_has_signature(sig, "a(sss)"));
	ck_assert(dbus_message_iter_init(sig, &iter));
	joined = read_sss_array(&iter);
	parts = g_strsplit(joined, ";", -1);
	qsort(parts, g_strv_length(parts), sizeof(char *), compare_strp);
	return g_strjoinv(";", parts);
}

/* ---- SetPresence and GetPresence ------------------------------------------
 */

START_TEST(test_set_presence)
{
	g_autoptr(DBusMessage) reply = NULL;
	dbus_int32_t prio = 5;
	const char *nick = "Al";
	const char *show, *status;
	dbus_int32_t got_prio;

	reply = set_presence("away", "brb", "priority", 'i', &prio, "nick", 's',
			     &nick, NULL);
	assert_ok(reply);
	assert_call("set_presence show=away status=brb priority=5 nick=Al "
		    "to=(null)");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("GetPresence", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_get_args(
		reply, NULL, DBUS_TYPE_STRING, &show, DBUS_TYPE_STRING, &status,
		DBUS_TYPE_INT32, &got_prio, DBUS_TYPE_INVALID));
	ck_assert_str_eq(show, "away");
	ck_assert_str_eq(status, "brb");
	ck_assert_int_eq(got_prio, 5);
}
END_TEST

START_TEST(test_set_presence_every_show)
{
	static const char *const shows[] = {"available", "chat", "away",
					    "xa",	 "dnd",	 "offline"};

	for (size_t i = 0; i < G_N_ELEMENTS(shows); i++) {
		g_autoptr(DBusMessage) reply = set_presence(shows[i], "", NULL);
		g_autofree char *want = g_strdup_printf(
			"set_presence show=%s status= priority=unset:0 "
			"nick=(null) to=(null)",
			shows[i]);

		assert_ok(reply);
		assert_call(want);
	}
}
END_TEST

START_TEST(test_set_presence_directed)
{
	g_autoptr(DBusMessage) reply = NULL;
	const char *to = "Bob@Example.NET/Phone";
	const char *nick = "Alice";

	reply = set_presence("dnd", "busy", "to", 's', &to, "nick", 's', &nick,
			     NULL);
	assert_ok(reply);
	/* Normalized: localpart and domain case-folded, resource kept. */
	assert_call("set_presence show=dnd status=busy priority=unset:0 "
		    "nick=Alice to=bob@example.net/Phone");
}
END_TEST

START_TEST(test_set_presence_limits)
{
	g_autofree char *status = g_strnfill(1024, 'x');
	g_autoptr(DBusMessage) reply = NULL;
	dbus_int32_t lo = -128, hi = 127;

	reply = set_presence("chat", status, "priority", 'i', &lo, NULL);
	assert_ok(reply);
	g_clear_pointer(&reply, dbus_message_unref);
	reply = set_presence("chat", "", "priority", 'i', &hi, NULL);
	assert_ok(reply);
	ck_assert_uint_eq(fake_service_get_calls(service)->len, 2);
}
END_TEST

START_TEST(test_set_presence_bad_show)
{
	g_autoptr(DBusMessage) reply = set_presence("busy", "", NULL);

	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "busy");
	g_clear_pointer(&reply, dbus_message_unref);
	/* unknown is a contact's state, not one we can set. */
	reply = set_presence("unknown", "", NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "unknown");
	g_clear_pointer(&reply, dbus_message_unref);
	reply = set_presence("Away", "", NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "show");
	assert_no_calls();
}
END_TEST

START_TEST(test_set_presence_bad_priority)
{
	dbus_int32_t values[] = {128, -129, 1000, G_MININT32};

	for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
		g_autoptr(DBusMessage) reply = set_presence(
			"away", "", "priority", 'i', &values[i], NULL);

		assert_error(reply, DBUS_ERROR_INVALID_ARGS, "-128 and 127");
	}
	assert_no_calls();
}
END_TEST

START_TEST(test_set_presence_status_too_long)
{
	g_autofree char *status = g_strnfill(1025, 'x');
	g_autoptr(DBusMessage) reply = set_presence("away", status, NULL);

	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "1025");
	g_clear_pointer(&reply, dbus_message_unref);
	/* Bytes, not characters: 513 two-byte characters. */
	g_free(status);
	{
		GString *s = g_string_new(NULL);

		for (int i = 0; i < 513; i++)
			g_string_append(s, "\xc3\xa9");
		status = g_string_free(s, FALSE);
	}
	reply = set_presence("away", status, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "status");
	assert_no_calls();
}
END_TEST

START_TEST(test_set_presence_bad_options)
{
	g_autoptr(DBusMessage) reply = NULL;
	const char *str = "5";
	dbus_int32_t num = 5;
	const char *bad_jid = "not a jid@@";
	const char *empty = "";
	dbus_bool_t yes = TRUE;

	reply = set_presence("away", "", "foo", 's', &str, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "Unknown option 'foo'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "priority", 's', &str, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "'priority'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "priority", 'b', &yes, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "type 'i'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "nick", 'i', &num, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "'nick'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "to", 'i', &num, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "'to'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "to", 's', &bad_jid, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "JID");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "to", 's', &empty, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "JID");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = set_presence("away", "", "priority", 'i', &num, "priority", 'i',
			     &num, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "twice");
	g_clear_pointer(&reply, dbus_message_unref);

	/* A bad option after a good one still changes nothing. */
	reply = set_presence("away", "", "priority", 'i', &num, "bar", 's',
			     &str, NULL);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "bar");
	assert_no_calls();
}
END_TEST

START_TEST(test_wrong_signature)
{
	g_autoptr(DBusMessage) reply = NULL;
	const char *s = "away";
	dbus_int32_t i = 1;

	reply = call("SetPresence", DBUS_TYPE_STRING, &s, DBUS_TYPE_STRING, &s,
		     DBUS_TYPE_INVALID);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "'ssa{sv}'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("GetContact", DBUS_TYPE_INT32, &i, DBUS_TYPE_INVALID);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "expects signature 's'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("Authorize", DBUS_TYPE_STRING, &s, DBUS_TYPE_STRING, &s,
		     DBUS_TYPE_INVALID);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "'sb'");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("GetPresence", DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "''");
	assert_no_calls();
}
END_TEST

START_TEST(test_unknown_method)
{
	g_autoptr(DBusMessage) reply = call("Frobnicate", DBUS_TYPE_INVALID);
	g_autoptr(DBusMessage) msg = NULL;

	assert_error(reply, DBUS_ERROR_UNKNOWN_METHOD, "Frobnicate");
	g_clear_pointer(&reply, dbus_message_unref);

	msg = new_call("com.example.Nope", "GetPresence");
	reply = send_and_wait(client, msg);
	assert_error(reply, DBUS_ERROR_UNKNOWN_INTERFACE, "com.example.Nope");
	g_clear_pointer(&reply, dbus_message_unref);
	g_clear_pointer(&msg, dbus_message_unref);

	/* The interface is optional in a method call. */
	msg = dbus_message_new_method_call(NAME, PATH, NULL, "GetPresence");
	reply = send_and_wait(client, msg);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "ssi"));
}
END_TEST

/* ---- roster and subscriptions ---------------------------------------------
 */

START_TEST(test_subscription_methods)
{
	g_autoptr(DBusMessage) reply = NULL;
	const char *jid = "Bob@Example.net";
	const char *msg = "hi, it's Alice";
	dbus_bool_t yes = TRUE, no = FALSE;

	reply = call("Subscribe", DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING,
		     &msg, DBUS_TYPE_INVALID);
	assert_ok(reply);
	assert_call("subscribe jid=bob@example.net message=hi, it's Alice");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("Unsubscribe", DBUS_TYPE_STRING, &jid, DBUS_TYPE_INVALID);
	assert_ok(reply);
	assert_call("unsubscribe jid=bob@example.net");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("Authorize", DBUS_TYPE_STRING, &jid, DBUS_TYPE_BOOLEAN,
		     &yes, DBUS_TYPE_INVALID);
	assert_ok(reply);
	assert_call("authorize jid=bob@example.net allow=true");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("Authorize", DBUS_TYPE_STRING, &jid, DBUS_TYPE_BOOLEAN,
		     &no, DBUS_TYPE_INVALID);
	assert_ok(reply);
	assert_call("authorize jid=bob@example.net allow=false");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("RemoveContact", DBUS_TYPE_STRING, &jid,
		     DBUS_TYPE_INVALID);
	assert_ok(reply);
	assert_call("remove_contact jid=bob@example.net");
}
END_TEST

START_TEST(test_subscription_bad_jid)
{
	static const char *const bad[] = {"", "@example.org",
					  "a@b@example.org"};
	const char *ok = "bob@example.net";
	dbus_bool_t yes = TRUE;
	g_autofree char *long_msg = g_strnfill(1025, 'm');

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *jid = bad[i];
		const char *msg = "";
		DBusMessage *r;

		r = call("Subscribe", DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING,
			 &msg, DBUS_TYPE_INVALID);
		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
		dbus_message_unref(r);
		r = call("Unsubscribe", DBUS_TYPE_STRING, &jid,
			 DBUS_TYPE_INVALID);
		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
		dbus_message_unref(r);
		r = call("Authorize", DBUS_TYPE_STRING, &jid, DBUS_TYPE_BOOLEAN,
			 &yes, DBUS_TYPE_INVALID);
		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
		dbus_message_unref(r);
		r = call("RemoveContact", DBUS_TYPE_STRING, &jid,
			 DBUS_TYPE_INVALID);
		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
		dbus_message_unref(r);
		r = call("GetContact", DBUS_TYPE_STRING, &jid,
			 DBUS_TYPE_INVALID);
		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
		dbus_message_unref(r);
	}
	{
		g_autoptr(DBusMessage) r =
			call("Subscribe", DBUS_TYPE_STRING, &ok,
			     DBUS_TYPE_STRING, &long_msg, DBUS_TYPE_INVALID);

		assert_error(r, DBUS_ERROR_INVALID_ARGS, "message");
	}
	assert_no_calls();
}
END_TEST

START_TEST(test_service_errors)
{
	static const struct {
		ServiceError code;
		const char *name;
	} cases[] = {
		{SERVICE_ERROR_INVALID_ARGS, DBUS_ERROR_INVALID_ARGS},
		{SERVICE_ERROR_NOT_CONNECTED,
		 "im.presenced.Presence1.Error.NotConnected"},
		{SERVICE_ERROR_FAILED, DBUS_ERROR_FAILED},
	};
	const char *jid = "bob@example.net";
	const char *msg = "";

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(DBusMessage) reply = NULL;

		fake_service_fail_next(service, cases[i].code,
				       "the reason \xc3\xa9");
		reply = call("Subscribe", DBUS_TYPE_STRING, &jid,
			     DBUS_TYPE_STRING, &msg, DBUS_TYPE_INVALID);
		assert_error(reply, cases[i].name, "the reason \xc3\xa9");
		g_clear_pointer(&reply, dbus_message_unref);

		fake_service_fail_next(service, cases[i].code, "again");
		reply = set_presence("away", "", NULL);
		assert_error(reply, cases[i].name, "again");
	}
}
END_TEST

START_TEST(test_contacts)
{
	static const char *const groups[] = {"Friends", "Work, mostly", NULL};
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *list = NULL;
	DBusMessageIter iter, array, st, res;
	const char *s1, *s2, *s3, *jid = "BOB@example.net";
	dbus_int32_t prio;

	fake_service_roster_item(service, "bob@example.net", "Bob",
				 ROSTER_SUBSCRIPTION_BOTH, groups);
	fake_service_roster_item(service, "carol@example.net", "",
				 ROSTER_SUBSCRIPTION_NONE, NULL);
	fake_service_contact_online(service, "bob@example.net", "phone",
				    PRESENCE_SHOW_AWAY, "walking", 5);
	fake_service_contact_online(service, "bob@example.net", "desk",
				    PRESENCE_SHOW_CHAT, "here", 1);
	fake_service_contact_online(service, "stranger@example.com", "x",
				    PRESENCE_SHOW_DND, "", 0);

	reply = call("ListContacts", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a(sss)"));
	dbus_message_iter_init(reply, &iter);
	list = read_sss_array(&iter);
	ck_assert_str_eq(list, "bob@example.net|chat|here;"
			       "carol@example.net|unknown|;"
			       "stranger@example.com|dnd|");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("GetContact", DBUS_TYPE_STRING, &jid, DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "ssa(sssi)"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_get_basic(&iter, &s1);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &s2);
	ck_assert_str_eq(s1, "chat");
	ck_assert_str_eq(s2, "here");
	dbus_message_iter_next(&iter);
	dbus_message_iter_recurse(&iter, &array);
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &s1);
	ck_assert_str_eq(s1, "desk");
	dbus_message_iter_next(&array);
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &s1);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &s2);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &s3);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &prio);
	ck_assert_str_eq(s1, "phone");
	ck_assert_str_eq(s2, "away");
	ck_assert_str_eq(s3, "walking");
	ck_assert_int_eq(prio, 5);
	ck_assert(!dbus_message_iter_next(&array));
	g_clear_pointer(&reply, dbus_message_unref);

	reply = call("GetRoster", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a(sssas)"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &s1);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &s2);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &s3);
	ck_assert_str_eq(s1, "bob@example.net");
	ck_assert_str_eq(s2, "Bob");
	ck_assert_str_eq(s3, "both");
	dbus_message_iter_next(&st);
	dbus_message_iter_recurse(&st, &res);
	dbus_message_iter_get_basic(&res, &s1);
	ck_assert_str_eq(s1, "Friends");
	dbus_message_iter_next(&res);
	dbus_message_iter_get_basic(&res, &s1);
	ck_assert_str_eq(s1, "Work, mostly");
	ck_assert(!dbus_message_iter_next(&res));
	ck_assert(dbus_message_iter_next(&array));
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &s1);
	ck_assert_str_eq(s1, "carol@example.net");
	/* Strangers are not roster items. */
	ck_assert(!dbus_message_iter_next(&array));
}
END_TEST

START_TEST(test_contact_never_seen)
{
	const char *jid = "nobody@example.org";
	g_autoptr(DBusMessage) reply =
		call("GetContact", DBUS_TYPE_STRING, &jid, DBUS_TYPE_INVALID);
	DBusMessageIter iter, array;
	const char *show, *status;

	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_get_basic(&iter, &show);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &status);
	dbus_message_iter_next(&iter);
	ck_assert_str_eq(show, "offline");
	ck_assert_str_eq(status, "");
	dbus_message_iter_recurse(&iter, &array);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&array),
			 DBUS_TYPE_INVALID);
}
END_TEST

START_TEST(test_subscription_requests)
{
	g_autoptr(DBusMessage) reply = NULL;
	DBusMessage *sig;
	DBusMessageIter iter, array, st;
	const char *jid, *text;

	fake_service_request(service, "eve@example.com", "let me in");
	fake_service_request(service, "frank@example.com", "");
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "SubscriptionRequested"), 2);
	sig = nth_signal(IFACE, "SubscriptionRequested", 0);
	ck_assert(dbus_message_get_args(sig, NULL, DBUS_TYPE_STRING, &jid,
					DBUS_TYPE_STRING, &text,
					DBUS_TYPE_INVALID));
	ck_assert_str_eq(jid, "eve@example.com");
	ck_assert_str_eq(text, "let me in");

	reply = call("ListSubscriptionRequests", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a(ss)"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &jid);
	dbus_message_iter_next(&st);
	dbus_message_iter_get_basic(&st, &text);
	ck_assert_str_eq(jid, "eve@example.com");
	ck_assert_str_eq(text, "let me in");
	ck_assert(dbus_message_iter_next(&array));
	dbus_message_iter_recurse(&array, &st);
	dbus_message_iter_get_basic(&st, &jid);
	ck_assert_str_eq(jid, "frank@example.com");
	ck_assert(!dbus_message_iter_next(&array));
}
END_TEST

/* "jid|name|subscription|pending|group,group" from a (sssbas) iterator. */
static char *read_roster_item(DBusMessageIter *iter)
{
	GString *out = g_string_new(NULL);
	DBusMessageIter groups;
	dbus_bool_t pending;
	const char *str;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(dbus_message_iter_get_arg_type(iter),
				 DBUS_TYPE_STRING);
		dbus_message_iter_get_basic(iter, &str);
		g_string_append_printf(out, "%s|", str);
		dbus_message_iter_next(iter);
	}
	ck_assert_int_eq(dbus_message_iter_get_arg_type(iter),
			 DBUS_TYPE_BOOLEAN);
	dbus_message_iter_get_basic(iter, &pending);
	g_string_append_printf(out, "%s|", pending ? "pending" : "-");
	dbus_message_iter_next(iter);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(iter), DBUS_TYPE_ARRAY);
	dbus_message_iter_recurse(iter, &groups);
	for (bool first = true;
	     dbus_message_iter_get_arg_type(&groups) == DBUS_TYPE_STRING;
	     dbus_message_iter_next(&groups), first = false) {
		dbus_message_iter_get_basic(&groups, &str);
		g_string_append_printf(out, "%s%s", first ? "" : ",", str);
	}
	ck_assert(!dbus_message_iter_next(iter));
	return g_string_free(out, false);
}

static char *read_roster_changed(guint nth)
{
	DBusMessage *sig = nth_signal(IFACE, "RosterChanged", nth);
	DBusMessageIter iter;

	ck_assert(dbus_message_has_signature(sig, "sssbas"));
	dbus_message_iter_init(sig, &iter);
	return read_roster_item(&iter);
}

/* GetSubscription(jid) as "subscription|pending" or "-". */
static char *get_subscription(const char *jid)
{
	g_autoptr(DBusMessage) reply = call("GetSubscription", DBUS_TYPE_STRING,
					    &jid, DBUS_TYPE_INVALID);
	dbus_bool_t pending;
	const char *sub;

	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "sb"));
	ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &sub,
					DBUS_TYPE_BOOLEAN, &pending,
					DBUS_TYPE_INVALID));
	return g_strdup_printf("%s|%s", sub, pending ? "pending" : "-");
}

/* Index of the nth signal named member among all received, to compare
 * the order of different signals. */
static guint signal_index(const char *member, guint nth)
{
	for (guint i = 0; i < signals->len; i++)
		if (dbus_message_is_signal(signals->pdata[i], IFACE, member) &&
		    nth-- == 0)
			return i;
	ck_abort_msg("no signal %s", member);
	return 0;
}

START_TEST(test_get_subscription)
{
	static const char *const bad[] = {"", "@example.org",
					  "a@b@example.org"};
	static const char *const groups[] = {"Friends", "Work", NULL};
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
	g_autofree char *item = NULL;
	DBusMessageIter iter, array, st;

	/* Never seen, and a stranger whose presence we received. */
	s1 = get_subscription("nobody@example.org");
	ck_assert_str_eq(s1, "none|-");
	fake_service_contact_online(service, "stranger@example.com", "x",
				    PRESENCE_SHOW_DND, "", 0);
	s2 = get_subscription("stranger@example.com");
	ck_assert_str_eq(s2, "none|-");

	/* Our request is pending (RFC 6121 "None + Pending Out"); the JID
	 * argument is normalized like everywhere else. */
	fake_service_roster_item_full(service, "bob@example.net", "Bob",
				      ROSTER_SUBSCRIPTION_NONE, true, groups);
	s3 = get_subscription("BOB@Example.NET/phone");
	ck_assert_str_eq(s3, "none|pending");
	fake_service_roster_item_full(service, "bob@example.net", "Bob",
				      ROSTER_SUBSCRIPTION_TO, false, groups);
	s4 = get_subscription("bob@example.net");
	ck_assert_str_eq(s4, "to|-");

	/* GetRosterItems: GetRoster plus pending; strangers left out. */
	fake_service_roster_item_full(service, "carol@example.net", "",
				      ROSTER_SUBSCRIPTION_FROM, true, NULL);
	reply = call("GetRosterItems", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a(sssbas)"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	dbus_message_iter_recurse(&array, &st);
	item = read_roster_item(&st);
	ck_assert_str_eq(item, "bob@example.net|Bob|to|-|Friends,Work");
	g_clear_pointer(&item, g_free);
	ck_assert(dbus_message_iter_next(&array));
	dbus_message_iter_recurse(&array, &st);
	item = read_roster_item(&st);
	ck_assert_str_eq(item, "carol@example.net||from|pending|");
	ck_assert(!dbus_message_iter_next(&array));

	/* Bad JIDs and a wrong signature: InvalidArgs, nothing else. */
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		const char *jid = bad[i];
		g_autoptr(DBusMessage) r =
			call("GetSubscription", DBUS_TYPE_STRING, &jid,
			     DBUS_TYPE_INVALID);

		assert_error(r, DBUS_ERROR_INVALID_ARGS, "jid");
	}
	{
		dbus_int32_t n = 1;
		g_autoptr(DBusMessage) r =
			call("GetSubscription", DBUS_TYPE_INT32, &n,
			     DBUS_TYPE_INVALID);

		assert_error(r, DBUS_ERROR_INVALID_ARGS, "s");
	}
	assert_no_calls();
}
END_TEST

START_TEST(test_roster_changed)
{
	static const char *const groups[] = {"Friends", "Work", NULL};
	static const char *const reordered[] = {"Work", "Friends", NULL};
	static const char *const fewer[] = {"Work", NULL};
	g_autofree char *r0 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL;
	g_autofree char *r4 = NULL, *r5 = NULL;
	DBusMessage *sig;
	const char *jid, *show, *status;

	/* unknown → requested: a new item with our request pending. The
	 * item comes before the presence it causes. */
	fake_service_roster_item_full(service, "bob@example.net", "",
				      ROSTER_SUBSCRIPTION_NONE, true, NULL);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 1);
	r0 = read_roster_changed(0);
	ck_assert_str_eq(r0, "bob@example.net||none|pending|");
	ck_assert_uint_eq(count_signals(IFACE, "PresenceChanged"), 1);
	ck_assert_uint_lt(signal_index("RosterChanged", 0),
			  signal_index("PresenceChanged", 0));

	/* The same push again (servers repeat them): no signal. */
	fake_service_roster_item_full(service, "bob@example.net", "",
				      ROSTER_SUBSCRIPTION_NONE, true, NULL);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 1);

	/* requested → subscribed. */
	fake_service_roster_item_full(service, "bob@example.net", "",
				      ROSTER_SUBSCRIPTION_TO, false, NULL);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 2);
	r1 = read_roster_changed(1);
	ck_assert_str_eq(r1, "bob@example.net||to|-|");

	/* subscribed → available is PresenceChanged's business alone. */
	fake_service_contact_online(service, "bob@example.net", "phone",
				    PRESENCE_SHOW_AVAILABLE, "", 0);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 2);
	sig = nth_signal(IFACE, "PresenceChanged",
			 count_signals(IFACE, "PresenceChanged") - 1);
	ck_assert(dbus_message_get_args(
		sig, NULL, DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING, &show,
		DBUS_TYPE_STRING, &status, DBUS_TYPE_INVALID));
	ck_assert_str_eq(jid, "bob@example.net");
	ck_assert_str_eq(show, "available");

	/* Name and groups are changes; the same groups reordered are not. */
	fake_service_roster_item_full(service, "bob@example.net", "Bob",
				      ROSTER_SUBSCRIPTION_TO, false, groups);
	fake_service_roster_item_full(service, "bob@example.net", "Bob",
				      ROSTER_SUBSCRIPTION_TO, false, reordered);
	fake_service_roster_item_full(service, "bob@example.net", "Bob",
				      ROSTER_SUBSCRIPTION_TO, false, fewer);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 4);
	r2 = read_roster_changed(2);
	ck_assert_str_eq(r2, "bob@example.net|Bob|to|-|Friends,Work");
	r3 = read_roster_changed(3);
	ck_assert_str_eq(r3, "bob@example.net|Bob|to|-|Work");

	/* Removed: RFC 6121's "remove"; removing it again changes nothing,
	 * nor does removing a JID that never was an item. */
	fake_service_roster_remove(service, "bob@example.net");
	fake_service_roster_remove(service, "bob@example.net");
	fake_service_contact_online(service, "eve@example.com", "x",
				    PRESENCE_SHOW_AWAY, "", 0);
	fake_service_roster_remove(service, "eve@example.com");
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "RosterChanged"), 5);
	r4 = read_roster_changed(4);
	ck_assert_str_eq(r4, "bob@example.net||remove|-|");
	r5 = get_subscription("bob@example.net");
	ck_assert_str_eq(r5, "none|-");
}
END_TEST

/* ---- signals --------------------------------------------------------------
 */

START_TEST(test_presence_changed_batched)
{
	g_autofree char *batch = NULL;
	DBusMessage *sig;
	const char *jid, *show, *status;

	/* Four changes of three contacts in one main-loop iteration: one
	 * PresenceChanged per contact, with its state when sent, in the
	 * order of the first change (CONTRACT.md additions v3). */
	fake_service_contact_online(service, "a@example.org", "r",
				    PRESENCE_SHOW_AWAY, "first", 0);
	fake_service_contact_online(service, "b@example.org", "r",
				    PRESENCE_SHOW_DND, "meeting", 0);
	fake_service_contact_online(service, "a@example.org", "r",
				    PRESENCE_SHOW_CHAT, "second", 0);
	fake_service_contact_offline(service, "c@example.org", NULL, "bye");
	/* No change: no signal. */
	fake_service_contact_online(service, "b@example.org", "r",
				    PRESENCE_SHOW_DND, "meeting", 0);
	settle();

	ck_assert_uint_eq(count_signals(IFACE, "PresenceChanged"), 3);
	sig = nth_signal(IFACE, "PresenceChanged", 0);
	ck_assert(dbus_message_get_args(
		sig, NULL, DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING, &show,
		DBUS_TYPE_STRING, &status, DBUS_TYPE_INVALID));
	ck_assert_str_eq(jid, "a@example.org");
	ck_assert_str_eq(show, "chat");
	ck_assert_str_eq(status, "second");

	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 1);
	batch = read_contacts_changed(nth_signal(IFACE, "ContactsChanged", 0));
	ck_assert_str_eq(batch, "a@example.org|chat|second;"
				"b@example.org|dnd|meeting;"
				"c@example.org|offline|bye");

	/* A later iteration gets its own batch. */
	g_clear_pointer(&batch, g_free);
	fake_service_contact_offline(service, "a@example.org", "r", "gone");
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 2);
	batch = read_contacts_changed(nth_signal(IFACE, "ContactsChanged", 1));
	ck_assert_str_eq(batch, "a@example.org|offline|gone");
}
END_TEST

/*
 * The server's input drained: the batch goes then, not at the next idle,
 * so a change after it is a batch of its own.
 */
START_TEST(test_input_drained_ends_batch)
{
	fake_service_contact_online(service, "a@example.org", "r",
				    PRESENCE_SHOW_AWAY, "first", 0);
	fake_service_input_drained(service);
	fake_service_contact_online(service, "a@example.org", "r",
				    PRESENCE_SHOW_CHAT, "second", 0);
	/* Nothing pending: nothing sent. */
	fake_service_input_drained(service);
	fake_service_input_drained(service);
	settle();

	ck_assert_uint_eq(count_signals(IFACE, "PresenceChanged"), 2);
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 2);
	for (unsigned i = 0; i < 2; i++) {
		DBusMessage *sig = nth_signal(IFACE, "PresenceChanged", i);
		const char *jid, *show, *status;

		ck_assert(dbus_message_get_args(
			sig, NULL, DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING,
			&show, DBUS_TYPE_STRING, &status, DBUS_TYPE_INVALID));
		ck_assert_str_eq(status, i == 0 ? "first" : "second");
	}
}
END_TEST

/* Every method call ends with the service's output flushed, after the
 * handler ran (its stanza is on the wire before the reply goes out). */
START_TEST(test_call_flushes_output)
{
	g_autoptr(DBusMessage) reply = NULL;
	unsigned at = 0;

	ck_assert_uint_eq(fake_service_get_flushes(service, NULL), 0);
	reply = set_presence("dnd", "busy", NULL);
	assert_ok(reply);
	ck_assert_uint_eq(fake_service_get_flushes(service, &at), 1);
	ck_assert_uint_eq(at, 1); /* after set_presence was called */
	assert_call("set_presence show=dnd status=busy priority=unset:0 "
		    "nick=(null) to=(null)");
	g_clear_pointer(&reply, dbus_message_unref);
	reply = call("GetPresence", DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert_uint_eq(fake_service_get_flushes(service, NULL), 2);
}
END_TEST

START_TEST(test_contacts_changed_state_at_send)
{
	g_autofree char *batch = NULL;
	static const char *const none[] = {NULL};

	/* Reported as away, but chat by the time the batch goes out; a
	 * contact no longer in the table keeps what was last reported. */
	fake_service_roster_item(service, "x@example.org", "X",
				 ROSTER_SUBSCRIPTION_BOTH, none);
	fake_service_emit_presence(service, "x@example.org", PRESENCE_SHOW_AWAY,
				   "stale");
	fake_service_contact_online(service, "x@example.org", "r",
				    PRESENCE_SHOW_CHAT, "fresh", 0);
	fake_service_emit_presence(service, "gone@example.org",
				   PRESENCE_SHOW_OFFLINE, "removed");
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 1);
	batch = read_contacts_changed(nth_signal(IFACE, "ContactsChanged", 0));
	ck_assert_str_eq(batch, "gone@example.org|offline|removed;"
				"x@example.org|chat|fresh");
}
END_TEST

START_TEST(test_invalid_utf8_never_reaches_bus)
{
	DBusMessage *sig;
	const char *jid, *show, *status;

	fake_service_emit_presence(service, "u@example.org", PRESENCE_SHOW_AWAY,
				   "bad \xff\xfe text");
	fake_service_request(service, "v@example.org", "\xc0\xaf");
	settle();
	sig = nth_signal(IFACE, "PresenceChanged", 0);
	ck_assert(dbus_message_get_args(
		sig, NULL, DBUS_TYPE_STRING, &jid, DBUS_TYPE_STRING, &show,
		DBUS_TYPE_STRING, &status, DBUS_TYPE_INVALID));
	ck_assert(g_str_has_prefix(status, "bad "));
	ck_assert(g_str_has_suffix(status, " text"));
	ck_assert_uint_eq(count_signals(IFACE, "SubscriptionRequested"), 1);
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 1);
}
END_TEST

/* ---- properties ------------------------------------------------------------
 */

static DBusMessage *get_property(const char *iface, const char *name)
{
	g_autoptr(DBusMessage) msg = new_call(PROPS, "Get");

	ck_assert(dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					   DBUS_TYPE_STRING, &name,
					   DBUS_TYPE_INVALID));
	return send_and_wait(client, msg);
}

static char *get_string_property(const char *name)
{
	g_autoptr(DBusMessage) reply = get_property(IFACE, name);
	DBusMessageIter iter, var;
	const char *value;

	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "v"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&var),
			 DBUS_TYPE_STRING);
	dbus_message_iter_get_basic(&var, &value);
	return g_strdup(value);
}

START_TEST(test_properties_get)
{
	g_autofree char *state = NULL, *reason = NULL, *message = NULL;
	g_autofree char *jid = NULL, *show = NULL;
	g_autoptr(DBusMessage) reply = NULL;
	DBusMessageIter iter, var;
	dbus_bool_t ready;
	const char *cause = NULL;

	fake_service_set_state(service, SERVICE_STATE_RECONNECTING, "network",
			       "Lost the connection to example.org");
	state = get_string_property("State");
	reason = get_string_property("StateReason");
	message = get_string_property("StateMessage");
	jid = get_string_property("Jid");
	show = get_string_property("Show");
	ck_assert_str_eq(state, "reconnecting");
	ck_assert_str_eq(reason, "network");
	ck_assert_str_eq(message, "Lost the connection to example.org");
	ck_assert_str_eq(jid, "alice@example.org");
	ck_assert_str_eq(show, "available");

	reply = get_property(IFACE, "RosterReady");
	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&var),
			 DBUS_TYPE_BOOLEAN);
	dbus_message_iter_get_basic(&var, &ready);
	ck_assert(!ready);
	g_clear_pointer(&reply, dbus_message_unref);

	reply = get_property(IFACE, "Priority");
	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&var), DBUS_TYPE_INT32);
	g_clear_pointer(&reply, dbus_message_unref);

	reply = get_property(IFACE, "PresenceCause");
	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&var),
			 DBUS_TYPE_STRING);
	dbus_message_iter_get_basic(&var, &cause);
	ck_assert_str_eq(cause, "user");
	g_clear_pointer(&reply, dbus_message_unref);

	reply = get_property(IFACE, "Password");
	assert_error(reply, DBUS_ERROR_UNKNOWN_PROPERTY, "Password");
	g_clear_pointer(&reply, dbus_message_unref);
	reply = get_property("com.example.Nope", "State");
	assert_error(reply, DBUS_ERROR_UNKNOWN_INTERFACE, "com.example.Nope");
}
END_TEST

START_TEST(test_properties_get_all)
{
	g_autoptr(DBusMessage) msg = new_call(PROPS, "GetAll");
	g_autoptr(DBusMessage) reply = NULL;
	g_autoptr(GString) names = g_string_new(NULL);
	const char *iface = IFACE;
	DBusMessageIter iter, dict, entry;

	dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
				 DBUS_TYPE_INVALID);
	reply = send_and_wait(client, msg);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a{sv}"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *name;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &name);
		g_string_append_printf(names, "%s ", name);
		dbus_message_iter_next(&dict);
	}
	ck_assert_str_eq(names->str, "State StateReason StateMessage "
				     "RosterReady Jid Show Status Priority "
				     "PresenceCause Authentication Blocked ");
}
END_TEST

START_TEST(test_properties_set_read_only)
{
	g_autoptr(DBusMessage) msg = new_call(PROPS, "Set");
	g_autoptr(DBusMessage) reply = NULL;
	const char *iface = IFACE, *name = "Show", *value = "away";
	DBusMessageIter iter, var;

	dbus_message_iter_init_append(msg, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &iface);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_VARIANT, "s", &var);
	dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &value);
	dbus_message_iter_close_container(&iter, &var);
	reply = send_and_wait(client, msg);
	assert_error(reply, DBUS_ERROR_PROPERTY_READ_ONLY, "Show");
	assert_no_calls();
}
END_TEST

/* Names of the changed properties of a PropertiesChanged, space-joined. */
static char *changed_names(DBusMessage *sig, const char **ret_state)
{
	GString *names = g_string_new(NULL);
	DBusMessageIter iter, dict, entry, var, inval;
	const char *iface;

	ck_assert(dbus_message_has_signature(sig, "sa{sv}as"));
	dbus_message_iter_init(sig, &iter);
	dbus_message_iter_get_basic(&iter, &iface);
	ck_assert_str_eq(iface, IFACE);
	dbus_message_iter_next(&iter);
	dbus_message_iter_recurse(&iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *name;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &name);
		if (ret_state && strcmp(name, "State") == 0) {
			dbus_message_iter_next(&entry);
			dbus_message_iter_recurse(&entry, &var);
			dbus_message_iter_get_basic(&var, ret_state);
		}
		g_string_append_printf(names, "%s%s", names->len ? " " : "",
				       name);
		dbus_message_iter_next(&dict);
	}
	dbus_message_iter_next(&iter);
	dbus_message_iter_recurse(&iter, &inval);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&inval),
			 DBUS_TYPE_INVALID);
	return g_string_free(names, FALSE);
}

START_TEST(test_properties_changed_coalesced)
{
	g_autofree char *names = NULL;
	const char *state = NULL;

	/* Three changes, twice over, in one iteration: one signal with the
	 * final values. */
	fake_service_set_state(service, SERVICE_STATE_CONNECTING, "", "");
	fake_service_set_state(service, SERVICE_STATE_ONLINE, "", "");
	settle();
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 1);
	names = changed_names(nth_signal(PROPS, "PropertiesChanged", 0),
			      &state);
	ck_assert_str_eq(names, "State StateReason StateMessage");
	ck_assert_str_eq(state, "online");

	/* SetPresence: Show, Status and Priority in one signal. */
	g_clear_pointer(&names, g_free);
	{
		dbus_int32_t prio = 9;
		g_autoptr(DBusMessage) reply =
			set_presence("xa", "zzz", "priority", 'i', &prio, NULL);

		assert_ok(reply);
	}
	settle();
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 2);
	names = changed_names(nth_signal(PROPS, "PropertiesChanged", 1), NULL);
	ck_assert_str_eq(names, "Show Status Priority");
}
END_TEST

START_TEST(test_properties_changed_flushed_first)
{
	DBusMessage *first, *second;

	/* A property change then a signal in the same iteration: the
	 * PropertiesChanged goes out first, so nobody sees a PresenceChanged
	 * "before" the state that caused it. */
	fake_service_set_roster_ready(service, true);
	fake_service_emit_presence(service, "a@example.org", PRESENCE_SHOW_AWAY,
				   "");
	settle();
	ck_assert_uint_ge(signals->len, 2);
	first = signals->pdata[0];
	second = signals->pdata[1];
	ck_assert(dbus_message_is_signal(first, PROPS, "PropertiesChanged"));
	ck_assert(dbus_message_is_signal(second, IFACE, "PresenceChanged"));
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 1);
}
END_TEST

START_TEST(test_property_change_before_reply)
{
	g_autoptr(DBusMessage) msg = new_call(IFACE, "SetPresence");
	g_autoptr(DBusPendingCall) pending = NULL;
	g_autoptr(DBusMessage) reply = NULL;
	const char *show = "dnd", *status = "";
	DBusMessageIter iter, dict;

	dbus_message_iter_init_append(msg, &iter);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &show);
	dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &status);
	dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_message_iter_close_container(&iter, &dict);
	ck_assert(
		dbus_connection_send_with_reply(client, msg, &pending, 10000));
	/* The reply must not overtake the PropertiesChanged: when the caller
	 * sees its call done, the Show property change has been sent. */
	while (!dbus_pending_call_get_completed(pending) &&
	       count_signals(PROPS, "PropertiesChanged") == 0)
		g_main_context_iteration(NULL, TRUE);
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 1);
	while (!dbus_pending_call_get_completed(pending))
		g_main_context_iteration(NULL, TRUE);
	reply = dbus_pending_call_steal_reply(pending);
	assert_ok(reply);
}
END_TEST

/* ---- introspection --------------------------------------------------------
 */

static char *introspect(const char *path)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		NAME, path, "org.freedesktop.DBus.Introspectable",
		"Introspect");
	g_autoptr(DBusMessage) reply = send_and_wait(client, msg);
	const char *xml;

	assert_ok(reply);
	ck_assert(dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &xml,
					DBUS_TYPE_INVALID));
	return g_strdup(xml);
}

START_TEST(test_introspect)
{
	g_autofree char *xml = introspect(PATH);
	const char *start = strstr(presence1_xml, "<interface");
	const char *end = strstr(presence1_xml, "</interface>");
	g_autofree char *block = g_strndup(start, end - start);
	xmlDocPtr doc;

	/* The installed interface description, verbatim. */
	ck_assert_ptr_nonnull(strstr(xml, block));
	ck_assert_ptr_nonnull(strstr(
		xml, "<interface name=\"org.freedesktop.DBus.Properties\">"));
	ck_assert_ptr_nonnull(strstr(
		xml,
		"<interface name=\"org.freedesktop.DBus.Introspectable\">"));
	doc = xmlReadMemory(xml, (int)strlen(xml), "introspect.xml", NULL,
			    XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	xmlFreeDoc(doc);

	/* Parents lead to the object. */
	g_free(xml);
	xml = introspect("/");
	ck_assert_ptr_nonnull(strstr(xml, "<node name=\"im\"/>"));
	g_free(xml);
	xml = introspect("/im/presenced");
	ck_assert_ptr_nonnull(strstr(xml, "<node name=\"Presence1\"/>"));
}
END_TEST

/* ---- life cycle -----------------------------------------------------------
 */

START_TEST(test_name_taken)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Service) other = fake_service_new();
	BusPresence *second = bus_presence_new(other, NULL, NULL, &error);

	ck_assert_ptr_null(second);
	ck_assert_ptr_nonnull(error);
	ck_assert(g_error_matches(error, BUS_PRESENCE_ERROR,
				  BUS_PRESENCE_ERROR_NAME_TAKEN));
	ck_assert_str_eq(error->message, "another presenced already owns "
					 "im.presenced.Presence1 on this bus");
	/* The first one still answers. */
	{
		g_autoptr(DBusMessage) reply =
			call("GetPresence", DBUS_TYPE_INVALID);

		assert_ok(reply);
	}
}
END_TEST

START_TEST(test_name_released_on_free)
{
	g_autoptr(GError) error = NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;

	dbus_bus_add_match(client,
			   "type='signal',sender='" DBUS_SERVICE_DBUS "',"
			   "member='NameOwnerChanged',arg0='" NAME "'",
			   &err);
	ck_assert(!dbus_error_is_set(&err));
	g_clear_pointer(&bus, bus_presence_free);
	/* Closing the connection gives the name up. */
	while (count_signals(DBUS_INTERFACE_DBUS, "NameOwnerChanged") == 0)
		g_main_context_iteration(NULL, TRUE);
	ck_assert(!dbus_bus_name_has_owner(client, NAME, &err));
	bus = bus_presence_new(service, on_disconnect, NULL, &error);
	ck_assert_msg(bus, "%s", error ? error->message : "?");
	ck_assert(dbus_bus_name_has_owner(client, NAME, &err));
}
END_TEST

START_TEST(test_free_flushes_pending)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autofree char *batch = NULL;

	dbus_bus_add_match(client,
			   "type='signal',sender='" DBUS_SERVICE_DBUS "',"
			   "member='NameOwnerChanged',arg0='" NAME "'",
			   &err);
	ck_assert(!dbus_error_is_set(&err));
	/* Changes made just before shutdown, with no loop iteration left:
	 * still announced before the name goes. */
	fake_service_set_state(service, SERVICE_STATE_OFFLINE, "requested",
			       "Disconnected on request");
	fake_service_contact_online(service, "a@example.org", "r",
				    PRESENCE_SHOW_AWAY, "x", 0);
	g_clear_pointer(&bus, bus_presence_free);
	while (count_signals(DBUS_INTERFACE_DBUS, "NameOwnerChanged") == 0)
		g_main_context_iteration(NULL, TRUE);
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 1);
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 1);
	batch = read_contacts_changed(nth_signal(IFACE, "ContactsChanged", 0));
	ck_assert_str_eq(batch, "a@example.org|away|x");
}
END_TEST

/* ---- the main loop glue ---------------------------------------------------
 */

START_TEST(test_call_timeout)
{
	g_autoptr(DBusMessage) msg = NULL;
	g_autoptr(DBusPendingCall) pending = NULL;
	g_autoptr(DBusMessage) reply = NULL;
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	DBusConnection *silent;
	gint64 start;

	/* A peer that never reads its messages: only the DBusTimeout, run
	 * by a GLib timeout source, can complete the call. */
	silent = dbus_connection_open_private(suite_bus.address, &err);
	ck_assert_msg(silent, "%s", err.message);
	ck_assert(dbus_bus_register(silent, &err));
	msg = dbus_message_new_method_call(dbus_bus_get_unique_name(silent),
					   "/x", "x.y", "Z");
	start = g_get_monotonic_time();
	ck_assert(dbus_connection_send_with_reply(client, msg, &pending, 200));
	while (!dbus_pending_call_get_completed(pending))
		g_main_context_iteration(NULL, TRUE);
	reply = dbus_pending_call_steal_reply(pending);
	ck_assert_str_eq(dbus_message_get_error_name(reply),
			 DBUS_ERROR_NO_REPLY);
	ck_assert_int_ge(g_get_monotonic_time() - start, 150 * 1000);
	dbus_connection_close(silent);
	dbus_connection_unref(silent);
}
END_TEST

START_TEST(test_large_messages)
{
	/* Several MB each way: the write watch is enabled and disabled as
	 * the socket fills and drains, and reads span many wakeups. */
	g_autofree char *big = g_strnfill(4 * 1024 * 1024, 'a');
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *list = NULL;
	DBusMessageIter iter;

	reply = call("GetContact", DBUS_TYPE_STRING, &big, DBUS_TYPE_INVALID);
	assert_error(reply, DBUS_ERROR_INVALID_ARGS, "jid");
	g_clear_pointer(&reply, dbus_message_unref);

	for (int i = 0; i < 1000; i++) {
		g_autofree char *jid = g_strdup_printf("c%04d@example.org", i);

		fake_service_contact_online(service, jid, "r",
					    PRESENCE_SHOW_AWAY,
					    big + 4 * 1024 * 1024 - 1000, 0);
	}
	reply = call("ListContacts", DBUS_TYPE_INVALID);
	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	list = read_sss_array(&iter);
	ck_assert_uint_eq(strlen(list), 1000 * (17 + 1 + 4 + 1 + 1000) + 999);
	settle();
	ck_assert_uint_eq(count_signals(IFACE, "PresenceChanged"), 1000);
	ck_assert_uint_eq(count_signals(IFACE, "ContactsChanged"), 1);
}
END_TEST

START_TEST(test_no_bus)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Service) other = fake_service_new();
	g_autofree char *saved = g_strdup(g_getenv("DBUS_SESSION_BUS_ADDRESS"));
	BusPresence *b;

	/* libdbus caches the session bus address: start afresh (there is
	 * no connection left in this process). */
	dbus_shutdown();
	g_setenv("DBUS_SESSION_BUS_ADDRESS",
		 "unix:path=/nonexistent/presenced-test", TRUE);
	b = bus_presence_new(other, NULL, NULL, &error);
	g_setenv("DBUS_SESSION_BUS_ADDRESS", saved ? saved : "", TRUE);
	dbus_shutdown();
	ck_assert_ptr_null(b);
	ck_assert(g_error_matches(error, BUS_PRESENCE_ERROR,
				  BUS_PRESENCE_ERROR_CONNECT));
}
END_TEST

START_TEST(test_disconnect)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Service) other = fake_service_new();
	g_autofree char *saved = g_strdup(g_getenv("DBUS_SESSION_BUS_ADDRESS"));
	TestBus own = {0};
	BusPresence *b;

	ck_assert(test_bus_start(&own));
	dbus_shutdown();
	g_setenv("DBUS_SESSION_BUS_ADDRESS", own.address, TRUE);
	disconnects = 0;
	b = bus_presence_new(other, on_disconnect, NULL, &error);
	g_setenv("DBUS_SESSION_BUS_ADDRESS", saved ? saved : "", TRUE);
	ck_assert_msg(b, "%s", error ? error->message : "?");

	test_bus_stop(&own);
	while (disconnects == 0)
		g_main_context_iteration(NULL, TRUE);
	ck_assert_int_eq(disconnects, 1);
	bus_presence_free(b);
	while (g_main_context_iteration(NULL, FALSE))
		;
	dbus_shutdown();
}
END_TEST

/* ---- issue #14: blocking and contacts' clients -------------------------- */

/* Block/Unblock: the JID normalized, a full JID refused before the
 * service sees it, NotSupported mapped. */
START_TEST(test_block_unblock)
{
	g_autoptr(DBusMessage) r1 = NULL;
	g_autoptr(DBusMessage) r2 = NULL;
	g_autoptr(DBusMessage) r3 = NULL;
	g_autoptr(DBusMessage) r4 = NULL;
	g_autoptr(DBusMessage) r5 = NULL;
	const char *jid = "Troll@Example.COM", *full = "troll@example.com/x";
	const char *domain = "spam.example", *empty = "";

	r1 = call("Block", DBUS_TYPE_STRING, &jid, DBUS_TYPE_INVALID);
	assert_ok(r1);
	assert_call("block jid=troll@example.com");
	r2 = call("Unblock", DBUS_TYPE_STRING, &domain, DBUS_TYPE_INVALID);
	assert_ok(r2);
	assert_call("unblock jid=spam.example");
	r3 = call("Block", DBUS_TYPE_STRING, &full, DBUS_TYPE_INVALID);
	assert_error(r3, DBUS_ERROR_INVALID_ARGS, "bare JID or domain");
	r4 = call("Block", DBUS_TYPE_STRING, &empty, DBUS_TYPE_INVALID);
	assert_error(r4, DBUS_ERROR_INVALID_ARGS, "jid");
	assert_no_calls();
	fake_service_fail_next(service, SERVICE_ERROR_NOT_SUPPORTED,
			       "The server does not offer blocking");
	r5 = call("Block", DBUS_TYPE_STRING, &jid, DBUS_TYPE_INVALID);
	assert_error(r5, DBUS_ERROR_NOT_SUPPORTED, "blocking");
}
END_TEST

static char *get_blocked(void)
{
	g_autoptr(DBusMessage) reply = get_property(IFACE, "Blocked");
	GString *out = g_string_new(NULL);
	DBusMessageIter iter, var, array;

	assert_ok(reply);
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &var);
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&var), DBUS_TYPE_ARRAY);
	dbus_message_iter_recurse(&var, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRING) {
		const char *s;

		dbus_message_iter_get_basic(&array, &s);
		g_string_append_printf(out, "%s%s", out->len ? " " : "", s);
		dbus_message_iter_next(&array);
	}
	return g_string_free(out, FALSE);
}

/* Blocked: an as, with PropertiesChanged when the list changes. */
START_TEST(test_blocked_property)
{
	static const char *const items[] = {"spam.example", "troll@example.com",
					    NULL};
	g_autofree char *before = get_blocked();
	g_autofree char *after = NULL;
	g_autofree char *names = NULL;

	ck_assert_str_eq(before, "");
	fake_service_set_blocked(service, items);
	settle();
	ck_assert_uint_eq(count_signals(PROPS, "PropertiesChanged"), 1);
	names = changed_names(nth_signal(PROPS, "PropertiesChanged", 0), NULL);
	ck_assert_str_eq(names, "Blocked");
	after = get_blocked();
	ck_assert_str_eq(after, "spam.example troll@example.com");
}
END_TEST

/* GetContactClients(s) → a(sssas), the JID normalized first. */
START_TEST(test_get_contact_clients)
{
	static const char *const features[] = {"jabber:iq:last",
					       "urn:xmpp:ping", NULL};
	g_autoptr(DBusMessage) reply = NULL;
	g_autoptr(DBusMessage) bad = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	const char *jid = "BOB@example.net", *invalid = "@x";
	DBusMessageIter iter, array, st, strv;

	fake_service_add_client(service, "bob@example.net", "phone", "phone",
				"Conversations", features);
	fake_service_add_client(service, "bob@example.net", "desk", "", "",
				(const char *const[]){NULL});
	reply = call("GetContactClients", DBUS_TYPE_STRING, &jid,
		     DBUS_TYPE_INVALID);
	assert_ok(reply);
	ck_assert(dbus_message_has_signature(reply, "a(sssas)"));
	dbus_message_iter_init(reply, &iter);
	dbus_message_iter_recurse(&iter, &array);
	while (dbus_message_iter_get_arg_type(&array) == DBUS_TYPE_STRUCT) {
		const char *s;

		dbus_message_iter_recurse(&array, &st);
		for (int i = 0; i < 3; i++) {
			dbus_message_iter_get_basic(&st, &s);
			g_string_append_printf(out, "%s|", s);
			dbus_message_iter_next(&st);
		}
		dbus_message_iter_recurse(&st, &strv);
		while (dbus_message_iter_get_arg_type(&strv) ==
		       DBUS_TYPE_STRING) {
			dbus_message_iter_get_basic(&strv, &s);
			g_string_append_printf(out, "%s,", s);
			dbus_message_iter_next(&strv);
		}
		g_string_append_c(out, ';');
		dbus_message_iter_next(&array);
	}
	ck_assert_str_eq(out->str, "phone|phone|Conversations|jabber:iq:last,"
				   "urn:xmpp:ping,;desk|||;");
	bad = call("GetContactClients", DBUS_TYPE_STRING, &invalid,
		   DBUS_TYPE_INVALID);
	assert_error(bad, DBUS_ERROR_INVALID_ARGS, "jid");
}
END_TEST

int main(void)
{
	static const CheckFixture with_bus = {setup, teardown};
	const CheckCase cases[] = {
		{"set-presence", test_set_presence, .fixture = &with_bus},
		{"set-presence", test_set_presence_every_show},
		{"set-presence", test_set_presence_directed},
		{"set-presence", test_set_presence_limits},
		{"validation", test_set_presence_bad_show,
		 .fixture = &with_bus},
		{"validation", test_set_presence_bad_priority},
		{"validation", test_set_presence_status_too_long},
		{"validation", test_set_presence_bad_options},
		{"validation", test_wrong_signature},
		{"validation", test_unknown_method},
		{"validation", test_subscription_bad_jid},
		{"errors", test_service_errors, .fixture = &with_bus},
		{"contacts", test_contacts, .fixture = &with_bus},
		{"contacts", test_contact_never_seen},
		{"contacts", test_subscription_methods},
		{"contacts", test_subscription_requests},
		{"contacts", test_get_subscription},
		{"caps-blocking", test_block_unblock, .fixture = &with_bus},
		{"caps-blocking", test_blocked_property},
		{"caps-blocking", test_get_contact_clients},
		{"signals", test_presence_changed_batched,
		 .fixture = &with_bus},
		{"signals", test_contacts_changed_state_at_send},
		{"signals", test_input_drained_ends_batch},
		{"signals", test_call_flushes_output},
		{"signals", test_invalid_utf8_never_reaches_bus},
		{"signals", test_roster_changed},
		{"properties", test_properties_get, .fixture = &with_bus},
		{"properties", test_properties_get_all},
		{"properties", test_properties_set_read_only},
		{"properties", test_properties_changed_coalesced},
		{"properties", test_properties_changed_flushed_first},
		{"properties", test_property_change_before_reply},
		{"introspection", test_introspect, .fixture = &with_bus},
		{"life-cycle", test_name_taken, .fixture = &with_bus},
		{"life-cycle", test_name_released_on_free},
		{"life-cycle", test_free_flushes_pending},
		{"mainloop", test_call_timeout, .fixture = &with_bus},
		{"mainloop", test_large_messages},
		/* No fixture: these need a process with no connection. */
		{"bus-loss", test_no_bus},
		{"bus-loss", test_disconnect},
	};
	int status;

	/* One bus for the whole run: libdbus caches the session address. */
	if (!suite_setup()) {
		printf("Bail out! cannot start a private dbus-daemon\n");
		return 1;
	}
	status =
		check_suite_run("bus-presence", cases, G_N_ELEMENTS(cases), 30);
	suite_teardown();
	return status;
}
