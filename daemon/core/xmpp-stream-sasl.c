/* SPDX-License-Identifier: MIT */
/*
 * SASL inside the stream (RFC 6120 §6): the mechanism choice, the
 * exchange of <auth/>, <challenge/>, <response/>, <success/> and
 * <failure/>, and the stream restart after success, plus the helpers
 * SASL2 shares (xmpp-stream-sasl2.c takes over where the server offers
 * XEP-0388). The mechanisms themselves (SCRAM, PLAIN) are in sasl-scram.c.
 */
#include "config.h"

#include <string.h>

#include "core/sasl-choice.h"
#include "core/xmpp-stream-private.h"

/* Base64 of SASL payloads (§6.4.2): "=" means empty; anything outside the
 * alphabet is incorrect-encoding. */
GBytes *stream_sasl_decode(const char *text)
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

/*
 * A SASL message we made (PLAIN carries the password itself, SCRAM the
 * proof): wiped before it is freed. Ours alone (refcount 1), so writing
 * over the "const" data is safe.
 */
void stream_secret_bytes_free(GBytes *bytes)
{
	gsize len = 0;
	const void *data;

	if (!bytes)
		return;
	data = g_bytes_get_data(bytes, &len);
	if (len)
		explicit_bzero((void *)data, len);
	g_bytes_unref(bytes);
}

static void send_sasl_element(XmppStream *s, const char *name,
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
	stream_send_secret(s, el);
}

/* The channel bindings this TLS session can give (RFC 9266, RFC 5929). */
unsigned stream_sasl_computable_bindings(XmppStream *s, bool want_end_point,
					 GBytes **ret_exporter,
					 GBytes **ret_end_point)
{
	unsigned set = 0;

	*ret_exporter = tls_session_get_channel_binding(s->tls);
	*ret_end_point = NULL;
	/* Every chooser prefers tls-exporter (XEP-0440 §4, XEP-0484 §3.2). */
	if (*ret_exporter == NULL || want_end_point)
		*ret_end_point = tls_session_get_server_end_point(s->tls, NULL);
	if (*ret_exporter)
		set |= SASL_CHANNEL_BINDING_BIT(
			SASL_CHANNEL_BINDING_TLS_EXPORTER);
	if (*ret_end_point)
		set |= SASL_CHANNEL_BINDING_BIT(
			SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT);
	return set;
}

bool stream_sasl_offer_wants_end_point(const SaslServerOffer *offer)
{
	unsigned types = offer->bindings_advertised ? offer->binding_types : 0;

	return (types & SASL_CHANNEL_BINDING_BIT(
				SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT)) &&
	       !(types &
		 SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER));
}

bool stream_sasl_choose(XmppStream *s, const SaslServerOffer *offer,
			unsigned computable, SaslChoice *ret_choice)
{
	g_autoptr(GError) error = NULL;
	SaslChoiceInput in = {
		.offer = offer,
		.tls_active = s->tls_active,
		.tls_version = tls_session_get_version(s->tls),
		.computable = computable,
		.scram_worked_before = s->scram_worked_before,
	};

	if (sasl_choice_select(&in, ret_choice, &error))
		return true;
	stream_send_close(s);
	/* Not a rejection of our credentials: a server (or whoever sits
	 * in front of it) that offers nothing we accept, or only PLAIN
	 * where SCRAM has worked. Retrying may help; giving up never. */
	stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
		   "%s offers no SASL mechanism we accept: %s", s->domain,
		   error->message);
	return false;
}

/*
 * STREAM_OPENING (TLS up) → AUTHENTICATING: the strongest mechanism the
 * server really supports (sasl-choice.c: XEP-0440 decides -PLUS), with
 * the offer kept for the XEP-0474 check of server-first.
 */
void stream_begin_auth(XmppStream *s, const Stanza *features)
{
	g_auto(SaslServerOffer) offer = {0};
	g_autoptr(GBytes) exporter = NULL;
	g_autoptr(GBytes) end_point = NULL;
	g_autoptr(SecretBytes) initial = NULL;
	SaslChoice choice;
	unsigned computable;

	/* XEP-0388 where offered, unless it failed on this server before. */
	if (stanza_get_child(features, "authentication", NS_SASL2) &&
	    !s->legacy_sasl_only) {
		stream_begin_sasl2(s, features);
		return;
	}
	sasl_choice_parse_features(features, &offer);
	computable = stream_sasl_computable_bindings(
		s, stream_sasl_offer_wants_end_point(&offer), &exporter,
		&end_point);
	if (!stream_sasl_choose(s, &offer, computable, &choice))
		return;
	s->sasl = sasl_client_new_with_options(&(SaslClientOptions){
		.mechanism = choice.mechanism,
		.username = s->localpart,
		.password = s->password,
		.gs2_flag = choice.gs2_flag,
		.binding = choice.binding,
		.binding_data =
			choice.binding == SASL_CHANNEL_BINDING_TLS_EXPORTER
				? exporter
			: choice.binding ? end_point
					 : NULL,
		.offer = &offer,
	});
	s->auth.tls_version = tls_session_get_version(s->tls);
	s->auth.mechanism = choice.mechanism;
	s->auth.binding = choice.binding;
	s->sasl_round = 0;
	s->sasl_verified = false;
	initial = sasl_client_initial_response(s->sasl);
	stream_set_state(s, XMPP_SESSION_STATE_AUTHENTICATING);
	g_debug("xmpp stream: SASL %s%s%s (gs2 %s)",
		sasl_mechanism_to_string(choice.mechanism),
		choice.binding ? " with " : "",
		sasl_channel_binding_to_string(choice.binding),
		sasl_choice_gs2_flag_to_string(&choice));
	send_sasl_element(s, "auth", sasl_mechanism_to_string(choice.mechanism),
			  initial);
}

static void end_auth(XmppStream *s, XmppSessionEnd reason, const char *format,
		     va_list ap) G_GNUC_PRINTF(3, 0);

static void end_auth(XmppStream *s, XmppSessionEnd reason, const char *format,
		     va_list ap)
{
	g_autofree char *msg = g_strdup_vprintf(format, ap);

	g_clear_pointer(&s->sasl, sasl_client_free);
	stream_send_close(s);
	stream_end(s, reason, "%s", msg);
}

/*
 * The exchange broke on our side of the check: malformed data, a bad
 * nonce or iteration count, a XEP-0474 downgrade, a server that could not
 * prove it knows the password. None of it says our credentials are
 * wrong, so it is never auth-failed (CONTRACT.md "Staying connected"):
 * the daemon tries again later.
 */
static void fail_exchange(XmppStream *s, const char *format, ...)
	G_GNUC_PRINTF(2, 3);

static void fail_exchange(XmppStream *s, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	end_auth(s, XMPP_SESSION_END_SERVER_ERROR, format, ap);
	va_end(ap);
}

/* The server's <failure/>: a rejection of our credentials (RFC 6120
 * §6.5) unless the condition says trying again may help. */
static void fail_rejected(XmppStream *s, XmppSessionEnd reason,
			  const char *format, ...) G_GNUC_PRINTF(3, 4);

static void fail_rejected(XmppStream *s, XmppSessionEnd reason,
			  const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	end_auth(s, reason, format, ap);
	va_end(ap);
}

/* §6.5: only these conditions say the credentials are wrong for good;
 * temporary-auth-failure, aborted, malformed-request and the others are
 * worth another try. */
XmppSessionEnd stream_sasl_failure_reason(const char *condition)
{
	static const char *const permanent[] = {
		"not-authorized", "account-disabled", "credentials-expired",
		"invalid-authzid"};

	for (size_t i = 0; i < G_N_ELEMENTS(permanent); i++)
		if (strcmp(condition, permanent[i]) == 0)
			return XMPP_SESSION_END_AUTH_FAILED;
	return XMPP_SESSION_END_SERVER_ERROR;
}

/* The payload of a <challenge/> or <success/>; NULL after ending the
 * exchange when it is not base64 (§6.4.2: incorrect-encoding). */
static GBytes *decode_or_fail(XmppStream *s, const Stanza *el)
{
	GBytes *data = stream_sasl_decode(stanza_get_text(el));

	if (!data)
		fail_exchange(s,
			      "authentication with %s failed: malformed "
			      "base64 in %s",
			      s->domain, stanza_get_name(el));
	return data;
}

static void on_sasl_challenge(XmppStream *s, const Stanza *challenge)
{
	g_autoptr(GBytes) data = decode_or_fail(s, challenge);
	g_autoptr(SecretBytes) response = NULL;
	g_autoptr(GError) error = NULL;
	const guint8 *bytes;
	gsize len;

	if (!data)
		return;
	bytes = g_bytes_get_data(data, &len);
	if (s->sasl_round == 0) {
		response = sasl_client_step(s->sasl, bytes, len, &error);
		if (!response) {
			fail_exchange(s, "authentication with %s failed: %s",
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
		fail_exchange(s, "authentication with %s failed: %s", s->domain,
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
static void on_sasl_success(XmppStream *s, const Stanza *success)
{
	g_autoptr(GBytes) data = decode_or_fail(s, success);
	g_autoptr(GError) error = NULL;
	const guint8 *bytes;
	gsize len;

	if (!data)
		return;
	bytes = g_bytes_get_data(data, &len);
	if (len || !s->sasl_verified) {
		if (s->sasl_verified ||
		    !sasl_client_verify_final(s->sasl, bytes, len, &error)) {
			fail_exchange(
				s,
				"authentication with %s failed: the server "
				"could not prove it knows the password: %s",
				s->domain,
				error ? error->message
				      : "unexpected success data");
			return;
		}
	}
	s->auth.downgrade_checked = sasl_client_is_downgrade_checked(s->sasl);
	g_clear_pointer(&s->sasl, sasl_client_free);
	s->authenticated = true;
	/* Nothing needs the password any more: do not keep it in memory
	 * for the life of the session. */
	stream_wipe_string(s->password);
	g_clear_pointer(&s->password, g_free);
	/* RFC 6120 §6.4.6: restart the stream; nothing of the old one
	 * counts any more. */
	xml_reader_reset(s->reader);
	stream_set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
	stream_send_header(s);
}

/*
 * A <failure/>'s condition (RFC 6120 §6.5; SASL2 uses the same ones,
 * XEP-0388 §2.6.2) and its text, clipped, for the user; the text element
 * is in text_ns (legacy SASL's or SASL2's). Transfer full of the text.
 */
const char *stream_read_sasl_failure(const Stanza *failure, const char *text_ns,
				     char **ret_text)
{
	const char *condition = NULL;
	const char *text = NULL;

	for (Stanza *c = stanza_get_first_child(failure); c;
	     c = stanza_get_next_sibling(c)) {
		const char *ns = stanza_get_ns(c);

		if (strcmp(stanza_get_name(c), "text") == 0 &&
		    g_strcmp0(ns, text_ns) == 0)
			text = stanza_get_text(c);
		else if (!condition && g_strcmp0(ns, NS_SASL) == 0)
			condition = stanza_get_name(c);
	}
	*ret_text = text && *text ? stream_clip_text(text, MAX_ERROR_TEXT_BYTES)
				  : NULL;
	return condition ? condition : "not-authorized";
}

/* <failure/> (RFC 6120 §6.5): condition and text for the user. */
static void on_sasl_failure(XmppStream *s, const Stanza *failure)
{
	g_autofree char *clipped = NULL;
	const char *condition =
		stream_read_sasl_failure(failure, NS_SASL, &clipped);

	fail_rejected(s, stream_sasl_failure_reason(condition),
		      "authentication with %s failed: %s%s%s", s->domain,
		      condition, clipped ? ": " : "", clipped ? clipped : "");
}

void stream_on_sasl_element(XmppStream *s, const Stanza *el)
{
	const char *name = stanza_get_name(el);

	if (strcmp(name, "challenge") == 0)
		on_sasl_challenge(s, el);
	else if (strcmp(name, "success") == 0)
		on_sasl_success(s, el);
	else if (strcmp(name, "failure") == 0)
		on_sasl_failure(s, el);
}
