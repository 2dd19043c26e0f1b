/* SPDX-License-Identifier: MIT */
/*
 * HT-SHA-256-* for XEP-0484: see fast-token.h.
 */
#include "config.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "core/fast-token.h"

#define HT_HASH_LEN 32u

static const char *const mechanism_names[] = {
	[FAST_MECHANISM_NONE] = "",
	[FAST_MECHANISM_HT_SHA_256_NONE] = "HT-SHA-256-NONE",
	[FAST_MECHANISM_HT_SHA_256_ENDP] = "HT-SHA-256-ENDP",
	[FAST_MECHANISM_HT_SHA_256_EXPR] = "HT-SHA-256-EXPR",
};

const char *fast_mechanism_to_string(FastMechanism mech)
{
	if ((size_t)mech >= G_N_ELEMENTS(mechanism_names))
		return "";
	return mechanism_names[mech];
}

FastMechanism fast_mechanism_from_string(const char *name)
{
	if (!name)
		return FAST_MECHANISM_NONE;
	for (size_t i = FAST_MECHANISM_HT_SHA_256_NONE;
	     i < G_N_ELEMENTS(mechanism_names); i++)
		if (strcmp(name, mechanism_names[i]) == 0)
			return (FastMechanism)i;
	return FAST_MECHANISM_NONE;
}

SaslChannelBinding fast_mechanism_get_binding(FastMechanism mech)
{
	switch (mech) {
	case FAST_MECHANISM_HT_SHA_256_EXPR:
		return SASL_CHANNEL_BINDING_TLS_EXPORTER;
	case FAST_MECHANISM_HT_SHA_256_ENDP:
		return SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT;
	case FAST_MECHANISM_HT_SHA_256_NONE:
	case FAST_MECHANISM_NONE:
		return SASL_CHANNEL_BINDING_NONE;
	}
	return SASL_CHANNEL_BINDING_NONE;
}

FastMechanism fast_mechanism_choose(const char *const *offered,
				    unsigned computable)
{
	FastMechanism best = FAST_MECHANISM_NONE;

	for (size_t i = 0; offered && offered[i]; i++) {
		FastMechanism m = fast_mechanism_from_string(offered[i]);
		SaslChannelBinding b = fast_mechanism_get_binding(m);

		if (m == FAST_MECHANISM_NONE)
			continue;
		if (b != SASL_CHANNEL_BINDING_NONE &&
		    !(computable & SASL_CHANNEL_BINDING_BIT(b)))
			continue;
		if (m > best)
			best = m;
	}
	return best;
}

/* HMAC-SHA-256(token, label || cb_data) into out. */
static bool ht_hmac(const char *token, const char *label, GBytes *cb_data,
		    guint8 out[HT_HASH_LEN])
{
	gsize cb_len = 0;
	const guint8 *cb = cb_data ? g_bytes_get_data(cb_data, &cb_len) : NULL;
	size_t label_len = strlen(label);
	g_autofree guint8 *msg = g_malloc(label_len + cb_len + 1);
	int rc;

	memcpy(msg, label, label_len);
	if (cb_len)
		memcpy(msg + label_len, cb, cb_len);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, token, strlen(token), msg,
			      label_len + cb_len, out);
	return rc == 0;
}

GBytes *fast_initial_response(const char *username, const char *token,
			      GBytes *cb_data)
{
	size_t ulen;
	guint8 *buf;

	g_return_val_if_fail(username != NULL && token != NULL, NULL);

	ulen = strlen(username);
	buf = g_malloc(ulen + 1 + HT_HASH_LEN);
	memcpy(buf, username, ulen);
	buf[ulen] = '\0';
	if (!ht_hmac(token, "Initiator", cb_data, buf + ulen + 1)) {
		explicit_bzero(buf, ulen + 1 + HT_HASH_LEN);
		g_free(buf);
		return NULL;
	}
	return g_bytes_new_take(buf, ulen + 1 + HT_HASH_LEN);
}

bool fast_verify_responder(const char *token, GBytes *cb_data,
			   const guint8 *data, size_t len)
{
	guint8 want[HT_HASH_LEN];
	unsigned diff = 0;

	g_return_val_if_fail(token != NULL, false);

	if (!data || len != HT_HASH_LEN)
		return false;
	if (!ht_hmac(token, "Responder", cb_data, want))
		return false;
	for (size_t i = 0; i < HT_HASH_LEN; i++)
		diff |= (unsigned)(want[i] ^ data[i]);
	explicit_bzero(want, sizeof(want));
	return diff == 0;
}
