/* SPDX-License-Identifier: MIT */
/*
 * Finding the server and moving bytes. Everything here is asynchronous:
 * the SRV look-up and connect run as GIO async operations, then the
 * connected socket is made non-blocking and served by GSource watches
 * (input always; output only while something is pending) and one timer
 * source whose ready time follows the sink's deadline.
 */
#include "config.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include <gio/gio.h>

#include "connection.h"

G_DEFINE_QUARK(presenced - connection - error - quark, connection_error)

/*
 * Read in big chunks, but give other sources a turn after each: a chunk
 * can hold hundreds of stanzas, and a D-Bus call must not wait behind a
 * flood (GetContact stayed unanswered for seconds with 16 per turn).
 */
#define READ_CHUNK (64 * 1024)
#define MAX_READS_PER_DISPATCH 2
#define DEFAULT_CONNECT_TIMEOUT (10 * G_USEC_PER_SEC)
#define DEFAULT_TOTAL_TIMEOUT (30 * G_USEC_PER_SEC)
/*
 * Written bytes are dropped from the front of the output buffer only once
 * they are at least this many and half of it: each byte is moved at most
 * once more, however the socket splits the writes (no quadratic copying).
 */
#define COMPACT_MIN (64 * 1024)

typedef struct {
	char *host;
	guint16 port;
} Target;

struct _Connection {
	char *domain;
	char *server;
	unsigned port;
	bool direct_tls;
	int64_t connect_timeout;

	const ConnectionSinkFuncs *funcs;
	void *sink;
	ConnectionCallbacks callbacks;
	void *user_data;

	GMainContext *context;
	GCancellable *cancellable;
	GSocketClient *client;
	GArray *targets; /* of Target, in the order to try */
	guint next_target;
	GString *tried;	    /* "host:port, host:port" for messages */
	GError *last_error; /* of the last failed connect */
	char *host;	    /* being tried or connected to */

	GSource *give_up; /* total_timeout while resolving/connecting */

	GSocketConnection *stream;
	GSocket *socket;
	GSource *in_source;
	GSource *resume_source; /* reading paused while the sink's consumer
				 * is congested */
	GSource *out_source;
	GSource *flush_idle; /* connection_schedule_flush() pending */
	GSource *timer;
	uint64_t fed_since_trim; /* bytes received since the last trim */
	GByteArray *out;
	size_t out_sent; /* bytes at the front of out already written */
	size_t max_output;
	char *buf;    /* READ_CHUNK bytes */
	bool io_done; /* EOF or error reported: no more reads or writes */
};

static void connect_next(Connection *conn);

static void target_clear(void *data)
{
	Target *t = data;

	g_free(t->host);
}

static void add_target(Connection *conn, const char *host, guint16 port)
{
	Target t = {g_strdup(host), port};

	g_array_append_val(conn->targets, t);
}

static unsigned default_port(const Connection *conn)
{
	return conn->direct_tls ? CONNECTION_DEFAULT_TLS_PORT
				: CONNECTION_DEFAULT_PORT;
}

/* "example.org" or "example.org (host xmpp.example.net)" */
static char *describe_peer(const Connection *conn)
{
	if (conn->host && g_ascii_strcasecmp(conn->host, conn->domain) != 0)
		return g_strdup_printf("%s (host %s)", conn->domain,
				       conn->host);
	return g_strdup(conn->domain);
}

static void stop_give_up(Connection *conn)
{
	if (conn->give_up) {
		g_source_destroy(conn->give_up);
		g_clear_pointer(&conn->give_up, g_source_unref);
	}
}

static void fail(Connection *conn, GError *error)
{
	g_autoptr(GError) owned = error;

	stop_give_up(conn);

	g_debug("connection to %s failed: %s", conn->domain, error->message);
	/* Last act: the owner may free conn in here. */
	if (conn->callbacks.failed)
		conn->callbacks.failed(conn->user_data, owned);
}

/* ---- timer -------------------------------------------------------------- */

/*
 * The session's next deadline as a source that reads it in prepare():
 * g_source_set_ready_time() writes the context's eventfd whenever the time
 * changes — after every read and write, as activity moves the deadline —
 * which costs a write, an extra poll() and a read each time (strace of
 * the bench). prepare() runs before every poll anyway.
 */
typedef struct {
	GSource source;
	int64_t deadline; /* g_get_monotonic_time() clock; INT64_MAX: none */
} TimerSource;

static gboolean timer_prepare(GSource *source, gint *ret_timeout)
{
	int64_t deadline = ((TimerSource *)source)->deadline;
	int64_t now, ms;

	*ret_timeout = -1;
	if (deadline == INT64_MAX)
		return FALSE;
	now = g_source_get_time(source);
	if (now >= deadline) {
		*ret_timeout = 0;
		return TRUE;
	}
	/* Rounded up: never wake before the deadline. */
	ms = (deadline - now + 999) / 1000;
	*ret_timeout = (gint)MIN(ms, (int64_t)G_MAXINT);
	return FALSE;
}

static gboolean timer_check(GSource *source)
{
	int64_t deadline = ((TimerSource *)source)->deadline;

	return deadline != INT64_MAX && g_source_get_time(source) >= deadline;
}

static gboolean timer_dispatch(GSource *source, GSourceFunc callback,
			       gpointer user_data)
{
	return callback(user_data);
}

static GSourceFuncs timer_funcs = {
	.prepare = timer_prepare,
	.check = timer_check,
	.dispatch = timer_dispatch,
};

static void set_deadline(Connection *conn, int64_t deadline)
{
	((TimerSource *)conn->timer)->deadline = deadline;
}

static void rearm_timer(Connection *conn)
{
	if (conn->timer)
		set_deadline(conn, conn->funcs->get_deadline(conn->sink));
}

/* ---- output ------------------------------------------------------------- */

static void stop_io(Connection *conn)
{
	conn->io_done = true;
	if (conn->resume_source) {
		g_source_destroy(conn->resume_source);
		g_clear_pointer(&conn->resume_source, g_source_unref);
	}
	if (conn->in_source) {
		g_source_destroy(conn->in_source);
		g_clear_pointer(&conn->in_source, g_source_unref);
	}
	if (conn->out_source) {
		g_source_destroy(conn->out_source);
		g_clear_pointer(&conn->out_source, g_source_unref);
	}
}

static void report_eof(Connection *conn, GError *error)
{
	g_autoptr(GError) owned = error;

	stop_io(conn);
	conn->funcs->eof(conn->sink, owned);
}

static void io_error(Connection *conn, const char *what, const GError *cause)
{
	g_autofree char *peer = describe_peer(conn);
	GError *error;

	if (cause &&
	    g_error_matches(cause, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
		error = g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_CLOSED,
				    "Connection to %s was reset", peer);
	else
		error = g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_IO,
				    "Connection to %s failed while %s: %s",
				    peer, what,
				    cause ? cause->message : "unknown error");
	report_eof(conn, error);
}

static gboolean on_writable(GSocket *socket, GIOCondition cond,
			    gpointer user_data);

static size_t pending(const Connection *conn)
{
	return conn->out->len - conn->out_sent;
}

static void consume(Connection *conn, size_t n)
{
	conn->out_sent += n;
	if (conn->out_sent == conn->out->len) {
		g_byte_array_set_size(conn->out, 0);
		conn->out_sent = 0;
	} else if (conn->out_sent >= COMPACT_MIN &&
		   conn->out_sent * 2 >= conn->out->len) {
		g_byte_array_remove_range(conn->out, 0, (guint)conn->out_sent);
		conn->out_sent = 0;
	}
}

/* One non-blocking send of what is pending: bytes written, 0 when the
 * socket is full, -1 on error (error set). */
static gssize send_some(Connection *conn, GError **error)
{
	gssize n = g_socket_send(conn->socket,
				 (const char *)conn->out->data + conn->out_sent,
				 pending(conn), NULL, error);

	if (n < 0 &&
	    g_error_matches(*error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
		g_clear_error(error);
		return 0;
	}
	return n;
}

/*
 * A server that stops reading while we have things to say is as dead as
 * one that stops answering, and our buffer must not grow with it.
 */
static bool over_budget(Connection *conn)
{
	g_autofree char *peer = NULL;

	if (pending(conn) <= conn->max_output)
		return false;
	peer = describe_peer(conn);
	report_eof(conn, g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_IO,
				     "%s stopped reading: more than %zu KiB "
				     "of output waiting",
				     peer, conn->max_output / 1024));
	return true;
}

/* Writes what the socket takes now; watches for room if some is left. */
static void write_pending(Connection *conn)
{
	while (!conn->io_done && pending(conn) > 0) {
		g_autoptr(GError) error = NULL;
		gssize n = send_some(conn, &error);

		if (n < 0) {
			io_error(conn, "sending", error);
			return;
		}
		if (n == 0)
			break;
		consume(conn, (size_t)n);
	}

	if (conn->io_done || over_budget(conn))
		return;
	if (pending(conn) > 0 && !conn->out_source) {
		conn->out_source =
			g_socket_create_source(conn->socket, G_IO_OUT, NULL);
		g_source_set_callback(conn->out_source,
				      (GSourceFunc)(void (*)(void))on_writable,
				      conn, NULL);
		g_source_attach(conn->out_source, conn->context);
	} else if (pending(conn) == 0 && conn->out_source) {
		g_source_destroy(conn->out_source);
		g_clear_pointer(&conn->out_source, g_source_unref);
	}
}

static void cancel_flush_idle(Connection *conn)
{
	if (conn->flush_idle) {
		g_source_destroy(conn->flush_idle);
		g_clear_pointer(&conn->flush_idle, g_source_unref);
	}
}

/* The one flush: take the sink's output, write, re-arm the timer. */
static void flush(Connection *conn)
{
	/* Whatever was scheduled is done by this one. */
	cancel_flush_idle(conn);
	if (!conn->io_done)
		conn->funcs->take_output(conn->sink, conn->out);
	write_pending(conn);
	rearm_timer(conn);
}

static gboolean on_writable(GSocket *socket, GIOCondition cond,
			    gpointer user_data)
{
	Connection *conn = user_data;

	flush(conn);
	/* write_pending() removes this source itself once drained. */
	return G_SOURCE_CONTINUE;
}

/* ---- input -------------------------------------------------------------- */

static gboolean on_readable(GSocket *socket, GIOCondition cond,
			    gpointer user_data);

static void watch_input(Connection *conn)
{
	conn->in_source = g_socket_create_source(
		conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
	/* As bus-mainloop.c's watches: no fd removal and re-adding (an
	 * eventfd wake-up) around each dispatch; no callback nests a loop. */
	g_source_set_can_recurse(conn->in_source, TRUE);
	g_source_set_callback(conn->in_source,
			      (GSourceFunc)(void (*)(void))on_readable, conn,
			      NULL);
	g_source_attach(conn->in_source, conn->context);
}

static bool is_congested(Connection *conn)
{
	return conn->callbacks.congested &&
	       conn->callbacks.congested(conn->user_data);
}

static gboolean on_resume_reading(gpointer user_data)
{
	Connection *conn = user_data;

	if (is_congested(conn))
		return G_SOURCE_CONTINUE;
	g_clear_pointer(&conn->resume_source, g_source_unref);
	if (!conn->io_done && !conn->in_source)
		watch_input(conn);
	return G_SOURCE_REMOVE;
}

/*
 * Backpressure: stop watching the socket until the consumer drains. A
 * short timer only while paused; nothing runs when the flood is over.
 */
static void pause_reading(Connection *conn)
{
	if (conn->in_source) {
		g_source_destroy(conn->in_source);
		g_clear_pointer(&conn->in_source, g_source_unref);
	}
	if (conn->resume_source)
		return;
	conn->resume_source =
		g_timeout_source_new(CONNECTION_CONGESTION_RETRY_MS);
	g_source_set_callback(conn->resume_source, on_resume_reading, conn,
			      NULL);
	g_source_attach(conn->resume_source, conn->context);
}

/* A burst this big (a login's presence flood) is worth a trim after. */
#define TRIM_AFTER_BYTES ((uint64_t)1024 * 1024)

/*
 * After a burst, glibc keeps the freed stanza garbage (interleaved with
 * the table's long-lived strings) as free heap: give it back once the
 * socket has nothing more to read. Measured at 50,000 contacts x 2
 * resources: ~1,080 -> ~680 bytes of RSS per contact (BENCHMARKS.md).
 */
static void trim_after_burst(Connection *conn)
{
	if (conn->fed_since_trim < TRIM_AFTER_BYTES)
		return;
	conn->fed_since_trim = 0;
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

static gboolean on_readable(GSocket *socket, GIOCondition cond,
			    gpointer user_data)
{
	Connection *conn = user_data;
	bool drained = false;

	for (int i = 0; i < MAX_READS_PER_DISPATCH && !conn->io_done; i++) {
		g_autoptr(GError) error = NULL;
		gssize n = g_socket_receive(conn->socket, conn->buf, READ_CHUNK,
					    NULL, &error);

		if (n > 0) {
			conn->fed_since_trim += (uint64_t)n;
			conn->funcs->feed(conn->sink, conn->buf, (size_t)n,
					  g_get_monotonic_time());
			if (!conn->io_done && is_congested(conn)) {
				pause_reading(conn);
				break;
			}
			/*
			 * A short read emptied the socket's queue: the burst
			 * is over for now (without a read that says EAGAIN;
			 * bytes arriving meanwhile make the socket ready
			 * again for the next iteration).
			 */
			if ((size_t)n < READ_CHUNK) {
				drained = true;
				break;
			}
			continue;
		}
		if (n == 0) {
			g_autofree char *peer = describe_peer(conn);

			report_eof(conn, g_error_new(CONNECTION_ERROR,
						     CONNECTION_ERROR_CLOSED,
						     "Connection to %s was "
						     "closed by the server",
						     peer));
			break;
		}
		if (g_error_matches(error, G_IO_ERROR,
				    G_IO_ERROR_WOULD_BLOCK)) {
			drained = true;
			break;
		}
		io_error(conn, "receiving", error);
		break;
	}

	flush(conn);
	/* io_done: the sink's eof() ran and the owner may be gone already. */
	if (drained && !conn->io_done) {
		if (conn->callbacks.input_drained)
			conn->callbacks.input_drained(conn->user_data);
		trim_after_burst(conn);
	}
	/*
	 * Still the same source? stop_io() destroyed it if the stream ended;
	 * returning REMOVE then is harmless.
	 */
	return conn->io_done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static gboolean on_timer(gpointer user_data)
{
	Connection *conn = user_data;

	set_deadline(conn, INT64_MAX);
	conn->funcs->tick(conn->sink, g_get_monotonic_time());
	flush(conn);
	return G_SOURCE_CONTINUE;
}

/* ---- connecting --------------------------------------------------------- */

static void set_up_socket(Connection *conn, GSocketConnection *stream)
{
	g_autoptr(GError) error = NULL;

	conn->stream = stream;
	conn->socket = g_object_ref(g_socket_connection_get_socket(stream));
	/*
	 * GSocketClient's timeout was for connecting; from here on the
	 * session's own deadlines (and TCP keepalive) judge the peer.
	 */
	g_socket_set_timeout(conn->socket, 0);
	g_socket_set_blocking(conn->socket, FALSE);
	g_socket_set_keepalive(conn->socket, TRUE);
	/* Stanzas are small and interactive: do not wait for Nagle. */
	if (!g_socket_set_option(conn->socket, IPPROTO_TCP, TCP_NODELAY, 1,
				 &error))
		g_debug("TCP_NODELAY: %s", error->message);

	watch_input(conn);

	conn->timer = g_source_new(&timer_funcs, sizeof(TimerSource));
	g_source_set_callback(conn->timer, on_timer, conn, NULL);
	set_deadline(conn, INT64_MAX);
	g_source_attach(conn->timer, conn->context);
}

static void connect_done(GObject *source, GAsyncResult *result,
			 gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GSocketConnection *stream;
	Connection *conn;

	stream = g_socket_client_connect_finish(G_SOCKET_CLIENT(source), result,
						&error);
	if (!stream && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* conn is gone */
	conn = user_data;

	if (!stream) {
		g_debug("connect to %s: %s", conn->host, error->message);
		g_clear_error(&conn->last_error);
		conn->last_error = g_steal_pointer(&error);
		connect_next(conn);
		return;
	}

	g_debug("connected to %s for %s", conn->host, conn->domain);
	stop_give_up(conn);
	set_up_socket(conn, stream);
	if (conn->callbacks.connected)
		conn->callbacks.connected(conn->user_data, conn->host);
	conn->funcs->start(conn->sink, g_get_monotonic_time());
	flush(conn);
}

static void connect_next(Connection *conn)
{
	g_autoptr(GSocketConnectable) address = NULL;
	const Target *t;

	if (conn->next_target >= conn->targets->len) {
		const char *cause = conn->last_error ? conn->last_error->message
						     : "no address";
		const char *colon;

		/* GSocketClient says "Could not connect to HOST: why". */
		if (g_str_has_prefix(cause, "Could not connect to ") &&
		    (colon = strstr(cause, ": ")))
			cause = colon + 2;
		fail(conn,
		     g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_CONNECT,
				 "Could not connect to %s (tried %s): %s",
				 conn->domain, conn->tried->str, cause));
		return;
	}

	t = &g_array_index(conn->targets, Target, conn->next_target++);
	g_free(conn->host);
	conn->host = g_strdup(t->host);
	if (conn->tried->len)
		g_string_append(conn->tried, ", ");
	g_string_append_printf(conn->tried, "%s:%u", t->host, t->port);

	g_debug("connecting to %s port %u for %s", t->host, t->port,
		conn->domain);
	address = g_network_address_new(t->host, t->port);
	g_socket_client_connect_async(conn->client, address, conn->cancellable,
				      connect_done, conn);
}

static void resolved(GObject *source, GAsyncResult *result, gpointer user_data)
{
	g_autoptr(GError) error = NULL;
	GList *list;
	Connection *conn;

	list = g_resolver_lookup_service_finish(G_RESOLVER(source), result,
						&error);
	if (!list && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return; /* conn is gone */
	conn = user_data;

	if (!list) {
		/*
		 * RFC 6120 §3.2.1 step 9 / §3.2.2: no SRV records (or a failed
		 * look-up) → the domain itself at the default port.
		 */
		g_debug("no SRV records for %s (%s), trying %s:%u",
			conn->domain, error ? error->message : "empty",
			conn->domain, default_port(conn));
		add_target(conn, conn->domain, (guint16)default_port(conn));
		connect_next(conn);
		return;
	}

	/*
	 * RFC 2782: a single target "." means the service is decidedly not
	 * available at this domain; g_srv_target_list_sort() drops it and
	 * returns NULL then. Check before sorting as well, in case a
	 * resolver hands us the root as "".
	 */
	if (!list->next) {
		const char *h = g_srv_target_get_hostname(list->data);

		if (!h || !*h || strcmp(h, ".") == 0) {
			g_list_free_full(list,
					 (GDestroyNotify)g_srv_target_free);
			list = NULL;
		}
	}
	if (list)
		list = g_srv_target_list_sort(list);
	if (!list) {
		fail(conn,
		     g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_NO_SERVICE,
				 "%s does not offer XMPP service (its "
				 "SRV record points to \".\")",
				 conn->domain));
		return;
	}

	for (GList *l = list; l; l = l->next) {
		GSrvTarget *t = l->data;
		const char *h = g_srv_target_get_hostname(t);

		if (!h || !*h || strcmp(h, ".") == 0)
			continue;
		add_target(conn, h, g_srv_target_get_port(t));
	}
	g_list_free_full(list, (GDestroyNotify)g_srv_target_free);
	connect_next(conn);
}

static gboolean on_give_up(gpointer user_data)
{
	Connection *conn = user_data;

	/* Pending callbacks see CANCELLED and leave conn alone. */
	g_cancellable_cancel(conn->cancellable);
	if (conn->tried->len)
		fail(conn,
		     g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_TIMED_OUT,
				 "Timed out connecting to %s (tried %s)",
				 conn->domain, conn->tried->str));
	else
		fail(conn,
		     g_error_new(CONNECTION_ERROR, CONNECTION_ERROR_TIMED_OUT,
				 "Timed out looking up the servers of %s",
				 conn->domain));
	return G_SOURCE_REMOVE;
}

Connection *connection_new(const ConnectionConfig *config,
			   const ConnectionSinkFuncs *funcs, void *sink,
			   const ConnectionCallbacks *callbacks,
			   void *user_data)
{
	Connection *conn;
	int64_t timeout;

	g_return_val_if_fail(config && config->domain, NULL);
	g_return_val_if_fail(funcs && callbacks, NULL);

	conn = g_new0(Connection, 1);
	conn->domain = g_strdup(config->domain);
	conn->server = g_strdup(config->server);
	conn->port = config->port;
	conn->direct_tls = config->direct_tls;
	conn->connect_timeout = config->connect_timeout;
	conn->funcs = funcs;
	conn->sink = sink;
	conn->callbacks = *callbacks;
	conn->user_data = user_data;
	conn->context = g_main_context_ref_thread_default();
	conn->cancellable = g_cancellable_new();
	conn->targets = g_array_new(FALSE, TRUE, sizeof(Target));
	g_array_set_clear_func(conn->targets, target_clear);
	conn->tried = g_string_new(NULL);
	conn->out = g_byte_array_new();
	conn->max_output = config->max_output ? config->max_output
					      : CONNECTION_DEFAULT_MAX_OUTPUT;
	conn->buf = g_malloc(READ_CHUNK);

	timeout = conn->connect_timeout > 0 ? conn->connect_timeout
					    : DEFAULT_CONNECT_TIMEOUT;
	conn->client = g_socket_client_new();
	/*
	 * Straight TCP to the XMPP server: no HTTP/SOCKS proxy resolution,
	 * which would also load GIO proxy modules on the first connect.
	 */
	g_socket_client_set_enable_proxy(conn->client, FALSE);
	g_socket_client_set_timeout(
		conn->client,
		(guint)MAX(1, (timeout + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC));

	timeout = config->total_timeout > 0 ? config->total_timeout
					    : DEFAULT_TOTAL_TIMEOUT;
	conn->give_up = g_timeout_source_new((guint)(timeout / 1000));
	g_source_set_callback(conn->give_up, on_give_up, conn, NULL);
	g_source_attach(conn->give_up, conn->context);

	if (conn->server && *conn->server) {
		add_target(conn, conn->server,
			   (guint16)(conn->port ? conn->port
						: default_port(conn)));
		connect_next(conn);
	} else {
		g_autoptr(GResolver) resolver = g_resolver_get_default();

		/* XEP-0368 §3 for direct TLS, RFC 6120 §3.2.1 otherwise. */
		g_debug("looking up SRV %s for %s",
			conn->direct_tls ? "_xmpps-client._tcp"
					 : "_xmpp-client._tcp",
			conn->domain);
		g_resolver_lookup_service_async(
			resolver,
			conn->direct_tls ? "xmpps-client" : "xmpp-client",
			"tcp", conn->domain, conn->cancellable, resolved, conn);
	}
	return conn;
}

static gboolean flush_idle_cb(gpointer user_data)
{
	/* flush() destroys this source: GLib keeps it alive until the
	 * dispatch returns. */
	flush(user_data);
	return G_SOURCE_REMOVE;
}

void connection_schedule_flush(Connection *conn)
{
	g_return_if_fail(conn);

	/* Before the socket is up connect_done() flushes after start(). */
	if (!conn->socket || conn->io_done || conn->flush_idle)
		return;
	conn->flush_idle = g_idle_source_new();
	g_source_set_priority(conn->flush_idle, G_PRIORITY_DEFAULT);
	g_source_set_callback(conn->flush_idle, flush_idle_cb, conn, NULL);
	g_source_set_static_name(conn->flush_idle, "[presenced] flush");
	g_source_attach(conn->flush_idle, conn->context);
}

void connection_flush_scheduled(Connection *conn)
{
	if (conn && conn->flush_idle)
		flush(conn);
}

bool connection_is_connected(const Connection *conn)
{
	return conn && conn->socket && !conn->io_done;
}

const char *connection_get_host(const Connection *conn)
{
	return conn ? conn->host : NULL;
}

void connection_free(Connection *conn)
{
	if (!conn)
		return;

	g_cancellable_cancel(conn->cancellable);
	stop_give_up(conn);
	if (conn->socket && !conn->io_done) {
		/*
		 * Best effort, without blocking: the closing </stream:stream>
		 * and TLS close_notify are usually still queued here.
		 */
		conn->funcs->take_output(conn->sink, conn->out);
		while (pending(conn) > 0) {
			g_autoptr(GError) error = NULL;
			gssize n = send_some(conn, &error);

			if (n <= 0)
				break;
			consume(conn, (size_t)n);
		}
	}
	stop_io(conn);
	cancel_flush_idle(conn);
	if (conn->timer) {
		g_source_destroy(conn->timer);
		g_source_unref(conn->timer);
	}
	if (conn->socket)
		(void)g_socket_close(conn->socket, NULL);
	g_clear_object(&conn->socket);
	g_clear_object(&conn->stream);
	g_clear_object(&conn->client);
	g_clear_object(&conn->cancellable);
	g_main_context_unref(conn->context);
	g_array_unref(conn->targets);
	g_string_free(conn->tried, TRUE);
	g_clear_error(&conn->last_error);
	g_byte_array_unref(conn->out);
	g_free(conn->buf);
	g_free(conn->host);
	g_free(conn->server);
	g_free(conn->domain);
	g_free(conn);
}
