/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for core/xml-reader.c. The first input byte picks where
 * the rest is split in two, so split-dependent bugs are reachable; both
 * halves go to one reader with small limits, and every event is drained
 * and serialized so the stanza tree is exercised too. The same bytes fed in
 * one piece must give the same events. And a reader with the presence
 * path on (xml-reader.h) must give the same events for the same pieces,
 * each presence it gathers as a record holding what the tree's presence
 * holds for the readers of a presence (issue #13).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xml-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the record path would take (xml_reader_set_presence_path). */
static bool is_record_presence(const Stanza *stanza)
{
	const char *type = stanza_get_attr(stanza, "type");

	return strcmp(stanza_get_name(stanza), "presence") == 0 &&
	       g_strcmp0(stanza_get_ns(stanza), "jabber:client") == 0 &&
	       (type == NULL || strcmp(type, "unavailable") == 0);
}

static void describe_part(GString *log, PresencePartKind kind, bool has_lang,
			  const char *text)
{
	g_string_append_printf(log, " part %d %d [%s]", (int)kind, has_lang,
			       text);
}

static void describe_caps(GString *log, const char *node, const char *hash,
			  const char *ver)
{
	g_string_append_printf(log, " caps [%s] [%s] [%s]", node ? node : "-",
			       hash ? hash : "-", ver ? ver : "-");
}

/* A presence tree as the record of it would be (the <c/> last: the
 * record keeps it apart from the parts). */
static void describe_tree(GString *log, const Stanza *stanza)
{
	const char *type = stanza_get_attr(stanza, "type");
	const char *from = stanza_get_attr(stanza, "from");
	const Stanza *caps = NULL;

	g_string_append_printf(log, "P from [%s] type [%s]", from ? from : "-",
			       type ? type : "-");
	for (const Stanza *c = stanza_get_first_child(stanza); c != NULL;
	     c = stanza_get_next_sibling(c)) {
		PresencePartKind kind = presence_record_classify(
			stanza_get_name(c), stanza_get_ns(c));

		if (kind == PRESENCE_PART_CAPS && caps == NULL)
			caps = c;
		else if (kind != PRESENCE_PART_NONE &&
			 kind != PRESENCE_PART_CAPS)
			describe_part(log, kind,
				      stanza_get_attr(c, "xml:lang") != NULL,
				      stanza_get_text(c));
	}
	if (caps != NULL)
		describe_caps(log, stanza_get_attr(caps, "node"),
			      stanza_get_attr(caps, "hash"),
			      stanza_get_attr(caps, "ver"));
}

static void describe_record(GString *log, const PresenceRecord *record)
{
	const char *type = presence_record_get_type(record);
	const char *from = presence_record_get_from(record);
	const char *node, *hash, *ver;
	size_t n = presence_record_get_n_parts(record);

	g_string_append_printf(log, "P from [%s] type [%s]", from ? from : "-",
			       type ? type : "-");
	for (size_t i = 0; i < n; i++) {
		PresencePartKind kind;
		bool has_lang;
		const char *text;

		presence_record_get_part(record, i, &kind, &has_lang, &text);
		describe_part(log, kind, has_lang, text);
	}
	if (presence_record_get_caps(record, &node, &hash, &ver))
		describe_caps(log, node, hash, ver);
}

static void drain(XmlReader *reader, GString *log)
{
	for (;;) {
		Stanza *stanza = NULL;
		PresenceRecord *record = NULL;
		GError *error = NULL;
		XmlReaderEvent ev =
			xml_reader_next_full(reader, &stanza, &record, &error);

		if (ev == XML_READER_EVENT_NONE)
			return;
		/* A presence as a record, whichever path it took. */
		if (ev == XML_READER_EVENT_PRESENCE) {
			g_string_append_printf(
				log, "%d:", (int)XML_READER_EVENT_STANZA);
			describe_record(log, record);
			g_string_append_c(log, '\n');
			xml_reader_recycle(reader, record);
			continue;
		}
		g_string_append_printf(log, "%d:", (int)ev);
		if (stanza != NULL && ev == XML_READER_EVENT_STANZA &&
		    is_record_presence(stanza))
			describe_tree(log, stanza);
		else if (stanza != NULL)
			stanza_serialize(stanza, "jabber:client", log);
		if (error != NULL)
			g_string_append(log,
					xml_reader_error_condition(
						(XmlReaderError)error->code));
		g_string_append_c(log, '\n');
		stanza_free(stanza);
		if (error != NULL)
			g_error_free(error);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const XmlReaderLimits limits = {.max_stanza_bytes = 64 * 1024,
					.max_depth = 16};
	XmlReader *reader;
	GString *split_log;
	GString *whole_log;
	GString *record_log;
	size_t cut;

	if (size < 1)
		return 0;
	cut = size > 1 ? (size_t)data[0] % size : 0;
	data++;
	size--;
	cut = MIN(cut, size);

	split_log = g_string_new(NULL);
	reader = xml_reader_new(&limits);
	xml_reader_feed(reader, (const char *)data, cut);
	drain(reader, split_log);
	xml_reader_feed(reader, (const char *)data + cut, size - cut);
	drain(reader, split_log);
	/* A restart must leave nothing behind. */
	xml_reader_reset(reader);
	if (xml_reader_next(reader, NULL, NULL) != XML_READER_EVENT_NONE)
		abort();

	whole_log = g_string_new(NULL);
	xml_reader_feed(reader, (const char *)data, size);
	drain(reader, whole_log);
	xml_reader_free(reader);

	/* The presence path: the same events for the same pieces. */
	record_log = g_string_new(NULL);
	reader = xml_reader_new(&limits);
	xml_reader_set_presence_path(reader, true);
	xml_reader_feed(reader, (const char *)data, cut);
	drain(reader, record_log);
	xml_reader_feed(reader, (const char *)data + cut, size - cut);
	drain(reader, record_log);
	xml_reader_free(reader);
	if (strcmp(split_log->str, record_log->str) != 0) {
		fprintf(stderr, "tree:\n%s\nrecord:\n%s\n", split_log->str,
			record_log->str);
		abort();
	}
	g_string_free(record_log, TRUE);

	/*
	 * Events must not depend on the split. On malformed input libxml2
	 * may notice the error earlier or later depending on what it has
	 * buffered (and may even report an element it then finds broken),
	 * so with an error only the events before it are compared, and one
	 * side may stop earlier. Without an error they must be identical.
	 */
	{
		const char *a = strstr(split_log->str, "4:");
		const char *b = strstr(whole_log->str, "4:");
		size_t la = a ? (size_t)(a - split_log->str) : split_log->len;
		size_t lb = b ? (size_t)(b - whole_log->str) : whole_log->len;

		if (a == NULL && b == NULL &&
		    strcmp(split_log->str, whole_log->str) != 0)
			abort();
		if (memcmp(split_log->str, whole_log->str, MIN(la, lb)) != 0)
			abort();
	}
	g_string_free(split_log, TRUE);
	g_string_free(whole_log, TRUE);
	return 0;
}
