/* SPDX-License-Identifier: MIT */
/*
 * Throughput of the stream reader: a flood of realistic presence stanzas
 * (show, status, priority, XEP-0115 caps, XEP-0153 photo hash, XEP-0203
 * delay) fed in 4 KB chunks, then one 100,000-item roster result.
 * Usage: bench-xml-reader [N_PRESENCES]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xml-reader.h"

#define HEADER                                                                 \
	"<?xml version='1.0'?>"                                                \
	"<stream:stream xmlns='jabber:client' "                                \
	"xmlns:stream='http://etherx.jabber.org/streams' "                     \
	"from='example.com' id='bench' version='1.0' xml:lang='en'>"

#define CHUNK 4096

static const char *const shows[] = {"away", "chat", "dnd", "xa"};

static GString *presence_flood(unsigned n)
{
	GString *s = g_string_new(HEADER);

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(
			s,
			"<presence from='contact%u@example.org/"
			"laptop-%08x' to='alice@example.com/desktop' "
			"xml:lang='en'>"
			"<show>%s</show>"
			"<status>In a meeting until 15:00 \xe2\x80\x94 "
			"ping me if urgent (%u)</status>"
			"<priority>%d</priority>"
			"<c xmlns='http://jabber.org/protocol/caps' "
			"hash='sha-1' node='https://gajim.org' "
			"ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
			"<x xmlns='vcard-temp:x:update'><photo>"
			"%040x</photo></x>"
			"<delay xmlns='urn:xmpp:delay' "
			"from='example.org' stamp='2024-05-0%uT12:34:56Z'/>"
			"</presence>",
			i % 5000, i * 2654435761u, shows[i % 4], i,
			(int)(i % 20) - 5, i * 40503u, 1 + i % 9);
	return s;
}

static GString *big_roster(unsigned items)
{
	GString *s = g_string_new(HEADER "<iq type='result' id='roster1' "
					 "to='alice@example.com/desktop'>"
					 "<query xmlns='jabber:iq:roster' "
					 "ver='ver42'>");

	for (unsigned i = 0; i < items; i++)
		g_string_append_printf(
			s,
			"<item jid='contact%06u@example.org' name='Contact "
			"number %u' subscription='both'><group>Group %u"
			"</group></item>",
			i, i, i % 50);
	g_string_append(s, "</query></iq>");
	return s;
}

/* Feeds data in chunk-sized pieces, pops as it goes; returns stanzas. */
static unsigned run(const GString *in, size_t chunk, double *ret_secs)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	gint64 start = g_get_monotonic_time();
	unsigned stanzas = 0;

	for (size_t pos = 0; pos < in->len; pos += chunk) {
		XmlReaderEvent ev;
		Stanza *s;

		xml_reader_feed(reader, in->str + pos,
				MIN(chunk, in->len - pos));
		while ((ev = xml_reader_next(reader, &s, NULL)) !=
		       XML_READER_EVENT_NONE) {
			if (ev == XML_READER_EVENT_ERROR) {
				fprintf(stderr, "unexpected stream error\n");
				exit(1);
			}
			if (ev == XML_READER_EVENT_STANZA)
				stanzas++;
			stanza_free(s);
		}
	}
	*ret_secs = (double)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	return stanzas;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	g_autoptr(GString) flood = presence_flood(n);
	g_autoptr(GString) roster = big_roster(100000);
	double secs;
	unsigned got;

	got = run(flood, CHUNK, &secs);
	printf("presence flood: %u stanzas, %.1f MB (%.0f bytes each), "
	       "4 KB chunks: %.3f s, %.1f MB/s, %.0f stanzas/s\n",
	       got, flood->len / 1e6, (double)flood->len / n, secs,
	       flood->len / 1e6 / secs, got / secs);
	if (got != n)
		return 1;

	got = run(roster, roster->len, &secs);
	printf("roster 100,000 items, %.1f MB, one piece: %.3f s "
	       "(%.1f MB/s)\n",
	       roster->len / 1e6, secs, roster->len / 1e6 / secs);
	got += run(roster, CHUNK, &secs);
	printf("roster 100,000 items, %.1f MB, 4 KB chunks: %.3f s "
	       "(%.1f MB/s)\n",
	       roster->len / 1e6, secs, roster->len / 1e6 / secs);
	return got == 2 ? 0 : 1;
}
