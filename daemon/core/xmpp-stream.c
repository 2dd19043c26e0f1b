/* SPDX-License-Identifier: MIT */
/*
 * The XMPP link as an explicit state machine (RFC 6120): see
 * xmpp-stream.h. This file owns the frame — construction, output, TLS,
 * the stream header, close and errors, features and STARTTLS, the
 * dispatcher and the public API; SASL, bind with the pending-IQ table,
 * and XEP-0198 with the keepalive each have their own file.
 *
 * Data path: bytes in → TLS decrypt (once TLS is up) → XmlReader → one
 * event at a time → the handler for the current state. Output: plaintext
 * → TLS encrypt (once TLS is up) → one output buffer the caller drains.
 * Everything the server sends is untrusted: every handler checks what it
 * reads and ends the stream with a reason rather than asserting.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/redact.h"
#include "core/text.h"
#include "core/xmpp-stream-private.h"

G_DEFINE_QUARK(xmpp - session - error - quark, xmpp_session_error)

#define DEFAULT_NEGOTIATION_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
#define DEFAULT_KEEPALIVE_IDLE ((int64_t)90 * G_USEC_PER_SEC)
#define DEFAULT_KEEPALIVE_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
/* How long the server has to answer our closing tag (RFC 6120 §4.4). */
#define DEFAULT_CLOSE_TIMEOUT ((int64_t)5 * G_USEC_PER_SEC)

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

void stream_set_state(XmppStream *s, XmppSessionState state)
{
	g_debug("xmpp stream: %s -> %s", xmpp_session_state_to_string(s->state),
		xmpp_session_state_to_string(state));
	s->state = state;
}

/* Server text shortened at a character boundary for messages. */
char *stream_clip_text(const char *text, size_t max)
{
	size_t len = text_bounded_len(text, max);

	if (len == strlen(text))
		return g_strdup(text);
	return g_strdup_printf("%.*s…", (int)len, text);
}

void stream_wipe_string(char *str)
{
	if (str)
		explicit_bzero(str, strlen(str));
}

/* ---- ending ------------------------------------------------------------- */

/*
 * The one way into CLOSED: the reason goes to the owner once. Output
 * queued before (stream error, </stream:stream>, close_notify) stays for
 * the caller to flush; IQs still waiting are forgotten.
 */
void stream_end(XmppStream *s, XmppSessionEnd reason, const char *format, ...)
{
	g_autoptr(GError) error = NULL;
	va_list ap;

	if (stream_ended(s))
		return;
	va_start(ap, format);
	error = g_error_new_valist(XMPP_SESSION_ERROR, (int)reason, format, ap);
	va_end(ap);
	g_debug("xmpp stream ended (%s): %s",
		xmpp_session_end_to_string(reason), error->message);
	stream_set_state(s, XMPP_SESSION_STATE_CLOSED);
	s->deadline = INT64_MAX;
	g_clear_pointer(&s->sasl, sasl_client_free);
	g_clear_pointer(&s->full_jid, g_free);
	g_hash_table_remove_all(s->pending);
	if (s->callbacks.closed)
		s->callbacks.closed(s->user_data, reason, error);
}

/* ---- construction ------------------------------------------------------- */

static bool check_config(const XmppSessionConfig *config, Jid **ret_jid,
			 GError **error)
{
	g_autoptr(Jid) jid = NULL;
	g_autoptr(GError) local_error = NULL;

	if (!config->jid) {
		g_set_error_literal(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_AUTH_FAILED,
				    "jid: missing");
		return false;
	}
	jid = jid_parse(config->jid, &local_error);
	if (!jid) {
		g_set_error(error, XMPP_SESSION_ERROR,
			    XMPP_SESSION_END_AUTH_FAILED, "jid: %s",
			    local_error->message);
		return false;
	}
	if (!jid_get_local(jid) || !jid_is_bare(jid)) {
		g_set_error(error, XMPP_SESSION_ERROR,
			    XMPP_SESSION_END_AUTH_FAILED,
			    "jid: '%s' must be a bare JID with a localpart "
			    "(user@domain)",
			    config->jid);
		return false;
	}
	if (!config->password) {
		g_set_error_literal(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_AUTH_FAILED,
				    "password: missing");
		return false;
	}
	if (config->negotiation_timeout < 0) {
		g_set_error_literal(
			error, XMPP_SESSION_ERROR, XMPP_SESSION_END_NETWORK,
			"negotiation timeout: must not be negative");
		return false;
	}
	if (config->ca_file && *config->ca_file) {
		/* Load the trust anchors once now, so a bad ca_file is a
		 * config error and not a failed connection later. */
		if (!tls_session_load_trust(config->ca_file, &local_error)) {
			g_set_error(error, XMPP_SESSION_ERROR,
				    XMPP_SESSION_END_TLS_FAILED, "ca-file: %s",
				    local_error->message);
			return false;
		}
	}
	*ret_jid = g_steal_pointer(&jid);
	return true;
}

XmppStream *xmpp_stream_new(const XmppSessionConfig *config,
			    const XmppStreamCallbacks *callbacks,
			    void *user_data, GError **error)
{
	g_autoptr(Jid) jid = NULL;
	XmppStream *s;

	g_return_val_if_fail(config != NULL, NULL);
	g_return_val_if_fail(callbacks != NULL, NULL);

	if (!check_config(config, &jid, error))
		return NULL;
	s = g_new0(XmppStream, 1);
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
	s->scram_worked_before = config->scram_worked_before;
	s->legacy_sasl_only = config->legacy_sasl_only;
	if (config->user_agent_id && *config->user_agent_id)
		s->user_agent_id = g_strdup(config->user_agent_id);
	if (config->device && *config->device)
		s->device = g_strdup(config->device);
	s->fast_mech = fast_mechanism_from_string(config->fast_mechanism);
	if (config->fast_token && *config->fast_token && s->fast_mech)
		s->fast_token = g_strdup(config->fast_token);
	else
		s->fast_mech = FAST_MECHANISM_NONE;
	s->csi_inactive = config->csi_inactive;
	s->negotiation_timeout = config->negotiation_timeout
					 ? config->negotiation_timeout
					 : DEFAULT_NEGOTIATION_TIMEOUT;
	s->keepalive_idle = config->keepalive_idle > 0 ? config->keepalive_idle
						       : DEFAULT_KEEPALIVE_IDLE;
	s->close_timeout = config->close_timeout > 0 ? config->close_timeout
						     : DEFAULT_CLOSE_TIMEOUT;
	s->keepalive_timeout = config->keepalive_timeout > 0
				       ? config->keepalive_timeout
				       : DEFAULT_KEEPALIVE_TIMEOUT;
	s->callbacks = *callbacks;
	s->user_data = user_data;
	s->reader = xml_reader_new(NULL);
	xml_reader_set_presence_path(s->reader,
				     callbacks->presence != NULL &&
					     callbacks->log_wire == NULL);
	s->deadline = INT64_MAX;
	s->id_prefix = g_random_int();
	stream_pending_init(s);
	s->out = g_byte_array_new();
	s->plain = g_byte_array_new();
	return s;
}

void xmpp_stream_free(XmppStream *s)
{
	if (!s)
		return;
	stream_wipe_string(s->password);
	g_free(s->password);
	g_free(s->bare_jid);
	g_free(s->localpart);
	g_free(s->domain);
	g_free(s->resource);
	g_free(s->ca_file);
	g_free(s->stream_from);
	g_free(s->full_jid);
	stream_sasl2_clear(s);
	g_clear_pointer(&s->pending, g_hash_table_unref);
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

static void arm_negotiation_deadline(XmppStream *s, int64_t now)
{
	if (now > INT64_MAX - s->negotiation_timeout)
		s->deadline = INT64_MAX;
	else
		s->deadline = now + s->negotiation_timeout;
}

/* ---- output ------------------------------------------------------------- */

/*
 * The one place that tells the owner output is waiting: called after every
 * append to s->out with its length before, so output_ready fires exactly
 * when the buffer goes from empty to non-empty.
 */
static void note_output(XmppStream *s, size_t before)
{
	if (before == 0 && s->out->len > 0 && s->callbacks.output_ready)
		s->callbacks.output_ready(s->user_data);
}

static void flush_tls(XmppStream *s)
{
	size_t before = s->out->len;

	if (!s->tls)
		return;
	tls_session_take_output(s->tls, s->out);
	note_output(s, before);
}

void stream_send_raw(XmppStream *s, const char *data, size_t len)
{
	g_autoptr(GError) error = NULL;

	/* RFC 6120 §4.4: nothing after our closing tag. */
	if (stream_ended(s) || s->close_sent)
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
			stream_end(s, XMPP_SESSION_END_NETWORK, "%s",
				   error->message);
		return;
	}
	flush_tls(s);
}

void stream_log_wire(XmppStream *s, bool sent, const char *text)
{
	if (s->callbacks.log_wire)
		s->callbacks.log_wire(s->user_data, sent, text);
}

/* Non-stanza text (stream headers, closing tag) is logged as it is. */
void stream_send_text(XmppStream *s, const char *text)
{
	if (stream_ended(s) || s->close_sent)
		return;
	stream_log_wire(s, true, text);
	stream_send_raw(s, text, strlen(text));
}

/* XEP-0198 §4 counts stanzas only (RFC 6120 §8), in jabber:client. */
bool stream_is_counted_stanza(const Stanza *stanza)
{
	const char *name = stanza_get_name(stanza);
	const char *ns = stanza_get_ns(stanza);

	if (ns && strcmp(ns, NS_CLIENT) != 0)
		return false;
	return strcmp(name, "iq") == 0 || strcmp(name, "presence") == 0 ||
	       strcmp(name, "message") == 0;
}

void xmpp_stream_send(XmppStream *s, const Stanza *stanza)
{
	g_autoptr(GString) buf = NULL;

	g_return_if_fail(s != NULL);
	g_return_if_fail(stanza != NULL);

	if (stream_ended(s))
		return;
	/* Serialize the redacted copy only when someone reads the log. */
	if (s->callbacks.log_wire) {
		g_autofree char *text = redact_log_stanza(stanza);

		stream_log_wire(s, true, text);
	}
	buf = g_string_sized_new(256);
	stanza_serialize(stanza, NS_CLIENT, buf);
	stream_send_raw(s, buf->str, buf->len);
	stream_after_send(s, stanza, buf);
}

/* SASL data: like xmpp_stream_send, then no copy of it is left in our
 * memory (the stanza's text, the serialized buffer). */
void stream_send_secret(XmppStream *s, Stanza *el)
{
	g_autoptr(GString) buf = g_string_sized_new(256);

	if (stream_ended(s))
		return;
	if (s->callbacks.log_wire) {
		g_autofree char *text = redact_log_stanza(el);

		stream_log_wire(s, true, text);
	}
	stanza_serialize(el, NS_CLIENT, buf);
	stream_send_raw(s, buf->str, buf->len);
	explicit_bzero(buf->str, buf->allocated_len);
	stanza_wipe_text(el);
}

char *stream_next_id(XmppStream *s)
{
	return g_strdup_printf("pd%08x-%" G_GUINT64_FORMAT, s->id_prefix,
			       ++s->id_counter);
}

/*
 * Our stream header (RFC 6120 §4.7). 'from' only once TLS protects the
 * stream: before it, it would reveal the account to eavesdroppers
 * (§4.7.1).
 */
void stream_send_header(XmppStream *s)
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
	stream_send_text(s, header->str);
}

void stream_send_close(XmppStream *s)
{
	if (s->close_sent)
		return;
	stream_send_text(s, "</stream:stream>");
	s->close_sent = true;
	if (s->tls_active && !stream_ended(s)) {
		tls_session_close(s->tls);
		flush_tls(s);
	}
}

/* RFC 6120 §4.9: our own stream error, then the closing tag. */
void stream_send_error(XmppStream *s, const char *condition)
{
	g_autofree char *text =
		g_strdup_printf("<stream:error><%s xmlns='" NS_STREAM_ERRORS
				"'/></stream:error>",
				condition);

	stream_send_text(s, text);
	stream_send_close(s);
}

/* ---- TLS ---------------------------------------------------------------- */

static void process_plaintext(XmppStream *s, const char *data, size_t len);

/* Decrypts whatever complete records are buffered and parses them. */
static void read_tls_records(XmppStream *s)
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
	if (ok || stream_ended(s))
		return;
	if (g_error_matches(error, TLS_SESSION_ERROR,
			    TLS_SESSION_ERROR_CLOSED)) {
		if (s->state == XMPP_SESSION_STATE_CLOSING)
			stream_end(s, XMPP_SESSION_END_REQUESTED,
				   "session closed");
		else
			stream_end(s, XMPP_SESSION_END_NETWORK,
				   "%s closed the TLS connection", s->domain);
		return;
	}
	/* tls-session messages name the domain already. */
	stream_end(s, XMPP_SESSION_END_NETWORK, "%s", error->message);
}

/*
 * TLS is up (after <proceed/> or at once for direct TLS, XEP-0368): the
 * stream restarts from scratch (RFC 6120 §5.4.3.3), now with 'from'.
 */
static void on_tls_established(XmppStream *s)
{
	g_autofree char *desc = tls_session_describe(s->tls);

	g_debug("xmpp stream: TLS established with %s (%s)", s->domain, desc);
	s->tls_active = true;
	xml_reader_reset(s->reader);
	stream_set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	stream_send_header(s);
	/* Records that came with the last handshake flight. */
	if (!stream_ended(s))
		read_tls_records(s);
}

static void drive_handshake(XmppStream *s)
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
			stream_end(s, XMPP_SESSION_END_TLS_FAILED, "%s",
				   error->message);
		else
			stream_end(s, XMPP_SESSION_END_TLS_FAILED,
				   "TLS handshake with %s failed", s->domain);
		return;
	}
}

/* INIT or STARTTLS → TLS_HANDSHAKE: ClientHello out. */
static void begin_tls_handshake(XmppStream *s)
{
	g_autoptr(GError) error = NULL;

	s->tls = tls_session_new(s->domain, s->ca_file, &error);
	if (!s->tls) {
		stream_end(s, XMPP_SESSION_END_TLS_FAILED, "%s",
			   error->message);
		return;
	}
	stream_set_state(s, XMPP_SESSION_STATE_TLS_HANDSHAKE);
	drive_handshake(s);
}

/* ---- stream level ------------------------------------------------------- */

/*
 * The server's header (RFC 6120 §4.7): the streams namespace and version
 * 1.0 or later (§4.7.5); without version the server speaks pre-RFC XMPP.
 */
static void on_stream_open(XmppStream *s, const Stanza *header)
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
		stream_log_wire(s, false, text->str);
	}

	if (g_strcmp0(stanza_get_name(header), "stream") != 0 ||
	    g_strcmp0(ns, NS_STREAMS) != 0) {
		stream_send_error(s, "invalid-namespace");
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
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
		stream_send_error(s, "unsupported-version");
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
			   "%s speaks XMPP version '%s'; 1.0 is required",
			   s->domain, version ? version : "0.9");
		return;
	}
	g_free(s->stream_from);
	s->stream_from =
		from ? stream_clip_text(from, MAX_ITEM_STRING_BYTES) : NULL;
	s->header_seen = true;
}

/*
 * </stream:stream> from the server: answer with ours (RFC 6120 §4.4) and
 * end; the end we asked for if we were closing.
 */
static void on_stream_close(XmppStream *s)
{
	stream_log_wire(s, false, "</stream:stream>");
	if (s->state == XMPP_SESSION_STATE_CLOSING) {
		stream_end(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	}
	stream_send_close(s);
	stream_end(s, XMPP_SESSION_END_NETWORK, "%s closed the stream",
		   s->domain);
}

/* <stream:error/> (RFC 6120 §4.9): the stream is over. */
static void on_stream_error(XmppStream *s, const Stanza *error)
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
		g_autofree char *h =
			stream_clip_text(host, MAX_ITEM_STRING_BYTES);

		detail = g_strdup_printf(" (%s)", h);
	}
	if (text && *text)
		clipped = stream_clip_text(text, MAX_ERROR_TEXT_BYTES);

	/* Answer with our closing tag; the server closes the TCP side. */
	s->answering_end = true;
	stream_send_close(s);
	s->answering_end = false;
	/* Before TLS anyone on the path could have sent it: a forged
	 * <conflict/> must not stop the daemon from trying again
	 * (CONTRACT.md "Staying connected"). */
	stream_end(s,
		   strcmp(condition, "conflict") == 0 && s->tls_active
			   ? XMPP_SESSION_END_CONFLICT
			   : XMPP_SESSION_END_SERVER_ERROR,
		   "stream error from %s: %s%s%s%s", s->domain, condition,
		   detail ? detail : "", clipped ? ": " : "",
		   clipped ? clipped : "");
}

/* Bad XML from the server: our stream error, then the end (§4.9.3). */
static void on_reader_error(XmppStream *s, const GError *error)
{
	const char *condition = "not-well-formed";

	if (error && error->domain == XML_READER_ERROR)
		condition = xml_reader_error_condition(error->code);
	s->answering_end = true;
	stream_send_error(s, condition);
	s->answering_end = false;
	stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
		   "invalid XML from %s (%s): %s", s->domain, condition,
		   error ? error->message : "unknown error");
}

/* ---- features and STARTTLS ---------------------------------------------- */

/* STREAM_OPENING → STARTTLS. */
static void begin_starttls(XmppStream *s)
{
	g_autoptr(Stanza) starttls = stanza_new("starttls", NS_TLS);

	stream_set_state(s, XMPP_SESSION_STATE_STARTTLS);
	xmpp_stream_send(s, starttls);
}

/*
 * <proceed/> (RFC 6120 §5.4.2.3): anything after it in the same read was
 * never protected by TLS and could be an attacker's injection (the
 * STARTTLS command injection of CVE-2011-0411 and kin), so the reader
 * state and every queued event are dropped before the handshake.
 */
static void on_proceed(XmppStream *s)
{
	xml_reader_reset(s->reader);
	begin_tls_handshake(s);
}

/* <stream:features/>: what the next step is depends on what is done. */
static void on_features(XmppStream *s, const Stanza *features)
{
	if (!s->tls_active) {
		/* RFC 6120 §5.3.1: TLS is mandatory for us, whatever the
		 * server thinks (its <required/> does not matter). */
		if (!stanza_get_child(features, "starttls", NS_TLS)) {
			stream_send_close(s);
			stream_end(s, XMPP_SESSION_END_TLS_FAILED,
				   "server %s does not offer STARTTLS; "
				   "refusing to log in without TLS",
				   s->domain);
			return;
		}
		begin_starttls(s);
		return;
	}
	if (!s->authenticated) {
		stream_begin_auth(s, features);
		return;
	}
	if (s->sasl2) {
		stream_sasl2_on_features(s, features);
		return;
	}
	stream_begin_bind(s, features);
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

static void on_starttls_answer(XmppStream *s, const Stanza *el)
{
	if (is_ns(el, "proceed", NS_TLS)) {
		on_proceed(s);
	} else if (is_ns(el, "failure", NS_TLS)) {
		/* §5.4.2.2: the server closes the stream. */
		stream_send_close(s);
		stream_end(s, XMPP_SESSION_END_TLS_FAILED,
			   "server %s refused STARTTLS; refusing to log in "
			   "without TLS",
			   s->domain);
	}
}

static void handle_negotiation_element(XmppStream *s, const Stanza *el)
{
	switch (s->state) {
	case XMPP_SESSION_STATE_STREAM_OPENING:
		if (is_ns(el, "features", NS_STREAMS))
			on_features(s, el);
		return;
	case XMPP_SESSION_STATE_STARTTLS:
		on_starttls_answer(s, el);
		return;
	case XMPP_SESSION_STATE_AUTHENTICATING:
		if (s->sasl2) {
			if (g_strcmp0(stanza_get_ns(el), NS_SASL2) == 0)
				stream_on_sasl2_element(s, el);
		} else if (g_strcmp0(stanza_get_ns(el), NS_SASL) == 0) {
			stream_on_sasl_element(s, el);
		}
		return;
	case XMPP_SESSION_STATE_ROSTER:
	case XMPP_SESSION_STATE_ONLINE:
		/* After a resumption inside SASL2 the features come once
		 * we are back online: what they offer (CSI) still counts. */
		if (s->sasl2 && is_ns(el, "features", NS_STREAMS))
			stream_note_features(s, el);
		return;
	case XMPP_SESSION_STATE_INIT:
	case XMPP_SESSION_STATE_TLS_HANDSHAKE:
	case XMPP_SESSION_STATE_RESUMING:
	case XMPP_SESSION_STATE_BINDING:
	case XMPP_SESSION_STATE_CLOSING:
	case XMPP_SESSION_STATE_CLOSED:
		return;
	}
}

static bool is_iq_answer(const Stanza *el)
{
	const char *type = stanza_get_attr(el, "type");

	return strcmp(stanza_get_name(el), "iq") == 0 && type &&
	       (strcmp(type, "result") == 0 || strcmp(type, "error") == 0);
}

/* A jabber:client stanza: answers to our IQs go to their handler, the
 * rest up to the owner. */
static void on_client_stanza(XmppStream *s, const Stanza *el)
{
	/* The stanza that led to <enable/> (the bind result) is not
	 * counted (XEP-0198 §4: from <enable/> on). */
	bool counting = s->sm_active;

	if (s->state < XMPP_SESSION_STATE_BINDING)
		return;
	if (is_iq_answer(el))
		stream_on_iq_answer(s, el);
	else if (s->callbacks.stanza)
		s->callbacks.stanza(s->user_data, el);
	if (counting && s->sm_active && stream_is_counted_stanza(el))
		stream_mgmt_count_inbound(s->sm);
}

/*
 * A presence the reader gathered as a record: what handle_element() and
 * on_client_stanza() do with a jabber:client <presence/> tree (nothing
 * to log: the record path is off while the wire is logged).
 */
static void handle_presence_record(XmppStream *s, const PresenceRecord *record)
{
	bool counting = s->sm_active;

	if (!s->header_seen || s->state < XMPP_SESSION_STATE_BINDING)
		return;
	s->callbacks.presence(s->user_data, record);
	if (counting && s->sm_active)
		stream_mgmt_count_inbound(s->sm);
}

static void handle_element(XmppStream *s, const Stanza *el)
{
	if (s->callbacks.log_wire) {
		g_autofree char *text = redact_log_stanza(el);

		stream_log_wire(s, false, text);
	}
	if (!s->header_seen)
		return;
	if (is_ns(el, "error", NS_STREAMS))
		on_stream_error(s, el);
	else if (g_strcmp0(stanza_get_ns(el), NS_STREAM_MGMT) == 0)
		stream_on_sm_element(s, el);
	else if (is_client_ns(el))
		on_client_stanza(s, el);
	else
		handle_negotiation_element(s, el);
}

/*
 * Handles queued reader events one by one. A handler may reset the reader
 * (STARTTLS, SASL success) or end the stream; either makes the rest of
 * the read stale, and false tells the caller to drop it.
 */
static bool drain_reader(XmppStream *s)
{
	while (!stream_ended(s)) {
		g_autoptr(Stanza) stanza = NULL;
		g_autoptr(GError) error = NULL;
		PresenceRecord *record = NULL;
		XmppSessionState before = s->state;
		bool authenticated = s->authenticated;
		XmlReaderEvent event;

		event = xml_reader_next_full(s->reader, &stanza, &record,
					     &error);
		switch (event) {
		case XML_READER_EVENT_PRESENCE:
			handle_presence_record(s, record);
			xml_reader_recycle(s->reader, record);
			break;
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
		/* Legacy SASL success restarts the stream; SASL2 does not
		 * (XEP-0388 §2.6.1): what follows it is the same stream. */
		if (s->authenticated != authenticated && !s->sasl2)
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

static void process_plaintext(XmppStream *s, const char *data, size_t len)
{
	for (size_t off = 0; off < len && !stream_ended(s);) {
		size_t n = MIN(FEED_SLICE, len - off);

		xml_reader_feed(s->reader, data + off, n);
		off += n;
		if (!drain_reader(s))
			return;
	}
}

/* ---- for tests -------------------------------------------------------- */

XmppStream *xmpp_stream_new_bound_for_test(const XmppSessionConfig *config,
					   const XmppStreamCallbacks *callbacks,
					   void *user_data,
					   const char *full_jid,
					   const char *const *features)
{
	XmppStream *s = xmpp_stream_new(config, callbacks, user_data, NULL);

	if (!s)
		return NULL;
	s->test_bound = true;
	s->full_jid = g_strdup(full_jid);
	for (size_t i = 0; features && features[i]; i++) {
		const char *f = features[i];

		s->csi |= strcmp(f, "csi") == 0;
		s->roster_versioning |= strcmp(f, "rosterver") == 0;
		s->pre_approval |= strcmp(f, "pre-approval") == 0;
		s->sm_offered |= strcmp(f, "sm") == 0;
	}
	return s;
}

/* The stream of xmpp_stream_new_bound_for_test() at start: as if the
 * server had just answered our bind. */
static void start_bound(XmppStream *s)
{
	static const char header[] =
		"<stream:stream xmlns='" NS_CLIENT "' xmlns:stream='" NS_STREAMS
		"' version='1.0'>";

	/* The reader wants a stream around the stanzas to come. */
	process_plaintext(s, header, sizeof(header) - 1);
	s->authenticated = true;
	s->has_bind = true;
	stream_set_state(s, XMPP_SESSION_STATE_BINDING);
	stream_finish_binding(s);
}

/* ---- public API --------------------------------------------------------- */

void xmpp_stream_start(XmppStream *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	if (s->state != XMPP_SESSION_STATE_INIT)
		return;
	s->now = now;
	arm_negotiation_deadline(s, now);
	if (s->test_bound) {
		start_bound(s);
		return;
	}
	if (s->direct_tls) {
		/* XEP-0368: TLS from the first byte, no STARTTLS. */
		begin_tls_handshake(s);
		return;
	}
	stream_set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	stream_send_header(s);
}

void xmpp_stream_feed(XmppStream *s, const char *data, size_t len, int64_t now)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(data != NULL || len == 0);

	if (stream_ended(s) || s->state == XMPP_SESSION_STATE_INIT || len == 0)
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

void xmpp_stream_eof(XmppStream *s, const GError *error)
{
	g_return_if_fail(s != NULL);

	if (stream_ended(s))
		return;
	if (s->state == XMPP_SESSION_STATE_CLOSING) {
		stream_end(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	}
	if (error)
		stream_end(s, XMPP_SESSION_END_NETWORK,
			   "connection to %s lost: %s", s->domain,
			   error->message);
	else
		stream_end(s, XMPP_SESSION_END_NETWORK,
			   "connection to %s closed by the server", s->domain);
}

void xmpp_stream_take_output(XmppStream *s, GByteArray *out)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(out != NULL);

	if (!s->out->len)
		return;
	g_byte_array_append(out, s->out->data, s->out->len);
	g_byte_array_set_size(s->out, 0);
}

bool xmpp_stream_has_output(const XmppStream *s)
{
	g_return_val_if_fail(s != NULL, false);

	return s->out->len > 0;
}

int64_t xmpp_stream_get_deadline(const XmppStream *s)
{
	g_return_val_if_fail(s != NULL, INT64_MAX);

	if (s->state == XMPP_SESSION_STATE_ONLINE)
		return stream_online_deadline(s);
	/* Bound: the roster may be large and the link slow; what counts is
	 * progress (a byte now and then), not the total time. */
	if (s->state == XMPP_SESSION_STATE_ROSTER)
		return s->last_rx > INT64_MAX - s->negotiation_timeout
			       ? INT64_MAX
			       : s->last_rx + s->negotiation_timeout;
	return s->deadline;
}

void xmpp_stream_tick(XmppStream *s, int64_t now)
{
	g_return_if_fail(s != NULL);

	if (stream_ended(s))
		return;
	s->now = now;
	if (s->state == XMPP_SESSION_STATE_ONLINE) {
		stream_tick_online(s, now);
		return;
	}
	if (now < xmpp_stream_get_deadline(s))
		return;
	s->deadline = INT64_MAX;
	if (s->state == XMPP_SESSION_STATE_CLOSING) {
		stream_end(s, XMPP_SESSION_END_REQUESTED,
			   "session closed (%s did not answer our closing tag "
			   "within %" G_GINT64_FORMAT " s)",
			   s->domain, s->close_timeout / G_USEC_PER_SEC);
		return;
	}
	if (s->state == XMPP_SESSION_STATE_ROSTER) {
		stream_send_close(s);
		stream_end(s, XMPP_SESSION_END_NETWORK,
			   "no progress from %s for %" G_GINT64_FORMAT
			   " s while downloading the roster",
			   s->domain, s->negotiation_timeout / G_USEC_PER_SEC);
		return;
	}
	if (s->state != XMPP_SESSION_STATE_TLS_HANDSHAKE)
		stream_send_close(s);
	stream_end(s, XMPP_SESSION_END_NETWORK,
		   "timed out negotiating the session with %s (%s)", s->domain,
		   xmpp_session_state_to_string(s->state));
}

XmppSessionState xmpp_stream_get_state(const XmppStream *s)
{
	g_return_val_if_fail(s != NULL, XMPP_SESSION_STATE_CLOSED);

	return s->state;
}

bool xmpp_stream_is_ended(const XmppStream *s)
{
	return stream_ended(s);
}

int64_t xmpp_stream_get_now(const XmppStream *s)
{
	return s->now;
}

const char *xmpp_stream_get_full_jid(const XmppStream *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return s->state >= XMPP_SESSION_STATE_ROSTER ? s->full_jid : NULL;
}

const char *xmpp_stream_get_bare_jid(const XmppStream *s)
{
	return s->bare_jid;
}

const char *xmpp_stream_get_domain(const XmppStream *s)
{
	return s->domain;
}

bool xmpp_stream_offers(const XmppStream *s, XmppStreamFeature feature)
{
	switch (feature) {
	case XMPP_STREAM_FEATURE_CSI:
		return s->csi;
	case XMPP_STREAM_FEATURE_ROSTER_VER:
		return s->roster_versioning;
	case XMPP_STREAM_FEATURE_PRE_APPROVAL:
		return s->pre_approval;
	}
	return false;
}

void xmpp_stream_get_auth_info(const XmppStream *s, XmppAuthInfo *ret)
{
	if (s->authenticated)
		*ret = s->auth;
	else
		*ret = (XmppAuthInfo){.mechanism = SASL_MECHANISM_NONE};
}

void xmpp_stream_set_online(XmppStream *s)
{
	g_return_if_fail(s != NULL);

	if (s->state != XMPP_SESSION_STATE_ROSTER)
		return;
	stream_set_state(s, XMPP_SESSION_STATE_ONLINE);
	s->deadline = INT64_MAX;
	s->last_rx = s->now;
	s->probe_sent = 0;
}

void xmpp_stream_close(XmppStream *s, const Stanza *goodbye)
{
	g_return_if_fail(s != NULL);

	switch (s->state) {
	case XMPP_SESSION_STATE_ONLINE:
		if (goodbye)
			xmpp_stream_send(s, goodbye);
		stream_send_close(s);
		s->closed_by_us = true;
		if (!stream_ended(s)) {
			stream_set_state(s, XMPP_SESSION_STATE_CLOSING);
			/* A server (or link) that never answers must not hold
			 * the session in CLOSING: the caller then drops TCP. */
			s->deadline = s->now > INT64_MAX - s->close_timeout
					      ? INT64_MAX
					      : s->now + s->close_timeout;
		}
		return;
	case XMPP_SESSION_STATE_STREAM_OPENING:
	case XMPP_SESSION_STATE_STARTTLS:
	case XMPP_SESSION_STATE_AUTHENTICATING:
	case XMPP_SESSION_STATE_RESUMING:
	case XMPP_SESSION_STATE_BINDING:
	case XMPP_SESSION_STATE_ROSTER:
		/* Nothing to wait for before online: close and be done. */
		stream_send_close(s);
		s->closed_by_us = true;
		stream_end(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	case XMPP_SESSION_STATE_INIT:
	case XMPP_SESSION_STATE_TLS_HANDSHAKE:
		stream_end(s, XMPP_SESSION_END_REQUESTED, "session closed");
		return;
	case XMPP_SESSION_STATE_CLOSING:
	case XMPP_SESSION_STATE_CLOSED:
		return;
	}
}
