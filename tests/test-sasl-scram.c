/* SPDX-License-Identifier: MIT */
/*
 * SASL SCRAM/PLAIN: the RFC 5802 §5 and RFC 7677 §3 vectors byte for byte,
 * -PLUS known answers computed independently (Python hashlib), and every
 * way a hostile server-first or server-final must be refused.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/sasl-choice.h"
#include "core/sasl-scram.h"
#include "core/stanza.h"
#include "tests/support/check-suite.h"

#define RFC5802_NONCE "fyko+d2lbbFgONRv9qkxdawL"
#define RFC5802_SERVER_FIRST                                                   \
	"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,"     \
	"i=4096"
#define RFC5802_SERVER_NONCE "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j"

#define RFC7677_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC7677_SERVER_FIRST                                                   \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"                \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"

/* The positional constructor the tests were written against: -PLUS means
 * tls-exporter, "y" when we could bind but the mechanism does not. */
static SaslClient *sasl_client_new(SaslMechanism mech, const char *username,
				   const char *password,
				   GBytes *channel_binding,
				   bool client_supports_binding,
				   const char *client_nonce)
{
	bool plus = sasl_mechanism_is_plus(mech);
	SaslClientOptions options = {
		.mechanism = mech,
		.username = username,
		.password = password,
		.gs2_flag = plus		      ? SASL_GS2_FLAG_P
			    : client_supports_binding ? SASL_GS2_FLAG_Y
						      : SASL_GS2_FLAG_N,
		/* The old API only knew tls-exporter. */
		.binding = plus ? SASL_CHANNEL_BINDING_TLS_EXPORTER
				: SASL_CHANNEL_BINDING_NONE,
		.binding_data = plus ? channel_binding : NULL,
		.offer = NULL,
		.client_nonce = client_nonce,
	};

	return sasl_client_new_with_options(&options);
}

static void assert_bytes_eq(GBytes *bytes, const char *expected,
			    size_t expected_len)
{
	ck_assert_ptr_nonnull(bytes);
	size_t len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	g_autofree char *shown = g_strndup(data, len);
	ck_assert_msg(len == expected_len && memcmp(data, expected, len) == 0,
		      "got \"%s\", expected \"%s\"", shown, expected);
}

static void assert_str_bytes(GBytes *bytes, const char *expected)
{
	assert_bytes_eq(bytes, expected, strlen(expected));
}

static GBytes *step_str(SaslClient *c, const char *challenge, GError **error)
{
	return sasl_client_step(c, (const guint8 *)challenge, strlen(challenge),
				error);
}

static bool verify_str(SaslClient *c, const char *final_msg, GError **error)
{
	return sasl_client_verify_final(c, (const guint8 *)final_msg,
					strlen(final_msg), error);
}

static GBytes *test_binding(void)
{
	guint8 cb[32];

	for (size_t i = 0; i < sizeof(cb); i++)
		cb[i] = (guint8)i;
	return g_bytes_new(cb, sizeof(cb));
}

/* Runs a complete exchange and checks every message. */
static void run_exchange(SaslMechanism mech, GBytes *cb, bool supports_cb,
			 const char *nonce, const char *client_first,
			 const char *server_first, const char *client_final,
			 const char *server_final)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c =
		sasl_client_new(mech, "user", "pencil", cb, supports_cb, nonce);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sasl_client_get_mechanism(c), mech);

	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	assert_str_bytes(first, client_first);

	g_autoptr(GBytes) final_msg = step_str(c, server_first, &error);
	ck_assert_msg(final_msg != NULL, "step: %s",
		      error ? error->message : "?");
	assert_str_bytes(final_msg, client_final);

	ck_assert_msg(verify_str(c, server_final, &error), "verify: %s",
		      error ? error->message : "?");
	ck_assert_ptr_null(error);
	/* An empty <success/> after a verified final is fine. */
	ck_assert(sasl_client_verify_final(c, NULL, 0, &error));
}

START_TEST(test_rfc5802_vector)
{
	run_exchange(SASL_MECHANISM_SCRAM_SHA_1, NULL, false, RFC5802_NONCE,
		     "n,,n=user,r=" RFC5802_NONCE, RFC5802_SERVER_FIRST,
		     "c=biws,r=" RFC5802_SERVER_NONCE
		     ",p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
		     "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
}
END_TEST

START_TEST(test_rfc7677_vector)
{
	run_exchange(SASL_MECHANISM_SCRAM_SHA_256, NULL, false, RFC7677_NONCE,
		     "n,,n=user,r=" RFC7677_NONCE, RFC7677_SERVER_FIRST,
		     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
		     "hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
		     "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
}
END_TEST

START_TEST(test_sha1_plus)
{
	g_autoptr(GBytes) cb = test_binding();

	/* c= is base64("p=tls-exporter,," + the 32 binding bytes). */
	run_exchange(SASL_MECHANISM_SCRAM_SHA_1_PLUS, cb, true, RFC5802_NONCE,
		     "p=tls-exporter,,n=user,r=" RFC5802_NONCE,
		     RFC5802_SERVER_FIRST,
		     "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWF"
		     "xgZGhscHR4f,r=" RFC5802_SERVER_NONCE
		     ",p=i0z2xFi+ITaJvbLXpcWyruGx26U=",
		     "v=YgmPUhdXTCPY9I7+PKzEdnp1cdo=");
}
END_TEST

START_TEST(test_sha256_plus)
{
	g_autoptr(GBytes) cb = test_binding();

	run_exchange(SASL_MECHANISM_SCRAM_SHA_256_PLUS, cb, true, RFC7677_NONCE,
		     "p=tls-exporter,,n=user,r=" RFC7677_NONCE,
		     RFC7677_SERVER_FIRST,
		     "c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWF"
		     "xgZGhscHR4f,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
		     "hNlF$k0,p=QC6CS20quADQRb3mT99YUH+n3VJxUvzuK0K0E1Vrs2M=",
		     "v=2GiAgapEppLVlUXbxUDksL3VgYHzuqiK5tR4mhJGgvs=");
}
END_TEST

START_TEST(test_gs2_y)
{
	/* RFC 5802 §6: we could bind, the server offered no -PLUS. */
	run_exchange(SASL_MECHANISM_SCRAM_SHA_256, NULL, true, RFC7677_NONCE,
		     "y,,n=user,r=" RFC7677_NONCE, RFC7677_SERVER_FIRST,
		     "c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
		     "hNlF$k0,p=FoqiHTtQEDE8lz1CdaEe3tK4mS+iMDTl77SPyDS53DY=",
		     "v=dI4KpiQJwBr1+V+K6U1dA6l6I4I9DUNXWND4pcpRU3U=");
}
END_TEST

START_TEST(test_plus_ignores_supports_flag)
{
	g_autoptr(GBytes) cb = test_binding();
	g_autoptr(SaslClient) c =
		sasl_client_new(SASL_MECHANISM_SCRAM_SHA_256_PLUS, "user",
				"pencil", cb, false, "abc");
	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	assert_str_bytes(first, "p=tls-exporter,,n=user,r=abc");
}
END_TEST

START_TEST(test_username_escaping)
{
	g_autoptr(SaslClient) c =
		sasl_client_new(SASL_MECHANISM_SCRAM_SHA_1, "a,b=c==,", "pw",
				NULL, false, "xyz");
	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	assert_str_bytes(first, "n,,n=a=2Cb=3Dc=3D=3D=2C,r=xyz");
}
END_TEST

START_TEST(test_random_nonce)
{
	g_autoptr(SaslClient) a = sasl_client_new(SASL_MECHANISM_SCRAM_SHA_1,
						  "u", "p", NULL, false, NULL);
	g_autoptr(SaslClient) b = sasl_client_new(SASL_MECHANISM_SCRAM_SHA_1,
						  "u", "p", NULL, false, NULL);
	g_autoptr(GBytes) fa = sasl_client_initial_response(a);
	g_autoptr(GBytes) fb = sasl_client_initial_response(b);
	size_t la = 0, lb = 0;
	const char *da = g_bytes_get_data(fa, &la);
	const char *db = g_bytes_get_data(fb, &lb);
	const char *prefix = "n,,n=u,r=";

	/* 24 random bytes in base64 are 32 characters. */
	ck_assert_uint_eq(la, strlen(prefix) + 32);
	ck_assert_uint_eq(lb, la);
	ck_assert(memcmp(da, prefix, strlen(prefix)) == 0);
	ck_assert(memcmp(da, db, la) != 0);
	for (size_t i = strlen(prefix); i < la; i++)
		ck_assert(g_ascii_isalnum(da[i]) || da[i] == '+' ||
			  da[i] == '/' || da[i] == '=');
}
END_TEST

/* A SHA-1 client after its client-first, ready for a server-first. */
static SaslClient *started_client(void)
{
	SaslClient *c = sasl_client_new(SASL_MECHANISM_SCRAM_SHA_1, "user",
					"pencil", NULL, false, RFC5802_NONCE);
	GBytes *first = sasl_client_initial_response(c);
	g_bytes_unref(first);
	return c;
}

static void expect_step_error(const char *server_first, SaslError code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = started_client();
	g_autoptr(GBytes) final_msg = step_str(c, server_first, &error);

	ck_assert_msg(final_msg == NULL, "accepted \"%s\"", server_first);
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(g_error_matches(error, SASL_ERROR, (int)code),
		      "\"%s\": got %d (%s), expected %d", server_first,
		      error->code, error->message, code);
	/* The exchange is over: a retry is refused. */
	g_clear_error(&error);
	g_autoptr(GBytes) again = step_str(c, RFC5802_SERVER_FIRST, &error);
	ck_assert_ptr_null(again);
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_INVALID_STATE));
}

START_TEST(test_bad_nonce)
{
	/* Not our nonce as prefix. */
	expect_step_error("r=XXXX+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
			  "s=QSXCR+Q6sek8bf92,i=4096",
			  SASL_ERROR_BAD_NONCE);
	/* Exactly ours: the server added nothing. */
	expect_step_error("r=" RFC5802_NONCE ",s=QSXCR+Q6sek8bf92,i=4096",
			  SASL_ERROR_BAD_NONCE);
	/* Shorter than ours. */
	expect_step_error("r=fyko,s=QSXCR+Q6sek8bf92,i=4096",
			  SASL_ERROR_BAD_NONCE);
	/* Non-printable in the server part. */
	expect_step_error("r=" RFC5802_NONCE "ab\x01,s=QSXCR+Q6sek8bf92,"
			  "i=4096",
			  SASL_ERROR_BAD_NONCE);
}
END_TEST

START_TEST(test_bad_iterations)
{
	const char *prefix = "r=" RFC5802_SERVER_NONCE ",s=QSXCR+Q6sek8bf92,";
	const char *bad[] = {
		"i=4095",
		"i=0",
		"i=250001",
		"i=4294967296",
		"i=99999999999999999999",
		"i=abc",
		"i=",
		"i=4096x",
		"i=-4096",
		"i=+4096",
		"i= 4096",
		"i=0x1000",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *msg = g_strconcat(prefix, bad[i], NULL);
		expect_step_error(msg, SASL_ERROR_BAD_ITERATIONS);
	}
}
END_TEST

START_TEST(test_iterations_at_bounds)
{
	g_autoptr(GError) error = NULL;
	const char *counts[] = {"4096", "250000"};

	for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
		g_autoptr(SaslClient) c = started_client();
		g_autofree char *msg = g_strconcat("r=" RFC5802_SERVER_NONCE
						   ",s=QSXCR+Q6sek8bf92,i=",
						   counts[i], NULL);
		gint64 start = g_get_monotonic_time();
		g_autoptr(GBytes) final_msg = step_str(c, msg, &error);
		gint64 took = g_get_monotonic_time() - start;

		ck_assert_msg(final_msg != NULL, "%s: %s", counts[i],
			      error ? error->message : "?");
		printf("# PBKDF2-SHA1 with i=%s took %" G_GINT64_FORMAT " us\n",
		       counts[i], took);
		fflush(stdout);
	}
}
END_TEST

START_TEST(test_bad_salt)
{
	const char *bad[] = {
		/* missing */
		"r=" RFC5802_SERVER_NONCE ",i=4096",
		/* empty */
		"r=" RFC5802_SERVER_NONCE ",s=,i=4096",
		/* not base64 */
		"r=" RFC5802_SERVER_NONCE ",s=QSXC!Q6sek8bf92,i=4096",
		/* bad length */
		"r=" RFC5802_SERVER_NONCE ",s=QSXCR+Q6sek8bf9,i=4096",
		/* padding in the middle */
		"r=" RFC5802_SERVER_NONCE ",s=QS==R+Q6sek8bf92,i=4096",
		/* "====" decodes to nothing */
		"r=" RFC5802_SERVER_NONCE ",s====,i=4096",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		expect_step_error(bad[i], SASL_ERROR_BAD_CHALLENGE);
}
END_TEST

START_TEST(test_malformed_server_first)
{
	const char *bad[] = {
		"",
		"garbage",
		/* wrong order */
		"s=QSXCR+Q6sek8bf92,r=" RFC5802_SERVER_NONCE ",i=4096",
		/* missing i */
		"r=" RFC5802_SERVER_NONCE ",s=QSXCR+Q6sek8bf92",
		/* empty attribute */
		"r=" RFC5802_SERVER_NONCE ",,s=QSXCR+Q6sek8bf92,i=4096",
		/* attribute name not a letter */
		"r=" RFC5802_SERVER_NONCE ",s=QSXCR+Q6sek8bf92,1=4096",
		/* mandatory extension we do not know (RFC 5802 §5.1 m) */
		"m=ext,r=" RFC5802_SERVER_NONCE ",s=QSXCR+Q6sek8bf92,i=4096",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		expect_step_error(bad[i], SASL_ERROR_BAD_CHALLENGE);

	/* An embedded NUL. */
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = started_client();
	const char msg[] =
		"r=" RFC5802_SERVER_NONCE "\0,s=QSXCR+Q6sek8bf92,i=4096";
	g_autoptr(GBytes) final_msg = sasl_client_step(c, (const guint8 *)msg,
						       sizeof(msg) - 1, &error);
	ck_assert_ptr_null(final_msg);
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_BAD_CHALLENGE));
}
END_TEST

START_TEST(test_extension_ignored)
{
	/* Optional extensions after i= are allowed (RFC 5802 §7). */
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = started_client();
	g_autoptr(GBytes) final_msg =
		step_str(c, RFC5802_SERVER_FIRST ",x=whatever", &error);
	ck_assert_msg(final_msg != NULL, "%s", error ? error->message : "?");
}
END_TEST

START_TEST(test_server_error_first)
{
	expect_step_error("e=unknown-user", SASL_ERROR_SERVER_ERROR);

	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = started_client();
	g_autoptr(GBytes) final_msg = step_str(c, "e=other-error", &error);
	ck_assert_ptr_null(final_msg);
	ck_assert_ptr_nonnull(strstr(error->message, "other-error"));
}
END_TEST

/* A SHA-1 client that sent its client-final for the RFC 5802 vector. */
static SaslClient *final_sent_client(void)
{
	g_autoptr(GError) error = NULL;
	SaslClient *c = started_client();
	g_autoptr(GBytes) final_msg = step_str(c, RFC5802_SERVER_FIRST, &error);
	ck_assert_ptr_nonnull(final_msg);
	return c;
}

static void expect_verify_error(const char *server_final, SaslError code)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = final_sent_client();

	ck_assert_msg(!verify_str(c, server_final, &error), "accepted \"%s\"",
		      server_final);
	ck_assert_msg(g_error_matches(error, SASL_ERROR, (int)code),
		      "\"%s\": got %d (%s), expected %d", server_final,
		      error->code, error->message, code);
	/* No second chance, and an empty success does not rescue it. */
	g_clear_error(&error);
	ck_assert(!sasl_client_verify_final(c, NULL, 0, &error));
	ck_assert_ptr_nonnull(error);
}

START_TEST(test_bad_server_signature)
{
	/* One bit flipped in the RFC 5802 v=. */
	expect_verify_error("v=rmF9pqV8S7suAoZWja4dJRkFsKU=",
			    SASL_ERROR_SERVER_SIGNATURE);
	/* First character changed. */
	expect_verify_error("v=smF9pqV8S7suAoZWja4dJRkFsKQ=",
			    SASL_ERROR_SERVER_SIGNATURE);
	/* Truncated. */
	expect_verify_error("v=rmF9pqV8S7suAoZWja4dJRkF",
			    SASL_ERROR_SERVER_SIGNATURE);
	/* A SHA-256 sized signature for a SHA-1 exchange. */
	expect_verify_error("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
			    SASL_ERROR_SERVER_SIGNATURE);
	expect_verify_error("v=", SASL_ERROR_SERVER_SIGNATURE);
	expect_verify_error("v=!!!!", SASL_ERROR_SERVER_SIGNATURE);
	expect_verify_error("", SASL_ERROR_SERVER_SIGNATURE);
	expect_verify_error("x=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
			    SASL_ERROR_SERVER_SIGNATURE);
	expect_verify_error("e=invalid-proof", SASL_ERROR_SERVER_ERROR);
}
END_TEST

START_TEST(test_verify_state)
{
	g_autoptr(GError) error = NULL;

	/* <success/> before the exchange: a server skipping the proof. */
	g_autoptr(SaslClient) c = started_client();
	ck_assert(!sasl_client_verify_final(c, NULL, 0, &error));
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_INVALID_STATE));
	g_clear_error(&error);
	ck_assert(!verify_str(c, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", &error));
	ck_assert_ptr_nonnull(error);

	/* A second challenge after the final. */
	g_clear_error(&error);
	g_autoptr(SaslClient) d = final_sent_client();
	g_autoptr(GBytes) again = step_str(d, RFC5802_SERVER_FIRST, &error);
	ck_assert_ptr_null(again);
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_INVALID_STATE));
}
END_TEST

START_TEST(test_plain)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = sasl_client_new(
		SASL_MECHANISM_PLAIN, "juliet", "r0m,eo=", NULL, true, NULL);
	g_autoptr(GBytes) msg = sasl_client_initial_response(c);

	/* RFC 4616 §2: empty authzid, authcid and password unescaped. */
	const char expected[] = "\0juliet\0r0m,eo=";
	assert_bytes_eq(msg, expected, sizeof(expected) - 1);

	g_autoptr(GBytes) step = step_str(c, "r=abc", &error);
	ck_assert_ptr_null(step);
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_INVALID_STATE));

	g_autoptr(SaslClient) d = sasl_client_new(
		SASL_MECHANISM_PLAIN, "juliet", "pw", NULL, true, NULL);
	g_autoptr(GBytes) m2 = sasl_client_initial_response(d);
	ck_assert_ptr_nonnull(m2);
	g_clear_error(&error);
	ck_assert(sasl_client_verify_final(d, NULL, 0, &error));
	ck_assert_ptr_null(error);

	g_autoptr(SaslClient) e = sasl_client_new(
		SASL_MECHANISM_PLAIN, "juliet", "pw", NULL, true, NULL);
	g_autoptr(GBytes) m3 = sasl_client_initial_response(e);
	ck_assert_ptr_nonnull(m3);
	ck_assert(!verify_str(e, "junk", &error));
	ck_assert_ptr_nonnull(error);
}
END_TEST

/* Proof produced for a password, all else fixed. */
static char *proof_for(const char *password)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c =
		sasl_client_new(SASL_MECHANISM_SCRAM_SHA_256, "user", password,
				NULL, false, RFC7677_NONCE);
	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	ck_assert_ptr_nonnull(first);
	g_autoptr(GBytes) final_msg = step_str(c, RFC7677_SERVER_FIRST, &error);
	ck_assert_ptr_nonnull(final_msg);
	size_t len = 0;
	const char *data = g_bytes_get_data(final_msg, &len);
	return g_strndup(data, len);
}

START_TEST(test_password_saslprep)
{
	/* RFC 4013 §3: soft hyphen maps to nothing, U+2168 NFKC to "IX". */
	g_autofree char *ix = proof_for("IX");
	g_autofree char *shy = proof_for("I\xc2\xadX");
	g_autofree char *roman = proof_for("\xe2\x85\xa8");
	ck_assert_str_eq(ix, shy);
	ck_assert_str_eq(ix, roman);

	/* Non-ASCII space (U+00A0) maps to SPACE. */
	g_autofree char *space = proof_for("a b");
	g_autofree char *nbsp = proof_for("a\xc2\xa0"
					  "b");
	ck_assert_str_eq(space, nbsp);

	/* And the password does matter. */
	g_autofree char *other = proof_for("IY");
	ck_assert_str_ne(ix, other);
}
END_TEST

START_TEST(test_mutated_server_messages)
{
	/*
	 * Every single-byte change of a valid server-first and server-final:
	 * an answer or an error, never both, never neither, never a crash.
	 * A changed server-final must never verify.
	 */
	const char first[] = RFC5802_SERVER_FIRST;
	const char final_ok[] = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";
	static const guint8 subst[] = {'\0', ',', '=', 'A', '9', 0xff};

	for (size_t i = 0; i < sizeof(first) - 1; i++) {
		for (size_t k = 0; k < sizeof(subst); k++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(SaslClient) c = started_client();
			guint8 msg[sizeof(first)];

			memcpy(msg, first, sizeof(first));
			if (msg[i] == subst[k])
				continue;
			msg[i] = subst[k];
			g_autoptr(GBytes) out = sasl_client_step(
				c, msg, sizeof(first) - 1, &error);
			ck_assert((out == NULL) != (error == NULL));
		}
	}

	for (size_t i = 0; i < sizeof(final_ok) - 1; i++) {
		for (size_t k = 0; k < sizeof(subst); k++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(SaslClient) c = final_sent_client();
			guint8 msg[sizeof(final_ok)];

			memcpy(msg, final_ok, sizeof(final_ok));
			if (msg[i] == subst[k])
				continue;
			msg[i] = subst[k];
			ck_assert_msg(
				!sasl_client_verify_final(
					c, msg, sizeof(final_ok) - 1, &error),
				"mutation at %zu verified", i);
			ck_assert_ptr_nonnull(error);
		}
	}

	/* Random junk, deterministic. */
	GRand *rand = g_rand_new_with_seed(5802);
	for (int n = 0; n < 500; n++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(SaslClient) c = started_client();
		guint8 junk[64];
		size_t len = (size_t)g_rand_int_range(rand, 0, sizeof(junk));

		for (size_t i = 0; i < len; i++)
			junk[i] = (guint8)g_rand_int_range(rand, 0, 256);
		g_autoptr(GBytes) out = sasl_client_step(c, junk, len, &error);
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(error);
	}
	g_rand_free(rand);
}
END_TEST

START_TEST(test_mechanism_names)
{
	ck_assert_str_eq(sasl_mechanism_to_string(SASL_MECHANISM_PLAIN),
			 "PLAIN");
	ck_assert_str_eq(sasl_mechanism_to_string(SASL_MECHANISM_SCRAM_SHA_1),
			 "SCRAM-SHA-1");
	ck_assert_str_eq(sasl_mechanism_to_string(SASL_MECHANISM_SCRAM_SHA_256),
			 "SCRAM-SHA-256");
	ck_assert_str_eq(
		sasl_mechanism_to_string(SASL_MECHANISM_SCRAM_SHA_1_PLUS),
		"SCRAM-SHA-1-PLUS");
	ck_assert_str_eq(
		sasl_mechanism_to_string(SASL_MECHANISM_SCRAM_SHA_256_PLUS),
		"SCRAM-SHA-256-PLUS");
}
END_TEST

/* Runs a complete exchange built from options and checks every message. */
static void run_exchange_opts(const SaslClientOptions *o,
			      const char *client_first,
			      const char *server_first,
			      const char *client_final,
			      const char *server_final)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(SaslClient) c = sasl_client_new_with_options(o);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(sasl_client_get_mechanism(c), o->mechanism);
	ck_assert_int_eq(sasl_client_get_channel_binding(c), o->binding);

	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	assert_str_bytes(first, client_first);
	g_autoptr(GBytes) final_msg = step_str(c, server_first, &error);
	ck_assert_msg(final_msg != NULL, "step: %s",
		      error ? error->message : "?");
	assert_str_bytes(final_msg, client_final);
	ck_assert_msg(verify_str(c, server_final, &error), "verify: %s",
		      error ? error->message : "?");
}

#define RFC7677_SERVER_NONCE                                                   \
	"rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

/*
 * SCRAM-SHA-512 has no RFC vector. These were computed independently with
 * Python 3 hashlib.pbkdf2_hmac("sha512", ...) and hmac (RFC 5802 §3 written
 * out by hand), on the RFC 7677 §3 inputs: user "user", password "pencil",
 * its nonces, salt and 4096 iterations. The same script reproduces the
 * RFC 7677 vector and the XEP-0474 example hash.
 */
START_TEST(test_sha512_vector)
{
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_512,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_N,
		.client_nonce = RFC7677_NONCE,
	};
	run_exchange_opts(
		&o, "n,,n=user,r=" RFC7677_NONCE, RFC7677_SERVER_FIRST,
		"c=biws,r=" RFC7677_SERVER_NONCE
		",p=gMGXRcevScNtxZ6/8lQYpGtnsNAc3mGcmNomv+xnoOMw+3R2xNJdMNnzMl"
		"TN8PPC6wdp6dybEmDYXYTxwnYPJQ==",
		"v=ZQnYEgWQMFmmsM8aQMF0nDDCy/"
		"AgCzkwk8CmMZYcMg0vSVlKDanekLtifDSeV"
		"GT4+5ZxXnJq199RVG2rR7N7Zw==");
	ck_assert_str_eq(sasl_mechanism_to_string(SASL_MECHANISM_SCRAM_SHA_512),
			 "SCRAM-SHA-512");
}
END_TEST

START_TEST(test_sha512_plus_exporter)
{
	g_autoptr(GBytes) cb = test_binding();
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_512_PLUS,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_P,
		.binding = SASL_CHANNEL_BINDING_TLS_EXPORTER,
		.binding_data = cb,
		.client_nonce = RFC7677_NONCE,
	};
	run_exchange_opts(
		&o, "p=tls-exporter,,n=user,r=" RFC7677_NONCE,
		RFC7677_SERVER_FIRST,
		"c=cD10bHMtZXhwb3J0ZXIsLAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc"
		"HR4f,r=" RFC7677_SERVER_NONCE
		",p=jVaGV/PIJ7hgkpxV9a1jdpzyYkHQH9gW6fn3DbAL2oEA+5w4CCSJjoq8G3"
		"7bn2FsGaVEMsk4kiHRqMUoN/aiiA==",
		"v=bTvxua5nsJsvSd2bk+"
		"1WbSe84MBgjkACQPOqiN7MhTBLYxVX2QUqwET2NLcZE"
		"v2CfexR6NbAMluKltOEs5vLYw==");
}
END_TEST

START_TEST(test_sha512_plus_end_point)
{
	g_autoptr(GBytes) cb = test_binding();
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_512_PLUS,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_P,
		.binding = SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT,
		.binding_data = cb,
		.client_nonce = RFC7677_NONCE,
	};
	/* c= is base64("p=tls-server-end-point,," + the 32 bytes). */
	run_exchange_opts(
		&o, "p=tls-server-end-point,,n=user,r=" RFC7677_NONCE,
		RFC7677_SERVER_FIRST,
		"c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAECAwQFBgcICQoLDA0ODxAREhMU"
		"FRYXGBkaGxwdHh8=,r=" RFC7677_SERVER_NONCE
		",p=nUe1i4s2cekqhb7FffOD5zf+Z5ND38FUAFbPlUjSAwoyboI7VOhAtMMUAA"
		"y8HJsUz3Yj/DT0ORLFrxG7KFQhCg==",
		"v="
		"EZ1ynPIwK8As82frRzuwOuJuRxiciscpscrKTaNvot0mx0lgtMvUrjImXTwwO"
		"ZwJlj5Di09qjLHj0Q4mhV2gJA==");
}
END_TEST

START_TEST(test_sha256_plus_end_point)
{
	g_autoptr(GBytes) cb = test_binding();
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_256_PLUS,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_P,
		.binding = SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT,
		.binding_data = cb,
		.client_nonce = RFC7677_NONCE,
	};
	run_exchange_opts(
		&o, "p=tls-server-end-point,,n=user,r=" RFC7677_NONCE,
		RFC7677_SERVER_FIRST,
		"c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAECAwQFBgcICQoLDA0ODxAREhMU"
		"FRYXGBkaGxwdHh8=,r=" RFC7677_SERVER_NONCE
		",p=nY1Wus9a+gM2DrbQ1msXFgyhW6KM5ktOxWiU+/P/EGY=",
		"v=RwppMGddhz/J0lFYaRReBjXcQeNUFP5Qc76Lo5Exrig=");
}
END_TEST

START_TEST(test_sha512_bad_signature)
{
	g_autoptr(GError) error = NULL;
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_512,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_N,
		.client_nonce = RFC7677_NONCE,
	};
	g_autoptr(SaslClient) c = sasl_client_new_with_options(&o);
	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	ck_assert_ptr_nonnull(first);
	g_autoptr(GBytes) final_msg = step_str(c, RFC7677_SERVER_FIRST, &error);
	ck_assert_ptr_nonnull(final_msg);
	/* The SHA-256 server signature for the same inputs: wrong length. */
	ck_assert(!verify_str(
		c, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", &error));
	ck_assert(g_error_matches(error, SASL_ERROR,
				  SASL_ERROR_SERVER_SIGNATURE));
}
END_TEST

/* ---- XEP-0474 ---------------------------------------------------------- */

/* XEP-0474 §4.3 "Full Example" (version 0.5.0). */
#define XEP0474_NONCE "12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6"
#define XEP0474_SERVER_FIRST_BARE                                              \
	"r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-"       \
	"93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096"
#define XEP0474_H "G6k/rBLDqgOhRRaCuuatSDFkJ08="
/* The same lists hashed the version 0.3 way (Python hashlib). */
#define XEP0474_D "dRc3RenuSY9ypgPpERowoaySQZY="

/* An offer from space-separated lists; bindings NULL: no XEP-0440. */
static void make_offer(SaslServerOffer *offer, const char *mechs,
		       const char *bindings)
{
	offer->mechanisms = g_strsplit(mechs, " ", -1);
	offer->bindings_advertised = bindings != NULL;
	offer->bindings = bindings != NULL && bindings[0] != '\0'
				  ? g_strsplit(bindings, " ", -1)
				  : g_new0(char *, 1);
	offer->binding_types = 0;
}

START_TEST(test_downgrade_hash)
{
	g_auto(SaslServerOffer) offer = {0};

	/* The XEP's own value, and the order of arrival does not matter. */
	make_offer(&offer, "SCRAM-SHA-1-PLUS SCRAM-SHA-1",
		   "tls-server-end-point tls-exporter");
	g_autofree char *h = sasl_downgrade_hash(
		SASL_MECHANISM_SCRAM_SHA_1_PLUS, &offer, false);
	ck_assert_str_eq(h, XEP0474_H);
	g_autofree char *d = sasl_downgrade_hash(
		SASL_MECHANISM_SCRAM_SHA_1_PLUS, &offer, true);
	ck_assert_str_eq(d, XEP0474_D);
	/* The hash is the mechanism's: SHA-1 for either SCRAM-SHA-1. */
	g_autofree char *h1 =
		sasl_downgrade_hash(SASL_MECHANISM_SCRAM_SHA_1, &offer, false);
	ck_assert_str_eq(h1, XEP0474_H);
	ck_assert_ptr_null(
		sasl_downgrade_hash(SASL_MECHANISM_PLAIN, &offer, false));
	sasl_server_offer_clear(&offer);

	/* SHA-256, unknown names included (Python hashlib). */
	make_offer(
		&offer,
		"X-OAUTH2 SCRAM-SHA-256-PLUS PLAIN SCRAM-SHA-256 SCRAM-SHA-1",
		"tls-unique tls-exporter tls-server-end-point");
	g_autofree char *h256 = sasl_downgrade_hash(
		SASL_MECHANISM_SCRAM_SHA_256, &offer, false);
	ck_assert_str_eq(h256, "8dQDQotzKMg2/O7DINrxiNfRl7IwS/zpoKGwTeFuN2w=");
	sasl_server_offer_clear(&offer);

	/* No XEP-0440 element: no %x1F at all. */
	make_offer(&offer, "SCRAM-SHA-256 SCRAM-SHA-1", NULL);
	g_autofree char *hnone = sasl_downgrade_hash(
		SASL_MECHANISM_SCRAM_SHA_256, &offer, false);
	ck_assert_str_eq(hnone, "0/NIECGLXv63MqTb7NyUI9Tqxi40YVZyx61umRrH924=");
}
END_TEST

/* Steps a SCRAM-SHA-1-PLUS client given `offer` through server_first. */
static GBytes *xep0474_step(const SaslServerOffer *offer,
			    const char *server_first, bool *ret_checked,
			    GError **error)
{
	g_autoptr(GBytes) cb = g_bytes_new_static("THIS IS FAKE CB DATA", 20);
	SaslClientOptions o = {
		.mechanism = SASL_MECHANISM_SCRAM_SHA_1_PLUS,
		.username = "user",
		.password = "pencil",
		.gs2_flag = SASL_GS2_FLAG_P,
		.binding = SASL_CHANNEL_BINDING_TLS_EXPORTER,
		.binding_data = cb,
		.offer = offer,
		.client_nonce = XEP0474_NONCE,
	};
	g_autoptr(SaslClient) c = sasl_client_new_with_options(&o);
	g_autoptr(GBytes) first = sasl_client_initial_response(c);

	assert_str_bytes(first, "p=tls-exporter,,n=user,r=" XEP0474_NONCE);
	GBytes *out = step_str(c, server_first, error);
	*ret_checked = sasl_client_is_downgrade_checked(c);
	return out;
}

START_TEST(test_downgrade_example)
{
	g_autoptr(GError) error = NULL;
	g_auto(SaslServerOffer) offer = {0};
	bool checked = false;

	make_offer(&offer, "SCRAM-SHA-1 SCRAM-SHA-1-PLUS",
		   "tls-server-end-point tls-exporter");
	g_autoptr(GBytes) out =
		xep0474_step(&offer, XEP0474_SERVER_FIRST_BARE ",h=" XEP0474_H,
			     &checked, &error);
	ck_assert_msg(out != NULL, "%s", error ? error->message : "?");
	ck_assert(checked);
	/*
	 * c= as in the example; the proof is ours (Python hashlib): the
	 * example's client-final carries an extra x= attribute.
	 */
	assert_str_bytes(
		out, "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,"
		     "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-"
		     "4f2f-93f1-93799c2bddf6,p=NWgTsQJvWgbXKxbqd3P4BNurjkU=");

	/* Version 0.3's d= works the same way. */
	g_autoptr(GBytes) out_d =
		xep0474_step(&offer, XEP0474_SERVER_FIRST_BARE ",d=" XEP0474_D,
			     &checked, &error);
	ck_assert_msg(out_d != NULL, "%s", error ? error->message : "?");
	ck_assert(checked);

	/* No hash from the server: nothing to check, nothing refused. */
	g_autoptr(GBytes) out_none = xep0474_step(
		&offer, XEP0474_SERVER_FIRST_BARE, &checked, &error);
	ck_assert_ptr_nonnull(out_none);
	ck_assert(!checked);

	/* No offer given: a hash is ignored (the deprecated path). */
	g_autoptr(GBytes) out_nooffer = xep0474_step(
		NULL, XEP0474_SERVER_FIRST_BARE ",h=AAAA", &checked, &error);
	ck_assert_ptr_nonnull(out_nooffer);
	ck_assert(!checked);
}
END_TEST

/* What a MITM would do to the features, and hashes that do not fit. */
static const struct {
	const char *mechs;
	const char *bindings; /* NULL: no XEP-0440 element */
	const char *extension;
} tampered[] = {
	/* A -PLUS mechanism dropped. */
	{"SCRAM-SHA-1", "tls-server-end-point tls-exporter", ",h=" XEP0474_H},
	/* A binding type dropped. */
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-server-end-point",
	 ",h=" XEP0474_H},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-exporter", ",h=" XEP0474_H},
	/* The XEP-0440 element dropped, or emptied. */
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", NULL, ",h=" XEP0474_H},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "", ",h=" XEP0474_H},
	/* Something added. */
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS PLAIN",
	 "tls-server-end-point tls-exporter", ",h=" XEP0474_H},
	/* Case matters (i;octet). */
	{"scram-sha-1 SCRAM-SHA-1-PLUS", "tls-server-end-point tls-exporter",
	 ",h=" XEP0474_H},
	/* The same with version 0.3's d=. */
	{"SCRAM-SHA-1", "tls-server-end-point tls-exporter", ",d=" XEP0474_D},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-exporter", ",d=" XEP0474_D},
	/* Right lists, a wrong or malformed hash; one of two wrong. */
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-server-end-point tls-exporter",
	 ",h=G6k/rBLDqgOhRRaCuuatSDFkJ09="},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-server-end-point tls-exporter",
	 ",h="},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-server-end-point tls-exporter",
	 ",h=" XEP0474_D},
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "tls-server-end-point tls-exporter",
	 ",h=" XEP0474_H ",d=" XEP0474_H},
};

START_TEST(test_downgrade_tampered)
{
	g_autoptr(GError) error = NULL;
	g_auto(SaslServerOffer) offer = {0};
	bool checked = true;

	make_offer(&offer, tampered[_i].mechs, tampered[_i].bindings);
	g_autofree char *sf = g_strconcat(XEP0474_SERVER_FIRST_BARE,
					  tampered[_i].extension, NULL);
	g_autoptr(GBytes) out = xep0474_step(&offer, sf, &checked, &error);
	ck_assert_msg(out == NULL, "row %d accepted", _i);
	ck_assert_msg(g_error_matches(error, SASL_ERROR, SASL_ERROR_DOWNGRADE),
		      "row %d: %s", _i, error ? error->message : "?");
	ck_assert(!checked);
}
END_TEST

START_TEST(test_downgrade_repeated)
{
	g_autoptr(GError) error = NULL;
	g_auto(SaslServerOffer) offer = {0};
	bool checked = true;

	make_offer(&offer, "SCRAM-SHA-1 SCRAM-SHA-1-PLUS",
		   "tls-server-end-point tls-exporter");
	g_autoptr(GBytes) out = xep0474_step(&offer,
					     XEP0474_SERVER_FIRST_BARE
					     ",h=" XEP0474_H ",h=" XEP0474_H,
					     &checked, &error);
	ck_assert_ptr_null(out);
	ck_assert(g_error_matches(error, SASL_ERROR, SASL_ERROR_BAD_CHALLENGE));
}
END_TEST

/* ---- XEP-0440 features and the choice ---------------------------------- */

#define NS_STREAM "http://etherx.jabber.org/streams"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_SASL_CB "urn:xmpp:sasl-cb:0"

/* <stream:features/> with the given space-separated lists; bindings NULL:
 * no XEP-0440 element. */
static Stanza *make_features(const char *mechs, const char *bindings)
{
	Stanza *f = stanza_new("features", NS_STREAM);
	Stanza *m = stanza_add_child_new(f, "mechanisms", NS_SASL);
	g_auto(GStrv) names = g_strsplit(mechs, " ", -1);

	for (char **n = names; *n != NULL; n++) {
		if (**n != '\0')
			stanza_add_child_text(m, "mechanism", NS_SASL, *n);
	}
	if (bindings != NULL) {
		Stanza *cb = stanza_add_child_new(f, "sasl-channel-binding",
						  NS_SASL_CB);
		g_auto(GStrv) types = g_strsplit(bindings, " ", -1);
		for (char **t = types; *t != NULL; t++) {
			if (**t == '\0')
				continue;
			Stanza *el = stanza_add_child_new(cb, "channel-binding",
							  NS_SASL_CB);
			stanza_set_attr(el, "type", *t);
		}
	}
	return f;
}

START_TEST(test_parse_features)
{
	g_autoptr(Stanza) f =
		make_features("SCRAM-SHA-1 SCRAM-SHA-256-PLUS X-OAUTH2",
			      "tls-unique tls-exporter tls-server-end-point");
	Stanza *m = stanza_get_child(f, "mechanisms", NS_SASL);
	Stanza *cb = stanza_get_child(f, "sasl-channel-binding", NS_SASL_CB);
	/* Pretty-printed, wrong namespace, no type: trimmed or ignored. */
	stanza_add_child_text(m, "mechanism", NS_SASL, "\n  PLAIN\n");
	stanza_add_child_text(m, "mechanism", "urn:example", "EXTERNAL");
	stanza_add_child_text(m, "mechanism", NS_SASL, "  ");
	stanza_set_attr(stanza_add_child_new(cb, "channel-binding", "urn:x"),
			"type", "tls-exporter-2");
	stanza_add_child_new(cb, "channel-binding", NS_SASL_CB);

	g_auto(SaslServerOffer) offer = {0};
	sasl_choice_parse_features(f, &offer);
	g_autofree char *mechs = g_strjoinv(" ", offer.mechanisms);
	ck_assert_str_eq(mechs,
			 "SCRAM-SHA-1 SCRAM-SHA-256-PLUS X-OAUTH2 PLAIN");
	ck_assert(offer.bindings_advertised);
	g_autofree char *types = g_strjoinv(" ", offer.bindings);
	ck_assert_str_eq(types, "tls-unique tls-exporter tls-server-end-point");
	ck_assert_uint_eq(
		offer.binding_types,
		SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER) |
			SASL_CHANNEL_BINDING_BIT(
				SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT));
	sasl_server_offer_clear(&offer);

	/* Only unknown types: advertised, nothing we can use. */
	g_autoptr(Stanza) f2 = make_features("SCRAM-SHA-1", "tls-unique");
	sasl_choice_parse_features(f2, &offer);
	ck_assert(offer.bindings_advertised);
	ck_assert_uint_eq(offer.binding_types, 0);
	ck_assert_uint_eq(g_strv_length(offer.bindings), 1);
	sasl_server_offer_clear(&offer);

	/* No XEP-0440 element; no features at all. */
	g_autoptr(Stanza) f3 = make_features("SCRAM-SHA-1", NULL);
	sasl_choice_parse_features(f3, &offer);
	ck_assert(!offer.bindings_advertised);
	ck_assert_uint_eq(offer.binding_types, 0);
	ck_assert_ptr_nonnull(offer.bindings);
	ck_assert_uint_eq(g_strv_length(offer.bindings), 0);
	sasl_server_offer_clear(&offer);

	sasl_choice_parse_features(NULL, &offer);
	ck_assert_ptr_nonnull(offer.mechanisms);
	ck_assert_uint_eq(g_strv_length(offer.mechanisms), 0);
	ck_assert(!offer.bindings_advertised);
}
END_TEST

START_TEST(test_parse_features_bounded)
{
	g_autoptr(Stanza) f = make_features("", "");
	Stanza *m = stanza_get_child(f, "mechanisms", NS_SASL);
	Stanza *cb = stanza_get_child(f, "sasl-channel-binding", NS_SASL_CB);
	g_autofree char *huge = g_strnfill(SASL_CHOICE_MAX_NAME_BYTES + 1, 'A');

	stanza_add_child_text(m, "mechanism", NS_SASL, huge);
	stanza_set_attr(stanza_add_child_new(cb, "channel-binding", NS_SASL_CB),
			"type", huge);
	for (unsigned i = 0; i < 100; i++) {
		g_autofree char *name = g_strdup_printf("X-MECH-%u", i);
		stanza_add_child_text(m, "mechanism", NS_SASL, name);
		stanza_set_attr(
			stanza_add_child_new(cb, "channel-binding", NS_SASL_CB),
			"type", name);
	}

	g_auto(SaslServerOffer) offer = {0};
	sasl_choice_parse_features(f, &offer);
	ck_assert_uint_eq(g_strv_length(offer.mechanisms),
			  SASL_CHOICE_MAX_MECHANISMS);
	ck_assert_str_eq(offer.mechanisms[0], "X-MECH-0");
	ck_assert_uint_eq(g_strv_length(offer.bindings),
			  SASL_CHOICE_MAX_BINDINGS);
}
END_TEST

#define E SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER)
#define S SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT)
#define V12 TLS_SESSION_VERSION_1_2
#define V13 TLS_SESSION_VERSION_1_3
#define VNONE TLS_SESSION_VERSION_UNKNOWN
#define ALL_MECHS                                                              \
	"PLAIN SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS"
#define BOTH_CB "tls-exporter tls-server-end-point"

static const struct {
	const char *mechs;
	const char *bindings; /* NULL: no XEP-0440 element */
	bool tls;
	TlsSessionVersion version;
	unsigned computable;
	bool scram_worked;
	SaslMechanism mech; /* NONE: error expected */
	SaslChannelBinding binding;
	SaslGs2Flag flag;
	SaslError error;
} choices[] = {
	/* Issue #11, ejabberd 23.01: -PLUS but no XEP-0440: never bind. */
	{"SCRAM-SHA-1 SCRAM-SHA-1-PLUS PLAIN", NULL, true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_1, SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N,
	 0},
	/* Prosody 13 / ejabberd 24.12 on TLS 1.3: tls-exporter preferred. */
	{ALL_MECHS, BOTH_CB, true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256_PLUS, SASL_CHANNEL_BINDING_TLS_EXPORTER,
	 SASL_GS2_FLAG_P, 0},
	{ALL_MECHS, BOTH_CB, true, V12, S, false,
	 SASL_MECHANISM_SCRAM_SHA_256_PLUS,
	 SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT, SASL_GS2_FLAG_P, 0},
	/* tls-exporter only on TLS 1.3, whatever the caller claims. */
	{ALL_MECHS, BOTH_CB, true, V12, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256_PLUS,
	 SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT, SASL_GS2_FLAG_P, 0},
	{ALL_MECHS, "tls-exporter", true, V12, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	/* Only what the server lists. */
	{ALL_MECHS, "tls-server-end-point", true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256_PLUS,
	 SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT, SASL_GS2_FLAG_P, 0},
	{ALL_MECHS, "tls-exporter", true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256_PLUS, SASL_CHANNEL_BINDING_TLS_EXPORTER,
	 SASL_GS2_FLAG_P, 0},
	/* Only what we can compute (Ed25519 certificate: no end-point). */
	{ALL_MECHS, "tls-server-end-point", true, V13, E, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	{ALL_MECHS, "tls-unique", true, V12, S, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	{ALL_MECHS, "", true, V13, E | S, false, SASL_MECHANISM_SCRAM_SHA_256,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, 0},
	/* No -PLUS offered: "y" when we could have bound, else "n". */
	{"SCRAM-SHA-1 SCRAM-SHA-256", BOTH_CB, true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_Y, 0},
	{"SCRAM-SHA-1 SCRAM-SHA-256", NULL, true, V12, S, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_Y, 0},
	{"SCRAM-SHA-1 SCRAM-SHA-256", NULL, true, V12, E, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	{"SCRAM-SHA-1 SCRAM-SHA-256", NULL, true, V13, 0, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	/* A -PLUS we do not know still means "the server binds". */
	{"SCRAM-SHA3-512-PLUS SCRAM-SHA-256", NULL, true, V13, E | S, false,
	 SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	/* Strength order. */
	{"SCRAM-SHA-1 SCRAM-SHA-512 SCRAM-SHA-256-PLUS SCRAM-SHA-512-PLUS",
	 "tls-exporter", true, V13, E, false, SASL_MECHANISM_SCRAM_SHA_512_PLUS,
	 SASL_CHANNEL_BINDING_TLS_EXPORTER, SASL_GS2_FLAG_P, 0},
	{"SCRAM-SHA-512 SCRAM-SHA-1-PLUS", "tls-exporter", true, V13, E, false,
	 SASL_MECHANISM_SCRAM_SHA_1_PLUS, SASL_CHANNEL_BINDING_TLS_EXPORTER,
	 SASL_GS2_FLAG_P, 0},
	{"SCRAM-SHA-512 SCRAM-SHA-1-PLUS", NULL, true, V13, E, false,
	 SASL_MECHANISM_SCRAM_SHA_512, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	{"SCRAM-SHA-256-PLUS SCRAM-SHA-512-PLUS SCRAM-SHA-1-PLUS", BOTH_CB,
	 true, V12, S, false, SASL_MECHANISM_SCRAM_SHA_512_PLUS,
	 SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT, SASL_GS2_FLAG_P, 0},
	{"PLAIN SCRAM-SHA-1", NULL, true, V13, 0, false,
	 SASL_MECHANISM_SCRAM_SHA_1, SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N,
	 0},
	/* Without TLS: no binding, no PLAIN, XEP-0440 irrelevant. */
	{"SCRAM-SHA-256-PLUS SCRAM-SHA-256", "tls-exporter", false, VNONE, E,
	 false, SASL_MECHANISM_SCRAM_SHA_256, SASL_CHANNEL_BINDING_NONE,
	 SASL_GS2_FLAG_N, 0},
	{"PLAIN", NULL, false, VNONE, 0, false, SASL_MECHANISM_NONE,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, SASL_ERROR_NO_MECHANISM},
	/* PLAIN: inside TLS, and never once SCRAM worked. */
	{"PLAIN", NULL, true, V13, E, false, SASL_MECHANISM_PLAIN,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, 0},
	{"PLAIN", BOTH_CB, true, V13, E | S, true, SASL_MECHANISM_NONE,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, SASL_ERROR_PLAIN_REFUSED},
	{"PLAIN X-OAUTH2", NULL, true, V12, 0, true, SASL_MECHANISM_NONE,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, SASL_ERROR_PLAIN_REFUSED},
	{"PLAIN SCRAM-SHA-1", NULL, true, V13, 0, true,
	 SASL_MECHANISM_SCRAM_SHA_1, SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N,
	 0},
	/* Nothing we accept. */
	{"", BOTH_CB, true, V13, E | S, false, SASL_MECHANISM_NONE,
	 SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N, SASL_ERROR_NO_MECHANISM},
	{"DIGEST-MD5 X-OAUTH2 scram-sha-256", NULL, true, V13, E, false,
	 SASL_MECHANISM_NONE, SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N,
	 SASL_ERROR_NO_MECHANISM},
	{"SCRAM-SHA-256-PLUS", NULL, true, V13, E | S, false,
	 SASL_MECHANISM_NONE, SASL_CHANNEL_BINDING_NONE, SASL_GS2_FLAG_N,
	 SASL_ERROR_NO_MECHANISM},
};

START_TEST(test_choice_matrix)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Stanza) f =
		make_features(choices[_i].mechs, choices[_i].bindings);
	g_auto(SaslServerOffer) offer = {0};
	sasl_choice_parse_features(f, &offer);

	SaslChoiceInput in = {
		.offer = &offer,
		.tls_active = choices[_i].tls,
		.tls_version = choices[_i].version,
		.computable = choices[_i].computable,
		.scram_worked_before = choices[_i].scram_worked,
	};
	SaslChoice got = {SASL_MECHANISM_PLAIN, SASL_CHANNEL_BINDING_NONE,
			  SASL_GS2_FLAG_Y};
	bool ok = sasl_choice_select(&in, &got, &error);

	if (choices[_i].mech == SASL_MECHANISM_NONE) {
		ck_assert_msg(!ok, "row %d: chose %s", _i,
			      sasl_mechanism_to_string(got.mechanism));
		ck_assert_msg(g_error_matches(error, SASL_ERROR,
					      (gint)choices[_i].error),
			      "row %d: %s", _i, error ? error->message : "?");
		/* ret_choice untouched on failure. */
		ck_assert_int_eq(got.mechanism, SASL_MECHANISM_PLAIN);
		return;
	}
	ck_assert_msg(ok, "row %d: %s", _i, error ? error->message : "?");
	ck_assert_ptr_null(error);
	ck_assert_msg(got.mechanism == choices[_i].mech &&
			      got.binding == choices[_i].binding &&
			      got.gs2_flag == choices[_i].flag,
		      "row %d: got %s %s", _i,
		      sasl_mechanism_to_string(got.mechanism),
		      sasl_choice_gs2_flag_to_string(&got));
}
END_TEST

#undef E
#undef S

START_TEST(test_choice_flag_names)
{
	SaslChoice c = {SASL_MECHANISM_SCRAM_SHA_256_PLUS,
			SASL_CHANNEL_BINDING_TLS_EXPORTER, SASL_GS2_FLAG_P};
	ck_assert_str_eq(sasl_choice_gs2_flag_to_string(&c), "p=tls-exporter");
	c.binding = SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT;
	ck_assert_str_eq(sasl_choice_gs2_flag_to_string(&c),
			 "p=tls-server-end-point");
	c = (SaslChoice){SASL_MECHANISM_SCRAM_SHA_1, SASL_CHANNEL_BINDING_NONE,
			 SASL_GS2_FLAG_Y};
	ck_assert_str_eq(sasl_choice_gs2_flag_to_string(&c), "y");
	c.gs2_flag = SASL_GS2_FLAG_N;
	ck_assert_str_eq(sasl_choice_gs2_flag_to_string(&c), "n");
	ck_assert_str_eq(sasl_channel_binding_to_string(
				 SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT),
			 "tls-server-end-point");
	ck_assert_int_eq(sasl_mechanism_from_string("SCRAM-SHA-512-PLUS"),
			 SASL_MECHANISM_SCRAM_SHA_512_PLUS);
	ck_assert_int_eq(sasl_mechanism_from_string("scram-sha-1"),
			 SASL_MECHANISM_NONE);
	ck_assert_int_eq(sasl_mechanism_from_string(""), SASL_MECHANISM_NONE);
}
END_TEST

/*
 * The whole pure path the stream will run: features → choice → client
 * with the offer → XEP-0474 check, on the XEP-0474 example.
 */
START_TEST(test_features_to_downgrade_check)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Stanza) f =
		make_features("SCRAM-SHA-1 SCRAM-SHA-1-PLUS",
			      "tls-server-end-point tls-exporter");
	g_auto(SaslServerOffer) offer = {0};
	sasl_choice_parse_features(f, &offer);

	SaslChoiceInput in = {
		.offer = &offer,
		.tls_active = true,
		.tls_version = TLS_SESSION_VERSION_1_3,
		.computable =
			SASL_CHANNEL_BINDING_BIT(
				SASL_CHANNEL_BINDING_TLS_EXPORTER) |
			SASL_CHANNEL_BINDING_BIT(
				SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT),
	};
	SaslChoice choice;
	ck_assert(sasl_choice_select(&in, &choice, &error));
	ck_assert_int_eq(choice.mechanism, SASL_MECHANISM_SCRAM_SHA_1_PLUS);
	ck_assert_int_eq(choice.binding, SASL_CHANNEL_BINDING_TLS_EXPORTER);

	g_autoptr(GBytes) cb = g_bytes_new_static("THIS IS FAKE CB DATA", 20);
	SaslClientOptions o = {
		.mechanism = choice.mechanism,
		.username = "user",
		.password = "pencil",
		.gs2_flag = choice.gs2_flag,
		.binding = choice.binding,
		.binding_data = cb,
		.offer = &offer,
		.client_nonce = XEP0474_NONCE,
	};
	g_autoptr(SaslClient) c = sasl_client_new_with_options(&o);
	g_autoptr(GBytes) first = sasl_client_initial_response(c);
	ck_assert_ptr_nonnull(first);
	g_autoptr(GBytes) out =
		step_str(c, XEP0474_SERVER_FIRST_BARE ",h=" XEP0474_H, &error);
	ck_assert_msg(out != NULL, "%s", error ? error->message : "?");
	ck_assert(sasl_client_is_downgrade_checked(c));
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"rfc5802-vector", test_rfc5802_vector},
		{"rfc7677-vector", test_rfc7677_vector},
		{"sha1-plus", test_sha1_plus},
		{"sha256-plus", test_sha256_plus},
		{"gs2-y", test_gs2_y},
		{"plus-header", test_plus_ignores_supports_flag},
		{"username-escaping", test_username_escaping},
		{"random-nonce", test_random_nonce},
		{"bad-nonce", test_bad_nonce},
		{"bad-iterations", test_bad_iterations},
		{"iterations-at-bounds", test_iterations_at_bounds},
		{"bad-salt", test_bad_salt},
		{"malformed-server-first", test_malformed_server_first},
		{"extension-ignored", test_extension_ignored},
		{"server-error-first", test_server_error_first},
		{"bad-server-signature", test_bad_server_signature},
		{"verify-state", test_verify_state},
		{"plain", test_plain},
		{"password-saslprep", test_password_saslprep},
		{"mutated-server-messages", test_mutated_server_messages},
		{"mechanism-names", test_mechanism_names},
		{"sha512-vector", test_sha512_vector},
		{"sha512-plus-exporter", test_sha512_plus_exporter},
		{"sha512-plus-end-point", test_sha512_plus_end_point},
		{"sha256-plus-end-point", test_sha256_plus_end_point},
		{"sha512-bad-signature", test_sha512_bad_signature},
		{"downgrade-hash", test_downgrade_hash},
		{"downgrade-example", test_downgrade_example},
		{"downgrade-repeated", test_downgrade_repeated},
		{"parse-features", test_parse_features},
		{"parse-features-bounded", test_parse_features_bounded},
		{"choice-flag-names", test_choice_flag_names},
		{"features-to-downgrade-check",
		 test_features_to_downgrade_check},
		/* One test per tampered feature list, per matrix row. */
		{"downgrade-tampered", test_downgrade_tampered,
		 .loops = G_N_ELEMENTS(tampered)},
		{"choice-matrix", test_choice_matrix,
		 .loops = G_N_ELEMENTS(choices)},
	};

	return check_suite_run("sasl-scram", cases, G_N_ELEMENTS(cases), 30);
}
