/* SPDX-License-Identifier: MIT */
/*
 * core/roster.c: item parsing, push validation (spoofed pushes), roster
 * versioning (RFC 6121 §2.6) and the subscription decisions (§3).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/roster.h"
#include "core/xml-reader.h"
#include "tests/support/check-suite.h"

#define OWN "alice@example.org"

/* Parses one complete element (inside a stream) into a Stanza. */
static Stanza *parse(const char *xml)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autofree char *doc = g_strdup_printf(
		"<stream:stream xmlns='jabber:client' "
		"xmlns:stream='http://etherx.jabber.org/streams'>%s",
		xml);
	Stanza *stanza = NULL;
	g_autoptr(Stanza) header = NULL;
	g_autoptr(GError) error = NULL;

	xml_reader_feed(reader, doc, strlen(doc));
	ck_assert_int_eq(xml_reader_next(reader, &header, &error),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &stanza, &error),
			 XML_READER_EVENT_STANZA);
	return stanza;
}

static Stanza *push(const char *from, const char *items)
{
	g_autofree char *xml = g_strdup_printf(
		"<iq type='set' id='p1'%s%s%s><query xmlns='jabber:iq:roster' "
		"ver='v7'>%s</query></iq>",
		from ? " from='" : "", from ? from : "", from ? "'" : "",
		items);

	return parse(xml);
}

static void assert_show(const ContactTable *t, const char *jid,
			PresenceShow show)
{
	const Contact *c = contacts_lookup(t, jid);

	ck_assert_msg(c != NULL, "%s not in the table", jid);
	ck_assert_str_eq(presence_show_to_string(contact_get_show(c)),
			 presence_show_to_string(show));
}

/* ---- items ----------------------------------------------------------------
 */

START_TEST(test_item_parse)
{
	g_autoptr(Stanza) iq =
		push(NULL, "<item jid='Bob@Example.NET/phone' name='Bob' "
			   "subscription='to' ask='subscribe' approved='true'>"
			   "<group>Friends</group><group></group>"
			   "<group>Friends</group><group>Work</group></item>");
	Stanza *item = stanza_get_first_child(stanza_get_first_child(iq));
	g_auto(RosterItem) ri = {0};

	ck_assert(roster_item_parse(item, &ri, NULL));
	/* Normalized and bare. */
	ck_assert_str_eq(ri.jid, "bob@example.net");
	ck_assert_str_eq(ri.name, "Bob");
	ck_assert_int_eq(ri.subscription, ROSTER_SUBSCRIPTION_TO);
	ck_assert(ri.ask);
	ck_assert(ri.approved);
	ck_assert(!ri.remove);
	/* Empty and duplicate groups dropped (§2.1.2.4). */
	ck_assert_uint_eq(ri.groups->len, 2);
	ck_assert_str_eq(g_ptr_array_index(ri.groups, 0), "Friends");
	ck_assert_str_eq(g_ptr_array_index(ri.groups, 1), "Work");
}
END_TEST

START_TEST(test_item_parse_odd)
{
	static const struct {
		const char *xml;
		bool ok;
		RosterSubscription sub;
		bool remove;
		bool ask;
	} cases[] = {
		{"<item jid='a@b'/>", true, ROSTER_SUBSCRIPTION_NONE, false,
		 false},
		{"<item jid='a@b' subscription='both'/>", true,
		 ROSTER_SUBSCRIPTION_BOTH, false, false},
		{"<item jid='a@b' subscription='from' ask='unsubscribe'/>",
		 true, ROSTER_SUBSCRIPTION_FROM, false, false},
		{"<item jid='a@b' subscription='bogus'/>", true,
		 ROSTER_SUBSCRIPTION_NONE, false, false},
		{"<item jid='a@b' subscription='remove'/>", true,
		 ROSTER_SUBSCRIPTION_NONE, true, false},
		{"<item name='no jid'/>", false, 0, false, false},
		{"<item jid='@@bad'/>", false, 0, false, false},
		{"<item jid=''/>", false, 0, false, false},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Stanza) iq = push(NULL, cases[i].xml);
		Stanza *el = stanza_get_first_child(stanza_get_first_child(iq));
		g_auto(RosterItem) ri = {0};
		g_autoptr(GError) error = NULL;
		bool ok = roster_item_parse(el, &ri, &error);

		ck_assert_msg(ok == cases[i].ok, "case %zu: %s", i,
			      cases[i].xml);
		if (!ok) {
			ck_assert(g_error_matches(error, ROSTER_ERROR,
						  ROSTER_ERROR_BAD_REQUEST));
			ck_assert_ptr_null(ri.jid);
			continue;
		}
		ck_assert_ptr_null(error);
		ck_assert_int_eq(ri.subscription, cases[i].sub);
		ck_assert_int_eq(ri.remove, cases[i].remove);
		ck_assert_int_eq(ri.ask, cases[i].ask);
	}
}
END_TEST

/* Server-controlled strings are capped. */
START_TEST(test_item_caps)
{
	g_autoptr(GString) xml = g_string_new("<item jid='a@b' name='");
	g_autoptr(Stanza) iq = NULL;
	g_auto(RosterItem) ri = {0};

	for (int i = 0; i < 3000; i++)
		g_string_append(xml, "é");
	g_string_append(xml, "'>");
	for (int i = 0; i < 200; i++)
		g_string_append_printf(xml, "<group>g%d</group>", i);
	g_string_append(xml, "</item>");
	iq = push(NULL, xml->str);
	ck_assert(roster_item_parse(
		stanza_get_first_child(stanza_get_first_child(iq)), &ri, NULL));
	ck_assert_uint_le(strlen(ri.name), ROSTER_MAX_STRING_BYTES);
	ck_assert(g_utf8_validate(ri.name, -1, NULL));
	ck_assert_uint_eq(ri.groups->len, ROSTER_MAX_GROUPS);
}
END_TEST

/* ---- pushes ---------------------------------------------------------------
 */

START_TEST(test_push_trusted_senders)
{
	ck_assert(roster_push_is_trusted(NULL, OWN));
	ck_assert(roster_push_is_trusted(OWN, OWN));
	ck_assert(roster_push_is_trusted("ALICE@example.org", OWN));
	/* §2.1.6: nothing else. */
	ck_assert(!roster_push_is_trusted(OWN "/laptop", OWN));
	ck_assert(!roster_push_is_trusted("example.org", OWN));
	ck_assert(!roster_push_is_trusted("mallory@example.org", OWN));
	ck_assert(!roster_push_is_trusted("alice@evil.example", OWN));
	ck_assert(!roster_push_is_trusted("evil.example", OWN));
	ck_assert(!roster_push_is_trusted("", OWN));
	ck_assert(!roster_push_is_trusted("not a jid@@", OWN));
}
END_TEST

START_TEST(test_push_spoofed)
{
	static const char *const spoofers[] = {
		"mallory@evil.example", OWN "/desktop",	   "example.org",
		"evil.example",		"bob@example.org",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(spoofers); i++) {
		g_autoptr(Stanza) iq =
			push(spoofers[i], "<item jid='mallory@evil.example' "
					  "subscription='both'/>");
		g_auto(RosterItem) ri = {0};
		g_autofree char *ver = NULL;
		g_autoptr(GError) error = NULL;

		ck_assert(!roster_parse_push(iq, OWN, &ri, &ver, &error));
		ck_assert(g_error_matches(error, ROSTER_ERROR,
					  ROSTER_ERROR_UNTRUSTED));
		ck_assert_ptr_null(ri.jid);
		ck_assert_ptr_null(ver);
	}
}
END_TEST

START_TEST(test_push_valid)
{
	g_autoptr(Stanza) iq =
		push(OWN, "<item jid='bob@example.net' subscription='from'/>");
	g_auto(RosterItem) ri = {0};
	g_autofree char *ver = NULL;

	ck_assert(roster_parse_push(iq, OWN, &ri, &ver, NULL));
	ck_assert_str_eq(ri.jid, "bob@example.net");
	ck_assert_int_eq(ri.subscription, ROSTER_SUBSCRIPTION_FROM);
	ck_assert_str_eq(ver, "v7");
}
END_TEST

START_TEST(test_push_bad_request)
{
	static const char *const bodies[] = {
		"",
		"<item jid='a@b'/><item jid='c@d'/>",
		"<item name='x'/>",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
		g_autoptr(Stanza) iq = push(NULL, bodies[i]);
		g_auto(RosterItem) ri = {0};
		g_autofree char *ver = NULL;
		g_autoptr(GError) error = NULL;

		ck_assert(!roster_parse_push(iq, OWN, &ri, &ver, &error));
		ck_assert_msg(g_error_matches(error, ROSTER_ERROR,
					      ROSTER_ERROR_BAD_REQUEST),
			      "case %zu", i);
	}
}
END_TEST

/* ---- versioning (§2.6) ----------------------------------------------------
 */

START_TEST(test_request_ver)
{
	ck_assert_ptr_null(roster_request_ver(false, NULL));
	ck_assert_ptr_null(roster_request_ver(false, "v3"));
	ck_assert_str_eq(roster_request_ver(true, NULL), "");
	ck_assert_str_eq(roster_request_ver(true, "v3"), "v3");
}
END_TEST

static RosterResultKind apply(ContactTable *t, const char *xml,
			      GPtrArray *changed)
{
	g_autoptr(Stanza) iq = parse(xml);

	return roster_apply_result(t, iq, changed);
}

START_TEST(test_result_full_then_unchanged)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);

	ck_assert_int_eq(apply(t,
			       "<iq type='result' id='r'><query "
			       "xmlns='jabber:iq:roster' "
			       "ver='v1'><item jid='bob@example.net' "
			       "subscription='both' "
			       "name='Bob'/><item "
			       "jid='carol@example.net'/></query></iq>",
			       changed),
			 ROSTER_RESULT_FULL);
	ck_assert_str_eq(contacts_get_roster_ver(t), "v1");
	ck_assert_uint_eq(contacts_get_n_roster_items(t), 2);
	/* Every new item is a change: its first state. */
	ck_assert_uint_eq(changed->len, 2);
	assert_show(t, "bob@example.net", PRESENCE_SHOW_OFFLINE);
	assert_show(t, "carol@example.net", PRESENCE_SHOW_UNKNOWN);

	/* Reconnect: empty result, the table is current. */
	g_ptr_array_set_size(changed, 0);
	ck_assert_int_eq(apply(t, "<iq type='result' id='r2'/>", changed),
			 ROSTER_RESULT_UNCHANGED);
	ck_assert_uint_eq(changed->len, 0);
	ck_assert_str_eq(contacts_get_roster_ver(t), "v1");
	ck_assert_uint_eq(contacts_get_n_roster_items(t), 2);
	ck_assert_str_eq(
		contact_get_name(contacts_lookup(t, "bob@example.net")), "Bob");
}
END_TEST

START_TEST(test_result_full_replaces)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);

	apply(t,
	      "<iq type='result' id='r'><query xmlns='jabber:iq:roster' "
	      "ver='v1'><item jid='bob@example.net' subscription='both'/>"
	      "<item jid='carol@example.net'/></query></iq>",
	      NULL);
	ck_assert(contacts_update_resource(t, "bob@example.net", "phone",
					   PRESENCE_SHOW_AWAY, "out", 0));
	/* A stranger stays: it is not a roster item. */
	ck_assert(contacts_update_resource(t, "eve@example.net", "x",
					   PRESENCE_SHOW_AVAILABLE, "", 0));

	/* The server forgot our version: a full roster without bob. */
	ck_assert_int_eq(apply(t,
			       "<iq type='result' id='r2'><query "
			       "xmlns='jabber:iq:roster' "
			       "ver='v9'><item jid='carol@example.net' "
			       "subscription='to'/></query></iq>",
			       changed),
			 ROSTER_RESULT_FULL);
	ck_assert_str_eq(contacts_get_roster_ver(t), "v9");
	ck_assert_ptr_null(contacts_lookup(t, "bob@example.net"));
	ck_assert_ptr_nonnull(contacts_lookup(t, "eve@example.net"));
	/* carol: unknown → offline (now subscribed); bob: away → gone. */
	ck_assert_uint_eq(changed->len, 2);
	assert_show(t, "carol@example.net", PRESENCE_SHOW_OFFLINE);

	/* Without ver the server does not version: none cached. */
	apply(t,
	      "<iq type='result' id='r3'><query xmlns='jabber:iq:roster'>"
	      "<item jid='carol@example.net' subscription='to'/></query></iq>",
	      NULL);
	ck_assert_ptr_null(contacts_get_roster_ver(t));
}
END_TEST

START_TEST(test_result_error_forgets_version)
{
	g_autoptr(ContactTable) t = contacts_new();

	apply(t,
	      "<iq type='result' id='r'><query xmlns='jabber:iq:roster' "
	      "ver='v1'><item jid='bob@example.net'/></query></iq>",
	      NULL);
	ck_assert_int_eq(apply(t,
			       "<iq type='error' id='r2'><error type='cancel'>"
			       "<internal-server-error xmlns='urn:ietf:params:"
			       "xml:ns:xmpp-stanzas'/></error></iq>",
			       NULL),
			 ROSTER_RESULT_ERROR);
	ck_assert_ptr_null(contacts_get_roster_ver(t));
	ck_assert_uint_eq(contacts_get_n_roster_items(t), 1);
}
END_TEST

/* Pushes after an empty result are deltas on the cached items. */
START_TEST(test_push_delta_and_remove)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(Stanza) p1 = NULL;
	g_autoptr(Stanza) p2 = NULL;
	g_auto(RosterItem) a = {0};
	g_auto(RosterItem) b = {0};
	g_autofree char *v1 = NULL;
	g_autofree char *v2 = NULL;

	apply(t,
	      "<iq type='result' id='r'><query xmlns='jabber:iq:roster' "
	      "ver='v1'><item jid='bob@example.net' subscription='both'/>"
	      "</query></iq>",
	      NULL);
	ck_assert(contacts_update_resource(t, "bob@example.net", "phone",
					   PRESENCE_SHOW_CHAT, "", 0));
	p1 = push(NULL, "<item jid='dave@example.net' subscription='none' "
			"ask='subscribe'/>");
	ck_assert(roster_parse_push(p1, OWN, &a, &v1, NULL));
	ck_assert(roster_apply_item(t, &a)); /* new: unknown */
	ck_assert(contact_get_ask(contacts_lookup(t, "dave@example.net")));
	assert_show(t, "dave@example.net", PRESENCE_SHOW_UNKNOWN);

	p2 = push(NULL, "<item jid='bob@example.net' subscription='remove'/>");
	ck_assert(roster_parse_push(p2, OWN, &b, &v2, NULL));
	ck_assert(b.remove);
	ck_assert(roster_apply_item(t, &b)); /* it was chat */
	ck_assert_ptr_null(contacts_lookup(t, "bob@example.net"));
	/* Removing what is not there: nothing happens. */
	ck_assert(!roster_apply_item(t, &b));
}
END_TEST

/* Applies one pushed item; returns whether the item itself changed. */
static bool push_item(ContactTable *t, const char *item_xml)
{
	g_autoptr(Stanza) p = push(NULL, item_xml);
	g_auto(RosterItem) item = {0};
	g_autofree char *ver = NULL;
	bool item_changed = true;

	ck_assert(roster_parse_push(p, OWN, &item, &ver, NULL));
	(void)roster_apply_item_full(t, &item, &item_changed);
	return item_changed;
}

/* RosterChanged is due exactly when roster_apply_item_full says so. */
START_TEST(test_item_changes)
{
	g_autoptr(ContactTable) t = contacts_new();

	/* New, pending: a change; the same push again: none. */
	ck_assert(push_item(t, "<item jid='bob@example.net' "
			       "ask='subscribe'/>"));
	ck_assert(!push_item(t, "<item jid='bob@example.net' "
				"subscription='none' ask='subscribe'/>"));
	/* The answer: ask gone, subscription to. */
	ck_assert(push_item(t, "<item jid='bob@example.net' "
			       "subscription='to'/>"));
	ck_assert(!contact_get_ask(contacts_lookup(t, "bob@example.net")));
	/* Name: set, same, cleared (an empty name is none). */
	ck_assert(push_item(t, "<item jid='bob@example.net' "
			       "subscription='to' name='Bob'/>"));
	ck_assert(!push_item(t, "<item jid='bob@example.net' "
				"subscription='to' name='Bob'/>"));
	ck_assert(push_item(t, "<item jid='bob@example.net' "
			       "subscription='to' name=''/>"));
	ck_assert(!push_item(t, "<item jid='bob@example.net' "
				"subscription='to'/>"));
	/* Groups are a set: order is no change, a member less is. */
	ck_assert(push_item(t, "<item jid='bob@example.net' subscription='to'>"
			       "<group>A</group><group>B</group></item>"));
	ck_assert(!push_item(t, "<item jid='bob@example.net' "
				"subscription='to'><group>B</group>"
				"<group>A</group></item>"));
	ck_assert(push_item(t, "<item jid='bob@example.net' subscription='to'>"
			       "<group>B</group></item>"));
	ck_assert(push_item(t, "<item jid='bob@example.net' subscription='to'>"
			       "<group>B</group><group>C</group></item>"));
	/* Removed: a change once; a JID outside the roster: none, and a
	 * stranger that becomes an item is a change. */
	ck_assert(push_item(t, "<item jid='bob@example.net' "
			       "subscription='remove'/>"));
	ck_assert(!push_item(t, "<item jid='bob@example.net' "
				"subscription='remove'/>"));
	ck_assert(contacts_update_resource(t, "eve@example.net", "x",
					   PRESENCE_SHOW_AVAILABLE, "", 0));
	ck_assert(!push_item(t, "<item jid='eve@example.net' "
				"subscription='remove'/>"));
	ck_assert(push_item(t, "<item jid='eve@example.net'/>"));
}
END_TEST

START_TEST(test_result_item_changes)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(Stanza) r1 = parse(
		"<iq type='result' id='r'><query xmlns='jabber:iq:roster'>"
		"<item jid='bob@example.net' subscription='both'/>"
		"<item jid='carol@example.net' ask='subscribe'/>"
		"<item jid='bob@example.net' subscription='both'/>"
		"</query></iq>");
	g_autoptr(Stanza) r2 = parse(
		"<iq type='result' id='r2'><query xmlns='jabber:iq:roster'>"
		"<item jid='carol@example.net' subscription='to'/>"
		"<item jid='dave@example.net'/>"
		"</query></iq>");
	g_autoptr(Stanza) r3 = parse(
		"<iq type='result' id='r3'><query xmlns='jabber:iq:roster'>"
		"<item jid='carol@example.net' subscription='to'/>"
		"<item jid='dave@example.net'/>"
		"</query></iq>");

	/* Every new item once, even when listed twice. */
	ck_assert_int_eq(roster_apply_result_full(t, r1, NULL, items),
			 ROSTER_RESULT_FULL);
	ck_assert_uint_eq(items->len, 2);
	ck_assert_str_eq(items->pdata[0], "bob@example.net");
	ck_assert_str_eq(items->pdata[1], "carol@example.net");

	/* Next session: carol answered, dave is new, bob is gone. */
	g_ptr_array_set_size(items, 0);
	roster_apply_result_full(t, r2, NULL, items);
	ck_assert_uint_eq(items->len, 3);
	ck_assert_str_eq(items->pdata[0], "carol@example.net");
	ck_assert_str_eq(items->pdata[1], "dave@example.net");
	ck_assert_str_eq(items->pdata[2], "bob@example.net");

	/* The same roster again: nothing. */
	g_ptr_array_set_size(items, 0);
	roster_apply_result_full(t, r3, NULL, items);
	ck_assert_uint_eq(items->len, 0);
}
END_TEST

/* ---- subscription states (§3) ---------------------------------------------
 */

static bool set_item(ContactTable *t, const char *jid, RosterSubscription sub,
		     bool ask)
{
	return contacts_set_roster_item(t, jid, NULL, sub, ask, NULL, 0);
}

/* unknown → requested (ask) → subscribed → available → revoked. */
START_TEST(test_subscription_cycle)
{
	g_autoptr(ContactTable) t = contacts_new();
	const char *bob = "bob@example.net";

	ck_assert(set_item(t, bob, ROSTER_SUBSCRIPTION_NONE, false));
	assert_show(t, bob, PRESENCE_SHOW_UNKNOWN);
	/* Our request pending: the show does not change. */
	ck_assert(!set_item(t, bob, ROSTER_SUBSCRIPTION_NONE, true));
	ck_assert(contact_get_ask(contacts_lookup(t, bob)));
	/* Approved: subscription to, offline until presence comes. */
	ck_assert(set_item(t, bob, ROSTER_SUBSCRIPTION_TO, false));
	assert_show(t, bob, PRESENCE_SHOW_OFFLINE);
	ck_assert(contacts_update_resource(t, bob, "r", PRESENCE_SHOW_AVAILABLE,
					   "", 0));
	assert_show(t, bob, PRESENCE_SHOW_AVAILABLE);
	/* Revoked (unsubscribed): the session drops the resources, the
	 * push sets none; having been seen, it reads offline. */
	ck_assert(contacts_remove_resource(t, bob, NULL, NULL));
	ck_assert(!set_item(t, bob, ROSTER_SUBSCRIPTION_NONE, false));
	assert_show(t, bob, PRESENCE_SHOW_OFFLINE);
	ck_assert(!roster_subscription_has_to(
		contact_get_subscription(contacts_lookup(t, bob))));
}
END_TEST

START_TEST(test_subscription_predicates)
{
	ck_assert(!roster_subscription_has_from(ROSTER_SUBSCRIPTION_NONE));
	ck_assert(!roster_subscription_has_from(ROSTER_SUBSCRIPTION_TO));
	ck_assert(roster_subscription_has_from(ROSTER_SUBSCRIPTION_FROM));
	ck_assert(roster_subscription_has_from(ROSTER_SUBSCRIPTION_BOTH));
	ck_assert(!roster_subscription_has_to(ROSTER_SUBSCRIPTION_NONE));
	ck_assert(roster_subscription_has_to(ROSTER_SUBSCRIPTION_TO));
	ck_assert(!roster_subscription_has_to(ROSTER_SUBSCRIPTION_FROM));
	ck_assert(roster_subscription_has_to(ROSTER_SUBSCRIPTION_BOTH));
}
END_TEST

START_TEST(test_decide_authorize)
{
	g_autoptr(ContactTable) t = contacts_new();
	const Contact *c;

	/* A pending request is answered, feature or not. */
	ck_assert_int_eq(roster_decide_authorize(true, NULL, false),
			 ROSTER_AUTHORIZE_APPROVE);
	/* §3.4: pre-approval only with the stream feature. */
	ck_assert_int_eq(roster_decide_authorize(false, NULL, true),
			 ROSTER_AUTHORIZE_PRE_APPROVE);
	ck_assert_int_eq(roster_decide_authorize(false, NULL, false),
			 ROSTER_AUTHORIZE_UNSUPPORTED);
	set_item(t, "bob@example.net", ROSTER_SUBSCRIPTION_TO, false);
	c = contacts_lookup(t, "bob@example.net");
	ck_assert_int_eq(roster_decide_authorize(false, c, false),
			 ROSTER_AUTHORIZE_UNSUPPORTED);
	/* Already subscribed to us: nothing to send. */
	set_item(t, "bob@example.net", ROSTER_SUBSCRIPTION_BOTH, false);
	c = contacts_lookup(t, "bob@example.net");
	ck_assert_int_eq(roster_decide_authorize(false, c, false),
			 ROSTER_AUTHORIZE_NOOP);
	ck_assert_int_eq(roster_decide_authorize(true, c, false),
			 ROSTER_AUTHORIZE_APPROVE);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
#define CASE(t) {&#t[sizeof("test_") - 1], t}
		CASE(test_item_parse),
		CASE(test_item_parse_odd),
		CASE(test_item_caps),
		CASE(test_push_trusted_senders),
		CASE(test_push_spoofed),
		CASE(test_push_valid),
		CASE(test_push_bad_request),
		CASE(test_request_ver),
		CASE(test_result_full_then_unchanged),
		CASE(test_result_full_replaces),
		CASE(test_result_error_forgets_version),
		CASE(test_push_delta_and_remove),
		CASE(test_item_changes),
		CASE(test_result_item_changes),
		CASE(test_subscription_cycle),
		CASE(test_subscription_predicates),
		CASE(test_decide_authorize),
#undef CASE
	};

	return check_suite_run("roster", cases, G_N_ELEMENTS(cases), 10);
}
