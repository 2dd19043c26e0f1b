/* SPDX-License-Identifier: MIT */
/*
 * libdbus ↔ GLib main loop glue, after the shape of BlueZ gdbus/mainloop.c:
 * a GSource per *enabled* watch (toggling adds or removes it), a GLib
 * timeout per enabled DBusTimeout; messages read by a watch are dispatched
 * right after it, others (queued by a blocking call, say) from an idle,
 * until DBUS_DISPATCH_COMPLETE.
 */
#include "config.h"

#include <glib-unix.h>

#include "dbus/bus-mainloop.h"

typedef struct {
	GMainContext *context;
	GSource *dispatch_idle; /* NULL unless a dispatch is scheduled */
	DBusConnection *conn;	/* not a reference: the data lives in conn */
} LoopData;

typedef struct {
	LoopData *loop;
	DBusWatch *watch;
	GSource *source; /* NULL while the watch is disabled */
} WatchData;

typedef struct {
	LoopData *loop;
	DBusTimeout *timeout;
	GSource *source;
} TimeoutData;

static dbus_int32_t loop_slot = -1;

static void source_drop(GSource **source)
{
	if (*source) {
		g_source_destroy(*source);
		g_source_unref(*source);
		*source = NULL;
	}
}

/* Handles every queued message. The caller holds a reference to conn. */
static void dispatch_all(DBusConnection *conn)
{
	while (dbus_connection_dispatch(conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
}

static gboolean dispatch_idle_cb(gpointer user_data)
{
	LoopData *loop = user_data;
	DBusConnection *conn = loop->conn;

	/* Clear first: a dispatch status change during dispatching may
	 * schedule a new idle, which must not be confused with this one. */
	g_clear_pointer(&loop->dispatch_idle, g_source_unref);

	dbus_connection_ref(conn);
	dispatch_all(conn);
	dbus_connection_unref(conn);
	return G_SOURCE_REMOVE;
}

static void schedule_dispatch(LoopData *loop)
{
	if (loop->dispatch_idle)
		return;
	loop->dispatch_idle = g_idle_source_new();
	/* Incoming messages go before our own low-priority batching. */
	g_source_set_priority(loop->dispatch_idle, G_PRIORITY_DEFAULT);
	g_source_set_callback(loop->dispatch_idle, dispatch_idle_cb, loop,
			      NULL);
	g_source_set_static_name(loop->dispatch_idle,
				 "[presenced] dbus dispatch");
	g_source_attach(loop->dispatch_idle, loop->context);
}

static void dispatch_status_cb(DBusConnection *conn, DBusDispatchStatus status,
			       void *data)
{
	LoopData *loop = data;

	if (status == DBUS_DISPATCH_DATA_REMAINS)
		schedule_dispatch(loop);
}

/*
 * libdbus asks for a wake-up whenever it queues a message, in or out
 * (three times for each method call received). Only a loop blocked in
 * poll() in another thread needs one: on the loop's own thread we are in
 * a dispatch and the loop looks at every source again before it polls, so
 * the eventfd write, the extra poll() it causes and the read are skipped.
 */
static void wakeup_cb(void *data)
{
	LoopData *loop = data;

	if (!g_main_context_is_owner(loop->context))
		g_main_context_wakeup(loop->context);
}

/* ---- watches ------------------------------------------------------------ */

static gboolean watch_cb(gint fd, GIOCondition cond, gpointer user_data)
{
	WatchData *wd = user_data;
	DBusConnection *conn = wd->loop->conn;
	LoopData *loop = wd->loop;
	unsigned int flags = 0;

	if (cond & G_IO_IN)
		flags |= DBUS_WATCH_READABLE;
	if (cond & G_IO_OUT)
		flags |= DBUS_WATCH_WRITABLE;
	if (cond & G_IO_HUP)
		flags |= DBUS_WATCH_HANGUP;
	if (cond & G_IO_ERR)
		flags |= DBUS_WATCH_ERROR;

	/*
	 * Handling may drop the last other reference (a disconnect) and may
	 * remove this watch, freeing wd: hold the connection, touch wd no
	 * more.
	 */
	dbus_connection_ref(conn);
	(void)dbus_watch_handle(wd->watch, flags);
	/*
	 * What was just read is handled in this dispatch, not from an idle
	 * in the next iteration: a SetPresence reaches the server one poll()
	 * and one pass over the sources sooner (BENCHMARKS.md). Still
	 * attached? A disconnect during handling may have detached us.
	 */
	if (dbus_connection_get_data(conn, loop_slot) == loop &&
	    dbus_connection_get_dispatch_status(conn) ==
		    DBUS_DISPATCH_DATA_REMAINS) {
		source_drop(&loop->dispatch_idle);
		dispatch_all(conn);
	}
	dbus_connection_unref(conn);
	return G_SOURCE_CONTINUE;
}

static void watch_enable(WatchData *wd)
{
	unsigned int flags = dbus_watch_get_flags(wd->watch);
	GIOCondition cond = G_IO_HUP | G_IO_ERR;

	if (wd->source)
		return;
	if (flags & DBUS_WATCH_READABLE)
		cond |= G_IO_IN;
	if (flags & DBUS_WATCH_WRITABLE)
		cond |= G_IO_OUT;
	wd->source =
		g_unix_fd_source_new(dbus_watch_get_unix_fd(wd->watch), cond);
	g_source_set_callback(wd->source, G_SOURCE_FUNC(watch_cb), wd, NULL);
	g_source_set_static_name(wd->source, "[presenced] dbus watch");
	/*
	 * GLib removes a source's fds around each dispatch and adds them back
	 * (against recursion from a nested loop, which no callback here
	 * runs), and adding one writes the context's eventfd: an extra
	 * wake-up, poll() and read per dispatch. CAN_RECURSE skips that.
	 */
	g_source_set_can_recurse(wd->source, TRUE);
	g_source_attach(wd->source, wd->loop->context);
}

static void watch_data_free(void *data)
{
	WatchData *wd = data;

	source_drop(&wd->source);
	g_free(wd);
}

static dbus_bool_t add_watch_cb(DBusWatch *watch, void *data)
{
	WatchData *wd = g_new0(WatchData, 1);

	wd->loop = data;
	wd->watch = watch;
	/* libdbus frees wd with the watch, or when the data is replaced. */
	dbus_watch_set_data(watch, wd, watch_data_free);
	if (dbus_watch_get_enabled(watch))
		watch_enable(wd);
	return TRUE;
}

static void remove_watch_cb(DBusWatch *watch, void *data)
{
	dbus_watch_set_data(watch, NULL, NULL);
}

static void toggle_watch_cb(DBusWatch *watch, void *data)
{
	WatchData *wd = dbus_watch_get_data(watch);

	if (!wd)
		return;
	if (dbus_watch_get_enabled(watch))
		watch_enable(wd);
	else
		source_drop(&wd->source);
}

/* ---- timeouts ----------------------------------------------------------- */

static gboolean timeout_cb(gpointer user_data)
{
	TimeoutData *td = user_data;
	DBusConnection *conn = td->loop->conn;
	LoopData *loop = td->loop;

	/* libdbus timeouts repeat until removed or disabled; handling may
	 * remove this one and free td. */
	dbus_connection_ref(conn);
	(void)dbus_timeout_handle(td->timeout);
	if (dbus_connection_get_dispatch_status(conn) ==
	    DBUS_DISPATCH_DATA_REMAINS)
		schedule_dispatch(loop);
	dbus_connection_unref(conn);
	return G_SOURCE_CONTINUE;
}

static void timeout_enable(TimeoutData *td)
{
	if (td->source)
		return;
	td->source = g_timeout_source_new(
		(guint)dbus_timeout_get_interval(td->timeout));
	g_source_set_callback(td->source, timeout_cb, td, NULL);
	g_source_set_static_name(td->source, "[presenced] dbus timeout");
	g_source_attach(td->source, td->loop->context);
}

static void timeout_data_free(void *data)
{
	TimeoutData *td = data;

	source_drop(&td->source);
	g_free(td);
}

static dbus_bool_t add_timeout_cb(DBusTimeout *timeout, void *data)
{
	TimeoutData *td = g_new0(TimeoutData, 1);

	td->loop = data;
	td->timeout = timeout;
	dbus_timeout_set_data(timeout, td, timeout_data_free);
	if (dbus_timeout_get_enabled(timeout))
		timeout_enable(td);
	return TRUE;
}

static void remove_timeout_cb(DBusTimeout *timeout, void *data)
{
	dbus_timeout_set_data(timeout, NULL, NULL);
}

static void toggle_timeout_cb(DBusTimeout *timeout, void *data)
{
	TimeoutData *td = dbus_timeout_get_data(timeout);

	if (!td)
		return;
	/* The interval may have changed: start over either way. */
	source_drop(&td->source);
	if (dbus_timeout_get_enabled(timeout))
		timeout_enable(td);
}

/* ---- attach / detach ---------------------------------------------------- */

static void loop_data_free(void *data)
{
	LoopData *loop = data;

	source_drop(&loop->dispatch_idle);
	g_main_context_unref(loop->context);
	g_free(loop);
}

bool bus_mainloop_attach(DBusConnection *conn, GMainContext *context)
{
	LoopData *loop;

	g_return_val_if_fail(conn != NULL, false);

	if (!dbus_connection_allocate_data_slot(&loop_slot))
		return false;
	g_return_val_if_fail(dbus_connection_get_data(conn, loop_slot) == NULL,
			     false);

	loop = g_new0(LoopData, 1);
	loop->conn = conn;
	loop->context = context ? g_main_context_ref(context)
				: g_main_context_ref_thread_default();
	if (!dbus_connection_set_data(conn, loop_slot, loop, loop_data_free)) {
		loop_data_free(loop);
		return false;
	}

	dbus_connection_set_dispatch_status_function(conn, dispatch_status_cb,
						     loop, NULL);
	dbus_connection_set_wakeup_main_function(conn, wakeup_cb, loop, NULL);
	if (!dbus_connection_set_watch_functions(conn, add_watch_cb,
						 remove_watch_cb,
						 toggle_watch_cb, loop, NULL) ||
	    !dbus_connection_set_timeout_functions(
		    conn, add_timeout_cb, remove_timeout_cb, toggle_timeout_cb,
		    loop, NULL)) {
		bus_mainloop_detach(conn);
		return false;
	}

	/* Messages may already be queued (e.g. NameAcquired from Hello). */
	if (dbus_connection_get_dispatch_status(conn) ==
	    DBUS_DISPATCH_DATA_REMAINS)
		schedule_dispatch(loop);
	return true;
}

void bus_mainloop_detach(DBusConnection *conn)
{
	if (loop_slot < 0 || !dbus_connection_get_data(conn, loop_slot))
		return;
	/* Removing the functions calls remove_* for every watch/timeout. */
	(void)dbus_connection_set_watch_functions(conn, NULL, NULL, NULL, NULL,
						  NULL);
	(void)dbus_connection_set_timeout_functions(conn, NULL, NULL, NULL,
						    NULL, NULL);
	dbus_connection_set_dispatch_status_function(conn, NULL, NULL, NULL);
	dbus_connection_set_wakeup_main_function(conn, NULL, NULL, NULL);
	(void)dbus_connection_set_data(conn, loop_slot, NULL, NULL);
}
