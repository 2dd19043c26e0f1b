/* SPDX-License-Identifier: MIT */
/*
 * The contacts' capabilities (XEP-0115 §6), without I/O: which resource
 * announced which ver, the verified descriptions by ver, and the decision
 * to ask: one disco#info query per distinct ver (a login flood of 50,000
 * contacts on three clients costs three queries), at most
 * CAPS_CACHE_MAX_IN_FLIGHT at once, the rest queued. A description is
 * cached only once its hash verifies (§5.4); an unverifiable ver is never
 * cached and shows for no one. The verified part can be written to and
 * read from text (the daemon keeps it under $XDG_CACHE_HOME/presenced/);
 * the caller does the file I/O.
 *
 * The session drives it:
 *
 *	presence with <c/>      -> caps_cache_observe()
 *	unavailable presence    -> caps_cache_forget_jid()
 *	then, after either, and after every caps_cache_complete():
 *	    while (caps_cache_next_query(cache, now, &q)) send an iq get to q.to
 *	    with caps_cache_query_build_payload(&q), remembering
 *	    iq id -> q.key
 *	iq result / error       -> caps_cache_complete(key, ...)
 *	the deadline            -> caps_cache_get_deadline(), caps_cache_tick()
 *	stream ended            -> caps_cache_end_session()
 *
 * JIDs are the normalized full JIDs of jid.h (the caller normalizes).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/caps.h"
#include "core/stanza.h"

/* Bounds (STYLE.md §3). */
#define CAPS_CACHE_MAX_ENTRIES 1024u /* verified vers, least used out */
#define CAPS_CACHE_MAX_JIDS 262144u  /* resources with a ver (own store) */
#define CAPS_CACHE_MAX_IN_FLIGHT 8u  /* disco#info queries at once */
#define CAPS_CACHE_MAX_PENDING 256u  /* distinct vers not yet known */
#define CAPS_CACHE_MAX_CANDIDATES 8u /* resources we may ask, per ver */
#define CAPS_CACHE_MAX_ATTEMPTS 3u   /* queries per ver, per session */
#define CAPS_CACHE_MAX_FAILED 1024u  /* vers given up this session */
#define CAPS_CACHE_MAX_FILE_BYTES 4194304u /* what caps_cache_load reads */

/* An unanswered disco#info query counts as failed after this (monotonic
 * microseconds, the session's clock). */
#define CAPS_CACHE_QUERY_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)

#define CAPS_CACHE_ERROR (caps_cache_error_quark())
GQuark caps_cache_error_quark(void);

typedef enum {
	/* A completion for a ver with no query in flight. */
	CAPS_CACHE_ERROR_UNEXPECTED,
	/* A result from another JID than the one asked: ignored, the
	 * query stays in flight. */
	CAPS_CACHE_ERROR_WRONG_SENDER,
	/* The query failed (iq error, timeout, stream gone). */
	CAPS_CACHE_ERROR_FAILED,
	/* caps_cache_load: the text is not a cache we wrote; it is ignored
	 * as a whole. The message says which line and why. */
	CAPS_CACHE_ERROR_MALFORMED,
} CapsCacheError;

typedef struct _CapsCache CapsCache;

/* Empty cache. Transfer full. */
CapsCache *caps_cache_new(void);
void caps_cache_free(CapsCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CapsCache, caps_cache_free)

/*
 * Where jid → ver is kept (key: the ver's "hash ver" key, a GRefString).
 * By default the cache keeps a table of its own, bounded by
 * CAPS_CACHE_MAX_JIDS; the session keeps it next to each resource in the
 * contact table instead (contacts_set_resource_caps), which saves a copy of
 * every full JID of a login flood and forgets a resource's ver with the
 * resource itself.
 *  - get: the key jid announced, or NULL; borrowed.
 *  - set: remember key (taking a reference) for jid, or forget with NULL;
 *    false when jid has no place (no such resource, a bound reached).
 *  - clear: forget every jid.
 *  - foreach: func for every jid whose key equals key.
 */
typedef void (*CapsJidFunc)(const char *jid, void *user_data);
typedef struct {
	const char *(*get)(void *data, const char *jid);
	bool (*set)(void *data, const char *jid, const char *key);
	void (*clear)(void *data);
	void (*foreach)(void *data, const char *key, CapsJidFunc func,
			void *user_data);
} CapsJidStore;

/* store (static) and data must outlive the cache's use of them; the cache
 * calls no store function when it is freed. NULL: its own table again
 * (what it held moves nowhere: the caller switches before any observe). */
void caps_cache_set_jid_store(CapsCache *cache, const CapsJidStore *store,
			      void *data);

typedef enum {
	/* Nothing to do or show: legacy caps (hash NULL, §5.4 1), a hash we
	 * do not implement, a ver that failed verification this session,
	 * or a bound reached. */
	CAPS_CACHE_IGNORED,
	/* Verified: caps_cache_lookup_jid() answers for jid now. */
	CAPS_CACHE_KNOWN,
	/* A query for this ver is in flight or queued: jid gets the answer
	 * with everyone else who announced it. */
	CAPS_CACHE_PENDING,
} CapsCacheStatus;

/*
 * A resource's presence carried <c node hash ver/> (caps_announcement_parse
 * checked node and ver). Records jid → ver, replacing what jid announced
 * before, and queues a query if the ver is new.
 */
CapsCacheStatus caps_cache_observe(CapsCache *cache, const char *jid,
				   const char *node, const char *hash,
				   const char *ver);

/* The resource went offline (or announced no <c/>): forgets its ver and
 * stops choosing it for queries. Unknown jid: nothing happens. */
void caps_cache_forget_jid(CapsCache *cache, const char *jid);

typedef struct {
	char *to;   /* the full JID to ask */
	char *node; /* the disco node: "node#ver" (§6.2) */
	char *key;  /* give it back to caps_cache_complete */
} CapsCacheQuery;

void caps_cache_query_clear(CapsCacheQuery *query);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CapsCacheQuery, caps_cache_query_clear)

/* <query xmlns='disco#info' node='node#ver'/>: the payload of the get.
 * Transfer full. */
Stanza *caps_cache_query_build_payload(const CapsCacheQuery *query);

/*
 * The next disco#info get to send, if a slot is free and a ver waits:
 * fills *ret (clear it after) and counts it in flight until its
 * caps_cache_complete() or its timeout (now + CAPS_CACHE_QUERY_TIMEOUT).
 * false: nothing to send now.
 */
bool caps_cache_next_query(CapsCache *cache, int64_t now, CapsCacheQuery *ret);

/* The earliest timeout of a query in flight, INT64_MAX when none: fold
 * it into the session's deadline. */
int64_t caps_cache_get_deadline(const CapsCache *cache);

/*
 * Queries whose timeout is due count as failed, as a completion with no
 * result would: another resource is asked, or the ver given up. Their keys
 * are appended to expired (char*, transfer full each; may be NULL), so
 * the caller forgets their iq ids (a late answer gets UNEXPECTED). Call
 * caps_cache_next_query() after.
 */
void caps_cache_tick(CapsCache *cache, int64_t now, GPtrArray *expired);

/*
 * The answer to the query with key: result is the disco#info <query/> of
 * the iq result, NULL for an iq error (timeouts: caps_cache_tick); from
 * its sender, the normalized full JID. An answer from anyone but the JID
 * asked is ignored with WRONG_SENDER and changes nothing. On success
 * (true) the description is cached and every jid that announced this ver
 * is appended to resolved (char*, transfer full each; may be NULL). On
 * failure the error says why (CAPS_CACHE_ERROR, or CAPS_ERROR from
 * caps_verify): the ver is asked of another resource that announced it,
 * up to CAPS_CACHE_MAX_ATTEMPTS, then given up for this session. Except
 * after WRONG_SENDER and UNEXPECTED a slot is free again: call
 * caps_cache_next_query().
 */
bool caps_cache_complete(CapsCache *cache, const char *key, const char *from,
			 const Stanza *result, GPtrArray *resolved,
			 GError **error);

/* The stream ended: every resource is gone and no answer will come.
 * Forgets resources, queries and failures; keeps the verified entries. */
void caps_cache_end_session(CapsCache *cache);

/* What jid is, if its ver is verified; NULL otherwise. Transfer none,
 * valid until the next call that changes the cache. */
const CapsInfo *caps_cache_lookup_jid(const CapsCache *cache, const char *jid);
/* The verified description of (hash, ver), or NULL. Transfer none. */
const CapsInfo *caps_cache_lookup(const CapsCache *cache, const char *hash,
				  const char *ver);
/* Number of verified entries. */
size_t caps_cache_get_n_entries(const CapsCache *cache);
/* Queries now in flight. */
size_t caps_cache_get_n_in_flight(const CapsCache *cache);

/*
 * The verified entries as text (a versioned line format, most recently
 * used first), for the caller to write to the cache file. Transfer full.
 */
char *caps_cache_serialize(const CapsCache *cache);

/*
 * Adds the entries of text written by caps_cache_serialize(): data of len
 * bytes (need not be NUL-terminated). All or nothing: text over
 * CAPS_CACHE_MAX_FILE_BYTES, of another format or version, with a
 * malformed line, a bound exceeded, or an entry whose ver does not match
 * its description (a corrupted or edited file) is refused with
 * CAPS_CACHE_ERROR_MALFORMED and the cache is unchanged. Entries already
 * present are kept; loaded ones rank as least recently used, and only
 * as many as fit under CAPS_CACHE_MAX_ENTRIES are added.
 */
bool caps_cache_load(CapsCache *cache, const char *data, size_t len,
		     GError **error);
