/* SPDX-License-Identifier: MIT */
/* Test certificates and an in-process TLS server: see tls-test-certs.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <glib/gstdio.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <string.h>

#include "tests/support/tls-test-certs.h"

#define DAY (24 * 60 * 60)

G_DEFINE_QUARK(presenced - tls - test - certs - error - quark,
	       tls_test_certs_error)

struct _TlsTestCert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	char *cert_pem;
	char *key_pem;
};

static bool gnutls_ok(int ret, const char *what, GError **error)
{
	if (ret >= 0)
		return true;
	g_set_error(error, TLS_TEST_CERTS_ERROR, 0, "%s: %s", what,
		    gnutls_strerror(ret));
	return false;
}

static char *export_pem(int ret, gnutls_datum_t *datum)
{
	if (ret < 0)
		return NULL;
	char *pem = g_strndup((const char *)datum->data, datum->size);
	gnutls_free(datum->data);
	return pem;
}

TlsTestCert *tls_test_cert_new(const TlsTestCert *issuer, const char *name,
			       bool is_ca, time_t not_before, time_t not_after,
			       GError **error)
{
	g_autoptr(TlsTestCert) cert = g_new0(TlsTestCert, 1);
	guint8 serial[12];
	guint8 key_id[64];
	size_t key_id_len = sizeof(key_id);
	gnutls_datum_t datum;

	if (!gnutls_ok(gnutls_x509_privkey_init(&cert->key), "privkey_init",
		       error) ||
	    !gnutls_ok(gnutls_x509_privkey_generate(
			       cert->key, GNUTLS_PK_ECDSA,
			       GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
			       0),
		       "privkey_generate", error) ||
	    !gnutls_ok(gnutls_x509_crt_init(&cert->crt), "crt_init", error))
		return NULL;

	/* A positive serial (RFC 5280 §4.1.2.2), random so no two collide. */
	if (!gnutls_ok(gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)),
		       "rnd", error))
		return NULL;
	serial[0] = (serial[0] & 0x7f) | 0x01;

	gnutls_x509_crt_t crt = cert->crt;
	const TlsTestCert *signer = issuer != NULL ? issuer : cert;
	unsigned usage = is_ca ? GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN
			       : GNUTLS_KEY_DIGITAL_SIGNATURE;

	if (!gnutls_ok(gnutls_x509_crt_set_version(crt, 3), "version", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)),
		       "serial", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_activation_time(crt, not_before),
		       "activation", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_expiration_time(crt, not_after),
		       "expiration", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_dn_by_oid(
			       crt, GNUTLS_OID_X520_COMMON_NAME, 0, name,
			       (unsigned)strlen(name)),
		       "dn", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_key(crt, cert->key), "key", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_basic_constraints(crt, is_ca, -1),
		       "basic constraints", error) ||
	    !gnutls_ok(gnutls_x509_crt_set_key_usage(crt, usage), "key usage",
		       error))
		return NULL;

	if (!is_ca &&
	    (!gnutls_ok(gnutls_x509_crt_set_subject_alt_name(
				crt, GNUTLS_SAN_DNSNAME, name,
				(unsigned)strlen(name), GNUTLS_FSAN_SET),
			"san", error) ||
	     !gnutls_ok(gnutls_x509_crt_set_key_purpose_oid(
				crt, GNUTLS_KP_TLS_WWW_SERVER, 0),
			"key purpose", error)))
		return NULL;

	if (!gnutls_ok(gnutls_x509_crt_get_key_id(crt, 0, key_id, &key_id_len),
		       "key id", error) ||
	    !gnutls_ok(
		    gnutls_x509_crt_set_subject_key_id(crt, key_id, key_id_len),
		    "subject key id", error))
		return NULL;
	if (issuer != NULL) {
		key_id_len = sizeof(key_id);
		if (!gnutls_ok(gnutls_x509_crt_get_subject_key_id(
				       issuer->crt, key_id, &key_id_len, NULL),
			       "issuer key id", error) ||
		    !gnutls_ok(gnutls_x509_crt_set_authority_key_id(crt, key_id,
								    key_id_len),
			       "authority key id", error))
			return NULL;
	}

	if (!gnutls_ok(gnutls_x509_crt_sign2(crt, signer->crt, signer->key,
					     GNUTLS_DIG_SHA256, 0),
		       "sign", error))
		return NULL;

	cert->cert_pem = export_pem(
		gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &datum),
		&datum);
	cert->key_pem = export_pem(gnutls_x509_privkey_export2_pkcs8(
					   cert->key, GNUTLS_X509_FMT_PEM, NULL,
					   GNUTLS_PKCS_PLAIN, &datum),
				   &datum);
	if (cert->cert_pem == NULL || cert->key_pem == NULL) {
		g_set_error(error, TLS_TEST_CERTS_ERROR, 0,
			    "cannot export the certificate for %s", name);
		return NULL;
	}
	return g_steal_pointer(&cert);
}

void tls_test_cert_free(TlsTestCert *cert)
{
	if (cert == NULL)
		return;
	if (cert->crt != NULL)
		gnutls_x509_crt_deinit(cert->crt);
	if (cert->key != NULL)
		gnutls_x509_privkey_deinit(cert->key);
	g_free(cert->cert_pem);
	g_free(cert->key_pem);
	g_free(cert);
}

const char *tls_test_cert_get_cert_pem(const TlsTestCert *cert)
{
	return cert->cert_pem;
}

const char *tls_test_cert_get_key_pem(const TlsTestCert *cert)
{
	return cert->key_pem;
}

bool tls_test_cert_write_pem(const TlsTestCert *cert, const char *path,
			     GError **error)
{
	return g_file_set_contents(path, cert->cert_pem, -1, error);
}

static const char *const kind_names[] = {
	[TLS_TEST_SERVER_CERT_GOOD] = "good",
	[TLS_TEST_SERVER_CERT_WRONG_NAME] = "wrong-name",
	[TLS_TEST_SERVER_CERT_EXPIRED] = "expired",
	[TLS_TEST_SERVER_CERT_NOT_YET_VALID] = "not-yet-valid",
	[TLS_TEST_SERVER_CERT_UNKNOWN_CA] = "unknown-ca",
	[TLS_TEST_SERVER_CERT_SELF_SIGNED] = "self-signed",
};

const char *tls_test_server_cert_kind_to_string(TlsTestServerCertKind kind)
{
	if ((size_t)kind >= G_N_ELEMENTS(kind_names))
		return "?";
	return kind_names[kind];
}

TlsTestCertMatrix *tls_test_cert_matrix_new(const char *domain, GError **error)
{
	g_autoptr(TlsTestCertMatrix) m = g_new0(TlsTestCertMatrix, 1);
	time_t now = time(NULL);
	struct cert_spec {
		const TlsTestCert *issuer;
		const char *name;
		time_t from, until;
	} spec[TLS_TEST_SERVER_CERT_N];

	m->ca = tls_test_cert_new(NULL, "presenced test CA", true,
				  now - 30 * DAY, now + 30 * DAY, error);
	if (m->ca == NULL)
		return NULL;
	m->other_ca = tls_test_cert_new(NULL, "presenced untrusted CA", true,
					now - 30 * DAY, now + 30 * DAY, error);
	if (m->other_ca == NULL)
		return NULL;

	spec[TLS_TEST_SERVER_CERT_GOOD] =
		(struct cert_spec){m->ca, domain, now - DAY, now + 10 * DAY};
	spec[TLS_TEST_SERVER_CERT_WRONG_NAME] = (struct cert_spec){
		m->ca, "wrong.example.net", now - DAY, now + 10 * DAY};
	spec[TLS_TEST_SERVER_CERT_EXPIRED] =
		(struct cert_spec){m->ca, domain, now - 10 * DAY, now - DAY};
	spec[TLS_TEST_SERVER_CERT_NOT_YET_VALID] =
		(struct cert_spec){m->ca, domain, now + DAY, now + 10 * DAY};
	spec[TLS_TEST_SERVER_CERT_UNKNOWN_CA] = (struct cert_spec){
		m->other_ca, domain, now - DAY, now + 10 * DAY};
	spec[TLS_TEST_SERVER_CERT_SELF_SIGNED] =
		(struct cert_spec){NULL, domain, now - DAY, now + 10 * DAY};

	for (int k = 0; k < TLS_TEST_SERVER_CERT_N; k++) {
		m->server[k] =
			tls_test_cert_new(spec[k].issuer, spec[k].name, false,
					  spec[k].from, spec[k].until, error);
		if (m->server[k] == NULL)
			return NULL;
	}

	m->dir = g_dir_make_tmp("presenced-tls-XXXXXX", error);
	if (m->dir == NULL)
		return NULL;
	m->ca_file = g_build_filename(m->dir, "ca.pem", NULL);
	if (!tls_test_cert_write_pem(m->ca, m->ca_file, error))
		return NULL;
	return g_steal_pointer(&m);
}

void tls_test_cert_matrix_free(TlsTestCertMatrix *m)
{
	if (m == NULL)
		return;
	if (m->ca_file != NULL)
		(void)g_unlink(m->ca_file);
	if (m->dir != NULL)
		(void)g_rmdir(m->dir);
	g_free(m->ca_file);
	g_free(m->dir);
	tls_test_cert_free(m->ca);
	tls_test_cert_free(m->other_ca);
	for (int k = 0; k < TLS_TEST_SERVER_CERT_N; k++)
		tls_test_cert_free(m->server[k]);
	g_free(m);
}

/* ---- server ------------------------------------------------------------ */

struct _TlsTestServer {
	gnutls_session_t session;
	gnutls_certificate_credentials_t creds;
	GByteArray *in;
	size_t in_pos;
	GByteArray *out;
};

static ssize_t server_pull(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	TlsTestServer *s = ptr;
	size_t avail = s->in->len - s->in_pos;

	if (avail == 0) {
		gnutls_transport_set_errno(s->session, EAGAIN);
		return -1;
	}
	size_t n = MIN(avail, len);
	memcpy(buf, s->in->data + s->in_pos, n);
	s->in_pos += n;
	return (ssize_t)n;
}

static ssize_t server_push(gnutls_transport_ptr_t ptr, const void *buf,
			   size_t len)
{
	TlsTestServer *s = ptr;

	g_byte_array_append(s->out, buf, (guint)len);
	return (ssize_t)len;
}

static void must(int ret, const char *what)
{
	if (ret < 0)
		g_error("test TLS server: %s: %s", what, gnutls_strerror(ret));
}

TlsTestServer *tls_test_server_new(const TlsTestCert *cert,
				   const char *priority)
{
	TlsTestServer *s = g_new0(TlsTestServer, 1);
	gnutls_datum_t crt = {(unsigned char *)cert->cert_pem,
			      (unsigned)strlen(cert->cert_pem)};
	gnutls_datum_t key = {(unsigned char *)cert->key_pem,
			      (unsigned)strlen(cert->key_pem)};

	s->in = g_byte_array_new();
	s->out = g_byte_array_new();
	must(gnutls_certificate_allocate_credentials(&s->creds), "creds");
	must(gnutls_certificate_set_x509_key_mem(s->creds, &crt, &key,
						 GNUTLS_X509_FMT_PEM),
	     "key pair");
	must(gnutls_init(&s->session, GNUTLS_SERVER | GNUTLS_NONBLOCK), "init");
	must(gnutls_priority_set_direct(
		     s->session, priority != NULL ? priority : "NORMAL", NULL),
	     "priority");
	must(gnutls_credentials_set(s->session, GNUTLS_CRD_CERTIFICATE,
				    s->creds),
	     "credentials");
	gnutls_certificate_server_set_request(s->session, GNUTLS_CERT_IGNORE);
	gnutls_transport_set_ptr(s->session, s);
	gnutls_transport_set_push_function(s->session, server_push);
	gnutls_transport_set_pull_function(s->session, server_pull);
	return s;
}

void tls_test_server_free(TlsTestServer *s)
{
	if (s == NULL)
		return;
	gnutls_deinit(s->session);
	gnutls_certificate_free_credentials(s->creds);
	g_byte_array_unref(s->in);
	g_byte_array_unref(s->out);
	g_free(s);
}

void tls_test_server_feed(TlsTestServer *s, const void *data, size_t len)
{
	if (s->in_pos > 0) {
		g_byte_array_remove_range(s->in, 0, (guint)s->in_pos);
		s->in_pos = 0;
	}
	g_byte_array_append(s->in, data, (guint)len);
}

void tls_test_server_take_output(TlsTestServer *s, GByteArray *out)
{
	g_byte_array_append(out, s->out->data, s->out->len);
	g_byte_array_set_size(s->out, 0);
}

int tls_test_server_handshake(TlsTestServer *s)
{
	int ret;

	do {
		ret = gnutls_handshake(s->session);
	} while (ret < 0 && ret != GNUTLS_E_AGAIN &&
		 !gnutls_error_is_fatal(ret));
	/* As real servers do: tell the client why (e.g. handshake_failure
	 * for no cipher suite in common), rather than go silent. */
	if (ret < 0 && ret != GNUTLS_E_AGAIN &&
	    ret != GNUTLS_E_FATAL_ALERT_RECEIVED)
		(void)gnutls_alert_send_appropriate(s->session, ret);
	return ret;
}

int tls_test_server_write(TlsTestServer *s, const void *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t ret = gnutls_record_send(
			s->session, (const char *)data + done, len - done);
		if (ret < 0)
			return (int)ret;
		done += (size_t)ret;
	}
	return 0;
}

int tls_test_server_read(TlsTestServer *s, GByteArray *out)
{
	guint8 buf[16384];
	size_t last_left = SIZE_MAX;

	for (;;) {
		ssize_t ret = gnutls_record_recv(s->session, buf, sizeof(buf));
		size_t left = s->in->len - s->in_pos;

		/* AGAIN also follows a KeyUpdate with records still queued. */
		if (ret > 0)
			g_byte_array_append(out, buf, (guint)ret);
		else if (ret == 0)
			return 1;
		else if (ret == GNUTLS_E_AGAIN && left > 0 && left < last_left)
			last_left = left;
		else if (ret == GNUTLS_E_AGAIN)
			return 0;
		else if (gnutls_error_is_fatal((int)ret))
			return (int)ret;
	}
}

void tls_test_server_bye(TlsTestServer *s)
{
	must(gnutls_bye(s->session, GNUTLS_SHUT_WR), "bye");
}

gnutls_session_t tls_test_server_get_session(TlsTestServer *s)
{
	return s->session;
}
