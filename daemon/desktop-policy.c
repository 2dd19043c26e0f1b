/* SPDX-License-Identifier: MIT */
/*
 * The desktop policy (desktop-policy.h): which sources report a cause,
 * and how the user's own presence, DND, lock and idle stack into what is
 * shown. Pure: no I/O, no clock; the service feeds it and sends.
 */
#include "config.h"

#include "daemon/desktop-policy.h"

/* ---- sources ------------------------------------------------------------ */

bool desktop_sources_set(DesktopSources *sources, unsigned source, bool on)
{
	bool before;
	uint32_t bit;

	g_return_val_if_fail(sources != NULL, false);
	g_return_val_if_fail(source < DESKTOP_SOURCES_MAX, false);

	before = sources->on != 0;
	bit = (uint32_t)1 << source;
	if (on)
		sources->on |= bit;
	else
		sources->on &= ~bit;
	return before != (sources->on != 0);
}

bool desktop_sources_is_on(const DesktopSources *sources)
{
	return sources->on != 0;
}

bool desktop_sources_source_is_on(const DesktopSources *sources,
				  unsigned source)
{
	return source < DESKTOP_SOURCES_MAX &&
	       (sources->on & ((uint32_t)1 << source)) != 0;
}

/* ---- idle thresholds ---------------------------------------------------- */

static uint64_t minutes_ms(unsigned minutes)
{
	return (uint64_t)minutes * 60u * 1000u;
}

DesktopIdle desktop_idle_level(uint64_t idle_ms, unsigned away_after,
			       unsigned xa_after)
{
	if (xa_after && idle_ms >= minutes_ms(xa_after))
		return DESKTOP_IDLE_XA;
	if (away_after && idle_ms >= minutes_ms(away_after))
		return DESKTOP_IDLE_AWAY;
	return DESKTOP_IDLE_NONE;
}

uint64_t desktop_idle_next_ms(uint64_t idle_ms, unsigned away_after,
			      unsigned xa_after)
{
	uint64_t away = minutes_ms(away_after), xa = minutes_ms(xa_after);

	if (xa_after && idle_ms >= xa)
		return 0;
	/* Away at or past xa-after would never be seen: xa comes first. */
	if (away_after && idle_ms < away && (!xa_after || away < xa))
		return away;
	return xa_after ? xa : 0;
}

/* ---- the policy --------------------------------------------------------- */

const char *desktop_cause_to_string(DesktopCause cause)
{
	switch (cause) {
	case DESKTOP_CAUSE_USER:
		return "user";
	case DESKTOP_CAUSE_DND:
		return "dnd";
	case DESKTOP_CAUSE_LOCK:
		return "lock";
	case DESKTOP_CAUSE_IDLE:
		return "idle";
	}
	return "user";
}

struct _DesktopPolicy {
	DesktopOptions options;
	PresenceShow user_show;
	char *user_status;

	bool locked;
	int64_t locked_since;
	bool dnd;
	DesktopIdle idle;
	int64_t idle_since;

	/* Active when the user last set a presence: set aside until it ends. */
	bool lock_set_aside;
	bool dnd_set_aside;
	bool idle_set_aside;

	/* What is shown, as last computed. */
	PresenceShow show;
	DesktopCause cause;
	int64_t shown_idle_since;
};

/* Only a presence that says "here and reachable" is ever replaced. */
static bool may_replace(PresenceShow show)
{
	switch (show) {
	case PRESENCE_SHOW_AVAILABLE:
	case PRESENCE_SHOW_CHAT:
		return true;
	case PRESENCE_SHOW_AWAY:
	case PRESENCE_SHOW_XA:
	case PRESENCE_SHOW_DND:
	case PRESENCE_SHOW_OFFLINE:
	case PRESENCE_SHOW_UNKNOWN:
		return false;
	}
	return false;
}

static bool lock_applies(const DesktopPolicy *p)
{
	return p->locked && !p->lock_set_aside && p->options.away_on_lock;
}

static bool idle_applies(const DesktopPolicy *p)
{
	return p->idle != DESKTOP_IDLE_NONE && !p->idle_set_aside;
}

/* The cause in force, by the order of desktop-policy.h. */
static DesktopCause pick_cause(const DesktopPolicy *p)
{
	if (!may_replace(p->user_show))
		return DESKTOP_CAUSE_USER;
	if (p->dnd && !p->dnd_set_aside && p->options.dnd_follows_desktop)
		return DESKTOP_CAUSE_DND;
	/* xa is the least available; a lock and idle away are both away,
	 * and the lock is the stronger statement of the two. */
	if (idle_applies(p) && p->idle == DESKTOP_IDLE_XA)
		return DESKTOP_CAUSE_IDLE;
	if (lock_applies(p))
		return DESKTOP_CAUSE_LOCK;
	if (idle_applies(p))
		return DESKTOP_CAUSE_IDLE;
	return DESKTOP_CAUSE_USER;
}

static PresenceShow cause_show(const DesktopPolicy *p, DesktopCause cause)
{
	switch (cause) {
	case DESKTOP_CAUSE_USER:
		return p->user_show;
	case DESKTOP_CAUSE_DND:
		return PRESENCE_SHOW_DND;
	case DESKTOP_CAUSE_LOCK:
		return PRESENCE_SHOW_AWAY;
	case DESKTOP_CAUSE_IDLE:
		return p->idle == DESKTOP_IDLE_XA ? PRESENCE_SHOW_XA
						  : PRESENCE_SHOW_AWAY;
	}
	return p->user_show;
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return MIN(a, b);
}

static int64_t cause_idle_since(const DesktopPolicy *p, DesktopCause cause)
{
	int64_t since = 0;

	if (cause == DESKTOP_CAUSE_USER)
		return 0;
	if (lock_applies(p))
		since = p->locked_since;
	if (idle_applies(p))
		since = earliest(since, p->idle_since);
	return since;
}

/* Recomputes what is shown; true when it changed. */
static bool update(DesktopPolicy *p)
{
	DesktopCause cause = pick_cause(p);
	PresenceShow show = cause_show(p, cause);
	int64_t since = cause_idle_since(p, cause);
	bool changed = show != p->show || cause != p->cause ||
		       since != p->shown_idle_since;

	p->show = show;
	p->cause = cause;
	p->shown_idle_since = since;
	return changed;
}

DesktopPolicy *desktop_policy_new(PresenceShow show, const char *status)
{
	DesktopPolicy *p = g_new0(DesktopPolicy, 1);

	p->options.away_on_lock = true;
	p->options.dnd_follows_desktop = true;
	p->user_show = show;
	p->user_status = g_strdup(status ? status : "");
	(void)update(p);
	return p;
}

void desktop_policy_free(DesktopPolicy *policy)
{
	if (!policy)
		return;
	g_free(policy->user_status);
	g_free(policy);
}

bool desktop_policy_set_options(DesktopPolicy *policy,
				const DesktopOptions *options)
{
	g_return_val_if_fail(policy != NULL && options != NULL, false);

	policy->options = *options;
	return update(policy);
}

bool desktop_policy_set_user(DesktopPolicy *policy, PresenceShow show,
			     const char *status)
{
	g_return_val_if_fail(policy != NULL, false);

	policy->user_show = show;
	g_free(policy->user_status);
	policy->user_status = g_strdup(status ? status : "");
	policy->lock_set_aside = policy->locked;
	policy->dnd_set_aside = policy->dnd;
	policy->idle_set_aside = policy->idle != DESKTOP_IDLE_NONE;
	/* The status is the caller's to compare; show and cause are ours. */
	return update(policy);
}

bool desktop_policy_set_locked(DesktopPolicy *policy, bool locked,
			       int64_t since)
{
	g_return_val_if_fail(policy != NULL, false);

	if (locked == policy->locked)
		return false;
	policy->locked = locked;
	policy->locked_since = locked ? since : 0;
	policy->lock_set_aside = false;
	return update(policy);
}

bool desktop_policy_set_dnd(DesktopPolicy *policy, bool dnd)
{
	g_return_val_if_fail(policy != NULL, false);

	if (dnd == policy->dnd)
		return false;
	policy->dnd = dnd;
	policy->dnd_set_aside = false;
	return update(policy);
}

bool desktop_policy_set_idle(DesktopPolicy *policy, DesktopIdle level,
			     int64_t since)
{
	g_return_val_if_fail(policy != NULL, false);

	if (level == policy->idle)
		return false;
	if (level == DESKTOP_IDLE_NONE) {
		policy->idle_since = 0;
		policy->idle_set_aside = false;
	} else if (policy->idle == DESKTOP_IDLE_NONE) {
		policy->idle_since = since;
	}
	/* away → xa is the same period: a set-aside idle stays aside. */
	policy->idle = level;
	return update(policy);
}

PresenceShow desktop_policy_get_show(const DesktopPolicy *policy)
{
	return policy->show;
}

const char *desktop_policy_get_status(const DesktopPolicy *policy)
{
	return policy->user_status;
}

DesktopCause desktop_policy_get_cause(const DesktopPolicy *policy)
{
	return policy->cause;
}

int64_t desktop_policy_get_idle_since(const DesktopPolicy *policy)
{
	return policy->shown_idle_since;
}

PresenceShow desktop_policy_get_user_show(const DesktopPolicy *policy)
{
	return policy->user_show;
}

const char *desktop_policy_get_user_status(const DesktopPolicy *policy)
{
	return policy->user_status;
}

bool desktop_policy_is_locked(const DesktopPolicy *policy)
{
	return policy->locked;
}

bool desktop_policy_is_dnd(const DesktopPolicy *policy)
{
	return policy->dnd;
}

DesktopIdle desktop_policy_get_idle(const DesktopPolicy *policy)
{
	return policy->idle;
}
