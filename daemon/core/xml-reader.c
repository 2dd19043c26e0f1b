/* SPDX-License-Identifier: MIT */
/*
 * The stream reader on libxml2's SAX2 push parser.
 *
 * libxml2 is trusted with tokenizing only: every construct RFC 6120 §11.1
 * forbids has a SAX handler here that turns it into restricted-xml, no
 * entity is ever declared or expanded (no XML_PARSE_NOENT, no DTD loading,
 * no network), and the resource limits are ours, counted on raw input, so
 * the parser runs with XML_PARSE_HUGE to keep its own limits from firing
 * first with a less precise error.
 *
 * Callbacks never free libxml2's input (xmlStopParser() in 2.9 frees the
 * buffer a caller up the stack may still point into): on error they mark
 * the context halted, and the context is freed once xmlParseChunk()
 * returns.
 */
#include "config.h"

#include <string.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "core/xml-lexer.h"
#include "core/xml-reader.h"

/* clang-format off */
G_DEFINE_QUARK(xml-reader-error-quark, xml_reader_error)
/* clang-format on */

#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_CLIENT "jabber:client"

/*
 * Bytes handed to libxml2 per call: small enough to bound the tree built
 * before a size check, big enough that libxml2's per-call rescans of an
 * unfinished tag stay few.
 */
#define FEED_SLICE ((size_t)1024 * 1024)

/*
 * Presence records kept for reuse (xml_reader_recycle): as many as one
 * 16 KiB slice of the stream (xmpp-stream.c hands over no more before it
 * drains the events) holds presences of ~250 bytes. Fewer, and a flood of
 * ~500-byte presences made a new record for most of them.
 */
#define SPARE_RECORDS 64u

/* A held-back buffer bigger than this is freed rather than kept. */
#define HELD_KEEP ((size_t)64 * 1024)

/*
 * libxml2's own cap on its name dictionary, which XML_PARSE_HUGE lifts:
 * names a peer invents are interned for the life of the stream.
 */
#define DICT_LIMIT ((size_t)10000000)

typedef struct {
	XmlReaderEvent type;
	Stanza *stanza;
	PresenceRecord *record;
	GError *error;
} Event;

struct _XmlReader {
	XmlReaderLimits limits;
	xmlParserCtxtPtr ctxt; /* NULL until fed, and after an error */
	/*
	 * Events in order from events_head on: Event records in place, not
	 * one allocation (and a queue link) per stanza. Emptied whenever the
	 * last is taken, so it holds at most one feed's events.
	 */
	GArray *events;
	guint events_head;
	Stanza *stanza;		/* top-level element being built */
	Stanza *cursor;		/* innermost open element of it */
	unsigned depth;		/* open elements; the stream header is 1 */
	size_t tree_bytes;	/* estimated memory of reader->stanza */
	bool presence_path;	/* xml_reader_set_presence_path() */
	PresenceRecord *record; /* the presence being gathered, or NULL */
	bool record_text;	/* in a child whose text it keeps */
	GPtrArray *spare;	/* records given back, for reuse */
	uint64_t fed;		/* bytes handed to libxml2 since the reset */
	uint64_t boundary;	/* offset just past the last top-level tag */
	char *held; /* fed but not yet given to libxml2 (no tag end in it) */
	size_t held_len;
	size_t held_alloc;
	XmlLexer lexer; /* where markup ends in what was fed */
	bool failed;	/* an error is queued: ignore everything */
	bool closed;	/* </stream:stream> seen */
};

static const char *const condition_names[] = {
	[XML_READER_ERROR_NOT_WELL_FORMED] = "not-well-formed",
	[XML_READER_ERROR_RESTRICTED_XML] = "restricted-xml",
	[XML_READER_ERROR_POLICY_VIOLATION] = "policy-violation",
	[XML_READER_ERROR_INVALID_NAMESPACE] = "invalid-namespace",
	[XML_READER_ERROR_BAD_NAMESPACE_PREFIX] = "bad-namespace-prefix",
	[XML_READER_ERROR_UNSUPPORTED_ENCODING] = "unsupported-encoding",
};

const char *xml_reader_error_condition(XmlReaderError code)
{
	if ((size_t)code >= G_N_ELEMENTS(condition_names))
		return "undefined-condition";
	return condition_names[code];
}

/* Queues an event; record (transfer full) for PRESENCE, else NULL. */
static void push_event(XmlReader *reader, XmlReaderEvent type, Stanza *stanza,
		       PresenceRecord *record, GError *error)
{
	Event ev = {.type = type,
		    .stanza = stanza,
		    .record = record,
		    .error = error};

	g_array_append_val(reader->events, ev);
}

static void event_clear(Event *ev)
{
	stanza_free(ev->stanza);
	presence_record_free(ev->record);
	if (ev->error != NULL)
		g_error_free(ev->error);
}

static void clear_events(XmlReader *reader)
{
	for (guint i = reader->events_head; i < reader->events->len; i++)
		event_clear(&g_array_index(reader->events, Event, i));
	g_array_set_size(reader->events, 0);
	reader->events_head = 0;
}

/*
 * Stops parsing without freeing libxml2's input under its feet; see the
 * comment at the top.
 */
static void halt(XmlReader *reader)
{
	if (reader->ctxt != NULL) {
		reader->ctxt->disableSAX = 1;
		reader->ctxt->instate = XML_PARSER_EOF;
	}
}

static void fail(XmlReader *reader, XmlReaderError code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static void fail(XmlReader *reader, XmlReaderError code, const char *fmt, ...)
{
	va_list ap;
	GError *error;

	if (reader->failed || reader->closed)
		return;
	va_start(ap, fmt);
	error = g_error_new_valist(XML_READER_ERROR, (int)code, fmt, ap);
	va_end(ap);
	g_debug("xml-reader: %s: %s", xml_reader_error_condition(code),
		error->message);
	reader->failed = true;
	stanza_free(reader->stanza);
	reader->stanza = NULL;
	reader->cursor = NULL;
	xml_reader_recycle(reader, g_steal_pointer(&reader->record));
	push_event(reader, XML_READER_EVENT_ERROR, NULL, NULL, error);
	halt(reader);
}

static uint64_t consumed(XmlReader *reader)
{
	long n = xmlByteConsumed(reader->ctxt);

	return n < 0 ? reader->fed : (uint64_t)n;
}

/* ---- SAX2 handlers ------------------------------------------------------ */

static bool is_utf8_name(const char *name)
{
	return g_ascii_strcasecmp(name, "UTF-8") == 0;
}

static void on_start_document(void *user_data)
{
	XmlReader *reader = user_data;
	xmlParserInputPtr input = reader->ctxt->input;

	/*
	 * RFC 6120 §11.6: UTF-8 only. A declared encoding libxml2 knows has
	 * already switched the input to a converter by now; a UTF-16 BOM
	 * has done the same.
	 */
	if (input != NULL && input->encoding != NULL &&
	    !is_utf8_name((const char *)input->encoding)) {
		fail(reader, XML_READER_ERROR_UNSUPPORTED_ENCODING,
		     "stream declares encoding %s; only UTF-8 is allowed",
		     (const char *)input->encoding);
		return;
	}
	if ((input != NULL && input->buf != NULL &&
	     input->buf->encoder != NULL) ||
	    (reader->ctxt->encoding != NULL &&
	     !is_utf8_name((const char *)reader->ctxt->encoding)))
		fail(reader, XML_READER_ERROR_UNSUPPORTED_ENCODING,
		     "stream is not encoded in UTF-8");
}

/*
 * SAX2 hands attribute values over with "&" written as "&#38;" when entity
 * substitution is off (libxml2 keeps them for re-parsing by its tree
 * builder). Any other '&' cannot occur, so decoding is unambiguous.
 */
static char *decode_amp(const char *s, size_t len, size_t *ret_len)
{
	char *out = g_malloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '&' && len - i >= 5 &&
		    memcmp(s + i, "&#38;", 5) == 0) {
			out[n++] = '&';
			i += 4;
			continue;
		}
		out[n++] = s[i];
	}
	out[n] = '\0';
	*ret_len = n;
	return out;
}

/* Attributes kept on the stack up to this many; the lexer caps them. */
#define ATTRS_ON_STACK 16

/*
 * All of an element's attributes go in with one allocation
 * (stanza_set_attrs_packed): a presence stanza has a dozen, and one block
 * each was a good part of the allocator's work in a flood.
 */
static void set_attrs(Stanza *el, int nb_attributes, const xmlChar **attrs)
{
	const char *names_stack[ATTRS_ON_STACK];
	const char *values_stack[ATTRS_ON_STACK];
	size_t lens_stack[ATTRS_ON_STACK];
	g_autofree const char **names_heap = NULL;
	g_autofree const char **values_heap = NULL;
	g_autofree size_t *lens_heap = NULL;
	g_autoptr(GPtrArray) temps = NULL; /* decoded values, xml: names */
	const char **names = names_stack;
	const char **values = values_stack;
	size_t *lens = lens_stack;
	size_t n = 0;

	if (nb_attributes <= 0)
		return;
	if (nb_attributes > ATTRS_ON_STACK) {
		names = names_heap = g_new(const char *, nb_attributes);
		values = values_heap = g_new(const char *, nb_attributes);
		lens = lens_heap = g_new(size_t, nb_attributes);
	}
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = &attrs[5 * i];
		const char *value = (const char *)a[3];
		size_t len = (size_t)(a[4] - a[3]);

		if (a[2] == NULL) {
			names[n] = (const char *)a[0];
		} else if (a[1] != NULL &&
			   strcmp((const char *)a[1], "xml") == 0) {
			char *name =
				g_strconcat("xml:", (const char *)a[0], NULL);

			if (!temps)
				temps = g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(temps, name);
			names[n] = name;
		} else {
			/*
			 * Other namespaced attributes carry nothing XMPP
			 * core needs and could shadow plain ones: dropped.
			 */
			continue;
		}
		if (memchr(value, '&', len) != NULL) {
			char *decoded = decode_amp(value, len, &len);

			if (!temps)
				temps = g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(temps, decoded);
			value = decoded;
		}
		values[n] = value;
		lens[n] = len;
		n++;
	}
	stanza_set_attrs_packed(el, n, names, values, lens);
}

static void on_stream_open(XmlReader *reader, const char *localname,
			   const char *prefix, const char *uri,
			   int nb_namespaces, const xmlChar **namespaces,
			   int nb_attributes, const xmlChar **attributes)
{
	xmlParserInputPtr input = reader->ctxt->input;
	Stanza *header;

	/* RFC 6120 §4.8.1, §4.9.3.10. */
	if (g_strcmp0(uri, NS_STREAMS) != 0) {
		fail(reader, XML_READER_ERROR_INVALID_NAMESPACE,
		     "stream header <%s%s%s> is not in namespace " NS_STREAMS,
		     prefix ? prefix : "", prefix ? ":" : "", localname);
		return;
	}
	if (strcmp(localname, "stream") != 0) {
		fail(reader, XML_READER_ERROR_INVALID_NAMESPACE,
		     "stream header is <%s>, not <stream>", localname);
		return;
	}
	/* RFC 6120 §4.8.2: the content namespace; we are a client. */
	for (int i = 0; i < nb_namespaces; i++) {
		const char *ns_prefix = (const char *)namespaces[2 * i];
		const char *ns_uri = (const char *)namespaces[2 * i + 1];

		if (ns_prefix == NULL && g_strcmp0(ns_uri, NS_CLIENT) != 0 &&
		    g_strcmp0(ns_uri, NS_STREAMS) != 0) {
			fail(reader, XML_READER_ERROR_INVALID_NAMESPACE,
			     "stream content namespace is %s, not " NS_CLIENT,
			     ns_uri ? ns_uri : "(empty)");
			return;
		}
	}
	if (consumed(reader) > reader->limits.max_stanza_bytes) {
		fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
		     "stream header larger than %zu bytes",
		     reader->limits.max_stanza_bytes);
		return;
	}
	header = stanza_new("stream", NS_STREAMS);
	set_attrs(header, nb_attributes, attributes);
	reader->depth = 1;
	/* libxml2 calls startElementNs with its cursor still on the '>'. */
	reader->boundary = consumed(reader);
	if (input->cur < input->end && *input->cur == '>')
		reader->boundary++;
	push_event(reader, XML_READER_EVENT_STREAM_OPEN, header, NULL, NULL);
}

/*
 * What one element costs in the tree, roughly as stanza.c allocates it:
 * the record, its name, the packed attribute block, and the allocator's
 * per-block overhead.
 */
static size_t element_cost(const xmlChar *localname, int nb_attributes,
			   const xmlChar **attrs)
{
	size_t cost = stanza_record_size() + 2 * 16 +
		      strlen((const char *)localname) + 1;

	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = &attrs[5 * i];

		cost += sizeof(char *) + strlen((const char *)a[0]) + 2 +
			(size_t)(a[4] - a[3]);
	}
	return cost;
}

/* The tree budget: false (and the stream fails) once it is spent. */
static bool charge_tree(XmlReader *reader, size_t cost)
{
	reader->tree_bytes += cost;
	if (reader->tree_bytes <= reader->limits.max_tree_bytes)
		return true;
	fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
	     "stanza would take more than %zu bytes of memory",
	     reader->limits.max_tree_bytes);
	return false;
}

/* ---- the presence path (xml_reader_set_presence_path) ---------------- */

/*
 * An attribute's value as set_attrs() keeps it: "&#38;" decoded. Returns
 * the value (in a[3], or *ret_decoded to free).
 */
static const char *attr_value(const xmlChar **a, size_t *ret_len,
			      char **ret_decoded)
{
	const char *value = (const char *)a[3];
	size_t len = (size_t)(a[4] - a[3]);

	*ret_decoded = NULL;
	if (memchr(value, '&', len) != NULL)
		value = *ret_decoded = decode_amp(value, len, &len);
	*ret_len = len;
	return value;
}

/* An attribute the tree would name without a prefix (see set_attrs). */
static bool is_plain_attr(const xmlChar **a, const char *name)
{
	return a[2] == NULL && strcmp((const char *)a[0], name) == 0;
}

static bool is_xml_lang(const xmlChar **a)
{
	return a[2] != NULL && a[1] != NULL &&
	       strcmp((const char *)a[1], "xml") == 0 &&
	       strcmp((const char *)a[0], "lang") == 0;
}

static void record_attr(PresenceRecord *record, const xmlChar **a,
			void (*set)(PresenceRecord *, const char *, size_t))
{
	g_autofree char *decoded = NULL;
	size_t len;
	const char *value = attr_value(a, &len, &decoded);

	set(record, value, len);
}

/*
 * A top-level element begins: true if it is a presence the record path
 * takes (see xml_reader_set_presence_path), which then owns it.
 */
static bool start_record(XmlReader *reader, const char *localname,
			 const char *ns, int nb_attributes,
			 const xmlChar **attrs)
{
	const xmlChar **from = NULL;
	const xmlChar **type = NULL;

	if (strcmp(localname, "presence") != 0 || strcmp(ns, NS_CLIENT) != 0)
		return false;
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = &attrs[5 * i];

		if (from == NULL && is_plain_attr(a, "from"))
			from = a;
		else if (type == NULL && is_plain_attr(a, "type"))
			type = a;
	}
	/* A literal: "unavailable" written with "&#38;" is no type. */
	if (type != NULL && (type[4] - type[3] != 11 ||
			     memcmp(type[3], "unavailable", 11) != 0))
		return false;
	reader->record =
		reader->spare != NULL && reader->spare->len > 0
			? g_ptr_array_steal_index_fast(reader->spare,
						       reader->spare->len - 1)
			: presence_record_new();
	if (from != NULL)
		record_attr(reader->record, from, presence_record_set_from);
	if (type != NULL)
		record_attr(reader->record, type, presence_record_set_type);
	reader->record_text = false;
	return true;
}

static void record_caps(PresenceRecord *record, int nb_attributes,
			const xmlChar **attrs)
{
	presence_record_set_caps_seen(record);
	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = &attrs[5 * i];
		g_autofree char *decoded = NULL;
		const char *value;
		size_t len;

		if (a[2] != NULL)
			continue;
		value = attr_value(a, &len, &decoded);
		presence_record_set_caps_attr(record, (const char *)a[0], value,
					      len);
	}
}

/* An element inside the presence being gathered (reader->depth >= 3). */
static void record_child(XmlReader *reader, const char *localname,
			 const char *ns, int nb_attributes,
			 const xmlChar **attrs)
{
	PresencePartKind kind;
	bool has_lang = false;

	/* Deeper elements are no child's own text: skipped. */
	if (reader->depth != 3)
		return;
	kind = presence_record_classify(localname, ns);
	reader->record_text = false;
	switch (kind) {
	case PRESENCE_PART_NONE:
		return;
	case PRESENCE_PART_CAPS:
		/* The first <c/> is the one, as for stanza_get_child(). */
		if (!presence_record_has_caps(reader->record))
			record_caps(reader->record, nb_attributes, attrs);
		return;
	case PRESENCE_PART_SHOW:
	case PRESENCE_PART_STATUS:
	case PRESENCE_PART_PRIORITY:
	case PRESENCE_PART_NICK:
		break;
	}
	for (int i = 0; i < nb_attributes && !has_lang; i++)
		has_lang = is_xml_lang(&attrs[5 * i]);
	presence_record_begin_part(reader->record, kind, has_lang);
	reader->record_text = true;
}

static void on_start_element(void *user_data, const xmlChar *localname,
			     const xmlChar *prefix, const xmlChar *uri,
			     int nb_namespaces, const xmlChar **namespaces,
			     int nb_attributes, int nb_defaulted,
			     const xmlChar **attributes)
{
	XmlReader *reader = user_data;
	const char *ns;
	Stanza *el;

	if (reader->failed || reader->closed)
		return;
	if (reader->depth == 0) {
		on_stream_open(reader, (const char *)localname,
			       (const char *)prefix, (const char *)uri,
			       nb_namespaces, namespaces, nb_attributes,
			       attributes);
		return;
	}
	if (reader->depth > reader->limits.max_depth) {
		fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
		     "stanza nested deeper than %u elements",
		     reader->limits.max_depth);
		return;
	}
	reader->depth++;

	/*
	 * libxml2 resolved default and prefixed namespaces; an element in
	 * no namespace at all (no default declared anywhere in scope) is in
	 * the stream's content namespace (RFC 6120 §4.8.2).
	 */
	ns = uri != NULL ? (const char *)uri : NS_CLIENT;
	if (!charge_tree(reader,
			 element_cost(localname, nb_attributes, attributes)))
		return;
	if (reader->record != NULL) {
		record_child(reader, (const char *)localname, ns, nb_attributes,
			     attributes);
		return;
	}
	if (reader->cursor == NULL && reader->presence_path &&
	    start_record(reader, (const char *)localname, ns, nb_attributes,
			 attributes))
		return;
	if (reader->cursor == NULL) {
		el = stanza_new((const char *)localname, ns);
		reader->stanza = el;
	} else {
		el = stanza_add_child_new(reader->cursor,
					  (const char *)localname, ns);
	}
	set_attrs(el, nb_attributes, attributes);
	reader->cursor = el;
}

/* The top-level element just ended: queue it. */
static void stanza_done(XmlReader *reader)
{
	uint64_t end = consumed(reader);

	/* The stanza may have ended inside the slice that took it over the
	 * limit. */
	if (end - reader->boundary > reader->limits.max_stanza_bytes) {
		fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
		     "stanza larger than %zu bytes",
		     reader->limits.max_stanza_bytes);
		return;
	}
	if (reader->record != NULL) {
		push_event(reader, XML_READER_EVENT_PRESENCE, NULL,
			   g_steal_pointer(&reader->record), NULL);
	} else {
		push_event(reader, XML_READER_EVENT_STANZA,
			   g_steal_pointer(&reader->stanza), NULL, NULL);
	}
	reader->cursor = NULL;
	reader->tree_bytes = 0;
	reader->boundary = end;
}

static void on_end_element(void *user_data, const xmlChar *localname,
			   const xmlChar *prefix, const xmlChar *uri)
{
	XmlReader *reader = user_data;

	if (reader->failed || reader->closed)
		return;
	if (reader->depth == 1) {
		/*
		 * RFC 6120 §4.4: the stream is closed; anything after it is
		 * not ours to parse.
		 */
		reader->depth = 0;
		push_event(reader, XML_READER_EVENT_STREAM_CLOSE, NULL, NULL,
			   NULL);
		reader->closed = true;
		halt(reader);
		return;
	}
	if (reader->depth == 0 ||
	    (reader->cursor == NULL && reader->record == NULL))
		return;
	reader->depth--;
	if (reader->record != NULL) {
		/* A child of the presence ended: its text is complete. */
		if (reader->depth == 2)
			reader->record_text = false;
		if (reader->depth == 1)
			stanza_done(reader);
		return;
	}
	reader->cursor = stanza_get_parent(reader->cursor);
	if (reader->depth == 1)
		stanza_done(reader);
}

static void on_characters(void *user_data, const xmlChar *text, int len)
{
	XmlReader *reader = user_data;

	/*
	 * Whitespace between stanzas (RFC 6120 §4.6.1 keepalives) and any
	 * other text outside a stanza is dropped.
	 */
	if (reader->failed ||
	    (reader->cursor == NULL && reader->record == NULL))
		return;
	if (!charge_tree(reader, (size_t)len))
		return;
	if (reader->record != NULL) {
		/* Only a kept child's own text, as stanza_get_text() has it. */
		if (reader->depth == 3 && reader->record_text)
			presence_record_append_text(reader->record,
						    (const char *)text,
						    (size_t)len);
		return;
	}
	stanza_append_text(reader->cursor, (const char *)text, len);
}

static void on_internal_subset(void *user_data, const xmlChar *name,
			       const xmlChar *external_id,
			       const xmlChar *system_id)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "document type declaration is not allowed");
}

static void on_entity_decl(void *user_data, const xmlChar *name, int type,
			   const xmlChar *public_id, const xmlChar *system_id,
			   xmlChar *content)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "entity declaration is not allowed");
}

static void on_unparsed_entity_decl(void *user_data, const xmlChar *name,
				    const xmlChar *public_id,
				    const xmlChar *system_id,
				    const xmlChar *notation_name)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "entity declaration is not allowed");
}

static void on_notation_decl(void *user_data, const xmlChar *name,
			     const xmlChar *public_id, const xmlChar *system_id)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "notation declaration is not allowed");
}

static void on_attribute_decl(void *user_data, const xmlChar *elem,
			      const xmlChar *fullname, int type, int def,
			      const xmlChar *default_value,
			      xmlEnumerationPtr tree)
{
	xmlFreeEnumeration(tree);
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "attribute list declaration is not allowed");
}

static void on_element_decl(void *user_data, const xmlChar *name, int type,
			    xmlElementContentPtr content)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "element declaration is not allowed");
}

static xmlEntityPtr on_get_entity(void *user_data, const xmlChar *name)
{
	/*
	 * Only reached for names other than the five predefined ones,
	 * which libxml2 resolves before asking.
	 */
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "entity reference &%s; is not allowed", (const char *)name);
	return NULL;
}

static xmlEntityPtr on_get_parameter_entity(void *user_data,
					    const xmlChar *name)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "parameter entity reference is not allowed");
	return NULL;
}

static xmlParserInputPtr on_resolve_entity(void *user_data,
					   const xmlChar *public_id,
					   const xmlChar *system_id)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "external entity is not allowed");
	return NULL;
}

static void on_reference(void *user_data, const xmlChar *name)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "entity reference &%s; is not allowed", (const char *)name);
}

static void on_processing_instruction(void *user_data, const xmlChar *target,
				      const xmlChar *data)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "processing instruction is not allowed");
}

static void on_comment(void *user_data, const xmlChar *value)
{
	fail(user_data, XML_READER_ERROR_RESTRICTED_XML,
	     "comment is not allowed");
}

static int on_has_subset(void *user_data)
{
	return 0;
}

static XmlReaderError classify(const xmlError *err)
{
	if (err->domain == XML_FROM_NAMESPACE &&
	    err->code == XML_NS_ERR_UNDEFINED_NAMESPACE)
		return XML_READER_ERROR_BAD_NAMESPACE_PREFIX;
	switch (err->code) {
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
	case XML_ERR_INVALID_ENCODING:
		return XML_READER_ERROR_UNSUPPORTED_ENCODING;
	case XML_ERR_UNDECLARED_ENTITY:
	case XML_WAR_UNDECLARED_ENTITY:
	case XML_ERR_ENTITY_LOOP:
	case XML_ERR_ENTITY_BOUNDARY:
	case XML_ERR_UNPARSED_ENTITY:
	case XML_ERR_ENTITY_IS_EXTERNAL:
	case XML_ERR_ENTITY_IS_PARAMETER:
	case XML_ERR_EXT_ENTITY_STANDALONE:
	case XML_ERR_DOCTYPE_NOT_FINISHED:
	case XML_ERR_PI_NOT_STARTED:
	case XML_ERR_PI_NOT_FINISHED:
	case XML_ERR_COMMENT_NOT_FINISHED:
	case XML_ERR_RESERVED_XML_NAME:
		return XML_READER_ERROR_RESTRICTED_XML;
	default:
		return XML_READER_ERROR_NOT_WELL_FORMED;
	}
}

static void on_error(void *user_data, xmlErrorPtr err)
{
	XmlReader *reader = user_data;
	g_autofree char *msg = NULL;

	/*
	 * Warnings (a relative namespace URI such as "vcard-temp", ...)
	 * are not errors in XMPP.
	 */
	if (err == NULL || err->level == XML_ERR_WARNING)
		return;
	msg = g_strdup(err->message != NULL ? err->message : "parse error");
	g_strstrip(msg);
	/* libxml2 splits some messages over lines ("...\nBytes: 0xC3");
	 * the message ends up in one log line and in StateMessage. */
	g_strdelimit(msg, "\r\n\t", ' ');
	fail(reader, classify(err), "%s (line %d)", msg, err->line);
}

static void init_sax(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startDocument = on_start_document;
	sax->startElementNs = on_start_element;
	sax->endElementNs = on_end_element;
	sax->characters = on_characters;
	sax->ignorableWhitespace = on_characters;
	sax->cdataBlock = on_characters;
	sax->internalSubset = on_internal_subset;
	sax->externalSubset = on_internal_subset;
	sax->entityDecl = on_entity_decl;
	sax->unparsedEntityDecl = on_unparsed_entity_decl;
	sax->notationDecl = on_notation_decl;
	sax->attributeDecl = on_attribute_decl;
	sax->elementDecl = on_element_decl;
	sax->getEntity = on_get_entity;
	sax->getParameterEntity = on_get_parameter_entity;
	sax->resolveEntity = on_resolve_entity;
	sax->reference = on_reference;
	sax->processingInstruction = on_processing_instruction;
	sax->comment = on_comment;
	sax->hasInternalSubset = on_has_subset;
	sax->hasExternalSubset = on_has_subset;
	sax->serror = on_error;
}

static bool ensure_ctxt(XmlReader *reader)
{
	xmlSAXHandler sax;

	if (reader->ctxt != NULL)
		return true;
	init_sax(&sax);
	reader->ctxt = xmlCreatePushParserCtxt(&sax, reader, NULL, 0, NULL);
	if (reader->ctxt == NULL) {
		fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
		     "cannot create XML parser");
		return false;
	}
	/*
	 * No XML_PARSE_NOENT (entities are never substituted), no
	 * XML_PARSE_DTDLOAD/DTDATTR/DTDVALID, no network.
	 */
	(void)xmlCtxtUseOptions(reader->ctxt, XML_PARSE_NONET | XML_PARSE_HUGE |
						      XML_PARSE_NOWARNING);
	reader->ctxt->replaceEntities = 0;
	reader->ctxt->loadsubset = 0;
	reader->ctxt->validate = 0;
	if (reader->ctxt->dict != NULL)
		xmlDictSetLimit(reader->ctxt->dict, DICT_LIMIT);
	return true;
}

static void drop_ctxt(XmlReader *reader)
{
	if (reader->ctxt == NULL)
		return;
	xmlFreeParserCtxt(reader->ctxt);
	reader->ctxt = NULL;
}

/* ---- public API --------------------------------------------------------- */

XmlReader *xml_reader_new(const XmlReaderLimits *limits)
{
	XmlReader *reader = g_new0(XmlReader, 1);

	xmlInitParser();
	if (limits != NULL)
		reader->limits = *limits;
	if (reader->limits.max_stanza_bytes == 0)
		reader->limits.max_stanza_bytes =
			XML_READER_DEFAULT_MAX_STANZA_BYTES;
	if (reader->limits.max_depth == 0)
		reader->limits.max_depth = XML_READER_DEFAULT_MAX_DEPTH;
	if (reader->limits.max_attrs == 0)
		reader->limits.max_attrs = XML_READER_DEFAULT_MAX_ATTRS;
	if (reader->limits.max_tree_bytes == 0)
		reader->limits.max_tree_bytes =
			XML_READER_DEFAULT_MAX_TREE_BYTES;
	reader->events = g_array_new(FALSE, FALSE, sizeof(Event));
	return reader;
}

void xml_reader_reset(XmlReader *reader)
{
	g_return_if_fail(reader != NULL);

	drop_ctxt(reader);
	clear_events(reader);
	stanza_free(reader->stanza);
	reader->stanza = NULL;
	reader->cursor = NULL;
	xml_reader_recycle(reader, g_steal_pointer(&reader->record));
	reader->depth = 0;
	reader->tree_bytes = 0;
	reader->fed = 0;
	reader->boundary = 0;
	g_free(reader->held);
	reader->held = NULL;
	reader->held_len = 0;
	reader->held_alloc = 0;
	xml_lexer_reset(&reader->lexer);
	reader->failed = false;
	reader->closed = false;
}

void xml_reader_free(XmlReader *reader)
{
	if (reader == NULL)
		return;
	xml_reader_reset(reader);
	g_array_unref(reader->events);
	if (reader->spare != NULL)
		g_ptr_array_unref(reader->spare);
	g_free(reader);
}

/* The bytes that can change LEX_TEXT, LEX_TAG, LEX_QUOTE or LEX_BANG. */
static void hold(XmlReader *reader, const char *data, size_t len)
{
	if (reader->held_len + len > reader->held_alloc) {
		reader->held_alloc = MAX(reader->held_alloc * 2,
					 MAX(reader->held_len + len, 4096));
		reader->held = g_realloc(reader->held, reader->held_alloc);
	}
	memcpy(reader->held + reader->held_len, data, len);
	reader->held_len += len;
}

static void release_held(XmlReader *reader)
{
	reader->held_len = 0;
	if (reader->held_alloc > HELD_KEEP) {
		g_free(reader->held);
		reader->held = NULL;
		reader->held_alloc = 0;
	}
}

static uint64_t pending_bytes(const XmlReader *reader)
{
	return reader->fed + reader->held_len - reader->boundary;
}

/* Hands data to libxml2 in slices, checking the size limit after each. */
static void parse(XmlReader *reader, const char *data, size_t len)
{
	size_t max = reader->limits.max_stanza_bytes;

	while (len > 0 && !reader->failed && !reader->closed) {
		uint64_t pending = reader->fed - reader->boundary;
		size_t room = pending < max ? (size_t)(max - pending) : 0;
		/*
		 * Never more than one byte past the limit at a time, so the
		 * check below is exact for a stanza still open.
		 */
		size_t n = MIN(len, MIN(FEED_SLICE, room + 1));

		if (!ensure_ctxt(reader))
			return;
		reader->fed += n;
		(void)xmlParseChunk(reader->ctxt, data, (int)n, 0);
		data += n;
		len -= n;
		if (!reader->failed && !reader->closed &&
		    reader->fed - reader->boundary > max)
			fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
			     "stanza larger than %zu bytes", max);
	}
}

void xml_reader_feed(XmlReader *reader, const char *data, size_t len)
{
	size_t cut;
	size_t back;

	g_return_if_fail(reader != NULL);
	g_return_if_fail(data != NULL || len == 0);

	if (reader->failed || reader->closed || len == 0)
		return;

	cut = xml_lexer_scan(&reader->lexer, reader->limits.max_attrs, data,
			     len, &back);
	if (reader->lexer.error != NULL) {
		/* Everything before the bad construct still counts. */
		reader->held_len -= MIN(back, reader->held_len);
		parse(reader, reader->held, reader->held_len);
		release_held(reader);
		parse(reader, data, cut);
		fail(reader, reader->lexer.error_code, "%s",
		     reader->lexer.error);
	} else if (cut > 0) {
		/*
		 * Two calls rather than a copy: the held part holds the
		 * start of at most one tag, so libxml2 scans it once.
		 */
		if (reader->held_len > 0) {
			parse(reader, reader->held, reader->held_len);
			release_held(reader);
		}
		parse(reader, data, cut);
	}
	if (!reader->failed && !reader->closed && cut < len) {
		hold(reader, data + cut, len - cut);
		/* A start tag or text that never ends (RFC 6120 §13.12). */
		if (pending_bytes(reader) > reader->limits.max_stanza_bytes)
			fail(reader, XML_READER_ERROR_POLICY_VIOLATION,
			     "stanza larger than %zu bytes",
			     reader->limits.max_stanza_bytes);
	}

	/*
	 * Safe now that libxml2 has returned: free what a failed or closed
	 * stream no longer needs.
	 */
	if (reader->failed || reader->closed) {
		drop_ctxt(reader);
		stanza_free(reader->stanza);
		reader->stanza = NULL;
		reader->cursor = NULL;
		xml_reader_recycle(reader, g_steal_pointer(&reader->record));
		g_free(reader->held);
		reader->held = NULL;
		reader->held_len = 0;
		reader->held_alloc = 0;
	}
}

void xml_reader_set_presence_path(XmlReader *reader, bool on)
{
	g_return_if_fail(reader != NULL);

	reader->presence_path = on;
}

void xml_reader_recycle(XmlReader *reader, PresenceRecord *record)
{
	if (record == NULL)
		return;
	if (reader->spare == NULL)
		reader->spare = g_ptr_array_new_with_free_func(
			(GDestroyNotify)presence_record_free);
	if (reader->spare->len >= SPARE_RECORDS) {
		presence_record_free(record);
		return;
	}
	presence_record_clear(record);
	g_ptr_array_add(reader->spare, record);
}

XmlReaderEvent xml_reader_next(XmlReader *reader, Stanza **ret_stanza,
			       GError **ret_error)
{
	return xml_reader_next_full(reader, ret_stanza, NULL, ret_error);
}

XmlReaderEvent xml_reader_next_full(XmlReader *reader, Stanza **ret_stanza,
				    PresenceRecord **ret_record,
				    GError **ret_error)
{
	Event *ev;
	XmlReaderEvent type;

	g_return_val_if_fail(reader != NULL, XML_READER_EVENT_NONE);

	if (reader->events_head == reader->events->len)
		return XML_READER_EVENT_NONE;
	ev = &g_array_index(reader->events, Event, reader->events_head++);
	type = ev->type;
	if (ret_stanza != NULL)
		*ret_stanza = g_steal_pointer(&ev->stanza);
	if (ret_record != NULL)
		*ret_record = g_steal_pointer(&ev->record);
	else
		xml_reader_recycle(reader, g_steal_pointer(&ev->record));
	if (ret_error != NULL && ev->error != NULL)
		g_propagate_error(ret_error, g_steal_pointer(&ev->error));
	event_clear(ev);
	if (reader->events_head == reader->events->len) {
		g_array_set_size(reader->events, 0);
		reader->events_head = 0;
	}
	return type;
}
