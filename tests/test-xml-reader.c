/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for core/xml-reader.c: every split of the input gives the same
 * events, stanzas arrive as soon as their end tag does, and every input
 * RFC 6120 §11 forbids ends in the right stream error.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "core/xml-reader.h"
#include "tests/support/check-suite.h"

#define HEADER                                                                 \
	"<?xml version='1.0'?>"                                                \
	"<stream:stream xmlns='jabber:client' "                                \
	"xmlns:stream='http://etherx.jabber.org/streams' "                     \
	"from='example.com' id='s1' version='1.0' xml:lang='en'>"

/*
 * A realistic stream: features, roster, presence with caps and multi-byte
 * UTF-8 (2, 3 and 4 byte sequences), entities and char refs, CDATA.
 */
static const char stream_text[] = HEADER
	"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
	"<required/></starttls></stream:features>\n"
	"<iq type='result' id='r1' to='alice@example.com/laptop'>"
	"<query xmlns='jabber:iq:roster' ver='v1'>"
	"<item jid='bob@example.com' name='Bob &amp; Co' "
	"subscription='both'><group>Fr&#228;nds</group></item>"
	"<item jid='carol@example.com' subscription='to'/>"
	"</query></iq>"
	" \t\r\n"
	"<presence from='bob@example.com/phone'>"
	"<show>away</show><status>Gr\xc3\xbc\xc3\x9f"
	"e \xe2\x98\x83 "
	"\xf0\x9d\x84\x9e &lt;tag&gt; &quot;q&quot; &apos;a&apos;</status>"
	"<priority>-1</priority>"
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
	"node='http://example.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
	"<x xmlns='vcard-temp:x:update'><photo>abc</photo></x>"
	"</presence>"
	"<message to='alice@example.com' type=\"chat\"><body><![CDATA[a<b&c]]>"
	" \xe4\xb8\xad</body><v:x xmlns:v='vcard-temp'/></message>"
	"<presence/>"
	"</stream:stream>";

static const char *const stream_expected =
	"OPEN <stream xmlns='http://etherx.jabber.org/streams' "
	"from='example.com' id='s1' version='1.0' xml:lang='en'/>\n"
	"STANZA <features xmlns='http://etherx.jabber.org/streams'><starttls "
	"xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
	"</features>\n"
	"STANZA <iq type='result' id='r1' to='alice@example.com/laptop'>"
	"<query xmlns='jabber:iq:roster' ver='v1'><item jid='bob@example.com' "
	"name='Bob &amp; Co' subscription='both'><group>Fr\xc3\xa4nds</group>"
	"</item><item jid='carol@example.com' subscription='to'/></query>"
	"</iq>\n"
	"STANZA <presence from='bob@example.com/phone'><show>away</show>"
	"<status>Gr\xc3\xbc\xc3\x9f"
	"e \xe2\x98\x83 \xf0\x9d\x84\x9e "
	"&lt;tag&gt; \"q\" 'a'</status><priority>-1</priority>"
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
	"node='http://example.org' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/>"
	"<x xmlns='vcard-temp:x:update'><photo>abc</photo></x></presence>\n"
	"STANZA <message to='alice@example.com' type='chat'><body>"
	"a&lt;b&amp;c \xe4\xb8\xad</body><x xmlns='vcard-temp'/></message>\n"
	"STANZA <presence/>\n"
	"CLOSE\n";

/* Drains the reader into a text log, one line per event. */
static void drain(XmlReader *reader, GString *log)
{
	for (;;) {
		g_autoptr(Stanza) stanza = NULL;
		g_autoptr(GError) error = NULL;
		XmlReaderEvent ev = xml_reader_next(reader, &stanza, &error);

		switch (ev) {
		case XML_READER_EVENT_NONE:
			return;
		case XML_READER_EVENT_STREAM_OPEN:
			ck_assert_ptr_nonnull(stanza);
			g_string_append(log, "OPEN ");
			stanza_serialize(stanza, NULL, log);
			g_string_append_c(log, '\n');
			break;
		case XML_READER_EVENT_STANZA:
			ck_assert_ptr_nonnull(stanza);
			g_string_append(log, "STANZA ");
			stanza_serialize(stanza, "jabber:client", log);
			g_string_append_c(log, '\n');
			break;
		case XML_READER_EVENT_STREAM_CLOSE:
			g_string_append(log, "CLOSE\n");
			break;
		case XML_READER_EVENT_PRESENCE:
			/* Only with xml_reader_set_presence_path (its tests
			 * are in test-presence-record.c). */
			ck_abort_msg("presence record from a plain reader");
			break;
		case XML_READER_EVENT_ERROR:
			ck_assert_ptr_nonnull(error);
			ck_assert(error->domain == XML_READER_ERROR);
			g_string_append_printf(
				log, "ERROR %s\n",
				xml_reader_error_condition(error->code));
			break;
		}
	}
}

static char *parse_chunks(const char *data, size_t len, const size_t *cuts,
			  size_t n_cuts)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	GString *log = g_string_new(NULL);
	size_t pos = 0;

	for (size_t i = 0; i <= n_cuts; i++) {
		size_t end = i < n_cuts ? cuts[i] : len;

		xml_reader_feed(reader, data + pos, end - pos);
		drain(reader, log);
		pos = end;
	}
	return g_string_free(log, FALSE);
}

static char *parse_whole(const char *data, size_t len,
			 const XmlReaderLimits *limits)
{
	g_autoptr(XmlReader) reader = xml_reader_new(limits);
	GString *log = g_string_new(NULL);

	xml_reader_feed(reader, data, len);
	drain(reader, log);
	return g_string_free(log, FALSE);
}

/* The error condition the input ends in, or "none". */
static char *final_condition(const char *data, const XmlReaderLimits *limits)
{
	g_autofree char *log = parse_whole(data, strlen(data), limits);
	const char *err = strstr(log, "ERROR ");
	const char *nl;

	if (err == NULL)
		return g_strdup("none");
	/* Nothing follows the error. */
	nl = strchr(err, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_str_eq(nl + 1, "");
	return g_strndup(err + 6, (size_t)(nl - err - 6));
}

#define assert_condition(data, limits, cond)                                   \
	do {                                                                   \
		g_autofree char *got_ = final_condition(data, limits);         \
		ck_assert_msg(strcmp(got_, cond) == 0,                         \
			      "expected %s, got %s for: %.200s", cond, got_,   \
			      data);                                           \
	} while (0)

/* ---- splits ------------------------------------------------------------- */

START_TEST(test_whole)
{
	g_autofree char *log =
		parse_whole(stream_text, strlen(stream_text), NULL);

	ck_assert_str_eq(log, stream_expected);
}
END_TEST

START_TEST(test_every_split)
{
	size_t len = strlen(stream_text);

	for (size_t i = 0; i <= len; i++) {
		g_autofree char *log = parse_chunks(stream_text, len, &i, 1);

		ck_assert_msg(strcmp(log, stream_expected) == 0,
			      "split at %zu:\n%s", i, log);
	}
}
END_TEST

START_TEST(test_every_double_split)
{
	size_t len = strlen(stream_text);

	/*
	 * Two cuts, the second a prime stride away, to cover cuts on both
	 * sides of every construct without len^2 runs.
	 */
	for (size_t i = 0; i <= len; i++) {
		size_t cuts[2] = {i, MIN(len, i + 1 + (i * 7919) % 61)};
		g_autofree char *log = parse_chunks(stream_text, len, cuts, 2);

		ck_assert_msg(strcmp(log, stream_expected) == 0,
			      "splits at %zu,%zu:\n%s", cuts[0], cuts[1], log);
	}
}
END_TEST

START_TEST(test_byte_by_byte)
{
	size_t len = strlen(stream_text);
	g_autofree size_t *cuts = g_new(size_t, len);
	g_autofree char *log = NULL;

	for (size_t i = 0; i < len; i++)
		cuts[i] = i;
	log = parse_chunks(stream_text, len, cuts, len);
	ck_assert_str_eq(log, stream_expected);
}
END_TEST

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a;
	size_t y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_random_splits)
{
	size_t len = strlen(stream_text);
	GRand *rand = g_rand_new_with_seed(0x5eed);

	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)g_rand_int_range(rand, 1, 40);
		g_autofree size_t *cuts = g_new(size_t, n);
		g_autofree char *log = NULL;

		for (size_t i = 0; i < n; i++)
			cuts[i] = (size_t)g_rand_int_range(rand, 0,
							   (gint32)len + 1);
		qsort(cuts, n, sizeof(*cuts), cmp_size);
		log = parse_chunks(stream_text, len, cuts, n);
		ck_assert_msg(strcmp(log, stream_expected) == 0, "round %d",
			      round);
	}
	g_rand_free(rand);
}
END_TEST

/* ---- promptness --------------------------------------------------------- */

/*
 * Feeding up to each '>' that ends a top-level element must make exactly
 * that element available: libxml2 must not sit on its end.
 */
START_TEST(test_prompt_delivery)
{
	size_t len = strlen(stream_text);
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(GString) log = g_string_new(NULL);
	size_t pos = 0;
	int expected_events = 0;
	const char *ends[] = {
		"xml:lang='en'>",   "</stream:features>", "</iq>",
		"</presence>",	    "</message>",	  "<presence/>",
		"</stream:stream>",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(ends); i++) {
		const char *hit = strstr(stream_text + pos, ends[i]);
		size_t end;
		guint lines = 0;

		ck_assert_ptr_nonnull(hit);
		end = (size_t)(hit - stream_text) + strlen(ends[i]);
		xml_reader_feed(reader, stream_text + pos, end - pos);
		pos = end;
		drain(reader, log);
		expected_events++;
		for (const char *p = log->str; *p; p++)
			lines += *p == '\n';
		ck_assert_msg(lines == (guint)expected_events,
			      "after '%s': %u events\n%s", ends[i], lines,
			      log->str);
	}
	ck_assert_uint_eq(pos, len);
	ck_assert_str_eq(log->str, stream_expected);
}
END_TEST

START_TEST(test_prompt_single_stanzas)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	const char *stanzas[] = {
		"<presence/>",
		"<r xmlns='urn:xmpp:sm:3'/>",
		"<iq type='get' id='p'><ping xmlns='urn:xmpp:ping'/></iq>",
		"<message><body>x</body></message>",
		"<a b='>'/>",
		"<a b=\">'\" c = '\">'/>",
		"<message><body><![CDATA[it's <a b='x]]></body></message>",
		"<message><body><![CDATA[]]]]><![CDATA[>]]></body></message>",
		"<message><body>a > b</body></message>",
	};
	Stanza *s = NULL;

	xml_reader_feed(reader, HEADER, strlen(HEADER));
	ck_assert_int_eq(xml_reader_next(reader, &s, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	stanza_free(s);
	for (size_t i = 0; i < G_N_ELEMENTS(stanzas); i++) {
		xml_reader_feed(reader, stanzas[i], strlen(stanzas[i]));
		ck_assert_msg(xml_reader_next(reader, &s, NULL) ==
				      XML_READER_EVENT_STANZA,
			      "%s not delivered", stanzas[i]);
		stanza_free(s);
		ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
				 XML_READER_EVENT_NONE);
	}
}
END_TEST

/* ---- content ------------------------------------------------------------ */

START_TEST(test_entities_and_refs)
{
	const char *in =
		HEADER "<message a='&amp;&#38;&lt;x&#x41;&gt;&quot;&apos;' "
		       "b='&amp;#38;' c='t&#9;n&#10;'>"
		       "<body>&amp;&#38;&#x26;&lt;&gt;&#233;&#x1D11E;</body>"
		       "</message>";
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(Stanza) m = NULL;
	Stanza *hdr = NULL;

	xml_reader_feed(reader, in, strlen(in));
	ck_assert_int_eq(xml_reader_next(reader, &hdr, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_str_eq(stanza_get_attr(hdr, "xml:lang"), "en");
	ck_assert_str_eq(stanza_get_attr(hdr, "id"), "s1");
	ck_assert_str_eq(stanza_get_name(hdr), "stream");
	ck_assert_uint_eq(stanza_get_n_children(hdr), 0);
	stanza_free(hdr);
	ck_assert_int_eq(xml_reader_next(reader, &m, NULL),
			 XML_READER_EVENT_STANZA);
	ck_assert_str_eq(stanza_get_attr(m, "a"), "&&<xA>\"'");
	ck_assert_str_eq(stanza_get_attr(m, "b"), "&#38;");
	ck_assert_str_eq(stanza_get_attr(m, "c"), "t\tn\n");
	ck_assert_str_eq(stanza_get_ns(m), "jabber:client");
	ck_assert_str_eq(stanza_get_text(stanza_get_child(m, "body", NULL)),
			 "&&&<>\xc3\xa9\xf0\x9d\x84\x9e");
}
END_TEST

START_TEST(test_default_namespace)
{
	/*
	 * No default namespace on the header: stanzas are jabber:client,
	 * children inherit, prefixed ones resolve.
	 */
	const char *in =
		"<stream:stream "
		"xmlns:stream='http://etherx.jabber.org/streams'>"
		"<message><body/><p:x xmlns:p='urn:p'><y/></p:x></message>"
		"<stream:error><conflict "
		"xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(Stanza) m = NULL;
	g_autoptr(Stanza) e = NULL;
	Stanza *x;

	xml_reader_feed(reader, in, strlen(in));
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &m, NULL),
			 XML_READER_EVENT_STANZA);
	ck_assert_str_eq(stanza_get_ns(m), "jabber:client");
	ck_assert_str_eq(stanza_get_ns(stanza_get_child(m, "body", NULL)),
			 "jabber:client");
	x = stanza_get_child(m, "x", "urn:p");
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(stanza_get_ns(stanza_get_first_child(x)),
			 "jabber:client");
	ck_assert_int_eq(xml_reader_next(reader, &e, NULL),
			 XML_READER_EVENT_STANZA);
	ck_assert_str_eq(stanza_get_name(e), "error");
	ck_assert_str_eq(stanza_get_ns(e), "http://etherx.jabber.org/streams");
	ck_assert_ptr_nonnull(stanza_get_child(
		e, "conflict", "urn:ietf:params:xml:ns:xmpp-streams"));
}
END_TEST

START_TEST(test_utf8_declaration_ok)
{
	assert_condition("<?xml version='1.0' encoding='UTF-8'?>"
			 "<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>"
			 "<presence/>",
			 NULL, "none");
	assert_condition("<?xml version='1.0' encoding='utf-8'?>"
			 "<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "none");
}
END_TEST

/* ---- restricted XML (RFC 6120 §11.1) ------------------------------------ */

static int loader_calls;

static xmlParserInputPtr spy_loader(const char *url, const char *id,
				    xmlParserCtxtPtr ctxt)
{
	loader_calls++;
	return NULL;
}

static const char *const restricted_cases[] = {
	/* DTD with internal subset */
	"<?xml version='1.0'?><!DOCTYPE stream [<!ELEMENT stream ANY>]>"
	"<stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams'>",
	/* external subset only */
	"<!DOCTYPE stream SYSTEM 'file:///etc/passwd'>"
	"<stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams'>",
	/* external entity (XXE) */
	"<?xml version='1.0'?><!DOCTYPE s [<!ENTITY xxe SYSTEM "
	"'file:///etc/passwd'>]><stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams'>"
	"<message><body>&xxe;</body></message>",
	/* markup declarations after the stream header */
	HEADER "<presence/><!DOCTYPE x>",
	HEADER "<!ENTITY a 'b'><presence/>",
	HEADER "<message><!ELEMENT x ANY></message>",
	HEADER "<message><body><!ATTLIST x y CDATA #IMPLIED></body></message>",
	/* undeclared entity in text and in an attribute */
	HEADER "<message><body>&nbsp;</body></message>",
	HEADER "<message to='&foo;'/>",
	/* processing instructions, a late XML declaration */
	HEADER "<?php evil()?>",
	HEADER "<message><?pi x?></message>",
	HEADER "<presence/><?xml version='1.0'?>",
	"<?xml-stylesheet href='x'?><stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams'>",
	/* comments */
	HEADER "<!-- hi -->",
	HEADER "<message><body>a<!--x-->b</body></message>",
	HEADER "<message><body>a<!-- it's > '\" <x> -->b</body></message>",
	"<!-- before --><stream:stream xmlns='jabber:client' "
	"xmlns:stream='http://etherx.jabber.org/streams'>",
};

START_TEST(test_restricted)
{
	for (size_t i = 0; i < G_N_ELEMENTS(restricted_cases); i++)
		assert_condition(restricted_cases[i], NULL, "restricted-xml");
}
END_TEST

START_TEST(test_billion_laughs)
{
	g_autoptr(GString) in = g_string_new(
		"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>");
	xmlExternalEntityLoader old = xmlGetExternalEntityLoader();

	/* lolN is ten lol(N-1): &lol9; would be 10^9 "lol"s. */
	for (int i = 1; i <= 9; i++) {
		g_string_append_printf(in, "<!ENTITY lol%d '", i);
		for (int j = 0; j < 10; j++) {
			if (i == 1)
				g_string_append(in, "&lol;");
			else
				g_string_append_printf(in, "&lol%d;", i - 1);
		}
		g_string_append(in, "'>");
	}
	g_string_append(in, "]><stream:stream xmlns='jabber:client' "
			    "xmlns:stream='http://etherx.jabber.org/streams'>"
			    "<message><body>&lol9;</body></message>");
	loader_calls = 0;
	xmlSetExternalEntityLoader(spy_loader);
	assert_condition(in->str, NULL, "restricted-xml");
	/* The same byte by byte. */
	{
		g_autoptr(XmlReader) reader = xml_reader_new(NULL);
		g_autoptr(GString) log = g_string_new(NULL);

		for (size_t i = 0; i < in->len; i++)
			xml_reader_feed(reader, in->str + i, 1);
		drain(reader, log);
		ck_assert_str_eq(log->str, "ERROR restricted-xml\n");
	}
	xmlSetExternalEntityLoader(old);
	ck_assert_int_eq(loader_calls, 0);
}
END_TEST

START_TEST(test_xxe_no_load)
{
	const char *in =
		"<?xml version='1.0'?><!DOCTYPE s SYSTEM 'file:///etc/passwd' "
		"[<!ENTITY % p SYSTEM 'file:///etc/passwd'> %p;"
		"<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>"
		"<stream:stream xmlns='jabber:client' "
		"xmlns:stream='http://etherx.jabber.org/streams'>"
		"<message><body>&xxe;</body></message>";
	xmlExternalEntityLoader old = xmlGetExternalEntityLoader();
	g_autofree char *log = NULL;

	loader_calls = 0;
	xmlSetExternalEntityLoader(spy_loader);
	log = parse_whole(in, strlen(in), NULL);
	xmlSetExternalEntityLoader(old);
	ck_assert_str_eq(log, "ERROR restricted-xml\n");
	ck_assert_int_eq(loader_calls, 0);
	ck_assert_ptr_null(strstr(log, "root:"));
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

START_TEST(test_size_limit)
{
	XmlReaderLimits lim = {.max_stanza_bytes = 1000, .max_depth = 8};
	g_autoptr(GString) in = g_string_new(HEADER);
	g_autoptr(GString) stanza = g_string_new("<message><body>");
	g_autofree char *log = NULL;

	/* A start tag that never closes. */
	g_string_append(in, "<message to='");
	for (int i = 0; i < 2000; i++)
		g_string_append_c(in, 'a');
	assert_condition(in->str, &lim, "policy-violation");

	/* A text node that never ends. */
	g_string_assign(in, HEADER "<message><body>");
	for (int i = 0; i < 2000; i++)
		g_string_append_c(in, 'b');
	assert_condition(in->str, &lim, "policy-violation");

	/* An attribute that never ends, fed byte by byte. */
	{
		g_autoptr(XmlReader) reader = xml_reader_new(&lim);
		g_autoptr(GString) l = g_string_new(NULL);
		size_t fed = 0;

		xml_reader_feed(reader, HEADER "<presence a='",
				strlen(HEADER "<presence a='"));
		drain(reader, l);
		for (fed = 0; fed < 5000 && strstr(l->str, "ERROR") == NULL;
		     fed++) {
			xml_reader_feed(reader, "x", 1);
			drain(reader, l);
		}
		ck_assert_ptr_nonnull(strstr(l->str, "ERROR policy-violation"));
		ck_assert_uint_lt(fed, 1000);
	}

	/*
	 * A stanza of exactly 1000 bytes passes, one of 1001 does not;
	 * the limit applies afresh to each stanza.
	 */
	while (stanza->len < 1000 - strlen("</body></message>"))
		g_string_append_c(stanza, 'c');
	g_string_append(stanza, "</body></message>");
	ck_assert_uint_eq(stanza->len, 1000);
	g_string_assign(in, HEADER);
	for (int i = 0; i < 5; i++)
		g_string_append(in, stanza->str);
	log = parse_whole(in->str, in->len, &lim);
	ck_assert_ptr_null(strstr(log, "ERROR"));
	ck_assert_ptr_nonnull(strstr(log, "STANZA <message><body>ccc"));

	g_string_assign(in, HEADER);
	g_string_append(in, stanza->str);
	g_string_append(in, " "); /* whitespace counts toward the next */
	g_string_append(in, stanza->str);
	assert_condition(in->str, &lim, "policy-violation");
}
END_TEST

/* Peak RSS growth while parsing, as the kernel counts it. */
static long rss_kb(void)
{
	g_autofree char *status = NULL;
	const char *p;

	if (!g_file_get_contents("/proc/self/status", &status, NULL, NULL))
		return -1;
	p = strstr(status, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/*
 * The tree budget: 16 MiB of empty child elements would be ~470 MB of
 * tree; it ends as policy-violation after a small part of it, with memory
 * bounded, while a 100,000-item roster (~10 MB) still parses.
 */
START_TEST(test_tree_budget)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(GString) l = g_string_new(NULL);
	g_autoptr(GString) chunk = g_string_new(NULL);
	long before = rss_kb();
	size_t fed = 0;

	xml_reader_feed(reader, HEADER "<message>", strlen(HEADER "<message>"));
	for (int i = 0; i < 16384; i++)
		g_string_append(chunk, "<a/>");
	while (fed < (size_t)16 * 1024 * 1024 && !strstr(l->str, "ERROR")) {
		xml_reader_feed(reader, chunk->str, chunk->len);
		fed += chunk->len;
		drain(reader, l);
	}
	ck_assert_ptr_nonnull(strstr(l->str, "ERROR policy-violation"));
	ck_assert_uint_lt(fed, (size_t)4 * 1024 * 1024);
	if (before > 0 && !g_getenv("LD_PRELOAD"))
		ck_assert_int_lt(rss_kb() - before, 80 * 1024);
}
END_TEST

START_TEST(test_tree_budget_roster)
{
	g_autoptr(GString) in = g_string_new(HEADER "<iq type='result' id='r'>"
						    "<query xmlns='jabber:iq:"
						    "roster' ver='v1'>");
	g_autofree char *log = NULL;

	for (unsigned i = 0; i < 100000; i++)
		g_string_append_printf(
			in,
			"<item jid='contact%06u@example.org' name='Contact "
			"number %u' subscription='both'><group>Friends</group>"
			"</item>",
			i, i);
	g_string_append(in, "</query></iq>");
	ck_assert_uint_gt(in->len, (size_t)9 * 1000 * 1000);
	log = parse_whole(in->str, in->len, NULL);
	ck_assert_ptr_null(strstr(log, "ERROR"));
	ck_assert_ptr_nonnull(strstr(log, "STANZA <iq"));
}
END_TEST

static void check_splits(const char *in);

static char *many_attrs(unsigned n, bool xmlns)
{
	GString *s = g_string_new(HEADER "<presence/><message");

	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(
			s, xmlns ? " xmlns:p%u='urn:%u'" : " a%u = \"%u\"", i,
			i);
	g_string_append(s, "/>");
	return g_string_free(s, FALSE);
}

START_TEST(test_attr_limit)
{
	g_autofree char *ok = many_attrs(XML_READER_DEFAULT_MAX_ATTRS, false);
	g_autofree char *bad =
		many_attrs(XML_READER_DEFAULT_MAX_ATTRS + 1, false);
	g_autofree char *bad_ns =
		many_attrs(XML_READER_DEFAULT_MAX_ATTRS + 1, true);
	g_autofree char *huge = many_attrs(500000, false);
	g_autofree char *log = NULL;
	/* The stream header has 6 attributes. */
	XmlReaderLimits lim = {.max_attrs = 6};
	gint64 start;

	assert_condition(ok, NULL, "none");
	assert_condition(bad, NULL, "policy-violation");
	assert_condition(bad_ns, NULL, "policy-violation");
	assert_condition(HEADER "<a a='' b='' c='' d='' e='' f=''/>", &lim,
			 "none");
	assert_condition(HEADER "<a a='' b='' c='' d='' e='' f='' g=''/>", &lim,
			 "policy-violation");
	/* '=' inside values and text does not count. */
	assert_condition(HEADER "<a x='=1=' y=\"==\" z='' a='' b='' c=''>"
				"a=b=c=d=e=f=g</a>",
			 &lim, "none");
	/* Refused without libxml2's quadratic duplicate check running. */
	start = g_get_monotonic_time();
	log = parse_whole(huge, strlen(huge), NULL);
	ck_assert_str_eq(log, "OPEN <stream xmlns='http://etherx.jabber.org/"
			      "streams' from='example.com' id='s1' "
			      "version='1.0' xml:lang='en'/>\n"
			      "STANZA <presence/>\n"
			      "ERROR policy-violation\n");
	ck_assert_int_lt(g_get_monotonic_time() - start, 5 * G_USEC_PER_SEC);
	check_splits(bad);
}
END_TEST

static char *nested(unsigned depth)
{
	GString *s = g_string_new(HEADER);

	for (unsigned i = 0; i < depth; i++)
		g_string_append(s, "<a>");
	for (unsigned i = 0; i < depth; i++)
		g_string_append(s, "</a>");
	return g_string_free(s, FALSE);
}

START_TEST(test_depth_limit)
{
	g_autofree char *ok = nested(XML_READER_DEFAULT_MAX_DEPTH);
	g_autofree char *bad = nested(XML_READER_DEFAULT_MAX_DEPTH + 1);
	g_autofree char *deep = nested(100000);
	XmlReaderLimits lim = {.max_depth = 3};
	g_autofree char *ok3 = nested(3);
	g_autofree char *bad3 = nested(4);

	assert_condition(ok, NULL, "none");
	assert_condition(bad, NULL, "policy-violation");
	assert_condition(deep, NULL, "policy-violation");
	assert_condition(ok3, &lim, "none");
	assert_condition(bad3, &lim, "policy-violation");
}
END_TEST

/* ---- encodings and malformed input -------------------------------------- */

START_TEST(test_encoding)
{
	assert_condition("<?xml version='1.0' encoding='ISO-8859-1'?>"
			 "<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "unsupported-encoding");
	assert_condition("<?xml version='1.0' encoding='UTF-16'?>"
			 "<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "unsupported-encoding");
	assert_condition("<?xml version='1.0' encoding='x-no-such'?>"
			 "<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "unsupported-encoding");
}
END_TEST

START_TEST(test_utf16_bom)
{
	/* "<s" in UTF-16LE after a BOM. */
	static const char in[] = "\xff\xfe<\0s\0t\0r\0e\0a\0m\0>\0";
	g_autofree char *log = parse_whole(in, sizeof(in) - 1, NULL);

	ck_assert_str_eq(log, "ERROR unsupported-encoding\n");
}
END_TEST

START_TEST(test_bad_utf8_and_nul)
{
	static const char nul[] = HEADER "<message><body>a\0b</body></message>";
	g_autofree char *log = NULL;

	assert_condition(HEADER "<message><body>\xff</body></message>", NULL,
			 "not-well-formed");
	assert_condition(HEADER "<message><body>\xc3(</body></message>", NULL,
			 "not-well-formed");
	assert_condition(HEADER "<message to='\xed\xa0\x80'/>", NULL,
			 "not-well-formed");
	log = parse_whole(nul, sizeof(nul) - 1, NULL);
	ck_assert_ptr_nonnull(strstr(log, "ERROR not-well-formed\n"));
	ck_assert_ptr_null(strstr(log, "STANZA"));
}
END_TEST

/* The message becomes one log line and StateMessage: no line breaks. */
START_TEST(test_error_message_one_line)
{
	static const char bad[] = HEADER "<message><body>\xc3(\xff\xfe</body>";
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(GError) error = NULL;
	XmlReaderEvent ev;

	xml_reader_feed(reader, bad, sizeof(bad) - 1);
	do {
		g_autoptr(Stanza) st = NULL;

		ev = xml_reader_next(reader, &st, &error);
	} while (ev != XML_READER_EVENT_ERROR && ev != XML_READER_EVENT_NONE);
	ck_assert_int_eq(ev, XML_READER_EVENT_ERROR);
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_null(strpbrk(error->message, "\r\n\t"));
}
END_TEST

static const char *const malformed_cases[] = {
	HEADER "<message></presence>",
	HEADER "<message a='1' a='2'/>",
	HEADER "<message a=1/>",
	HEADER "<message type=chat'><body/></message>",
	HEADER "<message to='a<b'/><presence/>",
	HEADER "<message to=\"a'<b\"/>",
	HEADER "<1message/>",
	HEADER "</stream:features>",
	HEADER "<message>&#0;</message>",
	HEADER "<message>&#xD800;</message>",
	HEADER "<message>&#x1;</message>",
	HEADER "<presence/><presence xml:lang='en' xml:lang='de'/>",
	("<stream:stream xmlns:stream='http://etherx.jabber.org/"
	 "streams' xmlns:stream='http://etherx.jabber.org/streams'>"),
};

START_TEST(test_not_well_formed)
{
	for (size_t i = 0; i < G_N_ELEMENTS(malformed_cases); i++)
		assert_condition(malformed_cases[i], NULL, "not-well-formed");
}
END_TEST

/* Errors too come out the same, after the same stanzas, at every split. */
static void check_splits(const char *in)
{
	size_t len = strlen(in);
	g_autofree char *whole = parse_whole(in, len, NULL);

	for (size_t i = 0; i <= len; i++) {
		g_autofree char *log = parse_chunks(in, len, &i, 1);

		ck_assert_msg(strcmp(log, whole) == 0,
			      "split at %zu of %s:\n%s\nwhole:\n%s", i, in, log,
			      whole);
	}
	{
		g_autofree size_t *cuts = g_new(size_t, len);
		g_autofree char *log = NULL;

		for (size_t i = 0; i < len; i++)
			cuts[i] = i;
		log = parse_chunks(in, len, cuts, len);
		ck_assert_msg(strcmp(log, whole) == 0, "bytewise %s:\n%s", in,
			      log);
	}
}

START_TEST(test_error_splits)
{
	for (size_t i = 0; i < G_N_ELEMENTS(restricted_cases); i++)
		check_splits(restricted_cases[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(malformed_cases); i++)
		check_splits(malformed_cases[i]);
}
END_TEST

START_TEST(test_namespaces)
{
	assert_condition("<stream:stream xmlns='jabber:client' "
			 "xmlns:stream='http://wrong.example/streams'>",
			 NULL, "invalid-namespace");
	assert_condition("<stream xmlns='jabber:client'>", NULL,
			 "invalid-namespace");
	assert_condition("<stream:foo xmlns='jabber:client' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "invalid-namespace");
	assert_condition("<stream:stream xmlns='jabber:server' "
			 "xmlns:stream='http://etherx.jabber.org/streams'>",
			 NULL, "invalid-namespace");
	assert_condition("<stream:stream xmlns='jabber:client'>", NULL,
			 "bad-namespace-prefix");
	assert_condition(HEADER "<foo:message/>", NULL, "bad-namespace-prefix");
	assert_condition(HEADER "<message><x:y/></message>", NULL,
			 "bad-namespace-prefix");
}
END_TEST

/* ---- lifecycle ---------------------------------------------------------- */

START_TEST(test_nothing_after_error)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(GString) log = g_string_new(NULL);
	const char *in = HEADER "<presence/><!-- x --><presence/>";

	xml_reader_feed(reader, in, strlen(in));
	xml_reader_feed(reader, "<presence/>", strlen("<presence/>"));
	drain(reader, log);
	ck_assert(g_str_has_suffix(
		log->str, "STANZA <presence/>\nERROR restricted-xml\n"));
	xml_reader_feed(reader, "<presence/>", strlen("<presence/>"));
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_NONE);

	/* A reset starts afresh. */
	xml_reader_reset(reader);
	g_string_truncate(log, 0);
	xml_reader_feed(reader, stream_text, strlen(stream_text));
	drain(reader, log);
	ck_assert_str_eq(log->str, stream_expected);
}
END_TEST

START_TEST(test_restart)
{
	/*
	 * STARTTLS: everything after <proceed/> belongs to the TLS layer;
	 * the session resets and feeds the new stream.
	 */
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(Stanza) s = NULL;
	const char *in = HEADER "<proceed xmlns='urn:ietf:params:xml:ns:"
				"xmpp-tls'/>\x16\x03\x01garbage";
	g_autoptr(GString) log = g_string_new(NULL);

	xml_reader_feed(reader, in, strlen(in));
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &s, NULL),
			 XML_READER_EVENT_STANZA);
	ck_assert_str_eq(stanza_get_name(s), "proceed");
	xml_reader_reset(reader);
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_NONE);
	xml_reader_feed(reader, stream_text, strlen(stream_text));
	drain(reader, log);
	ck_assert_str_eq(log->str, stream_expected);
}
END_TEST

START_TEST(test_after_close)
{
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(GString) log = g_string_new(NULL);
	const char *in = HEADER "<presence/></stream:stream><junk";

	xml_reader_feed(reader, in, strlen(in));
	xml_reader_feed(reader, "more junk", 9);
	drain(reader, log);
	ck_assert(g_str_has_suffix(log->str, "STANZA <presence/>\nCLOSE\n"));
}
END_TEST

START_TEST(test_unpopped_events_freed)
{
	/*
	 * Events nobody pops are freed by reset and free (valgrind and
	 * LeakSanitizer check this).
	 */
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);

	for (int round = 0; round < 2; round++) {
		xml_reader_feed(reader, HEADER, strlen(HEADER));
		for (int i = 0; i < 1000; i++)
			xml_reader_feed(reader, "<presence><show>x</show>",
					strlen("<presence><show>x</show>"));
		xml_reader_feed(reader, "</presence>", 11);
		xml_reader_feed(reader, "<message><body>unfinished", 25);
		if (round == 0)
			xml_reader_reset(reader);
	}
}
END_TEST

/*
 * The fuzzing seeds double as regression inputs: each must give the same
 * events whole, byte by byte and at every split.
 */
START_TEST(test_fuzz_corpus)
{
	const char *top = g_getenv("top_srcdir");
	g_autofree char *dir_path = NULL;
	g_autoptr(GDir) dir = NULL;
	const char *name;
	int n = 0;

	if (top == NULL)
		top = "..";
	dir_path = g_build_filename(top, "tests", "fuzz", "corpus",
				    "xml-reader", NULL);
	dir = g_dir_open(dir_path, 0, NULL);
	ck_assert_msg(dir != NULL, "no corpus at %s", dir_path);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(dir_path, name, NULL);
		g_autofree char *data = NULL;
		gsize len;

		ck_assert(g_file_get_contents(path, &data, &len, NULL));
		/* The first byte is the fuzzer's split position. */
		if (len < 2 || memchr(data + 1, '\0', len - 1) != NULL)
			continue;
		check_splits(data + 1);
		n++;
	}
	ck_assert_int_gt(n, 8);
}
END_TEST

START_TEST(test_error_condition_names)
{
	ck_assert_str_eq(
		xml_reader_error_condition(XML_READER_ERROR_NOT_WELL_FORMED),
		"not-well-formed");
	ck_assert_str_eq(
		xml_reader_error_condition(XML_READER_ERROR_RESTRICTED_XML),
		"restricted-xml");
	ck_assert_str_eq(
		xml_reader_error_condition(XML_READER_ERROR_POLICY_VIOLATION),
		"policy-violation");
	ck_assert_str_eq(
		xml_reader_error_condition(XML_READER_ERROR_INVALID_NAMESPACE),
		"invalid-namespace");
	ck_assert_str_eq(xml_reader_error_condition(
				 XML_READER_ERROR_BAD_NAMESPACE_PREFIX),
			 "bad-namespace-prefix");
	ck_assert_str_eq(xml_reader_error_condition(
				 XML_READER_ERROR_UNSUPPORTED_ENCODING),
			 "unsupported-encoding");
	xml_reader_free(NULL);
}
END_TEST

/* ---- big stanzas -------------------------------------------------------- */

static GString *big_roster(unsigned items)
{
	GString *s = g_string_new(HEADER "<iq type='result' id='roster1'>"
					 "<query xmlns='jabber:iq:roster'>");

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

static void check_roster(XmlReader *reader, unsigned items)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *q;
	Stanza *last = NULL;

	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &iq, NULL),
			 XML_READER_EVENT_STANZA);
	q = stanza_get_child(iq, "query", "jabber:iq:roster");
	ck_assert_ptr_nonnull(q);
	ck_assert_uint_eq(stanza_get_n_children(q), items);
	for (Stanza *c = stanza_get_first_child(q); c;
	     c = stanza_get_next_sibling(c))
		last = c;
	{
		g_autofree char *want =
			g_strdup_printf("contact%06u@example.org", items - 1);

		ck_assert_str_eq(stanza_get_attr(last, "jid"), want);
	}
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_NONE);
}

START_TEST(test_big_roster_whole)
{
	g_autoptr(GString) in = big_roster(100000);
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);

	ck_assert_uint_gt(in->len, 10 * 1000 * 1000);
	ck_assert_uint_lt(in->len, XML_READER_DEFAULT_MAX_STANZA_BYTES);
	xml_reader_feed(reader, in->str, in->len);
	check_roster(reader, 100000);
}
END_TEST

/* Feeds a roster of n items in 4 KB chunks; returns the time taken. */
static gint64 feed_roster_chunks(size_t n)
{
	g_autoptr(GString) in = big_roster(n);
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	gint64 start = g_get_monotonic_time();

	for (size_t pos = 0; pos < in->len; pos += 4096)
		xml_reader_feed(reader, in->str + pos,
				MIN(4096, in->len - pos));
	check_roster(reader, n);
	return g_get_monotonic_time() - start;
}

START_TEST(test_big_roster_chunks)
{
	gint64 small = G_MAXINT64, big = G_MAXINT64;

	/*
	 * Linear, judged by a ratio rather than a wall-clock bound (which
	 * flakes under valgrind or load): 4x the items should take about 4x
	 * the time; quadratic behaviour would take 16x. Best of two runs.
	 */
	for (int i = 0; i < 2; i++) {
		small = MIN(small, feed_roster_chunks(25000));
		big = MIN(big, feed_roster_chunks(100000));
	}
	ck_assert_msg(big < 10 * MAX(small, 1000),
		      "100,000 items took %" G_GINT64_FORMAT
		      " us, 25,000 took %" G_GINT64_FORMAT " us",
		      big, small);
}
END_TEST

START_TEST(test_long_attribute_chunks)
{
	/*
	 * One 8 MB attribute value full of '>' (legal there), fed in 4 KB
	 * chunks: must stay linear too.
	 */
	g_autoptr(GString) in = g_string_new(HEADER "<message x='");
	g_autoptr(XmlReader) reader = xml_reader_new(NULL);
	g_autoptr(Stanza) m = NULL;

	while (in->len < 8 * 1024 * 1024)
		g_string_append(in, "0123456789abcde>");
	g_string_append(in, "'/>");
	for (size_t pos = 0; pos < in->len; pos += 4096)
		xml_reader_feed(reader, in->str + pos,
				MIN(4096, in->len - pos));
	ck_assert_int_eq(xml_reader_next(reader, NULL, NULL),
			 XML_READER_EVENT_STREAM_OPEN);
	ck_assert_int_eq(xml_reader_next(reader, &m, NULL),
			 XML_READER_EVENT_STANZA);
	ck_assert_uint_eq(strlen(stanza_get_attr(m, "x")),
			  in->len - strlen(HEADER "<message x='") - 3);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"splits", test_whole, .timeout = 120},
		{"splits", test_every_split},
		{"splits", test_every_double_split},
		{"splits", test_byte_by_byte},
		{"splits", test_random_splits},
		{"prompt-delivery", test_prompt_delivery},
		{"prompt-delivery", test_prompt_single_stanzas},
		{"content", test_entities_and_refs},
		{"content", test_default_namespace},
		{"content", test_utf8_declaration_ok},
		{"restricted-xml", test_restricted},
		{"restricted-xml", test_billion_laughs},
		{"restricted-xml", test_xxe_no_load},
		{"limits", test_size_limit, .timeout = 60},
		{"limits", test_depth_limit},
		{"limits", test_attr_limit},
		{"tree-budget", test_tree_budget, .timeout = 120},
		{"tree-budget", test_tree_budget_roster, .timeout = 120},
		{"encoding", test_encoding},
		{"encoding", test_utf16_bom},
		{"encoding", test_bad_utf8_and_nul},
		{"encoding", test_error_message_one_line},
		{"malformed", test_not_well_formed},
		{"malformed", test_namespaces},
		{"malformed", test_error_splits},
		{"lifecycle", test_nothing_after_error},
		{"lifecycle", test_restart},
		{"lifecycle", test_after_close},
		{"lifecycle", test_error_condition_names},
		{"lifecycle", test_unpopped_events_freed},
		{"lifecycle", test_fuzz_corpus},
		{"big-stanzas", test_big_roster_whole, .timeout = 300},
		{"big-stanzas", test_big_roster_chunks},
		{"big-stanzas", test_long_attribute_chunks},
	};
	int status;

	status = check_suite_run("xml-reader", cases, G_N_ELEMENTS(cases), 30);
	xmlCleanupParser();
	return status;
}
