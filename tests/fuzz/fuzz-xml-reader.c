/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for core/xml-reader.c. The first input byte picks where
 * the rest is split in two, so split-dependent bugs are reachable; both
 * halves go to one reader with small limits, and every event is drained
 * and serialized so the stanza tree is exercised too. The same bytes fed in
 * one piece must give the same events.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xml-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(XmlReader *reader, GString *log)
{
	for (;;) {
		Stanza *stanza = NULL;
		GError *error = NULL;
		XmlReaderEvent ev = xml_reader_next(reader, &stanza, &error);

		if (ev == XML_READER_EVENT_NONE)
			return;
		g_string_append_printf(log, "%d:", (int)ev);
		if (stanza != NULL)
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
