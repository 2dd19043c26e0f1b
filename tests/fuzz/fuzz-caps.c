/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for what peers and the disk feed to core/caps.c,
 * core/caps-cache.c and core/blocking.c. The first input byte picks the
 * mode; the rest is either
 *  - a caps cache file for caps_cache_load(), or
 *  - stanzas (inside a jabber:client stream) for the disco#info, <c/>,
 *    block list and last-activity parsers.
 *
 * Oracles besides ASan/UBSan:
 *  - a loaded cache serializes to text that loads again to the same text;
 *  - a disco#info that parses hashes to a ver that verifies against our
 *    own serialization of it, read back by the stream reader (what we
 *    build, a peer can check);
 *  - the block list stays within BLOCKING_MAX_ITEMS.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blocking.h"
#include "core/caps-cache.h"
#include "core/caps.h"
#include "core/last-activity.h"
#include "core/xml-reader.h"

#define OWN "alice@example.org"
#define STREAM_HEADER                                                          \
	"<stream:stream xmlns='jabber:client' "                                \
	"xmlns:stream='http://etherx.jabber.org/streams'>"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_abort(const char *what)
{
	fprintf(stderr, "fuzz-caps: %s\n", what);
	abort();
}

static void fuzz_cache_file(const char *data, size_t len)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_autoptr(CapsCache) again = caps_cache_new();
	g_autofree char *text = NULL;
	g_autofree char *text2 = NULL;

	if (!caps_cache_load(cache, data, len, NULL))
		return;
	text = caps_cache_serialize(cache);
	if (!caps_cache_load(again, text, strlen(text), NULL))
		fuzz_abort("a serialized cache does not load");
	text2 = caps_cache_serialize(again);
	if (strcmp(text, text2) != 0)
		fuzz_abort("a cache round trip changed it");
}

/* The first stanza of xml (one element after a stream header), or NULL. */
static Stanza *read_one(const char *xml)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(Stanza) header = NULL;
	Stanza *stanza = NULL;

	xml_reader_feed(reader, STREAM_HEADER, strlen(STREAM_HEADER));
	xml_reader_feed(reader, xml, strlen(xml));
	if (xml_reader_next(reader, &header, NULL) !=
	    XML_READER_EVENT_STREAM_OPEN)
		return NULL;
	if (xml_reader_next(reader, &stanza, NULL) != XML_READER_EVENT_STANZA)
		return NULL;
	return stanza;
}

static void check_disco(const Stanza *query)
{
	g_autoptr(CapsInfo) info = caps_info_parse(query, NULL);
	g_autofree char *ver = NULL;
	g_autoptr(Stanza) built = NULL;
	g_autofree char *xml = NULL;
	g_autoptr(Stanza) back = NULL;
	CapsIdentity id;
	g_auto(GStrv) features = NULL;

	if (info == NULL)
		return;
	ver = caps_info_compute_ver(info, CAPS_HASH_SHA1);
	built = caps_info_build_query(info, NULL);
	xml = stanza_to_string(built);
	back = read_one(xml);
	if (back == NULL || !caps_verify(back, "sha-1", ver, NULL, NULL))
		fuzz_abort("our own disco#info does not verify");
	(void)caps_info_get_main_identity(info, &id);
	features = caps_info_dup_features_sorted(info);
}

static void check_stanza(const Stanza *stanza, BlockList *list)
{
	g_auto(CapsAnnouncement) ann = {0};
	g_auto(BlockingPush) push = {0};
	const Stanza *query = stanza_get_child(stanza, "query", NS_DISCO_INFO);

	check_disco(query ? query : stanza);
	(void)caps_disco_has_feature(query, NS_BLOCKING);
	(void)caps_announcement_parse(stanza, &ann, NULL);
	if (blocking_parse_push(stanza, OWN, &push, NULL))
		(void)blocking_list_apply_push(list, &push, NULL, NULL);
	(void)blocking_list_replace(list, stanza, NULL, NULL);
	if (blocking_list_get_n_items(list) > BLOCKING_MAX_ITEMS)
		fuzz_abort("block list over its bound");
	(void)last_activity_is_query(stanza);
}

static void fuzz_stanzas(const char *data, size_t len)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(BlockList) list = blocking_list_new();

	xml_reader_feed(reader, STREAM_HEADER, strlen(STREAM_HEADER));
	xml_reader_feed(reader, data, len);
	for (;;) {
		g_autoptr(Stanza) stanza = NULL;
		XmlReaderEvent ev = xml_reader_next(reader, &stanza, NULL);

		if (ev == XML_READER_EVENT_NONE ||
		    ev == XML_READER_EVENT_ERROR ||
		    ev == XML_READER_EVENT_STREAM_CLOSE)
			return;
		if (ev == XML_READER_EVENT_STANZA)
			check_stanza(stanza, list);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_stanzas((const char *)data + 1, size - 1);
	else
		fuzz_cache_file((const char *)data + 1, size - 1);
	return 0;
}
