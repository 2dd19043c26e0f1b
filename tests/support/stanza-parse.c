/* SPDX-License-Identifier: MIT */
/*
 * Test helper: one XML element parsed into a Stanza by the stream reader.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "core/xml-reader.h"
#include "tests/support/stanza-parse.h"

Stanza *test_parse_stanza(const char *xml)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autofree char *doc = g_strdup_printf(
		"<stream:stream xmlns='jabber:client' "
		"xmlns:stream='http://etherx.jabber.org/streams'>%s",
		xml);
	g_autoptr(Stanza) header = NULL;
	g_autoptr(GError) error = NULL;
	Stanza *stanza = NULL;

	xml_reader_feed(reader, doc, strlen(doc));
	ck_assert_int_eq(xml_reader_next(reader, &header, &error),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_msg(xml_reader_next(reader, &stanza, &error) ==
			      XML_READER_EVENT_STANZA,
		      "not one element: %s", xml);
	return stanza;
}
