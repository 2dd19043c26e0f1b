/* SPDX-License-Identifier: MIT */
/*
 * SASL client mechanisms: SCRAM-SHA-512/256/1(-PLUS) (RFC 5802, RFC 7677)
 * with tls-exporter (RFC 9266) or tls-server-end-point (RFC 5929) channel
 * binding and XEP-0474 downgrade protection, and PLAIN (RFC 4616), which
 * is only ever chosen inside TLS. Which mechanism and binding to use is
 * decided in sasl-choice.h.
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
	/* PLAIN is all that is left, but SCRAM has worked for this account
	 * before (XEP-0474 §7): a downgrade, never fall back. */
	SASL_ERROR_PLAIN_REFUSED,
	/* XEP-0474: the server's hash of what it advertised does not match
	 * what we received. An attack on the stream (a MITM removed
	 * mechanisms or binding types), not a wrong password. */
	SASL_ERROR_DOWNGRADE,
} SaslError;

/* Weakest first: a higher value is a stronger mechanism. */
typedef enum {
	SASL_MECHANISM_NONE,
	SASL_MECHANISM_PLAIN,
	SASL_MECHANISM_SCRAM_SHA_1,
	SASL_MECHANISM_SCRAM_SHA_256,
	SASL_MECHANISM_SCRAM_SHA_512,
	SASL_MECHANISM_SCRAM_SHA_1_PLUS,
	SASL_MECHANISM_SCRAM_SHA_256_PLUS,
	SASL_MECHANISM_SCRAM_SHA_512_PLUS,
} SaslMechanism;

/* Channel binding types (RFC 5056 names) that we can compute. */
typedef enum {
	SASL_CHANNEL_BINDING_NONE,
	SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT, /* RFC 5929 §4 */
	SASL_CHANNEL_BINDING_TLS_EXPORTER,	   /* RFC 9266, TLS 1.3 */
} SaslChannelBinding;

/* A set of SaslChannelBinding values (NONE is never a member). */
#define SASL_CHANNEL_BINDING_BIT(b) (1u << (unsigned)(b))

/* RFC 5802 §7 gs2-cbind-flag. */
typedef enum {
	SASL_GS2_FLAG_N, /* "n": no binding (or the server binds, we don't) */
	SASL_GS2_FLAG_Y, /* "y": we could bind, the server offers no -PLUS */
	SASL_GS2_FLAG_P, /* "p=TYPE": bound to the channel */
} SaslGs2Flag;

/*
 * What the server advertised in <stream:features/>, exactly as received:
 * XEP-0474 hashes these lists, unknown names included. Filled by
 * sasl_choice_parse_features(); clear with sasl_server_offer_clear().
 */
typedef struct {
	char **mechanisms; /* NULL-terminated <mechanism/> texts; owned */
	bool bindings_advertised; /* a XEP-0440 <sasl-channel-binding/> */
	char **bindings;	  /* NULL-terminated type='' values; owned */
	unsigned binding_types;	  /* the known ones, SASL_CHANNEL_BINDING_BIT */
} SaslServerOffer;

/* Frees the lists and zeroes the struct; NULL-safe. */
void sasl_server_offer_clear(SaslServerOffer *offer);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SaslServerOffer, sasl_server_offer_clear)

/* "tls-exporter", "tls-server-end-point"; "" for NONE. */
const char *sasl_channel_binding_to_string(SaslChannelBinding binding);

/* The mechanism of that name (case-sensitive, RFC 4422 §3.1), or NONE. */
SaslMechanism sasl_mechanism_from_string(const char *name);

/* Whether the mechanism is SCRAM-*-PLUS / any SCRAM. */
bool sasl_mechanism_is_plus(SaslMechanism mech);
bool sasl_mechanism_is_scram(SaslMechanism mech);

/* SCRAM iteration counts outside this range are refused: below is weak, above
 * would freeze the main loop in PBKDF2 (about 0.1 s at the bound). */
#define SASL_SCRAM_MIN_ITERATIONS 4096u
#define SASL_SCRAM_MAX_ITERATIONS 250000u

const char *sasl_mechanism_to_string(SaslMechanism mech); /* "SCRAM-SHA-1" */

typedef struct _SaslClient SaslClient;

/*
 * Everything a SCRAM/PLAIN client needs; all borrowed for the call only.
 */
typedef struct {
	SaslMechanism mechanism;
	/* The JID's localpart (SASLprep'd by the caller where needed; ','
	 * and '=' are escaped here) and the password (copied, wiped). */
	const char *username;
	const char *password;
	/* SASL_GS2_FLAG_P exactly when mechanism is -PLUS; binding and
	 * non-empty binding_data then say how (c= carries base64 of
	 * "p=TYPE,," followed by the data). Otherwise binding is NONE and
	 * binding_data NULL. sasl_choice_select() gives the flag. */
	SaslGs2Flag gs2_flag;
	SaslChannelBinding binding;
	GBytes *binding_data;
	/* XEP-0474: what the server advertised, to check its h= (0.4+) or
	 * d= (0.3) hash in server-first against; copied. NULL: no check (a
	 * hash the server sends is then ignored). */
	const SaslServerOffer *offer;
	/* NULL for 24 random bytes (base64); fixed only for tests. */
	const char *client_nonce;
} SaslClientOptions;

/* Transfer full. Inconsistent options are a programmer error (NULL). */
SaslClient *sasl_client_new_with_options(const SaslClientOptions *options);

void sasl_client_free(SaslClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SaslClient, sasl_client_free)

SaslMechanism sasl_client_get_mechanism(const SaslClient *client);

/* The binding in use (NONE without -PLUS). */
SaslChannelBinding sasl_client_get_channel_binding(const SaslClient *client);

/* True once a XEP-0474 hash from the server was checked and matched. */
bool sasl_client_is_downgrade_checked(const SaslClient *client);

/*
 * XEP-0474 §4.1: base64 of the SCRAM hash of the sorted ("i;octet")
 * mechanism names joined by %x1E, then, if XEP-0440 was used, %x1F and
 * the sorted binding types joined by %x1E. legacy_v03: version 0.3's
 * construction instead (attribute d=, ',' and '|'), which servers of
 * 2024 (ejabberd 24.x, Prosody's mod_sasl_ssdp before 2025) send. NULL
 * for a non-SCRAM mechanism. Pure; transfer full.
 */
char *sasl_downgrade_hash(SaslMechanism mech, const SaslServerOffer *offer,
			  bool legacy_v03);

/* The initial response (client-first-message, or the PLAIN message).
 * Transfer full. */
GBytes *sasl_client_initial_response(SaslClient *client);

/* Answers a challenge (server-first-message) with client-final-message.
 * NULL with error on a malformed challenge, bad nonce or iteration count,
 * and with SASL_ERROR_DOWNGRADE when the offer was given and the
 * server's XEP-0474 hash does not match it. */
GBytes *sasl_client_step(SaslClient *client, const guint8 *challenge,
			 size_t len, GError **error);

/* Checks the server-final-message (from <success/> or a last challenge).
 * For SCRAM, false with SASL_ERROR_SERVER_SIGNATURE unless v= verifies;
 * PLAIN accepts empty data. */
bool sasl_client_verify_final(SaslClient *client, const guint8 *data,
			      size_t len, GError **error);
