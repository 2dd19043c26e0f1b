/* SPDX-License-Identifier: MIT */
/*
 * XEP-0012 last activity: the reply and the subscription rule.
 */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "core/last-activity.h"
#include "core/roster.h"

bool last_activity_is_query(const Stanza *iq)
{
	const Stanza *q = stanza_get_child(iq, "query", NS_LAST_ACTIVITY);

	return q != NULL && strcmp(stanza_get_name(iq), "iq") == 0 &&
	       g_strcmp0(stanza_get_attr(iq, "type"), "get") == 0;
}

bool last_activity_may_answer(RosterSubscription sub)
{
	/* One owner of "subscribed to our presence": roster.c. */
	return roster_subscription_has_from(sub);
}

Stanza *last_activity_build_result(uint64_t seconds_idle)
{
	Stanza *q = stanza_new("query", NS_LAST_ACTIVITY);
	char seconds[24];

	g_snprintf(seconds, sizeof(seconds), "%" PRIu64, seconds_idle);
	stanza_set_attr(q, "seconds", seconds);
	return q;
}
