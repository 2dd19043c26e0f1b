/* SPDX-License-Identifier: MIT */
/*
 * What runs once online (xmpp-session.c): roster, presence, IQ answers,
 * subscriptions, PEP nick, closing. Each test starts on a stream that is
 * bound at start (xmpp_session_new_bound_for_test), scripted against the
 * in-process server of session-test-server.c. The link itself (TLS, SASL,
 * bind, XEP-0198, keepalive) is tested in test-xmpp-stream.c.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/blocking.h"
#include "core/caps-cache.h"
#include "core/caps.h"
#include "core/contacts.h"
#include "core/xmpp-session.h"
#include "tests/support/check-suite.h"
#include "tests/support/session-test-server.h"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_CLIENT "jabber:client"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_SM "urn:xmpp:sm:3"
#define NS_PING "urn:xmpp:ping"
#define KEEPALIVE_IDLE ((int64_t)90 * G_USEC_PER_SEC)
#define KEEPALIVE_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
#define RESYNC_GRACE ((int64_t)10 * G_USEC_PER_SEC)

static const char roster_items[] =
	"<item jid='bob@example.net' name='Bob' subscription='both'>"
	"<group>Friends</group><group>Work</group></item>"
	"<item jid='carol@example.com' subscription='to'/>"
	"<item jid='dave@example.com' subscription='none' ask='subscribe'/>";

/* Online over a stream bound at start (xmpp-session-private.h): no TLS,
 * SASL or bind to replay; the roster get is the first thing sent. */
static TestServer *new_online_with(const char *items,
				   const char *const *features)
{
	TestServer *ts = ts_new(&(TestServerOptions){
		.bound = true, .bound_features = features});

	ts_online_bound(ts, items);
	g_ptr_array_set_size(ts->changed, 0);
	return ts;
}

static TestServer *new_online(const char *items)
{
	return new_online_with(items, NULL);
}

START_TEST(test_csi_not_offered)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ck_assert(!xmpp_session_has_csi(ts->session));
	ck_assert(!xmpp_session_send_csi(ts->session, false));
	ck_assert(!xmpp_session_send_csi(ts->session, true));
	ts_expect_nothing(ts);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "urn:xmpp:csi:0"));
}
END_TEST

START_TEST(test_close_from_callback)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) presence = NULL;

	ts->close_on_change = true;
	ts_send(ts,
		"<presence from='bob@example.net/a'/>"
		"<presence from='carol@example.net/a'/>"
		"<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
	ck_assert_uint_eq(ts->changed->len, 1);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_CLOSING);
	presence = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(presence, "type"), "unavailable");
	ts_expect_close(ts);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "'p1'"));
	ts_send(ts, "</stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
}
END_TEST

START_TEST(test_close_online)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) presence = NULL;
	PresenceSpec spec = {.show = PRESENCE_SHOW_AWAY};

	xmpp_session_close(ts->session);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_CLOSING);
	ck_assert_int_eq(ts->closed_count, 0);
	ck_assert(!xmpp_session_send_presence(ts->session, &spec));
	presence = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(presence, "type"), "unavailable");
	ts_expect_close(ts);
	/* Stanzas in flight are ignored; the server's close ends it. */
	ts_send(ts,
		"<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
	ts_send(ts, "</stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "'p1'"));
}
END_TEST

/* CONTRACT.md additions v3: SetPresence("offline", status) tells
 * contacts why (RFC 6121 §4.5.1); a plain close carries no status. */
START_TEST(test_close_online_with_status)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) presence = NULL;
	const Stanza *status;

	xmpp_session_close_with_status(ts->session, "gone fishing");
	presence = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(presence, "type"), "unavailable");
	status = stanza_get_child(presence, "status", NS_CLIENT);
	ck_assert_ptr_nonnull(status);
	ck_assert_str_eq(stanza_get_text(status), "gone fishing");
	ck_assert_ptr_null(stanza_get_child(presence, "priority", NS_CLIENT));
	ts_expect_close(ts);
}
END_TEST

START_TEST(test_close_online_eof)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	xmpp_session_close(ts->session);
	xmpp_session_eof(ts->session, NULL);
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
}
END_TEST

/* ---- IQ ----------------------------------------------------------------- */

START_TEST(test_iq_unhandled)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) reply = NULL;
	Stanza *error;

	ts_send(ts, "<iq type='get' id='v1' from='bob@example.net/phone' "
		    "to='" TS_FULL_JID "'><query xmlns='jabber:iq:version'/>"
		    "</iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply, "type"), "error");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), "v1");
	ck_assert_str_eq(stanza_get_attr(reply, "to"), "bob@example.net/phone");
	error = stanza_get_child(reply, "error", NULL);
	ck_assert_ptr_nonnull(error);
	ck_assert_str_eq(stanza_get_attr(error, "type"), "cancel");
	ck_assert_ptr_nonnull(
		stanza_get_child(error, "service-unavailable", NS_STANZAS));
	ts_expect_nothing(ts);
}
END_TEST

/* RFC 6120 §8.2.3: a get/set has exactly one child; without one (or with
 * two) it is bad-request, not service-unavailable. */
START_TEST(test_iq_without_payload)
{
	static const char *const bad[] = {
		"<iq type='get' id='e1' from='bob@example.net/phone'/>",
		"<iq type='set' id='e2' from='bob@example.net/phone'>"
		"<a xmlns='urn:x'/><b xmlns='urn:x'/></iq>",
	};
	g_autoptr(TestServer) ts = new_online(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(Stanza) reply = NULL;
		Stanza *error;

		ts_send(ts, bad[i]);
		reply = ts_expect(ts, "iq", NS_CLIENT);
		ck_assert_str_eq(stanza_get_attr(reply, "type"), "error");
		error = stanza_get_child(reply, "error", NULL);
		ck_assert_str_eq(stanza_get_attr(error, "type"), "modify");
		ck_assert_ptr_nonnull(
			stanza_get_child(error, "bad-request", NS_STANZAS));
	}
	ts_expect_nothing(ts);
}
END_TEST

START_TEST(test_iq_set_unhandled)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) reply = NULL;

	ts_send(ts, "<iq type='set' id='s&amp;1'><block "
		    "xmlns='urn:xmpp:blocking'/></iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply, "type"), "error");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), "s&1");
	ck_assert_ptr_null(stanza_get_attr(reply, "to"));
}
END_TEST

START_TEST(test_ping)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) reply = NULL;

	ts_send(ts, "<iq type='get' id='ping-1' from='example.org'>"
		    "<ping xmlns='urn:xmpp:ping'/></iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply, "type"), "result");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), "ping-1");
	ck_assert_str_eq(stanza_get_attr(reply, "to"), "example.org");
	ck_assert_uint_eq(stanza_get_n_children(reply), 0);
}
END_TEST

START_TEST(test_iq_result_error_unanswered)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts,
		"<iq type='result' id='zz'/>"
		"<iq type='error' id='zy'><error type='cancel'>"
		"<item-not-found xmlns='" NS_STANZAS "'/></error></iq>"
		"<iq type='get'><ping xmlns='urn:xmpp:ping'/></iq>"
		"<iq type='bogus' id='q'/>"
		"<message from='bob@example.net'><body>hi</body></message>");
	ts_expect_nothing(ts);
	ck_assert_int_eq(ts->closed_count, 0);
}
END_TEST

/* ---- presence ----------------------------------------------------------- */

START_TEST(test_presence_updates)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	const Contact *bob;

	bob = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_ptr_nonnull(bob);
	ck_assert_int_eq(contact_get_show(bob), PRESENCE_SHOW_OFFLINE);

	ts_send(ts, "<presence from='bob@example.net/phone'>"
		    "<show>away</show><status>lunch</status></presence>");
	ck_assert_uint_eq(ts->changed->len, 1);
	ck_assert_str_eq(g_ptr_array_index(ts->changed, 0), "bob@example.net");
	bob = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_int_eq(contact_get_show(bob), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(contact_get_status(bob), "lunch");

	/* The same presence again is no change. */
	ts_send(ts, "<presence from='bob@example.net/phone'>"
		    "<show>away</show><status>lunch</status></presence>");
	ck_assert_uint_eq(ts->changed->len, 1);

	ts_send(ts, "<presence from='Bob@Example.NET/laptop'/>");
	ck_assert_uint_eq(ts->changed->len, 2);
	bob = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_int_eq(contact_get_show(bob), PRESENCE_SHOW_AVAILABLE);
	ck_assert_uint_eq(contact_get_n_resources(bob), 2);

	ts_send(ts, "<presence from='bob@example.net/laptop' "
		    "type='unavailable'/>");
	ck_assert_uint_eq(ts->changed->len, 3);
	bob = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_int_eq(contact_get_show(bob), PRESENCE_SHOW_AWAY);

	ts_send(ts, "<presence from='bob@example.net' type='unavailable'>"
		    "<status>gone</status></presence>");
	ck_assert_uint_eq(ts->changed->len, 4);
	bob = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_int_eq(contact_get_show(bob), PRESENCE_SHOW_OFFLINE);
	ck_assert_str_eq(contact_get_status(bob), "gone");
	ts_expect_nothing(ts);
}
END_TEST

START_TEST(test_presence_ignored)
{
	g_autoptr(TestServer) ts = new_online(roster_items);

	/* Our own broadcast echoed back. */
	ts_send(ts, "<presence from='" TS_FULL_JID "'><show>dnd</show>"
		    "</presence>");
	/* An error about our presence. */
	ts_send(ts, "<presence from='bob@example.net/phone' type='error'>"
		    "<error type='cancel'><remote-server-not-found "
		    "xmlns='" NS_STANZAS "'/></error></presence>");
	/* No from. */
	ts_send(ts, "<presence><show>chat</show></presence>");
	/* Invalid: bad from, unknown type, unknown show. */
	ts_send(ts, "<presence from='bob@@example.net/x'/>");
	ts_send(ts, "<presence from='bob@example.net/x' type='bogus'/>");
	/* Subscription results the server handles. */
	ts_send(ts, "<presence from='carol@example.com' type='subscribed'/>");
	ts_send(ts, "<presence from='carol@example.com' type='probe'/>");
	ck_assert_uint_eq(ts->changed->len, 0);
	ck_assert_ptr_null(contacts_lookup(ts->contacts, TS_JID));
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_OFFLINE);
	ck_assert_int_eq(ts->closed_count, 0);
	ts_expect_nothing(ts);
}
END_TEST

START_TEST(test_presence_own_other_resource)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "<presence from='" TS_JID "/desktop'/>");
	ck_assert_uint_eq(ts->changed->len, 1);
	ck_assert_ptr_nonnull(contacts_lookup(ts->contacts, TS_JID));
}
END_TEST

START_TEST(test_subscription_request)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "<presence from='eve@example.com' type='subscribe'>"
		    "<status>Hi, it is Eve</status></presence>");
	ts_send(ts, "<presence from='frank@example.com/x' type='subscribe'/>");
	ck_assert_uint_eq(ts->subscriptions->len, 2);
	ck_assert_str_eq(g_ptr_array_index(ts->subscriptions, 0),
			 "eve@example.com|Hi, it is Eve");
	ck_assert_str_eq(g_ptr_array_index(ts->subscriptions, 1),
			 "frank@example.com|");
	ck_assert_uint_eq(ts->changed->len, 0);
}
END_TEST

START_TEST(test_send_presence_and_subscription)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) p = NULL;
	g_autoptr(Stanza) s = NULL;
	PresenceSpec spec = {
		.show = PRESENCE_SHOW_DND, .status = "busy", .priority = -1};

	ck_assert(xmpp_session_send_presence(ts->session, &spec));
	p = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_text(stanza_get_child(p, "show", NULL)),
			 "dnd");
	ck_assert(xmpp_session_send_subscription(
		ts->session, PRESENCE_TYPE_SUBSCRIBED, "eve@example.com", NULL,
		NULL));
	s = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(s, "type"), "subscribed");
	ck_assert_str_eq(stanza_get_attr(s, "to"), "eve@example.com");
}
END_TEST

/* output_ready fires when output goes from empty to non-empty. */
START_TEST(test_output_ready)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(TestServer) online = NULL;
	g_autoptr(Stanza) p = NULL;
	PresenceSpec spec = {.show = PRESENCE_SHOW_AWAY, .priority = 0};

	ck_assert_int_eq(ts->output_ready_count, 0);
	ts_start(ts);
	ck_assert_int_eq(ts->output_ready_count, 1);
	ck_assert(xmpp_session_has_output(ts->session));

	online = new_online(NULL);
	ck_assert(!xmpp_session_has_output(online->session));
	online->output_ready_count = 0;
	ck_assert(xmpp_session_send_presence(online->session, &spec));
	ck_assert_int_eq(online->output_ready_count, 1);
	p = ts_expect(online, "presence", NS_CLIENT);
	ck_assert_int_eq(online->output_ready_count, 1);
}
END_TEST

START_TEST(test_send_before_online)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE};

	ck_assert(!xmpp_session_send_presence(ts->session, &spec));
	ts_start(ts);
	ck_assert(!xmpp_session_send_presence(ts->session, &spec));
	ck_assert(!xmpp_session_send_subscription(
		ts->session, PRESENCE_TYPE_SUBSCRIBE, "eve@example.com", NULL,
		NULL));
	ts_expect_header(ts, false);
	ts_expect_nothing(ts);
}
END_TEST

/* ---- roster ------------------------------------------------------------- */

START_TEST(test_roster_result)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	const Contact *c;
	const char *const *groups;

	/* A contact left over from an earlier session and gone from the
	 * roster since. */
	contacts_set_roster_item(ts->contacts, "old@example.org", NULL,
				 ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0);
	ts_online_bound(ts, roster_items);
	ck_assert_uint_eq(contacts_size(ts->contacts), 3);
	ck_assert_ptr_null(contacts_lookup(ts->contacts, "old@example.org"));

	c = contacts_lookup(ts->contacts, "bob@example.net");
	ck_assert_ptr_nonnull(c);
	ck_assert(contact_is_in_roster(c));
	ck_assert_str_eq(contact_get_name(c), "Bob");
	ck_assert_int_eq(contact_get_subscription(c), ROSTER_SUBSCRIPTION_BOTH);
	groups = contact_get_groups(c);
	ck_assert_ptr_nonnull(groups);
	ck_assert_str_eq(groups[0], "Friends");
	ck_assert_str_eq(groups[1], "Work");
	ck_assert_ptr_null(groups[2]);

	c = contacts_lookup(ts->contacts, "carol@example.com");
	ck_assert_int_eq(contact_get_subscription(c), ROSTER_SUBSCRIPTION_TO);
	ck_assert(!contact_get_ask(c));
	c = contacts_lookup(ts->contacts, "dave@example.com");
	ck_assert_int_eq(contact_get_subscription(c), ROSTER_SUBSCRIPTION_NONE);
	ck_assert(contact_get_ask(c));
	ck_assert_int_eq(contact_get_show(c), PRESENCE_SHOW_UNKNOWN);
	ck_assert_str_eq(xmpp_session_get_roster_ver(ts->session), "v1");
}
END_TEST

START_TEST(test_roster_push)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) reply = NULL;
	g_autoptr(Stanza) reply2 = NULL;
	g_autoptr(Stanza) reply3 = NULL;

	ts_send(ts, "<iq type='set' id='push1'><query xmlns='jabber:iq:roster' "
		    "ver='v2'><item jid='erin@example.org' name='Erin' "
		    "subscription='from'/></query></iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply, "type"), "result");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), "push1");
	ck_assert_ptr_nonnull(
		contacts_lookup(ts->contacts, "erin@example.org"));
	ck_assert_str_eq(xmpp_session_get_roster_ver(ts->session), "v2");

	/* From our bare JID: fine too. */
	ts_send(ts, "<iq type='set' id='push2' from='" TS_JID "'><query "
		    "xmlns='jabber:iq:roster'><item jid='bob@example.net' "
		    "subscription='remove'/></query></iq>");
	reply2 = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply2, "type"), "result");
	ck_assert_str_eq(stanza_get_attr(reply2, "to"), TS_JID);
	ck_assert_ptr_null(contacts_lookup(ts->contacts, "bob@example.net"));

	/* Two items is a bad request (RFC 6121 §2.1.6). */
	ts_send(ts, "<iq type='set' id='push3'><query xmlns='jabber:iq:roster'>"
		    "<item jid='x@example.org'/><item jid='y@example.org'/>"
		    "</query></iq>");
	reply3 = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply3, "type"), "error");
	ck_assert_ptr_null(contacts_lookup(ts->contacts, "x@example.org"));
	ts_expect_nothing(ts);
}
END_TEST

START_TEST(test_roster_push_spoofed)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	static const char *const spoofers[] = {
		"mallory@evil.example", TS_JID "/desktop", "example.org",
		"evil.example",		"not a jid@@",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(spoofers); i++) {
		ts_send_fmt(
			ts,
			"<iq type='set' id='spoof%zu' from='%s'><query "
			"xmlns='jabber:iq:roster'><item "
			"jid='mallory@evil.example' subscription='both'/>"
			"<item jid='bob@example.net' subscription='remove'/>"
			"</query></iq>",
			i, spoofers[i]);
	}
	ts_send(ts,
		"<iq type='set' id='spoof-one' from='mallory@evil.example'>"
		"<query xmlns='jabber:iq:roster'><item "
		"jid='bob@example.net' subscription='remove'/></query></iq>");
	ck_assert_ptr_null(
		contacts_lookup(ts->contacts, "mallory@evil.example"));
	ck_assert_ptr_nonnull(contacts_lookup(ts->contacts, "bob@example.net"));
	ck_assert_uint_eq(ts->changed->len, 0);
	ts_expect_nothing(ts);
}
END_TEST

/* ---- roster versioning, subscriptions, PEP (issue #4) ------------------ */

/* RFC 6121 §2.6: "" the first time, the cached version on reconnect; an
 * empty result keeps the items, and no PresenceChanged is due. */
START_TEST(test_roster_versioning_reconnect)
{
	g_autoptr(ContactTable) table = contacts_new();
	static const char *const features[] = {"rosterver", "pre-approval",
					       NULL};
	TestServerOptions opts = {
		.contacts = table, .bound = true, .bound_features = features};
	g_autoptr(Stanza) reply = NULL;

	{
		g_autoptr(TestServer) ts = ts_new(&opts);

		ts->expect_roster_ver = "";
		ts_online_bound(ts, roster_items);
		ck_assert(xmpp_session_has_pre_approval(ts->session));
		ck_assert_str_eq(xmpp_session_get_roster_ver(ts->session),
				 "v1");
		ck_assert_uint_eq(contacts_get_n_roster_items(table), 3);
		/* A push moves the version on. */
		ts_send(ts, "<iq type='set' id='push1'><query "
			    "xmlns='jabber:iq:roster' ver='v2'><item "
			    "jid='erin@example.org' subscription='none'/>"
			    "</query></iq>");
		reply = ts_expect(ts, "iq", NS_CLIENT);
		ck_assert_str_eq(stanza_get_attr(reply, "type"), "result");
		ck_assert_str_eq(contacts_get_roster_ver(table), "v2");
		ts_send(ts, "</stream:stream>");
	}
	{
		g_autoptr(TestServer) ts = ts_new(&opts);

		ts->expect_roster_ver = "v2";
		ts->roster_unchanged = true;
		ts_online_bound(ts, NULL);
		ck_assert_uint_eq(contacts_get_n_roster_items(table), 4);
		ck_assert_str_eq(contacts_get_roster_ver(table), "v2");
		ck_assert_uint_eq(ts->changed->len, 0);
		ck_assert_str_eq(contact_get_name(contacts_lookup(
					 table, "bob@example.net")),
				 "Bob");
	}
}
END_TEST

/* Without the stream feature no ver is sent (§2.6.1), even with a cache. */
START_TEST(test_roster_no_versioning)
{
	g_autoptr(ContactTable) table = contacts_new();
	TestServerOptions opts = {.contacts = table, .bound = true};
	g_autoptr(TestServer) ts = ts_new(&opts);

	contacts_set_roster_ver(table, "old");
	ts_online_bound(ts, roster_items);
	ck_assert(!xmpp_session_has_pre_approval(ts->session));
	ck_assert_str_eq(contacts_get_roster_ver(table), "v1");
}
END_TEST

START_TEST(test_remove_roster_item)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) reply = NULL;
	Stanza *item;

	ck_assert(xmpp_session_remove_roster_item(ts->session,
						  "bob@example.net"));
	iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(iq, "type"), "set");
	item = stanza_get_child(
		stanza_get_child(iq, "query", "jabber:iq:roster"), "item",
		"jabber:iq:roster");
	ck_assert_ptr_nonnull(item);
	ck_assert_str_eq(stanza_get_attr(item, "jid"), "bob@example.net");
	ck_assert_str_eq(stanza_get_attr(item, "subscription"), "remove");
	/* The item goes with the server's push, not before. */
	ck_assert_ptr_nonnull(contacts_lookup(ts->contacts, "bob@example.net"));
	ts_send_fmt(ts, "<iq type='result' id='%s'/>",
		    stanza_get_attr(iq, "id"));
	ts_send(ts, "<iq type='set' id='push9'><query xmlns='jabber:iq:roster'>"
		    "<item jid='bob@example.net' subscription='remove'/>"
		    "</query></iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(reply, "type"), "result");
	ck_assert_ptr_null(contacts_lookup(ts->contacts, "bob@example.net"));
	ts_expect_nothing(ts);
}
END_TEST

/* Inbound unsubscribe withdraws a request; a push showing from/both
 * answers it; unsubscribed drops the contact's presence (§3.2, §3.3). */
START_TEST(test_subscription_transitions)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) reply = NULL;

	ts_send(ts, "<presence from='frank@example.org/x' type='subscribe'>"
		    "<status>hi</status></presence>");
	ck_assert_uint_eq(ts->subscriptions->len, 1);
	ck_assert_str_eq(g_ptr_array_index(ts->subscriptions, 0),
			 "frank@example.org|hi");
	ts_send(ts, "<presence from='frank@example.org' "
		    "type='unsubscribe'/>");
	ck_assert_uint_eq(ts->requests_gone->len, 1);
	ck_assert_str_eq(g_ptr_array_index(ts->requests_gone, 0),
			 "frank@example.org");

	ts_send(ts, "<iq type='set' id='push1'><query xmlns='jabber:iq:roster'>"
		    "<item jid='grace@example.org' subscription='from'/>"
		    "</query></iq>");
	reply = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_uint_eq(ts->requests_gone->len, 2);
	ck_assert_str_eq(g_ptr_array_index(ts->requests_gone, 1),
			 "grace@example.org");

	/* bob (both) is online, then revokes our subscription. */
	ts_send(ts, "<presence from='bob@example.net/phone'/>");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);
	g_ptr_array_set_size(ts->changed, 0);
	ts_send(ts, "<presence from='bob@example.net' type='unsubscribed'/>");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_OFFLINE);
	ck_assert_uint_eq(ts->changed->len, 1);
	/* subscribed changes nothing by itself: the push does. */
	ts_send(ts, "<presence from='dave@example.com' type='subscribed'/>");
	ck_assert_uint_eq(ts->changed->len, 1);
	ts_expect_nothing(ts);
}
END_TEST

/* XEP-0163/XEP-0172: disco#info on our bare JID, then the nick publish
 * where pubsub/pep shows; a later change publishes again. */
START_TEST(test_pep_nick)
{
	TestServerOptions opts = {.nick = "Alice A.", .bound = true};
	g_autoptr(TestServer) ts = ts_new(&opts);
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) iq2 = NULL;
	Stanza *nick;

	ts->pep = true;
	ts->expect_nick = "Alice A.";
	ts_online_bound(ts, roster_items);
	xmpp_session_set_nick(ts->session, "Ally");
	iq = ts_expect(ts, "iq", NS_CLIENT);
	nick = stanza_get_child(
		stanza_get_child(
			stanza_get_child(
				stanza_get_child(
					iq, "pubsub",
					"http://jabber.org/protocol/pubsub"),
				"publish", NULL),
			"item", NULL),
		"nick", "http://jabber.org/protocol/nick");
	ck_assert_ptr_nonnull(nick);
	ck_assert_str_eq(stanza_get_text(nick), "Ally");
	/* An error is only logged. */
	ts_send_fmt(
		ts,
		"<iq type='error' id='%s'><error type='auth'><forbidden "
		"xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
		stanza_get_attr(iq, "id"));
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ONLINE);
	/* The same nick again: nothing. Cleared: an empty nick. */
	xmpp_session_set_nick(ts->session, "Ally");
	ts_expect_nothing(ts);
	xmpp_session_set_nick(ts->session, "");
	iq2 = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(strstr(ts->wire->str, "<nick xmlns="));
	ts_expect_nothing(ts);
}
END_TEST

/* No pubsub/pep identity: the nick is never published. */
START_TEST(test_pep_absent)
{
	TestServerOptions opts = {.nick = "Alice A.", .bound = true};
	g_autoptr(TestServer) ts = ts_new(&opts);

	ts->pep = false;
	ts_online_bound(ts, roster_items);
	xmpp_session_set_nick(ts->session, "Ally");
	ts_expect_nothing(ts);
}
END_TEST

/* ---- performance -------------------------------------------------------- */

static void check_flood(bool log_wire)
{
	TestServerOptions options = {.no_log_wire = !log_wire, .bound = true};
	g_autoptr(TestServer) ts = ts_new(&options);
	g_autoptr(GString) flood = g_string_new(NULL);
	const char *preload = g_getenv("LD_PRELOAD");
	/* Under valgrind a tenth is plenty to see O(n) per stanza. */
	const unsigned n =
		preload && strstr(preload, "vgpreload") ? 10000 : 100000;
	int64_t t0, t1;

	ts_online_bound(ts, NULL);
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(
			flood,
			"<presence "
			"from='user%u@example.net/res'><show>%s</show>"
			"<status>status %u</status></presence>",
			i % 500, i % 2 ? "away" : "dnd", i);
	t0 = g_get_monotonic_time();
	ts_send(ts, flood->str);
	t1 = g_get_monotonic_time();
	ck_assert_int_eq(ts->closed_count, 0);
	ck_assert_uint_eq(ts->changed->len, n);
	fprintf(stderr,
		"# flood (log_wire %s): %u presences, %zu bytes, "
		"%.3f s\n",
		log_wire ? "on" : "off", n, flood->len, (t1 - t0) / 1e6);
	/* Generous for valgrind/ASan; typically well under a second. */
	ck_assert_msg(t1 - t0 < 20 * G_USEC_PER_SEC, "flood took %.3f s",
		      (t1 - t0) / 1e6);
}

START_TEST(test_presence_flood)
{
	check_flood(false);
}
END_TEST

START_TEST(test_presence_flood_logged)
{
	check_flood(true);
}
END_TEST

/* ---- capabilities (XEP-0115, XEP-0030) and last activity (XEP-0012) ---- */

#define NS_CAPS "http://jabber.org/protocol/caps"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_DISCO_ITEMS "http://jabber.org/protocol/disco#items"

/* XEP-0115 §5.2, the simple example: S and its SHA-1 ver. */
#define EXODUS_NODE "http://code.google.com/p/exodus"
#define EXODUS_VER "QgayPKawpkPSDYmwT/WM94uAlu0="
#define EXODUS_C                                                               \
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "             \
	"node='" EXODUS_NODE "' ver='" EXODUS_VER "'/>"
#define EXODUS_QUERY                                                           \
	"<query xmlns='http://jabber.org/protocol/disco#info' "                \
	"node='" EXODUS_NODE "#" EXODUS_VER "'>"                               \
	"<identity category='client' name='Exodus 0.9.1' type='pc'/>"          \
	"<feature var='http://jabber.org/protocol/caps'/>"                     \
	"<feature var='http://jabber.org/protocol/disco#info'/>"               \
	"<feature var='http://jabber.org/protocol/disco#items'/>"              \
	"<feature var='http://jabber.org/protocol/muc'/></query>"

/* The result the client sent to request id, from to. */
static Stanza *expect_result(TestServer *ts, const char *id, const char *to)
{
	Stanza *reply = ts_expect(ts, "iq", NS_CLIENT);

	ck_assert_str_eq(stanza_get_attr(reply, "type"), "result");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), id);
	ck_assert_str_eq(stanza_get_attr(reply, "to"), to);
	return reply;
}

static void expect_error(TestServer *ts, const char *id, const char *cond)
{
	g_autoptr(Stanza) reply = ts_expect(ts, "iq", NS_CLIENT);
	Stanza *error;

	ck_assert_str_eq(stanza_get_attr(reply, "type"), "error");
	ck_assert_str_eq(stanza_get_attr(reply, "id"), id);
	error = stanza_get_child(reply, "error", NULL);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(stanza_get_child(error, cond, NS_STANZAS) != NULL,
		      "no <%s/> in the error", cond);
}

/* Every available presence carries our <c/>; unavailable does not. */
START_TEST(test_caps_in_presence)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(Stanza) presence = NULL;
	g_autoptr(Stanza) directed = NULL;
	g_autoptr(Stanza) goodbye = NULL;
	PresenceSpec spec = {.show = PRESENCE_SHOW_DND,
			     .to = "bob@example.net"};
	Stanza *c;

	ts->send_initial_presence = false;
	ts_online_bound(ts, roster_items);
	ck_assert(xmpp_session_send_presence(
		ts->session, &(PresenceSpec){.show = PRESENCE_SHOW_AWAY}));
	presence = ts_expect(ts, "presence", NS_CLIENT);
	c = stanza_get_child(presence, "c", NS_CAPS);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(stanza_get_attr(c, "hash"), "sha-1");
	ck_assert_str_eq(stanza_get_attr(c, "node"), PACKAGE_URL);
	ck_assert_str_eq(stanza_get_attr(c, "ver"),
			 xmpp_session_get_caps_ver(ts->session));
	ck_assert(xmpp_session_send_presence(ts->session, &spec));
	directed = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(directed, "to"), "bob@example.net");
	ck_assert_ptr_nonnull(stanza_get_child(directed, "c", NS_CAPS));
	xmpp_session_close(ts->session);
	goodbye = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(goodbye, "type"), "unavailable");
	ck_assert_ptr_null(stanza_get_child(goodbye, "c", NS_CAPS));
}
END_TEST

/* What a peer does (XEP-0115 §5.4): the answer to node#ver hashes to ver. */
START_TEST(test_caps_disco_info)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) plain = NULL;
	g_autoptr(Stanza) with_node = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *node = g_strdup_printf(
		"%s#%s", PACKAGE_URL, xmpp_session_get_caps_ver(ts->session));
	const char *ver = xmpp_session_get_caps_ver(ts->session);
	const Stanza *query;
	const Stanza *identity;

	ts_send(ts, "<iq type='get' id='d1' from='stranger@example.com/x'>"
		    "<query xmlns='http://jabber.org/protocol/disco#info'/>"
		    "</iq>");
	plain = expect_result(ts, "d1", "stranger@example.com/x");
	query = stanza_get_child(plain, "query", NS_DISCO_INFO);
	ck_assert_ptr_nonnull(query);
	ck_assert_ptr_null(stanza_get_attr(query, "node"));
	identity = stanza_get_child(query, "identity", NS_DISCO_INFO);
	ck_assert_str_eq(stanza_get_attr(identity, "category"), "client");
	ck_assert_str_eq(stanza_get_attr(identity, "type"), "pc");
	ck_assert_str_eq(stanza_get_attr(identity, "name"), "presenced");
	ck_assert_msg(caps_verify(query, "sha-1", ver, NULL, &error), "%s",
		      error ? error->message : "");

	ts_send_fmt(ts,
		    "<iq type='get' id='d2' from='bob@example.net/a'><query "
		    "xmlns='http://jabber.org/protocol/disco#info' "
		    "node='%s'/></iq>",
		    node);
	with_node = expect_result(ts, "d2", "bob@example.net/a");
	query = stanza_get_child(with_node, "query", NS_DISCO_INFO);
	ck_assert_str_eq(stanza_get_attr(query, "node"), node);
	ck_assert(caps_verify(query, "sha-1", ver, NULL, NULL));
	/* Exactly the features the daemon implements. */
	ck_assert_ptr_nonnull(strstr(ts->client_plain->str, "jabber:iq:last"));
	ck_assert_ptr_null(strstr(ts->client_plain->str, "urn:xmpp:csi"));
	ck_assert_ptr_null(strstr(ts->client_plain->str, "urn:xmpp:sm"));

	ts_send(ts, "<iq type='get' id='d3' from='bob@example.net/a'><query "
		    "xmlns='http://jabber.org/protocol/disco#info' "
		    "node='http://example.com/other#x'/></iq>");
	expect_error(ts, "d3", "item-not-found");
	ts_expect_nothing(ts);
}
END_TEST

START_TEST(test_caps_disco_items)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) reply = NULL;
	const Stanza *query;

	ts_send(ts, "<iq type='get' id='i1' from='bob@example.net/a'>"
		    "<query xmlns='http://jabber.org/protocol/disco#items'/>"
		    "</iq>");
	reply = expect_result(ts, "i1", "bob@example.net/a");
	query = stanza_get_child(reply, "query", NS_DISCO_ITEMS);
	ck_assert_ptr_nonnull(query);
	ck_assert_uint_eq(stanza_get_n_children(query), 0);
}
END_TEST

/* The contract: only subscription from/both get our idle time. */
START_TEST(test_last_activity)
{
	g_autoptr(TestServer) ts =
		new_online("<item jid='bob@example.net' subscription='both'/>"
			   "<item jid='erin@example.net' subscription='from'/>"
			   "<item jid='carol@example.com' subscription='to'/>");
	g_autoptr(Stanza) bob = NULL;
	g_autoptr(Stanza) erin = NULL;

	ts->idle_seconds = 903;
	ts_send(ts, "<iq type='get' id='l1' from='bob@example.net/a'>"
		    "<query xmlns='jabber:iq:last'/></iq>");
	bob = expect_result(ts, "l1", "bob@example.net/a");
	ck_assert_str_eq(stanza_get_attr(stanza_get_child(bob, "query",
							  "jabber:iq:last"),
					 "seconds"),
			 "903");
	ts_send(ts, "<iq type='get' id='l2' from='Erin@Example.net/b'>"
		    "<query xmlns='jabber:iq:last'/></iq>");
	erin = expect_result(ts, "l2", "Erin@Example.net/b");
	ts_send(ts, "<iq type='get' id='l3' from='carol@example.com/c'>"
		    "<query xmlns='jabber:iq:last'/></iq>");
	expect_error(ts, "l3", "service-unavailable");
	ts_send(ts, "<iq type='get' id='l4' from='mallory@example.org/m'>"
		    "<query xmlns='jabber:iq:last'/></iq>");
	expect_error(ts, "l4", "service-unavailable");
	ts_expect_nothing(ts);
}
END_TEST

/* Expects our disco#info get for EXODUS_VER to to; transfer full. */
static Stanza *expect_caps_query(TestServer *ts, const char *to)
{
	Stanza *iq = ts_expect(ts, "iq", NS_CLIENT);
	const Stanza *query = stanza_get_child(iq, "query", NS_DISCO_INFO);

	ck_assert_str_eq(stanza_get_attr(iq, "type"), "get");
	ck_assert_str_eq(stanza_get_attr(iq, "to"), to);
	ck_assert_ptr_nonnull(query);
	ck_assert_str_eq(stanza_get_attr(query, "node"),
			 EXODUS_NODE "#" EXODUS_VER);
	return iq;
}

/* Two resources on one client: one query, both described. */
START_TEST(test_caps_one_query_per_ver)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) q = NULL;
	CapsCache *cache = xmpp_session_get_caps_cache(ts->session);
	const CapsInfo *info;
	CapsIdentity id;

	ts_send(ts,
		"<presence from='bob@example.net/a'>" EXODUS_C "</presence>");
	q = expect_caps_query(ts, "bob@example.net/a");
	ts_send(ts,
		"<presence from='carol@example.com/b'>" EXODUS_C "</presence>");
	ts_expect_nothing(ts);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "bob@example.net/a"));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' "
		    "from='bob@example.net/a'>" EXODUS_QUERY "</iq>",
		    stanza_get_attr(q, "id"));
	ck_assert_int_eq(ts->caps_learned_count, 1);
	info = caps_cache_lookup_jid(cache, "carol@example.com/b");
	ck_assert_ptr_nonnull(info);
	ck_assert(caps_info_get_main_identity(info, &id));
	ck_assert_str_eq(id.type, "pc");
	ck_assert_str_eq(id.name, "Exodus 0.9.1");
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "bob@example.net/a"));
	/* Known now: a third resource costs nothing. */
	ts_send(ts,
		"<presence from='dave@example.com/c'>" EXODUS_C "</presence>");
	ts_expect_nothing(ts);
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "dave@example.com/c"));
	/* Gone: no longer described. */
	ts_send(ts, "<presence type='unavailable' from='dave@example.com/c'/>");
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "dave@example.com/c"));
}
END_TEST

/*
 * The vers live with the resources in the contact table: a presence from a
 * bare JID is a resource too, a presence without <c/> forgets, and an
 * unavailable from the bare JID takes every resource's ver with it.
 */
START_TEST(test_caps_kept_in_the_table)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) q = NULL;
	CapsCache *cache = xmpp_session_get_caps_cache(ts->session);

	ts_send(ts,
		"<presence from='bob@example.net/a'>" EXODUS_C "</presence>");
	q = expect_caps_query(ts, "bob@example.net/a");
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' "
		    "from='bob@example.net/a'>" EXODUS_QUERY "</iq>",
		    stanza_get_attr(q, "id"));
	ts_send(ts, "<presence from='bob@example.net/b'>" EXODUS_C
		    "</presence><presence from='carol@example.com'>" EXODUS_C
		    "</presence>");
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "carol@example.com"));
	ck_assert_ptr_nonnull(contacts_get_resource_caps(
		ts->contacts, "bob@example.net", "b"));
	ck_assert_ptr_nonnull(contacts_get_resource_caps(
		ts->contacts, "carol@example.com", ""));

	/* The same resource without <c/>: what it announced no longer holds. */
	ts_send(ts, "<presence from='bob@example.net/b'/>");
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "bob@example.net/b"));
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "bob@example.net/a"));

	/* Unavailable from the bare JID: every resource and its ver go. */
	ts_send(ts, "<presence type='unavailable' from='bob@example.net'/>");
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "bob@example.net/a"));
	ts_send(ts, "<presence type='unavailable' from='carol@example.com'/>");
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "carol@example.com"));
	/* The entry itself stays cached: a resource coming back costs no
	 * query. */
	ts_send(ts,
		"<presence from='bob@example.net/c'>" EXODUS_C "</presence>");
	ts_expect_nothing(ts);
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "bob@example.net/c"));
}
END_TEST

/* An answer that does not hash to the ver is never cached; the next
 * resource that announced it is asked. */
START_TEST(test_caps_mismatch)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) q1 = NULL;
	g_autoptr(Stanza) q2 = NULL;
	CapsCache *cache = xmpp_session_get_caps_cache(ts->session);

	ts_send(ts, "<presence from='bob@example.net/a'>" EXODUS_C
		    "</presence><presence from='carol@example.com/b'>" EXODUS_C
		    "</presence>");
	q1 = expect_caps_query(ts, "bob@example.net/a");
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' from='bob@example.net/a'>"
		    "<query xmlns='http://jabber.org/protocol/disco#info'>"
		    "<identity category='client' type='bot' name='liar'/>"
		    "<feature var='http://jabber.org/protocol/disco#info'/>"
		    "</query></iq>",
		    stanza_get_attr(q1, "id"));
	ck_assert_int_eq(ts->caps_learned_count, 0);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "bob@example.net/a"));
	q2 = expect_caps_query(ts, "carol@example.com/b");
	/* An answer from someone else is not routed to the query. */
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' "
		    "from='bob@example.net/a'>" EXODUS_QUERY "</iq>",
		    stanza_get_attr(q2, "id"));
	ck_assert_int_eq(ts->caps_learned_count, 0);
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' "
		    "from='carol@example.com/b'>" EXODUS_QUERY "</iq>",
		    stanza_get_attr(q2, "id"));
	ck_assert_int_eq(ts->caps_learned_count, 1);
	ck_assert_ptr_nonnull(
		caps_cache_lookup_jid(cache, "bob@example.net/a"));
}
END_TEST

/* Legacy caps (no hash) are ignored; an unanswered query times out and
 * the next resource is asked. */
START_TEST(test_caps_legacy_and_timeout)
{
	g_autoptr(TestServer) ts = new_online(roster_items);
	g_autoptr(Stanza) q1 = NULL;
	g_autoptr(Stanza) q2 = NULL;

	ts_send(ts, "<presence from='bob@example.net/old'><c "
		    "xmlns='http://jabber.org/protocol/caps' node='n' "
		    "ver='1.0'/></presence>");
	ts_expect_nothing(ts);
	ts_send(ts, "<presence from='bob@example.net/a'>" EXODUS_C
		    "</presence><presence from='carol@example.com/b'>" EXODUS_C
		    "</presence>");
	q1 = expect_caps_query(ts, "bob@example.net/a");
	ck_assert(xmpp_session_get_deadline(ts->session) <=
		  ts->now + CAPS_CACHE_QUERY_TIMEOUT);
	ts->now += CAPS_CACHE_QUERY_TIMEOUT;
	xmpp_session_tick(ts->session, ts->now);
	q2 = expect_caps_query(ts, "carol@example.com/b");
	/* The late answer to the first is not read. */
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' "
		    "from='bob@example.net/a'>" EXODUS_QUERY "</iq>",
		    stanza_get_attr(q1, "id"));
	ck_assert_int_eq(ts->caps_learned_count, 0);
	ck_assert_int_eq(ts->closed_count, 0);
}
END_TEST

/* ---- blocking (XEP-0191) ------------------------------------------------ */

static bool is_blocked(TestServer *ts, const char *jid)
{
	return blocking_list_contains(xmpp_session_get_block_list(ts->session),
				      jid);
}

/* Offered on the domain: read at login, presence from it dropped, our
 * ver now lists blocking and the presence went again. */
START_TEST(test_blocking_login)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autofree char *old_ver = NULL;

	ts->blocking_domain = true;
	ts->blocklist =
		"<item jid='bob@example.net'/><item jid='spam.example'/>";
	old_ver = g_strdup(xmpp_session_get_caps_ver(ts->session));
	ts_online_bound(ts, roster_items);
	ck_assert(xmpp_session_has_blocking(ts->session));
	ck_assert_int_eq(ts->own_caps_changed_count, 1);
	ck_assert_str_ne(old_ver, xmpp_session_get_caps_ver(ts->session));
	ck_assert_int_eq(ts->blocked_changed_count, 1);
	ck_assert(is_blocked(ts, "bob@example.net"));
	ck_assert(is_blocked(ts, "spam.example"));
	g_ptr_array_set_size(ts->changed, 0);
	ts_send(ts, "<presence from='bob@example.net/a'/>"
		    "<presence from='x@spam.example/b'/>");
	ck_assert_uint_eq(ts->changed->len, 0);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_OFFLINE);
}
END_TEST

/* The last session found blocking (blocking_hint): the first presence
 * already carries those caps, and discovery confirming it changes
 * nothing; a server that dropped blocking gets the caps without it. */
START_TEST(test_blocking_hint)
{
	g_autoptr(TestServer) ts = ts_new(
		&(TestServerOptions){.bound = true, .blocking_hint = true});
	g_autoptr(TestServer) plain =
		ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(TestServer) gone = ts_new(
		&(TestServerOptions){.bound = true, .blocking_hint = true});
	g_autofree char *hinted = NULL;
	g_autofree char *without = NULL;

	hinted = g_strdup(xmpp_session_get_caps_ver(ts->session));
	without = g_strdup(xmpp_session_get_caps_ver(plain->session));
	ck_assert_str_ne(hinted, without);
	ts->blocking_domain = true;
	ts_online_bound(ts, roster_items);
	ck_assert(xmpp_session_has_blocking(ts->session));
	ck_assert_int_eq(ts->own_caps_changed_count, 0);
	ck_assert_str_eq(xmpp_session_get_caps_ver(ts->session), hinted);

	ts_online_bound(gone, roster_items);
	ck_assert(!xmpp_session_has_blocking(gone->session));
	ck_assert_int_eq(gone->own_caps_changed_count, 1);
	ck_assert_str_eq(xmpp_session_get_caps_ver(gone->session), without);
	{
		bool blocking = true;

		ck_assert(xmpp_session_get_blocking_found(gone->session,
							  &blocking));
		ck_assert(!blocking);
		ck_assert(!xmpp_session_get_blocking_found(plain->session,
							   &blocking));
	}
}
END_TEST

START_TEST(test_blocking_not_offered)
{
	g_autoptr(TestServer) ts = new_online(roster_items);

	ck_assert(!xmpp_session_has_blocking(ts->session));
	ck_assert(!xmpp_session_block(ts->session, "bob@example.net", true));
	ts_expect_nothing(ts);
	ck_assert_int_eq(ts->own_caps_changed_count, 0);
}
END_TEST

/* Pushes from our account (this client or another): applied, and the
 * newly blocked go offline; from anyone else: ignored, unanswered. */
START_TEST(test_blocking_push)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(Stanza) r1 = NULL;
	g_autoptr(Stanza) r2 = NULL;

	ts->blocking_account = true;
	ts_online_bound(ts, roster_items);
	ts_send(ts, "<presence from='carol@example.com/b'/>");
	g_ptr_array_set_size(ts->changed, 0);
	ts->blocked_changed_count = 0;

	ts_send(ts, "<iq type='set' id='b1' from='mallory@example.org'>"
		    "<block xmlns='urn:xmpp:blocking'><item "
		    "jid='carol@example.com'/></block></iq>");
	ts_expect_nothing(ts);
	ck_assert(!is_blocked(ts, "carol@example.com"));

	ts_send(ts, "<iq type='set' id='b2' from='" TS_JID "'>"
		    "<block xmlns='urn:xmpp:blocking'><item "
		    "jid='Carol@Example.com'/></block></iq>");
	r1 = expect_result(ts, "b2", TS_JID);
	ck_assert(is_blocked(ts, "carol@example.com"));
	ck_assert_int_eq(ts->blocked_changed_count, 1);
	ck_assert_uint_eq(ts->changed->len, 1);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "carol@example.com")),
			 PRESENCE_SHOW_OFFLINE);

	ts_send(ts, "<iq type='set' id='b3'><unblock "
		    "xmlns='urn:xmpp:blocking'><item jid='not a jid@@'/>"
		    "</unblock></iq>");
	expect_error(ts, "b3", "bad-request");
	ck_assert(is_blocked(ts, "carol@example.com"));

	ts_send(ts, "<iq type='set' id='b4'><unblock "
		    "xmlns='urn:xmpp:blocking'/></iq>");
	r2 = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(r2, "type"), "result");
	ck_assert(!is_blocked(ts, "carol@example.com"));
	ck_assert_int_eq(ts->blocked_changed_count, 2);
	/* Unblocked: presence counts again. */
	ts_send(ts, "<presence from='carol@example.com/b'/>");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "carol@example.com")),
			 PRESENCE_SHOW_AVAILABLE);
}
END_TEST

START_TEST(test_blocking_request)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) un = NULL;
	const Stanza *item;

	ts->blocking_account = true;
	ts_online_bound(ts, roster_items);
	ck_assert(xmpp_session_block(ts->session, "bob@example.net", true));
	iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(iq, "type"), "set");
	ck_assert_ptr_null(stanza_get_attr(iq, "to"));
	item = stanza_get_child(
		stanza_get_child(iq, "block", "urn:xmpp:blocking"), "item",
		NULL);
	ck_assert_str_eq(stanza_get_attr(item, "jid"), "bob@example.net");
	/* Not before the server says yes... */
	ck_assert(!is_blocked(ts, "bob@example.net"));
	/* ... and then even without the push (jabberd2 2.7 sends none). */
	ts_send_fmt(ts, "<iq type='result' id='%s'/>",
		    stanza_get_attr(iq, "id"));
	ck_assert(is_blocked(ts, "bob@example.net"));
	/* A refused request changes nothing. */
	ck_assert(xmpp_session_block(ts->session, "bob@example.net", false));
	un = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(
		stanza_get_child(un, "unblock", "urn:xmpp:blocking"));
	ts_send_fmt(ts,
		    "<iq type='error' id='%s'><error type='wait'>"
		    "<resource-constraint xmlns='" NS_STANZAS
		    "'/></error></iq>",
		    stanza_get_attr(un, "id"));
	ck_assert(is_blocked(ts, "bob@example.net"));
}
END_TEST

/* A contact may still ask for the ver we announced before blocking
 * became known: it is answered, and hashes to that ver. */
START_TEST(test_caps_previous_ver_answered)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autofree char *old_ver =
		g_strdup(xmpp_session_get_caps_ver(ts->session));
	g_autoptr(Stanza) reply = NULL;
	const Stanza *query;

	ts->blocking_account = true;
	ts_online_bound(ts, NULL);
	ts_send_fmt(ts,
		    "<iq type='get' id='o1' from='bob@example.net/a'><query "
		    "xmlns='http://jabber.org/protocol/disco#info' "
		    "node='%s#%s'/></iq>",
		    PACKAGE_URL, old_ver);
	reply = expect_result(ts, "o1", "bob@example.net/a");
	query = stanza_get_child(reply, "query", NS_DISCO_INFO);
	ck_assert(caps_verify(query, "sha-1", old_ver, NULL, NULL));
	ck_assert(!caps_disco_has_feature(query, "urn:xmpp:blocking"));
}
END_TEST

int main(void)
{
	/* One TCase per test, named after it without "test_". */
	const CheckCase cases[] = {
#define CASE(fn) {&(#fn)[sizeof("test_") - 1], fn}
		CASE(test_csi_not_offered),
		CASE(test_close_from_callback),
		CASE(test_close_online),
		CASE(test_close_online_with_status),
		CASE(test_close_online_eof),
		CASE(test_iq_unhandled),
		CASE(test_iq_without_payload),
		CASE(test_iq_set_unhandled),
		CASE(test_ping),
		CASE(test_iq_result_error_unanswered),
		CASE(test_presence_updates),
		CASE(test_presence_ignored),
		CASE(test_presence_own_other_resource),
		CASE(test_subscription_request),
		CASE(test_send_presence_and_subscription),
		CASE(test_output_ready),
		CASE(test_send_before_online),
		CASE(test_roster_result),
		CASE(test_roster_push),
		CASE(test_roster_push_spoofed),
		CASE(test_roster_versioning_reconnect),
		CASE(test_roster_no_versioning),
		CASE(test_remove_roster_item),
		CASE(test_subscription_transitions),
		CASE(test_pep_nick),
		CASE(test_pep_absent),
		CASE(test_presence_flood),
		CASE(test_presence_flood_logged),
		CASE(test_caps_in_presence),
		CASE(test_caps_disco_info),
		CASE(test_caps_disco_items),
		CASE(test_last_activity),
		CASE(test_caps_one_query_per_ver),
		CASE(test_caps_kept_in_the_table),
		CASE(test_caps_mismatch),
		CASE(test_caps_legacy_and_timeout),
		CASE(test_caps_previous_ver_answered),
		CASE(test_blocking_login),
		CASE(test_blocking_not_offered),
		CASE(test_blocking_hint),
		CASE(test_blocking_push),
		CASE(test_blocking_request),
#undef CASE
	};

	return check_suite_run("xmpp-session", cases, G_N_ELEMENTS(cases), 120);
}
