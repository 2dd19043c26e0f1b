/* SPDX-License-Identifier: MIT */
/*
 * logind on the system bus: the LockedHint of the daemon's session (else
 * the user's display session) as one more screen lock source, and sleep:
 * a delay inhibitor ("sleep") is held while awake; PrepareForSleep(true)
 * takes the session offline cleanly, then closes the inhibitor's fd (or
 * after SLEEP_DEADLINE_MS at the latest: logind waits at most
 * InhibitDelayMaxSec, 5 s by default); PrepareForSleep(false) reconnects
 * at once and takes a new inhibitor. Only logind's own signals count: the
 * system bus is shared.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "dbus/bus-autoptr.h"
#include "daemon/bus-desktop-private.h"

#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER LOGIN1_NAME ".Manager"
#define LOGIN1_SESSION LOGIN1_NAME ".Session"
#define LOGIN1_USER LOGIN1_NAME ".User"
#define LOGIN1_SESSION_PREFIX LOGIN1_PATH "/session/"

/* How long we may hold up sleep; below logind's default 5 s. */
#define SLEEP_DEADLINE_MS 3000

/* The rules name the sender, so only logind's signals arrive (and the
 * handlers check the sender again against unicast ones). */
const char *const bus_desktop_logind_rules[] = {
	"type='signal',sender='" LOGIN1_NAME "',interface='" LOGIN1_MANAGER
	"',member='PrepareForSleep',path='" LOGIN1_PATH "'",
	"type='signal',sender='" LOGIN1_NAME "',"
	"interface='org.freedesktop.DBus.Properties',"
	"member='PropertiesChanged',arg0='" LOGIN1_SESSION "'",
	NULL,
};

static void set_logind(BusDesktop *bd, bool locked)
{
	if (desktop_sources_source_is_on(&bd->locks, LOCK_LOGIND) != locked)
		g_debug("logind LockedHint: %s",
			locked ? "locked" : "unlocked");
	bus_desktop_set_lock(bd, LOCK_LOGIND, locked, 0);
}

static void release_inhibitor(BusDesktop *bd, const char *why)
{
	if (bd->inhibit_fd < 0)
		return;
	g_debug("releasing the sleep inhibitor (%s)", why);
	(void)close(bd->inhibit_fd);
	bd->inhibit_fd = -1;
}

static void on_inhibit(BusDesktop *bd, DBusMessage *reply, const char *owner,
		       unsigned arg)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	int fd = -1;

	bd->inhibit_asked = false;
	if (bus_desktop_reply_is_error(reply, "logind Inhibit"))
		return;
	if (!dbus_message_get_args(reply, &err, DBUS_TYPE_UNIX_FD, &fd,
				   DBUS_TYPE_INVALID)) {
		g_debug("logind Inhibit: %s", err.message);
		return;
	}
	/* Ours now (libdbus hands out a duplicate). */
	if (g_strcmp0(owner, bd->login1_owner) != 0 || bd->sleeping ||
	    bd->inhibit_fd >= 0) {
		(void)close(fd);
		return;
	}
	bd->inhibit_fd = fd;
	g_debug("holding a sleep delay inhibitor");
}

static void take_inhibitor(BusDesktop *bd)
{
	static const char *what = "sleep";
	static const char *who = "presenced";
	static const char *why = "Sends unavailable presence before sleep";
	static const char *mode = "delay";
	g_autoptr(DBusMessage) msg = NULL;

	if (!bd->system || !bd->login1_owner || bd->inhibit_fd >= 0 ||
	    bd->inhibit_asked)
		return;
	msg = dbus_message_new_method_call(LOGIN1_NAME, LOGIN1_PATH,
					   LOGIN1_MANAGER, "Inhibit");
	if (!msg || !dbus_message_append_args(
			    msg, DBUS_TYPE_STRING, &what, DBUS_TYPE_STRING,
			    &who, DBUS_TYPE_STRING, &why, DBUS_TYPE_STRING,
			    &mode, DBUS_TYPE_INVALID))
		return;
	bd->inhibit_asked = bus_desktop_call(bd, bd->system, msg, on_inhibit,
					     bd->login1_owner, 0);
}

static void on_locked_hint(BusDesktop *bd, DBusMessage *reply,
			   const char *owner, unsigned arg)
{
	DBusMessageIter iter;
	bool locked;

	if (g_strcmp0(owner, bd->login1_owner) != 0 || !bd->session_path)
		return;
	if (bus_desktop_reply_is_error(reply, "logind LockedHint"))
		return;
	if (!dbus_message_iter_init(reply, &iter) ||
	    !bus_desktop_iter_get_variant_bool(&iter, &locked))
		return;
	set_logind(bd, locked);
}

static void get_locked_hint(BusDesktop *bd)
{
	g_autoptr(DBusMessage) msg = bus_desktop_new_get_property(
		LOGIN1_NAME, bd->session_path, LOGIN1_SESSION, "LockedHint");

	(void)bus_desktop_call(bd, bd->system, msg, on_locked_hint,
			       bd->login1_owner, 0);
}

static void use_session(BusDesktop *bd, const char *path, const char *how)
{
	if (!path || !g_str_has_prefix(path, LOGIN1_SESSION_PREFIX)) {
		g_debug("logind: no session to follow for the screen lock");
		return;
	}
	g_free(bd->session_path);
	bd->session_path = g_strdup(path);
	g_debug("logind: following LockedHint of %s (%s)", path, how);
	get_locked_hint(bd);
}

static void on_display(BusDesktop *bd, DBusMessage *reply, const char *owner,
		       unsigned arg)
{
	DBusMessageIter iter, var, st;
	const char *path = NULL;

	if (g_strcmp0(owner, bd->login1_owner) != 0)
		return;
	if (bus_desktop_reply_is_error(reply, "logind user Display"))
		return;
	/* v containing (so): session id, object path; "/" for none. */
	if (!dbus_message_iter_init(reply, &iter) ||
	    dbus_message_iter_get_arg_type(&iter) != DBUS_TYPE_VARIANT)
		return;
	dbus_message_iter_recurse(&iter, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_STRUCT)
		return;
	dbus_message_iter_recurse(&var, &st);
	if (!dbus_message_iter_next(&st) ||
	    dbus_message_iter_get_arg_type(&st) != DBUS_TYPE_OBJECT_PATH)
		return;
	dbus_message_iter_get_basic(&st, &path);
	use_session(bd, path, "the user's display session");
}

static void on_get_user(BusDesktop *bd, DBusMessage *reply, const char *owner,
			unsigned arg)
{
	g_autoptr(DBusMessage) msg = NULL;
	const char *path = NULL;

	if (g_strcmp0(owner, bd->login1_owner) != 0)
		return;
	if (bus_desktop_reply_is_error(reply, "logind GetUser"))
		return;
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
				   DBUS_TYPE_INVALID))
		return;
	msg = bus_desktop_new_get_property(LOGIN1_NAME, path, LOGIN1_USER,
					   "Display");
	(void)bus_desktop_call(bd, bd->system, msg, on_display,
			       bd->login1_owner, 0);
}

static void on_session_by_pid(BusDesktop *bd, DBusMessage *reply,
			      const char *owner, unsigned arg)
{
	g_autoptr(DBusMessage) msg = NULL;
	const char *path = NULL;
	dbus_uint32_t uid = (dbus_uint32_t)getuid();

	if (g_strcmp0(owner, bd->login1_owner) != 0)
		return;
	if (dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_ERROR &&
	    dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
				  DBUS_TYPE_INVALID)) {
		use_session(bd, path, "the daemon's own session");
		return;
	}
	/*
	 * A systemd user service belongs to no session: follow the user's
	 * display session instead (what the user locks and unlocks).
	 */
	(void)bus_desktop_reply_is_error(reply, "logind GetSessionByPID");
	msg = dbus_message_new_method_call(LOGIN1_NAME, LOGIN1_PATH,
					   LOGIN1_MANAGER, "GetUser");
	if (msg && dbus_message_append_args(msg, DBUS_TYPE_UINT32, &uid,
					    DBUS_TYPE_INVALID))
		(void)bus_desktop_call(bd, bd->system, msg, on_get_user,
				       bd->login1_owner, 0);
}

void bus_desktop_logind_owner(BusDesktop *bd, const char *owner)
{
	g_autoptr(DBusMessage) msg = NULL;
	dbus_uint32_t pid = (dbus_uint32_t)getpid();

	if (owner && !*owner)
		owner = NULL;
	if (g_strcmp0(owner, bd->login1_owner) == 0)
		return;
	g_free(bd->login1_owner);
	bd->login1_owner = g_strdup(owner);
	g_clear_pointer(&bd->session_path, g_free);
	/* An inhibitor belongs to the logind that gave it. */
	release_inhibitor(bd, "logind changed");
	bd->inhibit_asked = false;
	set_logind(bd, false);
	if (!owner) {
		g_debug("logind: not running");
		return;
	}
	g_debug("logind: running as %s", owner);
	take_inhibitor(bd);
	msg = dbus_message_new_method_call(LOGIN1_NAME, LOGIN1_PATH,
					   LOGIN1_MANAGER, "GetSessionByPID");
	if (msg && dbus_message_append_args(msg, DBUS_TYPE_UINT32, &pid,
					    DBUS_TYPE_INVALID))
		(void)bus_desktop_call(bd, bd->system, msg, on_session_by_pid,
				       bd->login1_owner, 0);
}

static void on_session_property(BusDesktop *bd, const char *name,
				DBusMessageIter *value)
{
	bool locked;

	if (strcmp(name, "LockedHint") != 0)
		return;
	if (!value)
		get_locked_hint(bd);
	else if (bus_desktop_iter_get_variant_bool(value, &locked))
		set_logind(bd, locked);
}

static void on_session_properties(BusDesktop *bd, DBusMessage *msg)
{
	DBusMessageIter iter;
	const char *iface = NULL;

	if (!bd->session_path ||
	    g_strcmp0(dbus_message_get_path(msg), bd->session_path) != 0 ||
	    g_strcmp0(dbus_message_get_sender(msg), bd->login1_owner) != 0 ||
	    !dbus_message_has_signature(msg, "sa{sv}as"))
		return;
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &iface);
	if (strcmp(iface, LOGIN1_SESSION) != 0)
		return;
	dbus_message_iter_next(&iter);
	bus_desktop_each_changed(&iter, on_session_property, bd);
}

static void on_suspended(void *user_data)
{
	BusDesktop *bd = user_data;

	g_clear_handle_id(&bd->sleep_deadline_id, g_source_remove);
	release_inhibitor(bd, "offline for sleep");
}

static gboolean sleep_deadline(gpointer user_data)
{
	BusDesktop *bd = user_data;

	bd->sleep_deadline_id = 0;
	if (bd->inhibit_fd >= 0)
		g_warning("the session did not close in time for sleep; "
			  "letting the system sleep anyway");
	release_inhibitor(bd, "deadline");
	return G_SOURCE_REMOVE;
}

static void on_prepare_for_sleep(BusDesktop *bd, DBusMessage *msg)
{
	dbus_bool_t start;

	if (g_strcmp0(dbus_message_get_sender(msg), bd->login1_owner) != 0 ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_BOOLEAN, &start,
				   DBUS_TYPE_INVALID))
		return;
	if (start == bd->sleeping)
		return;
	bd->sleeping = start;
	if (start) {
		g_clear_handle_id(&bd->sleep_deadline_id, g_source_remove);
		bd->sleep_deadline_id =
			g_timeout_add(SLEEP_DEADLINE_MS, sleep_deadline, bd);
		/* on_suspended() may run before this returns. */
		service_suspend(bd->service, on_suspended, bd);
		return;
	}
	g_clear_handle_id(&bd->sleep_deadline_id, g_source_remove);
	release_inhibitor(bd, "woke up");
	service_resume(bd->service);
	take_inhibitor(bd);
}

void bus_desktop_logind_signal(BusDesktop *bd, DBusMessage *msg)
{
	if (dbus_message_is_signal(msg, LOGIN1_MANAGER, "PrepareForSleep") &&
	    dbus_message_has_path(msg, LOGIN1_PATH))
		on_prepare_for_sleep(bd, msg);
	else if (dbus_message_is_signal(msg, DBUS_INTERFACE_PROPERTIES,
					"PropertiesChanged"))
		on_session_properties(bd, msg);
}

void bus_desktop_logind_free(BusDesktop *bd)
{
	g_clear_handle_id(&bd->sleep_deadline_id, g_source_remove);
	release_inhibitor(bd, "exiting");
	g_clear_pointer(&bd->login1_owner, g_free);
	g_clear_pointer(&bd->session_path, g_free);
}
