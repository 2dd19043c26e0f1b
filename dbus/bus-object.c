/* SPDX-License-Identifier: MIT */
/*
 * Table-driven D-Bus object (see bus-object.h). Dispatch follows the
 * D-Bus specification: a method call may omit the interface, in which case
 * the member is looked up in ours; a wrong signature is answered with
 * InvalidArgs naming the expected one (not libdbus' UnknownMethod), so a
 * caller learns what to send.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "dbus/bus-autoptr.h"
#include "dbus/bus-object.h"

#define INTROSPECTABLE "org.freedesktop.DBus.Introspectable"
#define PROPERTIES "org.freedesktop.DBus.Properties"
#define PEER "org.freedesktop.DBus.Peer"

G_DEFINE_QUARK(bus - object - error - quark, bus_object_error)

struct _BusObject {
	DBusConnection *conn; /* a reference */
	char *path;
	const BusInterface *iface;
	const char *xml;
	void *user_data;
	uint64_t pending_props; /* bit i: properties[i] changed */
	GSource *props_idle;
	GMainContext *context;
	void (*call_handled)(void *user_data); /* may be NULL */
};

/* The interfaces every object answers, added to the served document. */
static const char standard_interfaces_xml[] =
	"  <interface name=\"" INTROSPECTABLE "\">\n"
	"    <method name=\"Introspect\">\n"
	"      <arg name=\"xml_data\" type=\"s\" direction=\"out\"/>\n"
	"    </method>\n"
	"  </interface>\n"
	"  <interface name=\"" PROPERTIES "\">\n"
	"    <method name=\"Get\">\n"
	"      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
	"      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
	"      <arg name=\"value\" type=\"v\" direction=\"out\"/>\n"
	"    </method>\n"
	"    <method name=\"GetAll\">\n"
	"      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
	"      <arg name=\"properties\" type=\"a{sv}\" direction=\"out\"/>\n"
	"    </method>\n"
	"    <method name=\"Set\">\n"
	"      <arg name=\"interface_name\" type=\"s\" direction=\"in\"/>\n"
	"      <arg name=\"property_name\" type=\"s\" direction=\"in\"/>\n"
	"      <arg name=\"value\" type=\"v\" direction=\"in\"/>\n"
	"    </method>\n"
	"    <signal name=\"PropertiesChanged\">\n"
	"      <arg name=\"interface_name\" type=\"s\"/>\n"
	"      <arg name=\"changed_properties\" type=\"a{sv}\"/>\n"
	"      <arg name=\"invalidated_properties\" type=\"as\"/>\n"
	"    </signal>\n"
	"  </interface>\n"
	"  <interface name=\"" PEER "\">\n"
	"    <method name=\"Ping\"/>\n"
	"    <method name=\"GetMachineId\">\n"
	"      <arg name=\"machine_uuid\" type=\"s\" direction=\"out\"/>\n"
	"    </method>\n"
	"  </interface>\n";

/* ---- helpers ------------------------------------------------------------ */

bool bus_iter_append_string(DBusMessageIter *iter, const char *str)
{
	g_autofree char *fixed = NULL;

	if (!str)
		str = "";
	/* libdbus' own check is the one that matters (it also rejects
	 * what GLib accepts only in exotic corners); one pass, not two. */
	if (!dbus_validate_utf8(str, NULL)) {
		fixed = g_utf8_make_valid(str, -1);
		/* GLib and libdbus agree on UTF-8 but for exotic corners;
		 * never hand libdbus anything it might refuse. */
		if (!dbus_validate_utf8(fixed, NULL))
			g_clear_pointer(&fixed, g_free);
		str = fixed ? fixed : "";
	}
	return dbus_message_iter_append_basic(iter, DBUS_TYPE_STRING, &str);
}

DBusMessage *bus_error_invalid_args(DBusMessage *msg, const char *format, ...)
{
	g_autofree char *text = NULL;
	g_autofree char *fixed = NULL;
	va_list ap;

	va_start(ap, format);
	text = g_strdup_vprintf(format, ap);
	va_end(ap);
	/* Messages quote caller input, which libdbus already checked, but a
	 * truncated quote could split a character. */
	fixed = g_utf8_make_valid(text, -1);
	return dbus_message_new_error(msg, DBUS_ERROR_INVALID_ARGS, fixed);
}

static const BusMethod *find_method(const BusInterface *iface, const char *name)
{
	for (const BusMethod *m = iface->methods; m && m->name; m++)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

static int find_property(const BusInterface *iface, const char *name)
{
	int i = 0;

	for (const BusProperty *p = iface->properties; p && p->name; p++, i++)
		if (strcmp(p->name, name) == 0)
			return i;
	return -1;
}

static bool append_property(BusObject *object, DBusMessageIter *iter,
			    const BusProperty *prop)
{
	DBusMessageIter variant;

	if (!dbus_message_iter_open_container(iter, DBUS_TYPE_VARIANT,
					      prop->sig, &variant))
		return false;
	if (!prop->get(object, &variant, object->user_data)) {
		dbus_message_iter_abandon_container(iter, &variant);
		return false;
	}
	return dbus_message_iter_close_container(iter, &variant);
}

static bool append_entry(BusObject *object, DBusMessageIter *dict,
			 const BusProperty *prop)
{
	DBusMessageIter entry;

	if (!dbus_message_iter_open_container(dict, DBUS_TYPE_DICT_ENTRY, NULL,
					      &entry))
		return false;
	if (!dbus_message_iter_append_basic(&entry, DBUS_TYPE_STRING,
					    &prop->name) ||
	    !append_property(object, &entry, prop)) {
		dbus_message_iter_abandon_container(dict, &entry);
		return false;
	}
	return dbus_message_iter_close_container(dict, &entry);
}

/* ---- PropertiesChanged -------------------------------------------------- */

static DBusMessage *build_properties_changed(BusObject *object, uint64_t mask)
{
	g_autoptr(DBusMessage) sig = NULL;
	DBusMessageIter iter, dict, inval;
	const char *name = object->iface->name;
	int i = 0;

	sig = dbus_message_new_signal(object->path, PROPERTIES,
				      "PropertiesChanged");
	if (!sig)
		return NULL;
	dbus_message_iter_init_append(sig, &iter);
	if (!dbus_message_iter_append_basic(&iter, DBUS_TYPE_STRING, &name) ||
	    !dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}",
					      &dict))
		return NULL;
	for (const BusProperty *p = object->iface->properties; p && p->name;
	     p++, i++) {
		if (!(mask & (UINT64_C(1) << i)))
			continue;
		if (!append_entry(object, &dict, p)) {
			dbus_message_iter_abandon_container(&iter, &dict);
			return NULL;
		}
	}
	if (!dbus_message_iter_close_container(&iter, &dict) ||
	    !dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s",
					      &inval) ||
	    !dbus_message_iter_close_container(&iter, &inval))
		return NULL;
	return g_steal_pointer(&sig);
}

void bus_object_flush_properties(BusObject *object)
{
	g_autoptr(DBusMessage) sig = NULL;
	uint64_t mask = object->pending_props;

	if (object->props_idle) {
		g_source_destroy(object->props_idle);
		g_clear_pointer(&object->props_idle, g_source_unref);
	}
	if (!mask)
		return;
	object->pending_props = 0;
	sig = build_properties_changed(object, mask);
	if (!sig || !dbus_connection_send(object->conn, sig, NULL))
		g_warning("Could not send PropertiesChanged: out of memory");
}

static gboolean props_idle_cb(gpointer user_data)
{
	BusObject *object = user_data;

	/* flush destroys props_idle; it is still referenced by GLib during
	 * this dispatch. */
	bus_object_flush_properties(object);
	return G_SOURCE_REMOVE;
}

void bus_object_property_changed(BusObject *object, const char *name)
{
	int i = find_property(object->iface, name);

	g_return_if_fail(i >= 0 && i < 64);
	object->pending_props |= UINT64_C(1) << i;
	if (object->props_idle)
		return;
	/* One flush per main-loop iteration: every change made while
	 * handling the current event lands in the same signal. */
	object->props_idle = g_idle_source_new();
	g_source_set_priority(object->props_idle, G_PRIORITY_DEFAULT);
	g_source_set_callback(object->props_idle, props_idle_cb, object, NULL);
	g_source_set_static_name(object->props_idle,
				 "[presenced] PropertiesChanged");
	g_source_attach(object->props_idle, object->context);
}

bool bus_object_send(BusObject *object, DBusMessage *msg)
{
	bus_object_flush_properties(object);
	return dbus_connection_send(object->conn, msg, NULL);
}

DBusMessage *bus_object_new_signal(BusObject *object, const char *name)
{
	return dbus_message_new_signal(object->path, object->iface->name, name);
}

/* ---- signals of strings, marshalled here -------------------------------- */

/* D-Bus specification, "Message Format": header field codes. */
enum {
	FIELD_PATH = 1,
	FIELD_INTERFACE = 2,
	FIELD_MEMBER = 3,
	FIELD_SIGNATURE = 8,
};

#define SIGNAL_MAX_ARGS 8

static void wire_pad(GString *out, size_t align)
{
	while (out->len % align != 0)
		g_string_append_c(out, '\0');
}

static void wire_u32(GString *out, uint32_t v)
{
	wire_pad(out, 4);
	g_string_append_len(out, (const char *)&v, sizeof(v));
}

/* STRING and OBJECT_PATH: length, bytes, NUL. */
static void wire_string(GString *out, const char *s)
{
	size_t len = strlen(s);

	wire_u32(out, (uint32_t)len);
	g_string_append_len(out, s, (gssize)len + 1);
}

/* SIGNATURE: one length byte, bytes, NUL. */
static void wire_signature(GString *out, const char *sig)
{
	size_t len = strlen(sig);

	g_string_append_c(out, (char)len);
	g_string_append_len(out, sig, (gssize)len + 1);
}

/* A header field: STRUCT (BYTE code, VARIANT value), 8-aligned. */
static void wire_field(GString *out, int code, const char *type,
		       const char *value)
{
	wire_pad(out, 8);
	g_string_append_c(out, (char)code);
	wire_signature(out, type);
	if (type[0] == 'g')
		wire_signature(out, value);
	else
		wire_string(out, value);
}

void bus_wire_string(GString *body, const char *s)
{
	wire_string(body, s ? s : "");
}

void bus_wire_boolean(GString *body, bool value)
{
	wire_u32(body, value ? 1 : 0);
}

size_t bus_wire_array_open(GString *body)
{
	size_t at;

	wire_u32(body, 0); /* length, set by bus_wire_array_close */
	at = body->len;
	return at;
}

void bus_wire_array_close(GString *body, size_t start)
{
	/* Bytes of the elements (all 4-aligned here: no padding after the
	 * length to leave out). */
	uint32_t len = (uint32_t)(body->len - start);

	memcpy(body->str + start - 4, &len, sizeof(len));
}

/*
 * Why not dbus_message_new_signal() and dbus_message_iter_append_basic():
 * libdbus rewrites the header's SIGNATURE field after every top-level
 * argument, through its generic type reader, which made a three-string
 * PresenceChanged cost ~62,000 instructions (callgrind) — most of the
 * daemon's CPU in a presence flood. Marshalled here and handed to
 * dbus_message_demarshal(), which validates the whole message (header,
 * signature against the body, UTF-8 of every string), it is ~32,000.
 */
DBusMessage *bus_message_new_signal_wire(const char *path, const char *iface,
					 const char *name,
					 const char *signature,
					 const GString *body)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(GString) out = NULL;
	size_t fields_start;
	uint32_t len;
	DBusMessage *msg;

	g_return_val_if_fail(path && iface && name && signature && body, NULL);
	g_return_val_if_fail(strlen(signature) <= 255, NULL);

	out = g_string_sized_new(192 + body->len);
	/* Byte order, SIGNAL, NO_REPLY_EXPECTED (as dbus_message_new_signal
	 * sets it), protocol version 1. */
	g_string_append_c(out, G_BYTE_ORDER == G_LITTLE_ENDIAN ? 'l' : 'B');
	g_string_append_c(out, (char)DBUS_MESSAGE_TYPE_SIGNAL);
	g_string_append_c(out, (char)DBUS_HEADER_FLAG_NO_REPLY_EXPECTED);
	g_string_append_c(out, (char)DBUS_MAJOR_PROTOCOL_VERSION);
	wire_u32(out, (uint32_t)body->len);
	/* A serial is required here; reset to 0 below so that the
	 * connection assigns its own when sending. */
	wire_u32(out, 1);
	wire_u32(out, 0); /* header fields' length, set below */
	fields_start = out->len;
	wire_field(out, FIELD_PATH, "o", path);
	wire_field(out, FIELD_INTERFACE, "s", iface);
	wire_field(out, FIELD_MEMBER, "s", name);
	if (signature[0] != '\0')
		wire_field(out, FIELD_SIGNATURE, "g", signature);
	len = (uint32_t)(out->len - fields_start);
	memcpy(out->str + 12, &len, sizeof(len));
	wire_pad(out, 8);
	g_string_append_len(out, body->str, (gssize)body->len);

	msg = dbus_message_demarshal(out->str, (int)out->len, &err);
	if (!msg)
		return NULL;
	dbus_message_set_serial(msg, 0);
	return msg;
}

DBusMessage *bus_message_new_signal_strings(const char *path, const char *iface,
					    const char *name,
					    const char *const *args,
					    size_t n_args)
{
	g_autoptr(GString) body = NULL;
	char sig[SIGNAL_MAX_ARGS + 1];

	g_return_val_if_fail(n_args <= SIGNAL_MAX_ARGS, NULL);

	memset(sig, 's', n_args);
	sig[n_args] = '\0';
	body = g_string_sized_new(128);
	for (size_t i = 0; i < n_args; i++)
		bus_wire_string(body, args[i]);
	return bus_message_new_signal_wire(path, iface, name, sig, body);
}

DBusMessage *bus_object_new_signal_strings(BusObject *object, const char *name,
					   const char *const *args,
					   size_t n_args)
{
	g_return_val_if_fail(object != NULL, NULL);
	return bus_message_new_signal_strings(object->path, object->iface->name,
					      name, args, n_args);
}

DBusMessage *bus_object_new_signal_wire(BusObject *object, const char *name,
					const char *signature,
					const GString *body)
{
	g_return_val_if_fail(object != NULL, NULL);
	return bus_message_new_signal_wire(object->path, object->iface->name,
					   name, signature, body);
}

/* ---- standard interfaces ------------------------------------------------ */

char *bus_object_dup_introspection(BusObject *object)
{
	const char *end = g_strrstr(object->xml, "</node>");
	GString *out = g_string_new(NULL);

	if (!end) /* not a document we built: serve what we have */
		end = object->xml + strlen(object->xml);
	g_string_append_len(out, object->xml, end - object->xml);
	g_string_append(out, standard_interfaces_xml);
	g_string_append(out, end);
	return g_string_free(out, FALSE);
}

static DBusMessage *handle_introspect(BusObject *object, DBusMessage *msg)
{
	g_autofree char *xml = NULL;
	DBusMessage *reply;

	if (!dbus_message_has_signature(msg, ""))
		return bus_error_invalid_args(
			msg, "Method Introspect expects signature '', got '%s'",
			dbus_message_get_signature(msg));
	xml = bus_object_dup_introspection(object);
	reply = dbus_message_new_method_return(msg);
	if (reply && !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml,
					       DBUS_TYPE_INVALID))
		g_clear_pointer(&reply, dbus_message_unref);
	return reply;
}

static bool is_standard_interface(const char *name)
{
	return strcmp(name, INTROSPECTABLE) == 0 ||
	       strcmp(name, PROPERTIES) == 0 || strcmp(name, PEER) == 0;
}

/* Checks the interface argument of a Properties call; NULL when ours. */
static DBusMessage *check_props_interface(BusObject *object, DBusMessage *msg,
					  const char *iface)
{
	/* "" is accepted as "the one interface with properties". */
	if (iface[0] == '\0' || strcmp(iface, object->iface->name) == 0)
		return NULL;
	if (is_standard_interface(iface))
		return dbus_message_new_error_printf(
			msg, DBUS_ERROR_UNKNOWN_PROPERTY,
			"Interface %s has no properties", iface);
	return dbus_message_new_error_printf(msg, DBUS_ERROR_UNKNOWN_INTERFACE,
					     "No interface %s on %s", iface,
					     object->path);
}

static DBusMessage *handle_get(BusObject *object, DBusMessage *msg)
{
	const char *iface, *name;
	DBusMessage *reply;
	DBusMessageIter iter;
	int i;

	if (!dbus_message_has_signature(msg, "ss"))
		return bus_error_invalid_args(
			msg, "Method Get expects signature 'ss', got '%s'",
			dbus_message_get_signature(msg));
	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &iface,
				   DBUS_TYPE_STRING, &name, DBUS_TYPE_INVALID))
		return NULL;
	reply = check_props_interface(object, msg, iface);
	if (reply)
		return reply;
	i = find_property(object->iface, name);
	if (i < 0)
		return dbus_message_new_error_printf(
			msg, DBUS_ERROR_UNKNOWN_PROPERTY,
			"No property %s on interface %s", name,
			object->iface->name);
	reply = dbus_message_new_method_return(msg);
	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!append_property(object, &iter, &object->iface->properties[i]))
		g_clear_pointer(&reply, dbus_message_unref);
	return reply;
}

static DBusMessage *handle_get_all(BusObject *object, DBusMessage *msg)
{
	g_autoptr(DBusMessage) reply = NULL;
	const char *iface;
	DBusMessageIter iter, dict;
	bool ours;

	if (!dbus_message_has_signature(msg, "s"))
		return bus_error_invalid_args(
			msg, "Method GetAll expects signature 's', got '%s'",
			dbus_message_get_signature(msg));
	if (!dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &iface,
				   DBUS_TYPE_INVALID))
		return NULL;
	ours = iface[0] == '\0' || strcmp(iface, object->iface->name) == 0;
	if (!ours && !is_standard_interface(iface))
		return dbus_message_new_error_printf(
			msg, DBUS_ERROR_UNKNOWN_INTERFACE,
			"No interface %s on %s", iface, object->path);
	reply = dbus_message_new_method_return(msg);
	if (!reply)
		return NULL;
	dbus_message_iter_init_append(reply, &iter);
	if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "{sv}",
					      &dict))
		return NULL;
	for (const BusProperty *p = object->iface->properties;
	     ours && p && p->name; p++) {
		if (!append_entry(object, &dict, p)) {
			dbus_message_iter_abandon_container(&iter, &dict);
			return NULL;
		}
	}
	if (!dbus_message_iter_close_container(&iter, &dict))
		return NULL;
	return g_steal_pointer(&reply);
}

static DBusMessage *handle_set(BusObject *object, DBusMessage *msg)
{
	DBusMessageIter iter;
	const char *iface, *name;
	DBusMessage *reply;

	if (!dbus_message_has_signature(msg, "ssv"))
		return bus_error_invalid_args(
			msg, "Method Set expects signature 'ssv', got '%s'",
			dbus_message_get_signature(msg));
	dbus_message_iter_init(msg, &iter);
	dbus_message_iter_get_basic(&iter, &iface);
	dbus_message_iter_next(&iter);
	dbus_message_iter_get_basic(&iter, &name);
	reply = check_props_interface(object, msg, iface);
	if (reply)
		return reply;
	if (find_property(object->iface, name) < 0)
		return dbus_message_new_error_printf(
			msg, DBUS_ERROR_UNKNOWN_PROPERTY,
			"No property %s on interface %s", name,
			object->iface->name);
	return dbus_message_new_error_printf(msg, DBUS_ERROR_PROPERTY_READ_ONLY,
					     "Property %s is read-only", name);
}

/* ---- dispatch ----------------------------------------------------------- */

static DBusMessage *dispatch(BusObject *object, DBusMessage *msg)
{
	const char *iface = dbus_message_get_interface(msg);
	const char *member = dbus_message_get_member(msg);
	const BusMethod *method;

	if (iface && strcmp(iface, INTROSPECTABLE) == 0) {
		if (strcmp(member, "Introspect") == 0)
			return handle_introspect(object, msg);
	} else if (iface && strcmp(iface, PROPERTIES) == 0) {
		if (strcmp(member, "Get") == 0)
			return handle_get(object, msg);
		if (strcmp(member, "GetAll") == 0)
			return handle_get_all(object, msg);
		if (strcmp(member, "Set") == 0)
			return handle_set(object, msg);
	} else if (!iface || strcmp(iface, object->iface->name) == 0) {
		method = find_method(object->iface, member);
		if (method) {
			if (!dbus_message_has_signature(msg, method->in_sig))
				return bus_error_invalid_args(
					msg,
					"Method %s expects signature '%s', "
					"got '%s'",
					method->name, method->in_sig,
					dbus_message_get_signature(msg));
			return method->func(object, msg, object->user_data);
		}
	} else {
		return dbus_message_new_error_printf(
			msg, DBUS_ERROR_UNKNOWN_INTERFACE,
			"No interface %s on %s", iface, object->path);
	}
	return dbus_message_new_error_printf(
		msg, DBUS_ERROR_UNKNOWN_METHOD,
		"No method %s.%s with signature '%s'",
		iface ? iface : object->iface->name, member,
		dbus_message_get_signature(msg));
}

static DBusHandlerResult message_cb(DBusConnection *conn, DBusMessage *msg,
				    void *user_data)
{
	BusObject *object = user_data;
	g_autoptr(DBusMessage) reply = NULL;

	if (dbus_message_get_type(msg) != DBUS_MESSAGE_TYPE_METHOD_CALL)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	/* Peer is answered by libdbus itself. */
	if (dbus_message_has_interface(msg, PEER))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;

	reply = dispatch(object, msg);
	if (!reply)
		return DBUS_HANDLER_RESULT_NEED_MEMORY;
	if (object->call_handled)
		object->call_handled(object->user_data);
	if (!dbus_message_get_no_reply(msg))
		(void)bus_object_send(object, reply);
	return DBUS_HANDLER_RESULT_HANDLED;
}

/* Parents of the object: answer Introspect with the next path element so
 * that tools walking the tree from "/" find us. */
static DBusHandlerResult parent_cb(DBusConnection *conn, DBusMessage *msg,
				   void *user_data)
{
	BusObject *object = user_data;
	g_autoptr(DBusMessage) reply = NULL;
	g_autofree char *xml = NULL;
	const char *path = dbus_message_get_path(msg);
	const char *child;
	size_t len;

	if (!dbus_message_is_method_call(msg, INTROSPECTABLE, "Introspect") ||
	    !path)
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	len = strcmp(path, "/") == 0 ? 0 : strlen(path);
	child = object->path + len + 1;
	xml = g_strdup_printf(
		"<!DOCTYPE node PUBLIC "
		"\"-//freedesktop//DTD D-BUS Object Introspection 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/"
		"introspect.dtd\">\n"
		"<node>\n  <node name=\"%.*s\"/>\n</node>\n",
		(int)strcspn(child, "/"), child);
	reply = dbus_message_new_method_return(msg);
	if (!reply || !dbus_message_append_args(reply, DBUS_TYPE_STRING, &xml,
						DBUS_TYPE_INVALID))
		return DBUS_HANDLER_RESULT_NEED_MEMORY;
	(void)dbus_connection_send(conn, reply, NULL);
	return DBUS_HANDLER_RESULT_HANDLED;
}

static const DBusObjectPathVTable object_vtable = {
	.message_function = message_cb,
};

static const DBusObjectPathVTable parent_vtable = {
	.message_function = parent_cb,
};

/* Each proper prefix of path: "/", "/im", "/im/presenced". */
static GPtrArray *parent_paths(const char *path)
{
	GPtrArray *parents = g_ptr_array_new_with_free_func(g_free);

	for (const char *p = path + 1; (p = strchr(p, '/')); p++)
		g_ptr_array_add(parents, g_strndup(path, p - path));
	if (strcmp(path, "/") != 0)
		g_ptr_array_insert(parents, 0, g_strdup("/"));
	return parents;
}

BusObject *bus_object_new(DBusConnection *conn, const char *path,
			  const BusInterface *iface, const char *xml,
			  void *user_data, GError **error)
{
	g_auto(DBusError) err = DBUS_ERROR_INIT;
	g_autoptr(GPtrArray) parents = NULL;
	BusObject *object;

	g_return_val_if_fail(conn && path && iface && xml, NULL);
	g_return_val_if_fail(dbus_validate_path(path, NULL), NULL);

	object = g_new0(BusObject, 1);
	object->conn = dbus_connection_ref(conn);
	object->path = g_strdup(path);
	object->iface = iface;
	object->xml = xml;
	object->user_data = user_data;
	object->context = g_main_context_ref_thread_default();

	if (!dbus_connection_try_register_object_path(
		    conn, path, &object_vtable, object, &err)) {
		g_set_error(error, BUS_OBJECT_ERROR, BUS_OBJECT_ERROR_FAILED,
			    "Could not register %s: %s", path, err.message);
		g_clear_pointer(&object->path, g_free);
		bus_object_free(object);
		return NULL;
	}
	/* Best effort: another object may own a parent path. */
	parents = parent_paths(path);
	for (guint i = 0; i < parents->len; i++)
		(void)dbus_connection_register_object_path(
			conn, parents->pdata[i], &parent_vtable, object);
	return object;
}

void bus_object_free(BusObject *object)
{
	if (!object)
		return;
	if (object->props_idle) {
		g_source_destroy(object->props_idle);
		g_source_unref(object->props_idle);
	}
	if (object->path) {
		g_autoptr(GPtrArray) parents = parent_paths(object->path);
		void *data;

		(void)dbus_connection_unregister_object_path(object->conn,
							     object->path);
		for (guint i = 0; i < parents->len; i++)
			if (dbus_connection_get_object_path_data(
				    object->conn, parents->pdata[i], &data) &&
			    data == object)
				(void)dbus_connection_unregister_object_path(
					object->conn, parents->pdata[i]);
	}
	dbus_connection_unref(object->conn);
	g_main_context_unref(object->context);
	g_free(object->path);
	g_free(object);
}

void bus_object_set_call_handled(BusObject *object,
				 void (*func)(void *user_data))
{
	g_return_if_fail(object != NULL);
	object->call_handled = func;
}

DBusConnection *bus_object_get_connection(BusObject *object)
{
	return object->conn;
}

const char *bus_object_get_path(BusObject *object)
{
	return object->path;
}
