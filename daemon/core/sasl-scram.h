/* SPDX-License-Identifier: MIT */
/*
 * SASL client mechanisms: SCRAM-SHA-256(-PLUS), SCRAM-SHA-1(-PLUS)
 * (RFC 5802, RFC 7677) with tls-exporter channel binding (RFC 9266), and
 * PLAIN (RFC 4616), which is only ever chosen inside TLS.
 *
 * Pure computation on bytes: no I/O, no base64 (the session encodes the
 * payloads), no logging. Crypto (hash, HMAC, PBKDF2) comes from GnuTLS.
 * The password is copied and wiped on free.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#define SASL_ERROR (sasl_error_quark())
GQuark sasl_error_quark(void);

typedef enum {
	SASL_ERROR_NO_MECHANISM,     /* nothing we accept was offered */
	SASL_ERROR_BAD_CHALLENGE,    /* malformed server-first/final */
	SASL_ERROR_BAD_NONCE,	     /* server nonce not extending ours */
	SASL_ERROR_BAD_ITERATIONS,   /* i below 4096 or above the bound */
	SASL_ERROR_SERVER_SIGNATURE, /* v= does not verify: possible MITM */
	SASL_ERROR_SERVER_ERROR,     /* e= from the server */
	SASL_ERROR_INVALID_STATE,
} SaslError;

/* Strongest first. */
typedef enum {
	SASL_MECHANISM_NONE,
	SASL_MECHANISM_PLAIN,
	SASL_MECHANISM_SCRAM_SHA_1,
	SASL_MECHANISM_SCRAM_SHA_256,
	SASL_MECHANISM_SCRAM_SHA_1_PLUS,
	SASL_MECHANISM_SCRAM_SHA_256_PLUS,
} SaslMechanism;

/* SCRAM iteration counts outside this range are refused: below is weak, above
 * would freeze the main loop in PBKDF2 (about 0.1 s at the bound). */
#define SASL_SCRAM_MIN_ITERATIONS 4096u
#define SASL_SCRAM_MAX_ITERATIONS 250000u

const char *sasl_mechanism_to_string(SaslMechanism mech); /* "SCRAM-SHA-1" */

/*
 * Picks the strongest mechanism among the offered names (as listed in
 * <mechanisms/>). -PLUS only if have_channel_binding; PLAIN only if
 * tls_active. SASL_MECHANISM_NONE with SASL_ERROR_NO_MECHANISM otherwise.
 */
SaslMechanism sasl_choose_mechanism(const char *const *offered,
				    size_t n_offered, bool tls_active,
				    bool have_channel_binding, GError **error);

typedef struct _SaslClient SaslClient;

/*
 * username: the JID's localpart (SASLprep'd by the caller where needed;
 * ',' and '=' are escaped here). channel_binding: the tls-exporter bytes
 * (RFC 9266), required for -PLUS, otherwise NULL. Without binding the
 * gs2 header is "y,," when the client supports binding but the server did
 * not offer -PLUS (RFC 5802 §6), "n,," otherwise; client_supports_binding
 * says which (true when TLS 1.3 is up).
 * client_nonce: NULL for 24 random bytes (base64); fixed only for tests.
 * Transfer full.
 */
SaslClient *sasl_client_new(SaslMechanism mech, const char *username,
			    const char *password, GBytes *channel_binding,
			    bool client_supports_binding,
			    const char *client_nonce);
void sasl_client_free(SaslClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SaslClient, sasl_client_free)

SaslMechanism sasl_client_get_mechanism(const SaslClient *client);

/* The initial response (client-first-message, or the PLAIN message).
 * Transfer full. */
GBytes *sasl_client_initial_response(SaslClient *client);

/* Answers a challenge (server-first-message) with client-final-message.
 * NULL with error on a malformed challenge, bad nonce or iteration count. */
GBytes *sasl_client_step(SaslClient *client, const guint8 *challenge,
			 size_t len, GError **error);

/* Checks the server-final-message (from <success/> or a last challenge).
 * For SCRAM, false with SASL_ERROR_SERVER_SIGNATURE unless v= verifies;
 * PLAIN accepts empty data. */
bool sasl_client_verify_final(SaslClient *client, const guint8 *data,
			      size_t len, GError **error);
