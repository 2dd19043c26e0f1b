/* SPDX-License-Identifier: MIT */
/*
 * Certificates for the session tests, made at run time with the GnuTLS
 * x509 API (ECDSA P-256: fast): a CA written to a PEM file (the session's
 * ca_file) and server credentials that chain to it, plus a wrong-name and a
 * self-signed server for the failure cases.
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>

typedef enum {
	SESSION_TEST_CERT_GOOD,	      /* CA-signed, CN/SAN = domain */
	SESSION_TEST_CERT_WRONG_NAME, /* CA-signed, SAN = other.invalid */
	SESSION_TEST_CERT_SELF_SIGNED,/* domain, but not from the CA */
	SESSION_TEST_CERT_EXPIRED,    /* CA-signed, expired yesterday */
	SESSION_TEST_CERT_N,
} SessionTestCert;

typedef struct {
	char *ca_file; /* PEM; removed on free */
	gnutls_certificate_credentials_t creds[SESSION_TEST_CERT_N];
} SessionTestCerts;

SessionTestCerts *session_test_certs_new(const char *domain);
void session_test_certs_free(SessionTestCerts *certs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SessionTestCerts, session_test_certs_free)
