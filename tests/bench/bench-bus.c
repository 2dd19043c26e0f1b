/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <dbus/dbus.h>
#include <gio/gio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-bus.h"
#include "bench-wire.h"

#define BUS_NAME "im.presenced.Presence1"
#define BUS_PATH "/im/presenced/Presence1"
#define BUS_IFACE "im.presenced.Presence1"

struct _BenchBus {
	GPid pid;
	char *address;
};

BenchBus *bench_bus_new(const char *dir, GError **error)
{
	g_autofree char *conf = g_build_filename(dir, "bus.conf", NULL);
	g_autofree char *text = g_strdup_printf(
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus "
		"Configuration 1.0//EN\" \"http://www.freedesktop.org/"
		"standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig><type>session</type>"
		"<listen>unix:dir=%s</listen><auth>EXTERNAL</auth>"
		"<policy context='default'><allow send_destination='*'/>"
		"<allow eavesdrop='true'/><allow own='*'/></policy>"
		"</busconfig>\n",
		dir);
	const char *argv[] = {"dbus-daemon", "--nofork", "--print-address=1",
			      NULL, NULL};
	g_autofree char *arg = g_strdup_printf("--config-file=%s", conf);
	BenchBus *bus;
	int out_fd = -1;
	char line[1024];
	ssize_t n, got = 0;

	if (!g_file_set_contents(conf, text, -1, error))
		return NULL;
	argv[3] = arg;
	bus = g_new0(BenchBus, 1);
	if (!g_spawn_async_with_pipes(
		    NULL, (char **)argv, NULL,
		    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
			    G_SPAWN_STDERR_TO_DEV_NULL,
		    NULL, NULL, &bus->pid, NULL, &out_fd, NULL, error)) {
		g_free(bus);
		return NULL;
	}
	while (got < (ssize_t)sizeof(line) - 1 &&
	       (n = read(out_fd, line + got, sizeof(line) - 1 - (size_t)got)) >
		       0) {
		got += n;
		if (memchr(line, '\n', (size_t)got) != NULL)
			break;
	}
	close(out_fd);
	line[got > 0 ? got : 0] = '\0';
	g_strstrip(line);
	if (line[0] == '\0') {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "dbus-daemon printed no address");
		bench_bus_free(bus);
		return NULL;
	}
	bus->address = g_strdup(line);
	return bus;
}

void bench_bus_free(BenchBus *bus)
{
	if (bus == NULL)
		return;
	if (bus->pid > 0) {
		kill(bus->pid, SIGTERM);
		(void)waitpid(bus->pid, NULL, 0);
		g_spawn_close_pid(bus->pid);
	}
	g_free(bus->address);
	g_free(bus);
}

GPid bench_bus_get_pid(const BenchBus *bus)
{
	return bus->pid;
}

const char *bench_bus_get_address(const BenchBus *bus)
{
	return bus->address;
}

static DBusConnection *connect_bus(BenchBus *bus, GError **error)
{
	DBusError err;
	DBusConnection *c;

	dbus_error_init(&err);
	c = dbus_connection_open_private(bus->address, &err);
	if (c == NULL || !dbus_bus_register(c, &err)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "bus: %s",
			    err.message);
		dbus_error_free(&err);
		if (c != NULL) {
			dbus_connection_close(c);
			dbus_connection_unref(c);
		}
		return NULL;
	}
	dbus_connection_set_exit_on_disconnect(c, FALSE);
	return c;
}

/* ---- the watcher ------------------------------------------------------- */

struct _BenchWatch {
	DBusConnection *conn;
	BenchWatchKind kind;
	GThread *thread;
	gint stop;
	gint64 name_owned;
	guint64 n_signals;
	guint64 n_entries;
	unsigned probe_max;
	gint64 *probe;
	gint64 last_entry; /* the latest entry that was not a probe */
	gint64 end[BENCH_WATCH_ENDS];
};

static void note_status(BenchWatch *w, const char *status, int64_t now)
{
	if (g_str_has_prefix(status, "lat-")) {
		guint64 i = g_ascii_strtoull(status + 4, NULL, 10);
		if (i < w->probe_max && w->probe[i] == 0)
			__atomic_store_n(&w->probe[i], now, __ATOMIC_RELEASE);
	} else if (g_str_has_prefix(status, "end-")) {
		guint64 i = g_ascii_strtoull(status + 4, NULL, 10);
		if (i < BENCH_WATCH_ENDS && w->end[i] == 0)
			__atomic_store_n(&w->end[i], now, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&w->last_entry, now, __ATOMIC_RELEASE);
	}
}

static DBusHandlerResult filter(DBusConnection *c, DBusMessage *m, void *data)
{
	BenchWatch *w = data;
	int64_t now = bench_now_us();
	DBusMessageIter it, arr, st;
	const char *s1, *s2, *s3;

	if (dbus_message_is_signal(m, DBUS_INTERFACE_DBUS,
				   "NameOwnerChanged")) {
		if (dbus_message_get_args(
			    m, NULL, DBUS_TYPE_STRING, &s1, DBUS_TYPE_STRING,
			    &s2, DBUS_TYPE_STRING, &s3, DBUS_TYPE_INVALID) &&
		    strcmp(s1, BUS_NAME) == 0 && s3[0] != '\0')
			__atomic_store_n(&w->name_owned, now, __ATOMIC_RELEASE);
	} else if (dbus_message_is_signal(m, BUS_IFACE, "PresenceChanged")) {
		__atomic_add_fetch(&w->n_signals, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&w->n_entries, 1, __ATOMIC_RELAXED);
		if (dbus_message_get_args(
			    m, NULL, DBUS_TYPE_STRING, &s1, DBUS_TYPE_STRING,
			    &s2, DBUS_TYPE_STRING, &s3, DBUS_TYPE_INVALID))
			note_status(w, s3, now);
	} else if (dbus_message_is_signal(m, BUS_IFACE, "ContactsChanged")) {
		guint64 n = 0;
		__atomic_add_fetch(&w->n_signals, 1, __ATOMIC_RELAXED);
		if (dbus_message_iter_init(m, &it) &&
		    dbus_message_iter_get_arg_type(&it) == DBUS_TYPE_ARRAY) {
			dbus_message_iter_recurse(&it, &arr);
			while (dbus_message_iter_get_arg_type(&arr) ==
			       DBUS_TYPE_STRUCT) {
				dbus_message_iter_recurse(&arr, &st);
				n++;
				dbus_message_iter_next(&st);
				dbus_message_iter_next(&st);
				if (dbus_message_iter_get_arg_type(&st) ==
				    DBUS_TYPE_STRING) {
					dbus_message_iter_get_basic(&st, &s3);
					note_status(w, s3, now);
				}
				dbus_message_iter_next(&arr);
			}
		}
		__atomic_add_fetch(&w->n_entries, n, __ATOMIC_RELAXED);
	}
	return DBUS_HANDLER_RESULT_HANDLED;
}

static gpointer watch_thread(gpointer data)
{
	BenchWatch *w = data;

	while (!g_atomic_int_get(&w->stop) &&
	       dbus_connection_read_write_dispatch(w->conn, 100))
		;
	return NULL;
}

BenchWatch *bench_watch_new(BenchBus *bus, BenchWatchKind kind,
			    unsigned probe_max, GError **error)
{
	BenchWatch *w = g_new0(BenchWatch, 1);
	DBusError err;

	w->kind = kind;
	w->probe_max = probe_max;
	w->probe = g_new0(gint64, probe_max + 1);
	w->conn = connect_bus(bus, error);
	if (w->conn == NULL) {
		g_free(w->probe);
		g_free(w);
		return NULL;
	}
	dbus_error_init(&err);
	dbus_bus_add_match(w->conn,
			   "type='signal',sender='" DBUS_SERVICE_DBUS
			   "',member='NameOwnerChanged',arg0='" BUS_NAME "'",
			   &err);
	dbus_bus_add_match(w->conn,
			   kind == BENCH_WATCH_CONTACTS_CHANGED
				   ? "type='signal',interface='" BUS_IFACE
				     "',member='ContactsChanged'"
				   : "type='signal',interface='" BUS_IFACE
				     "',member='PresenceChanged'",
			   &err);
	if (dbus_error_is_set(&err)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "AddMatch: %s", err.message);
		dbus_error_free(&err);
	}
	dbus_connection_add_filter(w->conn, filter, w, NULL);
	w->thread = g_thread_new("bench-watch", watch_thread, w);
	return w;
}

void bench_watch_free(BenchWatch *w)
{
	if (w == NULL)
		return;
	g_atomic_int_set(&w->stop, 1);
	g_thread_join(w->thread);
	dbus_connection_close(w->conn);
	dbus_connection_unref(w->conn);
	g_free(w->probe);
	g_free(w);
}

int64_t bench_watch_get_name_owned(BenchWatch *w)
{
	return __atomic_load_n(&w->name_owned, __ATOMIC_ACQUIRE);
}

uint64_t bench_watch_get_signals(BenchWatch *w)
{
	return __atomic_load_n(&w->n_signals, __ATOMIC_RELAXED);
}

uint64_t bench_watch_get_entries(BenchWatch *w)
{
	return __atomic_load_n(&w->n_entries, __ATOMIC_RELAXED);
}

int64_t bench_watch_get_end(BenchWatch *w, unsigned i)
{
	if (i >= BENCH_WATCH_ENDS)
		return 0;
	return __atomic_load_n(&w->end[i], __ATOMIC_ACQUIRE);
}

int64_t bench_watch_get_last_entry(BenchWatch *w)
{
	return __atomic_load_n(&w->last_entry, __ATOMIC_ACQUIRE);
}

int64_t bench_watch_get_probe(BenchWatch *w, unsigned i)
{
	if (i >= w->probe_max)
		return 0;
	return __atomic_load_n(&w->probe[i], __ATOMIC_ACQUIRE);
}

/* ---- the SetPresence caller -------------------------------------------- */

struct _BenchSetter {
	DBusConnection *conn;
	GThread *thread;
	unsigned n;
	const BenchServerEvents *ev;
	int64_t *call;
	gint done;
	unsigned failed;
};

/* The a(sss) of ListContacts into jid → "show\tstatus". */
static GHashTable *read_contacts(DBusMessage *reply)
{
	GHashTable *table =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	DBusMessageIter it, arr;

	dbus_message_iter_init(reply, &it);
	if (dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
		return table;
	for (dbus_message_iter_recurse(&it, &arr);
	     dbus_message_iter_get_arg_type(&arr) == DBUS_TYPE_STRUCT;
	     dbus_message_iter_next(&arr)) {
		DBusMessageIter st;
		const char *f[3] = {"", "", ""};

		dbus_message_iter_recurse(&arr, &st);
		for (int i = 0; i < 3; i++) {
			if (dbus_message_iter_get_arg_type(&st) ==
			    DBUS_TYPE_STRING)
				dbus_message_iter_get_basic(&st, &f[i]);
			dbus_message_iter_next(&st);
		}
		g_hash_table_insert(table, g_strdup(f[0]),
				    g_strdup_printf("%s\t%s", f[1], f[2]));
	}
	return table;
}

GHashTable *bench_bus_list_contacts(BenchBus *bus, GError **error)
{
	DBusConnection *c = connect_bus(bus, error);
	DBusMessage *m, *reply;
	GHashTable *table;
	DBusError err;

	if (c == NULL)
		return NULL;
	m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, BUS_IFACE,
					 "ListContacts");
	dbus_error_init(&err);
	reply = dbus_connection_send_with_reply_and_block(c, m, 60000, &err);
	dbus_message_unref(m);
	dbus_connection_close(c);
	dbus_connection_unref(c);
	if (reply == NULL) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "ListContacts: %s", err.message);
		dbus_error_free(&err);
		return NULL;
	}
	table = read_contacts(reply);
	dbus_message_unref(reply);
	return table;
}

/* *ret_sent: the monotonic µs once the call is built, just before it is
 * handed to the bus (the client's own marshalling is not the daemon's
 * latency). */
static bool set_presence(DBusConnection *c, const char *status,
			 int64_t *ret_sent)
{
	DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH,
						      BUS_IFACE, "SetPresence");
	DBusMessageIter it, dict;
	const char *show = "available";
	DBusError err;
	DBusMessage *reply;

	dbus_message_iter_init_append(m, &it);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &show);
	dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &status);
	dbus_message_iter_open_container(&it, DBUS_TYPE_ARRAY, "{sv}", &dict);
	dbus_message_iter_close_container(&it, &dict);
	dbus_error_init(&err);
	__atomic_store_n(ret_sent, bench_now_us(), __ATOMIC_RELEASE);
	reply = dbus_connection_send_with_reply_and_block(c, m, 5000, &err);
	dbus_message_unref(m);
	if (reply == NULL) {
		static gint warned;
		if (g_atomic_int_add(&warned, 1) == 0)
			g_printerr("SetPresence: %s\n", err.message);
		dbus_error_free(&err);
		return false;
	}
	dbus_message_unref(reply);
	return true;
}

static gpointer setter_thread(gpointer data)
{
	BenchSetter *s = data;
	unsigned misses = 0;

	for (unsigned i = 0; i < s->n && misses < 3; i++) {
		char status[32];
		int64_t deadline;

		g_snprintf(status, sizeof(status), "sp-%u", i);
		if (!set_presence(s->conn, status, &s->call[i])) {
			s->failed++;
			misses++;
			continue;
		}
		/* Wait for the server to see it, so calls do not queue. */
		deadline = bench_now_us() + 1000000;
		while (__atomic_load_n(&s->ev->sp_time[i], __ATOMIC_ACQUIRE) ==
			       0 &&
		       bench_now_us() < deadline)
			g_usleep(20);
		if (__atomic_load_n(&s->ev->sp_time[i], __ATOMIC_ACQUIRE) ==
		    0) {
			s->failed++;
			misses++;
		} else {
			misses = 0;
		}
	}
	g_atomic_int_set(&s->done, 1);
	return NULL;
}

BenchSetter *bench_setter_start(BenchBus *bus, unsigned n,
				const BenchServerEvents *ev, int64_t *ret_call)
{
	BenchSetter *s = g_new0(BenchSetter, 1);
	g_autoptr(GError) error = NULL;

	s->conn = connect_bus(bus, &error);
	if (s->conn == NULL) {
		g_printerr("%s\n", error->message);
		g_free(s);
		return NULL;
	}
	s->n = MIN(n, BENCH_SP_MAX);
	s->ev = ev;
	s->call = ret_call;
	s->thread = g_thread_new("bench-setter", setter_thread, s);
	return s;
}

bool bench_setter_is_done(BenchSetter *s)
{
	return g_atomic_int_get(&s->done) != 0;
}

unsigned bench_setter_finish(BenchSetter *s)
{
	unsigned failed;

	g_thread_join(s->thread);
	dbus_connection_close(s->conn);
	dbus_connection_unref(s->conn);
	failed = s->failed;
	g_free(s);
	return failed;
}

/* ---- the bus's own floors ------------------------------------------------ */

static DBusMessage *floor_signal(unsigned i, const char *status)
{
	char jid[64];
	const char *j = jid, *show = "away";
	DBusMessage *m =
		dbus_message_new_signal(BUS_PATH, BUS_IFACE, "PresenceChanged");

	g_snprintf(jid, sizeof(jid), BENCH_CONTACT_FMT, i);
	if (m != NULL &&
	    !dbus_message_append_args(m, DBUS_TYPE_STRING, &j, DBUS_TYPE_STRING,
				      &show, DBUS_TYPE_STRING, &status,
				      DBUS_TYPE_INVALID))
		g_clear_pointer(&m, dbus_message_unref);
	return m;
}

/* One round trip: the bus has handled everything c sent before it. */
static bool bus_ping(DBusConnection *c)
{
	DBusMessage *m = dbus_message_new_method_call(
		DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_PEER, "Ping");
	DBusMessage *r;
	DBusError err;

	dbus_error_init(&err);
	r = dbus_connection_send_with_reply_and_block(c, m, 60000, &err);
	dbus_message_unref(m);
	if (r == NULL) {
		dbus_error_free(&err);
		return false;
	}
	dbus_message_unref(r);
	return true;
}

bool bench_bus_floor(BenchBus *bus, unsigned n, unsigned probes,
		     double (*cpu_seconds)(GPid pid), double *ret_us_per_signal,
		     GArray *ret_hop_us, GError **error)
{
	DBusConnection *c = connect_bus(bus, error);
	const char *status = "Working from the Berlin office on the quarterly "
			     "plan, back after lunch (1/0)";
	BenchWatch *w;
	double cpu0;
	bool ok = false;

	if (c == NULL)
		return false;
	/* Nobody listens: what dbus-daemon pays per signal it only reads,
	 * sent 256 at a time as presenced sends a batch. */
	cpu0 = cpu_seconds(bus->pid);
	for (unsigned i = 0; i < n; i++) {
		DBusMessage *m = floor_signal(i, status);

		if (m == NULL || !dbus_connection_send(c, m, NULL)) {
			g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
				    "bus floor: out of memory");
			goto out;
		}
		dbus_message_unref(m);
		if (i % 256 == 255)
			dbus_connection_flush(c);
	}
	dbus_connection_flush(c);
	if (!bus_ping(c)) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "bus floor: no answer to Ping");
		goto out;
	}
	*ret_us_per_signal = 1e6 * (cpu_seconds(bus->pid) - cpu0) / n;

	/* One hop: a signal to a client's thread, the next once it came. */
	w = bench_watch_new(bus, BENCH_WATCH_PRESENCE_CHANGED, probes, error);
	if (w == NULL)
		goto out;
	for (unsigned i = 0; i < probes; i++) {
		char text[32];
		DBusMessage *m;
		int64_t t0, end;

		g_snprintf(text, sizeof(text), "lat-%u", i);
		m = floor_signal(0, text);
		if (m == NULL)
			break;
		g_usleep(1000); /* each hop starts from an idle bus */
		t0 = bench_now_us();
		(void)dbus_connection_send(c, m, NULL);
		dbus_connection_flush(c);
		dbus_message_unref(m);
		end = t0 + 1000000;
		while (bench_watch_get_probe(w, i) == 0 && bench_now_us() < end)
			g_usleep(50);
		if (bench_watch_get_probe(w, i) != 0) {
			double us = (double)(bench_watch_get_probe(w, i) - t0);
			g_array_append_val(ret_hop_us, us);
		}
	}
	bench_watch_free(w);
	ok = true;
out:
	dbus_connection_close(c);
	dbus_connection_unref(c);
	return ok;
}
