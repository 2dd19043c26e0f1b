/* SPDX-License-Identifier: MIT */
/*
 * TlsSession against an in-process GnuTLS server on memory buffers, with a
 * certificate matrix generated at start-up (tls-test-certs.h): no sockets,
 * no committed keys.
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "core/tls-session.h"
#include "tests/support/check-suite.h"
#include "tests/support/tls-test-certs.h"

#define DOMAIN "example.org"
#define TLS12_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.2"
#define TLS13_ONLY "NORMAL:-VERS-ALL:+VERS-TLS1.3"

/* Made once in main(); the forked test processes inherit it. */
static TlsTestCertMatrix *matrix;

/* Moves every pending byte from client to server; returns the count. */
static size_t client_to_server(TlsSession *c, TlsTestServer *s)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();

	tls_session_take_output(c, buf);
	ck_assert(!tls_session_has_output(c));
	if (buf->len > 0)
		tls_test_server_feed(s, buf->data, buf->len);
	return buf->len;
}

static size_t server_to_client(TlsTestServer *s, TlsSession *c)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();

	tls_test_server_take_output(s, buf);
	if (buf->len > 0)
		tls_session_feed(c, (const char *)buf->data, buf->len);
	return buf->len;
}

/*
 * Runs both handshakes, moving bytes until the client is DONE or ERROR and
 * nothing is in flight. The server's last gnutls result lands in
 * *ret_server.
 */
static TlsSessionStatus run_handshake(TlsSession *c, TlsTestServer *s,
				      int *ret_server, GError **error)
{
	TlsSessionStatus st = tls_session_handshake(c, error);
	int sret = GNUTLS_E_AGAIN;

	for (int round = 0; round < 32; round++) {
		size_t moved = client_to_server(c, s);

		if (sret == GNUTLS_E_AGAIN)
			sret = tls_test_server_handshake(s);
		moved += server_to_client(s, c);
		if (st == TLS_SESSION_STATUS_AGAIN)
			st = tls_session_handshake(c, error);
		if (moved == 0 &&
		    (st != TLS_SESSION_STATUS_AGAIN || sret != GNUTLS_E_AGAIN))
			break;
		ck_assert_msg(moved > 0 || st != TLS_SESSION_STATUS_AGAIN,
			      "handshake stalled");
	}
	/* Flush what the client queued last (Finished or an alert). */
	client_to_server(c, s);
	if (sret == GNUTLS_E_AGAIN)
		sret = tls_test_server_handshake(s);
	if (ret_server != NULL)
		*ret_server = sret;
	return st;
}

/* A client and server with the handshake done. */
static void connect_pair(const char *priority, TlsSession **ret_c,
			 TlsTestServer **ret_s)
{
	g_autoptr(GError) error = NULL;
	int sret = 0;
	gint64 t0 = g_get_monotonic_time();
	TlsSession *c = tls_session_new(DOMAIN, matrix->ca_file, &error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "?");
	gint64 t1 = g_get_monotonic_time();
	TlsTestServer *s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], priority);

	gint64 t2 = g_get_monotonic_time();
	TlsSessionStatus st = run_handshake(c, s, &sret, &error);
	printf("# tls_session_new %" G_GINT64_FORMAT
	       " us, handshake (both sides) %" G_GINT64_FORMAT " us\n",
	       t1 - t0, g_get_monotonic_time() - t2);
	fflush(stdout);
	ck_assert_msg(st == TLS_SESSION_STATUS_DONE, "client: %s",
		      error ? error->message : "?");
	ck_assert_msg(sret == 0, "server: %s", gnutls_strerror(sret));
	*ret_c = c;
	*ret_s = s;
}

static void fill_pattern(guint8 *buf, size_t len, guint8 seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (guint8)(i * 131u + seed + (i >> 10));
}

START_TEST(test_good_certificate)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	/* Handshake again after DONE is a no-op. */
	ck_assert_int_eq(tls_session_handshake(c, &error),
			 TLS_SESSION_STATUS_DONE);

	/* SNI carried the domain (RFC 6066 §3). */
	char name[256];
	size_t name_len = sizeof(name);
	unsigned type = 0;
	ck_assert_int_eq(gnutls_server_name_get(tls_test_server_get_session(s),
						name, &name_len, &type, 0),
			 0);
	ck_assert_uint_eq(type, GNUTLS_NAME_DNS);
	ck_assert_str_eq(name, DOMAIN);

	g_autofree char *desc = tls_session_describe(c);
	ck_assert_msg(g_str_has_prefix(desc, "TLS1.3/"), "%s", desc);

	/* Client to server. */
	ck_assert(tls_session_write(c, "<stream:stream>", 15, &error));
	client_to_server(c, s);
	g_autoptr(GByteArray) at_server = g_byte_array_new();
	ck_assert_int_eq(tls_test_server_read(s, at_server), 0);
	ck_assert_uint_eq(at_server->len, 15);
	ck_assert(memcmp(at_server->data, "<stream:stream>", 15) == 0);

	/* Server to client. */
	ck_assert_int_eq(tls_test_server_write(s, "<features/>", 11), 0);
	server_to_client(s, c);
	g_autoptr(GByteArray) at_client = g_byte_array_new();
	ck_assert_msg(tls_session_read(c, at_client, &error), "%s",
		      error ? error->message : "?");
	ck_assert_uint_eq(at_client->len, 11);
	ck_assert(memcmp(at_client->data, "<features/>", 11) == 0);

	/* Nothing more: a read finds nothing and is not an error. */
	g_byte_array_set_size(at_client, 0);
	ck_assert(tls_session_read(c, at_client, &error));
	ck_assert_uint_eq(at_client->len, 0);
}
END_TEST

START_TEST(test_large_payload)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;
	const size_t len = 300 * 1024;
	g_autofree guint8 *payload = g_malloc(len);

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	/*
	 * Server to client: ~19 records, all fed at once; ONE read must
	 * return everything, or a daemon waiting on the socket would stall.
	 */
	fill_pattern(payload, len, 7);
	ck_assert_int_eq(tls_test_server_write(s, payload, len), 0);
	ck_assert_uint_gt(server_to_client(s, c), len);
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert_msg(tls_session_read(c, got, &error), "%s",
		      error ? error->message : "?");
	ck_assert_uint_eq(got->len, len);
	ck_assert(memcmp(got->data, payload, len) == 0);

	/* Client to server, in records the server can read. */
	fill_pattern(payload, len, 99);
	ck_assert(tls_session_write(c, (const char *)payload, len, &error));
	ck_assert(tls_session_has_output(c));
	client_to_server(c, s);
	g_autoptr(GByteArray) at_server = g_byte_array_new();
	ck_assert_int_eq(tls_test_server_read(s, at_server), 0);
	ck_assert_uint_eq(at_server->len, len);
	ck_assert(memcmp(at_server->data, payload, len) == 0);
}
END_TEST

START_TEST(test_split_ciphertext)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;
	const size_t len = 40000;
	g_autofree guint8 *payload = g_malloc(len);

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	/* Ciphertext arriving in odd-sized pieces, a read after each. */
	fill_pattern(payload, len, 3);
	ck_assert_int_eq(tls_test_server_write(s, payload, len), 0);
	g_autoptr(GByteArray) wire = g_byte_array_new();
	tls_test_server_take_output(s, wire);

	g_autoptr(GByteArray) got = g_byte_array_new();
	size_t piece = 1;
	for (size_t off = 0; off < wire->len; off += piece) {
		piece = MIN(wire->len - off, (off % 7) * 97 + 1);
		tls_session_feed(c, (const char *)wire->data + off, piece);
		ck_assert_msg(tls_session_read(c, got, &error), "%s",
			      error ? error->message : "?");
	}
	ck_assert_uint_eq(got->len, len);
	ck_assert(memcmp(got->data, payload, len) == 0);
}
END_TEST

/* The bad rows of the matrix, each with the reason GnuTLS gives. */
static const struct {
	TlsTestServerCertKind kind;
	const char *reason; /* a substring of the message */
} bad_certs[] = {
	{TLS_TEST_SERVER_CERT_WRONG_NAME, "does not match"},
	{TLS_TEST_SERVER_CERT_EXPIRED, "expired"},
	{TLS_TEST_SERVER_CERT_NOT_YET_VALID, "not yet"},
	{TLS_TEST_SERVER_CERT_UNKNOWN_CA, "issuer is unknown"},
	{TLS_TEST_SERVER_CERT_SELF_SIGNED, "issuer is unknown"},
};

START_TEST(test_bad_certificate)
{
	g_autoptr(GError) error = NULL;
	TlsTestServerCertKind kind = bad_certs[_i].kind;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	ck_assert_ptr_nonnull(c);
	g_autoptr(TlsTestServer) s =
		tls_test_server_new(matrix->server[kind], NULL);

	int sret = 0;
	TlsSessionStatus st = run_handshake(c, s, &sret, &error);
	ck_assert_msg(st == TLS_SESSION_STATUS_ERROR, "%s accepted",
		      tls_test_server_cert_kind_to_string(kind));
	/* The server was told why (RFC 8446 §6.2). */
	ck_assert_int_eq(sret, GNUTLS_E_FATAL_ALERT_RECEIVED);
	ck_assert_msg(g_error_matches(error, TLS_SESSION_ERROR,
				      TLS_SESSION_ERROR_CERTIFICATE),
		      "%s: %s", tls_test_server_cert_kind_to_string(kind),
		      error->message);
	printf("# %s: %s\n", tls_test_server_cert_kind_to_string(kind),
	       error->message);
	fflush(stdout);
	ck_assert_ptr_nonnull(strstr(error->message, DOMAIN));
	ck_assert_msg(strstr(error->message, bad_certs[_i].reason) != NULL,
		      "\"%s\" lacks \"%s\"", error->message,
		      bad_certs[_i].reason);

	/* Dead for good: no data path, no binding. */
	g_clear_error(&error);
	ck_assert_int_eq(tls_session_handshake(c, &error),
			 TLS_SESSION_STATUS_ERROR);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_CERTIFICATE));
	g_clear_error(&error);
	ck_assert(!tls_session_write(c, "x", 1, &error));
	ck_assert_ptr_null(tls_session_get_channel_binding(c));
}
END_TEST

/*
 * GnuTLS' system store, interposed for this executable (the core is linked
 * into it): calls are counted, and with fake_system_ca set that file
 * stands in for the system store, so a chain that needs "the system
 * store" can be verified without a public CA.
 */
static unsigned system_trust_calls;
static const char *fake_system_ca;

int gnutls_certificate_set_x509_system_trust(
	gnutls_certificate_credentials_t cred)
{
	int (*real)(gnutls_certificate_credentials_t);

	system_trust_calls++;
	if (fake_system_ca)
		return gnutls_certificate_set_x509_trust_file(
			cred, fake_system_ca, GNUTLS_X509_FMT_PEM);
	*(void **)&real =
		dlsym(RTLD_NEXT, "gnutls_certificate_set_x509_system_trust");
	ck_assert_ptr_nonnull(real);
	return real(cred);
}

/* With a ca-file the system store is loaded only once a chain does not
 * verify against ca-file alone, and then once per store. */
START_TEST(test_system_store_on_demand)
{
	g_autoptr(TlsTestCertMatrix) other = NULL;
	g_autoptr(GError) error = NULL;
	unsigned before;

	other = tls_test_cert_matrix_new(DOMAIN, &error);
	ck_assert_ptr_nonnull(other);
	tls_session_forget_trust();
	before = system_trust_calls;
	{
		g_autoptr(TlsSession) c =
			tls_session_new(DOMAIN, matrix->ca_file, &error);
		g_autoptr(TlsTestServer) s = tls_test_server_new(
			matrix->server[TLS_TEST_SERVER_CERT_GOOD], NULL);

		ck_assert_int_eq(run_handshake(c, s, NULL, &error),
				 TLS_SESSION_STATUS_DONE);
		ck_assert_uint_eq(system_trust_calls, before);
	}
	/* Signed by a CA only "the system store" has: loaded, accepted. */
	fake_system_ca = other->ca_file;
	for (int i = 0; i < 2; i++) {
		g_autoptr(TlsSession) c =
			tls_session_new(DOMAIN, matrix->ca_file, &error);
		g_autoptr(TlsTestServer) s = tls_test_server_new(
			other->server[TLS_TEST_SERVER_CERT_GOOD], NULL);

		ck_assert_int_eq(run_handshake(c, s, NULL, &error),
				 TLS_SESSION_STATUS_DONE);
		ck_assert_uint_eq(system_trust_calls, before + 1);
	}
	/* The name is still checked after the second look. */
	{
		g_autoptr(TlsSession) c =
			tls_session_new(DOMAIN, matrix->ca_file, &error);
		g_autoptr(TlsTestServer) s = tls_test_server_new(
			other->server[TLS_TEST_SERVER_CERT_WRONG_NAME], NULL);

		ck_assert_int_eq(run_handshake(c, s, NULL, &error),
				 TLS_SESSION_STATUS_ERROR);
		ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
					  TLS_SESSION_ERROR_CERTIFICATE));
		ck_assert_uint_eq(system_trust_calls, before + 1);
		g_clear_error(&error);
	}
	fake_system_ca = NULL;
	tls_session_forget_trust();
	/* Without a ca-file the system store is the trust: loaded at once. */
	{
		g_autoptr(TlsSession) c = tls_session_new(DOMAIN, NULL, &error);

		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(system_trust_calls, before + 2);
	}
	tls_session_forget_trust();
}
END_TEST

START_TEST(test_system_trust_only)
{
	/* Our test CA is not in the system store. */
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c = tls_session_new(DOMAIN, NULL, &error);
	ck_assert_msg(c != NULL, "%s", error ? error->message : "?");
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], NULL);

	ck_assert_int_eq(run_handshake(c, s, NULL, &error),
			 TLS_SESSION_STATUS_ERROR);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_CERTIFICATE));
	ck_assert_ptr_nonnull(strstr(error->message, DOMAIN));
}
END_TEST

START_TEST(test_domain_case_insensitive)
{
	/* RFC 6125 §6.4.1: DNS names compare case-insensitively. */
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new("Example.ORG", matrix->ca_file, &error);
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], NULL);

	ck_assert_msg(run_handshake(c, s, NULL, &error) ==
			      TLS_SESSION_STATUS_DONE,
		      "%s", error ? error->message : "?");
}
END_TEST

START_TEST(test_idn_domain)
{
	/* A U-label JID domain matches the A-label in the certificate. */
	g_autoptr(GError) error = NULL;
	time_t now = time(NULL);
	g_autoptr(TlsTestCert) cert =
		tls_test_cert_new(matrix->ca, "xn--bcher-kva.example", false,
				  now - 3600, now + 3600, &error);
	ck_assert_ptr_nonnull(cert);
	g_autoptr(TlsSession) c = tls_session_new("b\xc3\xbc"
						  "cher.example",
						  matrix->ca_file, &error);
	ck_assert_ptr_nonnull(c);
	g_autoptr(TlsTestServer) s = tls_test_server_new(cert, NULL);

	ck_assert_msg(run_handshake(c, s, NULL, &error) ==
			      TLS_SESSION_STATUS_DONE,
		      "%s", error ? error->message : "?");

	char name[256];
	size_t name_len = sizeof(name);
	unsigned type = 0;
	ck_assert_int_eq(gnutls_server_name_get(tls_test_server_get_session(s),
						name, &name_len, &type, 0),
			 0);
	ck_assert_str_eq(name, "xn--bcher-kva.example");
}
END_TEST

START_TEST(test_key_update)
{
	/* TLS 1.3 KeyUpdate from the server (RFC 8446 §4.6.3), both ways. */
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(TLS13_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;
	gnutls_session_t ss = tls_test_server_get_session(s);

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(gnutls_session_key_update(ss, GNUTLS_KU_PEER),
				 0);
		ck_assert_int_eq(tls_test_server_write(s, "ping", 4), 0);
		server_to_client(s, c);
		g_autoptr(GByteArray) got = g_byte_array_new();
		ck_assert_msg(tls_session_read(c, got, &error), "%s",
			      error ? error->message : "?");
		ck_assert_uint_eq(got->len, 4);

		ck_assert(tls_session_write(c, "pong", 4, &error));
		client_to_server(c, s);
		g_autoptr(GByteArray) back = g_byte_array_new();
		ck_assert_int_eq(tls_test_server_read(s, back), 0);
		ck_assert_uint_eq(back->len, 4);
		ck_assert(memcmp(back->data, "pong", 4) == 0);
	}
}
END_TEST

/* Hello retry requests the server sent (its handshake hook). */
static unsigned retries_sent;

static int count_retry(gnutls_session_t session, unsigned type, unsigned when,
		       unsigned incoming, const gnutls_datum_t *msg)
{
	(void)session;
	(void)when;
	(void)incoming;
	(void)msg;
	if (type == GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST)
		retries_sent++;
	return 0;
}

/* Handshakes with a server of that priority; returns the group used. */
static gnutls_group_t handshake_group(const char *priority)
{
	g_autoptr(GError) error = NULL;
	int sret = 0;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], priority);
	gnutls_session_t ss = tls_test_server_get_session(s);

	retries_sent = 0;
	gnutls_handshake_set_hook_function(ss,
					   GNUTLS_HANDSHAKE_HELLO_RETRY_REQUEST,
					   GNUTLS_HOOK_POST, count_retry);
	ck_assert_int_eq(run_handshake(c, s, &sret, &error),
			 TLS_SESSION_STATUS_DONE);
	ck_assert_int_eq(sret, 0);
	return gnutls_group_get(ss);
}

START_TEST(test_key_share)
{
	/* One key share, X25519's: a server that has it needs no retry. */
	ck_assert_int_eq(handshake_group(TLS13_ONLY), GNUTLS_GROUP_X25519);
	ck_assert_uint_eq(retries_sent, 0);
	/* A server without X25519 (FIPS mode) asks again, for P-256. */
	ck_assert_int_eq(
		handshake_group(TLS13_ONLY ":-GROUP-ALL:+GROUP-SECP256R1"),
		GNUTLS_GROUP_SECP256R1);
	ck_assert_uint_eq(retries_sent, 1);
}
END_TEST

START_TEST(test_ca_file_errors)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *missing =
		g_build_filename(matrix->dir, "missing.pem", NULL);
	g_autofree char *empty =
		g_build_filename(matrix->dir, "junk.pem", NULL);

	TlsSession *c = tls_session_new(DOMAIN, missing, &error);
	ck_assert_ptr_null(c);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_SETUP));
	ck_assert_msg(strstr(error->message, missing) != NULL, "%s",
		      error->message);
	g_clear_error(&error);
	ck_assert(!tls_session_load_trust(missing, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_SETUP));

	/* A readable file without any certificate in it. */
	g_clear_error(&error);
	ck_assert(g_file_set_contents(empty, "not a certificate\n", -1, NULL));
	c = tls_session_new(DOMAIN, empty, &error);
	(void)g_unlink(empty);
	ck_assert_ptr_null(c);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_SETUP));
	ck_assert_msg(strstr(error->message, empty) != NULL, "%s",
		      error->message);
}
END_TEST

START_TEST(test_tls12_no_binding)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(TLS12_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	g_autofree char *desc = tls_session_describe(c);
	ck_assert_msg(g_str_has_prefix(desc, "TLS1.2/"), "%s", desc);
	ck_assert_ptr_null(tls_session_get_channel_binding(c));

	/* Data still flows. */
	ck_assert_int_eq(tls_test_server_write(s, "hello", 5), 0);
	server_to_client(s, c);
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert(tls_session_read(c, got, &error));
	ck_assert_uint_eq(got->len, 5);
}
END_TEST

START_TEST(test_tls13_binding)
{
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;
	static const char label[] = "EXPORTER-Channel-Binding";
	char expected[32];

	connect_pair(TLS13_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	g_autoptr(GBytes) cb = tls_session_get_channel_binding(c);
	ck_assert_ptr_nonnull(cb);
	ck_assert_uint_eq(g_bytes_get_size(cb), 32);
	ck_assert_int_eq(gnutls_prf_rfc5705(tls_test_server_get_session(s),
					    strlen(label), label, 0, NULL,
					    sizeof(expected), expected),
			 0);
	ck_assert(memcmp(g_bytes_get_data(cb, NULL), expected, 32) == 0);

	/* A different session binds to different bytes. */
	connect_pair(TLS13_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c2 = c_raw;
	g_autoptr(TlsTestServer) s2 = s_raw;
	ck_assert_ptr_nonnull(s2);
	g_autoptr(GBytes) cb2 = tls_session_get_channel_binding(c2);
	ck_assert(!g_bytes_equal(cb, cb2));
}
END_TEST

START_TEST(test_data_with_last_handshake_flight)
{
	/*
	 * TLS 1.2: the server's Finished and its first application data
	 * arrive in one feed; the handshake call completes and the data must
	 * come out of the next read without any further input.
	 */
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], TLS12_ONLY);
	TlsSessionStatus st = tls_session_handshake(c, &error);
	int sret = GNUTLS_E_AGAIN;
	bool written = false;

	for (int round = 0; round < 16 && !written; round++) {
		client_to_server(c, s);
		if (sret == GNUTLS_E_AGAIN)
			sret = tls_test_server_handshake(s);
		if (sret == 0) {
			ck_assert_int_eq(
				tls_test_server_write(s, "<stream>", 8), 0);
			written = true;
		}
		server_to_client(s, c);
		ck_assert_int_eq(st, TLS_SESSION_STATUS_AGAIN);
		st = tls_session_handshake(c, &error);
	}
	ck_assert(written);
	ck_assert_msg(st == TLS_SESSION_STATUS_DONE, "%s",
		      error ? error->message : "?");

	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert(tls_session_read(c, got, &error));
	ck_assert_uint_eq(got->len, 8);
	ck_assert(memcmp(got->data, "<stream>", 8) == 0);
}
END_TEST

START_TEST(test_peer_close_notify)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	ck_assert_int_eq(tls_test_server_write(s, "</stream:stream>", 16), 0);
	tls_test_server_bye(s);
	server_to_client(s, c);

	/* The data before close_notify is delivered, then CLOSED. */
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_CLOSED));
	ck_assert_uint_eq(got->len, 16);
	ck_assert(memcmp(got->data, "</stream:stream>", 16) == 0);

	g_clear_error(&error);
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_CLOSED));
}
END_TEST

START_TEST(test_own_close_notify)
{
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	tls_session_close(c);
	ck_assert(tls_session_has_output(c));
	client_to_server(c, s);
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert_int_eq(tls_test_server_read(s, got), 1);
}
END_TEST

START_TEST(test_garbage_after_handshake)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;
	/* An application_data record header and bytes that fail the AEAD. */
	guint8 garbage[5 + 64] = {0x17, 0x03, 0x03, 0x00, 64};

	connect_pair(NULL, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	/* The alert we send back reaches the server as a fatal one. */
	fill_pattern(garbage + 5, 64, 1);
	tls_session_feed(c, (const char *)garbage, sizeof(garbage));
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_IO));
	ck_assert_uint_eq(got->len, 0);
	printf("# garbage: %s\n", error->message);
	fflush(stdout);
	client_to_server(c, s);
	ck_assert_int_eq(tls_test_server_read(s, got),
			 GNUTLS_E_FATAL_ALERT_RECEIVED);

	/* Still dead afterwards. */
	g_clear_error(&error);
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert_ptr_nonnull(error);
}
END_TEST

START_TEST(test_alerts_received)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	/* TLS 1.2 still has warning alerts: logged, reading goes on. */
	connect_pair(TLS12_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;
	gnutls_session_t ss = tls_test_server_get_session(s);

	ck_assert_int_eq(gnutls_alert_send(ss, GNUTLS_AL_WARNING,
					   GNUTLS_A_USER_CANCELED),
			 0);
	ck_assert_int_eq(tls_test_server_write(s, "after", 5), 0);
	server_to_client(s, c);
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert_msg(tls_session_read(c, got, &error), "%s",
		      error ? error->message : "?");
	ck_assert_uint_eq(got->len, 5);

	/* A fatal alert kills the session and is named. */
	ck_assert_int_eq(
		gnutls_alert_send(ss, GNUTLS_AL_FATAL, GNUTLS_A_INTERNAL_ERROR),
		0);
	server_to_client(s, c);
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_IO));
	ck_assert_msg(strstr(error->message, "Internal error") != NULL, "%s",
		      error->message);
	ck_assert_ptr_nonnull(strstr(error->message, DOMAIN));
}
END_TEST

START_TEST(test_garbage_handshake)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	static const char reply[] = "HTTP/1.1 400 Bad Request\r\n\r\n";

	ck_assert_int_eq(tls_session_handshake(c, &error),
			 TLS_SESSION_STATUS_AGAIN);
	ck_assert(tls_session_has_output(c));
	tls_session_feed(c, reply, sizeof(reply) - 1);
	ck_assert_int_eq(tls_session_handshake(c, &error),
			 TLS_SESSION_STATUS_ERROR);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_HANDSHAKE));
	ck_assert_ptr_nonnull(strstr(error->message, DOMAIN));

	/* Random answers, some dressed as handshake records: no crash. */
	GRand *rand = g_rand_new_with_seed(8446);
	for (int n = 0; n < 40; n++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(TlsSession) t =
			tls_session_new(DOMAIN, matrix->ca_file, &err);
		guint8 junk[512];
		size_t len = (size_t)g_rand_int_range(rand, 1, sizeof(junk));

		for (size_t i = 0; i < len; i++)
			junk[i] = (guint8)g_rand_int_range(rand, 0, 256);
		if (n % 2 == 0 && len >= 5) {
			junk[0] = 0x16; /* handshake */
			junk[1] = 0x03;
			junk[2] = 0x03;
			junk[3] = (guint8)((len - 5) >> 8);
			junk[4] = (guint8)(len - 5);
		}
		ck_assert_int_eq(tls_session_handshake(t, &err),
				 TLS_SESSION_STATUS_AGAIN);
		tls_session_feed(t, (const char *)junk, len);
		TlsSessionStatus st = tls_session_handshake(t, &err);
		ck_assert_int_ne(st, TLS_SESSION_STATUS_DONE);
		ck_assert((st == TLS_SESSION_STATUS_ERROR) == (err != NULL));
	}
	g_rand_free(rand);
}
END_TEST

START_TEST(test_tls11_refused)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD],
		"NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0");
	int sret = 0;

	ck_assert_int_eq(run_handshake(c, s, &sret, &error),
			 TLS_SESSION_STATUS_ERROR);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_HANDSHAKE));
	/*
	 * Either the server negotiated 1.1 and was told no, or (AEAD
	 * suites only, which need 1.2) it found no suite in common.
	 */
	ck_assert_msg(sret == GNUTLS_E_FATAL_ALERT_RECEIVED ||
			      sret == GNUTLS_E_NO_CIPHER_SUITES,
		      "server: %s", gnutls_strerror(sret));
	gnutls_session_t ss = tls_test_server_get_session(s);
	printf("# TLS 1.1: %s / server got alert: %s\n", error->message,
	       gnutls_alert_get_name(gnutls_alert_get(ss)));
	fflush(stdout);
}
END_TEST

/*
 * A TLS 1.2 server that offers only CBC with HMAC-SHA1 (Lucky Thirteen and
 * its kin; RFC 9325 §4.2 recommends AEAD only) is refused, whatever its
 * key exchange.
 */
static const char *const cbc_sha1_only[] = {
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-CBC:"
	"-MAC-ALL:+SHA1",
	"NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-CBC:"
	"-MAC-ALL:+SHA1:-KX-ALL:+ECDHE-ECDSA",
};

START_TEST(test_cbc_sha1_refused)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	g_autoptr(TlsTestServer) s = tls_test_server_new(
		matrix->server[TLS_TEST_SERVER_CERT_GOOD], cbc_sha1_only[_i]);
	int sret = 0;

	ck_assert_int_eq(run_handshake(c, s, &sret, &error),
			 TLS_SESSION_STATUS_ERROR);
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_HANDSHAKE));
	/* No suite in common: the server says so. */
	ck_assert_int_lt(sret, 0);
	printf("# CBC-SHA1 only: %s / server: %s\n", error->message,
	       gnutls_strerror(sret));
	fflush(stdout);
}
END_TEST

START_TEST(test_renegotiation_refused)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(TLS12_ONLY, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	ck_assert_int_eq(gnutls_rehandshake(tls_test_server_get_session(s)), 0);
	server_to_client(s, c);
	g_autoptr(GByteArray) got = g_byte_array_new();
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_IO));
	ck_assert_ptr_nonnull(strstr(error->message, "renegotiation"));
}
END_TEST

START_TEST(test_not_ready)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);
	g_autoptr(GByteArray) got = g_byte_array_new();

	ck_assert(!tls_session_write(c, "x", 1, &error));
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);
	ck_assert(!tls_session_read(c, got, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_null(tls_session_get_channel_binding(c));
	g_autofree char *desc = tls_session_describe(c);
	ck_assert_ptr_nonnull(desc);
	/* Closing before the handshake queues nothing and does not crash. */
	tls_session_close(c);
	ck_assert(!tls_session_has_output(c));
}
END_TEST

/* The certificate's DER from its PEM by hand (GLib base64, no GnuTLS), and
 * its SHA-256 by GLib's GChecksum: independent of the code under test. */
static GBytes *sha256_of_pem_cert(const char *pem)
{
	const char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
	ck_assert_ptr_nonnull(begin);
	begin = strchr(begin, '\n') + 1;
	const char *end = strstr(begin, "-----END CERTIFICATE-----");
	ck_assert_ptr_nonnull(end);
	g_autofree char *body = g_strndup(begin, (gsize)(end - begin));
	gsize der_len = 0;
	g_autofree guchar *der = g_base64_decode(body, &der_len);
	ck_assert_uint_gt(der_len, 100);

	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, der, der_len);
	guint8 digest[32];
	gsize digest_len = sizeof(digest);
	g_checksum_get_digest(sum, digest, &digest_len);
	return g_bytes_new(digest, digest_len);
}

static void check_end_point(const char *priority, TlsSessionVersion version)
{
	g_autoptr(GError) error = NULL;
	TlsSession *c_raw = NULL;
	TlsTestServer *s_raw = NULL;

	connect_pair(priority, &c_raw, &s_raw);
	g_autoptr(TlsSession) c = c_raw;
	g_autoptr(TlsTestServer) s = s_raw;

	ck_assert_int_eq(tls_session_get_version(c), version);

	/* The test certificates are ECDSA-SHA256: SHA-256 of the DER. */
	g_autoptr(GBytes) cb = tls_session_get_server_end_point(c, &error);
	ck_assert_msg(cb != NULL, "%s", error ? error->message : "?");
	ck_assert_ptr_null(error);
	g_autoptr(GBytes) expected =
		sha256_of_pem_cert(tls_test_cert_get_cert_pem(
			matrix->server[TLS_TEST_SERVER_CERT_GOOD]));
	ck_assert(g_bytes_equal(cb, expected));

	/* The server's own view of the certificate it sent agrees. */
	const gnutls_datum_t *ours =
		gnutls_certificate_get_ours(tls_test_server_get_session(s));
	ck_assert_ptr_nonnull(ours);
	guint8 digest[32];
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, ours->data,
					  ours->size, digest),
			 0);
	ck_assert(memcmp(g_bytes_get_data(cb, NULL), digest, 32) == 0);
}

START_TEST(test_end_point_tls13)
{
	check_end_point(TLS13_ONLY, TLS_SESSION_VERSION_1_3);
}
END_TEST

START_TEST(test_end_point_tls12)
{
	/* RFC 5929 §4: unlike tls-exporter, available on TLS 1.2 too. */
	check_end_point(TLS12_ONLY, TLS_SESSION_VERSION_1_2);
}
END_TEST

START_TEST(test_end_point_not_ready)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TlsSession) c =
		tls_session_new(DOMAIN, matrix->ca_file, &error);

	ck_assert_int_eq(tls_session_get_version(c),
			 TLS_SESSION_VERSION_UNKNOWN);
	ck_assert_ptr_null(tls_session_get_server_end_point(c, &error));
	ck_assert(g_error_matches(error, TLS_SESSION_ERROR,
				  TLS_SESSION_ERROR_NO_BINDING));
	ck_assert_str_eq(tls_session_version_to_string(TLS_SESSION_VERSION_1_2),
			 "1.2");
	ck_assert_str_eq(tls_session_version_to_string(TLS_SESSION_VERSION_1_3),
			 "1.3");
	ck_assert_str_eq(
		tls_session_version_to_string(TLS_SESSION_VERSION_UNKNOWN),
		"unknown");
}
END_TEST

static const struct {
	gnutls_sign_algorithm_t sign;
	gnutls_digest_algorithm_t digest;
} end_point_cases[] = {
	/* RFC 5929 §4.1: MD5 and SHA-1 become SHA-256. */
	{GNUTLS_SIGN_RSA_MD5, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_SHA1, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_DSA_SHA1, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_ECDSA_SHA1, GNUTLS_DIG_SHA256},
	/* Otherwise the signature's own hash. */
	{GNUTLS_SIGN_RSA_SHA224, GNUTLS_DIG_SHA224},
	{GNUTLS_SIGN_RSA_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_RSA_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_ECDSA_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_RSA_PSS_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_RSA_PSS_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_ECDSA_SHA3_256, GNUTLS_DIG_SHA3_256},
	/* No single hash: no binding, whatever GnuTLS says internally. */
	{GNUTLS_SIGN_EDDSA_ED25519, GNUTLS_DIG_UNKNOWN},
	{GNUTLS_SIGN_EDDSA_ED448, GNUTLS_DIG_UNKNOWN},
	{GNUTLS_SIGN_GOST_256, GNUTLS_DIG_UNKNOWN},
	{GNUTLS_SIGN_RSA_RAW, GNUTLS_DIG_UNKNOWN},
	{GNUTLS_SIGN_RSA_MD2, GNUTLS_DIG_UNKNOWN},
	{GNUTLS_SIGN_UNKNOWN, GNUTLS_DIG_UNKNOWN},
	{(gnutls_sign_algorithm_t)9999, GNUTLS_DIG_UNKNOWN},
};

START_TEST(test_end_point_digest)
{
	const gnutls_sign_algorithm_t sign = end_point_cases[_i].sign;
	const char *name = gnutls_sign_get_name(sign);

	ck_assert_msg(
		tls_session_end_point_digest(sign) ==
			end_point_cases[_i].digest,
		"%s: got %s, expected %s", name ? name : "?",
		gnutls_digest_get_name(tls_session_end_point_digest(sign)),
		gnutls_digest_get_name(end_point_cases[_i].digest));
}
END_TEST

/* The trust anchors are loaded once per CA file, again when the file
 * changes or after tls_session_forget_trust() (a reload). */
START_TEST(test_trust_loaded_once)
{
	g_autoptr(TlsTestCertMatrix) certs = NULL;
	g_autoptr(GError) error = NULL;
	unsigned before;

	certs = tls_test_cert_matrix_new("example.org", &error);
	ck_assert_ptr_nonnull(certs);
	tls_session_forget_trust();
	before = tls_session_get_trust_loads();
	{
		g_autoptr(TlsSession) a =
			tls_session_new("example.org", certs->ca_file, NULL);
		g_autoptr(TlsSession) b =
			tls_session_new("example.org", certs->ca_file, NULL);

		ck_assert_ptr_nonnull(a);
		ck_assert_ptr_nonnull(b);
		ck_assert_uint_eq(tls_session_get_trust_loads(), before + 1);
	}
	/* The cache outlives the sessions. */
	{
		g_autoptr(TlsSession) c =
			tls_session_new("example.org", certs->ca_file, NULL);

		ck_assert_ptr_nonnull(c);
		ck_assert_uint_eq(tls_session_get_trust_loads(), before + 1);
	}
	/* Checking the file (a config load) uses the cache too. */
	ck_assert(tls_session_load_trust(certs->ca_file, &error));
	ck_assert_uint_eq(tls_session_get_trust_loads(), before + 1);
	tls_session_forget_trust();
	{
		g_autoptr(TlsSession) d =
			tls_session_new("example.org", certs->ca_file, NULL);
		g_autoptr(TlsSession) e =
			tls_session_new("example.org", NULL, NULL);

		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(tls_session_get_trust_loads(), before + 3);
	}
	tls_session_forget_trust();
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"trust-loaded-once", test_trust_loaded_once},
		{"good-certificate", test_good_certificate},
		{"large-payload", test_large_payload},
		{"split-ciphertext", test_split_ciphertext},
		{"bad-certificate", test_bad_certificate,
		 .loops = G_N_ELEMENTS(bad_certs)},
		{"system-trust-only", test_system_trust_only},
		{"system-store-on-demand", test_system_store_on_demand},
		{"domain-case-insensitive", test_domain_case_insensitive},
		{"idn-domain", test_idn_domain},
		{"key-update", test_key_update},
		{"key-share", test_key_share},
		{"ca-file-errors", test_ca_file_errors},
		{"tls12-no-binding", test_tls12_no_binding},
		{"tls13-binding", test_tls13_binding},
		{"data-with-last-flight", test_data_with_last_handshake_flight},
		{"peer-close-notify", test_peer_close_notify},
		{"own-close-notify", test_own_close_notify},
		{"garbage-after-handshake", test_garbage_after_handshake},
		{"alerts-received", test_alerts_received},
		{"garbage-handshake", test_garbage_handshake},
		{"tls11-refused", test_tls11_refused},
		{"cbc-sha1-refused", test_cbc_sha1_refused,
		 .loops = G_N_ELEMENTS(cbc_sha1_only)},
		{"renegotiation-refused", test_renegotiation_refused},
		{"not-ready", test_not_ready},
		{"end-point-tls13", test_end_point_tls13},
		{"end-point-tls12", test_end_point_tls12},
		{"end-point-not-ready", test_end_point_not_ready},
		{"end-point-digest", test_end_point_digest,
		 .loops = G_N_ELEMENTS(end_point_cases)},
	};
	g_autoptr(GError) error = NULL;
	int status;

	gint64 start = g_get_monotonic_time();
	matrix = tls_test_cert_matrix_new(DOMAIN, &error);
	printf("# certificate matrix generated in %" G_GINT64_FORMAT " us\n",
	       g_get_monotonic_time() - start);
	if (matrix == NULL) {
		printf("Bail out! certificate generation: %s\n",
		       error->message);
		return 1;
	}

	status = check_suite_run("tls-session", cases, G_N_ELEMENTS(cases), 60);
	g_clear_pointer(&matrix, tls_test_cert_matrix_free);
	return status;
}
