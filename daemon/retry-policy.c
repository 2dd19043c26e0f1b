/* SPDX-License-Identifier: MIT */
/*
 * The retry rule of CONTRACT.md ("Staying connected") and the per-minute
 * bound on connection attempts. See retry-policy.h.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "daemon/retry-policy.h"

/*
 * RFC 6120 §6.5 conditions that mean "these credentials will not do":
 * retrying would only repeat the rejection (and may lock the account).
 * temporary-auth-failure (§6.5.12) and aborted (an answer to an abort we
 * never send) are left out: they are retried.
 */
static const char *const final_conditions[] = {
	"account-disabled",   "credentials-expired", "encryption-required",
	"incorrect-encoding", "invalid-authzid",     "invalid-mechanism",
	"malformed-request",  "mechanism-too-weak",  "not-authorized",
};

static bool is_final_condition(const char *name, size_t len)
{
	for (size_t i = 0; i < G_N_ELEMENTS(final_conditions); i++)
		if (strlen(final_conditions[i]) == len &&
		    strncmp(final_conditions[i], name, len) == 0)
			return true;
	return false;
}

/*
 * The server's own SASL <failure/>, as opposed to our refusal of what it
 * sent (bad server signature, hostile iteration count, malformed data).
 * TODO(#12): the session should say so itself; until it does, its
 * message "authentication with DOMAIN failed: CONDITION[: text]" is the
 * only place the difference shows. Our own refusals there start with a
 * capitalised sentence, never a lower-case condition name, and anything
 * unrecognised is retried, so a change of wording fails safe (retrying).
 */
static bool is_server_rejection(const char *message, const char *domain)
{
	g_autofree char *prefix = NULL;
	const char *cond;
	size_t len;

	if (!message || !domain)
		return false;
	/* Domain names compare without case (RFC 7622 §3.2). */
	prefix = g_strdup_printf("authentication with %s failed: ", domain);
	if (g_ascii_strncasecmp(message, prefix, strlen(prefix)) != 0)
		return false;
	cond = message + strlen(prefix);
	len = strcspn(cond, ": ");
	return is_final_condition(cond, len);
}

bool retry_policy_is_final(const RetryPolicyEnd *end)
{
	g_return_val_if_fail(end != NULL, false);

	/* Nothing unauthenticated can end our attempts (CONTRACT.md). */
	if (!end->tls_verified)
		return false;
	switch (end->reason) {
	case XMPP_SESSION_END_AUTH_FAILED:
		return is_server_rejection(end->message, end->domain);
	case XMPP_SESSION_END_CONFLICT:
		/* RFC 6120 §4.9.3.3: coming back would throw the other
		 * client out in turn, and so on for ever. */
		return true;
	case XMPP_SESSION_END_REQUESTED:
	case XMPP_SESSION_END_NETWORK:
	case XMPP_SESSION_END_TLS_FAILED:
	case XMPP_SESSION_END_SERVER_ERROR:
		return false;
	}
	return false;
}

void retry_policy_note_attempt(RetryPolicyWindow *window, int64_t now)
{
	g_return_if_fail(window != NULL);

	window->at[window->next] = now;
	window->next = (window->next + 1) % RETRY_POLICY_MAX_PER_WINDOW;
}

int64_t retry_policy_earliest(const RetryPolicyWindow *window, int64_t now)
{
	int64_t oldest;

	g_return_val_if_fail(window != NULL, now);

	/* The slot to be overwritten next holds the oldest of the last few
	 * attempts: a new one may start a window after it, plus a margin,
	 * since the server counts connections when they arrive and those
	 * lag the attempt by a varying few milliseconds. */
	oldest = window->at[window->next];
	if (oldest == 0 ||
	    oldest + RETRY_POLICY_WINDOW_US + RETRY_POLICY_MARGIN_US <= now)
		return now;
	return oldest + RETRY_POLICY_WINDOW_US + RETRY_POLICY_MARGIN_US;
}
