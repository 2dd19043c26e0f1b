/* SPDX-License-Identifier: MIT */
/*
 * The contact table: bare JID → resources → (show, status, priority), plus
 * the roster data of each item. Pure data, no I/O; every mutator returns
 * whether the contact's aggregated (show, status) changed, which is exactly
 * when a PresenceChanged is due.
 *
 * Aggregation (CONTRACT.md): a contact's show is that of its most available
 * online resource (chat > available > dnd > away > xa), among equals the
 * highest priority, then the most recent. No online resource: offline, with
 * the status of the last unavailable presence — or unknown for a roster item
 * whose subscription is none/from that never sent available presence.
 *
 * Bounds: at most CONTACTS_MAX_STRANGERS contacts outside the roster (the
 * least recently updated is dropped silently), CONTACTS_MAX_RESOURCES per
 * roster contact and CONTACTS_MAX_STRANGER_RESOURCES per stranger (a new
 * resource beyond that is ignored), and CONTACTS_MAX_ROSTER_BYTES of roster
 * names and groups (an item that would pass it is not added or changed).
 * With resources and statuses of at most 1 KiB each (RFC 7622,
 * PRESENCE_MAX_STATUS_BYTES), what strangers can make us hold is ~9 MB.
 *
 * Callers pass normalized bare JIDs and valid UTF-8; the table does not
 * parse or validate JIDs.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/presence.h"

#define CONTACTS_MAX_STRANGERS 1000u
#define CONTACTS_MAX_RESOURCES 64u
/* Strangers send directed presence only: a few resources are plenty, and
 * 1,000 strangers × 64 resources × 2 KiB would be 128 MB. */
#define CONTACTS_MAX_STRANGER_RESOURCES 4u
/* Names and groups of all roster items: a 100,000-item roster needs ~3 MB;
 * only the server can send roster pushes, but it must not make us grow
 * without end either. */
#define CONTACTS_MAX_ROSTER_BYTES ((size_t)32 * 1024 * 1024)

typedef enum {
	ROSTER_SUBSCRIPTION_NONE,
	ROSTER_SUBSCRIPTION_TO,
	ROSTER_SUBSCRIPTION_FROM,
	ROSTER_SUBSCRIPTION_BOTH,
} RosterSubscription;

/* "none", "to", "from", "both". */
const char *roster_subscription_to_string(RosterSubscription sub);
bool roster_subscription_from_string(const char *str,
				     RosterSubscription *ret_sub);

typedef struct _ContactTable ContactTable;
typedef struct _Contact Contact;

ContactTable *contacts_new(void);
void contacts_free(ContactTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ContactTable, contacts_free)

/* Available presence from bare/resource (resource "" for a bare JID).
 * show is neither OFFLINE nor UNKNOWN; status NULL or "" for none (kept to
 * PRESENCE_MAX_STATUS_BYTES); priority clamped to -128..127. Recency (the
 * tie-break of the aggregation, CONTRACT.md) is the order of these calls. */
bool contacts_update_resource(ContactTable *table, const char *bare,
			      const char *resource, PresenceShow show,
			      const char *status, int priority);

/* Unavailable presence: removes the resource (resource NULL: all of them,
 * as for unavailable from a bare JID), keeping status as the contact's
 * offline status. An unavailable presence without status from a JID not in
 * the table adds nothing (false). */
bool contacts_remove_resource(ContactTable *table, const char *bare,
			      const char *resource, const char *status);

/* Adds or updates a roster item (RFC 6121 §2). groups may be NULL. A new
 * item is a change (its first state). ask: a subscription request of ours
 * is pending. A stranger that becomes a roster item keeps its presence and
 * is a change only if its aggregated state changes (e.g. to unknown); it no
 * longer counts against CONTACTS_MAX_STRANGERS. Strings are copied. */
bool contacts_set_roster_item(ContactTable *table, const char *bare,
			      const char *name, RosterSubscription sub,
			      bool ask, const char *const *groups,
			      size_t n_groups);

/* subscription='remove': the contact disappears, with its resources. True
 * if it was not (offline, "") — a PresenceChanged to offline with empty
 * status is due; removing an offline item with a status is a change too.
 * A JID that is not a roster item: nothing happens, false. */
bool contacts_remove_roster_item(ContactTable *table, const char *bare);

/* Forget every resource of every contact (session ended): returns the bare
 * JIDs whose state changed, transfer full (GPtrArray of char*, may be empty).
 * Offline statuses are forgotten too, and none/from roster items read
 * unknown again until the next session brings their available presence.
 * Contacts stay in the table (strangers as offline).
 */
GPtrArray *contacts_clear_presence(ContactTable *table);

/*
 * Resynchronisation after a new session replaced one that dropped: the
 * server sends every contact's presence again, and only real differences
 * should be reported. contacts_mark_stale() flags every resource as left
 * over from before (returns how many); an update of a resource confirms it;
 * contacts_drop_stale() then removes the unconfirmed ones and returns the
 * bare JIDs whose aggregated state changed by that (transfer full, may be
 * empty). Offline statuses are kept. Until the drop, a stale resource
 * counts in the aggregation like any other.
 */
size_t contacts_mark_stale(ContactTable *table);
GPtrArray *contacts_drop_stale(ContactTable *table);
/* How many resources are still marked stale (a resync not settled). */
size_t contacts_count_stale(const ContactTable *table);

/* Lookups: transfer none, valid until the next mutation. */
const Contact *contacts_lookup(const ContactTable *table, const char *bare);
size_t contacts_size(const ContactTable *table);
/* Bytes of roster names and groups held (≤ CONTACTS_MAX_ROSTER_BYTES). */
size_t contacts_get_roster_bytes(const ContactTable *table);

/* Contacts outside the roster (≤ CONTACTS_MAX_STRANGERS). */
size_t contacts_get_n_strangers(const ContactTable *table);

/* Roster items (contacts outside the roster not counted). */
size_t contacts_get_n_roster_items(const ContactTable *table);

/*
 * The roster version (RFC 6121 §2.6) the roster items in the table
 * correspond to, kept with them across sessions. NULL: none (the next
 * roster get asks for everything). ver is copied. Transfer none, valid
 * until the next set.
 */
void contacts_set_roster_ver(ContactTable *table, const char *ver);
const char *contacts_get_roster_ver(const ContactTable *table);

typedef void (*ContactFunc)(const Contact *contact, void *user_data);
/* Every contact, in no particular order; do not mutate the table inside. */
void contacts_foreach(const ContactTable *table, ContactFunc func,
		      void *user_data);

const char *contact_get_jid(const Contact *contact);
PresenceShow contact_get_show(const Contact *contact);
const char *contact_get_status(const Contact *contact); /* "" when none */

/* Online resources, most available first (the aggregation order). */
size_t contact_get_n_resources(const Contact *contact);
bool contact_get_resource(const Contact *contact, size_t index,
			  const char **ret_resource, PresenceShow *ret_show,
			  const char **ret_status, int *ret_priority);

/*
 * Which XEP-0115 ver a resource announced, as caps-cache.h's key (a
 * GRefString; set takes its own reference, NULL forgets). Kept next to the
 * resource's show and status so that it goes with the resource and costs
 * no copy of the full JID (caps_cache_set_jid_store). Set: false when the
 * table holds no such resource.
 */
bool contacts_set_resource_caps(ContactTable *table, const char *bare,
				const char *resource, const char *key);
const char *contacts_get_resource_caps(const ContactTable *table,
				       const char *bare, const char *resource);
const char *contact_get_resource_caps(const Contact *contact, size_t index);
/* Every resource forgets its ver (a session ended without resumption). */
void contacts_forget_caps(ContactTable *table);

bool contact_is_in_roster(const Contact *contact);
const char *contact_get_name(const Contact *contact); /* "" when none */
RosterSubscription contact_get_subscription(const Contact *contact);
bool contact_get_ask(const Contact *contact);
/* NULL-terminated; transfer none. */
const char *const *contact_get_groups(const Contact *contact);
