/* SPDX-License-Identifier: MIT */
/*
 * The bounded table of pending subscription requests (see the header): an
 * array in order of arrival. Look-ups are linear: the bound is small and
 * requests are rare next to presence.
 */
#include "config.h"

#include <string.h>

#include "daemon/subscription-requests.h"

typedef struct {
	char *jid;
	char *message;
} Request;

struct _SubscriptionRequests {
	GArray *items; /* of Request */
	size_t max;
};

static void request_clear(void *data)
{
	Request *r = data;

	g_free(r->jid);
	g_free(r->message);
}

SubscriptionRequests *subscription_requests_new(size_t max)
{
	SubscriptionRequests *requests;

	g_return_val_if_fail(max > 0, NULL);

	requests = g_new0(SubscriptionRequests, 1);
	requests->items = g_array_new(FALSE, TRUE, sizeof(Request));
	g_array_set_clear_func(requests->items, request_clear);
	requests->max = max;
	return requests;
}

void subscription_requests_free(SubscriptionRequests *requests)
{
	if (!requests)
		return;
	g_array_unref(requests->items);
	g_free(requests);
}

static Request *at(const SubscriptionRequests *requests, size_t index)
{
	return &g_array_index(requests->items, Request, index);
}

/* The index of jid's request, or -1. */
static gssize find(const SubscriptionRequests *requests, const char *jid)
{
	for (guint i = 0; i < requests->items->len; i++)
		if (strcmp(at(requests, i)->jid, jid) == 0)
			return (gssize)i;
	return -1;
}

bool subscription_requests_insert(SubscriptionRequests *requests,
				  const char *jid, const char *message)
{
	gssize i;
	Request r;

	g_return_val_if_fail(requests && jid, false);

	i = find(requests, jid);
	if (i >= 0) {
		Request *old = at(requests, (size_t)i);

		g_free(old->message);
		old->message = g_strdup(message ? message : "");
		return false;
	}
	if (requests->items->len >= requests->max)
		g_array_remove_index(requests->items, 0);
	r.jid = g_strdup(jid);
	r.message = g_strdup(message ? message : "");
	g_array_append_val(requests->items, r);
	return true;
}

bool subscription_requests_remove(SubscriptionRequests *requests,
				  const char *jid)
{
	gssize i;

	g_return_val_if_fail(requests && jid, false);

	i = find(requests, jid);
	if (i < 0)
		return false;
	g_array_remove_index(requests->items, (guint)i);
	return true;
}

void subscription_requests_remove_if(SubscriptionRequests *requests,
				     bool (*drop)(const char *jid,
						  void *user_data),
				     void *user_data)
{
	g_return_if_fail(requests && drop);

	for (guint i = 0; i < requests->items->len;) {
		if (drop(at(requests, i)->jid, user_data))
			g_array_remove_index(requests->items, i);
		else
			i++;
	}
}

void subscription_requests_clear(SubscriptionRequests *requests)
{
	g_return_if_fail(requests);

	g_array_set_size(requests->items, 0);
}

bool subscription_requests_has(const SubscriptionRequests *requests,
			       const char *jid)
{
	g_return_val_if_fail(requests && jid, false);

	return find(requests, jid) >= 0;
}

size_t subscription_requests_get_count(const SubscriptionRequests *requests)
{
	g_return_val_if_fail(requests, 0);

	return requests->items->len;
}

const char *subscription_requests_get_jid(const SubscriptionRequests *requests,
					  size_t index)
{
	g_return_val_if_fail(requests && index < requests->items->len, NULL);

	return at(requests, index)->jid;
}

const char *
subscription_requests_get_message(const SubscriptionRequests *requests,
				  size_t index)
{
	g_return_val_if_fail(requests && index < requests->items->len, NULL);

	return at(requests, index)->message;
}
