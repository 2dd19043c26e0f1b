/* SPDX-License-Identifier: MIT */
/*
 * GnuTLS client on memory buffers. GnuTLS pulls ciphertext from `in` (fed by
 * the caller) and pushes ciphertext into `out` (taken by the caller); an
 * empty `in` is reported as EAGAIN, so no call ever blocks.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <glib/gstdio.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "tls-session.h"

G_DEFINE_QUARK(presenced - tls - session - error - quark, tls_session_error)

/*
 * TLS 1.2 or newer (RFC 8996 deprecates 1.0 and 1.1), and AEAD ciphers
 * only: with "-MAC-ALL:+AEAD" no CBC suite with HMAC-SHA1 is left (Lucky
 * Thirteen; RFC 9325 §4.2). Check with
 * gnutls-cli --priority STRING --list.
 */
#define TLS_PRIORITY                                                           \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-MAC-ALL:+"                \
	"AEAD:" TLS_GROUPS

/*
 * X25519 first, and its key share alone (GNUTLS_KEY_SHARE_TOP in
 * tls_session_new), as OpenSSL clients do. GnuTLS would send shares for
 * P-256 and X25519, and OpenSSL servers (Prosody, ejabberd) take the first
 * share they support in the client's order: NORMAL's order made every
 * handshake generate two key pairs and then run the P-256 exchange, at
 * three times the instructions of X25519's (BENCHMARKS.md, issue #16). A
 * server without X25519 (FIPS mode) answers with a HelloRetryRequest for
 * P-256: one round trip more there. The finite-field groups are NORMAL's,
 * for TLS 1.2.
 */
#define TLS_GROUPS                                                             \
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"          \
	"+GROUP-SECP521R1:+GROUP-X448:+GROUP-FFDHE2048:+GROUP-FFDHE3072:"      \
	"+GROUP-FFDHE4096:+GROUP-FFDHE6144:+GROUP-FFDHE8192"

/* RFC 9266 §2. */
#define CB_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define CB_EXPORTER_LEN 32

/* Non-fatal, non-EAGAIN results in a row before we give up on a call. */
#define MAX_SPURIOUS_RETRIES 64

/*
 * The trust anchors, loaded once per process and shared by the sessions
 * that use the same CA file (loading the system store costs ~25 ms and
 * ~130 M instructions: every reconnect paid it). Refcounted: the cache
 * holds one reference, each session one.
 */
typedef struct {
	gnutls_certificate_credentials_t creds;
	char *ca_file; /* NULL: the system store only */
	/* With a ca_file the system store is added only once a chain does not
	 * verify against ca_file alone (verify_peer). */
	bool system_loaded;
	/* Of ca_file when loaded (mtime in ns; size and inode): an edited or
	 * replaced file is loaded again. */
	gint64 mtime;
	guint64 ident;
	unsigned refs;
} TrustStore;

static TrustStore *trust_cache;
static unsigned trust_loads;
G_LOCK_DEFINE_STATIC(trust);

/*
 * TLS_PRIORITY parsed once for the process (gnutls_priority_set_direct
 * parses the string at every connection). Never freed: GnuTLS keeps its
 * own reference for each session that uses it.
 */
static gnutls_priority_t priority_cache;

struct _TlsSession {
	gnutls_session_t session;
	TrustStore *trust;
	gnutls_certificate_credentials_t creds; /* trust->creds */
	char *domain;				/* as given, for messages */
	char *ascii_domain; /* IDNA A-labels: SNI and name check */
	GByteArray *in;	    /* ciphertext fed, not yet pulled from in_pos on */
	size_t in_pos;
	GByteArray *out;	/* ciphertext pushed, not yet taken */
	unsigned verify_status; /* gnutls_certificate_status_t of the peer */
	bool handshake_done;
	bool dead; /* a fatal error happened; error_message says which */
	char *error_message;
	TlsSessionError error_code;
};

static ssize_t pull_cb(gnutls_transport_ptr_t ptr, void *buf, size_t len)
{
	TlsSession *tls = ptr;
	size_t avail = tls->in->len - tls->in_pos;

	if (avail == 0) {
		gnutls_transport_set_errno(tls->session, EAGAIN);
		return -1;
	}
	size_t n = MIN(avail, len);
	memcpy(buf, tls->in->data + tls->in_pos, n);
	tls->in_pos += n;
	if (tls->in_pos == tls->in->len) {
		g_byte_array_set_size(tls->in, 0);
		tls->in_pos = 0;
	}
	return (ssize_t)n;
}

static ssize_t push_cb(gnutls_transport_ptr_t ptr, const void *buf, size_t len)
{
	TlsSession *tls = ptr;

	g_byte_array_append(tls->out, buf, (guint)len);
	return (ssize_t)len;
}

/* Marks the session dead and reports the error; later calls repeat it. */
static void set_dead(TlsSession *tls, GError **error, TlsSessionError code,
		     const char *format, ...) G_GNUC_PRINTF(4, 5);

static void set_dead(TlsSession *tls, GError **error, TlsSessionError code,
		     const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_free(tls->error_message);
	tls->error_message = g_strdup_vprintf(format, ap);
	va_end(ap);
	tls->error_code = code;
	tls->dead = true;
	g_set_error_literal(error, TLS_SESSION_ERROR, code, tls->error_message);
}

static bool check_alive(TlsSession *tls, GError **error)
{
	if (!tls->dead)
		return true;
	g_set_error_literal(error, TLS_SESSION_ERROR, tls->error_code,
			    tls->error_message);
	return false;
}

static bool load_ca_file(gnutls_certificate_credentials_t creds,
			 const char *ca_file, GError **error)
{
	g_autofree char *contents = NULL;
	gsize len = 0;
	g_autoptr(GError) local_error = NULL;

	if (!g_file_get_contents(ca_file, &contents, &len, &local_error)) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot load CA file %s: %s", ca_file,
			    local_error->message);
		return false;
	}

	gnutls_datum_t datum = {.data = (unsigned char *)contents,
				.size = (unsigned)len};
	int ret = gnutls_certificate_set_x509_trust_mem(creds, &datum,
							GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		/* Not PEM: perhaps a single DER certificate. */
		int der = gnutls_certificate_set_x509_trust_mem(
			creds, &datum, GNUTLS_X509_FMT_DER);
		if (der > 0)
			ret = der;
	}
	if (ret < 0) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot load CA file %s: %s", ca_file,
			    gnutls_strerror(ret));
		return false;
	}
	if (ret == 0) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "CA file %s holds no certificate", ca_file);
		return false;
	}
	g_debug("Loaded %d trust anchors from %s", ret, ca_file);
	return true;
}

static void trust_unref(TrustStore *store)
{
	if (--store->refs > 0)
		return;
	gnutls_certificate_free_credentials(store->creds);
	g_free(store->ca_file);
	g_free(store);
}

static bool file_stamp(const char *path, gint64 *ret_mtime, guint64 *ret_ident)
{
	GStatBuf st;

	*ret_mtime = 0;
	*ret_ident = 0;
	if (path == NULL)
		return true;
	if (g_stat(path, &st) != 0)
		return false;
	/* Nanoseconds and the inode: a file rewritten within the second,
	 * or replaced by a rename, still reads as changed. */
	*ret_mtime = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) +
		     st.st_mtim.tv_nsec;
	*ret_ident = (guint64)st.st_size ^ ((guint64)st.st_ino << 24);
	return true;
}

static TrustStore *trust_load(const char *ca_file, GError **error)
{
	TrustStore *store = g_new0(TrustStore, 1);
	int ret = gnutls_certificate_allocate_credentials(&store->creds);

	store->refs = 1;
	if (ret < 0) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot set up TLS credentials: %s",
			    gnutls_strerror(ret));
		g_free(store);
		return NULL;
	}
	trust_loads++;
	if (ca_file == NULL) {
		ret = gnutls_certificate_set_x509_system_trust(store->creds);
		if (ret < 0) {
			g_set_error(error, TLS_SESSION_ERROR,
				    TLS_SESSION_ERROR_SETUP,
				    "Cannot load the system trust store: %s",
				    gnutls_strerror(ret));
			trust_unref(store);
			return NULL;
		}
		g_debug("Loaded %d trust anchors from the system store", ret);
		store->system_loaded = true;
	}
	if (ca_file != NULL && !load_ca_file(store->creds, ca_file, error)) {
		trust_unref(store);
		return NULL;
	}
	store->ca_file = g_strdup(ca_file);
	(void)file_stamp(ca_file, &store->mtime, &store->ident);
	return store;
}

/* The cached store when it is for this CA file as it is now, else a new
 * one that replaces it in the cache. Transfer: one reference. */
static TrustStore *trust_get(const char *ca_file, GError **error)
{
	TrustStore *store;
	gint64 mtime;
	guint64 ident;
	bool stamped = file_stamp(ca_file, &mtime, &ident);

	G_LOCK(trust);
	store = trust_cache;
	if (store && stamped && g_strcmp0(store->ca_file, ca_file) == 0 &&
	    store->mtime == mtime && store->ident == ident) {
		store->refs++;
		G_UNLOCK(trust);
		return store;
	}
	store = trust_load(ca_file, error);
	if (store) {
		if (trust_cache)
			trust_unref(trust_cache);
		trust_cache = store;
		store->refs++;
	}
	G_UNLOCK(trust);
	return store;
}

/* Adds the system store to a ca-file store, once. True when it was not
 * there before and now holds anchors: worth verifying again. */
static bool trust_add_system(TrustStore *store)
{
	int ret;

	G_LOCK(trust);
	if (store->system_loaded) {
		G_UNLOCK(trust);
		return false;
	}
	store->system_loaded = true;
	ret = gnutls_certificate_set_x509_system_trust(store->creds);
	G_UNLOCK(trust);
	if (ret < 0)
		g_debug("Cannot load the system trust store: %s",
			gnutls_strerror(ret));
	else
		g_debug("Loaded %d trust anchors from the system store", ret);
	return ret > 0;
}

bool tls_session_load_trust(const char *ca_file, GError **error)
{
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	TrustStore *store = trust_get(ca_file, error);

	if (store == NULL)
		return false;
	G_LOCK(trust);
	trust_unref(store);
	G_UNLOCK(trust);
	return true;
}

void tls_session_forget_trust(void)
{
	G_LOCK(trust);
	if (trust_cache)
		trust_unref(g_steal_pointer(&trust_cache));
	G_UNLOCK(trust);
}

unsigned tls_session_get_trust_loads(void)
{
	return trust_loads;
}

/*
 * RFC 6120 §13.7.2.1 and RFC 6125: chain and name, during the handshake
 * (a refusal fails it with GNUTLS_E_CERTIFICATE_ERROR). Done here rather
 * than by gnutls_session_set_verify_cert so that with a ca-file the system
 * store is loaded only when the chain needs it: a private or self-signed
 * server verifies against ca-file alone, and the system store's ~140
 * anchors cost ~25 ms and ~4 MB at every start. Anchors are only added,
 * so ca-file first and then ca-file plus the system store accept exactly
 * what the two together would.
 */
static int verify_peer(gnutls_session_t session)
{
	TlsSession *tls = gnutls_session_get_ptr(session);
	unsigned status = 0;
	int ret = gnutls_certificate_verify_peers3(session, tls->ascii_domain,
						   &status);

	if (ret >= 0 && (status & GNUTLS_CERT_SIGNER_NOT_FOUND) &&
	    trust_add_system(tls->trust)) {
		status = 0;
		ret = gnutls_certificate_verify_peers3(
			session, tls->ascii_domain, &status);
	}
	if (ret < 0) {
		g_debug("TLS: verifying %s: %s", tls->domain,
			gnutls_strerror(ret));
		status = GNUTLS_CERT_INVALID;
	}
	tls->verify_status = status;
	return status == 0 ? 0 : GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
}

static int priority_get(gnutls_priority_t *ret_priority)
{
	int ret = 0;

	G_LOCK(trust);
	if (priority_cache == NULL)
		ret = gnutls_priority_init2(&priority_cache, TLS_PRIORITY, NULL,
					    0);
	if (ret < 0)
		priority_cache = NULL;
	*ret_priority = priority_cache;
	G_UNLOCK(trust);
	return ret;
}

TlsSession *tls_session_new(const char *verify_domain, const char *ca_file,
			    GError **error)
{
	g_return_val_if_fail(verify_domain != NULL && *verify_domain != '\0',
			     NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	g_autoptr(TlsSession) tls = g_new0(TlsSession, 1);
	tls->domain = g_strdup(verify_domain);
	/*
	 * RFC 6125 §6.4.2 compares A-labels, and SNI carries them (RFC 6066
	 * §3); a JID domain may be an internationalised name.
	 */
	tls->ascii_domain = g_hostname_to_ascii(verify_domain);
	if (tls->ascii_domain == NULL) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot verify TLS for %s: not a valid domain name",
			    verify_domain);
		return NULL;
	}
	tls->in = g_byte_array_new();
	tls->out = g_byte_array_new();

	tls->trust = trust_get(ca_file, error);
	if (tls->trust == NULL)
		return NULL;
	tls->creds = tls->trust->creds;

	gnutls_priority_t priority;
	int ret = gnutls_init(&tls->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK |
						     GNUTLS_KEY_SHARE_TOP);
	if (ret < 0) {
		tls->session = NULL;
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot create a TLS session: %s",
			    gnutls_strerror(ret));
		return NULL;
	}

	ret = priority_get(&priority);
	if (ret >= 0)
		ret = gnutls_priority_set(tls->session, priority);
	if (ret >= 0)
		ret = gnutls_credentials_set(
			tls->session, GNUTLS_CRD_CERTIFICATE, tls->creds);
	/* RFC 6066 §3: SNI carries DNS names only, never an IP literal. */
	if (ret >= 0 && !g_hostname_is_ip_address(tls->ascii_domain))
		ret = gnutls_server_name_set(tls->session, GNUTLS_NAME_DNS,
					     tls->ascii_domain,
					     strlen(tls->ascii_domain));
	if (ret < 0) {
		g_set_error(error, TLS_SESSION_ERROR, TLS_SESSION_ERROR_SETUP,
			    "Cannot configure the TLS session: %s",
			    gnutls_strerror(ret));
		return NULL;
	}

	gnutls_session_set_verify_function(tls->session, verify_peer);
	gnutls_session_set_ptr(tls->session, tls);
	gnutls_transport_set_ptr(tls->session, tls);
	gnutls_transport_set_push_function(tls->session, push_cb);
	gnutls_transport_set_pull_function(tls->session, pull_cb);

	return g_steal_pointer(&tls);
}

void tls_session_free(TlsSession *tls)
{
	if (tls == NULL)
		return;
	if (tls->session != NULL)
		gnutls_deinit(tls->session);
	if (tls->trust != NULL) {
		G_LOCK(trust);
		trust_unref(tls->trust);
		G_UNLOCK(trust);
	}
	/* The buffers may hold decrypted-then-encrypted secrets in transit. */
	if (tls->in != NULL) {
		gnutls_memset(tls->in->data, 0, tls->in->len);
		g_byte_array_unref(tls->in);
	}
	if (tls->out != NULL) {
		gnutls_memset(tls->out->data, 0, tls->out->len);
		g_byte_array_unref(tls->out);
	}
	g_free(tls->domain);
	g_free(tls->ascii_domain);
	g_free(tls->error_message);
	g_free(tls);
}

void tls_session_feed(TlsSession *tls, const char *data, size_t len)
{
	g_return_if_fail(tls != NULL);
	g_return_if_fail(data != NULL || len == 0);

	/* Compact before growing so a long session does not creep. */
	if (tls->in_pos > 0) {
		g_byte_array_remove_range(tls->in, 0, (guint)tls->in_pos);
		tls->in_pos = 0;
	}
	g_byte_array_append(tls->in, (const guint8 *)data, (guint)len);
}

void tls_session_take_output(TlsSession *tls, GByteArray *out)
{
	g_return_if_fail(tls != NULL);
	g_return_if_fail(out != NULL);

	if (tls->out->len == 0)
		return;
	g_byte_array_append(out, tls->out->data, tls->out->len);
	g_byte_array_set_size(tls->out, 0);
}

bool tls_session_has_output(const TlsSession *tls)
{
	g_return_val_if_fail(tls != NULL, false);
	return tls->out->len > 0;
}

static const char *alert_name(TlsSession *tls)
{
	const char *name =
		gnutls_alert_get_name(gnutls_alert_get(tls->session));
	return name != NULL ? name : "unknown alert";
}

/* Why the peer certificate was refused, for people. */
static void fail_certificate(TlsSession *tls, GError **error)
{
	unsigned status = tls->verify_status;
	gnutls_datum_t text = {NULL, 0};
	g_autofree char *reason = NULL;

	if (status != 0 && gnutls_certificate_verification_status_print(
				   status, GNUTLS_CRT_X509, &text, 0) == 0) {
		reason = g_strndup((const char *)text.data, text.size);
		gnutls_free(text.data);
		g_strstrip(reason);
	} else {
		reason = g_strdup("it could not be verified");
	}
	set_dead(tls, error, TLS_SESSION_ERROR_CERTIFICATE,
		 "The TLS certificate presented for %s is not acceptable: %s",
		 tls->domain, reason);
}

TlsSessionStatus tls_session_handshake(TlsSession *tls, GError **error)
{
	g_return_val_if_fail(tls != NULL, TLS_SESSION_STATUS_ERROR);
	g_return_val_if_fail(error == NULL || *error == NULL,
			     TLS_SESSION_STATUS_ERROR);

	if (!check_alive(tls, error))
		return TLS_SESSION_STATUS_ERROR;
	if (tls->handshake_done)
		return TLS_SESSION_STATUS_DONE;

	for (int spurious = 0; spurious < MAX_SPURIOUS_RETRIES; spurious++) {
		int ret = gnutls_handshake(tls->session);

		if (ret == GNUTLS_E_SUCCESS) {
			tls->handshake_done = true;
			g_debug("TLS handshake with %s complete", tls->domain);
			return TLS_SESSION_STATUS_DONE;
		}
		if (ret == GNUTLS_E_AGAIN)
			return TLS_SESSION_STATUS_AGAIN;

		/*
		 * Tell the server why we give up (RFC 8446 §6.2) before the
		 * caller drops the connection: the alert goes to the output.
		 */
		if (gnutls_error_is_fatal(ret) &&
		    ret != GNUTLS_E_FATAL_ALERT_RECEIVED)
			(void)gnutls_alert_send_appropriate(tls->session, ret);

		switch (ret) {
		case GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR:
		case GNUTLS_E_CERTIFICATE_ERROR:
			fail_certificate(tls, error);
			return TLS_SESSION_STATUS_ERROR;
		case GNUTLS_E_FATAL_ALERT_RECEIVED:
			set_dead(tls, error, TLS_SESSION_ERROR_HANDSHAKE,
				 "TLS handshake with %s failed: the server "
				 "sent the alert \"%s\"",
				 tls->domain, alert_name(tls));
			return TLS_SESSION_STATUS_ERROR;
		case GNUTLS_E_UNSUPPORTED_VERSION_PACKET:
			set_dead(tls, error, TLS_SESSION_ERROR_HANDSHAKE,
				 "TLS handshake with %s failed: the server "
				 "does not support TLS 1.2 or newer",
				 tls->domain);
			return TLS_SESSION_STATUS_ERROR;
		default:
			break;
		}
		if (gnutls_error_is_fatal(ret)) {
			set_dead(tls, error, TLS_SESSION_ERROR_HANDSHAKE,
				 "TLS handshake with %s failed: %s",
				 tls->domain, gnutls_strerror(ret));
			return TLS_SESSION_STATUS_ERROR;
		}
		/* A warning alert or the like: GnuTLS wants another call. */
		g_debug("TLS handshake with %s: %s, continuing", tls->domain,
			ret == GNUTLS_E_WARNING_ALERT_RECEIVED
				? alert_name(tls)
				: gnutls_strerror(ret));
	}
	set_dead(tls, error, TLS_SESSION_ERROR_HANDSHAKE,
		 "TLS handshake with %s failed: too many warnings",
		 tls->domain);
	return TLS_SESSION_STATUS_ERROR;
}

static bool check_ready(TlsSession *tls, GError **error)
{
	if (!check_alive(tls, error))
		return false;
	if (!tls->handshake_done) {
		g_set_error_literal(error, TLS_SESSION_ERROR,
				    TLS_SESSION_ERROR_IO,
				    "The TLS handshake is not complete");
		return false;
	}
	return true;
}

bool tls_session_write(TlsSession *tls, const char *data, size_t len,
		       GError **error)
{
	g_return_val_if_fail(tls != NULL, false);
	g_return_val_if_fail(data != NULL || len == 0, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	if (!check_ready(tls, error))
		return false;

	size_t done = 0;
	int spurious = 0;
	while (done < len) {
		ssize_t ret = gnutls_record_send(tls->session, data + done,
						 len - done);
		if (ret > 0) {
			done += (size_t)ret;
			spurious = 0;
			continue;
		}
		/*
		 * Our push never fails, so AGAIN/INTERRUPTED can only come
		 * from GnuTLS itself (e.g. a pending key update); retry with
		 * the same data as the API requires, but bounded.
		 */
		if ((ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) &&
		    ++spurious < MAX_SPURIOUS_RETRIES)
			continue;
		set_dead(tls, error, TLS_SESSION_ERROR_IO,
			 "Cannot send TLS data to %s: %s", tls->domain,
			 gnutls_strerror((int)ret));
		return false;
	}
	return true;
}

/* The largest TLS plaintext record (RFC 8446 §5.1). */
#define RECORD_MAX 16384

/*
 * One gnutls_record_recv() straight into the end of out. Not through a
 * buffer on the stack: that needed wiping after every read, and wiping
 * all 16 KiB of it was ~33,000 instructions a read whatever the read
 * brought, plus a copy (callgrind, core-tracker in the bench at N = 5,000:
 * 976 M -> 964 M instructions). No plaintext is left anywhere but in out.
 */
static ssize_t recv_record(TlsSession *tls, GByteArray *out)
{
	guint len = out->len;
	ssize_t ret;

	g_byte_array_set_size(out, len + RECORD_MAX);
	ret = gnutls_record_recv(tls->session, out->data + len, RECORD_MAX);
	g_byte_array_set_size(out, len + (ret > 0 ? (guint)ret : 0));
	return ret;
}

bool tls_session_read(TlsSession *tls, GByteArray *out, GError **error)
{
	g_return_val_if_fail(tls != NULL, false);
	g_return_val_if_fail(out != NULL, false);
	g_return_val_if_fail(error == NULL || *error == NULL, false);

	if (!check_ready(tls, error))
		return false;

	int spurious = 0;
	size_t last_left = SIZE_MAX;

	/*
	 * Loop until GnuTLS has neither buffered plaintext nor ciphertext to
	 * pull: a daemon that waits on the socket after a partial drain would
	 * sit on data that already arrived.
	 */
	for (;;) {
		ssize_t ret = recv_record(tls, out);

		if (ret > 0) {
			spurious = 0;
			continue;
		}
		if (ret == 0) {
			/* RFC 8446 §6.1: close_notify. */
			set_dead(tls, error, TLS_SESSION_ERROR_CLOSED,
				 "%s closed the TLS session", tls->domain);
			return false;
		}
		if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
			/*
			 * Not only "no more input": GnuTLS also returns AGAIN
			 * after a post-handshake message (TLS 1.3 KeyUpdate,
			 * NewSessionTicket) with more records still queued.
			 * Go on while it keeps consuming them.
			 */
			size_t left = tls->in->len - tls->in_pos;

			if (gnutls_record_check_pending(tls->session) > 0 ||
			    (left > 0 && left < last_left)) {
				last_left = left;
				continue;
			}
			break;
		}
		switch (ret) {
		case GNUTLS_E_REHANDSHAKE:
			/* TLS 1.2 renegotiation: nothing we need, refuse. */
			set_dead(tls, error, TLS_SESSION_ERROR_IO,
				 "%s asked for TLS renegotiation, which is "
				 "not supported",
				 tls->domain);
			break;
		case GNUTLS_E_PREMATURE_TERMINATION:
			set_dead(tls, error, TLS_SESSION_ERROR_IO,
				 "%s ended the TLS session without "
				 "close_notify (possible truncation)",
				 tls->domain);
			break;
		case GNUTLS_E_FATAL_ALERT_RECEIVED:
			set_dead(tls, error, TLS_SESSION_ERROR_IO,
				 "%s sent the TLS alert \"%s\"", tls->domain,
				 alert_name(tls));
			break;
		default:
			if (!gnutls_error_is_fatal((int)ret) &&
			    ++spurious < MAX_SPURIOUS_RETRIES) {
				g_debug("TLS read from %s: %s, continuing",
					tls->domain,
					ret == GNUTLS_E_WARNING_ALERT_RECEIVED
						? alert_name(tls)
						: gnutls_strerror((int)ret));
				continue;
			}
			/* E.g. bad_record_mac for a forged record. */
			(void)gnutls_alert_send_appropriate(tls->session,
							    (int)ret);
			set_dead(tls, error, TLS_SESSION_ERROR_IO,
				 "TLS error from %s: %s", tls->domain,
				 gnutls_strerror((int)ret));
			break;
		}
		return false;
	}
	return true;
}

GBytes *tls_session_get_channel_binding(TlsSession *tls)
{
	g_return_val_if_fail(tls != NULL, NULL);

	if (!tls->handshake_done || tls->dead)
		return NULL;
	/*
	 * RFC 9266 §3: tls-exporter is defined for TLS 1.3; on 1.2 it is
	 * only safe with extended master secret, and we do not bother.
	 */
	if (gnutls_protocol_get_version(tls->session) != GNUTLS_TLS1_3)
		return NULL;

	guint8 *cb = g_malloc(CB_EXPORTER_LEN);
	int ret = gnutls_prf_rfc5705(tls->session, strlen(CB_EXPORTER_LABEL),
				     CB_EXPORTER_LABEL, 0, NULL,
				     CB_EXPORTER_LEN, (char *)cb);
	if (ret < 0) {
		g_debug("TLS exporter failed: %s", gnutls_strerror(ret));
		g_free(cb);
		return NULL;
	}
	return g_bytes_new_take(cb, CB_EXPORTER_LEN);
}

/*
 * RFC 5929 §4.1. Every algorithm is listed by name so that a new GnuTLS
 * algorithm gets no binding until someone has looked up what its hash is.
 */
static const struct {
	gnutls_sign_algorithm_t sign;
	gnutls_digest_algorithm_t digest;
} end_point_digests[] = {
	/* MD5 and SHA-1 are replaced by SHA-256. */
	{GNUTLS_SIGN_RSA_MD5, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_SHA1, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_DSA_SHA1, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_ECDSA_SHA1, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_SHA224, GNUTLS_DIG_SHA224},
	{GNUTLS_SIGN_DSA_SHA224, GNUTLS_DIG_SHA224},
	{GNUTLS_SIGN_ECDSA_SHA224, GNUTLS_DIG_SHA224},
	{GNUTLS_SIGN_RSA_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_DSA_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_ECDSA_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_ECDSA_SECP256R1_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_PSS_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_PSS_RSAE_SHA256, GNUTLS_DIG_SHA256},
	{GNUTLS_SIGN_RSA_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_DSA_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_ECDSA_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_ECDSA_SECP384R1_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_RSA_PSS_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_RSA_PSS_RSAE_SHA384, GNUTLS_DIG_SHA384},
	{GNUTLS_SIGN_RSA_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_DSA_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_ECDSA_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_ECDSA_SECP521R1_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_RSA_PSS_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_RSA_PSS_RSAE_SHA512, GNUTLS_DIG_SHA512},
	{GNUTLS_SIGN_RSA_SHA3_224, GNUTLS_DIG_SHA3_224},
	{GNUTLS_SIGN_DSA_SHA3_224, GNUTLS_DIG_SHA3_224},
	{GNUTLS_SIGN_ECDSA_SHA3_224, GNUTLS_DIG_SHA3_224},
	{GNUTLS_SIGN_RSA_SHA3_256, GNUTLS_DIG_SHA3_256},
	{GNUTLS_SIGN_DSA_SHA3_256, GNUTLS_DIG_SHA3_256},
	{GNUTLS_SIGN_ECDSA_SHA3_256, GNUTLS_DIG_SHA3_256},
	{GNUTLS_SIGN_RSA_SHA3_384, GNUTLS_DIG_SHA3_384},
	{GNUTLS_SIGN_DSA_SHA3_384, GNUTLS_DIG_SHA3_384},
	{GNUTLS_SIGN_ECDSA_SHA3_384, GNUTLS_DIG_SHA3_384},
	{GNUTLS_SIGN_RSA_SHA3_512, GNUTLS_DIG_SHA3_512},
	{GNUTLS_SIGN_DSA_SHA3_512, GNUTLS_DIG_SHA3_512},
	{GNUTLS_SIGN_ECDSA_SHA3_512, GNUTLS_DIG_SHA3_512},
	/*
	 * Not listed, hence no binding: EdDSA (the hash is part of the
	 * signature scheme, RFC 8410 names none for RFC 5929), GOST, RSA raw,
	 * MD2, RIPEMD-160 and anything newer than this table.
	 */
};

gnutls_digest_algorithm_t
tls_session_end_point_digest(gnutls_sign_algorithm_t sign)
{
	for (size_t i = 0; i < G_N_ELEMENTS(end_point_digests); i++) {
		if (end_point_digests[i].sign == sign)
			return end_point_digests[i].digest;
	}
	return GNUTLS_DIG_UNKNOWN;
}

GBytes *tls_session_get_server_end_point(TlsSession *tls, GError **error)
{
	g_return_val_if_fail(tls != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (!tls->handshake_done || tls->dead) {
		g_set_error_literal(error, TLS_SESSION_ERROR,
				    TLS_SESSION_ERROR_NO_BINDING,
				    "No tls-server-end-point binding: the TLS "
				    "session is not established");
		return NULL;
	}

	unsigned n_certs = 0;
	const gnutls_datum_t *certs =
		gnutls_certificate_get_peers(tls->session, &n_certs);
	if (certs == NULL || n_certs == 0) {
		g_set_error(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_NO_BINDING,
			    "No tls-server-end-point binding: %s presented "
			    "no certificate",
			    tls->domain);
		return NULL;
	}

	/* The first certificate is the server's own (RFC 8446 §4.4.2). */
	gnutls_x509_crt_t crt = NULL;
	int ret = gnutls_x509_crt_init(&crt);
	if (ret >= 0)
		ret = gnutls_x509_crt_import(crt, &certs[0],
					     GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		if (crt != NULL)
			gnutls_x509_crt_deinit(crt);
		g_set_error(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_NO_BINDING,
			    "No tls-server-end-point binding: cannot parse the "
			    "certificate of %s: %s",
			    tls->domain, gnutls_strerror(ret));
		return NULL;
	}
	ret = gnutls_x509_crt_get_signature_algorithm(crt);
	gnutls_x509_crt_deinit(crt);

	gnutls_sign_algorithm_t sign =
		ret < 0 ? GNUTLS_SIGN_UNKNOWN : (gnutls_sign_algorithm_t)ret;
	gnutls_digest_algorithm_t digest = tls_session_end_point_digest(sign);
	if (digest == GNUTLS_DIG_UNKNOWN) {
		const char *name = gnutls_sign_get_name(sign);

		g_set_error(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_NO_BINDING,
			    "No tls-server-end-point binding: the certificate "
			    "of %s is signed with %s, which has no single hash "
			    "(RFC 5929 §4.1)",
			    tls->domain,
			    name != NULL ? name : "an unknown algorithm");
		return NULL;
	}

	size_t len = gnutls_hash_get_len(digest);
	guint8 *hash = g_malloc(len);
	ret = gnutls_hash_fast(digest, certs[0].data, certs[0].size, hash);
	if (ret < 0) {
		g_free(hash);
		g_set_error(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_NO_BINDING,
			    "No tls-server-end-point binding: %s",
			    gnutls_strerror(ret));
		return NULL;
	}
	return g_bytes_new_take(hash, len);
}

TlsSessionVersion tls_session_get_version(TlsSession *tls)
{
	g_return_val_if_fail(tls != NULL, TLS_SESSION_VERSION_UNKNOWN);

	if (!tls->handshake_done)
		return TLS_SESSION_VERSION_UNKNOWN;
	/* An if, not a switch: GnuTLS' enum also lists SSL 3 and DTLS. The
	 * priority string allows nothing but 1.2 and 1.3. */
	gnutls_protocol_t version = gnutls_protocol_get_version(tls->session);
	if (version == GNUTLS_TLS1_3)
		return TLS_SESSION_VERSION_1_3;
	if (version == GNUTLS_TLS1_2)
		return TLS_SESSION_VERSION_1_2;
	return TLS_SESSION_VERSION_UNKNOWN;
}

static const char *const version_names[] = {
	[TLS_SESSION_VERSION_UNKNOWN] = "unknown",
	[TLS_SESSION_VERSION_1_2] = "1.2",
	[TLS_SESSION_VERSION_1_3] = "1.3",
};

const char *tls_session_version_to_string(TlsSessionVersion version)
{
	if ((size_t)version >= G_N_ELEMENTS(version_names))
		return "unknown";
	return version_names[version];
}

char *tls_session_describe(TlsSession *tls)
{
	g_return_val_if_fail(tls != NULL, NULL);

	if (!tls->handshake_done)
		return g_strdup("TLS (handshake incomplete)");

	const char *version = gnutls_protocol_get_name(
		gnutls_protocol_get_version(tls->session));
	const char *cipher =
		gnutls_cipher_get_name(gnutls_cipher_get(tls->session));
	return g_strdup_printf("%s/%s", version != NULL ? version : "TLS?",
			       cipher != NULL ? cipher : "?");
}

void tls_session_close(TlsSession *tls)
{
	g_return_if_fail(tls != NULL);

	if (!tls->handshake_done || tls->dead)
		return;
	/* SHUT_WR: queue close_notify, do not wait for the peer's. */
	int ret = gnutls_bye(tls->session, GNUTLS_SHUT_WR);
	if (ret < 0)
		g_debug("TLS close_notify to %s: %s", tls->domain,
			gnutls_strerror(ret));
}
