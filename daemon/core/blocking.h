/* SPDX-License-Identifier: MIT */
/*
 * Blocking command (XEP-0191) without I/O: the block list as a bounded set
 * of normalized JIDs, reading the server's list (§3.2) and its pushes
 * (§3.3, §3.4: ours or another client's), and building the get, block and
 * unblock payloads. The session wraps payloads in <iq/> and answers a
 * push with an empty result (or <bad-request/> when parsing it fails
 * with BLOCKING_ERROR_BAD_REQUEST; nothing when UNTRUSTED).
 *
 * Everything here reads server input: every function checks what it reads
 * and reports a GError in BLOCKING_ERROR rather than asserting.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/stanza.h"

#define NS_BLOCKING "urn:xmpp:blocking"

/* Cap on the list the server controls (STYLE.md §3): items past it are
 * not kept. */
#define BLOCKING_MAX_ITEMS 10000u

#define BLOCKING_ERROR (blocking_error_quark())
GQuark blocking_error_quark(void);

typedef enum {
	/* A push from someone who may not edit our list: ignore it and do
	 * not answer (RFC 6120 §8.1.2.1, as roster pushes). */
	BLOCKING_ERROR_UNTRUSTED,
	/* Malformed push or result: a push gets <bad-request/>. */
	BLOCKING_ERROR_BAD_REQUEST,
	/* A JID we were asked to block or unblock is not valid, or not a
	 * bare JID or domain (the message says which and why). */
	BLOCKING_ERROR_INVALID_JID,
} BlockingError;

typedef struct _BlockList BlockList;

/* Empty list. Transfer full. */
BlockList *blocking_list_new(void);
void blocking_list_free(BlockList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BlockList, blocking_list_free)

size_t blocking_list_get_n_items(const BlockList *list);
/* The item exactly (normalized) on the list. */
bool blocking_list_contains(const BlockList *list, const char *jid);
/*
 * Whether stanzas from jid (any JID string) are blocked: an item equal to
 * its full JID, bare JID, domain/resource or domain (XEP-0191 §3.5 uses
 * the XEP-0016 §2.1 matching). An invalid jid is not blocked.
 */
bool blocking_list_blocks(const BlockList *list, const char *jid);
/* The items, sorted, NULL-terminated (the Blocked property). Transfer
 * full. */
char **blocking_list_dup_items(const BlockList *list);
void blocking_list_clear(BlockList *list);

/*
 * The result of our blocklist get (§3.2): <iq type='result'> with a
 * <blocklist/> child. Replaces the list; items with an invalid JID are
 * skipped (we could never match them), items past BLOCKING_MAX_ITEMS are
 * dropped. *ret_changed (may be NULL) says whether the set differs from
 * before. A result without <blocklist/>: BAD_REQUEST, list unchanged.
 */
bool blocking_list_replace(BlockList *list, const Stanza *iq, bool *ret_changed,
			   GError **error);

typedef enum {
	BLOCKING_PUSH_BLOCK,
	BLOCKING_PUSH_UNBLOCK,
	BLOCKING_PUSH_UNBLOCK_ALL, /* <unblock/> without items (§3.4) */
} BlockingPushKind;

typedef struct {
	BlockingPushKind kind;
	GPtrArray *jids; /* char*, normalized, distinct; empty for ALL */
} BlockingPush;

void blocking_push_clear(BlockingPush *push);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BlockingPush, blocking_push_clear)

/*
 * An <iq type='set'> with <block/> or <unblock/>. Checks the sender
 * (absent or own_bare: UNTRUSTED otherwise) and the items: every jid
 * valid, a block with at least one item, at most BLOCKING_MAX_ITEMS
 * (BAD_REQUEST otherwise: one invalid JID must never turn an unblock into
 * unblock-all). On success fills *ret (clear it after).
 */
bool blocking_parse_push(const Stanza *iq, const char *own_bare,
			 BlockingPush *ret, GError **error);

/*
 * Applies a parsed push. Returns whether the list changed; blocked and
 * unblocked (may be NULL) get the items added and removed (char*,
 * transfer full each), so the caller can take blocked contacts offline.
 * A block past BLOCKING_MAX_ITEMS keeps what fits.
 */
bool blocking_list_apply_push(BlockList *list, const BlockingPush *push,
			      GPtrArray *blocked, GPtrArray *unblocked);

/*
 * A JID the user asks to block or unblock: a bare JID or a domain (the
 * contract's Block), normalized. NULL with INVALID_JID when it does not
 * parse or has a resource. Transfer full.
 */
char *blocking_normalize_target(const char *jid, GError **error);

/* <blocklist xmlns='urn:xmpp:blocking'/>: the payload of the get (§3.2).
 * Transfer full. */
Stanza *blocking_build_request(void);
/*
 * <block/> or <unblock/> with one <item jid/> per entry of jids (n >= 1;
 * each checked with blocking_normalize_target and written normalized).
 * NULL with INVALID_JID (or BAD_REQUEST for n == 0). Transfer full.
 */
Stanza *blocking_build_block(const char *const *jids, size_t n, GError **error);
Stanza *blocking_build_unblock(const char *const *jids, size_t n,
			       GError **error);
/* <unblock/> without items: unblocks everyone (§3.4). Its own function so
 * that an empty list can never mean "everyone" by accident. */
Stanza *blocking_build_unblock_all(void);
