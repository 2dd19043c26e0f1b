/* SPDX-License-Identifier: MIT */
/*
 * Pending inbound subscription requests (RFC 6121 §3.1.2): a bounded
 * table of (bare JID, message) in order of arrival. Anyone can ask, so the
 * table holds at most the bound it was made with (STYLE.md §3): a new
 * request into a full table drops the oldest. A repeated request replaces
 * the message and keeps its place (CONTRACT.md ListSubscriptionRequests).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/* What the daemon keeps. */
#define SUBSCRIPTION_REQUESTS_MAX 1000u

typedef struct _SubscriptionRequests SubscriptionRequests;

/* An empty table holding at most max (> 0) requests. Transfer full. */
SubscriptionRequests *subscription_requests_new(size_t max);
/* NULL-safe. */
void subscription_requests_free(SubscriptionRequests *requests);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SubscriptionRequests, subscription_requests_free)

/*
 * Inserts the request of jid, or replaces its message when jid has one
 * already. message NULL is "". Both are copied. Returns true when jid is
 * new (the oldest was dropped if the table was full).
 */
bool subscription_requests_insert(SubscriptionRequests *requests,
				  const char *jid, const char *message);
/* Removes the request of jid. Returns whether there was one. */
bool subscription_requests_remove(SubscriptionRequests *requests,
				  const char *jid);
/* Removes every request for which drop(jid, user_data) is true. */
void subscription_requests_remove_if(SubscriptionRequests *requests,
				     bool (*drop)(const char *jid,
						  void *user_data),
				     void *user_data);
/* Removes them all. */
void subscription_requests_clear(SubscriptionRequests *requests);

bool subscription_requests_has(const SubscriptionRequests *requests,
			       const char *jid);
size_t subscription_requests_get_count(const SubscriptionRequests *requests);
/*
 * The index-th request in order of arrival (index < count): its JID and
 * message. Transfer none, valid until the table next changes.
 */
const char *subscription_requests_get_jid(const SubscriptionRequests *requests,
					  size_t index);
const char *
subscription_requests_get_message(const SubscriptionRequests *requests,
				  size_t index);
