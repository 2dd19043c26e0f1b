/* SPDX-License-Identifier: MIT */
/*
 * Screen lock and system sleep from the session and system buses; see
 * bus-desktop.h. Every call is asynchronous (the daemon never waits on a
 * desktop service), and every reply is checked against the owner it was
 * meant for: a reply from a service that has since gone or been replaced
 * changes nothing.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <dbus/dbus.h>

#include "dbus/bus-autoptr.h"
#include "dbus/bus-connection.h"
#include "daemon/bus-desktop.h"
#include "daemon/desktop-policy.h"

#define DBUS_NAME "org.freedesktop.DBus"
#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER LOGIN1_NAME ".Manager"
#define LOGIN1_SESSION LOGIN1_NAME ".Session"
#define LOGIN1_USER LOGIN1_NAME ".User"
#define LOGIN1_SESSION_PREFIX LOGIN1_PATH "/session/"

/* How long we may hold up sleep; below logind's default 5 s. */
#define SLEEP_DEADLINE_MS 3000
#define CALL_TIMEOUT_MS 10000

/* LockSources numbering. */
enum {
	SOURCE_FDO_SCREENSAVER,
	SOURCE_GNOME_SCREENSAVER,
	SOURCE_LOGIND,
};

typedef struct {
	const char *name;	  /* well-known name = interface */
	const char *const *paths; /* signal objects; GetActive in order */
	unsigned source;
} SaverDesc;

static const char *const fdo_paths[] = {"/org/freedesktop/ScreenSaver",
					"/ScreenSaver", NULL};
static const char *const gnome_paths[] = {"/org/gnome/ScreenSaver", NULL};

static const SaverDesc saver_descs[] = {
	{"org.freedesktop.ScreenSaver", fdo_paths, SOURCE_FDO_SCREENSAVER},
	{"org.gnome.ScreenSaver", gnome_paths, SOURCE_GNOME_SCREENSAVER},
};
#define N_SAVERS G_N_ELEMENTS(saver_descs)

typedef struct {
	const SaverDesc *desc;
	char *owner; /* unique name of the current owner, NULL: none */
} Saver;

struct _BusDesktop {
	Service *service;
	DesktopSources sources;

	DBusConnection *session; /* NULL: none */
	DBusConnection *system;	 /* NULL: none */
	bool session_filter;
	bool system_filter;
	GSource *drop_idle; /* drops disconnected connections */

	Saver savers[N_SAVERS];

	char *login1_owner; /* NULL: no logind */
	char *session_path; /* our (or the display) session; NULL: none */
	int inhibit_fd;	    /* -1: no inhibitor held */
	bool inhibit_asked; /* an Inhibit call is on its way */
	bool sleeping;	    /* between PrepareForSleep(true) and (false) */
	guint sleep_deadline_id;

	GPtrArray *pending; /* DBusPendingCall, cancelled on free */
};

/* ---- lock sources ------------------------------------------------------- */

static const char *source_name(unsigned source)
{
	switch (source) {
	case SOURCE_FDO_SCREENSAVER:
		return "org.freedesktop.ScreenSaver";
	case SOURCE_GNOME_SCREENSAVER:
		return "org.gnome.ScreenSaver";
	case SOURCE_LOGIND:
		return "logind LockedHint";
	default:
		return "?";
	}
}

static void set_source(BusDesktop *bd, unsigned source, bool locked)
{
	if (desktop_sources_source_is_on(&bd->sources, source) != locked)
		g_debug("%s: %s", source_name(source),
			locked ? "locked" : "unlocked");
	if (desktop_sources_set(&bd->sources, source, locked))
		service_set_locked(bd->service,
				   desktop_sources_is_on(&bd->sources), 0);
}

/* ---- asynchronous calls ------------------------------------------------- */

typedef void (*ReplyFunc)(BusDesktop *bd, DBusMessage *reply, const char *owner,
			  unsigned arg);

typedef struct {
	BusDesktop *bd;
	ReplyFunc func;
	char *owner; /* whom the call was for: stale replies are dropped */
	unsigned arg;
} Call;

static void call_free(void *data)
{
	Call *call = data;

	g_free(call->owner);
	g_free(call);
}

static void call_notify(DBusPendingCall *pending, void *user_data)
{
	Call *call = user_data;
	BusDesktop *bd = call->bd;
	g_autoptr(DBusMessage) reply = dbus_pending_call_steal_reply(pending);

	/* Keep the Call alive past the removal (it is the notify's data). */
	dbus_pending_call_ref(pending);
	g_ptr_array_remove_fast(bd->pending, pending);
	if (reply)
		call->func(bd, reply, call->owner, call->arg);
	dbus_pending_call_unref(pending);
}

/*
 * Sends msg; func gets the reply (or error) unless BusDesktop is freed
 * first. False when nothing was sent.
 */
static bool call_async(BusDesktop *bd, DBusConnection *conn, DBusMessage *msg,
		       ReplyFunc func, const char *owner, unsigned arg)
{
	DBusPendingCall *pending = NULL;
	Call *call;

	if (!msg || !conn)
		return false;
	if (!dbus_connection_send_with_reply(conn, msg, &pending,
					     CALL_TIMEOUT_MS) ||
	    !pending) {
		g_debug("cannot call %s.%s: disconnected or out of memory",
			dbus_message_get_interface(msg),
			dbus_message_get_member(msg));
		return false;
	}
	call = g_new0(Call, 1);
	call->bd = bd;
	call->func = func;
	call->owner = g_strdup(owner);
	call->arg = arg;
	if (!dbus_pending_call_set_notify(pending, call_notify, call,
					  call_free)) {
		call_free(call);
		dbus_pending_call_cancel(pending);
		dbus_pending_call_unref(pending);
		return false;
	}
	g_ptr_array_add(bd->pending, pending);
	return true;
}

static bool reply_is_error(DBusMessage *reply, const char *what)
{
	if (dbus_message_get_type(reply) != DBUS_MESSAGE_TYPE_ERROR)
		return false;
	g_debug("%s: %s", what, dbus_message_get_error_name(reply));
	return true;
}

/* Reads a variant of type b. */
static bool iter_get_variant_bool(DBusMessageIter *iter, bool *ret)
{
	DBusMessageIter var;
	dbus_bool_t b;

	if (dbus_message_iter_get_arg_type(iter) != DBUS_TYPE_VARIANT)
		return false;
	dbus_message_iter_recurse(iter, &var);
	if (dbus_message_iter_get_arg_type(&var) != DBUS_TYPE_BOOLEAN)
		return false;
	dbus_message_iter_get_basic(&var, &b);
	*ret = b;
	return true;
}

static DBusMessage *new_get_property(const char *dest, const char *path,
				     const char *iface, const char *prop)
{
	DBusMessage *msg = dbus_message_new_method_call(
		dest, path, DBUS_INTERFACE_PROPERTIES, "Get");

	if (msg && !dbus_message_append_args(msg, DBUS_TYPE_STRING, &iface,
					     DBUS_TYPE_STRING, &prop,
					     DBUS_TYPE_INVALID))
		g_clear_pointer(&msg, dbus_message_unref);
	return msg;
}

/* ---- screensavers (session bus) ----------------------------------------- */

static void saver_get_active(BusDesktop *bd, Saver *saver, unsigned path_i);

static void on_get_active(BusDesktop *bd, DBusMessage *reply, const char *owner,
			  unsigned arg)
{
	Saver *saver = &bd->savers[arg >> 8];
	unsigned path_i = arg & 0xff;
	dbus_bool_t active;

	if (g_strcmp0(owner, saver->owner) != 0)
		return; /* the owner changed meanwhile */
	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		g_debug("%s GetActive on %s: %s", saver->desc->name,
			saver->desc->paths[path_i],
			dbus_message_get_error_name(reply));
		/* Some implement only one of the objects (KDE has both). */
		if (saver->desc->paths[path_i + 1])
			saver_get_active(bd, saver, path_i + 1);
		return;
	}
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_BOOLEAN, &active,
				   DBUS_TYPE_INVALID)) {
		g_debug("%s GetActive: unexpected reply signature %s",
			saver->desc->name, dbus_message_get_signature(reply));
		return;
	}
	set_source(bd, saver->desc->source, active);
}

static void saver_get_active(BusDesktop *bd, Saver *saver, unsigned path_i)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		saver->desc->name, saver->desc->paths[path_i],
		saver->desc->name, "GetActive");
	unsigned index = (unsigned)(saver - bd->savers);

	(void)call_async(bd, bd->session, msg, on_get_active, saver->owner,
			 index << 8 | path_i);
}

static void saver_set_owner(BusDesktop *bd, Saver *saver, const char *owner)
{
	if (owner && !*owner)
		owner = NULL;
	if (g_strcmp0(owner, saver->owner) == 0)
		return;
	g_free(saver->owner);
	saver->owner = g_strdup(owner);
	g_debug("%s: %s", saver->desc->name, owner ? "appeared" : "went away");
	/* A new owner starts from what it says now; none means unlocked. */
	set_source(bd, saver->desc->source, false);
	if (owner)
		saver_get_active(bd, saver, 0);
}

static void on_active_changed(BusDesktop *bd, DBusMessage *msg)
{
	const char *iface = dbus_message_get_interface(msg);
	const char *path = dbus_message_get_path(msg);
	dbus_bool_t active;

	for (size_t i = 0; i < N_SAVERS; i++) {
		Saver *saver = &bd->savers[i];

		if (g_strcmp0(iface, saver->desc->name) != 0)
			continue;
		/*
		 * Any sender: the session bus is the user's own, and whoever
		 * can send there can call SetPresence anyway; some lockers
		 * emit from another connection than the one owning the name.
		 * (logind's signals, on the shared system bus, must come from
		 * logind.)
		 */
		if (!path || !g_strv_contains(saver->desc->paths, path))
			return;
		if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_BOOLEAN,
					   &active, DBUS_TYPE_INVALID))
			return;
		set_source(bd, saver->desc->source, active);
		return;
	}
}

/* ---- logind (system bus) ------------------------------------------------ */

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
	if (reply_is_error(reply, "logind Inhibit"))
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
	bd->inhibit_asked = call_async(bd, bd->system, msg, on_inhibit,
				       bd->login1_owner, 0);
}

static void on_locked_hint(BusDesktop *bd, DBusMessage *reply,
			   const char *owner, unsigned arg)
{
	DBusMessageIter iter;
	bool locked;

	if (g_strcmp0(owner, bd->login1_owner) != 0 || !bd->session_path)
		return;
	if (reply_is_error(reply, "logind LockedHint"))
		return;
	if (!dbus_message_iter_init(reply, &iter) ||
	    !iter_get_variant_bool(&iter, &locked))
		return;
	set_source(bd, SOURCE_LOGIND, locked);
}

static void get_locked_hint(BusDesktop *bd)
{
	g_autoptr(DBusMessage) msg = new_get_property(
		LOGIN1_NAME, bd->session_path, LOGIN1_SESSION, "LockedHint");

	(void)call_async(bd, bd->system, msg, on_locked_hint, bd->login1_owner,
			 0);
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
	if (reply_is_error(reply, "logind user Display"))
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
	if (reply_is_error(reply, "logind GetUser"))
		return;
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &path,
				   DBUS_TYPE_INVALID))
		return;
	msg = new_get_property(LOGIN1_NAME, path, LOGIN1_USER, "Display");
	(void)call_async(bd, bd->system, msg, on_display, bd->login1_owner, 0);
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
	(void)reply_is_error(reply, "logind GetSessionByPID");
	msg = dbus_message_new_method_call(LOGIN1_NAME, LOGIN1_PATH,
					   LOGIN1_MANAGER, "GetUser");
	if (msg && dbus_message_append_args(msg, DBUS_TYPE_UINT32, &uid,
					    DBUS_TYPE_INVALID))
		(void)call_async(bd, bd->system, msg, on_get_user,
				 bd->login1_owner, 0);
}

static void logind_set_owner(BusDesktop *bd, const char *owner)
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
	set_source(bd, SOURCE_LOGIND, false);
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
		(void)call_async(bd, bd->system, msg, on_session_by_pid,
				 bd->login1_owner, 0);
}

static void on_session_properties(BusDesktop *bd, DBusMessage *msg)
{
	DBusMessageIter iter, dict, entry, inval;
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
	dbus_message_iter_recurse(&iter, &dict);
	while (dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY) {
		const char *key;
		bool locked;

		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &key);
		dbus_message_iter_next(&entry);
		if (strcmp(key, "LockedHint") == 0 &&
		    iter_get_variant_bool(&entry, &locked))
			set_source(bd, SOURCE_LOGIND, locked);
		dbus_message_iter_next(&dict);
	}
	/* Invalidated rather than sent: ask for the value. */
	dbus_message_iter_next(&iter);
	dbus_message_iter_recurse(&iter, &inval);
	while (dbus_message_iter_get_arg_type(&inval) == DBUS_TYPE_STRING) {
		const char *name;

		dbus_message_iter_get_basic(&inval, &name);
		if (strcmp(name, "LockedHint") == 0)
			get_locked_hint(bd);
		dbus_message_iter_next(&inval);
	}
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

/* ---- connections -------------------------------------------------------- */

static void on_name_owner(BusDesktop *bd, DBusMessage *reply, const char *owner,
			  unsigned arg);

static void get_name_owner(BusDesktop *bd, DBusConnection *conn,
			   const char *name, unsigned arg)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
		"GetNameOwner");

	if (msg && dbus_message_append_args(msg, DBUS_TYPE_STRING, &name,
					    DBUS_TYPE_INVALID))
		(void)call_async(bd, conn, msg, on_name_owner, NULL, arg);
}

/* arg: index into savers, or N_SAVERS for logind. */
static void name_owner_is(BusDesktop *bd, unsigned arg, const char *owner)
{
	if (arg < N_SAVERS)
		saver_set_owner(bd, &bd->savers[arg], owner);
	else
		logind_set_owner(bd, owner);
}

static void on_name_owner(BusDesktop *bd, DBusMessage *reply,
			  const char *unused, unsigned arg)
{
	const char *owner = NULL;

	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR)
		return; /* NameHasNoOwner: NameOwnerChanged tells us later */
	if (!dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &owner,
				   DBUS_TYPE_INVALID))
		return;
	name_owner_is(bd, arg, owner);
}

static void on_name_owner_changed(BusDesktop *bd, DBusConnection *conn,
				  DBusMessage *msg)
{
	const char *name, *old_owner, *new_owner;

	if (g_strcmp0(dbus_message_get_sender(msg), DBUS_SERVICE_DBUS) != 0 ||
	    !dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &name,
				   DBUS_TYPE_STRING, &old_owner,
				   DBUS_TYPE_STRING, &new_owner,
				   DBUS_TYPE_INVALID))
		return;
	if (conn == bd->system) {
		if (strcmp(name, LOGIN1_NAME) == 0)
			name_owner_is(bd, N_SAVERS, new_owner);
		return;
	}
	for (unsigned i = 0; i < N_SAVERS; i++)
		if (strcmp(name, saver_descs[i].name) == 0)
			name_owner_is(bd, i, new_owner);
}

static void drop_connection(BusDesktop *bd, DBusConnection **conn,
			    bool *filter);

static gboolean drop_idle_cb(gpointer user_data)
{
	BusDesktop *bd = user_data;

	g_clear_pointer(&bd->drop_idle, g_source_unref);
	if (bd->session && !dbus_connection_get_is_connected(bd->session)) {
		g_debug("lost the session bus: no screensaver to follow");
		for (unsigned i = 0; i < N_SAVERS; i++)
			saver_set_owner(bd, &bd->savers[i], NULL);
		drop_connection(bd, &bd->session, &bd->session_filter);
	}
	if (bd->system && !dbus_connection_get_is_connected(bd->system)) {
		g_debug("lost the system bus: no logind to follow");
		logind_set_owner(bd, NULL);
		drop_connection(bd, &bd->system, &bd->system_filter);
	}
	return G_SOURCE_REMOVE;
}

static DBusHandlerResult filter_cb(DBusConnection *conn, DBusMessage *msg,
				   void *user_data)
{
	BusDesktop *bd = user_data;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_SIGNAL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_LOCAL, "Disconnected")) {
		/* Not from inside the dispatch of this very connection. */
		if (!bd->drop_idle) {
			bd->drop_idle = g_idle_source_new();
			g_source_set_callback(bd->drop_idle, drop_idle_cb, bd,
					      NULL);
			g_source_attach(bd->drop_idle,
					g_main_context_get_thread_default());
		}
	} else if (dbus_message_is_signal(msg, DBUS_INTERFACE_DBUS,
					  "NameOwnerChanged")) {
		on_name_owner_changed(bd, conn, msg);
	} else if (conn == bd->session &&
		   g_strcmp0(dbus_message_get_member(msg), "ActiveChanged") ==
			   0) {
		on_active_changed(bd, msg);
	} else if (conn == bd->system &&
		   dbus_message_is_signal(msg, LOGIN1_MANAGER,
					  "PrepareForSleep") &&
		   dbus_message_has_path(msg, LOGIN1_PATH)) {
		on_prepare_for_sleep(bd, msg);
	} else if (conn == bd->system &&
		   dbus_message_is_signal(msg, DBUS_INTERFACE_PROPERTIES,
					  "PropertiesChanged")) {
		on_session_properties(bd, msg);
	}
	return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
}

static void drop_connection(BusDesktop *bd, DBusConnection **conn, bool *filter)
{
	if (!*conn)
		return;
	if (*filter)
		dbus_connection_remove_filter(*conn, filter_cb, bd);
	*filter = false;
	bus_connection_close(*conn);
	*conn = NULL;
}

static DBusConnection *connect_bus(BusDesktop *bd, DBusBusType type,
				   const char *what, const char *const *rules,
				   bool *filter)
{
	g_autoptr(GError) error = NULL;
	DBusConnection *conn = bus_connection_open(type, &error);

	if (!conn) {
		if (g_error_matches(error, BUS_CONNECTION_ERROR,
				    BUS_CONNECTION_ERROR_NO_MEMORY))
			g_warning("cannot watch the %s bus: out of memory",
				  what);
		else
			g_debug("no %s bus (%s): carrying on without it", what,
				error->message);
		return NULL;
	}
	if (!dbus_connection_add_filter(conn, filter_cb, bd, NULL)) {
		g_warning("cannot watch the %s bus: out of memory", what);
		bus_connection_close(conn);
		return NULL;
	}
	*filter = true;
	/* No error argument: sent without waiting for the bus's reply. */
	for (size_t i = 0; rules[i]; i++)
		dbus_bus_add_match(conn, rules[i], NULL);
	return conn;
}

/*
 * On the system bus the rules name the sender, so only logind's signals
 * arrive (and the filter checks the sender again against unicast ones).
 */
static const char *const session_rules[] = {
	"type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',"
	"member='NameOwnerChanged',arg0='org.freedesktop.ScreenSaver'",
	"type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',"
	"member='NameOwnerChanged',arg0='org.gnome.ScreenSaver'",
	"type='signal',interface='org.freedesktop.ScreenSaver',"
	"member='ActiveChanged'",
	"type='signal',interface='org.gnome.ScreenSaver',"
	"member='ActiveChanged'",
	NULL,
};

static const char *const system_rules[] = {
	"type='signal',sender='" DBUS_NAME "',interface='" DBUS_NAME "',"
	"member='NameOwnerChanged',arg0='" LOGIN1_NAME "'",
	"type='signal',sender='" LOGIN1_NAME "',interface='" LOGIN1_MANAGER
	"',member='PrepareForSleep',path='" LOGIN1_PATH "'",
	"type='signal',sender='" LOGIN1_NAME "',"
	"interface='org.freedesktop.DBus.Properties',"
	"member='PropertiesChanged',arg0='" LOGIN1_SESSION "'",
	NULL,
};

BusDesktop *bus_desktop_new(Service *service)
{
	BusDesktop *bd;

	g_return_val_if_fail(service != NULL, NULL);

	bd = g_new0(BusDesktop, 1);
	bd->service = service;
	bd->inhibit_fd = -1;
	bd->pending = g_ptr_array_new_with_free_func(
		(GDestroyNotify)dbus_pending_call_unref);
	for (unsigned i = 0; i < N_SAVERS; i++)
		bd->savers[i].desc = &saver_descs[i];

	bd->session = connect_bus(bd, DBUS_BUS_SESSION, "session",
				  session_rules, &bd->session_filter);
	for (unsigned i = 0; bd->session && i < N_SAVERS; i++)
		get_name_owner(bd, bd->session, saver_descs[i].name, i);
	bd->system = connect_bus(bd, DBUS_BUS_SYSTEM, "system", system_rules,
				 &bd->system_filter);
	if (bd->system)
		get_name_owner(bd, bd->system, LOGIN1_NAME, N_SAVERS);
	return bd;
}

void bus_desktop_free(BusDesktop *bd)
{
	if (!bd)
		return;
	g_clear_handle_id(&bd->sleep_deadline_id, g_source_remove);
	release_inhibitor(bd, "exiting");
	for (guint i = 0; i < bd->pending->len; i++)
		dbus_pending_call_cancel(g_ptr_array_index(bd->pending, i));
	g_ptr_array_unref(bd->pending);
	if (bd->drop_idle) {
		g_source_destroy(bd->drop_idle);
		g_source_unref(bd->drop_idle);
	}
	drop_connection(bd, &bd->session, &bd->session_filter);
	drop_connection(bd, &bd->system, &bd->system_filter);
	for (unsigned i = 0; i < N_SAVERS; i++)
		g_free(bd->savers[i].owner);
	g_free(bd->login1_owner);
	g_free(bd->session_path);
	g_free(bd);
}
