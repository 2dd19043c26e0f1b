/* SPDX-License-Identifier: MIT */
/*
 * daemon/service.c without a server: SetPresence validation (nothing
 * changes on error), the desired presence kept until online, offline /
 * reconnect state handling against a refused loopback port, the back-off
 * curve, and the argument checks of the subscription calls. The retry rule
 * (retry-policy.c): what stops retrying, the attempts a minute, and that
 * nothing a server says before TLS ends the attempts.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "daemon/retry-policy.h"
#include "daemon/service.h"
#include "tests/support/check-suite.h"

typedef struct {
	GMainLoop *loop;
	GPtrArray *props; /* names, in order */
	ServiceState quit_on_state;
	Service *service;
} Watch;

static void on_property(void *user_data, const char *name)
{
	Watch *w = user_data;

	g_ptr_array_add(w->props, g_strdup(name));
	if (w->loop && strcmp(name, "State") == 0 &&
	    service_get_state(w->service) == w->quit_on_state)
		g_main_loop_quit(w->loop);
}

static const ServiceObserver observer = {
	.property_changed = on_property,
};

static unsigned count_prop(const Watch *w, const char *name)
{
	unsigned n = 0;

	for (guint i = 0; i < w->props->len; i++)
		n += strcmp(g_ptr_array_index(w->props, i), name) == 0;
	return n;
}

static guint16 closed_port(void)
{
	g_autoptr(GSocketListener) l = g_socket_listener_new();
	g_autoptr(GInetAddress) lo =
		g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) eff = NULL;
	guint16 port;

	ck_assert(g_socket_listener_add_address(l, addr, G_SOCKET_TYPE_STREAM,
						G_SOCKET_PROTOCOL_TCP, NULL,
						&eff, NULL));
	port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(eff));
	g_socket_listener_close(l);
	return port;
}

static Settings *make_config(guint16 port)
{
	Settings *c = g_new0(Settings, 1);

	c->path = g_strdup("/nonexistent/presenced.conf");
	c->jid = g_strdup("alice@example.org");
	c->password = g_strdup("hunter2-secret");
	c->server = g_strdup("127.0.0.1");
	c->port = port;
	c->show = PRESENCE_SHOW_AVAILABLE;
	c->status = g_strdup("");
	c->priority = -1;
	c->away_on_lock = true;
	return c;
}

static Service *make_service(Watch *w, guint16 port)
{
	Service *s = service_new(make_config(port));

	w->props = g_ptr_array_new_with_free_func(g_free);
	w->service = s;
	service_set_observer(s, &observer, w);
	return s;
}

static void watch_clear(Watch *w)
{
	g_ptr_array_unref(w->props);
}

/* ---- back-off ----------------------------------------------------------- */

START_TEST(test_backoff)
{
	int64_t prev = 0;

	ck_assert_int_eq(service_backoff_delay(0, 0), G_USEC_PER_SEC);
	ck_assert_int_lt(service_backoff_delay(0, UINT32_MAX),
			 2 * G_USEC_PER_SEC);
	ck_assert_int_ge(service_backoff_delay(0, UINT32_MAX), G_USEC_PER_SEC);
	ck_assert_int_eq(service_backoff_delay(1, 0), 2 * G_USEC_PER_SEC);
	ck_assert_int_eq(service_backoff_delay(3, 0), 8 * G_USEC_PER_SEC);
	for (unsigned a = 0; a < 100; a++) {
		int64_t lo = service_backoff_delay(a, 0);
		int64_t hi = service_backoff_delay(a, UINT32_MAX);

		ck_assert_int_ge(lo, prev);
		ck_assert_int_le(hi, SERVICE_BACKOFF_CAP);
		ck_assert_int_le(lo, hi);
		prev = lo;
	}
	/* The cap is reached, with jitter still spreading retries. */
	ck_assert_int_ge(service_backoff_delay(30, 0), SERVICE_BACKOFF_CAP / 2);
	ck_assert_int_gt(service_backoff_delay(30, UINT32_MAX),
			 SERVICE_BACKOFF_CAP * 9 / 10);
	ck_assert_int_eq(service_backoff_delay(UINT32_MAX, 0),
			 SERVICE_BACKOFF_CAP / 2);
}
END_TEST

/* ---- SetPresence validation --------------------------------------------- */

typedef struct {
	const char *show;
	const char *status;
	ServicePresenceOptions options;
	const char *names; /* expected in the message */
} BadCase;

static char long_status[PRESENCE_MAX_STATUS_BYTES + 2];

static const BadCase bad_cases[] = {
	{"busy", "", {0}, "show"},
	{"", "", {0}, "show"},
	{"unknown", "", {0}, "show"}, /* contacts only */
	{"AWAY", "", {0}, "show"},
	{"away", "\xff\xfe", {0}, "status"},
	{"away", long_status, {0}, "status"},
	{"away", "", {.has_priority = true, .priority = 128}, "priority"},
	{"away", "", {.has_priority = true, .priority = -129}, "priority"},
	{"away", "", {.to = "not a jid@"}, "to"},
	{"away", "", {.to = "@example.org"}, "to"},
	{"away", "", {.to = ""}, "to"},
	{"away", "", {.to = "bob@\xc3\x28"}, "to"},
	{"away", "", {.nick = "\xc3\x28"}, "nick"},
	{"away", "", {.nick = long_status}, "nick"},
};

START_TEST(test_invalid_args)
{
	const BadCase *bc = &bad_cases[_i];
	g_autoptr(GError) error = NULL;
	Watch w = {0};
	Service *s;

	memset(long_status, 'a', sizeof(long_status) - 1);
	s = make_service(&w, closed_port());
	ck_assert(!service_set_presence(s, bc->show, bc->status, &bc->options,
					&error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_INVALID_ARGS));
	/* The bus's message (validate.c): "Argument status is ...". */
	ck_assert_msg(strstr(error->message, bc->names),
		      "message '%s' should name '%s'", error->message,
		      bc->names);
	ck_assert(g_utf8_validate(error->message, -1, NULL));
	/* Nothing changed, nothing connected. */
	ck_assert_uint_eq(w.props->len, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_status(s), "");
	ck_assert_int_eq(service_get_priority(s), -1);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	service_free(s);
	watch_clear(&w);
}
END_TEST

START_TEST(test_valid_edges)
{
	g_autoptr(GError) error = NULL;
	char max_status[PRESENCE_MAX_STATUS_BYTES + 1];
	ServicePresenceOptions o = {.has_priority = true, .priority = -128};
	Watch w = {0};
	Service *s = make_service(&w, closed_port());

	memset(max_status, 'b', sizeof(max_status) - 1);
	max_status[sizeof(max_status) - 1] = '\0';
	/* Not started: kept, nothing connects (no loop runs here). */
	ck_assert(service_set_presence(s, "offline", max_status, &o, &error));
	ck_assert_int_eq(service_get_priority(s), -128);
	ck_assert_str_eq(service_get_status(s), max_status);
	o.priority = 127;
	ck_assert(service_set_presence(s, "offline", "\xc3\xa9t\xc3\xa9", &o,
				       &error));
	ck_assert_int_eq(service_get_priority(s), 127);
	ck_assert_str_eq(service_get_status(s), "\xc3\xa9t\xc3\xa9");
	service_free(s);
	watch_clear(&w);
}
END_TEST

/* ---- desired presence --------------------------------------------------- */

START_TEST(test_kept_until_online)
{
	g_autoptr(GError) error = NULL;
	ServicePresenceOptions o = {
		.has_priority = true, .priority = 5, .nick = "Alice"};
	Watch w = {0};
	Service *s = make_service(&w, closed_port());

	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_jid(s), "alice@example.org");
	ck_assert(!service_get_roster_ready(s));
	ck_assert_str_eq(service_get_state_reason(s), "");

	/* Offline show first, so nothing connects in this test. */
	ck_assert(service_set_presence(s, "offline", "brb", &o, &error));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_OFFLINE);
	ck_assert_str_eq(service_get_status(s), "brb");
	ck_assert_int_eq(service_get_priority(s), 5);
	ck_assert_uint_eq(count_prop(&w, "Show"), 1);
	ck_assert_uint_eq(count_prop(&w, "Status"), 1);
	ck_assert_uint_eq(count_prop(&w, "Priority"), 1);

	/* The same again: no change, no notification. */
	ck_assert(service_set_presence(s, "offline", "brb", &o, &error));
	ck_assert_uint_eq(w.props->len, 3);

	/* Without a priority option the last one is kept. */
	ck_assert(service_set_presence(s, "offline", "", NULL, &error));
	ck_assert_int_eq(service_get_priority(s), 5);
	ck_assert_uint_eq(count_prop(&w, "Status"), 2);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	service_free(s);
	watch_clear(&w);
}
END_TEST

/* Directed presence needs a session and never touches own presence. */
START_TEST(test_directed_offline)
{
	g_autoptr(GError) error = NULL;
	ServicePresenceOptions o = {.to = "bob@example.net/phone",
				    .nick = "Al"};
	Watch w = {0};
	Service *s = make_service(&w, closed_port());

	ck_assert(!service_set_presence(s, "dnd", "busy", &o, &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_NOT_CONNECTED));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_status(s), "");
	ck_assert_uint_eq(w.props->len, 0);
	service_free(s);
	watch_clear(&w);
}
END_TEST

/*
 * A refused connection is a network failure: State reconnecting with a
 * back-off; offline then stops retrying (StateReason requested) until a
 * SetPresence with another show connects again.
 */
START_TEST(test_offline_stays_offline)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;
	Watch w = {0};
	Service *s = make_service(&w, closed_port());

	service_start(s);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_CONNECTING);
	w.loop = loop;
	w.quit_on_state = SERVICE_STATE_RECONNECTING;
	g_main_loop_run(loop);

	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_RECONNECTING);
	ck_assert_str_eq(service_get_state_reason(s), "network");
	ck_assert_ptr_nonnull(
		strstr(service_get_state_message(s), "example.org"));
	ck_assert_ptr_nonnull(
		strstr(service_get_state_message(s), "127.0.0.1"));
	ck_assert_ptr_null(strstr(service_get_state_message(s), "hunter2"));
	ck_assert(!service_get_roster_ready(s));

	ck_assert(service_set_presence(s, "offline", "", NULL, &error));
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	ck_assert_str_eq(service_get_state_reason(s), "requested");
	/* No retry timer left: the loop has nothing to do. */
	while (g_main_context_iteration(NULL, FALSE))
		;
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);

	/* Another show connects again. */
	ck_assert(service_set_presence(s, "away", "", NULL, &error));
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_CONNECTING);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	/* And fails again the same way. */
	g_main_loop_run(loop);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_RECONNECTING);
	service_free(s);
	watch_clear(&w);
}
END_TEST

static void note_done(void *user_data)
{
	bool *done = user_data;

	*done = true;
}

START_TEST(test_stop)
{
	Watch w = {0};
	Service *s = make_service(&w, closed_port());
	bool done = false;

	/* Connecting (TCP not up yet): dropped at once. */
	service_start(s);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_CONNECTING);
	service_stop(s, note_done, &done);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
	/* Stopped: a later SetPresence does not connect. */
	ck_assert(service_set_presence(s, "chat", "", NULL, NULL));
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	service_free(s);
	watch_clear(&w);
}
END_TEST

/* ---- a real session over loopback -------------------------------------- */

typedef struct {
	GSocketService *service;
	guint16 port;
	GSocketConnection *peer;
	GString *received;
	char buf[4096];
	GCancellable *cancel;
	const char *reply; /* sent after the client's header; NULL: hang up */
	unsigned connections;
} HeaderServer;

static void header_read(GObject *source, GAsyncResult *result, gpointer data)
{
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result,
					      NULL);
	HeaderServer *h;

	if (n <= 0)
		return; /* includes cancelled: h may be gone */
	h = data;
	g_string_append_len(h->received, h->buf, n);
	if (!strstr(h->received->str, "<stream:stream") ||
	    !strchr(strstr(h->received->str, "<stream:stream"), '>')) {
		g_input_stream_read_async(G_INPUT_STREAM(source), h->buf,
					  sizeof(h->buf), G_PRIORITY_DEFAULT,
					  h->cancel, header_read, h);
		return;
	}
	/* Header seen: say the scripted thing, or hang up, as a server
	 * going away would. */
	if (h->reply)
		(void)g_output_stream_write_all(
			g_io_stream_get_output_stream(G_IO_STREAM(h->peer)),
			h->reply, strlen(h->reply), NULL, NULL, NULL);
	(void)g_io_stream_close(G_IO_STREAM(h->peer), NULL, NULL);
}

static gboolean header_incoming(GSocketService *service,
				GSocketConnection *connection,
				GObject *source_object, gpointer data)
{
	HeaderServer *h = data;

	h->connections++;
	g_string_truncate(h->received, 0);
	g_clear_object(&h->peer);
	h->peer = g_object_ref(connection);
	g_input_stream_read_async(
		g_io_stream_get_input_stream(G_IO_STREAM(connection)), h->buf,
		sizeof(h->buf), G_PRIORITY_DEFAULT, h->cancel, header_read, h);
	return TRUE;
}

static void header_server_start(HeaderServer *h, const char *reply)
{
	g_autoptr(GInetAddress) lo =
		g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) eff = NULL;

	*h = (HeaderServer){.reply = reply};
	h->service = g_socket_service_new();
	h->received = g_string_new(NULL);
	h->cancel = g_cancellable_new();
	ck_assert(g_socket_listener_add_address(
		G_SOCKET_LISTENER(h->service), addr, G_SOCKET_TYPE_STREAM,
		G_SOCKET_PROTOCOL_TCP, NULL, &eff, NULL));
	h->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(eff));
	g_signal_connect(h->service, "incoming", G_CALLBACK(header_incoming),
			 h);
	g_socket_service_start(h->service);
}

static void header_server_stop(HeaderServer *h)
{
	g_cancellable_cancel(h->cancel);
	g_socket_service_stop(h->service);
	g_socket_listener_close(G_SOCKET_LISTENER(h->service));
	g_object_unref(h->service);
	g_clear_object(&h->peer);
	g_object_unref(h->cancel);
	g_string_free(h->received, TRUE);
}

/*
 * Service, connection and the real XmppSession together: the stream
 * header reaches the server, the server hangs up, the service reports a
 * network failure naming the domain and the host, and will retry.
 */
START_TEST(test_session_loopback)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	HeaderServer h;
	Watch w = {0};
	Service *s;

	header_server_start(&h, NULL);
	s = make_service(&w, h.port);
	w.loop = loop;
	w.quit_on_state = SERVICE_STATE_RECONNECTING;
	service_start(s);
	g_main_loop_run(loop);

	ck_assert_ptr_nonnull(strstr(h.received->str, "<stream:stream"));
	ck_assert_ptr_nonnull(strstr(h.received->str, "example.org"));
	ck_assert_ptr_null(strstr(h.received->str, "hunter2"));
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_RECONNECTING);
	ck_assert_msg(strcmp(service_get_state_reason(s), "network") == 0 ||
			      strcmp(service_get_state_reason(s),
				     "server-error") == 0,
		      "reason %s", service_get_state_reason(s));
	ck_assert_ptr_nonnull(
		strstr(service_get_state_message(s), "example.org"));
	ck_assert_ptr_nonnull(
		strstr(service_get_state_message(s), "127.0.0.1"));
	ck_assert_str_eq(service_get_jid(s), "alice@example.org");
	ck_assert(!service_get_roster_ready(s));

	service_free(s);
	watch_clear(&w);
	header_server_stop(&h);
}
END_TEST

/* ---- the retry rule (CONTRACT.md "Staying connected") ------------------ */

typedef struct {
	XmppSessionEnd reason;
	bool tls_verified;
	const char *message;
	bool final;
} EndCase;

static const EndCase end_cases[] = {
	/* The server rejected the credentials inside verified TLS. */
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: not-authorized", true},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: account-disabled: gone",
	 true},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with EXAMPLE.org failed: credentials-expired", true},
	/* Temporary, or our own refusal of what the server sent. */
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: temporary-auth-failure",
	 false},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: the server could not "
	 "prove it knows the password: The SCRAM server signature does not "
	 "verify",
	 false},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: The SCRAM iteration "
	 "count 1 is outside 4096..10000000",
	 false},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with example.org failed: malformed base64 in "
	 "challenge",
	 false},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "example.org offers no SASL mechanism we accept: none offered", false},
	{XMPP_SESSION_END_AUTH_FAILED, true,
	 "authentication with evil.example failed: not-authorized", false},
	{XMPP_SESSION_END_AUTH_FAILED, true, NULL, false},
	/* Before TLS nothing counts. */
	{XMPP_SESSION_END_AUTH_FAILED, false,
	 "authentication with example.org failed: not-authorized", false},
	{XMPP_SESSION_END_CONFLICT, false, "stream error: conflict", false},
	{XMPP_SESSION_END_CONFLICT, true, "stream error: conflict", true},
	{XMPP_SESSION_END_TLS_FAILED, true, "bad certificate", false},
	{XMPP_SESSION_END_TLS_FAILED, false, "no STARTTLS", false},
	{XMPP_SESSION_END_SERVER_ERROR, true, "system-shutdown", false},
	{XMPP_SESSION_END_NETWORK, true, "timed out", false},
	{XMPP_SESSION_END_REQUESTED, true, "session closed", false},
};

START_TEST(test_retry_rule)
{
	const EndCase *c = &end_cases[_i];
	RetryPolicyEnd end = {
		.reason = c->reason,
		.tls_verified = c->tls_verified,
		.message = c->message,
		.domain = "example.org",
	};

	ck_assert_msg(retry_policy_is_final(&end) == c->final,
		      "%s over %s TLS (%s): expected %s",
		      xmpp_session_end_to_string(c->reason),
		      c->tls_verified ? "verified" : "no", c->message,
		      c->final ? "final" : "retried");
}
END_TEST

/* A handful of attempts a minute, then the next waits for the window. */
START_TEST(test_attempt_window)
{
	RetryPolicyWindow w = {0};
	const int64_t s = G_USEC_PER_SEC;
	int64_t t = 1000 * s;

	for (unsigned i = 0; i < RETRY_POLICY_MAX_PER_WINDOW; i++) {
		ck_assert_int_eq(retry_policy_earliest(&w, t), t);
		retry_policy_note_attempt(&w, t);
		t += 2 * s;
	}
	/* Five in the last 10 s: the sixth waits until 60 s (and the
	 * margin) after the first. */
	ck_assert_int_eq(retry_policy_earliest(&w, t),
			 1000 * s + RETRY_POLICY_WINDOW_US +
				 RETRY_POLICY_MARGIN_US);
	ck_assert_int_eq(retry_policy_earliest(&w, 1061 * s), 1061 * s);
	retry_policy_note_attempt(&w, 1061 * s);
	/* Now the oldest is the one at 1002 s. */
	ck_assert_int_eq(retry_policy_earliest(&w, 1061 * s),
			 1002 * s + RETRY_POLICY_WINDOW_US +
				 RETRY_POLICY_MARGIN_US);
}
END_TEST

/* The back-off of the contract: first retry well within 60 s, never more
 * than 5 minutes apart. */
START_TEST(test_backoff_bounds)
{
	ck_assert_int_le(service_backoff_delay(0, UINT32_MAX),
			 60 * G_USEC_PER_SEC);
	for (unsigned a = 0; a < 64; a++)
		ck_assert_int_le(service_backoff_delay(a, UINT32_MAX),
				 SERVICE_BACKOFF_CAP);
}
END_TEST

#define SERVER_HEADER                                                          \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "           \
	"xmlns:stream='http://etherx.jabber.org/streams' "                     \
	"from='example.org' id='x' version='1.0'>"

typedef struct {
	const char *reply;
	const char *reason;
} PlainCase;

/*
 * Said in plaintext, before TLS: a forged conflict, a missing STARTTLS,
 * a refused STARTTLS. Each used to leave the daemon offline for good;
 * now it is reconnecting with the reason (CONTRACT.md). A conflict before
 * TLS is nobody's word: the session reports it as server-error.
 */
static const PlainCase plain_cases[] = {
	{SERVER_HEADER "<stream:error><conflict "
		       "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		       "</stream:error></stream:stream>",
	 "server-error"},
	{SERVER_HEADER "<stream:features><mechanisms "
		       "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>"
		       "PLAIN</mechanism></mechanisms></stream:features>",
	 "tls-failed"},
};

START_TEST(test_plaintext_never_final)
{
	const PlainCase *c = &plain_cases[_i];
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	HeaderServer h;
	Watch w = {0};
	Service *s;

	header_server_start(&h, c->reply);
	s = make_service(&w, h.port);
	w.loop = loop;
	w.quit_on_state = SERVICE_STATE_RECONNECTING;
	service_start(s);
	g_main_loop_run(loop);
	ck_assert_str_eq(service_get_state_reason(s), c->reason);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_RECONNECTING);
	ck_assert_ptr_nonnull(
		strstr(service_get_state_message(s), "example.org"));
	service_free(s);
	watch_clear(&w);
	header_server_stop(&h);
}
END_TEST

static gboolean note_timeout(gpointer user_data)
{
	bool *expired = user_data;

	*expired = true;
	return G_SOURCE_REMOVE;
}

/* Runs the loop until h has seen n connections or ms pass. */
static void wait_connections(HeaderServer *h, unsigned n, guint ms)
{
	bool expired = false;
	guint id = g_timeout_add(ms, note_timeout, &expired);

	while (h->connections < n && !expired)
		g_main_context_iteration(NULL, TRUE);
	if (!expired)
		g_source_remove(id);
}

/*
 * The network comes back while a back-off runs: the next attempt starts
 * at once (well before the 1 s minimum delay), but only when it got
 * better, and never past a handful of attempts a minute.
 */
START_TEST(test_network_change)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	HeaderServer h;
	Watch w = {0};
	Service *s;
	int64_t t0;

	header_server_start(&h, NULL);
	s = make_service(&w, h.port);
	w.loop = loop;
	w.quit_on_state = SERVICE_STATE_RECONNECTING;
	service_start(s);
	/* Whatever this machine's monitor said: up and full from here on
	 * (no retry is pending yet, so this only sets the baseline). */
	service_network_changed(s, true, true);
	g_main_loop_run(loop);
	ck_assert_uint_eq(h.connections, 1);

	/* Still up and still full: no news, no attempt. */
	service_network_changed(s, true, true);
	service_network_changed(s, true, true);
	wait_connections(&h, 2, 100);
	ck_assert_uint_eq(h.connections, 1);

	for (unsigned n = 2; n <= RETRY_POLICY_MAX_PER_WINDOW; n++) {
		service_network_changed(s, false, false);
		t0 = g_get_monotonic_time();
		service_network_changed(s, true, true);
		wait_connections(&h, n, 900);
		ck_assert_uint_eq(h.connections, n);
		ck_assert_int_lt(g_get_monotonic_time() - t0, 900 * 1000);
		/* Let that attempt fail (the server hangs up at once) and
		 * its back-off start: no other connection comes meanwhile. */
		wait_connections(&h, n + 1, 50);
		ck_assert_uint_eq(h.connections, n);
	}
	/* A handful in a few seconds: the next change does not connect. */
	ck_assert_uint_eq(h.connections, RETRY_POLICY_MAX_PER_WINDOW);
	service_network_changed(s, false, false);
	service_network_changed(s, true, true);
	wait_connections(&h, RETRY_POLICY_MAX_PER_WINDOW + 1, 300);
	ck_assert_uint_eq(h.connections, RETRY_POLICY_MAX_PER_WINDOW);
	service_free(s);
	watch_clear(&w);
	header_server_stop(&h);
}
END_TEST

/* ---- SIGHUP reload ------------------------------------------------------ */

static char *write_config(const char *dir, const char *text)
{
	char *path = g_build_filename(dir, "presenced.conf", NULL);

	ck_assert(g_file_set_contents_full(
		path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, NULL));
	return path;
}

/*
 * An invalid file: StateReason config naming the file, the old config
 * stays. A valid one: a service that is offline (not by request) tries
 * again at once.
 */
START_TEST(test_reload)
{
	g_autofree char *dir = g_dir_make_tmp("presenced-test-XXXXXX", NULL);
	g_autofree char *bad = NULL, *good = NULL, *text = NULL;
	g_autoptr(GError) error = NULL;
	Watch w = {0};
	Settings *c;
	Service *s;

	ck_assert_ptr_nonnull(dir);
	bad = write_config(dir, "[account]\njid = not a jid@@\n");
	c = make_config(closed_port());
	g_free(c->path);
	c->path = g_strdup(bad);
	s = service_new(c);
	w.props = g_ptr_array_new_with_free_func(g_free);
	w.service = s;
	service_set_observer(s, &observer, &w);

	ck_assert(!service_reload_config(s, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(service_get_state_reason(s), "config");
	ck_assert_ptr_nonnull(strstr(service_get_state_message(s), bad));
	ck_assert_uint_eq(count_prop(&w, "StateReason"), 1);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	ck_assert_str_eq(service_get_settings(s)->jid, "alice@example.org");
	g_clear_error(&error);

	text = g_strdup_printf("[account]\njid = carol@example.net\n"
			       "password = pw\nserver = 127.0.0.1\n"
			       "port = %u\n",
			       closed_port());
	good = write_config(dir, text);
	ck_assert_str_eq(good, bad); /* same path, new content */
	ck_assert(service_reload_config(s, &error));
	ck_assert_str_eq(service_get_settings(s)->jid, "carol@example.net");
	ck_assert_str_eq(service_get_jid(s), "carol@example.net");
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_CONNECTING);
	ck_assert_str_eq(service_get_state_reason(s), "");
	/* The desired presence is the user's, not the file's. */
	ck_assert_int_eq(service_get_priority(s), -1);

	service_free(s);
	watch_clear(&w);
	(void)g_remove(good);
	(void)g_rmdir(dir);
}
END_TEST

/* ---- subscriptions ------------------------------------------------------ */

START_TEST(test_subscription_args)
{
	Watch w = {0};
	Service *s = make_service(&w, closed_port());
	GError *error = NULL;

	ck_assert(!service_subscribe(s, "not a jid@", "hi", &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_INVALID_ARGS));
	ck_assert_ptr_nonnull(strstr(error->message, "jid"));
	g_clear_error(&error);
	ck_assert(!service_subscribe(s, "bob@example.net", "\xff", &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_INVALID_ARGS));
	g_clear_error(&error);
	ck_assert(!service_subscribe(s, "bob@example.net", "hi", &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_NOT_CONNECTED));
	g_clear_error(&error);
	ck_assert(!service_authorize(s, "bob@example.net", true, &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_NOT_CONNECTED));
	g_clear_error(&error);
	ck_assert(!service_unsubscribe(s, "", &error));
	ck_assert(g_error_matches(error, SERVICE_ERROR,
				  SERVICE_ERROR_INVALID_ARGS));
	g_clear_error(&error);
	/* Not in the roster: nothing happens, successfully. */
	ck_assert(service_remove_contact(s, "bob@example.net", &error));
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(subscription_requests_get_count(
				  service_get_subscription_requests(s)),
			  0);
	service_free(s);
	watch_clear(&w);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"backoff", test_backoff},
		{"validation", test_invalid_args,
		 .loops = G_N_ELEMENTS(bad_cases)},
		{"validation", test_valid_edges},
		{"validation", test_subscription_args},
		{"desired presence", test_kept_until_online},
		{"desired presence", test_directed_offline},
		{"session state", test_offline_stays_offline, .timeout = 30},
		{"session state", test_stop},
		{"session state", test_reload},
		{"session state", test_session_loopback},
		{"retry rule", test_retry_rule,
		 .loops = G_N_ELEMENTS(end_cases)},
		{"retry rule", test_attempt_window},
		{"retry rule", test_backoff_bounds},
		{"retry rule", test_plaintext_never_final,
		 .loops = G_N_ELEMENTS(plain_cases)},
		{"retry rule", test_network_change},
	};

	/*
	 * Reconnect warnings ("..., retrying") are expected here even when
	 * G_DEBUG=fatal-warnings; criticals stay fatal.
	 */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	return check_suite_run("service", cases, G_N_ELEMENTS(cases), 10);
}
