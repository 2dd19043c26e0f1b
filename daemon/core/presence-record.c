/* SPDX-License-Identifier: MIT */
/*
 * The presence record: every string of one presence in one reused buffer,
 * NUL-separated, found by offset (the buffer moves while it grows).
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "core/presence-record.h"

#define NS_CLIENT "jabber:client"
#define NS_NICK "http://jabber.org/protocol/nick"
#define NS_CAPS "http://jabber.org/protocol/caps"

/* A buffer that grew past this (a hostile status) is not kept. */
#define KEEP_BYTES ((gsize)64 * 1024)
#define KEEP_PARTS 64u

#define ABSENT SIZE_MAX

typedef struct {
	PresencePartKind kind;
	bool has_lang;
	size_t off;
} Part;

struct _PresenceRecord {
	/* The strings; a plain buffer, not a GString: its appends were a
	 * tenth of the record's cost. Always NUL-terminated at len. */
	char *buf;
	size_t len;
	size_t alloc;
	GArray *parts; /* of Part, in document order */
	size_t from, type;
	size_t caps_node, caps_hash, caps_ver;
	bool has_caps;
	bool part_open; /* the last part's text is still growing */
};

PresenceRecord *presence_record_new(void)
{
	PresenceRecord *record = g_new0(PresenceRecord, 1);

	record->alloc = 512;
	record->buf = g_malloc(record->alloc);
	record->parts = g_array_sized_new(FALSE, FALSE, sizeof(Part), 8);
	presence_record_clear(record);
	return record;
}

void presence_record_free(PresenceRecord *record)
{
	if (record == NULL)
		return;
	g_free(record->buf);
	g_array_unref(record->parts);
	g_free(record);
}

void presence_record_clear(PresenceRecord *record)
{
	g_return_if_fail(record != NULL);

	if (record->alloc > KEEP_BYTES) {
		record->alloc = 512;
		g_free(record->buf);
		record->buf = g_malloc(record->alloc);
	}
	record->len = 0;
	record->buf[0] = '\0';
	if (record->parts->len > KEEP_PARTS) {
		g_array_unref(record->parts);
		record->parts =
			g_array_sized_new(FALSE, FALSE, sizeof(Part), 8);
	}
	g_array_set_size(record->parts, 0);
	record->from = record->type = ABSENT;
	record->caps_node = record->caps_hash = record->caps_ver = ABSENT;
	record->has_caps = false;
	record->part_open = false;
}

PresencePartKind presence_record_classify(const char *name, const char *ns)
{
	/* RFC 6121 §4.7.2: show, status, priority in the content namespace. */
	if (strcmp(ns, NS_CLIENT) == 0) {
		if (strcmp(name, "show") == 0)
			return PRESENCE_PART_SHOW;
		if (strcmp(name, "status") == 0)
			return PRESENCE_PART_STATUS;
		if (strcmp(name, "priority") == 0)
			return PRESENCE_PART_PRIORITY;
		return PRESENCE_PART_NONE;
	}
	if (strcmp(name, "nick") == 0 && strcmp(ns, NS_NICK) == 0)
		return PRESENCE_PART_NICK;
	if (strcmp(name, "c") == 0 && strcmp(ns, NS_CAPS) == 0)
		return PRESENCE_PART_CAPS;
	return PRESENCE_PART_NONE;
}

/* Appends len bytes and keeps a NUL after them. */
static void append(PresenceRecord *record, const char *data, size_t len)
{
	if (len >= record->alloc - record->len) {
		/* The reader's stanza size limit bounds len long before
		 * this could overflow. */
		record->alloc = MAX(record->alloc * 2, record->len + len + 1);
		record->buf = g_realloc(record->buf, record->alloc);
	}
	memcpy(record->buf + record->len, data, len);
	record->len += len;
	record->buf[record->len] = '\0';
}

/* Keeps the NUL that ends the last string: the next starts after it. */
static void end_string(PresenceRecord *record)
{
	record->len++;
	append(record, "", 0);
}

/* Ends the open part's text. */
static void close_part(PresenceRecord *record)
{
	if (!record->part_open)
		return;
	end_string(record);
	record->part_open = false;
}

static size_t add_string(PresenceRecord *record, const char *value, size_t len)
{
	size_t off;

	close_part(record);
	off = record->len;
	append(record, value, len);
	end_string(record);
	return off;
}

void presence_record_set_from(PresenceRecord *record, const char *value,
			      size_t len)
{
	record->from = add_string(record, value, len);
}

void presence_record_set_type(PresenceRecord *record, const char *value,
			      size_t len)
{
	record->type = add_string(record, value, len);
}

void presence_record_begin_part(PresenceRecord *record, PresencePartKind kind,
				bool has_lang)
{
	Part part = {.kind = kind, .has_lang = has_lang};

	g_return_if_fail(kind != PRESENCE_PART_NONE &&
			 kind != PRESENCE_PART_CAPS);

	close_part(record);
	part.off = record->len;
	g_array_append_val(record->parts, part);
	record->part_open = true;
}

void presence_record_append_text(PresenceRecord *record, const char *text,
				 size_t len)
{
	g_return_if_fail(record->part_open);

	append(record, text, len);
}

bool presence_record_has_caps(const PresenceRecord *record)
{
	return record->has_caps;
}

void presence_record_set_caps_seen(PresenceRecord *record)
{
	close_part(record);
	record->has_caps = true;
}

void presence_record_set_caps_attr(PresenceRecord *record, const char *name,
				   const char *value, size_t len)
{
	size_t *slot = strcmp(name, "node") == 0   ? &record->caps_node
		       : strcmp(name, "hash") == 0 ? &record->caps_hash
		       : strcmp(name, "ver") == 0  ? &record->caps_ver
						   : NULL;

	/* The first of a repeated name counts, as in the tree. */
	if (slot != NULL && *slot == ABSENT)
		*slot = add_string(record, value, len);
}

static const char *at(const PresenceRecord *record, size_t off)
{
	return off == ABSENT ? NULL : record->buf + off;
}

const char *presence_record_get_from(const PresenceRecord *record)
{
	return at(record, record->from);
}

const char *presence_record_get_type(const PresenceRecord *record)
{
	return at(record, record->type);
}

size_t presence_record_get_n_parts(const PresenceRecord *record)
{
	return record->parts->len;
}

void presence_record_get_part(const PresenceRecord *record, size_t index,
			      PresencePartKind *ret_kind, bool *ret_has_lang,
			      const char **ret_text)
{
	const Part *part;

	g_return_if_fail(index < record->parts->len);

	part = &g_array_index(record->parts, Part, index);
	*ret_kind = part->kind;
	*ret_has_lang = part->has_lang;
	*ret_text = record->buf + part->off;
}

bool presence_record_get_caps(const PresenceRecord *record,
			      const char **ret_node, const char **ret_hash,
			      const char **ret_ver)
{
	if (!record->has_caps)
		return false;
	*ret_node = at(record, record->caps_node);
	*ret_hash = at(record, record->caps_hash);
	*ret_ver = at(record, record->caps_ver);
	return true;
}
