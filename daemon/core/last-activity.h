/* SPDX-License-Identifier: MIT */
/*
 * Last activity (XEP-0012) without I/O: the reply to a query sent to our
 * full JID (§4: the seconds since the user was last active), and who may
 * have it. The idle time tells people whether someone is at the desk, so
 * only contacts already allowed to see our presence get it (the
 * contract); everyone else gets <service-unavailable/>, exactly what an
 * entity without XEP-0012 answers, so refusing reveals nothing.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/contacts.h"
#include "core/stanza.h"

#define NS_LAST_ACTIVITY "jabber:iq:last"

/* The iq is a get whose payload is <query xmlns='jabber:iq:last'/>. */
bool last_activity_is_query(const Stanza *iq);

/*
 * Whether a query from a contact with this roster subscription is
 * answered: 'from' or 'both' (the contact is subscribed to our presence).
 * Not in the roster reads as ROSTER_SUBSCRIPTION_NONE.
 */
bool last_activity_may_answer(RosterSubscription sub);

/* <query xmlns='jabber:iq:last' seconds='N'/>, the result payload.
 * Transfer full. */
Stanza *last_activity_build_result(uint64_t seconds_idle);
