/* SPDX-License-Identifier: MIT */
/*
 * Test-only certificates made at run time with the GnuTLS x509 API (ECDSA
 * P-256, SHA-256 signatures: a few milliseconds each), so no committed key
 * material ever expires, and an in-process TLS server on memory buffers to
 * talk to them.
 *
 * Typical use:
 *
 *	g_autoptr(TlsTestCertMatrix) m = tls_test_cert_matrix_new(
 *		"example.org", &error);
 *	// trust m->ca_file in the client under test
 *	g_autoptr(TlsTestServer) srv = tls_test_server_new(
 *		m->server[TLS_TEST_SERVER_CERT_GOOD], NULL);
 *	// move tls_test_server_take_output() bytes to the client and back
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* ---- Certificates ------------------------------------------------------ */

/* Errors carry GnuTLS' reason; the code is always 0. */
#define TLS_TEST_CERTS_ERROR (tls_test_certs_error_quark())
GQuark tls_test_certs_error_quark(void);

typedef struct _TlsTestCert TlsTestCert;

/*
 * A fresh key pair and X.509 v3 certificate with `name` as CN and as the
 * only dNSName SAN, valid from not_before to not_after (absolute times).
 * issuer: the signing certificate (must have been made with is_ca), or NULL
 * for a self-signed one. is_ca: basicConstraints CA:TRUE and keyCertSign,
 * otherwise an end entity for TLS servers (digitalSignature, serverAuth).
 * Transfer full; NULL with error on a GnuTLS failure.
 */
TlsTestCert *tls_test_cert_new(const TlsTestCert *issuer, const char *name,
			       bool is_ca, time_t not_before, time_t not_after,
			       GError **error);
void tls_test_cert_free(TlsTestCert *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsTestCert, tls_test_cert_free)

/* PEM text of the certificate / the PKCS#8 private key; transfer none,
 * valid while cert lives. */
const char *tls_test_cert_get_cert_pem(const TlsTestCert *cert);
const char *tls_test_cert_get_key_pem(const TlsTestCert *cert);

/* Writes the certificate (not the key) as PEM to path. */
bool tls_test_cert_write_pem(const TlsTestCert *cert, const char *path,
			     GError **error);

/* ---- The standard matrix (STYLE.md §9) --------------------------------- */

typedef enum {
	TLS_TEST_SERVER_CERT_GOOD,	    /* domain, signed by ca, valid */
	TLS_TEST_SERVER_CERT_WRONG_NAME,    /* "wrong.example.net", by ca */
	TLS_TEST_SERVER_CERT_EXPIRED,	    /* domain, by ca, ended yesterday */
	TLS_TEST_SERVER_CERT_NOT_YET_VALID, /* domain, by ca, starts tomorrow */
	TLS_TEST_SERVER_CERT_UNKNOWN_CA,    /* domain, by other_ca */
	TLS_TEST_SERVER_CERT_SELF_SIGNED,   /* domain, self-signed */
	TLS_TEST_SERVER_CERT_N,
} TlsTestServerCertKind;

typedef struct {
	TlsTestCert *ca;       /* the trusted test CA */
	TlsTestCert *other_ca; /* a CA nobody trusts */
	TlsTestCert *server[TLS_TEST_SERVER_CERT_N];
	char *dir;     /* a private temporary directory, removed on free */
	char *ca_file; /* dir/ca.pem: ca's certificate, for "ca-file" */
} TlsTestCertMatrix;

/* Generates all of the above for `domain`. Transfer full. */
TlsTestCertMatrix *tls_test_cert_matrix_new(const char *domain, GError **error);
void tls_test_cert_matrix_free(TlsTestCertMatrix *matrix);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsTestCertMatrix, tls_test_cert_matrix_free)

const char *tls_test_server_cert_kind_to_string(TlsTestServerCertKind kind);

/* ---- An in-process TLS server ------------------------------------------ */

typedef struct _TlsTestServer TlsTestServer;

/*
 * A GnuTLS server session presenting `cert` (borrowed only during the call)
 * on memory buffers. priority: a GnuTLS priority string, NULL for
 * "NORMAL"; e.g. "NORMAL:-VERS-ALL:+VERS-TLS1.2" to pin a version.
 * Aborts the test (g_error) if GnuTLS refuses the setup.
 */
TlsTestServer *tls_test_server_new(const TlsTestCert *cert,
				   const char *priority);
void tls_test_server_free(TlsTestServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsTestServer, tls_test_server_free)

/* Ciphertext from the client (copied) / for the client (appended to out). */
void tls_test_server_feed(TlsTestServer *server, const void *data, size_t len);
void tls_test_server_take_output(TlsTestServer *server, GByteArray *out);

/* gnutls_handshake(): 0 when done, GNUTLS_E_AGAIN for more input, or an
 * error code. */
int tls_test_server_handshake(TlsTestServer *server);

/* Encrypts all of data (records of at most 16 KiB). Returns a GnuTLS
 * code: 0 on success. */
int tls_test_server_write(TlsTestServer *server, const void *data, size_t len);

/*
 * Decrypts everything fed so far into out. Returns 0 when drained, 1 after
 * the client's close_notify, or a negative GnuTLS error code.
 */
int tls_test_server_read(TlsTestServer *server, GByteArray *out);

/* Queues close_notify (gnutls_bye SHUT_WR). */
void tls_test_server_bye(TlsTestServer *server);

/* The GnuTLS session, for protocol queries and exporters; transfer none. */
gnutls_session_t tls_test_server_get_session(TlsTestServer *server);
