/* SPDX-License-Identifier: MIT */
/*
 * Screen lockers on the session bus (CONTRACT.md away-on-lock and
 * "Desktop"): org.freedesktop.ScreenSaver (KDE, Xfce, …), org.gnome,
 * org.mate and org.cinnamon .ScreenSaver, each on its own objects. When a
 * name gets an owner: GetActive, and when locked, GetActiveTime for the
 * real lock time (the XEP-0319 stamp of a daemon started under a locked
 * screen); then ActiveChanged(b) on those objects, from any sender (the
 * session bus is the user's own, and whoever can send there can call
 * SetPresence anyway; some lockers emit from another connection than the
 * one owning the name). An owner that goes away no longer counts as
 * locked.
 */
#include "config.h"

#include <string.h>

#include "dbus/bus-autoptr.h"
#include "daemon/bus-desktop-private.h"

typedef struct {
	const char *name;	  /* well-known name = interface */
	const char *const *paths; /* signal objects; GetActive in order */
	unsigned source;	  /* LOCK_* */
} SaverDesc;

static const char *const fdo_paths[] = {"/org/freedesktop/ScreenSaver",
					"/ScreenSaver", NULL};
static const char *const gnome_paths[] = {"/org/gnome/ScreenSaver", NULL};
static const char *const mate_paths[] = {"/org/mate/ScreenSaver", NULL};
static const char *const cinnamon_paths[] = {"/org/cinnamon/ScreenSaver", NULL};

/* Indexed by WatchedName: the savers are the first N_SAVERS names. */
static const SaverDesc savers[N_SAVERS] = {
	[NAME_FDO_SCREENSAVER] = {"org.freedesktop.ScreenSaver", fdo_paths,
				  LOCK_FDO_SCREENSAVER},
	[NAME_GNOME_SCREENSAVER] = {"org.gnome.ScreenSaver", gnome_paths,
				    LOCK_GNOME_SCREENSAVER},
	[NAME_MATE_SCREENSAVER] = {"org.mate.ScreenSaver", mate_paths,
				   LOCK_MATE_SCREENSAVER},
	[NAME_CINNAMON_SCREENSAVER] = {"org.cinnamon.ScreenSaver",
				       cinnamon_paths,
				       LOCK_CINNAMON_SCREENSAVER},
};

const char *const bus_desktop_lock_rules[] = {
	"type='signal',interface='org.freedesktop.ScreenSaver',"
	"member='ActiveChanged'",
	"type='signal',interface='org.gnome.ScreenSaver',"
	"member='ActiveChanged'",
	"type='signal',interface='org.mate.ScreenSaver',"
	"member='ActiveChanged'",
	"type='signal',interface='org.cinnamon.ScreenSaver',"
	"member='ActiveChanged'",
	NULL,
};

static void set_saver(BusDesktop *bd, unsigned i, bool locked, int64_t since)
{
	if (desktop_sources_source_is_on(&bd->locks, savers[i].source) !=
	    locked)
		g_debug("%s: %s", savers[i].name,
			locked ? "locked" : "unlocked");
	bus_desktop_set_lock(bd, savers[i].source, locked, since);
}

/* Call args: the saver's index in the high bits, the path's in the low. */
#define ARG(i, path_i) ((unsigned)(i) << 8 | (unsigned)(path_i))

static void on_get_active_time(BusDesktop *bd, DBusMessage *reply,
			       const char *owner, unsigned arg)
{
	unsigned i = arg >> 8;
	dbus_uint32_t secs = 0;
	int64_t since = 0;

	if (g_strcmp0(owner, bd->owners[i]) != 0)
		return;
	/* Not offered (or not the expected type): the lock is "now". */
	if (!bus_desktop_reply_is_error(reply, "GetActiveTime") &&
	    dbus_message_get_args(reply, NULL, DBUS_TYPE_UINT32, &secs,
				  DBUS_TYPE_INVALID) &&
	    secs > 0)
		since = bus_desktop_now() - (int64_t)secs;
	set_saver(bd, i, true, since);
}

static void get_active_time(BusDesktop *bd, unsigned i, unsigned path_i)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		savers[i].name, savers[i].paths[path_i], savers[i].name,
		"GetActiveTime");

	if (!bus_desktop_call(bd, bd->session, msg, on_get_active_time,
			      bd->owners[i], ARG(i, path_i)))
		set_saver(bd, i, true, 0);
}

static void get_active(BusDesktop *bd, unsigned i, unsigned path_i);

static void on_get_active(BusDesktop *bd, DBusMessage *reply, const char *owner,
			  unsigned arg)
{
	unsigned i = arg >> 8, path_i = arg & 0xff;
	dbus_bool_t active;

	if (g_strcmp0(owner, bd->owners[i]) != 0)
		return; /* the owner changed meanwhile */
	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		g_debug("%s GetActive on %s: %s", savers[i].name,
			savers[i].paths[path_i],
			dbus_message_get_error_name(reply));
		/* Some implement only one of the objects (KDE has both). */
		if (savers[i].paths[path_i + 1])
			get_active(bd, i, path_i + 1);
		return;
	}
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &active,
				   DBUS_TYPE_INVALID)) {
		g_debug("%s GetActive: unexpected reply signature %s",
			savers[i].name, dbus_message_get_signature(reply));
		return;
	}
	if (active)
		get_active_time(bd, i, path_i);
	else
		set_saver(bd, i, false, 0);
}

static void get_active(BusDesktop *bd, unsigned i, unsigned path_i)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		savers[i].name, savers[i].paths[path_i], savers[i].name,
		"GetActive");

	(void)bus_desktop_call(bd, bd->session, msg, on_get_active,
			       bd->owners[i], ARG(i, path_i));
}

void bus_desktop_lock_owner(BusDesktop *bd, WatchedName name, const char *owner)
{
	if (name >= N_SAVERS)
		return;
	/* A new owner starts from what it says now; none means unlocked. */
	set_saver(bd, name, false, 0);
	if (owner)
		get_active(bd, name, 0);
}

void bus_desktop_lock_signal(BusDesktop *bd, DBusMessage *msg)
{
	const char *iface = dbus_message_get_interface(msg);
	const char *path = dbus_message_get_path(msg);
	dbus_bool_t active;

	if (g_strcmp0(dbus_message_get_member(msg), "ActiveChanged") != 0)
		return;
	for (unsigned i = 0; i < N_SAVERS; i++) {
		if (g_strcmp0(iface, savers[i].name) != 0)
			continue;
		if (!path || !g_strv_contains(savers[i].paths, path))
			return;
		if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_BOOLEAN,
					   &active, DBUS_TYPE_INVALID))
			return;
		/* It locked just now: the signal's time is the lock's. */
		set_saver(bd, i, active, 0);
		return;
	}
}
