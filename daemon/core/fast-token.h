/* SPDX-License-Identifier: MIT */
/*
 * The HT-SHA-256-* SASL mechanisms (draft-schmaus-kitten-sasl-ht) that
 * XEP-0484 (FAST) uses to log in with a token the server gave us: which
 * variant to pick from what the server offers, the initial response
 * (username NUL HMAC-SHA-256(token, "Initiator" || cb-data)) and the check
 * of the server's answer (HMAC-SHA-256(token, "Responder" || cb-data)).
 * Pure computation (HMAC from GnuTLS): no I/O, no base64, no logging. The
 * token is a secret: every buffer made from it is wiped before it is freed.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/sasl-scram.h"

/* Weakest first, like SaslMechanism. */
typedef enum {
	FAST_MECHANISM_NONE,
	FAST_MECHANISM_HT_SHA_256_NONE, /* no channel binding */
	FAST_MECHANISM_HT_SHA_256_ENDP, /* tls-server-end-point (RFC 5929) */
	FAST_MECHANISM_HT_SHA_256_EXPR, /* tls-exporter (RFC 9266, TLS 1.3) */
} FastMechanism;

/* "HT-SHA-256-EXPR"…; "" for NONE. Static string. */
const char *fast_mechanism_to_string(FastMechanism mech);
/* The mechanism of that name (case-sensitive), NONE when not ours
 * (HT-SHA-256-UNIQ, other hashes). */
FastMechanism fast_mechanism_from_string(const char *name);
/* The channel binding the variant needs (NONE for -NONE). */
SaslChannelBinding fast_mechanism_get_binding(FastMechanism mech);

/*
 * The strongest variant among the offered names (NULL-terminated, may be
 * NULL) whose binding we can compute here: computable is a set of
 * SASL_CHANNEL_BINDING_BIT (tls-exporter only on TLS 1.3, as for SCRAM).
 * -EXPR over -ENDP over -NONE; NONE when nothing fits.
 */
FastMechanism fast_mechanism_choose(const char *const *offered,
				    unsigned computable);

/*
 * The initial response: username, NUL, then HMAC-SHA-256 keyed with the
 * token's bytes over "Initiator" followed by cb_data (NULL or empty for
 * -NONE). Transfer full; wipe it after use.
 */
GBytes *fast_initial_response(const char *username, const char *token,
			      GBytes *cb_data);

/* Whether data (the server's <additional-data/>, decoded) is exactly
 * HMAC-SHA-256(token, "Responder" || cb_data): the server knows the token
 * and is on our channel. Constant-time comparison. */
bool fast_verify_responder(const char *token, GBytes *cb_data,
			   const guint8 *data, size_t len);
