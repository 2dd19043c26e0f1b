/* SPDX-License-Identifier: MIT */
/*
 * Presence values and presence stanzas (RFC 6121 §4, XEP-0172 nick,
 * XEP-0319 idle): the show enum with its one string table, parsing of
 * incoming <presence/> into a checked PresenceInfo, and building our own.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/presence-record.h"
#include "core/stanza.h"

#define PRESENCE_ERROR (presence_error_quark())
GQuark presence_error_quark(void);

typedef enum {
	PRESENCE_ERROR_INVALID, /* message names the field and what is wrong */
} PresenceError;

/* Declared in order of availability (see presence_show_rank). */
typedef enum {
	PRESENCE_SHOW_OFFLINE,
	PRESENCE_SHOW_UNKNOWN, /* roster item we are not subscribed to */
	PRESENCE_SHOW_XA,
	PRESENCE_SHOW_AWAY,
	PRESENCE_SHOW_DND,
	PRESENCE_SHOW_AVAILABLE,
	PRESENCE_SHOW_CHAT,
} PresenceShow;

#define PRESENCE_MAX_STATUS_BYTES 1024
#define PRESENCE_MAX_NICK_BYTES 1024

/* "available", "chat", "away", "xa", "dnd", "offline", "unknown". */
const char *presence_show_to_string(PresenceShow show);
/* Accepts the contract's names; "unknown" only if allow_unknown. */
bool presence_show_from_string(const char *str, bool allow_unknown,
			       PresenceShow *ret_show);
/* Higher is more available: chat > available > dnd > away > xa > unknown >
 * offline (CONTRACT.md, Aggregation). */
int presence_show_rank(PresenceShow show);

typedef enum {
	PRESENCE_TYPE_AVAILABLE, /* no type attribute */
	PRESENCE_TYPE_UNAVAILABLE,
	PRESENCE_TYPE_SUBSCRIBE,
	PRESENCE_TYPE_SUBSCRIBED,
	PRESENCE_TYPE_UNSUBSCRIBE,
	PRESENCE_TYPE_UNSUBSCRIBED,
	PRESENCE_TYPE_PROBE,
	PRESENCE_TYPE_ERROR,
} PresenceType;

/* An incoming presence, checked. Strings are owned, valid UTF-8. */
typedef struct {
	PresenceType type;
	char *from_full;     /* normalized, as sent; NULL if no from */
	char *from_bare;     /* normalized bare JID; NULL if no from */
	char *from_resource; /* NULL for a bare from */
	PresenceShow show;   /* AVAILABLE when absent; OFFLINE if unavailable */
	char *status;	     /* NULL when none; truncated to the byte bound at a
			      * character boundary */
	int priority;	     /* 0 when absent; clamped to -128..127 */
	char *nick;	     /* XEP-0172, NULL when none */
} PresenceInfo;

void presence_info_clear(PresenceInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PresenceInfo, presence_info_clear)

/*
 * Parses a <presence/>. False with error (and *ret untouched) on an
 * unknown type, a malformed from JID, or any text that is not valid UTF-8
 * (the stanza must then change nothing). Status picks the xml:lang-less
 * <status/> if any, else the first.
 */
bool presence_parse(const Stanza *stanza, PresenceInfo *ret, GError **error);
/*
 * The same for a presence the reader gathered into a record (the presence
 * path of xml-reader.h): the same info, or the same error, as
 * presence_parse() of the tree of the same bytes.
 */
bool presence_parse_record(const PresenceRecord *record, PresenceInfo *ret,
			   GError **error);

/* What we send. */
typedef struct {
	PresenceShow show;  /* OFFLINE builds type='unavailable' */
	const char *status; /* NULL or "" for none */
	int priority;
	const char *to;	    /* directed presence; NULL for broadcast */
	const char *nick;   /* included only when to != NULL (XEP-0172 §4.5) */
	int64_t idle_since; /* XEP-0319 <idle since=.../>, unix seconds; 0: none
			     */
} PresenceSpec;

/* Transfer full. */
Stanza *presence_build(const PresenceSpec *spec);

/* type='subscribe' etc. to jid; nick (XEP-0172) only on subscribe.
 * Transfer full. */
Stanza *presence_build_subscription(PresenceType type, const char *to,
				    const char *nick, const char *status);
