/* SPDX-License-Identifier: MIT */
/*
 * The XMPP client session (RFC 6120, RFC 6121) as an explicit state machine.
 *
 * Data path: bytes in → TLS decrypt (once TLS is up) → XmlReader → one
 * event at a time → the handler for the current state. Output: plaintext →
 * TLS encrypt (once TLS is up) → one output buffer the caller drains.
 *
 * Each transition is one function named after what happens
 * (begin_starttls, on_proceed, on_tls_established, begin_auth, ...); the
 * dispatcher only picks the handler for the current state. Everything the
 * server sends is untrusted: every handler checks what it reads and ends the
 * session with a reason rather than asserting.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/redact.h"
#include "core/roster.h"
#include "core/sasl-scram.h"
#include "core/stanza.h"
#include "core/text.h"
#include "core/tls-session.h"
#include "core/xml-reader.h"
#include "core/xmpp-session.h"

G_DEFINE_QUARK(xmpp - session - error - quark, xmpp_session_error)

#define NS_CLIENT "jabber:client"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_ROSTER "jabber:iq:roster"
#define NS_PING "urn:xmpp:ping"
#define NS_CSI "urn:xmpp:csi:0"
#define NS_DISCO_INFO "http://jabber.org/protocol/disco#info"
#define NS_PUBSUB "http://jabber.org/protocol/pubsub"
#define NS_NICK "http://jabber.org/protocol/nick"

#define DEFAULT_NEGOTIATION_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
#define DEFAULT_KEEPALIVE_IDLE ((int64_t)90 * G_USEC_PER_SEC)
#define DEFAULT_KEEPALIVE_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
#define DEFAULT_RESYNC_GRACE ((int64_t)10 * G_USEC_PER_SEC)

/* Caps on what the server controls (STYLE.md §3). */
#define MAX_MECHANISMS 32u
#define MAX_ITEM_STRING_BYTES 1024u
#define MAX_ERROR_TEXT_BYTES 256u

struct _XmppSession {
	XmppSessionState state;
	/*
	 * Set while answering the server's end of the stream: our goodbye
	 * may meet a TLS session the server already closed, and that write
	 * error must not replace the reason the server gave.
	 */
	bool answering_end;

	/* Account, from the config. */
	char *bare_jid;
	char *localpart;
	char *domain;
	char *password;
	char *resource;
	char *ca_file;
	bool direct_tls;
	int64_t negotiation_timeout;

	ContactTable *contacts; /* borrowed */
	XmppSessionCallbacks callbacks;
	void *user_data;

	XmlReader *reader;
	TlsSession *tls;
	bool tls_active;    /* handshake done: everything goes through TLS */
	bool header_seen;   /* the server's header of the current stream */
	bool authenticated; /* SASL succeeded: features mean bind */
	bool need_session;  /* RFC 3921 session establishment is mandatory */
	bool csi;	    /* XEP-0352 offered in the post-auth features */
	char *stream_from;  /* the server's header 'from', for messages */

	SaslClient *sasl;
	unsigned sasl_round; /* challenges answered so far */
	bool sasl_verified;  /* server-final verified */

	char *bind_id;
	char *session_id;
	char *roster_id;
	char *full_jid;
	bool roster_versioning; /* RFC 6121 §2.6.1 stream feature */
	bool pre_approval;	/* RFC 6121 §3.4 stream feature */
	unsigned id_prefix;
	uint64_t id_counter;

	int64_t deadline; /* negotiation and closing; ONLINE: see below */
	int64_t now;	  /* time of the current feed/tick */

	/* Keepalive while ONLINE (XEP-0199, XEP-0198 <r/>). */
	int64_t keepalive_idle;
	int64_t keepalive_timeout;
	int64_t last_rx;    /* last byte from the server */
	int64_t probe_sent; /* 0: no keepalive question outstanding */

	/* Resynchronising the table after a new session (contacts.h). */
	int64_t resync_grace;
	bool resync;	   /* stale resources marked for this session */
	int64_t settle_at; /* INT64_MAX: nothing to settle */

	/* XEP-0198. */
	StreamMgmt *sm;	    /* this stream's counters and queue */
	StreamMgmt *resume; /* the previous stream's, to resume */
	bool sm_offered;    /* <sm/> in the features after SASL */
	bool sm_active;	    /* <enable/> sent or resumed: counting */
	bool ack_requested; /* <r/> sent, no <a/> yet */
	bool has_bind;	    /* <bind/> in the features after SASL */

	/* XEP-0172 nick over PEP (XEP-0163): disco#info on our bare JID
	 * first, publish only where it shows the pubsub/pep identity. */
	char *nick;	     /* NULL: none set */
	char *disco_id;	     /* disco#info in flight */
	char *publish_id;    /* last publish in flight */
	bool pep;	     /* the disco#info result showed pubsub/pep */
	bool nick_published; /* something was published this session */

	GByteArray *out;   /* bytes for the socket, in order */
	GByteArray *plain; /* scratch: decrypted input */
};

static const char *const state_names[] = {
	[XMPP_SESSION_STATE_INIT] = "init",
	[XMPP_SESSION_STATE_TLS_HANDSHAKE] = "tls-handshake",
	[XMPP_SESSION_STATE_STREAM_OPENING] = "stream-opening",
	[XMPP_SESSION_STATE_STARTTLS] = "starttls",
	[XMPP_SESSION_STATE_AUTHENTICATING] = "authenticating",
	[XMPP_SESSION_STATE_RESUMING] = "resuming",
	[XMPP_SESSION_STATE_BINDING] = "binding",
	[XMPP_SESSION_STATE_ROSTER] = "roster",
	[XMPP_SESSION_STATE_ONLINE] = "online",
	[XMPP_SESSION_STATE_CLOSING] = "closing",
	[XMPP_SESSION_STATE_CLOSED] = "closed",
};

const char *xmpp_session_state_to_string(XmppSessionState state)
{
	if ((size_t)state >= G_N_ELEMENTS(state_names))
		return "invalid";
	return state_names[state];
}

static const char *const end_names[] = {
	[XMPP_SESSION_END_REQUESTED] = "requested",
	[XMPP_SESSION_END_NETWORK] = "network",
	[XMPP_SESSION_END_AUTH_FAILED] = "auth-failed",
	[XMPP_SESSION_END_TLS_FAILED] = "tls-failed",
	[XMPP_SESSION_END_CONFLICT] = "conflict",
	[XMPP_SESSION_END_SERVER_ERROR] = "server-error",
};

const char *xmpp_session_end_to_string(XmppSessionEnd reason)
{
	if ((size_t)reason >= G_N_ELEMENTS(end_names))
		return "invalid";
	return end_names[reason];
}

static void set_state(XmppSession *s, XmppSessionState state)
{
	g_debug("xmpp session: %s -> %s",
		xmpp_session_state_to_string(s->state),
		xmpp_session_state_to_string(state));
	s->state = state;
}

static bool is_ended(const XmppSession *s)
{
	return s->state == XMPP_SESSION_STATE_CLOSED;
}

/* Server text shortened at a character boundary for messages. */
static char *clip_text(const char *text, size_t max)
{
	size_t len = text_bounded_len(text, max);

	if (len == strlen(text))
		return g_strdup(text);
	return g_strdup_printf("%.*s…", (int)len, text);
}

static void wipe_string(char *str)
{
	if (str)
		explicit_bzero(str, strlen(str));
}

/* ---- ending ------------------------------------------------------------- */

static void end_session(XmppSession *s, XmppSessionEnd reason,
			const char *format, ...) G_GNUC_PRINTF(3, 4);

/*
 * The one way into CLOSED: the reason goes to the owner once. Output
 * queued before (stream error, </stream:stream>, close_notify) stays for
 * the caller to flush.
 */
static void end_session(XmppSession *s, XmppSessionEnd reason,
			const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list ap;

	if (is_ended(s))
		return;
	va_start(ap, format);
	error = g_error_new_valist(XMPP_SESSION_ERROR, (int)reason, format, ap);
	va_end(ap);
	g_debug("xmpp session ended (%s): %s",
		xmpp_session_end_to_string(reason), error->message);
	set_state(s, XMPP_SESSION_STATE_CLOSED);
	s->deadline = INT64_MAX;
	g_clear_pointer(&s->sasl, sasl_client_free);
	g_clear_pointer(&s->full_jid, g_free);
	if (s->callbacks.closed)
		s->callbacks.closed(s->user_data, reason, error);
}

/* ---- output ------------------------------------------------------------- */

/*
 * The one place that tells the owner output is waiting: called after every
 * append to s->out with its length before, so output_ready fires exactly
 * when the buffer goes from empty to non-empty.
 */
static void note_output(XmppSession *s, size_t before)
{
	if (before == 0 && s->out->len > 0 && s->callbacks.output_ready)
		s->callbacks.output_ready(s->user_data);
}

static void flush_tls(XmppSession *s)
{
	size_t before = s->out->len;

	if (!s->tls)
		return;
	tls_session_take_output(s->tls, s->out);
	note_output(s, before);
}

static void send_raw(XmppSession *s, const char *data, size_t len)
{
	g_autoptr(GError) error = NULL;

	if (is_ended(s))
		return;
	if (!s->tls_active) {
		size_t before = s->out->len;

		g_byte_array_append(s->out, (const guint8 *)data, (guint)len);
		note_output(s, before);
		return;
	}
	if (!tls_session_write(s->tls, data, len, &error)) {
		flush_tls(s);
		if (!s->answering_end)
			end_session(s, XMPP_SESSION_END_NETWORK, "%s",
				    error->message);
		return;
	}
	flush_tls(s);
}

static void log_wire(XmppSession *s, bool sent, const char *text)
{
	if (s->callbacks.log_wire)
		s->callbacks.log_wire(s->user_data, sent, text);
}

/* Non-stanza text (stream headers, closing tag) is logged as it is. */
static void send_text(XmppSession *s, const char *text)
{
	if (is_ended(s))
		return;
	log_wire(s, true, text);
	send_raw(s, text, strlen(text));
}

/* XEP-0198 §4 counts stanzas only (RFC 6120 §8), in jabber:client. */
static bool is_counted_stanza(const Stanza *stanza)
{
	const char *name = stanza_get_name(stanza);
	const char *ns = stanza_get_ns(stanza);

	if (ns && strcmp(ns, NS_CLIENT) != 0)
		return false;
	return strcmp(name, "iq") == 0 || strcmp(name, "presence") == 0 ||
	       strcmp(name, "message") == 0;
}

static void send_stanza(XmppSession *s, const Stanza *stanza)
{
	g_autoptr(GString) buf = NULL;

	if (is_ended(s))
		return;
	/* Serialize the redacted copy only when someone reads the log. */
	if (s->callbacks.log_wire) {
		g_autofree char *text = redact_log_stanza(stanza);

		log_wire(s, true, text);
	}
	buf = g_string_sized_new(256);
	stanza_serialize(stanza, NS_CLIENT, buf);
	send_raw(s, buf->str, buf->len);
	if (s->sm_active && is_counted_stanza(stanza)) {
		stream_mgmt_push_outbound(s->sm, buf->str, buf->len);
		/* XEP-0198 §4: ask for an ack, one question at a time, so the
		 * queue drains while we are online. */
		if (s->state == XMPP_SESSION_STATE_ONLINE &&
		    !s->ack_requested && !is_ended(s)) {
			s->ack_requested = true;
			send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
		}
	}
}

static char *next_id(XmppSession *s)
{
	return g_strdup_printf("pd%08x-%" G_GUINT64_FORMAT, s->id_prefix,
			       ++s->id_counter);
}

/*
 * Our stream header (RFC 6120 §4.7). 'from' only once TLS protects the
 * stream: before it, it would reveal the account to eavesdroppers
 * (§4.7.1).
 */
static void send_stream_header(XmppSession *s)
{
	g_autoptr(GString) header = g_string_new("<?xml version='1.0'?>");
	g_autofree char *to = g_markup_escape_text(s->domain, -1);

	g_string_append(header, "<stream:stream");
	if (s->tls_active) {
		g_autofree char *from = g_markup_escape_text(s->bare_jid, -1);

		g_string_append_printf(header, " from='%s'", from);
	}
	g_string_append_printf(header,
			       " to='%s' version='1.0' xmlns='" NS_CLIENT
			       "' xmlns:stream='" NS_STREAMS "' xml:lang='en'>",
			       to);
	s->header_seen = false;
	send_text(s, header->str);
}

static void send_stream_close(XmppSession *s)
{
	send_text(s, "</stream:stream>");
	if (s->tls_active && !is_ended(s)) {
		tls_session_close(s->tls);
		flush_tls(s);
	}
}

/* RFC 6120 §4.9: our own stream error, then the closing tag. */
static void send_stream_error(XmppSession *s, const char *condition)
{
	g_autofree char *text =
		g_strdup_printf("<stream:error><%s xmlns='" NS_STREAM_ERRORS
				"'/></stream:error>",
				condition);

	send_text(s, text);
	send_stream_close(s);
}

/* ---- time --------------------------------------------------------------- */

static void arm_negotiation_deadline(XmppSession *s, int64_t now)
{
	if (now > INT64_MAX - s->negotiation_timeout)
		s->deadline = INT64_MAX;
	else
		s->deadline = now + s->negotiation_timeout;
}

/* ---- construction ------------------------------------------------------- */

XmppSession *xmpp_session_new(const XmppSessionConfig *config,
			      ContactTable *contacts,
			      const XmppSessionCallbacks *callbacks,
			      void *user_data, GError **error)
{
	g_autoptr(XmppSession) s = NULL;
	g_autoptr(Jid) jid = NULL;
	g_autoptr(GError) local_error = NULL;

	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(contacts != NULL, NULL);
	g_return_val_if_fail(callbacks != NULL, NULL);

	if (!config->jid) {
		g_set_error_literal(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_AUTH_FAILED,
				    "jid: missing");
		return NULL;
	}
	jid = jid_parse(config->jid, &local_error);
	if (!jid) {
		g_set_error(error, XMPP_SESSION_ERROR,
			    XMPP_SESSION_END_AUTH_FAILED, "jid: %s",
			    local_error->message);
		return NULL;
	}
	if (!jid_get_local(jid) || !jid_is_bare(jid)) {
		g_set_error(error, XMPP_SESSION_ERROR,
			    XMPP_SESSION_END_AUTH_FAILED,
			    "jid: '%s' must be a bare JID with a localpart "
			    "(user@domain)",
			    config->jid);
		return NULL;
	}
	if (!config->password) {
		g_set_error_literal(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_AUTH_FAILED,
				    "password: missing");
		return NULL;
	}
	if (config->negotiation_timeout < 0) {
		g_set_error_literal(
			error, XMPP_SESSION_ERROR, XMPP_SESSION_END_NETWORK,
			"negotiation timeout: must not be negative");
		return NULL;
	}
	if (config->ca_file && *config->ca_file) {
		/* Load the trust anchors once now, so a bad ca_file is a
		 * config error and not a failed connection later. */
		g_autoptr(TlsSession) probe = tls_session_new(
			jid_get_domain(jid), config->ca_file, &local_error);

		if (!probe) {
			g_set_error(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_TLS_FAILED, "ca-file: %s",
				    local_error->message);
			return NULL;
		}
	}

	s = g_new0(XmppSession, 1);
	s->state = XMPP_SESSION_STATE_INIT;
	s->bare_jid = g_strdup(jid_get_bare(jid));
	s->localpart = g_strdup(jid_get_local(jid));
	s->domain = g_strdup(jid_get_domain(jid));
	s->password = g_strdup(config->password);
	if (config->resource && *config->resource)
		s->resource = g_strdup(config->resource);
	if (config->ca_file && *config->ca_file)
		s->ca_file = g_strdup(config->ca_file);
	s->direct_tls = config->direct_tls;
	s->negotiation_timeout = config->negotiation_timeout
					 ? config->negotiation_timeout
					 : DEFAULT_NEGOTIATION_TIMEOUT;
	s->keepalive_idle = config->keepalive_idle > 0 ? config->keepalive_idle
						       : DEFAULT_KEEPALIVE_IDLE;
	s->keepalive_timeout = config->keepalive_timeout > 0
				       ? config->keepalive_timeout
				       : DEFAULT_KEEPALIVE_TIMEOUT;
	s->resync_grace = config->resync_grace > 0 ? config->resync_grace
						   : DEFAULT_RESYNC_GRACE;
	s->settle_at = INT64_MAX;
	s->contacts = contacts;
	s->callbacks = *callbacks;
	s->user_data = user_data;
	s->reader = xml_reader_new(NULL);
	s->deadline = INT64_MAX;
	s->id_prefix = g_random_int();
	s->out = g_byte_array_new();
	s->plain = g_byte_array_new();
	return g_steal_pointer(&s);
}

void xmpp_session_free(XmppSession *s)
{
	if (!s)
		return;
	wipe_string(s->password);
	g_free(s->password);
	g_free(s->bare_jid);
	g_free(s->localpart);
	g_free(s->domain);
	g_free(s->resource);
	g_free(s->ca_file);
	g_free(s->stream_from);
	g_free(s->bind_id);
	g_free(s->session_id);
	g_free(s->roster_id);
	g_free(s->full_jid);
	g_free(s->nick);
	g_free(s->disco_id);
	g_free(s->publish_id);
	if (s->reader)
		xml_reader_free(s->reader);
	if (s->tls)
		tls_session_free(s->tls);
	if (s->sasl)
		sasl_client_free(s->sasl);
	stream_mgmt_free(s->sm);
	stream_mgmt_free(s->resume);
	if (s->out)
		g_byte_array_unref(s->out);
	if (s->plain) {
		/* Decrypted input may have held SASL exchanges. */
		if (s->plain->len)
			explicit_bzero(s->plain->data, s->plain->len);
		g_byte_array_unref(s->plain);
	}
	g_free(s);
}

/* ---- TLS ---------------------------------------------------------------- */

static void process_plaintext(XmppSession *s, const char *data, size_t len);

/* Decrypts whatever complete records are buffered and parses them. */
static void read_tls_records(XmppSession *s)
{
	g_autoptr(GError) error = NULL;
	bool ok;

	g_byte_array_set_size(s->plain, 0);
	ok = tls_session_read(s->tls, s->plain, &error);
	flush_tls(s);
	if (s->plain->len)
		process_plaintext(s, (const char *)s->plain->data,
				  s->plain->len);
	g_byte_array_set_size(s->plain, 0);
	if (ok || is_ended(s))
		return;
	if (g_error_matches(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_CLOSED)) {
		if (s->state == XMPP_SESSION_STATE_CLOSING)
			end_session(s, XMPP_SESSION_END_REQUESTED,
				    "session closed");
		else
			end_session(s, XMPP_SESSION_END_NETWORK,
				    "%s closed the TLS connection", s->domain);
		return;
	}
	/* tls-session messages name the domain already. */
	end_session(s, XMPP_SESSION_END_NETWORK, "%s", error->message);
}

/*
 * TLS is up (after <proceed/> or at once for direct TLS, XEP-0368): the
 * stream restarts from scratch (RFC 6120 §5.4.3.3), now with 'from'.
 */
static void on_tls_established(XmppSession *s)
{
	g_autofree char *desc = tls_session_describe(s->tls);

	g_debug("xmpp session: TLS established with %s (%s)", s->domain, desc);
	s->tls_active = true;
	xml_reader_reset(s->reader);
	set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	send_stream_header(s);
	/* Records that came with the last handshake flight. */
	if (!is_ended(s))
		read_tls_records(s);
}

static void drive_handshake(XmppSession *s)
{
	g_autoptr(GError) error = NULL;
	TlsSessionStatus status;

	status = tls_session_handshake(s->tls, &error);
	flush_tls(s);
	switch (status) {
	case TLS_SESSION_STATUS_AGAIN:
		return;
	case TLS_SESSION_STATUS_DONE:
		on_tls_established(s);
		return;
	case TLS_SESSION_STATUS_ERROR:
		if (error)
			end_session(s, XMPP_SESSION_END_TLS_FAILED, "%s",
				    error->message);
		else
			end_session(s, XMPP_SESSION_END_TLS_FAILED,
				    "TLS handshake with %s failed", s->domain);
		return;
	}
}

/* INIT or STARTTLS → TLS_HANDSHAKE: ClientHello out. */
static void begin_tls_handshake(XmppSession *s)
{
	g_autoptr(GError) error = NULL;

	s->tls = tls_session_new(s->domain, s->ca_file, &error);
	if (!s->tls) {
		end_session(s, XMPP_SESSION_END_TLS_FAILED, "%s",
			    error->message);
		return;
	}
	set_state(s, XMPP_SESSION_STATE_TLS_HANDSHAKE);
	drive_handshake(s);
}

/* ---- stream level ------------------------------------------------------- */

/*
 * The server's header (RFC 6120 §4.7): the streams namespace and version
 * 1.0 or later (§4.7.5); without version the server speaks pre-RFC XMPP.
 */
static void on_stream_open(XmppSession *s, const Stanza *header)
{
	const char *version = stanza_get_attr(header, "version");
	const char *from = stanza_get_attr(header, "from");
	const char *ns = stanza_get_ns(header);
	unsigned long major;
	char *end = NULL;

	if (s->callbacks.log_wire) {
		g_autoptr(GString) text = g_string_new("<stream:stream");
		const char *name, *value;

		for (size_t i = 0;
		     stanza_get_attr_nth(header, i, &name, &value); i++) {
			g_autofree char *v = g_markup_escape_text(value, -1);

			g_string_append_printf(text, " %s='%s'", name, v);
		}
		g_string_append_c(text, '>');
		log_wire(s, false, text->str);
	}

	if (g_strcmp0(stanza_get_name(header), "stream") != 0 ||
	    g_strcmp0(ns, NS_STREAMS) != 0) {
		send_stream_error(s, "invalid-namespace");
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s sent a stream header in the wrong namespace",
			    s->domain);
		return;
	}
	if (version) {
		major = strtoul(version, &end, 10);
		if (end == version || *end != '.')
			major = 0;
	} else {
		major = 0;
	}
	if (major < 1) {
		send_stream_error(s, "unsupported-version");
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s speaks XMPP version '%s'; 1.0 is required",
			    s->domain, version ? version : "0.9");
		return;
	}
	g_free(s->stream_from);
	s->stream_from = from ? clip_text(from, MAX_ITEM_STRING_BYTES) : NULL;
	s->header_seen = true;
}

/*
 * </stream:stream> from the server: answer with ours (RFC 6120 §4.4) and
 * end; the end we asked for if we were closing.
 */
static void on_stream_close(XmppSession *s)
{
	log_wire(s, false, "</stream:stream>");
	if (s->state == XMPP_SESSION_STATE_CLOSING) {
		end_session(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	}
	send_stream_close(s);
	end_session(s, XMPP_SESSION_END_NETWORK, "%s closed the stream",
		    s->domain);
}

/* <stream:error/> (RFC 6120 §4.9): the stream is over. */
static void on_stream_error(XmppSession *s, const Stanza *error)
{
	const char *condition = NULL;
	const char *text = NULL;
	const char *host = NULL;
	g_autofree char *clipped = NULL;
	g_autofree char *detail = NULL;

	for (Stanza *c = stanza_get_first_child(error); c;
	     c = stanza_get_next_sibling(c)) {
		if (g_strcmp0(stanza_get_ns(c), NS_STREAM_ERRORS) != 0)
			continue;
		if (strcmp(stanza_get_name(c), "text") == 0) {
			if (!text)
				text = stanza_get_text(c);
		} else if (!condition) {
			condition = stanza_get_name(c);
			/* §4.9.3.19: the new host is the element's text. */
			if (strcmp(condition, "see-other-host") == 0)
				host = stanza_get_text(c);
		}
	}
	if (!condition)
		condition = "undefined-condition";
	if (host && *host) {
		g_autofree char *h = clip_text(host, MAX_ITEM_STRING_BYTES);

		detail = g_strdup_printf(" (%s)", h);
	}
	if (text && *text)
		clipped = clip_text(text, MAX_ERROR_TEXT_BYTES);

	/* Answer with our closing tag; the server closes the TCP side. */
	s->answering_end = true;
	send_stream_close(s);
	s->answering_end = false;
	end_session(s,
		    strcmp(condition, "conflict") == 0
			    ? XMPP_SESSION_END_CONFLICT
			    : XMPP_SESSION_END_SERVER_ERROR,
		    "stream error from %s: %s%s%s%s", s->domain, condition,
		    detail ? detail : "", clipped ? ": " : "",
		    clipped ? clipped : "");
}

/* Bad XML from the server: our stream error, then the end (§4.9.3). */
static void on_reader_error(XmppSession *s, const GError *error)
{
	const char *condition = "not-well-formed";

	if (error && error->domain == XML_READER_ERROR)
		condition = xml_reader_error_condition(error->code);
	s->answering_end = true;
	send_stream_error(s, condition);
	s->answering_end = false;
	end_session(s, XMPP_SESSION_END_SERVER_ERROR,
		    "invalid XML from %s (%s): %s", s->domain, condition,
		    error ? error->message : "unknown error");
}

/* ---- features and STARTTLS ---------------------------------------------- */

/* STREAM_OPENING → STARTTLS. */
static void begin_starttls(XmppSession *s)
{
	g_autoptr(Stanza) starttls = stanza_new("starttls", NS_TLS);

	set_state(s, XMPP_SESSION_STATE_STARTTLS);
	send_stanza(s, starttls);
}

/*
 * <proceed/> (RFC 6120 §5.4.2.3): anything after it in the same read was
 * never protected by TLS and could be an attacker's injection (the
 * STARTTLS command injection of CVE-2011-0411 and kin), so the reader
 * state and every queued event are dropped before the handshake.
 */
static void on_proceed(XmppSession *s)
{
	xml_reader_reset(s->reader);
	begin_tls_handshake(s);
}

static void begin_auth(XmppSession *s, const Stanza *mechanisms);
static void begin_bind(XmppSession *s, const Stanza *features);

/* <stream:features/>: what the next step is depends on what is done. */
static void on_features(XmppSession *s, const Stanza *features)
{
	if (!s->tls_active) {
		/* RFC 6120 §5.3.1: TLS is mandatory for us, whatever the
		 * server thinks (its <required/> does not matter). */
		if (!stanza_get_child(features, "starttls", NS_TLS)) {
			send_stream_close(s);
			end_session(s, XMPP_SESSION_END_TLS_FAILED,
				    "server %s does not offer STARTTLS; "
				    "refusing to log in without TLS",
				    s->domain);
			return;
		}
		begin_starttls(s);
		return;
	}
	if (!s->authenticated) {
		begin_auth(s,
			   stanza_get_child(features, "mechanisms", NS_SASL));
		return;
	}
	begin_bind(s, features);
}

/* ---- SASL (RFC 6120 §6) ------------------------------------------------- */

/* Base64 of SASL payloads (§6.4.2): "=" means empty; anything outside the
 * alphabet is incorrect-encoding. */
static GBytes *decode_sasl_payload(const char *text)
{
	g_autofree char *clean = NULL;
	size_t n = 0, pad = 0;
	guchar *data;
	gsize len = 0;

	if (!*text || strcmp(text, "=") == 0)
		return g_bytes_new(NULL, 0);
	clean = g_malloc(strlen(text) + 1);
	for (const char *p = text; *p; p++) {
		char c = *p;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
		} else if (pad ||
			   !(g_ascii_isalnum(c) || c == '+' || c == '/')) {
			return NULL;
		}
		clean[n++] = c;
	}
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || pad > 2)
		return NULL;
	data = g_base64_decode(clean, &len);
	return g_bytes_new_take(data, len);
}

static void send_sasl_element(XmppSession *s, const char *name,
			      const char *mechanism, GBytes *payload)
{
	g_autoptr(Stanza) el = stanza_new(name, NS_SASL);
	g_autofree char *b64 = NULL;
	gsize len = 0;
	const guint8 *data = payload ? g_bytes_get_data(payload, &len) : NULL;

	if (mechanism)
		stanza_set_attr(el, "mechanism", mechanism);
	if (len) {
		b64 = g_base64_encode(data, len);
		stanza_set_text(el, b64);
		explicit_bzero(b64, strlen(b64));
	} else {
		stanza_set_text(el, "=");
	}
	send_stanza(s, el);
}

/* STREAM_OPENING (TLS up) → AUTHENTICATING: strongest mechanism, with
 * channel binding when TLS 1.3 gives us tls-exporter (RFC 9266). */
static void begin_auth(XmppSession *s, const Stanza *mechanisms)
{
	g_autoptr(GPtrArray) offered = g_ptr_array_new();
	g_autoptr(GBytes) cb = NULL;
	g_autoptr(GBytes) initial = NULL;
	g_autoptr(GError) error = NULL;
	SaslMechanism mech;

	if (mechanisms) {
		for (Stanza *c = stanza_get_first_child(mechanisms);
		     c && offered->len < MAX_MECHANISMS;
		     c = stanza_get_next_sibling(c)) {
			if (strcmp(stanza_get_name(c), "mechanism") == 0 &&
			    g_strcmp0(stanza_get_ns(c), NS_SASL) == 0)
				g_ptr_array_add(offered,
						(gpointer)stanza_get_text(c));
		}
	}
	cb = tls_session_get_channel_binding(s->tls);
	mech = sasl_choose_mechanism((const char *const *)offered->pdata,
				     offered->len, true, cb != NULL, &error);
	if (mech == SASL_MECHANISM_NONE) {
		send_stream_close(s);
		end_session(s, XMPP_SESSION_END_AUTH_FAILED,
			    "%s offers no SASL mechanism we accept: %s",
			    s->domain, error ? error->message : "none offered");
		return;
	}
	s->sasl = sasl_client_new(mech, s->localpart, s->password,
				  (mech == SASL_MECHANISM_SCRAM_SHA_1_PLUS ||
				   mech == SASL_MECHANISM_SCRAM_SHA_256_PLUS)
					  ? cb
					  : NULL,
				  cb != NULL, NULL);
	s->sasl_round = 0;
	s->sasl_verified = false;
	initial = sasl_client_initial_response(s->sasl);
	set_state(s, XMPP_SESSION_STATE_AUTHENTICATING);
	send_sasl_element(s, "auth", sasl_mechanism_to_string(mech), initial);
}

static void fail_auth(XmppSession *s, const char *format, ...)
	G_GNUC_PRINTF(2, 3);

static void fail_auth(XmppSession *s, const char *format, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	send_stream_close(s);
	end_session(s, XMPP_SESSION_END_AUTH_FAILED, "%s", msg);
}

static void on_sasl_challenge(XmppSession *s, const Stanza *challenge)
{
	g_autoptr(GBytes) data =
		decode_sasl_payload(stanza_get_text(challenge));
	g_autoptr(GBytes) response = NULL;
	g_autoptr(GError) error = NULL;
	const guint8 *bytes;
	gsize len;

	if (!data) {
		fail_auth(s,
			  "authentication with %s failed: malformed "
			  "base64 in challenge",
			  s->domain);
		return;
	}
	bytes = g_bytes_get_data(data, &len);
	if (s->sasl_round == 0) {
		response = sasl_client_step(s->sasl, bytes, len, &error);
		if (!response) {
			fail_auth(s, "authentication with %s failed: %s",
				  s->domain, error->message);
			return;
		}
		s->sasl_round++;
		send_sasl_element(s, "response", NULL, response);
		return;
	}
	/* Some servers send server-final as a last challenge (RFC 6120
	 * §6.3.10 allows either); verify it and answer empty. */
	if (s->sasl_verified ||
	    !sasl_client_verify_final(s->sasl, bytes, len, &error)) {
		fail_auth(s, "authentication with %s failed: %s", s->domain,
			  error ? error->message : "unexpected challenge");
		return;
	}
	s->sasl_verified = true;
	send_sasl_element(s, "response", NULL, NULL);
}

/*
 * <success/> says nothing until the server proved it knows the password
 * too (SCRAM server signature, RFC 5802 §9): a server that accepts
 * anything must not get our presence and roster.
 */
static void on_sasl_success(XmppSession *s, const Stanza *success)
{
	g_autoptr(GBytes) data = decode_sasl_payload(stanza_get_text(success));
	g_autoptr(GError) error = NULL;
	const guint8 *bytes;
	gsize len;

	if (!data) {
		fail_auth(s,
			  "authentication with %s failed: malformed "
			  "base64 in success",
			  s->domain);
		return;
	}
	bytes = g_bytes_get_data(data, &len);
	if (len || !s->sasl_verified) {
		if (s->sasl_verified ||
		    !sasl_client_verify_final(s->sasl, bytes, len, &error)) {
			fail_auth(s,
				  "authentication with %s failed: the server "
				  "could not prove it knows the password: %s",
				  s->domain,
				  error ? error->message
					: "unexpected success data");
			return;
		}
	}
	g_clear_pointer(&s->sasl, sasl_client_free);
	s->authenticated = true;
	/* Nothing needs the password any more: do not keep it in memory
	 * for the life of the session. */
	wipe_string(s->password);
	g_clear_pointer(&s->password, g_free);
	/* RFC 6120 §6.4.6: restart the stream; nothing of the old one
	 * counts any more. */
	xml_reader_reset(s->reader);
	set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	send_stream_header(s);
}

/* <failure/> (RFC 6120 §6.5): condition and text for the user. */
static void on_sasl_failure(XmppSession *s, const Stanza *failure)
{
	const char *condition = NULL;
	const char *text = NULL;
	g_autofree char *clipped = NULL;

	for (Stanza *c = stanza_get_first_child(failure); c;
	     c = stanza_get_next_sibling(c)) {
		if (g_strcmp0(stanza_get_ns(c), NS_SASL) != 0)
			continue;
		if (strcmp(stanza_get_name(c), "text") == 0)
			text = stanza_get_text(c);
		else if (!condition)
			condition = stanza_get_name(c);
	}
	if (text && *text)
		clipped = clip_text(text, MAX_ERROR_TEXT_BYTES);
	fail_auth(s, "authentication with %s failed: %s%s%s", s->domain,
		  condition ? condition : "not-authorized", clipped ? ": " : "",
		  clipped ? clipped : "");
}

/* ---- bind, session, roster --------------------------------------------- */

static Stanza *new_iq(XmppSession *s, const char *type, char **ret_id)
{
	Stanza *iq = stanza_new("iq", NS_CLIENT);
	g_autofree char *id = next_id(s);

	stanza_set_attr(iq, "type", type);
	stanza_set_attr(iq, "id", id);
	*ret_id = g_steal_pointer(&id);
	return iq;
}

static void send_bind(XmppSession *s);
static void begin_resume(XmppSession *s);

/*
 * STREAM_OPENING (authenticated) → RESUMING when there is a stream to
 * resume and the server offers stream management (XEP-0198 §5), else
 * BINDING (RFC 6120 §7).
 */
static void begin_bind(XmppSession *s, const Stanza *features)
{
	Stanza *session = stanza_get_child(features, "session", NS_SESSION);

	s->has_bind = stanza_get_child(features, "bind", NS_BIND) != NULL;
	s->sm_offered = stanza_get_child(features, "sm", NS_STREAM_MGMT);
	/* RFC 3921 §3 session establishment, needed only by old servers;
	 * RFC 6121 Appendix E: <optional/> means skip it. */
	s->need_session =
		session && !stanza_get_child(session, "optional", NULL);
	/* XEP-0352 §2: advertised after auth; a resumed stream needs it too. */
	s->csi = stanza_get_child(features, "csi", NS_CSI) != NULL;
	s->roster_versioning = stanza_get_child(features, "ver",
						NS_ROSTER_VER_FEATURE) != NULL;
	s->pre_approval = stanza_get_child(features, "sub",
					   NS_PRE_APPROVAL_FEATURE) != NULL;
	if (s->resume && s->sm_offered) {
		begin_resume(s);
		return;
	}
	if (s->resume) {
		g_debug("xmpp session: %s no longer offers stream "
			"management; starting a new session",
			s->domain);
		g_clear_pointer(&s->resume, stream_mgmt_free);
	}
	send_bind(s);
}

static void send_bind(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *bind;

	if (!s->has_bind) {
		send_stream_close(s);
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s offers no resource binding", s->domain);
		return;
	}
	g_free(s->bind_id);
	iq = new_iq(s, "set", &s->bind_id);
	bind = stanza_add_child_new(iq, "bind", NS_BIND);
	if (s->resource)
		stanza_add_child_text(bind, "resource", NULL, s->resource);
	set_state(s, XMPP_SESSION_STATE_BINDING);
	send_stanza(s, iq);
}

/* Who may answer an IQ we sent to our own server/account: no from, our
 * domain, our bare or full JID (RFC 6120 §8.1.2.1, RFC 6121 §2.1.4). */
static bool is_from_own_server(XmppSession *s, const char *from)
{
	g_autoptr(Jid) jid = NULL;

	if (!from)
		return true;
	jid = jid_parse(from, NULL);
	if (!jid)
		return false;
	if (!jid_get_local(jid))
		return jid_is_bare(jid) &&
		       strcmp(jid_get_domain(jid), s->domain) == 0;
	return strcmp(jid_get_bare(jid), s->bare_jid) == 0;
}

static void stanza_error_condition(const Stanza *iq, const char **ret_cond,
				   const char **ret_text)
{
	Stanza *error = stanza_get_child(iq, "error", NULL);

	*ret_cond = "undefined-condition";
	*ret_text = NULL;
	if (!error)
		return;
	for (Stanza *c = stanza_get_first_child(error); c;
	     c = stanza_get_next_sibling(c)) {
		if (g_strcmp0(stanza_get_ns(c), NS_STANZAS) != 0)
			continue;
		if (strcmp(stanza_get_name(c), "text") == 0)
			*ret_text = stanza_get_text(c);
		else
			*ret_cond = stanza_get_name(c);
	}
}

static void begin_roster(XmppSession *s);
static void begin_session(XmppSession *s);

static void on_bind_result(XmppSession *s, const Stanza *iq)
{
	const char *type = stanza_get_attr(iq, "type");
	Stanza *bind = stanza_get_child(iq, "bind", NS_BIND);
	Stanza *jid_el = bind ? stanza_get_child(bind, "jid", NS_BIND) : NULL;
	g_autoptr(Jid) jid = NULL;
	g_autoptr(GError) error = NULL;

	g_clear_pointer(&s->bind_id, g_free);
	if (g_strcmp0(type, "error") == 0) {
		const char *cond, *text;
		g_autofree char *clipped = NULL;

		stanza_error_condition(iq, &cond, &text);
		if (text && *text)
			clipped = clip_text(text, MAX_ERROR_TEXT_BYTES);
		send_stream_close(s);
		/* §7.6.2.2: conflict when the resource is taken and the
		 * server will not override it. */
		end_session(s,
			    strcmp(cond, "conflict") == 0
				    ? XMPP_SESSION_END_CONFLICT
				    : XMPP_SESSION_END_SERVER_ERROR,
			    "%s refused to bind resource '%s': %s%s%s",
			    s->domain, s->resource ? s->resource : "", cond,
			    clipped ? ": " : "", clipped ? clipped : "");
		return;
	}
	if (jid_el)
		jid = jid_parse(stanza_get_text(jid_el), &error);
	if (!jid || !jid_get_resource(jid) ||
	    strcmp(jid_get_bare(jid), s->bare_jid) != 0) {
		send_stream_close(s);
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s bound an invalid JID%s%s", s->domain,
			    error ? ": " : "", error ? error->message : "");
		return;
	}
	g_free(s->full_jid);
	s->full_jid = g_strdup(jid_get_full(jid));
	g_debug("xmpp session: bound %s", s->full_jid);
	if (s->need_session)
		begin_session(s);
	else
		begin_roster(s);
}

/* Legacy session establishment (RFC 3921 §3), still in BINDING. */
static void begin_session(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;

	g_free(s->session_id);
	iq = new_iq(s, "set", &s->session_id);
	stanza_add_child_new(iq, "session", NS_SESSION);
	send_stanza(s, iq);
}

static void on_session_result(XmppSession *s, const Stanza *iq)
{
	g_clear_pointer(&s->session_id, g_free);
	if (g_strcmp0(stanza_get_attr(iq, "type"), "error") == 0) {
		const char *cond, *text;

		stanza_error_condition(iq, &cond, &text);
		send_stream_close(s);
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s refused session establishment: %s", s->domain,
			    cond);
		return;
	}
	begin_roster(s);
}

/*
 * XEP-0198 §3: after binding, before anything else, so that the roster
 * request is already counted.
 */
static void enable_stream_mgmt(XmppSession *s)
{
	if (!s->sm_offered)
		return;
	if (!s->sm)
		s->sm = stream_mgmt_new();
	stream_mgmt_start(s->sm);
	stream_mgmt_set_jid(s->sm, s->full_jid);
	send_text(s, "<enable xmlns='" NS_STREAM_MGMT "' resume='true'/>");
	s->sm_active = true;
}

/* BINDING → ROSTER (RFC 6121 §2.1.3). */
static void begin_roster(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *query;
	const char *ver = roster_request_ver(
		s->roster_versioning, contacts_get_roster_ver(s->contacts));

	enable_stream_mgmt(s);
	/*
	 * A new session after a drop: the server will send every contact's
	 * presence again; what the table holds from before stays until then
	 * so that nothing flaps (contacts_mark_stale).
	 */
	s->resync = contacts_mark_stale(s->contacts) > 0;

	g_free(s->roster_id);
	iq = new_iq(s, "get", &s->roster_id);
	query = stanza_add_child_new(iq, "query", NS_ROSTER);
	/* §2.6.2: the version our table holds, "" the first time. */
	if (ver)
		stanza_set_attr(query, "ver", ver);
	set_state(s, XMPP_SESSION_STATE_ROSTER);
	send_stanza(s, iq);
}

static void report_change(XmppSession *s, const char *bare, bool changed)
{
	if (changed && s->callbacks.contact_changed)
		s->callbacks.contact_changed(s->user_data, bare);
}

static void report_item_change(XmppSession *s, const char *bare, bool changed)
{
	if (changed && s->callbacks.roster_item_changed)
		s->callbacks.roster_item_changed(s->user_data, bare);
}

static void go_online(XmppSession *s);

/*
 * The answer to our roster get (RFC 6121 §2.1.4, §2.6.3), applied by
 * roster.c: a full roster replaces the table's items, an empty result
 * keeps them (the changes follow as pushes), an error is not fatal
 * (presence works without a roster).
 */
static void on_roster_result(XmppSession *s, const Stanza *iq)
{
	g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	RosterResultKind kind;

	g_clear_pointer(&s->roster_id, g_free);
	kind = roster_apply_result_full(s->contacts, iq, changed, items);
	g_debug("xmpp session: roster %s (%zu items, version %s)",
		kind == ROSTER_RESULT_FULL	  ? "received"
		: kind == ROSTER_RESULT_UNCHANGED ? "unchanged"
						  : "refused",
		contacts_get_n_roster_items(s->contacts),
		contacts_get_roster_ver(s->contacts)
			? contacts_get_roster_ver(s->contacts)
			: "none");
	for (guint i = 0; i < items->len && !is_ended(s); i++)
		report_item_change(s, g_ptr_array_index(items, i), true);
	for (guint i = 0; i < changed->len && !is_ended(s); i++)
		report_change(s, g_ptr_array_index(changed, i), true);
	if (!is_ended(s))
		go_online(s);
}

static void begin_pep_discovery(XmppSession *s);

/* ROSTER → ONLINE: the owner sends the initial presence from online(). */
static void go_online(XmppSession *s)
{
	set_state(s, XMPP_SESSION_STATE_ONLINE);
	s->deadline = INT64_MAX;
	s->last_rx = s->now;
	s->probe_sent = 0;
	if (s->resync)
		s->settle_at = s->now > INT64_MAX - s->resync_grace
				       ? INT64_MAX
				       : s->now + s->resync_grace;
	if (s->callbacks.online)
		s->callbacks.online(s->user_data, s->full_jid);
	if (s->state == XMPP_SESSION_STATE_ONLINE)
		begin_pep_discovery(s);
}

/* ---- IQ ----------------------------------------------------------------- */

static void send_iq_reply(XmppSession *s, const Stanza *request, Stanza *reply)
{
	const char *from = stanza_get_attr(request, "from");

	stanza_set_attr(reply, "id", stanza_get_attr(request, "id"));
	if (from)
		stanza_set_attr(reply, "to", from);
	send_stanza(s, reply);
}

static void send_iq_result(XmppSession *s, const Stanza *request)
{
	g_autoptr(Stanza) reply = stanza_new("iq", NS_CLIENT);

	stanza_set_attr(reply, "type", "result");
	send_iq_reply(s, request, reply);
}

/* RFC 6120 §8.4: a get/set nobody here understands. */
static void send_service_unavailable(XmppSession *s, const Stanza *request)
{
	g_autoptr(Stanza) reply = stanza_new("iq", NS_CLIENT);
	Stanza *error;

	stanza_set_attr(reply, "type", "error");
	error = stanza_add_child_new(reply, "error", NULL);
	stanza_set_attr(error, "type", "cancel");
	stanza_add_child_new(error, "service-unavailable", NS_STANZAS);
	send_iq_reply(s, request, reply);
}

/*
 * Roster push (RFC 6121 §2.1.6): only from our account or our server, else
 * it is a spoofing attempt, ignored without an answer (an error would tell
 * the sender we are online). Valid pushes update the table and are
 * answered with a result; with versioning they are the deltas since the
 * version we sent (§2.6.3).
 */
static void on_roster_push(XmppSession *s, const Stanza *iq)
{
	g_auto(RosterItem) item = {0};
	g_autofree char *ver = NULL;
	g_autoptr(GError) error = NULL;
	bool changed, item_changed;

	if (!roster_parse_push(iq, s->bare_jid, &item, &ver, &error)) {
		g_autoptr(Stanza) reply = NULL;
		Stanza *err;

		g_debug("xmpp session: ignoring roster push: %s",
			error->message);
		if (error->code == ROSTER_ERROR_UNTRUSTED)
			return;
		reply = stanza_new("iq", NS_CLIENT);
		stanza_set_attr(reply, "type", "error");
		err = stanza_add_child_new(reply, "error", NULL);
		stanza_set_attr(err, "type", "modify");
		stanza_add_child_new(err, "bad-request", NS_STANZAS);
		send_iq_reply(s, iq, reply);
		return;
	}
	changed = roster_apply_item_full(s->contacts, &item, &item_changed);
	if (ver)
		contacts_set_roster_ver(s->contacts, ver);
	send_iq_result(s, iq);
	report_item_change(s, item.jid, item_changed);
	report_change(s, item.jid, changed);
	/* The contact is subscribed to us now (approved here or from
	 * another resource): its request is answered (§3.1.5). */
	if (!is_ended(s) && !item.remove &&
	    roster_subscription_has_from(item.subscription) &&
	    s->callbacks.subscription_request_gone)
		s->callbacks.subscription_request_gone(s->user_data, item.jid);
}

static void on_pep_response(XmppSession *s, const Stanza *iq, bool disco);

static void on_iq_response(XmppSession *s, const Stanza *iq, const char *id)
{
	if (!is_from_own_server(s, stanza_get_attr(iq, "from")))
		return;
	if (s->bind_id && strcmp(id, s->bind_id) == 0 &&
	    s->state == XMPP_SESSION_STATE_BINDING)
		on_bind_result(s, iq);
	else if (s->session_id && strcmp(id, s->session_id) == 0 &&
		 s->state == XMPP_SESSION_STATE_BINDING)
		on_session_result(s, iq);
	else if (s->roster_id && strcmp(id, s->roster_id) == 0 &&
		 s->state == XMPP_SESSION_STATE_ROSTER)
		on_roster_result(s, iq);
	else if (s->disco_id && strcmp(id, s->disco_id) == 0)
		on_pep_response(s, iq, true);
	else if (s->publish_id && strcmp(id, s->publish_id) == 0)
		on_pep_response(s, iq, false);
}

static void on_iq(XmppSession *s, const Stanza *iq)
{
	const char *type = stanza_get_attr(iq, "type");
	const char *id = stanza_get_attr(iq, "id");
	Stanza *payload;

	/* RFC 6120 §8.2.3: id and type are required; without an id there
	 * is nothing to answer to. */
	if (!type || !id)
		return;
	if (strcmp(type, "result") == 0 || strcmp(type, "error") == 0) {
		on_iq_response(s, iq, id);
		return;
	}
	if (strcmp(type, "get") != 0 && strcmp(type, "set") != 0)
		return;
	if (s->state == XMPP_SESSION_STATE_CLOSING)
		return;
	payload = stanza_get_first_child(iq);
	if (payload && strcmp(type, "get") == 0 &&
	    strcmp(stanza_get_name(payload), "ping") == 0 &&
	    g_strcmp0(stanza_get_ns(payload), NS_PING) == 0) {
		/* XEP-0199 §4. */
		send_iq_result(s, iq);
		return;
	}
	if (payload && strcmp(type, "set") == 0 &&
	    strcmp(stanza_get_name(payload), "query") == 0 &&
	    g_strcmp0(stanza_get_ns(payload), NS_ROSTER) == 0) {
		on_roster_push(s, iq);
		return;
	}
	send_service_unavailable(s, iq);
}

/* ---- nick over PEP (XEP-0163, XEP-0172) ------------------------------- */

/* XEP-0172 §4.2 over XEP-0163 §4: one item on the nick node, published
 * with the node's default access model (presence subscribers). An empty
 * <nick/> says the user has none any more. */
static void publish_nick(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *publish, *item, *nick;

	if (s->state != XMPP_SESSION_STATE_ONLINE || !s->pep)
		return;
	if (!s->nick && !s->nick_published)
		return; /* nothing set, nothing to take back */
	g_free(s->publish_id);
	iq = new_iq(s, "set", &s->publish_id);
	publish = stanza_add_child_new(
		stanza_add_child_new(iq, "pubsub", NS_PUBSUB), "publish", NULL);
	stanza_set_attr(publish, "node", NS_NICK);
	item = stanza_add_child_new(publish, "item", NULL);
	nick = stanza_add_child_new(item, "nick", NS_NICK);
	if (s->nick)
		stanza_set_text(nick, s->nick);
	s->nick_published = true;
	send_stanza(s, iq);
}

/* ONLINE: does our account have PEP (XEP-0163 §6)? */
static void begin_pep_discovery(XmppSession *s)
{
	g_autoptr(Stanza) iq = NULL;

	g_free(s->disco_id);
	iq = new_iq(s, "get", &s->disco_id);
	stanza_set_attr(iq, "to", s->bare_jid);
	stanza_add_child_new(iq, "query", NS_DISCO_INFO);
	send_stanza(s, iq);
}

static void on_pep_response(XmppSession *s, const Stanza *iq, bool disco)
{
	const char *type = stanza_get_attr(iq, "type");
	Stanza *query;

	if (disco)
		g_clear_pointer(&s->disco_id, g_free);
	else
		g_clear_pointer(&s->publish_id, g_free);
	if (g_strcmp0(type, "result") != 0) {
		const char *cond, *text;

		/* Not fatal: the nick still goes with subscription requests
		 * and directed presence. */
		stanza_error_condition(iq, &cond, &text);
		g_debug("xmpp session: %s failed: %s",
			disco ? "disco#info on our account" : "nick publish",
			cond);
		return;
	}
	if (!disco)
		return;
	query = stanza_get_child(iq, "query", NS_DISCO_INFO);
	for (Stanza *c = query ? stanza_get_first_child(query) : NULL; c;
	     c = stanza_get_next_sibling(c)) {
		if (strcmp(stanza_get_name(c), "identity") == 0 &&
		    g_strcmp0(stanza_get_ns(c), NS_DISCO_INFO) == 0 &&
		    g_strcmp0(stanza_get_attr(c, "category"), "pubsub") == 0 &&
		    g_strcmp0(stanza_get_attr(c, "type"), "pep") == 0)
			s->pep = true;
	}
	g_debug("xmpp session: PEP %s", s->pep ? "available" : "not offered");
	publish_nick(s);
}

/* ---- presence (RFC 6121 §4) --------------------------------------------- */

static void on_presence(XmppSession *s, const Stanza *stanza)
{
	g_auto(PresenceInfo) info = {0};
	g_autoptr(GError) error = NULL;
	bool changed;

	if (s->state != XMPP_SESSION_STATE_ROSTER &&
	    s->state != XMPP_SESSION_STATE_ONLINE)
		return;
	/* An invalid stanza must change nothing. */
	if (!presence_parse(stanza, &info, &error)) {
		g_debug("xmpp session: ignoring presence: %s", error->message);
		return;
	}
	if (!info.from_bare)
		return;
	switch (info.type) {
	case PRESENCE_TYPE_AVAILABLE:
		/* Our own broadcast comes back to us (§4.2.2); it is not a
		 * contact. */
		if (s->full_jid && g_strcmp0(info.from_full, s->full_jid) == 0)
			return;
		changed = contacts_update_resource(
			s->contacts, info.from_bare,
			info.from_resource ? info.from_resource : "", info.show,
			info.status, info.priority, s->now);
		report_change(s, info.from_bare, changed);
		return;
	case PRESENCE_TYPE_UNAVAILABLE:
		if (s->full_jid && g_strcmp0(info.from_full, s->full_jid) == 0)
			return;
		changed = contacts_remove_resource(s->contacts, info.from_bare,
						   info.from_resource,
						   info.status, s->now);
		report_change(s, info.from_bare, changed);
		return;
	case PRESENCE_TYPE_SUBSCRIBE:
		if (s->callbacks.subscription_request)
			s->callbacks.subscription_request(
				s->user_data, info.from_bare,
				info.status ? info.status : "");
		return;
	case PRESENCE_TYPE_UNSUBSCRIBE:
		/* §3.3: the contact cancels its subscription to us, or
		 * withdraws a request still pending. */
		if (s->callbacks.subscription_request_gone)
			s->callbacks.subscription_request_gone(s->user_data,
							       info.from_bare);
		return;
	case PRESENCE_TYPE_UNSUBSCRIBED:
		/*
		 * §3.2: the contact denies or revokes our subscription. The
		 * server pushes the roster change and should send unavailable
		 * for each resource; we do not count on the latter: presence
		 * we are no longer entitled to is dropped here.
		 */
		changed = contacts_remove_resource(s->contacts, info.from_bare,
						   NULL, NULL, s->now);
		report_change(s, info.from_bare, changed);
		return;
	case PRESENCE_TYPE_SUBSCRIBED:
	case PRESENCE_TYPE_PROBE:
		/* subscribed: the roster push that follows says it all
		 * (§3.1.6); probes are for servers only. */
		return;
	case PRESENCE_TYPE_ERROR:
		/* §4.7.2: an error about our presence is no state. */
		return;
	}
}

/* ---- dispatch ----------------------------------------------------------- */

static bool is_ns(const Stanza *stanza, const char *name, const char *ns)
{
	return strcmp(stanza_get_name(stanza), name) == 0 &&
	       g_strcmp0(stanza_get_ns(stanza), ns) == 0;
}

/* Top-level stanzas are in jabber:client (RFC 6120 §4.8.3); the reader may
 * leave the default namespace implicit. */
static bool is_client_ns(const Stanza *stanza)
{
	const char *ns = stanza_get_ns(stanza);

	return !ns || strcmp(ns, NS_CLIENT) == 0;
}

static void handle_negotiation_element(XmppSession *s, const Stanza *el)
{
	switch (s->state) {
	case XMPP_SESSION_STATE_STREAM_OPENING:
		if (is_ns(el, "features", NS_STREAMS))
			on_features(s, el);
		return;
	case XMPP_SESSION_STATE_STARTTLS:
		if (is_ns(el, "proceed", NS_TLS)) {
			on_proceed(s);
		} else if (is_ns(el, "failure", NS_TLS)) {
			/* §5.4.2.2: the server closes the stream. */
			send_stream_close(s);
			end_session(s, XMPP_SESSION_END_TLS_FAILED,
				    "server %s refused STARTTLS; refusing to "
				    "log in without TLS",
				    s->domain);
		}
		return;
	case XMPP_SESSION_STATE_AUTHENTICATING:
		if (is_ns(el, "challenge", NS_SASL))
			on_sasl_challenge(s, el);
		else if (is_ns(el, "success", NS_SASL))
			on_sasl_success(s, el);
		else if (is_ns(el, "failure", NS_SASL))
			on_sasl_failure(s, el);
		return;
	case XMPP_SESSION_STATE_INIT:
	case XMPP_SESSION_STATE_TLS_HANDSHAKE:
	case XMPP_SESSION_STATE_RESUMING:
	case XMPP_SESSION_STATE_BINDING:
	case XMPP_SESSION_STATE_ROSTER:
	case XMPP_SESSION_STATE_ONLINE:
	case XMPP_SESSION_STATE_CLOSING:
	case XMPP_SESSION_STATE_CLOSED:
		return;
	}
}

/* ---- stream management (XEP-0198) -------------------------------------- */

static void send_ack(XmppSession *s)
{
	g_autofree char *a = g_strdup_printf("<a xmlns='" NS_STREAM_MGMT
					     "' h='%" G_GUINT32_FORMAT "'/>",
					     stream_mgmt_get_inbound(s->sm));

	send_text(s, a);
}

/* An <a/> or <resumed/> h that is not a number, or acks stanzas never
 * sent: §4 says the stream is broken. */
static bool apply_ack(XmppSession *s, const Stanza *el)
{
	g_autoptr(GError) error = NULL;
	uint32_t h;

	if (!stream_mgmt_parse_h(stanza_get_attr(el, "h"), &h)) {
		send_stream_error(s, "undefined-condition");
		end_session(s, XMPP_SESSION_END_SERVER_ERROR,
			    "%s sent a stream management ack without a valid "
			    "count",
			    s->domain);
		return false;
	}
	if (!stream_mgmt_ack(s->sm, h, &error)) {
		send_stream_error(s, "undefined-condition");
		end_session(s, XMPP_SESSION_END_SERVER_ERROR, "%s: %s",
			    s->domain, error->message);
		return false;
	}
	return true;
}

/* AUTHENTICATED → RESUMING (XEP-0198 §5). */
static void begin_resume(XmppSession *s)
{
	g_autofree char *id =
		g_markup_escape_text(stream_mgmt_get_resume_id(s->resume), -1);
	g_autofree char *text =
		g_strdup_printf("<resume xmlns='" NS_STREAM_MGMT
				"' previd='%s' h='%" G_GUINT32_FORMAT "'/>",
				id, stream_mgmt_get_inbound(s->resume));

	set_state(s, XMPP_SESSION_STATE_RESUMING);
	send_text(s, text);
}

/*
 * <resumed/>: the server kept our session. What it did not handle goes
 * out again, in order; then we are online as before, table and all.
 */
static void on_resumed(XmppSession *s, const Stanza *el)
{
	const char *jid;
	size_t n;

	g_clear_pointer(&s->sm, stream_mgmt_free);
	s->sm = g_steal_pointer(&s->resume);
	s->sm_active = true;
	if (g_strcmp0(stanza_get_attr(el, "previd"),
		      stream_mgmt_get_resume_id(s->sm)) != 0)
		g_debug("xmpp session: <resumed/> names another stream id");
	if (!apply_ack(s, el))
		return;
	jid = stream_mgmt_get_jid(s->sm);
	g_free(s->full_jid);
	s->full_jid = g_strdup(jid);
	n = stream_mgmt_get_n_queued(s->sm);
	g_debug("xmpp session: resumed the stream with %s, sending %zu "
		"unacknowledged stanzas again",
		s->domain, n);
	for (size_t i = 0; i < n && !is_ended(s); i++) {
		size_t len = 0;
		const char *xml = stream_mgmt_get_queued(s->sm, i, &len);
		g_autofree char *copy = g_strndup(xml, len);

		log_wire(s, true, copy);
		send_raw(s, xml, len);
	}
	if (is_ended(s))
		return;
	set_state(s, XMPP_SESSION_STATE_ONLINE);
	s->deadline = INT64_MAX;
	s->last_rx = s->now;
	s->probe_sent = 0;
	s->ack_requested = false;
	if (n) {
		s->ack_requested = true;
		send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
	}
	if (s->callbacks.resumed)
		s->callbacks.resumed(s->user_data, s->full_jid);
	else if (s->callbacks.online)
		s->callbacks.online(s->user_data, s->full_jid);
}

static void on_stream_mgmt_element(XmppSession *s, const Stanza *el)
{
	const char *name = stanza_get_name(el);

	if (s->state == XMPP_SESSION_STATE_RESUMING) {
		if (strcmp(name, "resumed") == 0) {
			on_resumed(s, el);
		} else if (strcmp(name, "failed") == 0) {
			/* §5: the session is gone; start a new one. */
			g_debug("xmpp session: %s could not resume the stream; "
				"starting a new session",
				s->domain);
			g_clear_pointer(&s->resume, stream_mgmt_free);
			send_bind(s);
		}
		return;
	}
	if (!s->sm_active || s->state < XMPP_SESSION_STATE_BINDING ||
	    s->state == XMPP_SESSION_STATE_CLOSED)
		return;
	if (strcmp(name, "enabled") == 0) {
		const char *resume = stanza_get_attr(el, "resume");
		uint32_t max = 0;

		if (!stream_mgmt_parse_h(stanza_get_attr(el, "max"), &max))
			max = 0;
		stream_mgmt_set_enabled(s->sm, stanza_get_attr(el, "id"),
					g_strcmp0(resume, "true") == 0 ||
						g_strcmp0(resume, "1") == 0,
					max);
	} else if (strcmp(name, "failed") == 0) {
		/* Enabling failed (§3): go on without. */
		g_debug("xmpp session: %s refused stream management",
			s->domain);
		s->sm_active = false;
		g_clear_pointer(&s->sm, stream_mgmt_free);
	} else if (strcmp(name, "r") == 0) {
		send_ack(s);
	} else if (strcmp(name, "a") == 0) {
		s->ack_requested = false;
		(void)apply_ack(s, el);
	}
}

static void handle_element(XmppSession *s, const Stanza *el)
{
	if (s->callbacks.log_wire) {
		g_autofree char *text = redact_log_stanza(el);

		log_wire(s, false, text);
	}
	if (!s->header_seen)
		return;
	if (is_ns(el, "error", NS_STREAMS)) {
		on_stream_error(s, el);
		return;
	}
	if (g_strcmp0(stanza_get_ns(el), NS_STREAM_MGMT) == 0) {
		on_stream_mgmt_element(s, el);
		return;
	}
	if (is_client_ns(el)) {
		const char *name = stanza_get_name(el);
		/* The stanza that led to <enable/> (the bind result) is not
		 * counted (XEP-0198 §4: from <enable/> on). */
		bool counting = s->sm_active;

		if (s->state < XMPP_SESSION_STATE_BINDING)
			return;
		if (strcmp(name, "presence") == 0)
			on_presence(s, el);
		else if (strcmp(name, "iq") == 0)
			on_iq(s, el);
		/* <message/>: not ours to handle (presence only). */
		if (counting && s->sm_active && is_counted_stanza(el))
			stream_mgmt_count_inbound(s->sm);
		return;
	}
	handle_negotiation_element(s, el);
}

/*
 * Handles queued reader events one by one. A handler may reset the reader
 * (STARTTLS, SASL success) or end the session; either makes the rest of
 * the read stale, and false tells the caller to drop it.
 */
static bool drain_reader(XmppSession *s)
{
	while (!is_ended(s)) {
		g_autoptr(Stanza) stanza = NULL;
		g_autoptr(GError) error = NULL;
		XmppSessionState before = s->state;
		bool authenticated = s->authenticated;
		XmlReaderEvent event;

		event = xml_reader_next(s->reader, &stanza, &error);
		switch (event) {
		case XML_READER_EVENT_NONE:
			return true;
		case XML_READER_EVENT_STREAM_OPEN:
			on_stream_open(s, stanza);
			break;
		case XML_READER_EVENT_STANZA:
			handle_element(s, stanza);
			break;
		case XML_READER_EVENT_STREAM_CLOSE:
			on_stream_close(s);
			break;
		case XML_READER_EVENT_ERROR:
			on_reader_error(s, error);
			return false;
		}
		/* A new stream or TLS began: what was queued is stale. */
		if (s->state == XMPP_SESSION_STATE_TLS_HANDSHAKE &&
		    before != XMPP_SESSION_STATE_TLS_HANDSHAKE)
			return false;
		if (s->authenticated != authenticated)
			return false;
	}
	return false;
}

/*
 * Parses plaintext in slices, handling events after each: a flood of
 * small stanzas then never sits in memory as one queue, and whatever
 * follows a stream reset in the same read is dropped unparsed.
 */
#define FEED_SLICE 16384u

static void process_plaintext(XmppSession *s, const char *data, size_t len)
{
	for (size_t off = 0; off < len && !is_ended(s);) {
		size_t n = MIN(FEED_SLICE, len - off);

		xml_reader_feed(s->reader, data + off, n);
		off += n;
		if (!drain_reader(s))
			return;
	}
}

/* ---- public API --------------------------------------------------------- */

void xmpp_session_start(XmppSession *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	if (s->state != XMPP_SESSION_STATE_INIT)
		return;
	s->now = now;
	arm_negotiation_deadline(s, now);
	if (s->direct_tls) {
		/* XEP-0368: TLS from the first byte, no STARTTLS. */
		begin_tls_handshake(s);
		return;
	}
	set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	send_stream_header(s);
}

void xmpp_session_feed(XmppSession *s, const char *data, size_t len,
		       int64_t now)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(data != NULL || len == 0);

	if (is_ended(s) || s->state == XMPP_SESSION_STATE_INIT || len == 0)
		return;
	s->now = now;
	/* Any byte shows the link is alive (keepalive). */
	s->last_rx = now;
	s->probe_sent = 0;
	if (s->state == XMPP_SESSION_STATE_TLS_HANDSHAKE) {
		tls_session_feed(s->tls, data, len);
		drive_handshake(s);
		return;
	}
	if (s->tls_active) {
		tls_session_feed(s->tls, data, len);
		read_tls_records(s);
		return;
	}
	process_plaintext(s, data, len);
}

void xmpp_session_eof(XmppSession *s, const GError *error)
{
	g_return_if_fail(s != NULL);

	if (is_ended(s))
		return;
	if (s->state == XMPP_SESSION_STATE_CLOSING) {
		end_session(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	}
	if (error)
		end_session(s, XMPP_SESSION_END_NETWORK,
			    "connection to %s lost: %s", s->domain,
			    error->message);
	else
		end_session(s, XMPP_SESSION_END_NETWORK,
			    "connection to %s closed by the server", s->domain);
}

void xmpp_session_take_output(XmppSession *s, GByteArray *out)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(out != NULL);

	if (!s->out->len)
		return;
	g_byte_array_append(out, s->out->data, s->out->len);
	g_byte_array_set_size(s->out, 0);
}

bool xmpp_session_has_output(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return s->out->len > 0;
}

static int64_t add_clamped(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* ONLINE: the keepalive is the only timer, plus the end of a resync. */
static int64_t online_deadline(const XmppSession *s)
{
	int64_t d = s->probe_sent
			    ? add_clamped(s->probe_sent, s->keepalive_timeout)
			    : add_clamped(s->last_rx, s->keepalive_idle);

	return MIN(d, s->settle_at);
}

int64_t xmpp_session_get_deadline(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, INT64_MAX);

	if (s->state == XMPP_SESSION_STATE_ONLINE)
		return online_deadline(s);
	return s->deadline;
}

/* The resync grace is over: what the server did not send again is gone. */
static void settle_resync(XmppSession *s)
{
	g_autoptr(GPtrArray) changed = contacts_drop_stale(s->contacts);

	s->settle_at = INT64_MAX;
	s->resync = false;
	for (size_t i = 0; i < changed->len && !is_ended(s); i++)
		report_change(s, g_ptr_array_index(changed, i), true);
}

/*
 * XEP-0199 §4.2 client-to-server ping, or with stream management an <r/>
 * (XEP-0198 §4), which any server that offers it must answer.
 */
static void send_keepalive(XmppSession *s)
{
	s->probe_sent = s->now > 0 ? s->now : 1;
	if (s->sm_active) {
		send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
	} else {
		g_autofree char *id = NULL;
		g_autoptr(Stanza) iq = new_iq(s, "get", &id);

		stanza_set_attr(iq, "to", s->domain);
		stanza_add_child_new(iq, "ping", NS_PING);
		send_stanza(s, iq);
	}
}

static void tick_online(XmppSession *s, int64_t now)
{
	if (now >= s->settle_at)
		settle_resync(s);
	if (is_ended(s))
		return;
	if (s->probe_sent) {
		if (now >= add_clamped(s->probe_sent, s->keepalive_timeout))
			end_session(s, XMPP_SESSION_END_NETWORK,
				    "no answer from %s for %" G_GINT64_FORMAT
				    " s; the connection is dead",
				    s->domain,
				    (now - s->last_rx) / G_USEC_PER_SEC);
		return;
	}
	if (now >= add_clamped(s->last_rx, s->keepalive_idle))
		send_keepalive(s);
}

void xmpp_session_tick(XmppSession *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	if (is_ended(s))
		return;
	s->now = now;
	if (s->state == XMPP_SESSION_STATE_ONLINE) {
		tick_online(s, now);
		return;
	}
	if (now < s->deadline)
		return;
	s->deadline = INT64_MAX;
	if (s->state != XMPP_SESSION_STATE_TLS_HANDSHAKE)
		send_stream_close(s);
	end_session(s, XMPP_SESSION_END_NETWORK,
		    "timed out negotiating the session with %s (%s)", s->domain,
		    xmpp_session_state_to_string(s->state));
}

XmppSessionState xmpp_session_get_state(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, XMPP_SESSION_STATE_CLOSED);

	return s->state;
}

const char *xmpp_session_get_full_jid(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return s->state == XMPP_SESSION_STATE_ONLINE ? s->full_jid : NULL;
}

const char *xmpp_session_get_roster_ver(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return contacts_get_roster_ver(s->contacts);
}

bool xmpp_session_send_presence(XmppSession *s, const PresenceSpec *spec)
{
	g_autoptr(Stanza) presence = NULL;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(spec != NULL, false);

	if (s->state != XMPP_SESSION_STATE_ONLINE)
		return false;
	presence = presence_build(spec);
	if (!presence)
		return false;
	send_stanza(s, presence);
	return !is_ended(s);
}

bool xmpp_session_has_csi(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return s->csi;
}

bool xmpp_session_send_csi(XmppSession *s, bool active)
{
	g_autoptr(Stanza) csi = NULL;

	g_return_val_if_fail(s != NULL, false);

	if (s->state != XMPP_SESSION_STATE_ONLINE || !s->csi)
		return false;
	/* XEP-0352 §3: a top-level element, not a stanza. */
	csi = stanza_new(active ? "active" : "inactive", NS_CSI);
	send_stanza(s, csi);
	return !is_ended(s);
}

bool xmpp_session_send_subscription(XmppSession *s, PresenceType type,
				    const char *to, const char *nick,
				    const char *message)
{
	g_autoptr(Stanza) presence = NULL;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(to != NULL, false);

	if (s->state != XMPP_SESSION_STATE_ONLINE)
		return false;
	presence = presence_build_subscription(type, to, nick, message);
	if (!presence)
		return false;
	send_stanza(s, presence);
	return !is_ended(s);
}

StreamMgmt *xmpp_session_steal_resume_state(XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	/* Dropped again while resuming: the old stream is still the one. */
	if (s->resume)
		return g_steal_pointer(&s->resume);
	if (!s->sm || !s->sm_active || !stream_mgmt_can_resume(s->sm))
		return NULL;
	return g_steal_pointer(&s->sm);
}

void xmpp_session_set_resume_state(XmppSession *s, StreamMgmt *sm)
{
	g_return_if_fail(s != NULL);

	stream_mgmt_free(s->resume);
	s->resume = sm;
}

bool xmpp_session_remove_roster_item(XmppSession *s, const char *bare_jid)
{
	g_autoptr(Stanza) iq = NULL;
	g_autofree char *id = NULL;
	Stanza *item;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(bare_jid != NULL, false);

	if (s->state != XMPP_SESSION_STATE_ONLINE)
		return false;
	/* RFC 6121 §2.5.2: the server answers, pushes the removal and
	 * cancels both subscriptions; the push updates the table. */
	iq = new_iq(s, "set", &id);
	item = stanza_add_child_new(
		stanza_add_child_new(iq, "query", NS_ROSTER), "item", NULL);
	stanza_set_attr(item, "jid", bare_jid);
	stanza_set_attr(item, "subscription", "remove");
	send_stanza(s, iq);
	return !is_ended(s);
}

bool xmpp_session_has_pre_approval(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, false);

	return s->pre_approval;
}

void xmpp_session_set_nick(XmppSession *s, const char *nick)
{
	g_return_if_fail(s != NULL);

	if (nick && !*nick)
		nick = NULL;
	if (g_strcmp0(s->nick, nick) == 0)
		return;
	g_free(s->nick);
	s->nick = g_strdup(nick);
	publish_nick(s);
}

void xmpp_session_close(XmppSession *s)
{
	xmpp_session_close_with_status(s, NULL);
}

void xmpp_session_close_with_status(XmppSession *s, const char *status)
{
	g_return_if_fail(s != NULL);

	switch (s->state) {
	case XMPP_SESSION_STATE_ONLINE: {
		/* RFC 6121 §4.5.1: unavailable before closing the stream. */
		g_autoptr(Stanza) presence = presence_build(&(PresenceSpec){
			.show = PRESENCE_SHOW_OFFLINE, .status = status});

		send_stanza(s, presence);
		send_stream_close(s);
		if (!is_ended(s))
			set_state(s, XMPP_SESSION_STATE_CLOSING);
		return;
	}
	case XMPP_SESSION_STATE_STREAM_OPENING:
	case XMPP_SESSION_STATE_STARTTLS:
	case XMPP_SESSION_STATE_AUTHENTICATING:
	case XMPP_SESSION_STATE_RESUMING:
	case XMPP_SESSION_STATE_BINDING:
	case XMPP_SESSION_STATE_ROSTER:
		/* Nothing to wait for before online: close and be done. */
		send_stream_close(s);
		end_session(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	case XMPP_SESSION_STATE_INIT:
	case XMPP_SESSION_STATE_TLS_HANDSHAKE:
		end_session(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	case XMPP_SESSION_STATE_CLOSING:
	case XMPP_SESSION_STATE_CLOSED:
		return;
	}
}
