/* SPDX-License-Identifier: MIT */
/*
 * The Service's roster and subscription methods (issue #4): subscribe,
 * unsubscribe, answer a request, remove a roster item, and the pending
 * inbound requests. Arguments are judged by validate.c before anything is
 * sent; the session does the protocol.
 */
#include "config.h"

#include "core/roster.h"
#include "daemon/service-private.h"
#include "daemon/validate.h"

const SubscriptionRequests *
service_get_subscription_requests(const Service *service)
{
	return service->requests;
}

static bool send_subscription(Service *service, PresenceType type,
			      const char *jid, const char *nick,
			      const char *message, const char *what,
			      GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);

	if (!bare)
		return false;
	if (message && !validate_text("message", message,
				      PRESENCE_MAX_STATUS_BYTES, error))
		return false;
	if (!service_check_online(service, what, error))
		return false;
	if (!xmpp_session_send_subscription(service->session, type, bare, nick,
					    message)) {
		g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_FAILED,
			    "%s for %s not sent", what, bare);
		return false;
	}
	if (type == PRESENCE_TYPE_SUBSCRIBED ||
	    type == PRESENCE_TYPE_UNSUBSCRIBED)
		(void)subscription_requests_remove(service->requests, bare);
	return true;
}

bool service_subscribe(Service *service, const char *jid, const char *message,
		       GError **error)
{
	/* XEP-0172 §4.2: the nick goes with the subscription request. */
	return send_subscription(service, PRESENCE_TYPE_SUBSCRIBE, jid,
				 service->nick,
				 message && *message ? message : NULL,
				 "a subscription request", error);
}

bool service_unsubscribe(Service *service, const char *jid, GError **error)
{
	return send_subscription(service, PRESENCE_TYPE_UNSUBSCRIBE, jid, NULL,
				 NULL, "unsubscribing", error);
}

bool service_authorize(Service *service, const char *jid, bool allow,
		       GError **error)
{
	g_autofree char *bare = NULL;

	if (!allow)
		/* Denies a request, or cancels the contact's subscription
		 * to us (RFC 6121 §3.2.1): always meaningful. */
		return send_subscription(service, PRESENCE_TYPE_UNSUBSCRIBED,
					 jid, NULL, NULL, "answering a request",
					 error);
	bare = validate_jid("jid", jid, false, error);
	if (!bare ||
	    !service_check_online(service, "answering a request", error))
		return false;
	switch (roster_decide_authorize(
		subscription_requests_has(service->requests, bare),
		contacts_lookup(service->contacts, bare),
		xmpp_session_has_pre_approval(service->session))) {
	case ROSTER_AUTHORIZE_APPROVE:
	case ROSTER_AUTHORIZE_PRE_APPROVE:
		break;
	case ROSTER_AUTHORIZE_NOOP:
		return true;
	case ROSTER_AUTHORIZE_UNSUPPORTED:
		/* RFC 6121 §3.4: no pre-approval without the feature. */
		g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_FAILED,
			    "%s has not asked for a subscription, and the "
			    "server does not support pre-approval",
			    bare);
		return false;
	}
	return send_subscription(service, PRESENCE_TYPE_SUBSCRIBED, bare, NULL,
				 NULL, "answering a request", error);
}

bool service_remove_contact(Service *service, const char *jid, GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);
	const Contact *c;

	if (!bare)
		return false;
	c = contacts_lookup(service->contacts, bare);
	if (!c || !contact_is_in_roster(c))
		return true; /* CONTRACT.md: nothing happens */
	if (!service_check_online(service, "removing a contact", error))
		return false;
	if (!xmpp_session_remove_roster_item(service->session, bare)) {
		g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_FAILED,
			    "removing %s not sent", bare);
		return false;
	}
	/* The server's push removes it from the table (§2.5.2); a request
	 * of the contact is answered by the removal (§2.5.2 unsubscribed). */
	(void)subscription_requests_remove(service->requests, bare);
	return true;
}
