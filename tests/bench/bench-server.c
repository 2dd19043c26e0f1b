/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gnutls/crypto.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench-server.h"
#include "bench-wire.h"

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define SCRAM_ITERATIONS 4096
#define SCRAM_SALT "bench-salt-16byt"

typedef enum {
	PHASE_HEADER,	    /* plaintext stream header expected */
	PHASE_STARTTLS,	    /* <starttls/> expected */
	PHASE_HANDSHAKE,    /* TLS handshake running */
	PHASE_TLS_HEADER,   /* stream header inside TLS, then SASL */
	PHASE_SASL,	    /* <auth/> or <response/> expected */
	PHASE_BOUND_HEADER, /* stream header after SASL */
	PHASE_STREAM,	    /* stanzas */
} Phase;

struct _BenchServer {
	int listen_fd;
	uint16_t port;
	gnutls_certificate_credentials_t creds;
	/* connection */
	int fd;
	bool direct;
	Phase phase;
	gnutls_session_t tls;
	bool tls_on;
	GByteArray *in_raw; /* ciphertext not yet pulled by GnuTLS */
	size_t in_off;
	GByteArray *out; /* bytes for the socket */
	size_t out_off;
	GString *plain; /* client plaintext not yet processed */
	bool mark;
	/* SASL */
	gnutls_mac_algorithm_t mac;
	gnutls_digest_algorithm_t digest;
	char *client_first_bare;
	char *server_first;
	BenchServerEvents ev;
};

int64_t bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static ssize_t pull_cb(gnutls_transport_ptr_t ptr, void *data, size_t len)
{
	BenchServer *s = ptr;
	size_t avail = s->in_raw->len - s->in_off;

	if (avail == 0) {
		gnutls_transport_set_errno(s->tls, EAGAIN);
		return -1;
	}
	if (len > avail)
		len = avail;
	memcpy(data, s->in_raw->data + s->in_off, len);
	s->in_off += len;
	if (s->in_off == s->in_raw->len) {
		g_byte_array_set_size(s->in_raw, 0);
		s->in_off = 0;
	}
	return (ssize_t)len;
}

static ssize_t push_cb(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	BenchServer *s = ptr;

	g_byte_array_append(s->out, data, (guint)len);
	return (ssize_t)len;
}

BenchServer *bench_server_new(const char *cert_pem, const char *key_pem,
			      GError **error)
{
	g_autofree BenchServer *s = g_new0(BenchServer, 1);
	struct sockaddr_in sa = {0};
	socklen_t sl = sizeof(sa);
	gnutls_datum_t c = {(unsigned char *)cert_pem,
			    (unsigned)strlen(cert_pem)};
	gnutls_datum_t k = {(unsigned char *)key_pem,
			    (unsigned)strlen(key_pem)};
	int one = 1;

	gnutls_certificate_allocate_credentials(&s->creds);
	if (gnutls_certificate_set_x509_key_mem(s->creds, &c, &k,
						GNUTLS_X509_FMT_PEM) < 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
			    "bad server certificate");
		gnutls_certificate_free_credentials(s->creds);
		return NULL;
	}
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	(void)setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
			 sizeof(one));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(s->listen_fd, 4) < 0 ||
	    getsockname(s->listen_fd, (struct sockaddr *)&sa, &sl) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "listen on 127.0.0.1: %s", g_strerror(errno));
		close(s->listen_fd);
		gnutls_certificate_free_credentials(s->creds);
		return NULL;
	}
	s->port = ntohs(sa.sin_port);
	s->fd = -1;
	s->ev.sp_time = g_new0(int64_t, BENCH_SP_MAX);
	return g_steal_pointer(&s);
}

uint16_t bench_server_get_port(const BenchServer *server)
{
	return server->port;
}

BenchServerEvents *bench_server_get_events(BenchServer *server)
{
	return &server->ev;
}

static void reset_conn(BenchServer *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->tls != NULL)
		gnutls_deinit(s->tls);
	s->tls = NULL;
	s->tls_on = false;
	if (s->in_raw != NULL)
		g_byte_array_unref(s->in_raw);
	if (s->out != NULL)
		g_byte_array_unref(s->out);
	if (s->plain != NULL)
		g_string_free(s->plain, TRUE);
	s->in_raw = NULL;
	s->out = NULL;
	s->plain = NULL;
	s->in_off = s->out_off = 0;
	g_clear_pointer(&s->client_first_bare, g_free);
	g_clear_pointer(&s->server_first, g_free);
	g_clear_pointer(&s->ev.roster_iq_id, g_free);
	int64_t *sp = s->ev.sp_time;
	memset(sp, 0, sizeof(int64_t) * BENCH_SP_MAX);
	memset(&s->ev, 0, sizeof(s->ev));
	s->ev.sp_time = sp;
	s->mark = false;
}

void bench_server_free(BenchServer *s)
{
	if (s == NULL)
		return;
	reset_conn(s);
	close(s->listen_fd);
	gnutls_certificate_free_credentials(s->creds);
	g_free(s->ev.sp_time);
	g_free(s);
}

static void start_tls(BenchServer *s)
{
	gnutls_init(&s->tls, GNUTLS_SERVER | GNUTLS_NONBLOCK);
	gnutls_set_default_priority(s->tls);
	gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, s->creds);
	gnutls_transport_set_ptr(s->tls, s);
	gnutls_transport_set_push_function(s->tls, push_cb);
	gnutls_transport_set_pull_function(s->tls, pull_cb);
	s->phase = PHASE_HANDSHAKE;
}

bool bench_server_accept(BenchServer *s, bool direct, int timeout_ms,
			 GError **error)
{
	struct pollfd p = {s->listen_fd, POLLIN, 0};
	int one = 1;

	reset_conn(s);
	if (poll(&p, 1, timeout_ms) <= 0) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
			    "no client connected within %d ms", timeout_ms);
		return false;
	}
	s->fd = accept(s->listen_fd, NULL, NULL);
	if (s->fd < 0 || fcntl(s->fd, F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(s->fd, F_SETFD, FD_CLOEXEC) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
			    "accept: %s", g_strerror(errno));
		return false;
	}
	(void)setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->in_raw = g_byte_array_new();
	s->out = g_byte_array_new();
	s->plain = g_string_new(NULL);
	s->direct = direct;
	s->phase = PHASE_HEADER;
	if (direct)
		start_tls(s);
	return true;
}

void bench_server_send(BenchServer *s, const char *data, size_t len)
{
	if (!s->tls_on) {
		g_byte_array_append(s->out, (const guint8 *)data, (guint)len);
		return;
	}
	while (len > 0) {
		size_t n = MIN(len, (size_t)16384);
		ssize_t r = gnutls_record_send(s->tls, data, n);

		if (r < 0) {
			if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
				continue;
			s->ev.failed = true;
			return;
		}
		data += r;
		len -= (size_t)r;
	}
}

static void send_str(BenchServer *s, const char *str)
{
	bench_server_send(s, str, strlen(str));
}

void bench_server_mark(BenchServer *s)
{
	s->mark = true;
}

bool bench_server_has_output(const BenchServer *s)
{
	return s->out != NULL && s->out_off < s->out->len;
}

int bench_server_ping_slot(const char *id)
{
	if (!g_str_has_prefix(id, "bping-") || id[6] < '0' || id[6] > '7')
		return -1;
	return id[6] - '0';
}

/* ---- a tiny stanza splitter (the client is trusted) -------------------- */

/* Value of attribute name in the start tag at elem (either quote). */
static char *attr(const char *elem, const char *name)
{
	const char *end = strchr(elem, '>');
	size_t nl = strlen(name);

	for (const char *p = elem; p != NULL && p < end;
	     p = strchr(p + 1, ' ')) {
		const char *a = p + 1;
		if (strncmp(a, name, nl) == 0 && a[nl] == '=' &&
		    (a[nl + 1] == '\'' || a[nl + 1] == '"')) {
			const char *v = a + nl + 2;
			const char *q = strchr(v, a[nl + 1]);
			return q ? g_strndup(v, (gsize)(q - v)) : NULL;
		}
	}
	return NULL;
}

/* Text of the first <name>…</name> inside elem. */
static char *child_text(const char *elem, const char *name)
{
	g_autofree char *open = g_strdup_printf("<%s", name);
	g_autofree char *close = g_strdup_printf("</%s>", name);
	const char *p = strstr(elem, open);
	const char *gt, *q;

	if (p == NULL || (gt = strchr(p, '>')) == NULL || gt[-1] == '/')
		return g_strdup("");
	q = strstr(gt, close);
	return q ? g_strndup(gt + 1, (gsize)(q - gt - 1)) : g_strdup("");
}

static void send_features(BenchServer *s)
{
	send_str(s, BENCH_STREAM_HEADER "<stream:features>");
	switch (s->phase) {
	case PHASE_HEADER:
		send_str(s, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
			    "<required/></starttls>");
		s->phase = PHASE_STARTTLS;
		break;
	case PHASE_TLS_HEADER:
		send_str(s, "<mechanisms xmlns='" NS_SASL "'>"
			    "<mechanism>SCRAM-SHA-256</mechanism>"
			    "<mechanism>SCRAM-SHA-1</mechanism>"
			    "</mechanisms>");
		s->phase = PHASE_SASL;
		break;
	case PHASE_BOUND_HEADER:
		send_str(s, "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
			    "<ping xmlns='urn:xmpp:ping'/>");
		s->phase = PHASE_STREAM;
		break;
	case PHASE_STARTTLS:
	case PHASE_HANDSHAKE:
	case PHASE_SASL:
	case PHASE_STREAM:
		break;
	}
	send_str(s, "</stream:features>");
}

static void sasl_fail(BenchServer *s, const char *why)
{
	g_printerr("bench server: SASL failure: %s\n", why);
	send_str(s, "<failure xmlns='" NS_SASL "'><not-authorized/></failure>");
	s->ev.failed = true;
}

/* RFC 5802 §3, server side: first message. */
static void sasl_auth(BenchServer *s, const char *elem)
{
	g_autofree char *mech = attr(elem, "mechanism");
	g_autofree char *b64 = child_text(elem, "auth");
	g_autofree guchar *raw = NULL;
	gsize rawlen = 0;
	guint8 nonce[18];
	g_autofree char *snonce = NULL;
	g_autofree char *salt =
		g_base64_encode((const guchar *)SCRAM_SALT, strlen(SCRAM_SALT));

	if (g_strcmp0(mech, "SCRAM-SHA-256") == 0) {
		s->mac = GNUTLS_MAC_SHA256;
		s->digest = GNUTLS_DIG_SHA256;
	} else if (g_strcmp0(mech, "SCRAM-SHA-1") == 0) {
		s->mac = GNUTLS_MAC_SHA1;
		s->digest = GNUTLS_DIG_SHA1;
	} else {
		sasl_fail(s, "mechanism");
		return;
	}
	raw = g_base64_decode(b64, &rawlen);
	g_autofree char *msg = g_strndup((const char *)raw, rawlen);
	/* gs2 header: "n,," "y,," or "p=…,,"; the bare message follows. */
	const char *c1 = strchr(msg, ',');
	const char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	const char *r = c2 ? strstr(c2, "r=") : NULL;
	if (r == NULL) {
		sasl_fail(s, "client-first");
		return;
	}
	s->client_first_bare = g_strdup(c2 + 1);
	gnutls_rnd(GNUTLS_RND_NONCE, nonce, sizeof(nonce));
	snonce = g_base64_encode(nonce, sizeof(nonce));
	g_autofree char *cnonce = g_strdup(r + 2);
	char *comma = strchr(cnonce, ',');
	if (comma != NULL)
		*comma = '\0';
	s->server_first = g_strdup_printf("r=%s%s,s=%s,i=%d", cnonce, snonce,
					  salt, SCRAM_ITERATIONS);
	g_autofree char *out = g_base64_encode((const guchar *)s->server_first,
					       strlen(s->server_first));
	g_autofree char *stanza = g_strdup_printf(
		"<challenge xmlns='" NS_SASL "'>%s</challenge>", out);
	send_str(s, stanza);
}

/* RFC 5802 §3: verify the proof, answer with the server signature. */
static void sasl_response(BenchServer *s, const char *elem)
{
	g_autofree char *b64 = child_text(elem, "response");
	gsize rawlen = 0;
	g_autofree guchar *raw = g_base64_decode(b64, &rawlen);
	g_autofree char *msg = g_strndup((const char *)raw, rawlen);
	const char *p = strstr(msg, ",p=");
	guint8 salted[64], ckey[64], skey[64], stored[64], csig[64], ssig[64];
	size_t hl = gnutls_hmac_get_len(s->mac);
	gnutls_datum_t pw = {(unsigned char *)BENCH_PASSWORD,
			     strlen(BENCH_PASSWORD)};
	gnutls_datum_t salt = {(unsigned char *)SCRAM_SALT, strlen(SCRAM_SALT)};

	if (p == NULL || s->server_first == NULL) {
		sasl_fail(s, "client-final");
		return;
	}
	g_autofree char *without_proof = g_strndup(msg, (gsize)(p - msg));
	g_autofree char *am = g_strdup_printf("%s,%s,%s", s->client_first_bare,
					      s->server_first, without_proof);
	gsize prooflen = 0;
	g_autofree guchar *proof = g_base64_decode(p + 3, &prooflen);

	if (gnutls_pbkdf2(s->mac, &pw, &salt, SCRAM_ITERATIONS, salted, hl) <
	    0) {
		sasl_fail(s, "PBKDF2");
		return;
	}
	gnutls_hmac_fast(s->mac, salted, hl, "Client Key", 10, ckey);
	gnutls_hash_fast(s->digest, ckey, hl, stored);
	gnutls_hmac_fast(s->mac, stored, hl, am, strlen(am), csig);
	bool ok = prooflen == hl;
	for (size_t i = 0; ok && i < hl; i++)
		ok = (guint8)(ckey[i] ^ csig[i]) == proof[i];
	if (!ok) {
		sasl_fail(s, "client proof");
		return;
	}
	gnutls_hmac_fast(s->mac, salted, hl, "Server Key", 10, skey);
	gnutls_hmac_fast(s->mac, skey, hl, am, strlen(am), ssig);
	g_autofree char *sig = g_base64_encode(ssig, hl);
	g_autofree char *v = g_strdup_printf("v=%s", sig);
	g_autofree char *out = g_base64_encode((const guchar *)v, strlen(v));
	g_autofree char *stanza = g_strdup_printf(
		"<success xmlns='" NS_SASL "'>%s</success>", out);
	send_str(s, stanza);
	s->phase = PHASE_BOUND_HEADER;
}

static void handle_iq(BenchServer *s, const char *elem, int64_t now)
{
	g_autofree char *id = attr(elem, "id");
	g_autofree char *type = attr(elem, "type");
	g_autofree char *reply = NULL;

	if (id == NULL || type == NULL)
		return;
	if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
		int slot = bench_server_ping_slot(id);
		if (slot >= 0 && s->ev.pong_time[slot] == 0)
			s->ev.pong_time[slot] = now;
		return;
	}
	if (strstr(elem, "urn:ietf:params:xml:ns:xmpp-bind") != NULL) {
		reply = g_strdup_printf("<iq type='result' id='%s'><bind xmlns="
					"'urn:ietf:params:xml:ns:xmpp-bind'><"
					"jid>" BENCH_FULL_JID
					"</jid></bind></iq>",
					id);
		s->ev.bound = true;
	} else if (strstr(elem, "urn:ietf:params:xml:ns:xmpp-session") !=
		   NULL) {
		reply = g_strdup_printf("<iq type='result' id='%s'/>", id);
	} else if (strstr(elem, "jabber:iq:roster") != NULL &&
		   strcmp(type, "get") == 0) {
		/* The driver answers, timed. */
		g_free(s->ev.roster_iq_id);
		s->ev.roster_iq_id = g_steal_pointer(&id);
		return;
	} else if (strstr(elem, "urn:xmpp:ping") != NULL) {
		s->ev.n_keepalive++;
		reply = g_strdup_printf(
			"<iq type='result' id='%s' from='" BENCH_DOMAIN "'/>",
			id);
	} else {
		/*
		 * From where the request went (RFC 6120 §8.1.2.1): a caps
		 * query to a contact's resource must be answered by it, or
		 * the daemon waits for its deadline — a wake-up in the idle
		 * window that a real contact's answer would not cause.
		 */
		g_autofree char *to = attr(elem, "to"); /* still escaped */
		g_autofree char *from =
			to ? g_strdup_printf(" from='%s'", to) : NULL;

		reply = g_strdup_printf(
			"<iq type='error' id='%s'%s><error type='cancel'>"
			"<service-unavailable xmlns="
			"'urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
			id, from ? from : "");
	}
	send_str(s, reply);
}

static void handle_presence(BenchServer *s, const char *elem, int64_t now)
{
	g_autofree char *status = NULL;

	s->ev.n_client_presence++;
	if (strstr(elem, "<status>sp-") == NULL)
		return;
	status = child_text(elem, "status");
	guint64 i = g_ascii_strtoull(status + 3, NULL, 10);
	if (i < BENCH_SP_MAX && s->ev.sp_time[i] == 0)
		__atomic_store_n(&s->ev.sp_time[i], now, __ATOMIC_RELEASE);
}

static void handle_element(BenchServer *s, const char *elem, int64_t now)
{
	if (g_str_has_prefix(elem, "<iq")) {
		handle_iq(s, elem, now);
	} else if (g_str_has_prefix(elem, "<presence")) {
		handle_presence(s, elem, now);
	} else if (g_str_has_prefix(elem, "<starttls") &&
		   s->phase == PHASE_STARTTLS) {
		send_str(s, "<proceed xmlns='urn:ietf:params:xml:ns:"
			    "xmpp-tls'/>");
		start_tls(s);
	} else if (g_str_has_prefix(elem, "<auth")) {
		sasl_auth(s, elem);
	} else if (g_str_has_prefix(elem, "<response")) {
		sasl_response(s, elem);
	}
}

/* Splits s->plain into top-level elements; a stream header (depth 0 → 1)
 * is answered with features. */
static void process_plain(BenchServer *s, int64_t now)
{
	size_t pos = 0, start = 0;
	int depth = 0;
	bool in_stanza = false;
	GString *p = s->plain;

	while (pos < p->len) {
		if (s->phase == PHASE_HANDSHAKE)
			break;
		char *lt = memchr(p->str + pos, '<', p->len - pos);
		if (!in_stanza) {
			/* Whitespace keepalive between stanzas. */
			if (lt == NULL) {
				if (s->phase == PHASE_STREAM)
					s->ev.n_keepalive++;
				pos = p->len;
				start = pos;
				break;
			}
			if (lt != p->str + pos && s->phase == PHASE_STREAM)
				s->ev.n_keepalive++;
			start = (size_t)(lt - p->str);
		}
		if (lt == NULL)
			break;
		/* Find the tag's end, skipping quoted '>'. */
		char q = 0;
		size_t i = (size_t)(lt - p->str) + 1;
		for (; i < p->len; i++) {
			char c = p->str[i];
			if (q != 0) {
				if (c == q)
					q = 0;
			} else if (c == '\'' || c == '"') {
				q = c;
			} else if (c == '>') {
				break;
			}
		}
		if (i >= p->len)
			break; /* incomplete tag */
		const char *tag = lt;
		size_t tag_end = i + 1;
		pos = tag_end;
		if (tag[1] == '?')
			continue;
		if (g_str_has_prefix(tag, "<stream:stream")) {
			start = pos;
			send_features(s);
			continue;
		}
		if (g_str_has_prefix(tag, "</stream:stream")) {
			start = pos;
			s->ev.eof = true;
			continue;
		}
		if (tag[1] == '/')
			depth--;
		else if (p->str[i - 1] != '/')
			depth++;
		in_stanza = depth > 0;
		if (depth == 0) {
			char save = p->str[tag_end];
			p->str[tag_end] = '\0';
			handle_element(s, p->str + start, now);
			p->str[tag_end] = save;
			start = pos;
			if (s->phase == PHASE_HANDSHAKE) {
				/* Bytes after <starttls/>: the ClientHello. */
				g_byte_array_append(
					s->in_raw, (const guint8 *)p->str + pos,
					(guint)(p->len - pos));
				g_string_truncate(p, 0);
				return;
			}
		}
	}
	g_string_erase(p, 0, (gssize)MIN(start, p->len));
}

static void do_tls_input(BenchServer *s, int64_t now)
{
	char buf[65536];

	if (s->phase == PHASE_HANDSHAKE) {
		int r = gnutls_handshake(s->tls);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			return;
		if (r < 0) {
			g_printerr("bench server: TLS handshake: %s\n",
				   gnutls_strerror(r));
			s->ev.failed = true;
			return;
		}
		s->tls_on = true;
		s->ev.tls_up = true;
		if (s->direct) {
			send_str(s, BENCH_STREAM_HEADER);
			s->phase = PHASE_STREAM;
		} else {
			s->phase = PHASE_TLS_HEADER;
		}
	}
	for (;;) {
		ssize_t r = gnutls_record_recv(s->tls, buf, sizeof(buf));
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			break;
		if (r == 0) {
			s->ev.eof = true;
			break;
		}
		if (r < 0) {
			if (!gnutls_error_is_fatal((int)r))
				continue;
			s->ev.eof = true;
			break;
		}
		g_string_append_len(s->plain, buf, r);
	}
	process_plain(s, now);
}

bool bench_server_pump(BenchServer *s, int timeout_ms)
{
	struct pollfd p;

	if (s->fd < 0)
		return false;
	p.fd = s->fd;
	p.events = POLLIN | (bench_server_has_output(s) ? POLLOUT : 0);
	p.revents = 0;
	if (poll(&p, 1, timeout_ms) < 0)
		return errno == EINTR;
	if (p.revents & POLLOUT) {
		if (s->mark) {
			s->ev.first_write = bench_now_us();
			s->mark = false;
		}
		ssize_t w = write(s->fd, s->out->data + s->out_off,
				  s->out->len - s->out_off);
		if (w > 0) {
			s->out_off += (size_t)w;
			if (s->out_off == s->out->len) {
				g_byte_array_set_size(s->out, 0);
				s->out_off = 0;
			}
		} else if (w < 0 && errno != EAGAIN) {
			s->ev.eof = true;
			return false;
		}
	}
	if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
		guint8 buf[262144];
		ssize_t r = read(s->fd, buf, sizeof(buf));
		int64_t now = bench_now_us();
		if (r <= 0) {
			if (r < 0 && errno == EAGAIN)
				return true;
			s->ev.eof = true;
			return false;
		}
		if (s->phase == PHASE_HANDSHAKE || s->tls_on) {
			g_byte_array_append(s->in_raw, buf, (guint)r);
			do_tls_input(s, now);
		} else {
			g_string_append_len(s->plain, (const char *)buf, r);
			process_plain(s, now);
			if (s->phase == PHASE_HANDSHAKE &&
			    s->in_raw->len > s->in_off)
				do_tls_input(s, now);
		}
	}
	/* A restart after TLS or SASL is a fresh header in plain. */
	return !s->ev.eof;
}

void bench_server_close(BenchServer *s)
{
	int64_t end = bench_now_us() + 200000;

	if (s->fd < 0)
		return;
	if (s->tls_on)
		send_str(s, "</stream:stream>");
	while (bench_server_has_output(s) && bench_now_us() < end &&
	       bench_server_pump(s, 20))
		;
	reset_conn(s);
}
