/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the SCRAM client's parsing of what the server sends
 * (core/sasl-scram.c): server-first-message (r=, s=, i=, extensions, the
 * XEP-0474 h=/d= hash) and server-final-message (v=, e=).
 *
 * Input: one byte of options (mechanism, whether a XEP-0474 offer is
 * checked, whether channel binding is used), then server-first, a NUL,
 * server-final. The client nonce is fixed, so a seed that extends it
 * reaches the later checks. Iteration counts that would only make PBKDF2
 * slow (between the minimum and the maximum, above 8192) are skipped: they
 * test the clock, not the parser; counts outside the range still run.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sasl-scram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLIENT_NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define MAX_FUZZ_ITERATIONS 8192u

static const SaslMechanism mechanisms[] = {
	SASL_MECHANISM_SCRAM_SHA_1,
	SASL_MECHANISM_SCRAM_SHA_256,
	SASL_MECHANISM_SCRAM_SHA_512,
	SASL_MECHANISM_SCRAM_SHA_1_PLUS,
	SASL_MECHANISM_SCRAM_SHA_256_PLUS,
	SASL_MECHANISM_SCRAM_SHA_512_PLUS,
	SASL_MECHANISM_PLAIN,
};

/* i= with a value that is in range but costly: not worth the time. */
static bool is_slow(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i + 2 < len; i++) {
		unsigned long n = 0;
		size_t j = i + 2;

		if (data[i] != 'i' || data[i + 1] != '=' ||
		    (i > 0 && data[i - 1] != ','))
			continue;
		for (;
		     j < len && j < i + 12 && data[j] >= '0' && data[j] <= '9';
		     j++)
			n = n * 10 + (unsigned long)(data[j] - '0');
		if (n > MAX_FUZZ_ITERATIONS && n <= SASL_SCRAM_MAX_ITERATIONS)
			return true;
	}
	return false;
}

static SaslClient *new_client(uint8_t options, SaslServerOffer *offer)
{
	static char *offered[] = {"SCRAM-SHA-1", "SCRAM-SHA-256",
				  "SCRAM-SHA-1-PLUS", "PLAIN", NULL};
	static char *bindings[] = {"tls-exporter", NULL};
	static const guint8 cb[32] = {1, 2, 3};
	SaslMechanism mech =
		mechanisms[(options & 7) % G_N_ELEMENTS(mechanisms)];
	g_autoptr(GBytes) cb_data = g_bytes_new_static(cb, sizeof(cb));
	bool plus = sasl_mechanism_is_plus(mech);
	SaslClientOptions o = {
		.mechanism = mech,
		.username = "us,er=",
		.password = "pencil",
		.gs2_flag = plus ? SASL_GS2_FLAG_P
				 : ((options & 8) ? SASL_GS2_FLAG_Y
						  : SASL_GS2_FLAG_N),
		.binding = plus ? SASL_CHANNEL_BINDING_TLS_EXPORTER
				: SASL_CHANNEL_BINDING_NONE,
		.binding_data = plus ? cb_data : NULL,
		.offer = (options & 16) ? offer : NULL,
		.client_nonce = CLIENT_NONCE,
	};

	offer->mechanisms = offered;
	offer->bindings_advertised = (options & 32) != 0;
	offer->bindings = bindings;
	offer->binding_types =
		SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER);
	return sasl_client_new_with_options(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SaslServerOffer offer = {0};
	SaslClient *client;
	GBytes *first, *response;
	const uint8_t *nul;
	size_t first_len;

	if (size < 1 || is_slow(data + 1, size - 1))
		return 0;
	client = new_client(data[0], &offer);
	if (!client)
		abort(); /* the options above are always consistent */
	data++;
	size--;
	nul = memchr(data, '\0', size);
	first_len = nul ? (size_t)(nul - data) : size;

	first = sasl_client_initial_response(client);
	response = sasl_client_step(client, data, first_len, NULL);
	if (response && nul)
		(void)sasl_client_verify_final(client, nul + 1,
					       size - first_len - 1, NULL);
	if (response)
		g_bytes_unref(response);
	g_bytes_unref(first);
	sasl_client_free(client);
	/* The lists are static: not ours to free. */
	return 0;
}
