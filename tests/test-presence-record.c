/* SPDX-License-Identifier: MIT */
/*
 * The reader's presence path (presence-record.h) against the tree: the
 * same bytes fed to a reader with the path off and one with it on must
 * give the same events, the same errors, and for each presence the same
 * PresenceInfo (or the same parse error) and the same XEP-0115 <c/>; and
 * two bound sessions, one on each path, must end with the same contact
 * table and the same change reports. Hostile inputs included.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/caps.h"
#include "core/contacts.h"
#include "core/presence.h"
#include "core/xml-reader.h"
#include "tests/support/check-suite.h"
#include "tests/support/session-test-server.h"

#define HEADER                                                                 \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "           \
	"xmlns:stream='http://etherx.jabber.org/streams' "                     \
	"from='example.org' id='s-1' version='1.0'>"

#define CAPS_C                                                                 \
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "             \
	"node='https://gajim.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"

/* Stanzas after the header; each a test of its own, and all of them in
 * one stream. */
static const char *const inputs[] = {
	/* What the benchmark sends. */
	"<presence from='bob@example.net/laptop-0' to='alice@example.org/a' "
	"xml:lang='en'><show>away</show><status>Working (1/0)</status>"
	"<priority>5</priority>" CAPS_C
	"<x xmlns='vcard-temp:x:update'><photo>01b8</photo></x>"
	"<delay xmlns='urn:xmpp:delay' from='example.net' "
	"stamp='2024-05-01T09:00:00.123Z'/></presence>",
	"<presence from='bob@example.net/laptop-0' type='unavailable'>"
	"<status>gone</status></presence>",
	"<presence from='bob@example.net'/>",
	"<presence/>",
	"<presence type='unavailable'/>",
	/* Statuses: the first without xml:lang wins, each is checked. */
	"<presence from='c@example.net/r'><status xml:lang='de'>Weg</status>"
	"<status>Away</status><status>Later</status></presence>",
	"<presence from='c@example.net/r'><status xml:lang='de'>Weg</status>"
	"<status xml:lang=''>leer</status></presence>",
	"<presence from='c@example.net/r' xmlns:x='urn:x'><status "
	"x:lang='fr'>x-lang is no xml:lang</status><status>b</status>"
	"</presence>",
	/* Own text only: mixed content, nested elements, CDATA, refs. */
	"<presence from='d@example.net/r'><status>a<b>nested</b>c<i><j>deep"
	"</j></i>d</status><show>dn<x/>d</show></presence>",
	"<presence from='d@example.net/r'><status><![CDATA[<raw> & ]]>"
	"&lt;&amp;&#233;&#x1F600;</status></presence>",
	"<presence from='d@example.net/r'>text<show>chat</show>more"
	"</presence>",
	/* Several of one: the last show/priority/nick wins. */
	"<presence from='e@example.net/r'><show>away</show><show>xa</show>"
	"<priority>3</priority><priority>x</priority>"
	"<nick xmlns='http://jabber.org/protocol/nick'>A</nick>"
	"<nick xmlns='http://jabber.org/protocol/nick'>B</nick></presence>",
	"<presence from='e@example.net/r'><show> dnd </show>"
	"<priority> -200 </priority></presence>",
	/* Children in other namespaces, or prefixed into ours. */
	"<presence from='f@example.net/r'><show xmlns='urn:other'>away</show>"
	"<status xmlns=''>no namespace</status></presence>",
	"<presence from='f@example.net/r' xmlns:cl='jabber:client'>"
	"<cl:show>dnd</cl:show></presence>",
	"<cl:presence xmlns:cl='jabber:client' from='f@example.net/r'>"
	"<show>away</show></cl:presence>",
	"<presence xmlns='urn:other' from='f@example.net/r'/>",
	"<presence xmlns='' from='f@example.net/r'><show>xa</show></presence>",
	/* Caps: the first <c/> counts; bad ones are no announcement. */
	"<presence from='g@example.net/r'>" CAPS_C
	"<c xmlns='http://jabber.org/protocol/caps' node='n' ver='v2'/>"
	"</presence>",
	"<presence from='g@example.net/r'><c "
	"xmlns='http://jabber.org/protocol/caps' node='n#x' ver='v'/>"
	"</presence>",
	"<presence from='g@example.net/r'><c "
	"xmlns='http://jabber.org/protocol/caps' node='n' ver=''/>"
	"</presence>",
	"<presence from='g@example.net/r'><c "
	"xmlns='http://jabber.org/protocol/caps' node='a&amp;b' ver='v' "
	"xmlns:p='urn:p' p:ver='shadow'/></presence>",
	"<presence from='g@example.net/r'><c xmlns='urn:not-caps' node='n' "
	"ver='v'/></presence>",
	"<presence from='g@example.net/r'><x>" CAPS_C "</x></presence>",
	/* from and type as the tree sees them. */
	"<presence from='H@EXAMPLE.NET/Res'/>",
	"<presence from='h@example.net/a&amp;b'/>",
	"<presence from='not a jid@@'/>",
	"<presence from=''/>",
	"<presence from='h@example.net/r' type='&#117;navailable'/>",
	"<presence from='h@example.net/r' type='subscribe'><status>hi"
	"</status></presence>",
	"<presence from='h@example.net/r' type='bogus'/>",
	"<presence from='h@example.net/r' type=''/>",
	"<presence xmlns:p='urn:p' p:from='x@example.net/spoof' "
	"from='h@example.net/r' p:type='unavailable'/>",
	/* Not presences. */
	"<message from='i@example.net/r'><body>hi</body></message>",
	"<iq type='get' id='1' from='example.org'><ping xmlns='urn:xmpp:ping'/>"
	"</iq>",
	"<presencex from='i@example.net/r'/>",
};

/* Inputs that end the stream: the same error on both paths. */
static const char *const hostile[] = {
	"<presence from='j@example.net/r'><!-- c --></presence>",
	"<presence from='j@example.net/r'><?pi x?></presence>",
	"<presence from='j@example.net/r'><status>&ent;</status></presence>",
	"<presence from='j@example.net/r'><status>\xff\xfe</status></presence>",
	"<presence from='j@example.net/r'><status></show></presence>",
	"<presence from='j@example.net/r' from='k@example.net/r'/>",
	"<presence from='j@example.net/r'><status a='<'/></presence>",
	"<presence from='j@example.net/r'><p:status/></presence>",
	"<presence from='j@example.net/r'><!DOCTYPE x></presence>",
};

static const XmlReaderLimits tight = {
	.max_stanza_bytes = 600,
	.max_depth = 4,
	.max_attrs = 5,
	.max_tree_bytes = 1200,
};

/* One line for a presence as the session reads it. */
static void describe_info(GString *out, bool ok, const PresenceInfo *info,
			  const GError *error)
{
	if (!ok) {
		g_string_append_printf(out, "invalid: %s\n", error->message);
		return;
	}
	g_string_append_printf(
		out,
		"type %d from %s|%s|%s show %d status %s prio %d nick %s\n",
		info->type, info->from_full ? info->from_full : "-",
		info->from_bare ? info->from_bare : "-",
		info->from_resource ? info->from_resource : "-", info->show,
		info->status ? info->status : "-", info->priority,
		info->nick ? info->nick : "-");
}

static void describe_caps(GString *out, bool ok, const char *node,
			  const char *hash, const char *ver)
{
	if (!ok) {
		g_string_append(out, "caps none\n");
		return;
	}
	g_string_append_printf(out, "caps %s %s %s\n", node, hash ? hash : "-",
			       ver);
}

static void describe_tree(GString *out, const Stanza *stanza)
{
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;
	const char *node = NULL, *hash = NULL, *ver = NULL;
	bool ok = presence_parse(stanza, &info, &error);

	describe_info(out, ok, &info, error);
	ok = caps_announcement_peek(stanza, &node, &hash, &ver, NULL);
	describe_caps(out, ok, node, hash, ver);
}

static void describe_record(GString *out, const PresenceRecord *record)
{
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;
	const char *node = NULL, *hash = NULL, *ver = NULL;
	bool ok = presence_parse_record(record, &info, &error);

	describe_info(out, ok, &info, error);
	ok = presence_record_get_caps(record, &node, &hash, &ver) &&
	     caps_announcement_check(node, ver, NULL);
	describe_caps(out, ok, node, hash, ver);
}

/* Drains the reader: a line per event, presences as the session sees
 * them (tree or record alike). */
static void drain(XmlReader *reader, GString *out, bool *ret_record_seen)
{
	for (;;) {
		g_autoptr(Stanza) stanza = NULL;
		g_autoptr(PresenceRecord) record = NULL;
		g_autoptr(GError) error = NULL;
		XmlReaderEvent ev =
			xml_reader_next_full(reader, &stanza, &record, &error);

		switch (ev) {
		case XML_READER_EVENT_NONE:
			return;
		case XML_READER_EVENT_STREAM_OPEN:
			g_string_append(out, "OPEN\n");
			break;
		case XML_READER_EVENT_STANZA:
			if (strcmp(stanza_get_name(stanza), "presence") == 0 &&
			    g_strcmp0(stanza_get_ns(stanza), "jabber:client") ==
				    0) {
				g_string_append(out, "PRESENCE ");
				describe_tree(out, stanza);
				break;
			}
			g_string_append(out, "STANZA ");
			stanza_serialize(stanza, "jabber:client", out);
			g_string_append_c(out, '\n');
			break;
		case XML_READER_EVENT_PRESENCE:
			*ret_record_seen = true;
			g_string_append(out, "PRESENCE ");
			describe_record(out, record);
			break;
		case XML_READER_EVENT_STREAM_CLOSE:
			g_string_append(out, "CLOSE\n");
			break;
		case XML_READER_EVENT_ERROR:
			g_string_append_printf(
				out, "ERROR %s: %s\n",
				xml_reader_error_condition(error->code),
				error->message);
			break;
		}
	}
}

/* The stream header, body and close through one reader, body in slices
 * of split bytes (0: whole). */
static char *run(const char *body, bool path, size_t split,
		 const XmlReaderLimits *limits, bool *ret_record_seen)
{
	g_autoptr(XmlReader) reader = xml_reader_new(limits);
	g_autoptr(GString) out = g_string_new(NULL);
	size_t len = strlen(body);

	xml_reader_set_presence_path(reader, path);
	xml_reader_feed(reader, HEADER, strlen(HEADER));
	drain(reader, out, ret_record_seen);
	for (size_t off = 0; off < len;) {
		size_t n = split ? MIN(split, len - off) : len - off;

		xml_reader_feed(reader, body + off, n);
		drain(reader, out, ret_record_seen);
		off += n;
	}
	xml_reader_feed(reader, "</stream:stream>", 16);
	drain(reader, out, ret_record_seen);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Both paths over body, whole and split at every size up to 7 bytes. */
static bool check_same(const char *body, const XmlReaderLimits *limits)
{
	static const size_t splits[] = {0, 1, 2, 3, 5, 7, 64};
	bool seen = false;

	for (size_t i = 0; i < G_N_ELEMENTS(splits); i++) {
		bool unused = false;
		g_autofree char *tree =
			run(body, false, splits[i], limits, &unused);
		g_autofree char *fast =
			run(body, true, splits[i], limits, &seen);

		ck_assert_msg(!unused, "the tree path made a record");
		ck_assert_msg(strcmp(tree, fast) == 0,
			      "split %zu of\n%s\ntree:\n%s\nrecord:\n%s",
			      splits[i], body, tree, fast);
	}
	return seen;
}

START_TEST(test_reader_same)
{
	check_same(inputs[_i], NULL);
}
END_TEST

START_TEST(test_reader_same_all)
{
	g_autoptr(GString) all = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++)
		g_string_append(all, inputs[i]);
	ck_assert(check_same(all->str, NULL));
}
END_TEST

START_TEST(test_reader_same_hostile)
{
	g_autoptr(GString) body = g_string_new(inputs[0]);

	/* After a good presence, so that the error's place counts too. */
	g_string_append(body, hostile[_i]);
	g_string_append(body, inputs[1]);
	check_same(body->str, NULL);
}
END_TEST

/* The limits fire at the same byte with the same message. */
START_TEST(test_reader_same_limits)
{
	static const char *const bodies[] = {
		/* depth 4 with the stream: the <i> is one too deep */
		"<presence from='a@example.net/r'><status>a<b><i/></b>"
		"</status></presence>",
		/* 6 attributes */
		"<presence from='a@example.net/r' a='1' b='2' c='3' d='4' "
		"e='5'/>",
		/* tree budget: many small skipped children */
		"<presence from='a@example.net/r'><x/><x/><x/><x/><x/><x/><x/>"
		"<x/><x/><x/><x/><x/><x/><x/><x/><x/><x/><x/><x/><x/><x/><x/>"
		"</presence>",
		/* stanza bytes */
		"<presence from='a@example.net/r'><status>"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"0123456789012345678901234567890123456789012345678901234567890"
		"</status></presence>",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bodies); i++) {
		g_autoptr(GString) body = g_string_new(inputs[2]);

		g_string_append(body, bodies[i]);
		check_same(body->str, &tight);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++)
		check_same(inputs[i], &tight);
}
END_TEST

/* The record path is taken where it should be (else the tests above
 * compare the tree with itself). */
START_TEST(test_reader_takes_path)
{
	bool seen = false;
	g_autofree char *out = run(inputs[0], true, 0, NULL, &seen);

	ck_assert_ptr_nonnull(out);
	ck_assert(seen);
	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++) {
		g_autofree char *o = NULL;

		if (!strstr(inputs[i], "type='subscribe'") &&
		    !strstr(inputs[i], "<message"))
			continue;
		seen = false;
		o = run(inputs[i], true, 0, NULL, &seen);
		ck_assert(!seen);
	}
}
END_TEST

/* ---- two sessions ------------------------------------------------------- */

static void describe_contact(const Contact *c, void *data)
{
	GPtrArray *lines = data;
	GString *out = g_string_new(NULL);
	size_t n = contact_get_n_resources(c);

	g_string_append_printf(out, "%s %d '%s':", contact_get_jid(c),
			       contact_get_show(c), contact_get_status(c));
	for (size_t i = 0; i < n; i++) {
		const char *res = NULL, *status = NULL;
		const char *ver = contact_get_resource_caps(c, i);
		PresenceShow show;
		int prio;

		ck_assert(contact_get_resource(c, i, &res, &show, &status,
					       &prio));
		g_string_append_printf(out, " [%s %d '%s' %d %s]", res, show,
				       status ? status : "", prio,
				       ver ? ver : "-");
	}
	g_ptr_array_add(lines, g_string_free(out, FALSE));
}

static int cmp_line(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table, the change reports and what went out, after body. */
static char *run_session(const char *body, bool log_wire)
{
	g_autoptr(TestServer) ts = ts_new(
		&(TestServerOptions){.bound = true, .no_log_wire = !log_wire});
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

	ts_online_bound(ts, "<item jid='bob@example.net' "
			    "subscription='both'/>"
			    "<item jid='c@example.net' subscription='both'/>");
	g_ptr_array_set_size(ts->changed, 0);
	ts_send(ts, body);
	contacts_foreach(ts->contacts, describe_contact, lines);
	for (guint i = 0; i < ts->changed->len; i++)
		g_string_append_printf(
			out, "changed %s\n",
			(char *)g_ptr_array_index(ts->changed, i));
	g_string_append_printf(out, "closed %d\n", ts->closed_count);
	for (;;) {
		g_autoptr(Stanza) sent = NULL;
		XmlReaderEvent ev = ts_next(ts, &sent);

		if (ev == XML_READER_EVENT_NONE)
			break;
		/* ids are random: names and targets only. */
		if (sent != NULL)
			g_string_append_printf(
				out, "sent %s to %s\n", stanza_get_name(sent),
				stanza_get_attr(sent, "to") != NULL
					? stanza_get_attr(sent, "to")
					: "-");
	}
	/* The table in JID order. */
	g_ptr_array_sort(lines, cmp_line);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n",
				       (char *)g_ptr_array_index(lines, i));
	return g_string_free(g_steal_pointer(&out), FALSE);
}

START_TEST(test_sessions_same)
{
	g_autoptr(GString) body = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++)
		g_string_append(body, inputs[i]);
	g_string_append(body, inputs[0]);
	g_string_append(
		body, "<presence from='c@example.net/x'>"
		      "<show>chat</show><status>x</status>" CAPS_C "</presence>"
		      "<presence from='c@example.net' type='unavailable'"
		      "/>");
	{
		g_autofree char *tree = run_session(body->str, true);
		g_autofree char *fast = run_session(body->str, false);

		ck_assert_str_eq(tree, fast);
	}
	g_string_append(body, hostile[_i]);
	g_string_append(body, inputs[0]);
	{
		g_autofree char *tree = run_session(body->str, true);
		g_autofree char *fast = run_session(body->str, false);

		ck_assert_str_eq(tree, fast);
	}
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"reader-same", test_reader_same, G_N_ELEMENTS(inputs)},
		{"reader-same-all", test_reader_same_all},
		{"reader-same-hostile", test_reader_same_hostile,
		 G_N_ELEMENTS(hostile)},
		{"reader-same-limits", test_reader_same_limits},
		{"reader-takes-path", test_reader_takes_path},
		{"sessions-same", test_sessions_same, G_N_ELEMENTS(hostile)},
	};

	return check_suite_run("presence-record", cases, G_N_ELEMENTS(cases),
			       60);
}
