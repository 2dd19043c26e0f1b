/* SPDX-License-Identifier: MIT */
/*
 * A test double of daemon/service.h for the bus tests: it keeps the state
 * the bus layer reads, records every call the bus layer makes, and lets a
 * test drive the observer (presence, property and subscription events).
 */
#pragma once

#include <stdio.h>

#include "service.h"

Service *fake_service_new(void);
void fake_service_free(Service *service);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Service, fake_service_free)

/* Calls made so far, one line each, e.g.
 * "set_presence show=away status=brb priority=5 nick=(null) to=(null)";
 * transfer none. fake_service_clear_calls() forgets them. */
const GPtrArray *fake_service_get_calls(const Service *service);
void fake_service_clear_calls(Service *service);
/* Also print each call to out as it happens (NULL: don't). */
void fake_service_set_log(Service *service, FILE *out);

/* The next mutating call fails with this error (once). */
void fake_service_fail_next(Service *service, ServiceError code,
			    const char *message);

/* Sets State/StateReason/StateMessage and tells the observer. */
void fake_service_set_state(Service *service, ServiceState state,
			    const char *reason, const char *message);
void fake_service_set_jid(Service *service, const char *jid);
void fake_service_set_roster_ready(Service *service, bool ready);

/* Updates the contact table like the real service does, and calls
 * presence_changed when the table reports a change. */
void fake_service_contact_online(Service *service, const char *bare,
				 const char *resource, PresenceShow show,
				 const char *status, int priority);
void fake_service_contact_offline(Service *service, const char *bare,
				  const char *resource, const char *status);
void fake_service_roster_item(Service *service, const char *bare,
			      const char *name, RosterSubscription sub,
			      const char *const *groups);
/* The same as a roster push does it (roster_apply_item_full): ask is our
 * pending request; roster_changed is called when the item really changed,
 * then presence_changed when its presence did. */
void fake_service_roster_item_full(Service *service, const char *bare,
				   const char *name, RosterSubscription sub,
				   bool ask, const char *const *groups);
/* A push with subscription='remove'. */
void fake_service_roster_remove(Service *service, const char *bare);
/* Emits presence_changed directly, without touching the table (for text
 * that the table would never hold, such as invalid UTF-8). */
void fake_service_emit_presence(Service *service, const char *jid,
				PresenceShow show, const char *status);

/* How many times the bus layer asked for the output to be flushed, and
 * how many calls were recorded at the last time. */
unsigned fake_service_get_flushes(const Service *service,
				  unsigned *ret_calls_at_flush);
/* Tells the observer the server's input is drained (input_drained). */
void fake_service_input_drained(Service *service);

/* Replaces what Blocked reads and notifies "Blocked" (as a push). */
void fake_service_set_blocked(Service *service, const char *const *items);
/* What GetContactClients answers for bare (in order of addition). */
void fake_service_add_client(Service *service, const char *bare,
			     const char *resource, const char *type,
			     const char *name, const char *const *features);

/* Adds a pending request and emits subscription_requested. */
void fake_service_request(Service *service, const char *jid,
			  const char *message);

/* When set, every successful set_presence also reports echo_jid's presence
 * as the show and status just set, so a test can make PresenceChanged
 * happen over the bus. NULL: off. */
void fake_service_set_echo(Service *service, const char *echo_jid);
