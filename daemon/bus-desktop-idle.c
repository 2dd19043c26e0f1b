/* SPDX-License-Identifier: MIT */
/*
 * The user's inactivity (CONTRACT.md "Desktop": away-after, xa-after),
 * turned into DesktopIdle levels for the service:
 *
 *   - GNOME's org.gnome.Mutter.IdleMonitor (/org/gnome/Mutter/IdleMonitor/
 *     Core): one idle watch per threshold and, while idle, a user-active
 *     watch; WatchFired says when. No timer of ours at all.
 *   - else org.freedesktop.ScreenSaver.GetSessionIdleTime (milliseconds,
 *     as KDE answers it), polled only while the service is online, never
 *     more often than every POLL_MIN_S, and no sooner than the next
 *     threshold can be reached while the user is active.
 *   - neither, or both thresholds 0: no idle away and no wake-ups.
 */
#include "config.h"

#include <string.h>

#include "dbus/bus-autoptr.h"
#include "daemon/bus-desktop-private.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"
#define FDO_NAME "org.freedesktop.ScreenSaver"
#define FDO_PATH "/org/freedesktop/ScreenSaver"
/* The contract's bound on polling. */
#define POLL_MIN_S 30u

const char *const bus_desktop_idle_rules[] = {
	"type='signal',interface='" MUTTER_NAME "',member='WatchFired',"
	"path='" MUTTER_PATH "'",
	NULL,
};

/* Which watch an AddIdleWatch reply is for. */
enum { WATCH_AWAY = 1, WATCH_XA, WATCH_ACTIVE };

static const Settings *settings(const BusDesktop *bd)
{
	return service_get_settings(bd->service);
}

static bool thresholds_off(const BusDesktop *bd)
{
	return !settings(bd)->away_after && !settings(bd)->xa_after;
}

/* since: unix seconds of the start of the inactivity. */
static void report(BusDesktop *bd, DesktopIdle level, int64_t since)
{
	if (level == bd->idle)
		return;
	g_debug("idle level %d -> %d", bd->idle, level);
	bd->idle = level;
	service_set_idle(bd->service, level, since);
}

static void report_idle_ms(BusDesktop *bd, uint64_t idle_ms)
{
	report(bd,
	       desktop_idle_level(idle_ms, settings(bd)->away_after,
				  settings(bd)->xa_after),
	       bus_desktop_now() - (int64_t)(idle_ms / 1000u));
}

/* ---- Mutter's IdleMonitor ----------------------------------------------- */

static void on_watch_added(BusDesktop *bd, DBusMessage *reply,
			   const char *owner, unsigned arg)
{
	dbus_uint32_t id = 0;

	if (g_strcmp0(owner, bd->owners[NAME_MUTTER_IDLE]) != 0)
		return;
	if (arg == WATCH_ACTIVE)
		bd->mutter.active_asked = false;
	if (bus_desktop_reply_is_error(reply, "IdleMonitor watch") ||
	    !dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &id,
				   DBUS_TYPE_INVALID))
		return;
	if (arg == WATCH_AWAY)
		bd->mutter.away_id = id;
	else if (arg == WATCH_XA)
		bd->mutter.xa_id = id;
	else
		bd->mutter.active_id = id;
}

static void add_idle_watch(BusDesktop *bd, unsigned minutes, unsigned which)
{
	g_autoptr(DBusMessage) msg = NULL;
	dbus_uint64_t ms = (dbus_uint64_t)minutes * 60u * 1000u;

	if (!minutes)
		return;
	msg = dbus_message_new_method_call(MUTTER_NAME, MUTTER_PATH,
					   MUTTER_NAME, "AddIdleWatch");
	if (msg && dbus_message_append_args(msg, DBUS_TYPE_UINT64, &ms,
					    DBUS_TYPE_INVALID))
		(void)bus_desktop_call(bd, bd->session, msg, on_watch_added,
				       bd->owners[NAME_MUTTER_IDLE], which);
}

/* While idle: one watch that fires once at the next input. */
static void add_active_watch(BusDesktop *bd)
{
	g_autoptr(DBusMessage) msg = NULL;

	if (bd->mutter.active_id || bd->mutter.active_asked)
		return;
	msg = dbus_message_new_method_call(MUTTER_NAME, MUTTER_PATH,
					   MUTTER_NAME, "AddUserActiveWatch");
	bd->mutter.active_asked =
		bus_desktop_call(bd, bd->session, msg, on_watch_added,
				 bd->owners[NAME_MUTTER_IDLE], WATCH_ACTIVE);
}

static void on_idletime(BusDesktop *bd, DBusMessage *reply, const char *owner,
			unsigned arg)
{
	dbus_uint64_t ms = 0;

	if (g_strcmp0(owner, bd->owners[NAME_MUTTER_IDLE]) != 0 ||
	    bus_desktop_reply_is_error(reply, "IdleMonitor GetIdletime") ||
	    !dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT64, &ms,
				   DBUS_TYPE_INVALID))
		return;
	report_idle_ms(bd, ms);
	if (bd->idle != DESKTOP_IDLE_NONE)
		add_active_watch(bd);
}

static void mutter_start(BusDesktop *bd)
{
	g_autoptr(DBusMessage) msg = NULL;

	add_idle_watch(bd, settings(bd)->away_after, WATCH_AWAY);
	add_idle_watch(bd, settings(bd)->xa_after, WATCH_XA);
	/* Started while already idle: the watches fire only on crossing. */
	msg = dbus_message_new_method_call(MUTTER_NAME, MUTTER_PATH,
					   MUTTER_NAME, "GetIdletime");
	(void)bus_desktop_call(bd, bd->session, msg, on_idletime,
			       bd->owners[NAME_MUTTER_IDLE], 0);
}

static void on_watch_fired(BusDesktop *bd, DBusMessage *msg)
{
	dbus_uint32_t id;
	unsigned minutes;

	if (!bd->owners[NAME_MUTTER_IDLE] ||
	    g_strcmp0(dbus_message_get_sender(msg),
		      bd->owners[NAME_MUTTER_IDLE]) != 0 ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_UINT32, &id,
				   DBUS_TYPE_INVALID) ||
	    id == 0)
		return;
	if (id == bd->mutter.active_id) {
		bd->mutter.active_id = 0; /* fires once, then is gone */
		report(bd, DESKTOP_IDLE_NONE, 0);
		return;
	}
	if (id == bd->mutter.away_id)
		minutes = settings(bd)->away_after;
	else if (id == bd->mutter.xa_id)
		minutes = settings(bd)->xa_after;
	else
		return;
	report_idle_ms(bd, (uint64_t)minutes * 60u * 1000u);
	add_active_watch(bd);
}

/* ---- polling org.freedesktop.ScreenSaver -------------------------------- */

static bool may_poll(const BusDesktop *bd)
{
	return !bd->owners[NAME_MUTTER_IDLE] &&
	       bd->owners[NAME_FDO_SCREENSAVER] && !bd->poll.refused &&
	       bd->poll.online && !thresholds_off(bd);
}

static void poll_now(BusDesktop *bd);

static gboolean poll_due(gpointer user_data)
{
	BusDesktop *bd = user_data;

	bd->poll.timer_id = 0;
	poll_now(bd);
	return G_SOURCE_REMOVE;
}

static void schedule_poll(BusDesktop *bd, uint64_t idle_ms)
{
	uint64_t next = desktop_idle_next_ms(idle_ms, settings(bd)->away_after,
					     settings(bd)->xa_after);
	uint64_t wait_s = POLL_MIN_S;

	g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
	if (!may_poll(bd))
		return;
	/* Active: nothing can change before the next threshold. Idle: look
	 * every POLL_MIN_S for the user coming back. */
	if (bd->idle == DESKTOP_IDLE_NONE && next > idle_ms)
		wait_s = MAX(wait_s, (next - idle_ms + 999u) / 1000u);
	bd->poll.timer_id = g_timeout_add_seconds((guint)MIN(wait_s, G_MAXUINT),
						  poll_due, bd);
}

static void on_session_idle_time(BusDesktop *bd, DBusMessage *reply,
				 const char *owner, unsigned arg)
{
	dbus_uint32_t ms = 0;

	bd->poll.in_flight = false;
	if (g_strcmp0(owner, bd->owners[NAME_FDO_SCREENSAVER]) != 0)
		return;
	if (bus_desktop_reply_is_error(reply, "GetSessionIdleTime") ||
	    !dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &ms,
				   DBUS_TYPE_INVALID)) {
		/* This owner cannot tell: no idle away, no more polls. */
		bd->poll.refused = true;
		g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
		return;
	}
	if (bd->owners[NAME_MUTTER_IDLE])
		return; /* Mutter appeared meanwhile: it decides */
	report_idle_ms(bd, ms);
	schedule_poll(bd, ms);
}

static void poll_now(BusDesktop *bd)
{
	g_autoptr(DBusMessage) msg = NULL;

	if (!may_poll(bd) || bd->poll.in_flight)
		return;
	bd->poll.last = g_get_monotonic_time();
	msg = dbus_message_new_method_call(FDO_NAME, FDO_PATH, FDO_NAME,
					   "GetSessionIdleTime");
	bd->poll.in_flight =
		bus_desktop_call(bd, bd->session, msg, on_session_idle_time,
				 bd->owners[NAME_FDO_SCREENSAVER], 0);
}

/*
 * Polling starts or stops as the conditions change: at once, unless the
 * last poll was under POLL_MIN_S ago (a flapping connection must not poll
 * faster than that).
 */
static void update_poll(BusDesktop *bd)
{
	int64_t since_last = g_get_monotonic_time() - bd->poll.last;
	int64_t min_us = (int64_t)POLL_MIN_S * G_USEC_PER_SEC;

	if (!may_poll(bd)) {
		g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
		return;
	}
	if (bd->poll.timer_id || bd->poll.in_flight)
		return;
	if (bd->poll.last == 0 || since_last >= min_us)
		poll_now(bd);
	else
		bd->poll.timer_id =
			g_timeout_add((guint)((min_us - since_last) / 1000 + 1),
				      poll_due, bd);
}

/* ---- entry points ------------------------------------------------------- */

void bus_desktop_idle_owner(BusDesktop *bd, WatchedName name, const char *owner)
{
	if (name == NAME_MUTTER_IDLE) {
		bd->mutter = (MutterIdle){0};
		/* Its watches died with it; without it nobody says idle. */
		report(bd, DESKTOP_IDLE_NONE, 0);
		if (owner && !thresholds_off(bd))
			mutter_start(bd);
	} else if (name == NAME_FDO_SCREENSAVER) {
		bd->poll.refused = false;
		bd->poll.in_flight = false;
		g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
		if (!bd->owners[NAME_MUTTER_IDLE])
			report(bd, DESKTOP_IDLE_NONE, 0);
	}
	update_poll(bd);
}

void bus_desktop_idle_signal(BusDesktop *bd, DBusMessage *msg)
{
	if (dbus_message_is_signal(msg, MUTTER_NAME, "WatchFired") &&
	    dbus_message_has_path(msg, MUTTER_PATH))
		on_watch_fired(bd, msg);
}

void bus_desktop_idle_state(BusDesktop *bd, ServiceState state)
{
	bool online = state == SERVICE_STATE_ONLINE;

	if (online == bd->poll.online)
		return;
	bd->poll.online = online;
	update_poll(bd);
}

static void remove_watch(BusDesktop *bd, uint32_t *id)
{
	g_autoptr(DBusMessage) msg = NULL;

	if (!*id)
		return;
	msg = dbus_message_new_method_call(MUTTER_NAME, MUTTER_PATH,
					   MUTTER_NAME, "RemoveWatch");
	if (msg && dbus_message_append_args(msg, DBUS_TYPE_UINT32, id,
					    DBUS_TYPE_INVALID))
		(void)dbus_connection_send(bd->session, msg, NULL);
	*id = 0;
}

void bus_desktop_idle_settings(BusDesktop *bd)
{
	/* New thresholds: new watches, or a poll at once with them. */
	if (bd->owners[NAME_MUTTER_IDLE]) {
		remove_watch(bd, &bd->mutter.away_id);
		remove_watch(bd, &bd->mutter.xa_id);
		if (!thresholds_off(bd))
			mutter_start(bd);
	}
	g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
	update_poll(bd);
}

void bus_desktop_idle_free(BusDesktop *bd)
{
	g_clear_handle_id(&bd->poll.timer_id, g_source_remove);
}
