/* SPDX-License-Identifier: MIT */
/*
 * The static tables of /im/presenced/Presence1 against the interface XML
 * that Introspect serves and that is installed; UTF-8 repair of strings
 * put on the bus.
 */
#include "config.h"

#include <check.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <string.h>

#include "bus-presence.h"
#include "dbus/bus-autoptr.h"
#include "dbus/bus-object.h"
#include "dbus/presence1-xml.h"
#include "tests/support/check-suite.h"

static xmlDocPtr doc;
static xmlNodePtr iface_node;

static bool is(xmlNodePtr node, const char *name)
{
	return node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0;
}

static char *prop(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
	char *copy = g_strdup((const char *)v);

	xmlFree(v);
	return copy;
}

static xmlNodePtr find_child(xmlNodePtr parent, const char *element,
			     const char *name)
{
	for (xmlNodePtr n = parent->children; n; n = n->next) {
		g_autofree char *v = NULL;

		if (!is(n, element))
			continue;
		v = prop(n, "name");
		if (g_strcmp0(v, name) == 0)
			return n;
	}
	return NULL;
}

static size_t count_children(xmlNodePtr parent, const char *element)
{
	size_t n = 0;

	for (xmlNodePtr c = parent->children; c; c = c->next)
		n += is(c, element);
	return n;
}

/* Concatenated types of the <arg>s with the given direction ("in"/"out";
 * NULL: all, for signals). Methods default to "in". */
static char *arg_signature(xmlNodePtr node, const char *direction)
{
	GString *sig = g_string_new(NULL);

	for (xmlNodePtr a = node->children; a; a = a->next) {
		g_autofree char *dir = NULL;
		g_autofree char *type = NULL;

		if (!is(a, "arg"))
			continue;
		dir = prop(a, "direction");
		type = prop(a, "type");
		if (direction && g_strcmp0(dir ? dir : "in", direction) != 0)
			continue;
		g_string_append(sig, type);
	}
	return g_string_free(sig, FALSE);
}

static void setup(void)
{
	doc = xmlReadMemory(presence1_xml, (int)strlen(presence1_xml),
			    "im.presenced.Presence1.xml", NULL,
			    XML_PARSE_NONET);
	ck_assert_ptr_nonnull(doc);
	ck_assert(is(xmlDocGetRootElement(doc), "node"));
	iface_node = find_child(xmlDocGetRootElement(doc), "interface",
				BUS_PRESENCE_INTERFACE);
	ck_assert_ptr_nonnull(iface_node);
}

static void teardown(void)
{
	xmlFreeDoc(doc);
}

START_TEST(test_methods_match_xml)
{
	const BusInterface *iface = bus_presence_get_interface();
	size_t n = 0;

	ck_assert_str_eq(iface->name, BUS_PRESENCE_INTERFACE);
	for (const BusMethod *m = iface->methods; m->name; m++, n++) {
		xmlNodePtr node = find_child(iface_node, "method", m->name);
		g_autofree char *in = NULL;
		g_autofree char *out = NULL;

		ck_assert_msg(node, "method %s missing from the XML", m->name);
		in = arg_signature(node, "in");
		out = arg_signature(node, "out");
		ck_assert_str_eq(in, m->in_sig);
		ck_assert_str_eq(out, m->out_sig);
		ck_assert_ptr_nonnull(m->func);
	}
	ck_assert_uint_eq(n, count_children(iface_node, "method"));
	/* Every method of the contract. */
	/* The contract's 10, plus GetSubscription and GetRosterItems. */
	ck_assert_uint_eq(n, 15);
}
END_TEST

START_TEST(test_signals_match_xml)
{
	const BusInterface *iface = bus_presence_get_interface();
	size_t n = 0;

	for (const BusSignal *s = iface->signals; s->name; s++, n++) {
		xmlNodePtr node = find_child(iface_node, "signal", s->name);
		g_autofree char *sig = NULL;

		ck_assert_msg(node, "signal %s missing from the XML", s->name);
		sig = arg_signature(node, NULL);
		ck_assert_str_eq(sig, s->sig);
	}
	ck_assert_uint_eq(n, count_children(iface_node, "signal"));
	/* The contract's 3, plus RosterChanged. */
	ck_assert_uint_eq(n, 4);
}
END_TEST

START_TEST(test_properties_match_xml)
{
	const BusInterface *iface = bus_presence_get_interface();
	size_t n = 0;

	for (const BusProperty *p = iface->properties; p->name; p++, n++) {
		xmlNodePtr node = find_child(iface_node, "property", p->name);
		xmlNodePtr ann;
		g_autofree char *type = NULL;
		g_autofree char *access = NULL;
		g_autofree char *value = NULL;

		ck_assert_msg(node, "property %s missing from the XML",
			      p->name);
		type = prop(node, "type");
		access = prop(node, "access");
		ck_assert_str_eq(type, p->sig);
		ck_assert_str_eq(access, "read");
		ann = find_child(node, "annotation",
				 "org.freedesktop.DBus.Property."
				 "EmitsChangedSignal");
		ck_assert_ptr_nonnull(ann);
		value = prop(ann, "value");
		ck_assert_str_eq(value, "true");
		ck_assert_ptr_nonnull(p->get);
	}
	ck_assert_uint_eq(n, count_children(iface_node, "property"));
	ck_assert_uint_eq(n, 11);
}
END_TEST

START_TEST(test_only_one_interface)
{
	ck_assert_uint_eq(
		count_children(xmlDocGetRootElement(doc), "interface"), 1);
}
END_TEST

static char *roundtrip(const char *in)
{
	g_autoptr(DBusMessage) msg = dbus_message_new_signal("/a", "a.b", "C");
	DBusMessageIter iter;
	const char *out;

	dbus_message_iter_init_append(msg, &iter);
	ck_assert(bus_iter_append_string(&iter, in));
	ck_assert(dbus_message_iter_init(msg, &iter));
	ck_assert_int_eq(dbus_message_iter_get_arg_type(&iter),
			 DBUS_TYPE_STRING);
	dbus_message_iter_get_basic(&iter, &out);
	return g_strdup(out);
}

START_TEST(test_append_string_repairs_utf8)
{
	g_autofree char *ok = roundtrip("h\xc3\xa9llo\ttab");
	g_autofree char *bad = roundtrip("a\xff\xfe"
					 "b\xc3");
	g_autofree char *surrogate = roundtrip("x\xed\xa0\x80y");
	g_autofree char *null = roundtrip(NULL);

	ck_assert_str_eq(ok, "h\xc3\xa9llo\ttab");
	ck_assert(g_utf8_validate(bad, -1, NULL));
	ck_assert(g_str_has_prefix(bad, "a"));
	ck_assert_ptr_nonnull(strchr(bad, 'b'));
	ck_assert(g_utf8_validate(surrogate, -1, NULL));
	ck_assert_str_eq(null, "");
}
END_TEST

START_TEST(test_invalid_args_message)
{
	g_autoptr(DBusMessage) call =
		dbus_message_new_method_call("a.b", "/a", "a.b", "C");
	g_autoptr(DBusMessage) err = NULL;

	dbus_message_set_serial(call, 7);
	err = bus_error_invalid_args(call, "bad %s: %d", "x\xff", 3);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(dbus_message_get_error_name(err),
			 DBUS_ERROR_INVALID_ARGS);
	ck_assert_uint_eq(dbus_message_get_reply_serial(err), 7);
}
END_TEST

/* The hand-marshalled signal equals the one libdbus builds. */
START_TEST(test_signal_strings)
{
	const char *args[] = {"alice@example.org", "away",
			      "h\xc3\xa9llo \xe2\x80\x94 \xf0\x9f\x98\x80"};
	const char *bad[] = {"a", "b\xff"};
	g_autoptr(DBusMessage) ref =
		dbus_message_new_signal("/im/x/Y1", "im.x.Y1", "Changed");
	g_autoptr(DBusMessage) msg = bus_message_new_signal_strings(
		"/im/x/Y1", "im.x.Y1", "Changed", args, G_N_ELEMENTS(args));
	g_autoptr(DBusMessage) empty = bus_message_new_signal_strings(
		"/im/x/Y1", "im.x.Y1", "Changed", NULL, 0);
	g_autoptr(DBusMessage) invalid = bus_message_new_signal_strings(
		"/im/x/Y1", "im.x.Y1", "Changed", bad, G_N_ELEMENTS(bad));
	const char *a, *b, *c;

	ck_assert(dbus_message_append_args(
		ref, DBUS_TYPE_STRING, &args[0], DBUS_TYPE_STRING, &args[1],
		DBUS_TYPE_STRING, &args[2], DBUS_TYPE_INVALID));
	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(dbus_message_get_type(msg), DBUS_MESSAGE_TYPE_SIGNAL);
	ck_assert_str_eq(dbus_message_get_path(msg), "/im/x/Y1");
	ck_assert_str_eq(dbus_message_get_interface(msg), "im.x.Y1");
	ck_assert_str_eq(dbus_message_get_member(msg), "Changed");
	ck_assert_str_eq(dbus_message_get_signature(msg), "sss");
	ck_assert(dbus_message_get_no_reply(msg) ==
		  dbus_message_get_no_reply(ref));
	ck_assert_uint_eq(dbus_message_get_serial(msg), 0);
	ck_assert_ptr_null(dbus_message_get_sender(msg));
	ck_assert_ptr_null(dbus_message_get_destination(msg));
	ck_assert(dbus_message_get_args(msg, NULL, DBUS_TYPE_STRING, &a,
					DBUS_TYPE_STRING, &b, DBUS_TYPE_STRING,
					&c, DBUS_TYPE_INVALID));
	ck_assert_str_eq(a, args[0]);
	ck_assert_str_eq(b, args[1]);
	ck_assert_str_eq(c, args[2]);
	/* Byte for byte what libdbus marshals, once both have a serial. */
	dbus_message_set_serial(ref, 5);
	dbus_message_set_serial(msg, 5);
	{
		g_autofree char *x = NULL, *y = NULL;
		char *p;
		int nx, ny;

		ck_assert(dbus_message_marshal(ref, &p, &nx));
		x = g_memdup2(p, (gsize)nx);
		dbus_free(p);
		ck_assert(dbus_message_marshal(msg, &p, &ny));
		y = g_memdup2(p, (gsize)ny);
		dbus_free(p);
		ck_assert_int_eq(nx, ny);
		ck_assert(memcmp(x, y, (size_t)nx) == 0);
	}

	ck_assert_ptr_nonnull(empty);
	ck_assert_str_eq(dbus_message_get_signature(empty), "");
	/* Invalid UTF-8: NULL, for the caller's repairing fallback. */
	ck_assert_ptr_null(invalid);
}
END_TEST

/* s, b and as marshalled by hand, against libdbus. */
START_TEST(test_signal_wire)
{
	const char *strs[] = {"bob@example.org", "", "both"};
	const char *group_names[] = {"Friends", "W\xc3\xb6rk"};
	dbus_bool_t pending = TRUE;
	g_autoptr(DBusMessage) ref =
		dbus_message_new_signal("/im/x/Y1", "im.x.Y1", "RosterChanged");
	g_autoptr(DBusMessage) msg = NULL;
	g_autoptr(DBusMessage) none = NULL;
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(GString) empty_groups = g_string_new(NULL);
	DBusMessageIter iter, arr;
	size_t at;

	dbus_message_iter_init_append(ref, &iter);
	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
		ck_assert(dbus_message_iter_append_basic(
			&iter, DBUS_TYPE_STRING, &strs[i]));
	ck_assert(dbus_message_iter_append_basic(&iter, DBUS_TYPE_BOOLEAN,
						 &pending));
	ck_assert(dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "s",
						   &arr));
	for (size_t i = 0; i < G_N_ELEMENTS(group_names); i++)
		ck_assert(dbus_message_iter_append_basic(&arr, DBUS_TYPE_STRING,
							 &group_names[i]));
	ck_assert(dbus_message_iter_close_container(&iter, &arr));

	for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
		bus_wire_string(body, strs[i]);
	bus_wire_boolean(body, true);
	at = bus_wire_array_open(body);
	for (size_t i = 0; i < G_N_ELEMENTS(group_names); i++)
		bus_wire_string(body, group_names[i]);
	bus_wire_array_close(body, at);
	msg = bus_message_new_signal_wire("/im/x/Y1", "im.x.Y1",
					  "RosterChanged", "sssbas", body);
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_eq(dbus_message_get_serial(msg), 0);
	dbus_message_set_serial(ref, 9);
	dbus_message_set_serial(msg, 9);
	{
		g_autofree char *x = NULL, *y = NULL;
		char *p;
		int nx, ny;

		ck_assert(dbus_message_marshal(ref, &p, &nx));
		x = g_memdup2(p, (gsize)nx);
		dbus_free(p);
		ck_assert(dbus_message_marshal(msg, &p, &ny));
		y = g_memdup2(p, (gsize)ny);
		dbus_free(p);
		ck_assert_int_eq(nx, ny);
		ck_assert(memcmp(x, y, (size_t)nx) == 0);
	}

	/* An empty array; and a body that does not match its signature is
	 * refused by libdbus' validation, not sent. */
	bus_wire_string(empty_groups, "a");
	bus_wire_boolean(empty_groups, false);
	at = bus_wire_array_open(empty_groups);
	bus_wire_array_close(empty_groups, at);
	g_clear_pointer(&msg, dbus_message_unref);
	msg = bus_message_new_signal_wire("/im/x/Y1", "im.x.Y1", "C", "sbas",
					  empty_groups);
	ck_assert_ptr_nonnull(msg);
	none = bus_message_new_signal_wire("/im/x/Y1", "im.x.Y1", "C", "ss",
					   empty_groups);
	ck_assert_ptr_null(none);
}
END_TEST

int main(void)
{
	static const CheckFixture with_bus = {setup, teardown};
	const CheckCase cases[] = {
		{"tables", test_methods_match_xml, .fixture = &with_bus},
		{"tables", test_signals_match_xml},
		{"tables", test_properties_match_xml},
		{"tables", test_only_one_interface},
		{"strings", test_append_string_repairs_utf8},
		{"strings", test_invalid_args_message},
		{"strings", test_signal_strings},
		{"strings", test_signal_wire},
	};

	return check_suite_run("bus-object", cases, G_N_ELEMENTS(cases), 10);
}
