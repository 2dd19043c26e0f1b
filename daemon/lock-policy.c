/* SPDX-License-Identifier: MIT */
/* Screen lock → own presence decisions; see lock-policy.h. */
#include "config.h"

#include "daemon/lock-policy.h"

bool lock_sources_set(LockSources *sources, unsigned source, bool locked)
{
	bool before;
	uint32_t bit;

	g_return_val_if_fail(sources != NULL, false);
	g_return_val_if_fail(source < LOCK_SOURCES_MAX, false);

	before = sources->locked != 0;
	bit = (uint32_t)1 << source;
	if (locked)
		sources->locked |= bit;
	else
		sources->locked &= ~bit;
	return before != (sources->locked != 0);
}

bool lock_sources_is_locked(const LockSources *sources)
{
	return sources->locked != 0;
}

bool lock_sources_source_is_locked(const LockSources *sources, unsigned source)
{
	return source < LOCK_SOURCES_MAX &&
	       (sources->locked & ((uint32_t)1 << source)) != 0;
}

struct _LockPolicy {
	bool locked;
	bool applied;		 /* our away is in place since the lock */
	PresenceShow saved_show; /* what to restore, when applied */
	char *saved_status;
	int64_t locked_since; /* unix seconds */
};

LockPolicy *lock_policy_new(void)
{
	return g_new0(LockPolicy, 1);
}

void lock_policy_free(LockPolicy *policy)
{
	if (!policy)
		return;
	g_free(policy->saved_status);
	g_free(policy);
}

/* Only a presence that says "here and reachable" is turned into away. */
static bool lock_may_replace(PresenceShow show)
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

bool lock_policy_lock(LockPolicy *policy, bool away_on_lock, PresenceShow show,
		      const char *status, int64_t now)
{
	g_return_val_if_fail(policy != NULL, false);

	if (policy->locked)
		return false; /* a repeated lock changes nothing */
	policy->locked = true;
	policy->locked_since = now;
	if (!away_on_lock || !lock_may_replace(show))
		return false;
	policy->applied = true;
	policy->saved_show = show;
	g_free(policy->saved_status);
	policy->saved_status = g_strdup(status ? status : "");
	return true;
}

bool lock_policy_unlock(LockPolicy *policy, PresenceShow *ret_show,
			char **ret_status)
{
	bool applied;

	g_return_val_if_fail(policy != NULL, false);
	g_return_val_if_fail(ret_show != NULL && ret_status != NULL, false);

	if (!policy->locked)
		return false;
	applied = policy->applied;
	policy->locked = false;
	policy->applied = false;
	policy->locked_since = 0;
	if (!applied) {
		g_clear_pointer(&policy->saved_status, g_free);
		return false;
	}
	*ret_show = policy->saved_show;
	*ret_status = g_steal_pointer(&policy->saved_status);
	return true;
}

void lock_policy_presence_set(LockPolicy *policy)
{
	g_return_if_fail(policy != NULL);

	policy->applied = false;
	g_clear_pointer(&policy->saved_status, g_free);
}

bool lock_policy_is_locked(const LockPolicy *policy)
{
	return policy->locked;
}

bool lock_policy_is_away_applied(const LockPolicy *policy)
{
	return policy->applied;
}

int64_t lock_policy_get_idle_since(const LockPolicy *policy)
{
	return policy->applied ? policy->locked_since : 0;
}
