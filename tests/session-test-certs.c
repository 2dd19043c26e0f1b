/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <check.h>
#include <glib/gstdio.h>
#include <gnutls/x509.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "session-test-certs.h"

#define CHECK_GNUTLS(expr)                                                  \
	do {                                                                \
		int r_ = (expr);                                            \
		ck_assert_msg(r_ >= 0, "%s: %s", #expr, gnutls_strerror(r_)); \
	} while (0)

static gnutls_x509_privkey_t new_key(void)
{
	gnutls_x509_privkey_t key;

	CHECK_GNUTLS(gnutls_x509_privkey_init(&key));
	CHECK_GNUTLS(gnutls_x509_privkey_generate(
		key, GNUTLS_PK_ECDSA,
		GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0));
	return key;
}

static gnutls_x509_crt_t new_cert(gnutls_x509_privkey_t key, const char *name,
				  bool is_ca, gnutls_x509_crt_t issuer,
				  gnutls_x509_privkey_t issuer_key,
				  unsigned serial, time_t not_before,
				  time_t not_after)
{
	gnutls_x509_crt_t crt;
	unsigned char serial_bytes[4] = {0, 0, (serial >> 8) & 0xff,
					 serial & 0xff};
	unsigned char key_id[64];
	size_t key_id_len = sizeof(key_id);

	CHECK_GNUTLS(gnutls_x509_crt_init(&crt));
	CHECK_GNUTLS(gnutls_x509_crt_set_version(crt, 3));
	CHECK_GNUTLS(gnutls_x509_crt_set_serial(crt, serial_bytes,
						sizeof(serial_bytes)));
	CHECK_GNUTLS(gnutls_x509_crt_set_activation_time(crt, not_before));
	CHECK_GNUTLS(gnutls_x509_crt_set_expiration_time(crt, not_after));
	CHECK_GNUTLS(gnutls_x509_crt_set_dn_by_oid(
		crt, GNUTLS_OID_X520_COMMON_NAME, 0, name, strlen(name)));
	CHECK_GNUTLS(gnutls_x509_crt_set_key(crt, key));
	if (is_ca) {
		CHECK_GNUTLS(gnutls_x509_crt_set_basic_constraints(crt, 1, -1));
		CHECK_GNUTLS(gnutls_x509_crt_set_key_usage(
			crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN));
	} else {
		CHECK_GNUTLS(gnutls_x509_crt_set_basic_constraints(crt, 0, -1));
		CHECK_GNUTLS(gnutls_x509_crt_set_key_usage(
			crt, GNUTLS_KEY_DIGITAL_SIGNATURE));
		CHECK_GNUTLS(gnutls_x509_crt_set_key_purpose_oid(
			crt, GNUTLS_KP_TLS_WWW_SERVER, 0));
		CHECK_GNUTLS(gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_DNSNAME, name, strlen(name),
			GNUTLS_FSAN_SET));
	}
	CHECK_GNUTLS(gnutls_x509_crt_get_key_id(crt, 0, key_id, &key_id_len));
	CHECK_GNUTLS(gnutls_x509_crt_set_subject_key_id(crt, key_id,
							key_id_len));
	if (issuer) {
		key_id_len = sizeof(key_id);
		CHECK_GNUTLS(gnutls_x509_crt_get_key_id(issuer, 0, key_id,
							&key_id_len));
		CHECK_GNUTLS(gnutls_x509_crt_set_authority_key_id(
			crt, key_id, key_id_len));
	}
	CHECK_GNUTLS(gnutls_x509_crt_sign2(crt, issuer ? issuer : crt,
					   issuer_key ? issuer_key : key,
					   GNUTLS_DIG_SHA256, 0));
	return crt;
}

static gnutls_certificate_credentials_t
server_creds(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	gnutls_certificate_credentials_t creds;

	CHECK_GNUTLS(gnutls_certificate_allocate_credentials(&creds));
	CHECK_GNUTLS(gnutls_certificate_set_x509_key(creds, &crt, 1, key));
	return creds;
}

SessionTestCerts *session_test_certs_new(const char *domain)
{
	SessionTestCerts *certs = g_new0(SessionTestCerts, 1);
	time_t now = time(NULL);
	gnutls_x509_privkey_t ca_key = new_key();
	gnutls_x509_crt_t ca = new_cert(ca_key, "presenced test CA", true, NULL,
					NULL, 1, now - 3600, now + 86400);
	gnutls_x509_privkey_t keys[SESSION_TEST_CERT_N];
	gnutls_x509_crt_t crts[SESSION_TEST_CERT_N];
	gnutls_datum_t pem = {0};
	g_autoptr(GError) error = NULL;
	int fd;

	for (int i = 0; i < SESSION_TEST_CERT_N; i++)
		keys[i] = new_key();
	crts[SESSION_TEST_CERT_GOOD] =
		new_cert(keys[SESSION_TEST_CERT_GOOD], domain, false, ca,
			 ca_key, 2, now - 3600, now + 86400);
	crts[SESSION_TEST_CERT_WRONG_NAME] =
		new_cert(keys[SESSION_TEST_CERT_WRONG_NAME], "other.invalid",
			 false, ca, ca_key, 3, now - 3600, now + 86400);
	crts[SESSION_TEST_CERT_SELF_SIGNED] =
		new_cert(keys[SESSION_TEST_CERT_SELF_SIGNED], domain, false,
			 NULL, NULL, 4, now - 3600, now + 86400);
	crts[SESSION_TEST_CERT_EXPIRED] =
		new_cert(keys[SESSION_TEST_CERT_EXPIRED], domain, false, ca,
			 ca_key, 5, now - 3 * 86400, now - 86400);
	for (int i = 0; i < SESSION_TEST_CERT_N; i++) {
		certs->creds[i] = server_creds(crts[i], keys[i]);
		gnutls_x509_crt_deinit(crts[i]);
		gnutls_x509_privkey_deinit(keys[i]);
	}

	CHECK_GNUTLS(gnutls_x509_crt_export2(ca, GNUTLS_X509_FMT_PEM, &pem));
	fd = g_file_open_tmp("session-test-ca-XXXXXX.pem", &certs->ca_file,
			     &error);
	ck_assert_msg(fd >= 0, "%s", error ? error->message : "");
	close(fd);
	ck_assert(g_file_set_contents(certs->ca_file, (const char *)pem.data,
				      pem.size, NULL));
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(ca_key);
	return certs;
}

void session_test_certs_free(SessionTestCerts *certs)
{
	if (!certs)
		return;
	for (int i = 0; i < SESSION_TEST_CERT_N; i++)
		gnutls_certificate_free_credentials(certs->creds[i]);
	if (certs->ca_file)
		(void)g_unlink(certs->ca_file);
	g_free(certs->ca_file);
	g_free(certs);
}
