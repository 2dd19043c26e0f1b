/* SPDX-License-Identifier: MIT */
/* Unit tests for core/stanza.c: tree building, attributes, serialization. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/stanza.h"
#include "tests/support/check-suite.h"

static char *serialize(const Stanza *s, const char *parent_ns)
{
	GString *out = g_string_new(NULL);

	stanza_serialize(s, parent_ns, out);
	return g_string_free(out, FALSE);
}

START_TEST(test_build_and_query)
{
	g_autoptr(Stanza) iq = stanza_new("iq", NULL);
	Stanza *query;
	Stanza *item;
	const char *name;
	const char *value;

	stanza_set_attr(iq, "type", "result");
	stanza_set_attr(iq, "id", "r1");
	query = stanza_add_child_new(iq, "query", "jabber:iq:roster");
	item = stanza_add_child_new(query, "item", NULL);
	stanza_set_attr(item, "jid", "a@b");
	stanza_add_child_text(item, "group", NULL, "Friends");
	stanza_add_child_new(query, "item", NULL);

	ck_assert_str_eq(stanza_get_name(iq), "iq");
	ck_assert_ptr_null(stanza_get_ns(iq));
	ck_assert_str_eq(stanza_get_attr(iq, "type"), "result");
	ck_assert_ptr_null(stanza_get_attr(iq, "to"));
	ck_assert_ptr_eq(stanza_get_child(iq, "query", "jabber:iq:roster"),
			 query);
	ck_assert_ptr_null(stanza_get_child(iq, "query", "jabber:iq:other"));
	ck_assert_ptr_eq(stanza_get_child(iq, NULL, NULL), query);
	ck_assert_ptr_eq(stanza_get_child(iq, "query", NULL), query);
	ck_assert_uint_eq(stanza_get_n_children(query), 2);
	ck_assert_ptr_eq(stanza_get_first_child(query), item);
	ck_assert_ptr_eq(stanza_get_parent(item), query);
	ck_assert_ptr_nonnull(stanza_get_next_sibling(item));
	ck_assert_ptr_null(
		stanza_get_next_sibling(stanza_get_next_sibling(item)));
	ck_assert_str_eq(stanza_get_text(stanza_get_child(item, "group", NULL)),
			 "Friends");
	ck_assert_str_eq(stanza_get_text(item), "");

	ck_assert(stanza_get_attr_nth(iq, 0, &name, &value));
	ck_assert_str_eq(name, "type");
	ck_assert_str_eq(value, "result");
	ck_assert(stanza_get_attr_nth(iq, 1, &name, &value));
	ck_assert_str_eq(name, "id");
	ck_assert(!stanza_get_attr_nth(iq, 2, &name, &value));
}
END_TEST

START_TEST(test_attr_replace_remove)
{
	g_autoptr(Stanza) s = stanza_new("presence", NULL);
	const char *name;

	stanza_set_attr(s, "a", "1");
	stanza_set_attr(s, "b", "2");
	stanza_set_attr(s, "c", "3");
	stanza_set_attr(s, "a", "one");
	ck_assert_str_eq(stanza_get_attr(s, "a"), "one");
	stanza_set_attr(s, "b", NULL);
	ck_assert_ptr_null(stanza_get_attr(s, "b"));
	ck_assert(stanza_get_attr_nth(s, 1, &name, NULL));
	ck_assert_str_eq(name, "c");
	ck_assert(!stanza_get_attr_nth(s, 2, NULL, NULL));
	stanza_set_attr(s, "zz", NULL); /* removing a missing one: no-op */
	for (int i = 0; i < 40; i++) {
		char n[16];

		g_snprintf(n, sizeof(n), "x%d", i);
		stanza_set_attr(s, n, n);
	}
	ck_assert_str_eq(stanza_get_attr(s, "x39"), "x39");
	ck_assert_str_eq(stanza_get_attr(s, "c"), "3");
}
END_TEST

/* One block for a parsed element's attributes; edits still work. */
START_TEST(test_attrs_packed)
{
	const char *names[] = {"from", "to", "from", "xml:lang"};
	const char *values[] = {"a@b/c&d", "me", "dup", "en-GB"};
	const size_t lens[] = {5, 2, 3, 2}; /* "a@b/c", "me", "dup", "en" */
	g_autoptr(Stanza) s = stanza_new("presence", NULL);
	g_autoptr(Stanza) copy = NULL;
	g_autofree char *xml = NULL;
	const char *name, *value;

	stanza_set_attrs_packed(s, G_N_ELEMENTS(names), names, values, lens);
	ck_assert_str_eq(stanza_get_attr(s, "from"), "a@b/c");
	ck_assert_str_eq(stanza_get_attr(s, "to"), "me");
	ck_assert_str_eq(stanza_get_attr(s, "xml:lang"), "en");
	ck_assert(stanza_get_attr_nth(s, 2, &name, &value));
	ck_assert_str_eq(name, "xml:lang");
	ck_assert(!stanza_get_attr_nth(s, 3, NULL, NULL));
	copy = stanza_copy(s);
	xml = stanza_to_string(s);
	ck_assert_str_eq(xml, "<presence from='a@b/c' to='me' "
			      "xml:lang='en'/>");
	/* Edits after packing: replace, remove, add. */
	stanza_set_attr(s, "to", "you");
	stanza_set_attr(s, "from", NULL);
	stanza_set_attr(s, "id", "1");
	ck_assert_ptr_null(stanza_get_attr(s, "from"));
	ck_assert_str_eq(stanza_get_attr(s, "to"), "you");
	ck_assert_str_eq(stanza_get_attr(s, "xml:lang"), "en");
	ck_assert_str_eq(stanza_get_attr(s, "id"), "1");
	ck_assert_str_eq(stanza_get_attr(copy, "from"), "a@b/c");
	/* None at all is a no-op. */
	{
		g_autoptr(Stanza) empty = stanza_new("iq", NULL);

		stanza_set_attrs_packed(empty, 0, NULL, NULL, NULL);
		ck_assert(!stanza_get_attr_nth(empty, 0, NULL, NULL));
	}
}
END_TEST

START_TEST(test_text)
{
	g_autoptr(Stanza) s = stanza_new("body", NULL);

	stanza_append_text(s, "hello", -1);
	stanza_append_text(s, " worldXXX", 6);
	ck_assert_str_eq(stanza_get_text(s), "hello world");
	stanza_set_text(s, "new");
	ck_assert_str_eq(stanza_get_text(s), "new");
	stanza_set_text(s, NULL);
	ck_assert_str_eq(stanza_get_text(s), "");
	stanza_append_text(s, "", 0);
	ck_assert_str_eq(stanza_get_text(s), "");
}
END_TEST

START_TEST(test_serialize_escaping)
{
	g_autoptr(Stanza) m = stanza_new("message", NULL);
	g_autofree char *xml = NULL;

	stanza_set_attr(m, "to", "a&b<c>d\"e'f\tg\nh\ri");
	stanza_add_child_text(m, "body", NULL,
			      "1 < 2 & 3 > 2 \"q\" 'a'\n\r\n\t");
	xml = stanza_to_string(m);
	/* CR in text too: XML 1.0 §2.11 would read a raw one as LF. */
	ck_assert_str_eq(xml,
			 "<message to='a&amp;b&lt;c&gt;d&quot;e&apos;f&#9;g"
			 "&#10;h&#13;i'><body>1 &lt; 2 &amp; 3 &gt; 2 \"q\" "
			 "'a'\n&#13;\n\t</body></message>");
}
END_TEST

START_TEST(test_serialize_controls_dropped)
{
	g_autoptr(Stanza) m = stanza_new("status", NULL);
	g_autofree char *xml = NULL;

	stanza_set_text(m, "a\x01"
			   "b\x1f"
			   "c\td");
	xml = stanza_to_string(m);
	ck_assert_str_eq(xml, "<status>abc\td</status>");
}
END_TEST

START_TEST(test_serialize_namespaces)
{
	g_autoptr(Stanza) p = stanza_new("presence", "jabber:client");
	Stanza *c;
	g_autofree char *xml = NULL;
	g_autofree char *xml2 = NULL;
	g_autofree char *xml3 = NULL;

	c = stanza_add_child_new(p, "c", "http://jabber.org/protocol/caps");
	stanza_set_attr(c, "hash", "sha-1");
	stanza_add_child_new(c, "inner", "http://jabber.org/protocol/caps");
	stanza_add_child_new(c, "other", "urn:other");
	stanza_add_child_text(p, "show", "jabber:client", "away");
	stanza_add_child_text(p, "status", NULL, "x");

	xml = stanza_to_string(p);
	ck_assert_str_eq(xml,
			 "<presence><c xmlns='http://jabber.org/protocol/caps'"
			 " hash='sha-1'><inner/><other xmlns='urn:other'/>"
			 "</c><show>away</show><status>x</status></presence>");
	xml2 = serialize(p, "jabber:server");
	ck_assert(
		g_str_has_prefix(xml2, "<presence xmlns='jabber:client'><c "));
	xml3 = serialize(p, NULL);
	ck_assert(g_str_has_prefix(xml3, "<presence xmlns='jabber:client'>"));
}
END_TEST

START_TEST(test_serialize_empty_and_xmlns_attr)
{
	g_autoptr(Stanza) s = stanza_new("x", NULL);
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;

	a = serialize(s, NULL);
	ck_assert_str_eq(a, "<x/>");
	stanza_set_attr(s, "xmlns", "urn:bogus");
	stanza_set_attr(s, "xml:lang", "en");
	b = serialize(s, NULL);
	ck_assert_str_eq(b, "<x xml:lang='en'/>");
}
END_TEST

START_TEST(test_copy)
{
	g_autoptr(Stanza) p = stanza_new("presence", NULL);
	g_autoptr(Stanza) copy = NULL;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;

	stanza_set_attr(p, "from", "a@b/c");
	stanza_add_child_text(p, "status", NULL, "here");
	stanza_add_child_new(stanza_add_child_new(p, "x", "urn:x"), "y", NULL);
	copy = stanza_copy(p);
	a = stanza_to_string(p);
	b = stanza_to_string(copy);
	ck_assert_str_eq(a, b);
	stanza_set_attr(copy, "from", "changed");
	ck_assert_str_eq(stanza_get_attr(p, "from"), "a@b/c");
	ck_assert_ptr_null(stanza_get_parent(copy));
}
END_TEST

START_TEST(test_wide_tree)
{
	g_autoptr(Stanza) q = stanza_new("query", "jabber:iq:roster");
	g_autofree char *xml = NULL;

	for (int i = 0; i < 100000; i++)
		stanza_add_child_new(q, "item", NULL);
	ck_assert_uint_eq(stanza_get_n_children(q), 100000);
	xml = stanza_to_string(q);
	ck_assert_uint_eq(strlen(xml),
			  strlen("<query xmlns='jabber:iq:roster'>") +
				  100000 * strlen("<item/>") +
				  strlen("</query>"));
}
END_TEST

START_TEST(test_null_safe_free)
{
	stanza_free(NULL);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"build-and-query", test_build_and_query},
		{"attributes", test_attr_replace_remove},
		{"attributes-packed", test_attrs_packed},
		{"text", test_text},
		{"serialize-escaping", test_serialize_escaping},
		{"serialize-controls", test_serialize_controls_dropped},
		{"serialize-namespaces", test_serialize_namespaces},
		{"serialize-empty", test_serialize_empty_and_xmlns_attr},
		{"copy", test_copy},
		{"wide-tree", test_wide_tree},
		{"free-null", test_null_safe_free},
	};

	return check_suite_run("stanza", cases, G_N_ELEMENTS(cases), 30);
}
