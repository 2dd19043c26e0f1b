/* SPDX-License-Identifier: MIT */
/*
 * An incoming <presence/> as a fixed record instead of an element tree:
 * what the stream reader's presence path (xml-reader.h,
 * xml_reader_set_presence_path) gathers straight from the SAX events, and
 * nothing else. It holds exactly what the readers of a presence look at —
 * its from and type, its <show/>, <status/>, <priority/> (each with its
 * own text, and whether it has an xml:lang) and XEP-0172 <nick/> children
 * in document order, and the attributes of its first XEP-0115 <c/> — so
 * that presence_parse_record() and the caps check give what
 * presence_parse() and caps_announcement_peek() give for the tree of the
 * same bytes. Every other child is skipped by the reader.
 *
 * A record is reused from stanza to stanza (its buffers stay allocated),
 * which is most of why it is cheaper than a tree.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
	PRESENCE_PART_NONE, /* a child nobody reads: skipped */
	PRESENCE_PART_SHOW,
	PRESENCE_PART_STATUS,
	PRESENCE_PART_PRIORITY,
	PRESENCE_PART_NICK, /* XEP-0172, in its own namespace */
	PRESENCE_PART_CAPS, /* XEP-0115 <c/> */
} PresencePartKind;

typedef struct _PresenceRecord PresenceRecord;

PresenceRecord *presence_record_new(void);
void presence_record_free(PresenceRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PresenceRecord, presence_record_free)

/* Forgets the last presence, keeping (small) buffers for the next. */
void presence_record_clear(PresenceRecord *record);

/*
 * What a child of a presence in jabber:client is, by its name and its
 * resolved namespace (never NULL: the reader resolves no namespace to
 * jabber:client, RFC 6120 §4.8.2).
 */
PresencePartKind presence_record_classify(const char *name, const char *ns);

/* ---- filling (the reader) ---------------------------------------------- */

/* from / type of the <presence/> (len bytes, need not end in NUL). */
void presence_record_set_from(PresenceRecord *record, const char *value,
			      size_t len);
void presence_record_set_type(PresenceRecord *record, const char *value,
			      size_t len);
/* A <show/>, <status/>, <priority/> or <nick/> child begins; its own text
 * follows with presence_record_append_text() until the next part. */
void presence_record_begin_part(PresenceRecord *record, PresencePartKind kind,
				bool has_lang);
void presence_record_append_text(PresenceRecord *record, const char *text,
				 size_t len);
/* The first <c/>: its node, hash and ver attributes (value NULL: absent). */
bool presence_record_has_caps(const PresenceRecord *record);
void presence_record_set_caps_attr(PresenceRecord *record, const char *name,
				   const char *value, size_t len);
void presence_record_set_caps_seen(PresenceRecord *record);

/* ---- reading ----------------------------------------------------------- */

/* NUL-terminated, or NULL when the attribute was absent. Transfer none. */
const char *presence_record_get_from(const PresenceRecord *record);
const char *presence_record_get_type(const PresenceRecord *record);
size_t presence_record_get_n_parts(const PresenceRecord *record);
/* The index-th part: its kind, whether it has xml:lang, its own text. */
void presence_record_get_part(const PresenceRecord *record, size_t index,
			      PresencePartKind *ret_kind, bool *ret_has_lang,
			      const char **ret_text);
/* False when the presence had no <c/>; else its attributes, NULL where
 * absent. */
bool presence_record_get_caps(const PresenceRecord *record,
			      const char **ret_node, const char **ret_hash,
			      const char **ret_ver);
