/* SPDX-License-Identifier: MIT */
/*
 * daemon/connection.c over loopback: a test GSocketService plays the
 * server, a fake GResolver (g_resolver_set_default) serves SRV records,
 * a fake sink stands in for the session. No network beyond 127.0.0.1, no
 * sleeps: every test waits in the main loop for the event it expects,
 * under the tcase timeout.
 */
#include "config.h"

#include <check.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon/connection.h"
#include "tests/support/check-suite.h"

/* ---- fake resolver ------------------------------------------------------ */

typedef struct {
	GResolver parent;
	char *last_rrname;
	GList *records; /* GSrvTarget*, handed out as copies; NULL: NOT_FOUND */
	bool hang;	/* never answer (until cancelled) */
	GTask *hung;
} FakeResolver;

typedef struct {
	GResolverClass parent_class;
} FakeResolverClass;

static GType fake_resolver_get_type(void);
G_DEFINE_TYPE(FakeResolver, fake_resolver, G_TYPE_RESOLVER)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeResolver, g_object_unref)

static GList *copy_records(FakeResolver *self)
{
	GList *out = NULL;

	for (GList *l = self->records; l; l = l->next)
		out = g_list_append(out, g_srv_target_copy(l->data));
	return out;
}

static void fake_lookup_service_async(GResolver *resolver, const char *rrname,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	FakeResolver *self = (FakeResolver *)resolver;
	g_autoptr(GTask) task =
		g_task_new(resolver, cancellable, callback, user_data);

	g_free(self->last_rrname);
	self->last_rrname = g_strdup(rrname);
	if (self->hang) {
		/* Kept, never completed: like a resolver that is stuck. */
		g_clear_object(&self->hung);
		self->hung = g_steal_pointer(&task);
		return;
	}
	if (self->records)
		g_task_return_pointer(task, copy_records(self), NULL);
	else
		g_task_return_new_error(task, G_RESOLVER_ERROR,
					G_RESOLVER_ERROR_NOT_FOUND,
					"No SRV record for %s", rrname);
}

static GList *fake_lookup_service_finish(GResolver *resolver,
					 GAsyncResult *result, GError **error)
{
	return g_task_propagate_pointer(G_TASK(result), error);
}

static void fake_lookup_by_name_async(GResolver *resolver, const char *hostname,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task =
		g_task_new(resolver, cancellable, callback, user_data);

	g_task_return_new_error(task, G_RESOLVER_ERROR,
				G_RESOLVER_ERROR_NOT_FOUND, "Unknown host %s",
				hostname);
}

static void fake_lookup_by_name_flags_async(GResolver *resolver,
					    const char *hostname,
					    GResolverNameLookupFlags flags,
					    GCancellable *cancellable,
					    GAsyncReadyCallback callback,
					    gpointer user_data)
{
	fake_lookup_by_name_async(resolver, hostname, cancellable, callback,
				  user_data);
}

static GList *fake_lookup_by_name_finish(GResolver *resolver,
					 GAsyncResult *result, GError **error)
{
	return g_task_propagate_pointer(G_TASK(result), error);
}

static GList *fake_lookup_by_name(GResolver *resolver, const char *hostname,
				  GCancellable *cancellable, GError **error)
{
	g_set_error(error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
		    "Unknown host %s", hostname);
	return NULL;
}

static void fake_resolver_finalize(GObject *object)
{
	FakeResolver *self = (FakeResolver *)object;

	g_free(self->last_rrname);
	g_clear_object(&self->hung);
	g_list_free_full(self->records, (GDestroyNotify)g_srv_target_free);
	G_OBJECT_CLASS(fake_resolver_parent_class)->finalize(object);
}

static void fake_resolver_class_init(FakeResolverClass *klass)
{
	GResolverClass *rc = G_RESOLVER_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = fake_resolver_finalize;
	rc->lookup_service_async = fake_lookup_service_async;
	rc->lookup_service_finish = fake_lookup_service_finish;
	rc->lookup_by_name = fake_lookup_by_name;
	rc->lookup_by_name_async = fake_lookup_by_name_async;
	rc->lookup_by_name_finish = fake_lookup_by_name_finish;
	rc->lookup_by_name_with_flags_async = fake_lookup_by_name_flags_async;
	rc->lookup_by_name_with_flags_finish = fake_lookup_by_name_finish;
}

static void fake_resolver_init(FakeResolver *self)
{
}

static GResolver *saved_resolver;

static FakeResolver *install_resolver(void)
{
	FakeResolver *r = g_object_new(fake_resolver_get_type(), NULL);

	saved_resolver = g_resolver_get_default();
	g_resolver_set_default(G_RESOLVER(r));
	return r;
}

static void restore_resolver(void)
{
	g_resolver_set_default(saved_resolver);
	g_clear_object(&saved_resolver);
}

static void add_record(FakeResolver *r, const char *host, guint16 port,
		       guint16 priority, guint16 weight)
{
	r->records = g_list_append(
		r->records, g_srv_target_new(host, port, priority, weight));
}

/* ---- test server -------------------------------------------------------- */

typedef struct {
	GSocketService *service;
	guint16 port;
	unsigned accepted;
	GString *received;
	const char *reply;   /* written after the first read */
	size_t expect_bytes; /* read until this many, then reply+close */
	bool reset;	     /* close with RST instead of FIN */
	bool no_read;	     /* accept, then never read (a stuck server) */
	bool keep_open;	     /* after the reply, stay connected */
	GSocketConnection *peer;
	GMainLoop *loop; /* quit when expect_bytes arrived */
	GCancellable *cancel;
} TestServer;

static void server_read(GObject *source, GAsyncResult *result,
			gpointer user_data);

static char server_buf[65536];

static void server_written(GObject *source, GAsyncResult *result,
			   gpointer user_data)
{
	TestServer *s;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), result,
					      NULL, NULL))
		return;
	s = user_data;
	if (!s->keep_open)
		(void)g_io_stream_close(G_IO_STREAM(s->peer), NULL, NULL);
}

static void server_continue(TestServer *s)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(s->peer));

	g_input_stream_read_async(in, server_buf, sizeof(server_buf),
				  G_PRIORITY_DEFAULT, s->cancel, server_read,
				  s);
}

static void server_read(GObject *source, GAsyncResult *result,
			gpointer user_data)
{
	TestServer *s = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result,
					      NULL);

	if (n <= 0)
		return; /* includes cancelled: s may be gone */
	g_string_append_len(s->received, server_buf, n);
	if (s->received->len < s->expect_bytes) {
		server_continue(s);
		return;
	}
	if (s->loop)
		g_main_loop_quit(s->loop);
	if (s->reply) {
		GOutputStream *out =
			g_io_stream_get_output_stream(G_IO_STREAM(s->peer));

		/* Async: the client reads in this same thread. */
		g_output_stream_write_all_async(out, s->reply, strlen(s->reply),
						G_PRIORITY_DEFAULT, s->cancel,
						server_written, s);
		return;
	}
	if (s->reset) {
		/* SO_LINGER 0: close() sends RST, the client sees ECONNRESET */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		GSocket *sock = g_socket_connection_get_socket(s->peer);

		ck_assert_int_eq(setsockopt(g_socket_get_fd(sock), SOL_SOCKET,
					    SO_LINGER, &lg, sizeof(lg)),
				 0);
	}
	(void)g_io_stream_close(G_IO_STREAM(s->peer), NULL, NULL);
}

static gboolean on_incoming(GSocketService *service,
			    GSocketConnection *connection,
			    GObject *source_object, gpointer user_data)
{
	TestServer *s = user_data;

	s->accepted++;
	g_clear_object(&s->peer);
	s->peer = g_object_ref(connection);
	if (!s->no_read)
		server_continue(s);
	return TRUE;
}

static TestServer *server_new(void)
{
	TestServer *s = g_new0(TestServer, 1);
	g_autoptr(GInetAddress) lo =
		g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) addr = g_inet_socket_address_new(lo, 0);
	g_autoptr(GSocketAddress) effective = NULL;

	s->service = g_socket_service_new();
	s->cancel = g_cancellable_new();
	s->received = g_string_new(NULL);
	s->expect_bytes = 1;
	ck_assert(g_socket_listener_add_address(
		G_SOCKET_LISTENER(s->service), addr, G_SOCKET_TYPE_STREAM,
		G_SOCKET_PROTOCOL_TCP, NULL, &effective, NULL));
	s->port = g_inet_socket_address_get_port(
		G_INET_SOCKET_ADDRESS(effective));
	g_signal_connect(s->service, "incoming", G_CALLBACK(on_incoming), s);
	g_socket_service_start(s->service);
	return s;
}

static void server_free(TestServer *s)
{
	g_cancellable_cancel(s->cancel);
	g_object_unref(s->cancel);
	g_socket_service_stop(s->service);
	g_socket_listener_close(G_SOCKET_LISTENER(s->service));
	g_object_unref(s->service);
	g_clear_object(&s->peer);
	g_string_free(s->received, TRUE);
	g_free(s);
}

/* A loopback port with nothing listening (bound, then closed). */
static guint16 closed_port(void)
{
	TestServer *s = server_new();
	guint16 port = s->port;

	server_free(s);
	return port;
}

/* ---- fake sink ---------------------------------------------------------- */

typedef struct {
	GMainLoop *loop;
	bool started;
	const char *greeting;	/* queued on start */
	size_t greeting_repeat; /* how many times */
	GString *fed;
	GByteArray *pending;
	bool eof;
	GError *eof_error;
	bool failed;
	GError *fail_error;
	char *connected_host;
	int64_t deadline;
	unsigned ticks;
	size_t quit_after_bytes; /* quit the loop once fed this much */
	unsigned drained;	 /* input_drained() calls */
	size_t fed_at_drain;	 /* fed->len at the last one */
	size_t quit_on_drain;	 /* quit at a drain once fed this much */
} Sink;

static void sink_start(void *data, int64_t now)
{
	Sink *k = data;

	k->started = true;
	for (size_t i = 0; k->greeting && i < k->greeting_repeat; i++)
		g_byte_array_append(k->pending, (const guint8 *)k->greeting,
				    strlen(k->greeting));
}

static void sink_feed(void *data, const char *bytes, size_t len, int64_t now)
{
	Sink *k = data;

	g_string_append_len(k->fed, bytes, len);
	if (k->quit_after_bytes && k->fed->len >= k->quit_after_bytes)
		g_main_loop_quit(k->loop);
}

static void sink_eof(void *data, const GError *error)
{
	Sink *k = data;

	k->eof = true;
	g_clear_error(&k->eof_error);
	k->eof_error = error ? g_error_copy(error) : NULL;
	g_main_loop_quit(k->loop);
}

static void sink_take_output(void *data, GByteArray *out)
{
	Sink *k = data;

	g_byte_array_append(out, k->pending->data, k->pending->len);
	g_byte_array_set_size(k->pending, 0);
}

static int64_t sink_get_deadline(void *data)
{
	return ((Sink *)data)->deadline;
}

static void sink_tick(void *data, int64_t now)
{
	Sink *k = data;

	if (now >= k->deadline) {
		k->ticks++;
		k->deadline = INT64_MAX;
		g_main_loop_quit(k->loop);
	}
}

static const ConnectionSinkFuncs sink_funcs = {
	.start = sink_start,
	.feed = sink_feed,
	.eof = sink_eof,
	.take_output = sink_take_output,
	.get_deadline = sink_get_deadline,
	.tick = sink_tick,
};

static void on_connected(void *data, const char *host)
{
	Sink *k = data;

	g_free(k->connected_host);
	k->connected_host = g_strdup(host);
}

static void on_failed(void *data, const GError *error)
{
	Sink *k = data;

	k->failed = true;
	k->fail_error = g_error_copy(error);
	g_main_loop_quit(k->loop);
}

static void on_drained(void *data)
{
	Sink *k = data;

	k->drained++;
	k->fed_at_drain = k->fed->len;
	if (k->quit_on_drain && k->fed->len >= k->quit_on_drain)
		g_main_loop_quit(k->loop);
}

static const ConnectionCallbacks callbacks = {
	.connected = on_connected,
	.failed = on_failed,
	.input_drained = on_drained,
};

static Sink *sink_new(GMainLoop *loop)
{
	Sink *k = g_new0(Sink, 1);

	k->loop = loop;
	k->fed = g_string_new(NULL);
	k->pending = g_byte_array_new();
	k->deadline = INT64_MAX;
	k->greeting = "<?xml version='1.0'?><stream:stream to='example.org'>";
	k->greeting_repeat = 1;
	return k;
}

static void sink_free(Sink *k)
{
	g_string_free(k->fed, TRUE);
	g_byte_array_unref(k->pending);
	g_clear_error(&k->eof_error);
	g_clear_error(&k->fail_error);
	g_free(k->connected_host);
	g_free(k);
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(test_configured_server)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	Connection *conn;

	s->expect_bytes = strlen(k->greeting);
	s->reply = "<stream:stream from='example.org'>";
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	ck_assert(!connection_is_connected(conn));
	g_main_loop_run(loop);

	ck_assert(k->started);
	ck_assert_str_eq(k->connected_host, "127.0.0.1");
	ck_assert_str_eq(s->received->str, k->greeting);
	ck_assert_str_eq(k->fed->str, s->reply);
	/* The server closed after replying: EOF naming domain and host. */
	ck_assert(k->eof);
	ck_assert(g_error_matches(k->eof_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_CLOSED));
	ck_assert_ptr_nonnull(strstr(k->eof_error->message, "example.org"));
	ck_assert_ptr_nonnull(strstr(k->eof_error->message, "127.0.0.1"));
	ck_assert(!connection_is_connected(conn));
	ck_assert(!k->failed);

	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

START_TEST(test_refused)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Sink *k = sink_new(loop);
	guint16 port = closed_port();
	ConnectionConfig cfg = {
		.domain = "example.org", .server = "127.0.0.1", .port = port};
	g_autofree char *where = g_strdup_printf("127.0.0.1:%u", port);
	Connection *conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);

	g_main_loop_run(loop);
	ck_assert(k->failed);
	ck_assert(!k->started);
	ck_assert(g_error_matches(k->fail_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_CONNECT));
	ck_assert_ptr_nonnull(strstr(k->fail_error->message, "example.org"));
	ck_assert_ptr_nonnull(strstr(k->fail_error->message, where));
	connection_free(conn);
	sink_free(k);
}
END_TEST

/* Lower priority value first (RFC 2782), whatever the answer order. */
START_TEST(test_srv_priority)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(FakeResolver) r = install_resolver();
	TestServer *a = server_new(), *b = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org"};
	Connection *conn;

	add_record(r, "127.0.0.1", b->port, 20, 0);
	add_record(r, "127.0.0.1", a->port, 10, 0);
	a->expect_bytes = b->expect_bytes = strlen(k->greeting);
	a->loop = b->loop = loop;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert_str_eq(r->last_rrname, "_xmpp-client._tcp.example.org");
	ck_assert_uint_eq(a->accepted, 1);
	ck_assert_uint_eq(b->accepted, 0);
	ck_assert_str_eq(a->received->str, k->greeting);

	connection_free(conn);
	server_free(a);
	server_free(b);
	sink_free(k);
	restore_resolver();
}
END_TEST

/* A target that refuses: the next one is tried. */
START_TEST(test_srv_failover)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(FakeResolver) r = install_resolver();
	TestServer *b = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org"};
	Connection *conn;

	add_record(r, "127.0.0.1", closed_port(), 5, 0);
	add_record(r, "127.0.0.1", b->port, 10, 0);
	b->expect_bytes = strlen(k->greeting);
	b->loop = loop;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert(!k->failed);
	ck_assert_uint_eq(b->accepted, 1);
	ck_assert_str_eq(b->received->str, k->greeting);

	connection_free(conn);
	server_free(b);
	sink_free(k);
	restore_resolver();
}
END_TEST

/* RFC 2782: a lone "." target means no service; nothing is tried. */
START_TEST(test_srv_dot)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(FakeResolver) r = install_resolver();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org"};
	Connection *conn;

	add_record(r, ".", 0, 0, 0);
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert(k->failed);
	ck_assert(g_error_matches(k->fail_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_NO_SERVICE));
	ck_assert_ptr_nonnull(strstr(k->fail_error->message, "example.org"));
	connection_free(conn);
	sink_free(k);
	restore_resolver();
}
END_TEST

/* No SRV record: the domain itself on 5222 (5223 and _xmpps for direct). */
START_TEST(test_srv_fallback)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(FakeResolver) r = install_resolver();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.invalid"};
	bool direct = _i == 1;
	Connection *conn;

	cfg.direct_tls = direct;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert_str_eq(r->last_rrname,
			 direct ? "_xmpps-client._tcp.example.invalid"
				: "_xmpp-client._tcp.example.invalid");
	ck_assert(k->failed);
	ck_assert(g_error_matches(k->fail_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_CONNECT));
	ck_assert_ptr_nonnull(strstr(k->fail_error->message,
				     direct ? "example.invalid:5223"
					    : "example.invalid:5222"));
	connection_free(conn);
	sink_free(k);
	restore_resolver();
}
END_TEST

/* A look-up that never answers ends in a timeout, not in "connecting". */
START_TEST(test_resolver_hangs)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(FakeResolver) r = install_resolver();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.total_timeout = 200 * 1000};
	int64_t start = g_get_monotonic_time();
	Connection *conn;

	r->hang = true;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert(k->failed);
	ck_assert(g_error_matches(k->fail_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_TIMED_OUT));
	ck_assert_ptr_nonnull(strstr(k->fail_error->message, "example.org"));
	ck_assert_int_ge(g_get_monotonic_time() - start, 200 * 1000);
	ck_assert(!k->started);
	connection_free(conn);
	/* The stuck task and the resolver hold each other: finish it (the
	 * connection cancelled it) and let its callback run. */
	if (r->hung) {
		g_task_return_new_error(r->hung, G_IO_ERROR,
					G_IO_ERROR_CANCELLED, "cancelled");
		g_clear_object(&r->hung);
	}
	while (g_main_context_iteration(NULL, FALSE))
		;
	sink_free(k);
	restore_resolver();
}
END_TEST

/* Output larger than the socket buffer goes out through the G_IO_OUT
 * watch; input larger than a read chunk comes in whole. */
START_TEST(test_bulk)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	g_autofree char *big = g_strnfill(300 * 1024, 'x');
	Connection *conn;

	k->greeting = "0123456789abcdef";
	k->greeting_repeat = 256 * 1024; /* 4 MiB */
	s->expect_bytes = 16 * k->greeting_repeat;
	s->reply = big;
	/* Queued at once, more than the default output budget. */
	cfg.max_output = 8 * 1024 * 1024;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop); /* until EOF after the reply */

	ck_assert_uint_eq(s->received->len, 16 * k->greeting_repeat);
	/* However the socket split the writes, every byte once, in order. */
	for (size_t i = 0; i < s->received->len; i += 16)
		ck_assert_int_eq(memcmp(s->received->str + i, k->greeting, 16),
				 0);
	ck_assert_uint_eq(k->fed->len, strlen(big));
	ck_assert(k->eof);
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

/*
 * A server that stops reading: once more than max_output bytes wait, the
 * connection is dead (an I/O error naming the peer), and the buffer does
 * not grow with what the sink keeps producing.
 */
START_TEST(test_output_budget)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port,
				.max_output = 256 * 1024};
	Connection *conn;

	s->no_read = true;
	k->greeting = "0123456789abcdef";
	k->greeting_repeat = 2 * 1024 * 1024; /* 32 MiB: past the kernel's
					       * buffers */
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop); /* until the eof */

	ck_assert(k->eof);
	ck_assert(g_error_matches(k->eof_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_IO));
	ck_assert_msg(strstr(k->eof_error->message, "stopped reading"), "%s",
		      k->eof_error->message);
	ck_assert_ptr_nonnull(strstr(k->eof_error->message, "example.org"));
	ck_assert(!connection_is_connected(conn));
	/* Nothing more is taken once the connection is dead. */
	g_byte_array_append(k->pending, (const guint8 *)"x", 1);
	connection_schedule_flush(conn);
	while (g_main_context_iteration(NULL, FALSE))
		;
	ck_assert_uint_eq(k->pending->len, 1);
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

/* A reset connection is an EOF with an error naming domain and host. */
START_TEST(test_reset)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	Connection *conn;

	s->expect_bytes = strlen(k->greeting);
	s->reset = true;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop);

	ck_assert(k->eof);
	ck_assert_ptr_nonnull(k->eof_error);
	ck_assert(g_error_matches(k->eof_error, CONNECTION_ERROR,
				  CONNECTION_ERROR_CLOSED));
	ck_assert_msg(strstr(k->eof_error->message, "reset"), "%s",
		      k->eof_error->message);
	ck_assert_ptr_nonnull(strstr(k->eof_error->message, "example.org"));
	ck_assert_ptr_nonnull(strstr(k->eof_error->message, "127.0.0.1"));
	ck_assert(!connection_is_connected(conn));
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

/* The sink's deadline drives tick() on the monotonic clock. */
START_TEST(test_timer)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	Connection *conn;
	int64_t start = g_get_monotonic_time();

	s->expect_bytes = SIZE_MAX; /* keep the connection open */
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	k->deadline = start + 20 * 1000;
	/* The timer is armed once connected; the first tick quits. */
	g_main_loop_run(loop);
	ck_assert_uint_eq(k->ticks, 1);
	ck_assert_int_ge(g_get_monotonic_time(), start + 20 * 1000);
	ck_assert(connection_is_connected(conn));
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

/*
 * Output queued from outside a dispatch (a bus call) goes out after
 * connection_schedule_flush(): once however often it is asked, and asking
 * before the socket is up is harmless.
 */
START_TEST(test_schedule_flush)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	const char *later = "<presence/>";
	Connection *conn;

	s->expect_bytes = strlen(k->greeting) + strlen(later);
	s->loop = loop;
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	connection_schedule_flush(conn); /* not connected: nothing */
	while (!k->started)
		g_main_context_iteration(NULL, TRUE);

	g_byte_array_append(k->pending, (const guint8 *)later, strlen(later));
	connection_schedule_flush(conn);
	connection_schedule_flush(conn);
	/* Scheduled, not written yet. */
	ck_assert_uint_eq(k->pending->len, strlen(later));
	g_main_loop_run(loop); /* until the server has it all */

	ck_assert_uint_eq(k->pending->len, 0);
	ck_assert_uint_eq(s->received->len, s->expect_bytes);
	ck_assert(g_str_has_suffix(s->received->str, later));
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

/*
 * input_drained: once the socket has nothing more to read and all of it
 * was fed — never in the middle of a reply the socket still holds, and
 * not after the stream ended.
 */
START_TEST(test_input_drained)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	TestServer *s = server_new();
	Sink *k = sink_new(loop);
	ConnectionConfig cfg = {.domain = "example.org",
				.server = "127.0.0.1",
				.port = s->port};
	g_autofree char *big = g_strnfill(600 * 1024, 'y');
	Connection *conn;

	s->expect_bytes = strlen(k->greeting);
	s->reply = big;
	s->keep_open = true;
	k->quit_on_drain = strlen(big);
	conn = connection_new(&cfg, &sink_funcs, k, &callbacks, k);
	g_main_loop_run(loop); /* until a drain after the whole reply */

	ck_assert_uint_eq(k->fed->len, strlen(big));
	ck_assert_uint_eq(k->fed_at_drain, strlen(big));
	ck_assert_uint_ge(k->drained, 1);
	/* Every drain came with more fed than the one before. */
	ck_assert_uint_le(k->drained, strlen(big) / 1024);
	ck_assert(!k->eof);

	/* The server closes: EOF, no drain for it. */
	k->drained = 0;
	(void)g_io_stream_close(G_IO_STREAM(s->peer), NULL, NULL);
	g_main_loop_run(loop); /* until eof */
	ck_assert(k->eof);
	ck_assert_uint_eq(k->drained, 0);
	connection_free(conn);
	server_free(s);
	sink_free(k);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"configured server", test_configured_server},
		{"configured server", test_refused},
		{"srv", test_srv_priority},
		{"srv", test_srv_failover},
		{"srv", test_srv_dot},
		{"srv", test_srv_fallback, .loops = 2},
		{"srv", test_resolver_hangs},
		{"io", test_bulk},
		{"io", test_output_budget},
		{"io", test_reset},
		{"io", test_timer},
		{"io", test_schedule_flush},
		{"io", test_input_drained},
	};

	/*
	 * Reconnect warnings ("..., retrying") are expected here even when
	 * G_DEBUG=fatal-warnings; criticals stay fatal.
	 */
	g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	return check_suite_run("connection", cases, G_N_ELEMENTS(cases), 20);
}
