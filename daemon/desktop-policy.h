/* SPDX-License-Identifier: MIT */
/*
 * What the desktop does to the user's own presence (CONTRACT.md, "Desktop:
 * idle, Do Not Disturb, more screen lockers" and away-on-lock), as pure
 * decisions with no bus and no clock of its own. It owns the stacking of
 * causes:
 *
 *   1. the user's own presence (SetPresence or the config) comes first:
 *      only "available" and "chat" are ever replaced, and a cause that was
 *      already active when the user set a presence no longer applies until
 *      it ends (the user's later choice wins, and is kept when it ends);
 *   2. then desktop Do Not Disturb (dnd-follows-desktop): dnd;
 *   3. then the least available of idle xa, screen locked (away-on-lock:
 *      away) and idle away: a lock while idle xa changes nothing;
 *   4. when no cause applies, the user's presence is what is shown.
 *
 * Status text is always the user's. Repeated reports change nothing, and
 * every setter says whether what is shown changed, so the caller sends
 * presence only then (no flapping).
 *
 * Also here, as pure helpers: "any of N sources" (DesktopSources, for the
 * screen lockers and the DND sources) and the idle thresholds.
 *
 * The Service (service.c) owns one DesktopPolicy; bus-desktop*.c feed it.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/presence.h"

/* ---- sources: on while any says so -------------------------------------- */

/* At most 32 sources, numbered by the caller (bus-desktop*.c). */
typedef struct {
	uint32_t on; /* bit n: source n says on */
} DesktopSources;

#define DESKTOP_SOURCES_INIT                                                   \
	{                                                                      \
		0                                                              \
	}
#define DESKTOP_SOURCES_MAX 32u

/*
 * Source `source` (< DESKTOP_SOURCES_MAX) now says on or off. True when the
 * aggregate (any source on) changed, false otherwise, e.g. for a repeated
 * signal or a second source agreeing with the first.
 */
bool desktop_sources_set(DesktopSources *sources, unsigned source, bool on);
bool desktop_sources_is_on(const DesktopSources *sources);
bool desktop_sources_source_is_on(const DesktopSources *sources,
				  unsigned source);

/* ---- idle thresholds ---------------------------------------------------- */

typedef enum {
	DESKTOP_IDLE_NONE,
	DESKTOP_IDLE_AWAY,
	DESKTOP_IDLE_XA,
} DesktopIdle;

/*
 * The idle level after idle_ms of inactivity, with away-after and xa-after
 * in minutes (0: that level is off).
 */
DesktopIdle desktop_idle_level(uint64_t idle_ms, unsigned away_after,
			       unsigned xa_after);
/*
 * The inactivity (ms) at which the level next goes up from idle_ms, or 0
 * when it cannot go higher: when a poller should look again.
 */
uint64_t desktop_idle_next_ms(uint64_t idle_ms, unsigned away_after,
			      unsigned xa_after);

/* ---- the presence policy ------------------------------------------------ */

typedef enum {
	DESKTOP_CAUSE_USER, /* the user or an app (SetPresence, config) */
	DESKTOP_CAUSE_DND,
	DESKTOP_CAUSE_LOCK,
	DESKTOP_CAUSE_IDLE,
} DesktopCause;

/* "user", "dnd", "lock", "idle" (the PresenceCause property). */
const char *desktop_cause_to_string(DesktopCause cause);

typedef struct {
	bool away_on_lock;
	bool dnd_follows_desktop;
} DesktopOptions;

typedef struct _DesktopPolicy DesktopPolicy;

/*
 * The user's presence is (show, status) (status NULL counts as ""); no
 * cause active; both options on. Transfer full.
 */
DesktopPolicy *desktop_policy_new(PresenceShow show, const char *status);
void desktop_policy_free(DesktopPolicy *policy);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DesktopPolicy, desktop_policy_free)

/* A reload: the causes are applied anew with these. True: shown changed. */
bool desktop_policy_set_options(DesktopPolicy *policy,
				const DesktopOptions *options);

/*
 * The user or an app set own presence. It is shown at once: every cause
 * active now is set aside until it ends. True when what is shown changed.
 */
bool desktop_policy_set_user(DesktopPolicy *policy, PresenceShow show,
			     const char *status);

/*
 * The screen locked (since: unix seconds of the lock, for XEP-0319) or
 * unlocked (since ignored). A repeated value changes nothing, and keeps
 * the first lock time. True when what is shown changed.
 */
bool desktop_policy_set_locked(DesktopPolicy *policy, bool locked,
			       int64_t since);
/* The desktop's Do Not Disturb. True when what is shown changed. */
bool desktop_policy_set_dnd(DesktopPolicy *policy, bool dnd);
/*
 * The idle level, and since when the user is inactive (unix seconds,
 * ignored for DESKTOP_IDLE_NONE; an idle period keeps its first start).
 * True when what is shown changed.
 */
bool desktop_policy_set_idle(DesktopPolicy *policy, DesktopIdle level,
			     int64_t since);

/* What to show now. The status is borrowed until the next call. */
PresenceShow desktop_policy_get_show(const DesktopPolicy *policy);
const char *desktop_policy_get_status(const DesktopPolicy *policy);
DesktopCause desktop_policy_get_cause(const DesktopPolicy *policy);
/*
 * XEP-0319 idle time for the presence broadcast: while an automatic
 * presence is shown, the earliest start of the lock or inactivity that is
 * in force; else 0 (no <idle/>).
 */
int64_t desktop_policy_get_idle_since(const DesktopPolicy *policy);

/* The user's own presence, kept under any cause. */
PresenceShow desktop_policy_get_user_show(const DesktopPolicy *policy);
const char *desktop_policy_get_user_status(const DesktopPolicy *policy);

bool desktop_policy_is_locked(const DesktopPolicy *policy);
bool desktop_policy_is_dnd(const DesktopPolicy *policy);
DesktopIdle desktop_policy_get_idle(const DesktopPolicy *policy);
