/* SPDX-License-Identifier: MIT */
/*
 * What the files of the desktop client share (bus-desktop.h is the public
 * side): the BusDesktop state, the asynchronous call helper, and each
 * source's entry points. bus-desktop.c owns the connections, the watched
 * names and the dispatch of signals; one file per kind of source:
 *   - bus-desktop-lock.c:   screen lockers (session bus);
 *   - bus-desktop-logind.c: logind's LockedHint and sleep (system bus);
 *   - bus-desktop-idle.c:   inactivity (Mutter's IdleMonitor, or polling
 *                           org.freedesktop.ScreenSaver);
 *   - bus-desktop-dnd.c:    Do Not Disturb (KDE, dunst, xfce4-notifyd,
 *                           GNOME's GSettings).
 * Nothing outside daemon/bus-desktop*.c includes this.
 */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>

#include <dbus/dbus.h>

#include "daemon/bus-desktop.h"
#include "daemon/desktop-policy.h"

/* Names whose owner is followed (GetNameOwner, then NameOwnerChanged). */
typedef enum {
	NAME_FDO_SCREENSAVER,
	NAME_GNOME_SCREENSAVER,
	NAME_MATE_SCREENSAVER,
	NAME_CINNAMON_SCREENSAVER,
	NAME_MUTTER_IDLE,
	NAME_NOTIFICATIONS,
	NAME_XFCONF,
	NAME_LOGIN1, /* the only one on the system bus */
	N_NAMES,
} WatchedName;

/* Screen lockers, the first N_SAVERS names, in that order. */
#define N_SAVERS 4u

/* DesktopSources numbering of the lock and DND sources. */
enum {
	LOCK_FDO_SCREENSAVER,
	LOCK_GNOME_SCREENSAVER,
	LOCK_MATE_SCREENSAVER,
	LOCK_CINNAMON_SCREENSAVER,
	LOCK_LOGIND,
};
enum {
	DND_KDE,
	DND_DUNST,
	DND_XFCE,
	DND_GNOME,
};

typedef struct {
	uint32_t away_id; /* watch ids of the current owner; 0: none (yet) */
	uint32_t xa_id;
	uint32_t active_id;
	bool active_asked; /* an AddUserActiveWatch is on its way */
} MutterIdle;

typedef struct {
	bool refused;	/* the owner has no GetSessionIdleTime */
	bool online;	/* the service is: poll only then */
	guint timer_id; /* next poll; 0: none due */
	bool in_flight; /* a GetSessionIdleTime is on its way */
	int64_t last;	/* monotonic µs of the last poll; 0: none */
} IdlePoll;

struct _BusDesktop {
	Service *service;
	DesktopSources locks;
	DesktopSources dnds;

	DBusConnection *session; /* NULL: none */
	DBusConnection *system;	 /* NULL: none */
	bool session_filter;
	bool system_filter;
	GSource *drop_idle; /* drops disconnected connections */

	char *owners[N_NAMES]; /* unique names; NULL: no owner */

	MutterIdle mutter;
	IdlePoll poll;
	DesktopIdle idle; /* as last reported to the service */

	GSettings *gnome_notifications; /* NULL: schema not installed */
	gulong gnome_handler;

	char *login1_owner; /* NULL: no logind */
	char *session_path; /* our (or the display) session; NULL: none */
	int inhibit_fd;	    /* -1: no inhibitor held */
	bool inhibit_asked; /* an Inhibit call is on its way */
	bool sleeping;	    /* between PrepareForSleep(true) and (false) */
	guint sleep_deadline_id;

	GPtrArray *pending; /* DBusPendingCall, cancelled on free */
};

/* ---- shared helpers (bus-desktop.c) ------------------------------------- */

typedef void (*ReplyFunc)(BusDesktop *bd, DBusMessage *reply, const char *owner,
			  unsigned arg);

/*
 * Sends msg (NULL: nothing); func gets the reply (or error) unless the
 * BusDesktop is freed first, with owner (copied: whom the call was for, so
 * that a stale reply can be told) and arg. False when nothing was sent.
 */
bool bus_desktop_call(BusDesktop *bd, DBusConnection *conn, DBusMessage *msg,
		      ReplyFunc func, const char *owner, unsigned arg);
/* True (and logged at debug level) when reply is an error. */
bool bus_desktop_reply_is_error(DBusMessage *reply, const char *what);
/* Reads a variant holding a boolean. */
bool bus_desktop_iter_get_variant_bool(DBusMessageIter *iter, bool *ret);
/* A Properties.Get call; NULL when out of memory. Transfer full. */
DBusMessage *bus_desktop_new_get_property(const char *dest, const char *path,
					  const char *iface, const char *prop);
/*
 * For each (name, value) in a PropertiesChanged a{sv} at iter, and each
 * invalidated name (value NULL), calls func.
 */
void bus_desktop_each_changed(DBusMessageIter *iter,
			      void (*func)(BusDesktop *bd, const char *name,
					   DBusMessageIter *value),
			      BusDesktop *bd);
/* The owner of a name, NULL: none. Borrowed. */
const char *bus_desktop_get_owner(const BusDesktop *bd, WatchedName name);
/* Unix seconds now. */
int64_t bus_desktop_now(void);

/* Source `source` of the screen lock says locked (since: unix seconds, 0
 * for now) or not; the aggregate goes to the service. */
void bus_desktop_set_lock(BusDesktop *bd, unsigned source, bool locked,
			  int64_t since);
/* The same for Do Not Disturb. */
void bus_desktop_set_dnd(BusDesktop *bd, unsigned source, bool on);

/* ---- per source --------------------------------------------------------- */

/* Each *_owner is told the owner of its names (NULL: gone); each *_signal
 * sees every signal of its bus and picks its own. */
void bus_desktop_lock_owner(BusDesktop *bd, WatchedName name,
			    const char *owner);
void bus_desktop_lock_signal(BusDesktop *bd, DBusMessage *msg);
extern const char *const bus_desktop_lock_rules[];

void bus_desktop_logind_owner(BusDesktop *bd, const char *owner);
void bus_desktop_logind_signal(BusDesktop *bd, DBusMessage *msg);
void bus_desktop_logind_free(BusDesktop *bd);
extern const char *const bus_desktop_logind_rules[];

void bus_desktop_idle_owner(BusDesktop *bd, WatchedName name,
			    const char *owner);
void bus_desktop_idle_signal(BusDesktop *bd, DBusMessage *msg);
/* The service's State changed: the poller runs only while online. */
void bus_desktop_idle_state(BusDesktop *bd, ServiceState state);
/* A reloaded config: the thresholds may have changed. */
void bus_desktop_idle_settings(BusDesktop *bd);
void bus_desktop_idle_free(BusDesktop *bd);
extern const char *const bus_desktop_idle_rules[];

void bus_desktop_dnd_init(BusDesktop *bd);
void bus_desktop_dnd_owner(BusDesktop *bd, WatchedName name, const char *owner);
void bus_desktop_dnd_signal(BusDesktop *bd, DBusMessage *msg);
void bus_desktop_dnd_free(BusDesktop *bd);
extern const char *const bus_desktop_dnd_rules[];
