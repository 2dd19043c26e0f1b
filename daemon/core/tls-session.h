/* SPDX-License-Identifier: MIT */
/*
 * A TLS client on memory buffers (GnuTLS push/pull callbacks): ciphertext
 * in and out as bytes, so it never blocks and is testable in-process.
 *
 * TLS 1.2 or newer. The peer certificate must chain to the system trust
 * store or ca_file and match verify_domain (the JID's domain, RFC 6125 —
 * never the host connected to). The handshake fails otherwise, with a
 * message naming the domain and the reason.
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define TLS_SESSION_ERROR (tls_session_error_quark())
GQuark tls_session_error_quark(void);

typedef enum {
	TLS_SESSION_ERROR_SETUP,       /* bad ca-file, GnuTLS init */
	TLS_SESSION_ERROR_CERTIFICATE, /* untrusted, wrong name, expired ... */
	TLS_SESSION_ERROR_HANDSHAKE,   /* protocol failure */
	TLS_SESSION_ERROR_IO,	       /* record layer failure, bad MAC ... */
	TLS_SESSION_ERROR_CLOSED,      /* peer sent close_notify */
	TLS_SESSION_ERROR_NO_BINDING,  /* channel binding not computable */
} TlsSessionError;

/* The negotiated protocol version; UNKNOWN before the handshake is done. */
typedef enum {
	TLS_SESSION_VERSION_UNKNOWN,
	TLS_SESSION_VERSION_1_2,
	TLS_SESSION_VERSION_1_3,
} TlsSessionVersion;

typedef enum {
	TLS_SESSION_STATUS_AGAIN, /* needs more ciphertext: feed, call again */
	TLS_SESSION_STATUS_DONE,  /* handshake complete */
	TLS_SESSION_STATUS_ERROR, /* error set; the session is dead */
} TlsSessionStatus;

typedef struct _TlsSession TlsSession;

/* ca_file NULL: the system trust store only; otherwise both. Transfer
 * full; NULL with error if the trust anchors cannot be loaded. */
TlsSession *tls_session_new(const char *verify_domain, const char *ca_file,
			    GError **error);
/*
 * The trust anchors (system store plus ca_file) are loaded once and shared
 * by every session with the same ca_file, until the file changes (mtime,
 * size) or this is called: on a reload, so that a changed system store is
 * read again. Sessions in use keep theirs.
 */
void tls_session_forget_trust(void);
/* Loads the trust anchors for ca_file (NULL: the system store) into that
 * cache now, so that a bad file is reported before any connection. */
bool tls_session_load_trust(const char *ca_file, GError **error);
/* How many times the trust anchors were loaded, for tests. */
unsigned tls_session_get_trust_loads(void);

void tls_session_free(TlsSession *tls);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TlsSession, tls_session_free)

/* Ciphertext that arrived from the network. Copied. */
void tls_session_feed(TlsSession *tls, const char *data, size_t len);

/* Ciphertext waiting to be written to the network: appended to out and
 * removed from the session. */
void tls_session_take_output(TlsSession *tls, GByteArray *out);
bool tls_session_has_output(const TlsSession *tls);

/*
 * Drives the handshake (call after each feed until DONE or ERROR). On DONE,
 * call tls_session_read at once: the bytes that finished the handshake may
 * already carry application data. On ERROR the output may hold an alert for
 * the server; sending it is polite but optional.
 */
TlsSessionStatus tls_session_handshake(TlsSession *tls, GError **error);

/* Encrypts plaintext into the output buffer. */
bool tls_session_write(TlsSession *tls, const char *data, size_t len,
		       GError **error);

/*
 * Decrypts every complete record fed so far, including records GnuTLS
 * already buffered (gnutls_record_check_pending), appending plaintext to
 * out. Returns false with error on a TLS error, or with
 * TLS_SESSION_ERROR_CLOSED once the peer closed; plaintext that preceded
 * the error or close_notify is still appended to out. After any error the
 * session is dead and every call repeats it.
 */
bool tls_session_read(TlsSession *tls, GByteArray *out, GError **error);

/* tls-exporter channel binding data (RFC 9266: 32 bytes of the exporter
 * "EXPORTER-Channel-Binding", empty context), only on TLS 1.3; else NULL.
 * Transfer full. */
GBytes *tls_session_get_channel_binding(TlsSession *tls);

/*
 * tls-server-end-point channel binding data (RFC 5929 §4.1): the hash of
 * the server's end-entity certificate (DER), with the hash function of the
 * certificate's signature algorithm, SHA-256 where that is MD5 or SHA-1.
 * Works on TLS 1.2 and 1.3. NULL with TLS_SESSION_ERROR_NO_BINDING (and a
 * reason for the log) before the handshake, after an error, without a
 * server certificate, or when the signature algorithm has no single hash
 * (Ed25519, Ed448, unknown): no binding, rather than a guessed one that
 * the server would compute differently. Transfer full.
 */
GBytes *tls_session_get_server_end_point(TlsSession *tls, GError **error);

/*
 * The RFC 5929 §4.1 hash for a certificate signed with `sign`: the
 * signature's own hash, SHA-256 for MD5 and SHA-1, GNUTLS_DIG_UNKNOWN for
 * an algorithm without a single hash (EdDSA, GOST, RSA raw, unknown). A
 * table, not gnutls_sign_get_hash_algorithm(): GnuTLS reports SHA-512 for
 * Ed25519, which is an implementation detail of EdDSA, not a hash any
 * server uses for the binding. Pure.
 */
gnutls_digest_algorithm_t
tls_session_end_point_digest(gnutls_sign_algorithm_t sign);

/* The negotiated version once the handshake is done, else UNKNOWN. */
TlsSessionVersion tls_session_get_version(TlsSession *tls);

/* "1.2", "1.3" or "unknown", for status and logs. Transfer none. */
const char *tls_session_version_to_string(TlsSessionVersion version);

/* "TLS1.3/AES-256-GCM" or the like, for the log. Transfer full. */
char *tls_session_describe(TlsSession *tls);

/* Queues close_notify. */
void tls_session_close(TlsSession *tls);
