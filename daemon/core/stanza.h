/* SPDX-License-Identifier: MIT */
/*
 * A small XML element tree: what the stream reader yields for each top-level
 * child of <stream:stream>, and what the session builds to send.
 *
 * Namespaces are resolved: every element knows its own namespace URI, and
 * serialization writes an xmlns attribute only where it differs from the
 * parent's (the stream's default namespace, jabber:client, is implied for
 * top-level stanzas). Text content is kept as one string per element (mixed
 * content is concatenated), which is all XMPP presence and IQ handling need.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _Stanza Stanza;

/* New element; xmlns may be NULL (inherits the parent's on serialization).
 * Transfer full. */
/* Bytes of one element record, for memory budgets (xml-reader). */
size_t stanza_record_size(void);

Stanza *stanza_new(const char *name, const char *xmlns);
/* NULL-safe; frees the whole subtree. Do not free a child still in a tree. */
void stanza_free(Stanza *stanza);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Stanza, stanza_free)

/* Transfer none; valid while the stanza lives. */
const char *stanza_get_name(const Stanza *stanza);
/* The element's namespace URI, or NULL when none was set or declared. */
const char *stanza_get_ns(const Stanza *stanza);
/* Attribute by local name (unprefixed; xml:lang is "xml:lang"), or NULL. */
const char *stanza_get_attr(const Stanza *stanza, const char *name);
/* Sets (value != NULL) or removes (value == NULL) an attribute. Copies. */
void stanza_set_attr(Stanza *stanza, const char *name, const char *value);
/*
 * Same with a value of len bytes (need not be NUL-terminated; value NULL
 * removes). For parsers, which have lengths already.
 */
void stanza_set_attr_len(Stanza *stanza, const char *name, const char *value,
			 size_t len);
/*
 * Sets all n attributes of a stanza that has none yet, in one allocation
 * (a parser's fast path: a received stanza's attributes are set once).
 * names[i] NUL-terminated; values[i] of lens[i] bytes. A name repeated
 * keeps its first value. Later set/remove calls work as usual.
 */
void stanza_set_attrs_packed(Stanza *stanza, size_t n, const char *const *names,
			     const char *const *values, const size_t *lens);
/* Iterate attributes: index from 0; false past the end. Borrowed out-ptrs. */
bool stanza_get_attr_nth(const Stanza *stanza, size_t index,
			 const char **ret_name, const char **ret_value);

/* Text content, "" when none. Transfer none. */
const char *stanza_get_text(const Stanza *stanza);
/* Appends text (copied; len -1 for NUL-terminated). */
void stanza_append_text(Stanza *stanza, const char *text, gssize len);
/* Replaces the text. */
void stanza_set_text(Stanza *stanza, const char *text);
/* Overwrites the element's own text with zeros (a secret: SASL data). */
void stanza_wipe_text(Stanza *stanza);

/* Appends child (transfer full) and returns it (transfer none). */
Stanza *stanza_add_child(Stanza *parent, Stanza *child);
/* Shorthand: new child element appended to parent; returns it (transfer none).
 */
Stanza *stanza_add_child_new(Stanza *parent, const char *name,
			     const char *xmlns);
/* Shorthand: child element with text. Returns it (transfer none). */
Stanza *stanza_add_child_text(Stanza *parent, const char *name,
			      const char *xmlns, const char *text);
/* First child with that name (any name when NULL) and namespace (any when
 * NULL). Transfer none. */
Stanza *stanza_get_child(const Stanza *stanza, const char *name,
			 const char *xmlns);
/* Child iteration in document order. Transfer none. */
Stanza *stanza_get_first_child(const Stanza *stanza);
Stanza *stanza_get_next_sibling(const Stanza *stanza);
Stanza *stanza_get_parent(const Stanza *stanza);
size_t stanza_get_n_children(const Stanza *stanza);

/*
 * Serializes with correct escaping of text (& < >) and attributes (& < " ' >
 * and control whitespace as character references). parent_ns is the
 * namespace in scope at the insertion point (e.g. "jabber:client" for a
 * top-level stanza); xmlns is written only where the element's differs.
 * Attribute values are quoted with '. C0 controls other than tab, LF and
 * CR, which XML 1.0 cannot carry at all, are dropped.
 */
void stanza_serialize(const Stanza *stanza, const char *parent_ns,
		      GString *out);
/* Convenience: serialization as a new string with parent_ns "jabber:client".
 * Transfer full. */
char *stanza_to_string(const Stanza *stanza);

/* Deep copy. Transfer full. */
Stanza *stanza_copy(const Stanza *stanza);
