/* SPDX-License-Identifier: MIT */
/*
 * What the screen lock does to the user's own presence (CONTRACT.md,
 * away-on-lock), as pure decisions with no bus and no clock of its own:
 *
 *   - the screen counts as locked while any source says so (LockSources);
 *     a repeated "locked" or "unlocked" from a source changes nothing;
 *   - lock sets away, keeping the status text, unless the user's own
 *     presence is away, dnd, xa or offline (or away-on-lock is off);
 *   - unlock restores exactly what was set before, unless the user or an
 *     app set a presence meanwhile: that one wins and is kept.
 *
 * The Service (service.c) owns one LockPolicy and asks it at each lock,
 * unlock and SetPresence; bus-desktop.c feeds the sources.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/presence.h"

/* ---- sources: locked while any says so ---------------------------------- */

/* At most 32 sources, numbered by the caller (bus-desktop.c). */
typedef struct {
	uint32_t locked; /* bit n: source n says locked */
} LockSources;

#define LOCK_SOURCES_INIT                                                      \
	{                                                                      \
		0                                                              \
	}
#define LOCK_SOURCES_MAX 32u

/*
 * Source `source` (< LOCK_SOURCES_MAX) now says locked or not. True when
 * the aggregate (any source locked) changed, false otherwise, e.g. for a
 * repeated signal or a second source agreeing with the first.
 */
bool lock_sources_set(LockSources *sources, unsigned source, bool locked);
bool lock_sources_is_locked(const LockSources *sources);
bool lock_sources_source_is_locked(const LockSources *sources, unsigned source);

/* ---- the presence policy ------------------------------------------------ */

typedef struct _LockPolicy LockPolicy;

/* Unlocked, nothing saved. Transfer full. */
LockPolicy *lock_policy_new(void);
void lock_policy_free(LockPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(LockPolicy, lock_policy_free)

/*
 * The screen locked at `now` (unix seconds, for XEP-0319). show and
 * status are the user's presence as last set (status NULL counts as "").
 * True when the caller must now set away keeping the status (away_on_lock
 * on, show available or chat); the policy then remembers (show, status)
 * for the unlock. False: leave the presence alone (including when already
 * locked: a repeated lock changes nothing).
 */
bool lock_policy_lock(LockPolicy *policy, bool away_on_lock, PresenceShow show,
		      const char *status, int64_t now);

/*
 * The screen unlocked. True when the lock's away is still in place: the
 * caller restores *ret_show and *ret_status (transfer full), the presence
 * set before the lock. False (nothing written) when the lock changed
 * nothing, someone set a presence meanwhile, or it was not locked.
 */
bool lock_policy_unlock(LockPolicy *policy, PresenceShow *ret_show,
			char **ret_status);

/*
 * The user or an app set own presence (SetPresence without "to"): it wins
 * over the lock's away and is kept at unlock.
 */
void lock_policy_presence_set(LockPolicy *policy);

bool lock_policy_is_locked(const LockPolicy *policy);
/* The lock's away is in place (set by us, not replaced since). */
bool lock_policy_is_away_applied(const LockPolicy *policy);

/*
 * XEP-0319 idle time for the presence we broadcast: the lock time while
 * the lock's away is in place, else 0 (no <idle/>).
 */
int64_t lock_policy_get_idle_since(const LockPolicy *policy);
