/* SPDX-License-Identifier: MIT */
/*
 * The roster (RFC 6121 §2) without I/O: parsing items, validating pushes,
 * versioning (§2.6) and applying results and pushes to the ContactTable,
 * plus the subscription decisions the client takes (§3).
 *
 * The ContactTable holds the items and the version they belong to
 * (contacts_get_roster_ver), so both outlive one session: a reconnect
 * sends that version and an unchanged roster costs one empty result.
 *
 * Everything here reads server input: every function checks what it reads
 * and reports a GError in ROSTER_ERROR rather than asserting.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/contacts.h"
#include "core/stanza.h"

#define NS_ROSTER_QUERY "jabber:iq:roster"
#define NS_ROSTER_VER_FEATURE "urn:xmpp:features:rosterver"
#define NS_PRE_APPROVAL_FEATURE "urn:xmpp:features:pre-approval"

/* Caps on what the server controls (STYLE.md §3). */
#define ROSTER_MAX_ITEMS 250000u
#define ROSTER_MAX_GROUPS 64u
#define ROSTER_MAX_STRING_BYTES 1024u

#define ROSTER_ERROR (roster_error_quark())
GQuark roster_error_quark(void);

typedef enum {
	/* A push from someone who may not edit our roster (§2.1.6): it is
	 * ignored and not answered, which would leak our presence. */
	ROSTER_ERROR_UNTRUSTED,
	/* Malformed: a push gets <bad-request/> (§2.1.6, §2.3.3). */
	ROSTER_ERROR_BAD_REQUEST,
} RosterError;

typedef struct {
	char *jid;  /* normalized bare JID */
	char *name; /* NULL when none */
	RosterSubscription subscription;
	bool remove;   /* subscription='remove' */
	bool ask;      /* ask='subscribe': our request is pending (§2.1.2.2) */
	bool approved; /* approved='true': pre-approved (§3.4) */
	GPtrArray *groups; /* of char*, non-empty, distinct, ≤ MAX_GROUPS */
} RosterItem;

void roster_item_clear(RosterItem *item);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(RosterItem, roster_item_clear)

/*
 * One <item/> (§2.1.2). The jid must parse; a resource is dropped (items
 * are bare JIDs). An unknown subscription value reads as none; name and
 * groups are clipped to ROSTER_MAX_STRING_BYTES, groups to
 * ROSTER_MAX_GROUPS. On success *ret_item is filled (clear it after).
 */
bool roster_item_parse(const Stanza *item, RosterItem *ret_item,
		       GError **error);

/*
 * Who may push to our roster (§2.1.6): the stanza has no 'from', or it is
 * our bare JID (normalized: a JID that normalizes to ours counts). Not
 * our server's domain, not a full JID. own_bare: our normalized bare JID.
 */
bool roster_push_is_trusted(const char *from, const char *own_bare);

/*
 * A roster push: <iq type='set'><query xmlns='jabber:iq:roster'/></iq>.
 * Checks the sender (ROSTER_ERROR_UNTRUSTED) and that the query has
 * exactly one valid item (ROSTER_ERROR_BAD_REQUEST). On success fills
 * *ret_item and *ret_ver (the push's ver, transfer full, NULL if none).
 */
bool roster_parse_push(const Stanza *iq, const char *own_bare,
		       RosterItem *ret_item, char **ret_ver, GError **error);

/*
 * The 'ver' to put in our roster get (§2.6.2): NULL (send none) when the
 * server does not advertise versioning; else the cached version, "" when
 * we have none. Transfer none.
 */
const char *roster_request_ver(bool server_versioning, const char *cached);

typedef enum {
	ROSTER_RESULT_ERROR,	 /* type='error': keep what we know */
	ROSTER_RESULT_UNCHANGED, /* empty result (§2.6.3): cache is current */
	ROSTER_RESULT_FULL,	 /* the whole roster: replaces the cache */
} RosterResultKind;

/*
 * Applies the answer to our roster get to the table. FULL: every item is
 * set, roster items missing from the result are removed, the version
 * becomes the result's (NULL without one). UNCHANGED: the table is kept.
 * ERROR: the table is kept, but its version is forgotten so the next
 * session asks for the whole roster. Returns the kind; changed (may be
 * NULL) gets the bare JIDs whose aggregated presence changed (char*,
 * transfer full each).
 */
RosterResultKind roster_apply_result(ContactTable *table, const Stanza *iq,
				     GPtrArray *changed);

/*
 * Applies one parsed item (a push, or one of a result) to the table.
 * Returns whether the contact's aggregated presence changed. An item that
 * would take the table past ROSTER_MAX_ITEMS is dropped (false).
 */
bool roster_apply_item(ContactTable *table, const RosterItem *item);

/*
 * roster_apply_item(), also telling whether the roster item itself changed
 * in the table: added, removed, or its name, subscription, ask or set of
 * groups differ (a RosterChanged is due exactly then). An item dropped for
 * the cap, a remove of a JID not in the roster, or a push repeating what
 * the table holds is no change. ret_item_changed may be NULL; it is always
 * written otherwise.
 */
bool roster_apply_item_full(ContactTable *table, const RosterItem *item,
			    bool *ret_item_changed);

/*
 * roster_apply_result(), also collecting into items_changed (may be NULL)
 * the bare JIDs whose roster item changed (as roster_apply_item_full
 * says; removed items included), each once, transfer full each.
 */
RosterResultKind roster_apply_result_full(ContactTable *table, const Stanza *iq,
					  GPtrArray *changed,
					  GPtrArray *items_changed);

/* ---- subscriptions (§3) ------------------------------------------------- */

/* The contact has a subscription to our presence (from, both). */
bool roster_subscription_has_from(RosterSubscription sub);
/* We have a subscription to the contact's presence (to, both). */
bool roster_subscription_has_to(RosterSubscription sub);

typedef enum {
	ROSTER_AUTHORIZE_APPROVE,     /* subscribed answers a request */
	ROSTER_AUTHORIZE_PRE_APPROVE, /* subscribed as pre-approval (§3.4) */
	ROSTER_AUTHORIZE_NOOP,	      /* already approved: nothing to send */
	ROSTER_AUTHORIZE_UNSUPPORTED, /* no request, no pre-approval */
} RosterAuthorize;

/*
 * What Authorize(jid, true) does. requested: an inbound request of jid is
 * pending; contact: its table entry or NULL; pre_approval: the server
 * advertises urn:xmpp:features:pre-approval. §3.4: without that feature
 * the client MUST NOT send a pre-approval, so UNSUPPORTED.
 */
RosterAuthorize roster_decide_authorize(bool requested, const Contact *contact,
					bool pre_approval);
