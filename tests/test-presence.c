/* SPDX-License-Identifier: MIT */
/*
 * Presence values and stanzas: the show table, parsing of incoming presence
 * (RFC 6121 §4.7, XEP-0172), building ours (XEP-0172 §4.5, XEP-0319).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/presence.h"
#include "core/xml-reader.h"
#include "tests/support/check-suite.h"

#define NS_CLIENT "jabber:client"
#define NS_NICK "http://jabber.org/protocol/nick"
#define NS_IDLE "urn:xmpp:idle:1"

static Stanza *presence_new(const char *from, const char *type)
{
	Stanza *s = stanza_new("presence", NS_CLIENT);

	if (from != NULL)
		stanza_set_attr(s, "from", from);
	if (type != NULL)
		stanza_set_attr(s, "type", type);
	return s;
}

/* ---- show -----------------------------------------------------------------
 */

START_TEST(test_show_strings)
{
	static const char *const names[] = {
		"offline", "unknown", "xa", "away", "dnd", "available", "chat"};
	PresenceShow show;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		ck_assert_str_eq(presence_show_to_string((PresenceShow)i),
				 names[i]);
		ck_assert(presence_show_from_string(names[i], true, &show));
		ck_assert_int_eq(show, (int)i);
	}
	show = PRESENCE_SHOW_DND;
	ck_assert(!presence_show_from_string("unknown", false, &show));
	ck_assert(!presence_show_from_string("Away", true, &show));
	ck_assert(!presence_show_from_string("", true, &show));
	ck_assert(!presence_show_from_string(NULL, true, &show));
	ck_assert_int_eq(show, PRESENCE_SHOW_DND);
	ck_assert(presence_show_from_string("offline", false, &show));
	ck_assert_int_eq(show, PRESENCE_SHOW_OFFLINE);
}
END_TEST

START_TEST(test_show_rank)
{
	/* chat > available > dnd > away > xa > unknown > offline */
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_CHAT),
			 presence_show_rank(PRESENCE_SHOW_AVAILABLE));
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_AVAILABLE),
			 presence_show_rank(PRESENCE_SHOW_DND));
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_DND),
			 presence_show_rank(PRESENCE_SHOW_AWAY));
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_AWAY),
			 presence_show_rank(PRESENCE_SHOW_XA));
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_XA),
			 presence_show_rank(PRESENCE_SHOW_UNKNOWN));
	ck_assert_int_gt(presence_show_rank(PRESENCE_SHOW_UNKNOWN),
			 presence_show_rank(PRESENCE_SHOW_OFFLINE));
}
END_TEST

/* ---- parsing --------------------------------------------------------------
 */

START_TEST(test_parse_full)
{
	g_autoptr(Stanza) s = presence_new("Alice@Example.ORG/Laptop", NULL);
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;

	(void)stanza_add_child_text(s, "show", NS_CLIENT, "dnd");
	(void)stanza_add_child_text(s, "status", NS_CLIENT, "in a meeting");
	(void)stanza_add_child_text(s, "priority", NS_CLIENT, "5");
	(void)stanza_add_child_text(s, "nick", NS_NICK, "Ali");
	ck_assert_msg(presence_parse(s, &info, &error), "%s",
		      error ? error->message : "");
	ck_assert_int_eq(info.type, PRESENCE_TYPE_AVAILABLE);
	ck_assert_str_eq(info.from_bare, "alice@example.org");
	ck_assert_str_eq(info.from_full, "alice@example.org/Laptop");
	ck_assert_str_eq(info.from_resource, "Laptop");
	ck_assert_int_eq(info.show, PRESENCE_SHOW_DND);
	ck_assert_str_eq(info.status, "in a meeting");
	ck_assert_int_eq(info.priority, 5);
	ck_assert_str_eq(info.nick, "Ali");
}
END_TEST

START_TEST(test_parse_minimal)
{
	g_autoptr(Stanza) s = presence_new(NULL, NULL);
	g_autoptr(Stanza) bare = presence_new("bob@example.org", NULL);
	g_auto(PresenceInfo) info = {0};
	g_auto(PresenceInfo) binfo = {0};

	ck_assert(presence_parse(s, &info, NULL));
	ck_assert_int_eq(info.type, PRESENCE_TYPE_AVAILABLE);
	ck_assert(info.from_full == NULL && info.from_bare == NULL &&
		  info.from_resource == NULL);
	ck_assert_int_eq(info.show, PRESENCE_SHOW_AVAILABLE);
	ck_assert(info.status == NULL);
	ck_assert_int_eq(info.priority, 0);
	ck_assert(info.nick == NULL);

	ck_assert(presence_parse(bare, &binfo, NULL));
	ck_assert_str_eq(binfo.from_bare, "bob@example.org");
	ck_assert_str_eq(binfo.from_full, "bob@example.org");
	ck_assert(binfo.from_resource == NULL);
}
END_TEST

START_TEST(test_parse_types)
{
	static const struct {
		const char *type;
		PresenceType want;
	} types[] = {
		{"unavailable", PRESENCE_TYPE_UNAVAILABLE},
		{"subscribe", PRESENCE_TYPE_SUBSCRIBE},
		{"subscribed", PRESENCE_TYPE_SUBSCRIBED},
		{"unsubscribe", PRESENCE_TYPE_UNSUBSCRIBE},
		{"unsubscribed", PRESENCE_TYPE_UNSUBSCRIBED},
		{"probe", PRESENCE_TYPE_PROBE},
		{"error", PRESENCE_TYPE_ERROR},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		g_autoptr(Stanza) s = presence_new("a@b.org/r", types[i].type);
		g_auto(PresenceInfo) info = {0};

		ck_assert(presence_parse(s, &info, NULL));
		ck_assert_int_eq(info.type, types[i].want);
	}
}
END_TEST

START_TEST(test_parse_unavailable)
{
	g_autoptr(Stanza) s = presence_new("a@b.org/r", "unavailable");
	g_auto(PresenceInfo) info = {0};

	/* A <show/> in unavailable presence does not make it online. */
	(void)stanza_add_child_text(s, "show", NS_CLIENT, "chat");
	(void)stanza_add_child_text(s, "status", NS_CLIENT, "gone");
	ck_assert(presence_parse(s, &info, NULL));
	ck_assert_int_eq(info.type, PRESENCE_TYPE_UNAVAILABLE);
	ck_assert_int_eq(info.show, PRESENCE_SHOW_OFFLINE);
	ck_assert_str_eq(info.status, "gone");
}
END_TEST

START_TEST(test_parse_errors)
{
	static const char *const bad_types[] = {"available", "UNAVAILABLE", "",
						"headline"};
	PresenceInfo info = {.priority = 77};

	for (size_t i = 0; i < G_N_ELEMENTS(bad_types); i++) {
		g_autoptr(Stanza) s = presence_new("a@b.org", bad_types[i]);
		g_autoptr(GError) error = NULL;

		ck_assert(!presence_parse(s, &info, &error));
		ck_assert(g_error_matches(error, PRESENCE_ERROR,
					  PRESENCE_ERROR_INVALID));
		ck_assert(strstr(error->message, "type") != NULL);
		ck_assert_int_eq(info.priority, 77); /* untouched */
	}
	{
		g_autoptr(Stanza) s = presence_new("a@b@c/d", NULL);
		g_autoptr(GError) error = NULL;

		ck_assert(!presence_parse(s, &info, &error));
		ck_assert(strstr(error->message, "from") != NULL);
	}
	{
		g_autoptr(Stanza) s = presence_new("@example.org", NULL);
		g_autoptr(GError) error = NULL;

		ck_assert(!presence_parse(s, &info, &error));
	}
	ck_assert_int_eq(info.priority, 77);
	ck_assert(info.from_bare == NULL);
}
END_TEST

START_TEST(test_parse_bad_utf8)
{
	static const char *const where[] = {"status", "show", "priority",
					    "nick",   "from", "status2"};
	static const char bad[] = "ok \xc3\x28 bad";
	PresenceInfo info = {.priority = 77};

	for (size_t i = 0; i < G_N_ELEMENTS(where); i++) {
		g_autoptr(Stanza) s = NULL;
		g_autoptr(GError) error = NULL;

		if (strcmp(where[i], "from") == 0) {
			s = presence_new("a\xff@b.org/r", NULL);
		} else if (strcmp(where[i], "nick") == 0) {
			s = presence_new("a@b.org/r", NULL);
			(void)stanza_add_child_text(s, "nick", NS_NICK, bad);
		} else if (strcmp(where[i], "status2") == 0) {
			/* A bad second status spoils the stanza even though
			 * the first would be chosen. */
			s = presence_new("a@b.org/r", NULL);
			(void)stanza_add_child_text(s, "status", NS_CLIENT,
						    "fine");
			stanza_set_attr(stanza_add_child_text(s, "status",
							      NS_CLIENT, bad),
					"xml:lang", "de");
		} else {
			s = presence_new("a@b.org/r", NULL);
			(void)stanza_add_child_text(s, where[i], NS_CLIENT,
						    bad);
		}
		ck_assert_msg(!presence_parse(s, &info, &error),
			      "bad UTF-8 in %s accepted", where[i]);
		ck_assert(g_error_matches(error, PRESENCE_ERROR,
					  PRESENCE_ERROR_INVALID));
		ck_assert(g_utf8_validate(error->message, -1, NULL));
		ck_assert_int_eq(info.priority, 77);
	}
}
END_TEST

START_TEST(test_parse_status_truncation)
{
	g_autofree char *x1023 = g_strnfill(1023, 'x');
	g_autofree char *x1024 = g_strnfill(1024, 'x');
	g_autofree char *cut = g_strconcat(x1023, "é", NULL); /* 1025 bytes */
	g_autofree char *keep = g_strconcat(x1023, "y", NULL);
	g_autofree char *over = g_strconcat(x1024, "€€", NULL);
	static const char *const euro = "€"; /* 3 bytes */
	GString *euros = g_string_new(NULL);
	struct {
		const char *in;
		size_t want_len;
	} cases[] = {
		{cut, 1023},
		{keep, 1024},
		{over, 1024},
		{NULL, 1023}, /* 342 × 3 bytes = 1026: 341 whole ones fit */
	};

	for (int i = 0; i < 342; i++)
		g_string_append(euros, euro);
	cases[3].in = euros->str;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Stanza) s = presence_new("a@b.org/r", NULL);
		g_auto(PresenceInfo) info = {0};

		(void)stanza_add_child_text(s, "status", NS_CLIENT,
					    cases[i].in);
		ck_assert(presence_parse(s, &info, NULL));
		ck_assert_uint_eq(strlen(info.status), cases[i].want_len);
		ck_assert(g_utf8_validate(info.status, -1, NULL));
		ck_assert(strncmp(info.status, cases[i].in,
				  cases[i].want_len) == 0);
	}
	g_string_free(euros, TRUE);
}
END_TEST

START_TEST(test_parse_status_lang)
{
	g_autoptr(Stanza) s = presence_new("a@b.org/r", NULL);
	g_autoptr(Stanza) only_lang = presence_new("a@b.org/r", NULL);
	g_auto(PresenceInfo) info = {0};
	g_auto(PresenceInfo) info2 = {0};

	stanza_set_attr(stanza_add_child_text(s, "status", NS_CLIENT, "Hallo"),
			"xml:lang", "de");
	(void)stanza_add_child_text(s, "status", NS_CLIENT, "Hello");
	(void)stanza_add_child_text(s, "status", NS_CLIENT, "Third");
	ck_assert(presence_parse(s, &info, NULL));
	ck_assert_str_eq(info.status, "Hello");

	stanza_set_attr(
		stanza_add_child_text(only_lang, "status", NS_CLIENT, "Hallo"),
		"xml:lang", "de");
	stanza_set_attr(
		stanza_add_child_text(only_lang, "status", NS_CLIENT, "Salut"),
		"xml:lang", "fr");
	ck_assert(presence_parse(only_lang, &info2, NULL));
	ck_assert_str_eq(info2.status, "Hallo");
}
END_TEST

START_TEST(test_parse_priority)
{
	static const struct {
		const char *text;
		int want;
	} cases[] = {
		{"0", 0},
		{"127", 127},
		{"128", 127},
		{"-128", -128},
		{"-129", -128},
		{"99999999999999999999", 127},
		{" 7 ", 7},
		{"abc", 0},
		{"5x", 0},
		{"", 0},
		{"+3", 3},
		{"-1", -1},
		/* Past the parser's stack buffer; whitespace of all kinds. */
		{"000000000000000000000000000000000000000042", 42},
		{"\t\r\n -5\n", -5},
		{" \t ", 0},
		{"1 2", 0},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Stanza) s = presence_new("a@b.org/r", NULL);
		g_auto(PresenceInfo) info = {0};

		(void)stanza_add_child_text(s, "priority", NS_CLIENT,
					    cases[i].text);
		ck_assert(presence_parse(s, &info, NULL));
		ck_assert_msg(info.priority == cases[i].want,
			      "'%s': %d, wanted %d", cases[i].text,
			      info.priority, cases[i].want);
	}
}
END_TEST

START_TEST(test_parse_show_values)
{
	static const struct {
		const char *text;
		PresenceShow want;
	} cases[] = {
		{"away", PRESENCE_SHOW_AWAY},
		{"chat", PRESENCE_SHOW_CHAT},
		{"dnd", PRESENCE_SHOW_DND},
		{"xa", PRESENCE_SHOW_XA},
		{" xa\n", PRESENCE_SHOW_XA},
		/* Not one of the four: the sender is online all the same. */
		{"busy", PRESENCE_SHOW_AVAILABLE},
		{"", PRESENCE_SHOW_AVAILABLE},
		{"offline", PRESENCE_SHOW_AVAILABLE},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(Stanza) s = presence_new("a@b.org/r", NULL);
		g_auto(PresenceInfo) info = {0};

		(void)stanza_add_child_text(s, "show", NS_CLIENT,
					    cases[i].text);
		ck_assert(presence_parse(s, &info, NULL));
		ck_assert_int_eq(info.show, cases[i].want);
	}
}
END_TEST

START_TEST(test_parse_foreign_namespace)
{
	g_autoptr(Stanza) s = presence_new("a@b.org/r", NULL);
	g_auto(PresenceInfo) info = {0};

	/* Elements of other namespaces are not ours to read; a <nick/> in
	 * the wrong namespace is no XEP-0172 nick. */
	(void)stanza_add_child_text(s, "status", "urn:example:other", "no");
	(void)stanza_add_child_text(s, "show", "urn:example:other", "dnd");
	(void)stanza_add_child_text(s, "nick", NS_CLIENT, "no");
	(void)stanza_add_child_new(s, "c", "http://jabber.org/protocol/caps");
	ck_assert(presence_parse(s, &info, NULL));
	ck_assert(info.status == NULL);
	ck_assert_int_eq(info.show, PRESENCE_SHOW_AVAILABLE);
	ck_assert(info.nick == NULL);
}
END_TEST

/* The stanza as the stream reader yields it from bytes on the wire. */
static Stanza *from_wire(const char *xml)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autofree char *data =
		g_strconcat("<stream:stream xmlns='jabber:client' "
			    "xmlns:stream='http://etherx.jabber.org/streams' "
			    "version='1.0'>",
			    xml, NULL);
	Stanza *stanza = NULL;

	xml_reader_feed(reader, data, strlen(data));
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &stanza, NULL),
			 XML_READER_EVENT_STANZA);
	return stanza;
}

START_TEST(test_parse_wire)
{
	g_autoptr(Stanza) s = from_wire(
		"<presence from='juliet@example.com/balcony' xml:lang='en'>"
		"<show>away</show>"
		"<status xml:lang='cs'>Jsem pryč</status>"
		"<status>be right back &amp; more</status>"
		"<priority>-3</priority>"
		"<nick xmlns='http://jabber.org/protocol/nick'>Jule</nick>"
		"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
		"node='n' ver='v'/>"
		"<x xmlns='urn:other'><status>not ours</status></x>"
		"</presence>");
	g_autoptr(Stanza) foreign =
		from_wire("<presence from='romeo@example.net'>"
			  "<show xmlns='urn:other'>dnd</show>"
			  "<status xmlns='urn:other'>no</status></presence>");
	g_auto(PresenceInfo) info = {0};
	g_auto(PresenceInfo) finfo = {0};

	ck_assert(presence_parse(s, &info, NULL));
	ck_assert_int_eq(info.show, PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(info.status, "be right back & more");
	ck_assert_int_eq(info.priority, -3);
	ck_assert_str_eq(info.nick, "Jule");
	ck_assert_str_eq(info.from_resource, "balcony");

	ck_assert(presence_parse(foreign, &finfo, NULL));
	ck_assert_int_eq(finfo.show, PRESENCE_SHOW_AVAILABLE);
	ck_assert(finfo.status == NULL);
}
END_TEST

/* ---- building -------------------------------------------------------------
 */

static const char *child_text(const Stanza *s, const char *name, const char *ns)
{
	const Stanza *c = stanza_get_child(s, name, ns);

	return c != NULL ? stanza_get_text(c) : NULL;
}

START_TEST(test_build_shows)
{
	static const struct {
		PresenceShow show;
		const char *element; /* NULL: no <show/> */
	} cases[] = {
		{PRESENCE_SHOW_AVAILABLE, NULL}, {PRESENCE_SHOW_CHAT, "chat"},
		{PRESENCE_SHOW_AWAY, "away"},	 {PRESENCE_SHOW_XA, "xa"},
		{PRESENCE_SHOW_DND, "dnd"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		PresenceSpec spec = {
			.show = cases[i].show, .status = "st", .priority = -1};
		g_autoptr(Stanza) s = presence_build(&spec);
		g_auto(PresenceInfo) info = {0};

		ck_assert_str_eq(stanza_get_name(s), "presence");
		ck_assert(stanza_get_attr(s, "type") == NULL);
		ck_assert(stanza_get_attr(s, "to") == NULL);
		if (cases[i].element == NULL)
			ck_assert(stanza_get_child(s, "show", NULL) == NULL);
		else
			ck_assert_str_eq(child_text(s, "show", NULL),
					 cases[i].element);
		ck_assert_str_eq(child_text(s, "status", NULL), "st");
		ck_assert_str_eq(child_text(s, "priority", NULL), "-1");
		/* Round trip through our own parser. */
		ck_assert(presence_parse(s, &info, NULL));
		ck_assert_int_eq(info.show, cases[i].show);
		ck_assert_str_eq(info.status, "st");
		ck_assert_int_eq(info.priority, -1);
	}
}
END_TEST

START_TEST(test_build_offline)
{
	PresenceSpec spec = {.show = PRESENCE_SHOW_OFFLINE,
			     .status = "bye",
			     .priority = 5,
			     .idle_since = 1000};
	g_autoptr(Stanza) s = presence_build(&spec);
	PresenceSpec quiet = {.show = PRESENCE_SHOW_OFFLINE, .status = ""};
	g_autoptr(Stanza) q = presence_build(&quiet);

	ck_assert_str_eq(stanza_get_attr(s, "type"), "unavailable");
	ck_assert(stanza_get_child(s, "show", NULL) == NULL);
	ck_assert(stanza_get_child(s, "priority", NULL) == NULL);
	ck_assert(stanza_get_child(s, "idle", NULL) == NULL);
	ck_assert_str_eq(child_text(s, "status", NULL), "bye");
	ck_assert_str_eq(stanza_get_attr(q, "type"), "unavailable");
	ck_assert_uint_eq(stanza_get_n_children(q), 0);
}
END_TEST

START_TEST(test_build_nick_only_directed)
{
	PresenceSpec spec = {.show = PRESENCE_SHOW_AWAY, .nick = "Ali"};
	g_autoptr(Stanza) broadcast = presence_build(&spec);
	g_autoptr(Stanza) directed = NULL;
	const Stanza *nick;

	/* XEP-0172 §4.5: not in broadcasts. */
	ck_assert(stanza_get_child(broadcast, "nick", NULL) == NULL);
	ck_assert(stanza_get_child(broadcast, "status", NULL) == NULL);
	spec.to = "room@muc.example.org/me";
	directed = presence_build(&spec);
	ck_assert_str_eq(stanza_get_attr(directed, "to"),
			 "room@muc.example.org/me");
	nick = stanza_get_child(directed, "nick", NS_NICK);
	ck_assert(nick != NULL);
	ck_assert_str_eq(stanza_get_text(nick), "Ali");
}
END_TEST

START_TEST(test_build_priority_clamped)
{
	PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE, .priority = 1000};
	g_autoptr(Stanza) s = presence_build(&spec);

	ck_assert_str_eq(child_text(s, "priority", NULL), "127");
}
END_TEST

START_TEST(test_build_idle)
{
	/* 2009-02-13T23:31:30Z */
	PresenceSpec spec = {.show = PRESENCE_SHOW_AWAY,
			     .idle_since = 1234567890};
	g_autoptr(Stanza) s = presence_build(&spec);
	const Stanza *idle = stanza_get_child(s, "idle", NS_IDLE);
	PresenceSpec none = {.show = PRESENCE_SHOW_AWAY};
	g_autoptr(Stanza) n = presence_build(&none);

	ck_assert(idle != NULL);
	ck_assert_str_eq(stanza_get_attr(idle, "since"),
			 "2009-02-13T23:31:30Z");
	ck_assert(stanza_get_child(n, "idle", NULL) == NULL);
}
END_TEST

START_TEST(test_build_subscription)
{
	static const struct {
		PresenceType type;
		const char *name;
	} types[] = {
		{PRESENCE_TYPE_SUBSCRIBE, "subscribe"},
		{PRESENCE_TYPE_SUBSCRIBED, "subscribed"},
		{PRESENCE_TYPE_UNSUBSCRIBE, "unsubscribe"},
		{PRESENCE_TYPE_UNSUBSCRIBED, "unsubscribed"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		g_autoptr(Stanza) s = presence_build_subscription(
			types[i].type, "bob@example.org", "Ali", "hi Bob");
		const Stanza *nick = stanza_get_child(s, "nick", NS_NICK);

		ck_assert_str_eq(stanza_get_attr(s, "type"), types[i].name);
		ck_assert_str_eq(stanza_get_attr(s, "to"), "bob@example.org");
		ck_assert_str_eq(child_text(s, "status", NULL), "hi Bob");
		if (types[i].type == PRESENCE_TYPE_SUBSCRIBE) {
			ck_assert(nick != NULL);
			ck_assert_str_eq(stanza_get_text(nick), "Ali");
		} else {
			ck_assert(nick == NULL);
		}
	}
	{
		g_autoptr(Stanza) s = presence_build_subscription(
			PRESENCE_TYPE_SUBSCRIBE, "bob@example.org", NULL, "");
		ck_assert_uint_eq(stanza_get_n_children(s), 0);
	}
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"show-strings", test_show_strings},
		{"show-rank", test_show_rank},
		{"parse-full", test_parse_full},
		{"parse-minimal", test_parse_minimal},
		{"parse-types", test_parse_types},
		{"parse-unavailable", test_parse_unavailable},
		{"parse-errors", test_parse_errors},
		{"parse-bad-utf8", test_parse_bad_utf8},
		{"parse-status-truncation", test_parse_status_truncation},
		{"parse-status-lang", test_parse_status_lang},
		{"parse-priority", test_parse_priority},
		{"parse-show-values", test_parse_show_values},
		{"parse-foreign-namespace", test_parse_foreign_namespace},
		{"parse-wire", test_parse_wire},
		{"build-shows", test_build_shows},
		{"build-offline", test_build_offline},
		{"build-nick-only-directed", test_build_nick_only_directed},
		{"build-priority-clamped", test_build_priority_clamped},
		{"build-idle", test_build_idle},
		{"build-subscription", test_build_subscription},
	};

	return check_suite_run("presence", cases, G_N_ELEMENTS(cases), 30);
}
