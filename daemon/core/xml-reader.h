/* SPDX-License-Identifier: MIT */
/*
 * The incremental XMPP stream reader: libxml2's SAX2 push parser fed
 * whatever bytes arrive, yielding one Stanza per top-level child of
 * <stream:stream>. Output is correct for input split at any byte.
 *
 * Restricted XML (RFC 6120 §11.1): a DTD, an entity declaration, an entity
 * reference beyond the five predefined (and character references), a
 * processing instruction or a comment is a stream error (restricted-xml) and
 * is never expanded. A stanza over max_stanza_bytes of raw input (counted
 * from the end of the previous top-level tag, whitespace included, so a
 * start tag or text that never ends hits it too), nested
 * deeper than max_depth or with an element of more than max_attrs
 * attributes is policy-violation. The ERROR event is queued once, after
 * the events that preceded the fault; after it, and after STREAM_CLOSE,
 * the reader ignores input and yields nothing more until
 * xml_reader_reset().
 *
 * The reader never calls back: feed bytes, then pop events in order. This
 * lets the session drop what follows <proceed/> and reset for the new stream
 * (after STARTTLS and SASL) without re-entering libxml2.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/presence-record.h"
#include "core/stanza.h"

#define XML_READER_ERROR (xml_reader_error_quark())
GQuark xml_reader_error_quark(void);

/* Each code maps to an RFC 6120 §4.9.3 stream error condition. */
typedef enum {
	XML_READER_ERROR_NOT_WELL_FORMED,      /* not-well-formed */
	XML_READER_ERROR_RESTRICTED_XML,       /* restricted-xml */
	XML_READER_ERROR_POLICY_VIOLATION,     /* policy-violation */
	XML_READER_ERROR_INVALID_NAMESPACE,    /* invalid-namespace */
	XML_READER_ERROR_BAD_NAMESPACE_PREFIX, /* bad-namespace-prefix */
	XML_READER_ERROR_UNSUPPORTED_ENCODING, /* unsupported-encoding */
} XmlReaderError;

/* The stream error condition name for an XML_READER_ERROR code. */
const char *xml_reader_error_condition(XmlReaderError code);

typedef enum {
	XML_READER_EVENT_NONE,	      /* nothing queued: feed more bytes */
	XML_READER_EVENT_STREAM_OPEN, /* <stream:stream ...>: stanza = header */
	XML_READER_EVENT_STANZA,      /* a complete top-level element */
	XML_READER_EVENT_STREAM_CLOSE, /* </stream:stream> */
	XML_READER_EVENT_ERROR,	       /* error set; the stream is unusable */
	XML_READER_EVENT_PRESENCE, /* a <presence/> as a record: see below */
} XmlReaderEvent;

/*
 * A zero field takes its default. max_attrs counts xmlns declarations too;
 * it exists because libxml2 checks for duplicates in quadratic time.
 */
typedef struct {
	size_t max_stanza_bytes; /* default 16 MiB: a 100k roster is ~10 MB */
	unsigned max_depth;	 /* default 32, counting the stanza as 1 */
	unsigned max_attrs;	 /* per element, default 64 */
	/*
	 * Memory of the tree being built (an estimate: element records,
	 * names, attributes, text, allocator overhead). Bytes on the wire
	 * are not enough: 16 MiB of "<a/>" would be ~470 MB of tree. Over it
	 * the stream ends with policy-violation. Default 48 MiB: a
	 * 100,000-item roster (~10 MB on the wire) needs about a third.
	 */
	size_t max_tree_bytes;
} XmlReaderLimits;

#define XML_READER_DEFAULT_MAX_STANZA_BYTES ((size_t)16 * 1024 * 1024)
#define XML_READER_DEFAULT_MAX_DEPTH 32u
#define XML_READER_DEFAULT_MAX_ATTRS 64u
#define XML_READER_DEFAULT_MAX_TREE_BYTES ((size_t)48 * 1024 * 1024)

/* limits NULL: the defaults. Transfer full. */
typedef struct _XmlReader XmlReader;
XmlReader *xml_reader_new(const XmlReaderLimits *limits);
void xml_reader_free(XmlReader *reader);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmlReader, xml_reader_free)

/* Forget everything (parser state, queued events): a new stream follows. */
void xml_reader_reset(XmlReader *reader);

/*
 * The presence path (off by default; kept across resets). On, a top-level
 * <presence/> in jabber:client with no type or type 'unavailable' (the
 * flood a session lives on) is not built as a tree: the reader gathers
 * its PresenceRecord straight from the SAX events and queues a PRESENCE
 * event instead of a STANZA. Every other stanza, and every presence of
 * another type or namespace, is a STANZA as before. The checks are the
 * same on both paths: the RFC 6120 §11 restrictions, the stanza size,
 * depth and attribute limits, and max_tree_bytes, charged for each
 * element and text exactly as the tree would be, so the same bytes fail
 * the same way with the same error. Only callers of
 * xml_reader_next_full() may turn it on.
 */
void xml_reader_set_presence_path(XmlReader *reader, bool on);

/* Parses data; complete events are queued for xml_reader_next(). */
void xml_reader_feed(XmlReader *reader, const char *data, size_t len);

/*
 * Pops the next event. STREAM_OPEN and STANZA set *ret_stanza (transfer
 * full; for STREAM_OPEN it is the header element with its attributes and no
 * children). ERROR sets *ret_error. Either out-pointer may be NULL to
 * discard.
 */
XmlReaderEvent xml_reader_next(XmlReader *reader, Stanza **ret_stanza,
			       GError **ret_error);

/*
 * The same, and PRESENCE sets *ret_record (transfer full: give it back
 * with xml_reader_recycle(), which lets the next presence reuse its
 * buffers, or free it). ret_record NULL discards it.
 */
XmlReaderEvent xml_reader_next_full(XmlReader *reader, Stanza **ret_stanza,
				    PresenceRecord **ret_record,
				    GError **ret_error);
/* NULL-safe. */
void xml_reader_recycle(XmlReader *reader, PresenceRecord *record);
