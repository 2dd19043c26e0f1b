/* SPDX-License-Identifier: MIT */
/*
 * When to try again (CONTRACT.md additions v3, "Staying connected"): which
 * ends of a session stop the daemon's own attempts, and how many attempts
 * a minute there may be. Pure: no clock, no timers; the service passes the
 * time in and keeps the timers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/xmpp-session.h"

/* How a session ended, as far as the retry decision needs it. */
typedef struct {
	XmppSessionEnd reason;
	/* The ending element arrived inside TLS whose certificate verified
	 * (session-sink.h): only then can the server be believed. */
	bool tls_verified;
	/* The session's error message (XMPP_SESSION_ERROR), NULL for none. */
	const char *message;
	/* The JID's domain, as the session names it in messages. */
	const char *domain;
} RetryPolicyEnd;

/*
 * True when retrying cannot help and the daemon waits for SIGHUP or a
 * SetPresence: the server rejected our credentials over verified TLS
 * (a SASL <failure/> other than temporary-auth-failure), or another
 * client took our resource (conflict) over verified TLS. Everything else
 * (a certificate or STARTTLS failure, a SCRAM exchange whose server could
 * not prove it knows the password, stream errors, timeouts, drops, and
 * anything received before TLS) is retried. REQUESTED is no failure:
 * false. A config error never gets this far (the session is not made).
 */
bool retry_policy_is_final(const RetryPolicyEnd *end);

/*
 * The last few connection attempts, to keep them to a handful a minute
 * whatever asks for them (back-off, network changes). Zero-initialise.
 */
#define RETRY_POLICY_WINDOW_US ((int64_t)60 * 1000 * 1000)
#define RETRY_POLICY_MAX_PER_WINDOW 5
/* Slack on top of the window (see retry_policy_earliest). */
#define RETRY_POLICY_MARGIN_US ((int64_t)500 * 1000)
typedef struct {
	int64_t at[RETRY_POLICY_MAX_PER_WINDOW]; /* 0: unused */
	unsigned next;				 /* oldest entry */
} RetryPolicyWindow;

/* An attempt starts at now (monotonic microseconds, > 0). */
void retry_policy_note_attempt(RetryPolicyWindow *window, int64_t now);
/*
 * The earliest time an automatic attempt may start: now or later. What a
 * person asks for (SetPresence, SIGHUP, waking up) is not held back, but
 * counts.
 */
int64_t retry_policy_earliest(const RetryPolicyWindow *window, int64_t now);
