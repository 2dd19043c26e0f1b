/* SPDX-License-Identifier: MIT */
/*
 * The desktop's Do Not Disturb (CONTRACT.md "Desktop": dnd-follows-
 * desktop), on while any of these says so, each read when it appears and
 * then followed by signal (none is polled):
 *
 *   - KDE Plasma: property Inhibited of org.freedesktop.Notifications on
 *     /org/freedesktop/Notifications (PropertiesChanged);
 *   - dunst: property paused of org.dunstproject.cmd0 on the same object
 *     of the same name (PropertiesChanged);
 *   - xfce4-notifyd: xfconf property /do-not-disturb of channel
 *     xfce4-notifyd (org.xfce.Xfconf GetProperty, PropertyChanged and
 *     PropertyRemoved);
 *   - GNOME: GSettings org.gnome.desktop.notifications show-banners (false
 *     is DND), only where the schema is installed: GLib aborts on one that
 *     is not, so it is looked up first.
 *
 * Property signals count only from the name's owner.
 */
#include "config.h"

#include <string.h>

#include "dbus/bus-autoptr.h"
#include "daemon/bus-desktop-private.h"

#define NOTIF_NAME "org.freedesktop.Notifications"
#define NOTIF_PATH "/org/freedesktop/Notifications"
#define DUNST_IFACE "org.dunstproject.cmd0"
#define XFCONF_NAME "org.xfce.Xfconf"
#define XFCONF_PATH "/org/xfce/Xfconf"
#define XFCE_CHANNEL "xfce4-notifyd"
#define XFCE_PROPERTY "/do-not-disturb"
#define GNOME_SCHEMA "org.gnome.desktop.notifications"
#define GNOME_KEY "show-banners"

const char *const bus_desktop_dnd_rules[] = {
	"type='signal',interface='org.freedesktop.DBus.Properties',"
	"member='PropertiesChanged',path='" NOTIF_PATH "'",
	"type='signal',interface='" XFCONF_NAME "',path='" XFCONF_PATH
	"',arg0='" XFCE_CHANNEL "'",
	NULL,
};

static const char *source_name(unsigned source)
{
	switch (source) {
	case DND_KDE:
		return NOTIF_NAME " Inhibited";
	case DND_DUNST:
		return "dunst paused";
	case DND_XFCE:
		return "xfce4-notifyd do-not-disturb";
	case DND_GNOME:
		return GNOME_SCHEMA " " GNOME_KEY;
	default:
		return "?";
	}
}

static void set_dnd(BusDesktop *bd, unsigned source, bool on)
{
	if (desktop_sources_source_is_on(&bd->dnds, source) != on)
		g_debug("%s: Do Not Disturb %s", source_name(source),
			on ? "on" : "off");
	bus_desktop_set_dnd(bd, source, on);
}

/* ---- KDE and dunst: properties of org.freedesktop.Notifications --------- */

static void on_notif_property(BusDesktop *bd, DBusMessage *reply,
			      const char *owner, unsigned source)
{
	DBusMessageIter iter;
	bool on;

	if (g_strcmp0(owner, bd->owners[NAME_NOTIFICATIONS]) != 0)
		return;
	/* The other server's property: UnknownInterface/Property. */
	if (bus_desktop_reply_is_error(reply, source_name(source)) ||
	    !dbus_message_iter_init(reply, &iter) ||
	    !bus_desktop_iter_get_variant_bool(&iter, &on))
		return;
	set_dnd(bd, source, on);
}

static void get_notif_property(BusDesktop *bd, unsigned source)
{
	g_autoptr(DBusMessage) msg = bus_desktop_new_get_property(
		NOTIF_NAME, NOTIF_PATH,
		source == DND_KDE ? NOTIF_NAME : DUNST_IFACE,
		source == DND_KDE ? "Inhibited" : "paused");

	(void)bus_desktop_call(bd, bd->session, msg, on_notif_property,
			       bd->owners[NAME_NOTIFICATIONS], source);
}

static void on_kde_changed(BusDesktop *bd, const char *name,
			   DBusMessageIter *value)
{
	bool on;

	if (strcmp(name, "Inhibited") != 0)
		return;
	if (!value)
		get_notif_property(bd, DND_KDE);
	else if (bus_desktop_iter_get_variant_bool(value, &on))
		set_dnd(bd, DND_KDE, on);
}

static void on_dunst_changed(BusDesktop *bd, const char *name,
			     DBusMessageIter *value)
{
	bool on;

	if (strcmp(name, "paused") != 0)
		return;
	if (!value)
		get_notif_property(bd, DND_DUNST);
	else if (bus_desktop_iter_get_variant_bool(value, &on))
		set_dnd(bd, DND_DUNST, on);
}

static void on_notif_properties(BusDesktop *bd, DBusMessage *msg)
{
	DBusMessageIter iter;
	const char *iface = NULL;

	if (!bd->owners[NAME_NOTIFICATIONS] ||
	    g_strcmp0(dbus_message_get_sender(msg),
		      bd->owners[NAME_NOTIFICATIONS]) != 0 ||
	    !dbus_message_has_signature(msg, "sa{sv}as"))
		return;
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &iface);
	dbus_message_iter_next(&iter);
	if (strcmp(iface, NOTIF_NAME) == 0)
		bus_desktop_each_changed(&iter, on_kde_changed, bd);
	else if (strcmp(iface, DUNST_IFACE) == 0)
		bus_desktop_each_changed(&iter, on_dunst_changed, bd);
}

/* ---- xfce4-notifyd: xfconf ---------------------------------------------- */

static bool variant_is_true(DBusMessageIter *iter)
{
	bool on = false;

	return bus_desktop_iter_get_variant_bool(iter, &on) && on;
}

static void on_xfconf_value(BusDesktop *bd, DBusMessage *reply,
			    const char *owner, unsigned arg)
{
	DBusMessageIter iter;

	if (g_strcmp0(owner, bd->owners[NAME_XFCONF]) != 0)
		return;
	/* No such property (never set): not in DND. */
	if (bus_desktop_reply_is_error(reply, "xfconf GetProperty") ||
	    !dbus_message_iter_init(reply, &iter)) {
		set_dnd(bd, DND_XFCE, false);
		return;
	}
	set_dnd(bd, DND_XFCE, variant_is_true(&iter));
}

static void get_xfconf_value(BusDesktop *bd)
{
	static const char *channel = XFCE_CHANNEL;
	static const char *property = XFCE_PROPERTY;
	g_autoptr(DBusMessage) msg = dbus_message_new_method_call(
		XFCONF_NAME, XFCONF_PATH, XFCONF_NAME, "GetProperty");

	if (msg && dbus_message_append_args(msg, DBUS_TYPE_STRING, &channel,
					    DBUS_TYPE_STRING, &property,
					    DBUS_TYPE_INVALID))
		(void)bus_desktop_call(bd, bd->session, msg, on_xfconf_value,
				       bd->owners[NAME_XFCONF], 0);
}

static void on_xfconf_signal(BusDesktop *bd, DBusMessage *msg)
{
	DBusMessageIter iter;
	const char *channel = NULL, *property = NULL;
	bool changed =
		dbus_message_is_signal(msg, XFCONF_NAME, "PropertyChanged");

	if (!changed &&
	    !dbus_message_is_signal(msg, XFCONF_NAME, "PropertyRemoved"))
		return;
	if (!bd->owners[NAME_XFCONF] ||
	    g_strcmp0(dbus_message_get_sender(msg), bd->owners[NAME_XFCONF]) !=
		    0 ||
	    !dbus_message_has_signature(msg, changed ? "ssv" : "ss"))
		return;
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &channel);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &property);
	dbus_message_iter_next(&iter);
	if (strcmp(channel, XFCE_CHANNEL) != 0 ||
	    strcmp(property, XFCE_PROPERTY) != 0)
		return;
	set_dnd(bd, DND_XFCE, changed && variant_is_true(&iter));
}

/* ---- GNOME: GSettings --------------------------------------------------- */

static void on_gnome_changed(GSettings *settings, const char *key,
			     gpointer user_data)
{
	set_dnd(user_data, DND_GNOME,
		!g_settings_get_boolean(settings, GNOME_KEY));
}

void bus_desktop_dnd_init(BusDesktop *bd)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;

	if (source)
		schema = g_settings_schema_source_lookup(source, GNOME_SCHEMA,
							 TRUE);
	/* Also check the key: an old schema without it aborts the same. */
	if (!schema || !g_settings_schema_has_key(schema, GNOME_KEY)) {
		g_debug("no GSettings schema %s with %s: not following it",
			GNOME_SCHEMA, GNOME_KEY);
		return;
	}
	bd->gnome_notifications = g_settings_new_full(schema, NULL, NULL);
	bd->gnome_handler =
		g_signal_connect(bd->gnome_notifications, "changed::" GNOME_KEY,
				 G_CALLBACK(on_gnome_changed), bd);
	on_gnome_changed(bd->gnome_notifications, GNOME_KEY, bd);
}

/* ---- entry points ------------------------------------------------------- */

void bus_desktop_dnd_owner(BusDesktop *bd, WatchedName name, const char *owner)
{
	if (name == NAME_NOTIFICATIONS) {
		/* A new server starts from what it says. */
		set_dnd(bd, DND_KDE, false);
		set_dnd(bd, DND_DUNST, false);
		if (owner) {
			get_notif_property(bd, DND_KDE);
			get_notif_property(bd, DND_DUNST);
		}
	} else if (name == NAME_XFCONF) {
		set_dnd(bd, DND_XFCE, false);
		if (owner)
			get_xfconf_value(bd);
	}
}

void bus_desktop_dnd_signal(BusDesktop *bd, DBusMessage *msg)
{
	if (dbus_message_is_signal(msg, DBUS_INTERFACE_PROPERTIES,
				   "PropertiesChanged") &&
	    dbus_message_has_path(msg, NOTIF_PATH))
		on_notif_properties(bd, msg);
	else if (dbus_message_has_path(msg, XFCONF_PATH))
		on_xfconf_signal(bd, msg);
}

void bus_desktop_dnd_free(BusDesktop *bd)
{
	if (bd->gnome_notifications) {
		g_signal_handler_disconnect(bd->gnome_notifications,
					    bd->gnome_handler);
		g_clear_object(&bd->gnome_notifications);
	}
}
