/* SPDX-License-Identifier: MIT */
/*
 * SASL2 (XEP-0388) and what rides inline in it: Bind2 (XEP-0386), XEP-0198
 * enable and resume, the XEP-0352 state, and FAST tokens (XEP-0484). This
 * file owns <authenticate/>, <challenge/>/<response/>, <success/> (the
 * check of the server's additional data, the JID of
 * <authorization-identifier/>, <bound/>, <resumed/>, <token/>),
 * <failure/>, <continue/> (no task of ours: <abort/>), and the
 * <stream:features/> that follow a success in the same stream (no
 * restart). The mechanism, channel-binding and XEP-0474 rules are those
 * of legacy SASL (sasl-choice.c, sasl-scram.c); HT-SHA-256 is in
 * fast-token.c.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/xmpp-stream-private.h"

/* Caps on what the server controls (STYLE.md §3). */
#define MAX_TOKEN_BYTES 1024u
#define MAX_FAST_MECHANISMS 16u

/* What <authentication><inline/> offers. */
typedef struct {
	bool bind2;	/* <bind xmlns='urn:xmpp:bind:0'/> */
	bool bind2_sm;	/* Bind2 enables XEP-0198 inline */
	bool bind2_csi; /* Bind2 takes the XEP-0352 state */
	bool sm_resume; /* <sm xmlns='urn:xmpp:sm:3'/>: resume inside SASL2 */
	const Stanza *fast; /* <fast xmlns='urn:xmpp:fast:0'/>, or NULL */
} Sasl2Inline;

static bool is_el(const Stanza *el, const char *name, const char *ns)
{
	return strcmp(stanza_get_name(el), name) == 0 &&
	       g_strcmp0(stanza_get_ns(el), ns) == 0;
}

static void parse_inline(const Stanza *authentication, Sasl2Inline *ret)
{
	const Stanza *in = authentication ? stanza_get_child(authentication,
							     "inline", NS_SASL2)
					  : NULL;
	const Stanza *bind = in ? stanza_get_child(in, "bind", NS_BIND2) : NULL;

	*ret = (Sasl2Inline){0};
	if (!in)
		return;
	if (bind) {
		const Stanza *feats =
			stanza_get_child(bind, "inline", NS_BIND2);

		ret->bind2 = true;
		for (const Stanza *c = feats ? stanza_get_first_child(feats)
					     : NULL;
		     c; c = stanza_get_next_sibling(c)) {
			const char *var = stanza_get_attr(c, "var");

			if (!is_el(c, "feature", NS_BIND2))
				continue;
			if (g_strcmp0(var, NS_STREAM_MGMT) == 0)
				ret->bind2_sm = true;
			else if (g_strcmp0(var, NS_CSI) == 0)
				ret->bind2_csi = true;
		}
	}
	ret->sm_resume = stanza_get_child(in, "sm", NS_STREAM_MGMT) != NULL;
	ret->fast = stanza_get_child(in, "fast", NS_FAST);
}

/* The FAST mechanism names offered (borrowed from fast), NULL-ended. */
static GPtrArray *fast_offer(const Stanza *fast)
{
	GPtrArray *names = g_ptr_array_new();

	for (const Stanza *c = fast ? stanza_get_first_child(fast) : NULL;
	     c && names->len < MAX_FAST_MECHANISMS;
	     c = stanza_get_next_sibling(c))
		if (is_el(c, "mechanism", NS_FAST))
			g_ptr_array_add(names, (gpointer)stanza_get_text(c));
	g_ptr_array_add(names, NULL);
	return names;
}

static bool offers_name(GPtrArray *names, const char *name)
{
	for (size_t i = 0; i + 1 < names->len; i++)
		if (g_strcmp0(g_ptr_array_index(names, i), name) == 0)
			return true;
	return false;
}

static void forget_token(XmppStream *s)
{
	stream_wipe_string(s->fast_token);
	g_clear_pointer(&s->fast_token, g_free);
	s->fast_mech = FAST_MECHANISM_NONE;
}

/* Ends the exchange with our closing tag (the server waits for us). */
static void end_sasl2(XmppStream *s, XmppSessionEnd reason, const char *format,
		      ...) G_GNUC_PRINTF(3, 4);

static void end_sasl2(XmppStream *s, XmppSessionEnd reason, const char *format,
		      ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	msg = g_strdup_vprintf(format, ap);
	va_end(ap);
	g_clear_pointer(&s->sasl, sasl_client_free);
	stream_send_close(s);
	stream_end(s, reason, "%s", msg);
}

/* SASL2 broke in a way that says nothing about our credentials: the
 * next attempt uses legacy SASL (CONTRACT.md "Authentication"). */
#define fail_sasl2(s, ...)                                                     \
	do {                                                                   \
		(s)->sasl2_failed = true;                                      \
		end_sasl2((s), XMPP_SESSION_END_SERVER_ERROR, __VA_ARGS__);    \
	} while (0)

/* <initial-response/>, <response/>: base64, "=" for empty (§2.2). */
static Stanza *add_payload(Stanza *parent, const char *name, GBytes *payload)
{
	gsize len = 0;
	const guint8 *data = payload ? g_bytes_get_data(payload, &len) : NULL;
	Stanza *el = stanza_add_child_new(parent, name, NULL);

	if (len) {
		g_autofree char *b64 = g_base64_encode(data, len);

		stanza_set_text(el, b64);
		explicit_bzero(b64, strlen(b64));
	} else {
		stanza_set_text(el, "=");
	}
	return el;
}

static void add_user_agent(XmppStream *s, Stanza *auth)
{
	Stanza *ua;

	if (!s->user_agent_id)
		return;
	ua = stanza_add_child_new(auth, "user-agent", NULL);
	stanza_set_attr(ua, "id", s->user_agent_id);
	stanza_add_child_text(ua, "software", NULL, PACKAGE_NAME);
	if (s->device && *s->device)
		stanza_add_child_text(ua, "device", NULL, s->device);
}

/* XEP-0198 resume (inline <sm/>) and Bind2 (inline <bind/>): both may go;
 * the server binds only when it cannot resume (XEP-0386 §2.5). */
static void add_inline_requests(XmppStream *s, Stanza *auth,
				const Sasl2Inline *in)
{
	const char *previd =
		s->resume ? stream_mgmt_get_resume_id(s->resume) : NULL;

	if (previd && in->sm_resume) {
		Stanza *resume =
			stanza_add_child_new(auth, "resume", NS_STREAM_MGMT);
		g_autofree char *h =
			g_strdup_printf("%" G_GUINT32_FORMAT,
					stream_mgmt_get_inbound(s->resume));

		stanza_set_attr(resume, "previd", previd);
		stanza_set_attr(resume, "h", h);
	}
	s->bind2_requested = in->bind2;
	s->sm_inline_requested = false;
	if (!in->bind2)
		return;
	Stanza *bind = stanza_add_child_new(auth, "bind", NS_BIND2);
	/* §3: the tag names the client; the server makes the resource. */
	if (s->resource)
		stanza_add_child_text(bind, "tag", NULL, s->resource);
	if (in->bind2_sm) {
		Stanza *enable =
			stanza_add_child_new(bind, "enable", NS_STREAM_MGMT);

		stanza_set_attr(enable, "resume", "true");
		s->sm_inline_requested = true;
	}
	if (in->bind2_csi && s->csi_inactive)
		stanza_add_child_new(bind, "inactive", NS_CSI);
}

/* The FAST token's mechanism, if it can be used on this connection. */
static FastMechanism usable_token(XmppStream *s, const Sasl2Inline *in,
				  unsigned computable)
{
	g_autoptr(GPtrArray) names = NULL;
	SaslChannelBinding b;

	if (!s->fast_token || !in->fast || !s->user_agent_id)
		return FAST_MECHANISM_NONE;
	names = fast_offer(in->fast);
	b = fast_mechanism_get_binding(s->fast_mech);
	if (!offers_name(names, fast_mechanism_to_string(s->fast_mech)) ||
	    (b && !(computable & SASL_CHANNEL_BINDING_BIT(b)))) {
		/* A token for a mechanism the server no longer offers (or
		 * a binding this TLS cannot give) is of no use. */
		g_debug("xmpp stream: FAST token's %s not usable here",
			fast_mechanism_to_string(s->fast_mech));
		s->fast_refused = true;
		forget_token(s);
		return FAST_MECHANISM_NONE;
	}
	return s->fast_mech;
}

/*
 * Whether tls-server-end-point could be chosen here though tls-exporter is
 * computable: for the kept -ENDP token, a token request where -EXPR is
 * not offered, or the password mechanism (stream_sasl_offer_wants_end_point).
 */
static bool wants_end_point(XmppStream *s, const Sasl2Inline *in,
			    const SaslServerOffer *offer, bool with_token)
{
	if (with_token && s->fast_token &&
	    fast_mechanism_get_binding(s->fast_mech) ==
		    SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT)
		return true;
	if (in->fast) {
		g_autoptr(GPtrArray) names = fast_offer(in->fast);

		if (!offers_name(names,
				 fast_mechanism_to_string(
					 FAST_MECHANISM_HT_SHA_256_EXPR)))
			return true;
	}
	return stream_sasl_offer_wants_end_point(offer);
}

/*
 * STREAM_OPENING (TLS up) or a refused token → AUTHENTICATING: one
 * <authenticate/> with everything inline. with_token: the FAST token if
 * there is one and it fits, else the password mechanism of legacy SASL.
 */
static void send_authenticate(XmppStream *s, bool with_token)
{
	const Stanza *authentication =
		stanza_get_child(s->sasl2_features, "authentication", NS_SASL2);
	g_auto(SaslServerOffer) offer = {0};
	g_autoptr(GBytes) exporter = NULL;
	g_autoptr(GBytes) end_point = NULL;
	g_autoptr(SecretBytes) initial = NULL;
	g_autoptr(Stanza) auth = stanza_new("authenticate", NS_SASL2);
	const char *mech_name;
	Stanza *initial_el;
	Sasl2Inline in;
	FastMechanism fast = FAST_MECHANISM_NONE;
	unsigned computable;

	parse_inline(authentication, &in);
	sasl_choice_parse_sasl2_features(s->sasl2_features, &offer);
	computable = stream_sasl_computable_bindings(
		s, wants_end_point(s, &in, &offer, with_token), &exporter,
		&end_point);
	g_clear_pointer(&s->sasl, sasl_client_free);
	g_clear_pointer(&s->fast_cb, g_bytes_unref);
	s->fast_in_use = false;
	if (with_token)
		fast = usable_token(s, &in, computable);
	s->auth = (XmppAuthInfo){
		.tls_version = tls_session_get_version(s->tls),
		.sasl2 = true,
	};
	if (fast) {
		SaslChannelBinding b = fast_mechanism_get_binding(fast);

		if (b == SASL_CHANNEL_BINDING_TLS_EXPORTER)
			s->fast_cb = g_bytes_ref(exporter);
		else if (b == SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT)
			s->fast_cb = g_bytes_ref(end_point);
		initial = fast_initial_response(s->localpart, s->fast_token,
						s->fast_cb);
		s->fast_in_use = true;
		s->auth.fast = fast;
		s->auth.binding = b;
		mech_name = fast_mechanism_to_string(fast);
	} else {
		SaslChoice choice;

		if (!stream_sasl_choose(s, &offer, computable, &choice)) {
			s->sasl2_failed = true;
			return;
		}
		s->sasl = sasl_client_new_with_options(&(SaslClientOptions){
			.mechanism = choice.mechanism,
			.username = s->localpart,
			.password = s->password,
			.gs2_flag = choice.gs2_flag,
			.binding = choice.binding,
			.binding_data =
				choice.binding ==
						SASL_CHANNEL_BINDING_TLS_EXPORTER
					? exporter
				: choice.binding ? end_point
						 : NULL,
			.offer = &offer,
		});
		initial = sasl_client_initial_response(s->sasl);
		s->auth.mechanism = choice.mechanism;
		s->auth.binding = choice.binding;
		mech_name = sasl_mechanism_to_string(choice.mechanism);
		g_debug("xmpp stream: SASL2 %s%s%s (gs2 %s)", mech_name,
			choice.binding ? " with " : "",
			sasl_channel_binding_to_string(choice.binding),
			sasl_choice_gs2_flag_to_string(&choice));
	}
	s->sasl_round = 0;
	s->sasl_verified = false;

	stanza_set_attr(auth, "mechanism", mech_name);
	initial_el = add_payload(auth, "initial-response", initial);
	add_user_agent(s, auth);
	s->new_token_mech = FAST_MECHANISM_NONE;
	if (fast) {
		stanza_add_child_new(auth, "fast", NS_FAST);
		g_debug("xmpp stream: SASL2 with the FAST token (%s)",
			mech_name);
	} else if (in.fast && s->user_agent_id) {
		/* XEP-0484 §3.2: a token for next time, bound to the channel
		 * where we can (-EXPR, -ENDP before -NONE). */
		g_autoptr(GPtrArray) names = fast_offer(in.fast);
		FastMechanism want = fast_mechanism_choose(
			(const char *const *)names->pdata, computable);

		if (want) {
			Stanza *req = stanza_add_child_new(
				auth, "request-token", NS_FAST);

			stanza_set_attr(req, "mechanism",
					fast_mechanism_to_string(want));
			s->new_token_mech = want;
		}
	}
	add_inline_requests(s, auth, &in);
	stream_set_state(s, XMPP_SESSION_STATE_AUTHENTICATING);
	stream_send_secret(s, auth);
	stanza_wipe_text(initial_el);
}

void stream_begin_sasl2(XmppStream *s, const Stanza *features)
{
	if (s->sasl2_features)
		stanza_free(s->sasl2_features);
	s->sasl2_features = stanza_copy(features);
	s->sasl2 = true;
	send_authenticate(s, true);
}

static void send_response(XmppStream *s, GBytes *payload)
{
	g_autoptr(Stanza) el = stanza_new("response", NS_SASL2);
	gsize len = 0;
	const guint8 *data = payload ? g_bytes_get_data(payload, &len) : NULL;

	if (len) {
		g_autofree char *b64 = g_base64_encode(data, len);

		stanza_set_text(el, b64);
		explicit_bzero(b64, strlen(b64));
	}
	stream_send_secret(s, el);
}

static void on_challenge(XmppStream *s, const Stanza *challenge)
{
	g_autoptr(GBytes) data = stream_sasl_decode(stanza_get_text(challenge));
	g_autoptr(SecretBytes) response = NULL;
	g_autoptr(GError) error = NULL;
	const guint8 *bytes;
	gsize len;

	if (!data) {
		fail_sasl2(s,
			   "authentication with %s failed: malformed base64 "
			   "in challenge",
			   s->domain);
		return;
	}
	if (!s->sasl) {
		/* HT-* is one round trip: a challenge is a broken server. */
		fail_sasl2(s,
			   "authentication with %s failed: unexpected "
			   "challenge",
			   s->domain);
		return;
	}
	bytes = g_bytes_get_data(data, &len);
	if (s->sasl_round == 0) {
		response = sasl_client_step(s->sasl, bytes, len, &error);
		if (!response) {
			end_sasl2(s, XMPP_SESSION_END_SERVER_ERROR,
				  "authentication with %s failed: %s",
				  s->domain, error->message);
			return;
		}
		s->sasl_round++;
		send_response(s, response);
		return;
	}
	/* server-final as a last challenge (as in legacy SASL). */
	if (s->sasl_verified ||
	    !sasl_client_verify_final(s->sasl, bytes, len, &error)) {
		end_sasl2(s, XMPP_SESSION_END_SERVER_ERROR,
			  "authentication with %s failed: %s", s->domain,
			  error ? error->message : "unexpected challenge");
		return;
	}
	s->sasl_verified = true;
	send_response(s, NULL);
}

/*
 * <success/> counts only once the server proved it knows the secret too:
 * the SCRAM server signature (RFC 5802 §9) in <additional-data/>, or for
 * a token HMAC(token, "Responder" || cb-data).
 */
static bool verify_server(XmppStream *s, GBytes *data)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	const guint8 *bytes = data ? g_bytes_get_data(data, &len) : NULL;

	if (s->fast_in_use) {
		if (fast_verify_responder(s->fast_token, s->fast_cb, bytes,
					  len))
			return true;
		s->fast_refused = true;
		end_sasl2(s, XMPP_SESSION_END_SERVER_ERROR,
			  "authentication with %s failed: the server could "
			  "not prove it knows our FAST token",
			  s->domain);
		return false;
	}
	if (!len && s->sasl_verified)
		return true;
	if (!len) {
		/* No server-final at all, neither as a challenge nor here:
		 * a malformed success, not a forged signature. Retrying
		 * SASL2 would get the same answer every time. */
		fail_sasl2(s,
			   "authentication with %s failed: the SASL2 success "
			   "carries no server signature; trying legacy SASL "
			   "next time",
			   s->domain);
		return false;
	}
	if (!s->sasl_verified &&
	    sasl_client_verify_final(s->sasl, bytes, len, &error))
		return true;
	end_sasl2(s, XMPP_SESSION_END_SERVER_ERROR,
		  "authentication with %s failed: the server could not prove "
		  "it knows the password: %s",
		  s->domain,
		  error ? error->message : "unexpected success data");
	return false;
}

/* <token/> in <success/>: kept for the owner, never logged. */
static void take_token(XmppStream *s, const Stanza *token)
{
	const char *text = token ? stanza_get_attr(token, "token") : NULL;
	const char *expiry = token ? stanza_get_attr(token, "expiry") : NULL;
	FastMechanism mech = s->fast_in_use ? s->auth.fast : s->new_token_mech;

	if (!token)
		return;
	if (!text || !*text ||
	    strnlen(text, MAX_TOKEN_BYTES + 1) > MAX_TOKEN_BYTES || !mech) {
		g_debug("xmpp stream: ignoring an unusable FAST token");
		return;
	}
	stream_wipe_string(s->new_token);
	g_free(s->new_token);
	s->new_token = g_strdup(text);
	g_free(s->new_token_expiry);
	s->new_token_expiry =
		expiry ? stream_clip_text(expiry, 64) : g_strdup("");
	s->new_token_mech = mech;
	g_debug("xmpp stream: %s gave a FAST token (%s)%s", s->domain,
		fast_mechanism_to_string(mech),
		s->fast_in_use ? ", replacing ours" : "");
}

/* <failed/> of Bind2 (XEP-0386 §2.6): conflict as in RFC 6120 §7.6.2.2. */
static void fail_bind2(XmppStream *s, const Stanza *failed)
{
	const Stanza *err = stanza_get_child(failed, "error", NULL);
	const char *cond = "undefined-condition";

	for (const Stanza *c = err ? stanza_get_first_child(err) : NULL; c;
	     c = stanza_get_next_sibling(c))
		if (g_strcmp0(stanza_get_ns(c), NS_STANZAS) == 0 &&
		    strcmp(stanza_get_name(c), "text") != 0) {
			cond = stanza_get_name(c);
			break;
		}
	end_sasl2(s,
		  strcmp(cond, "conflict") == 0 ? XMPP_SESSION_END_CONFLICT
						: XMPP_SESSION_END_SERVER_ERROR,
		  "%s refused to bind (Bind2): %s", s->domain, cond);
}

/* <bound/>: the resource is ours, and XEP-0198 is on if <enabled/>. */
static void on_bound(XmppStream *s, const Stanza *bound)
{
	const Stanza *enabled =
		stanza_get_child(bound, "enabled", NS_STREAM_MGMT);

	s->bind2_done = true;
	s->auth.bind2 = true;
	if (!enabled) {
		if (s->sm_inline_requested)
			g_debug("xmpp stream: %s did not enable stream "
				"management in Bind2",
				s->domain);
		return;
	}
	const char *resume = stanza_get_attr(enabled, "resume");
	uint32_t max = 0;

	if (!stream_mgmt_parse_h(stanza_get_attr(enabled, "max"), &max))
		max = 0;
	if (!s->sm)
		s->sm = stream_mgmt_new();
	/* XEP-0198 §4: counting starts with the stream after <success/>. */
	stream_mgmt_start(s->sm);
	stream_mgmt_set_jid(s->sm, s->full_jid);
	stream_mgmt_set_enabled(s->sm, stanza_get_attr(enabled, "id"),
				g_strcmp0(resume, "true") == 0 ||
					g_strcmp0(resume, "1") == 0,
				max);
	s->sm_active = true;
	s->auth.sm_inline = true;
}

static void on_success(XmppStream *s, const Stanza *success)
{
	const Stanza *ad =
		stanza_get_child(success, "additional-data", NS_SASL2);
	const Stanza *authz =
		stanza_get_child(success, "authorization-identifier", NS_SASL2);
	const Stanza *resumed =
		stanza_get_child(success, "resumed", NS_STREAM_MGMT);
	const Stanza *bound = stanza_get_child(success, "bound", NS_BIND2);
	const Stanza *bind_failed =
		stanza_get_child(success, "failed", NS_BIND2);
	g_autoptr(GBytes) data = NULL;
	g_autoptr(Jid) jid = NULL;
	g_autoptr(GError) error = NULL;

	if (ad) {
		data = stream_sasl_decode(stanza_get_text(ad));
		if (!data) {
			fail_sasl2(s,
				   "authentication with %s failed: malformed "
				   "base64 in the SASL2 success",
				   s->domain);
			return;
		}
	}
	if (!verify_server(s, data))
		return;
	/* XEP-0388 §2.6.1: the identity we are now; it must be ours. */
	if (authz)
		jid = jid_parse(stanza_get_text(authz), &error);
	if (!jid || strcmp(jid_get_bare(jid), s->bare_jid) != 0 ||
	    (bound && !jid_get_resource(jid))) {
		fail_sasl2(s,
			   "authentication with %s failed: the SASL2 success "
			   "names %s",
			   s->domain,
			   !authz ? "no identity" : "another or no valid JID");
		return;
	}
	s->auth.downgrade_checked =
		s->sasl && sasl_client_is_downgrade_checked(s->sasl);
	g_clear_pointer(&s->sasl, sasl_client_free);
	s->authenticated = true;
	/* Nothing needs the secrets any more (the token we were given is
	 * the owner's to keep). */
	stream_wipe_string(s->password);
	g_clear_pointer(&s->password, g_free);
	take_token(s, stanza_get_child(success, "token", NS_FAST));
	forget_token(s);
	g_clear_pointer(&s->fast_cb, g_bytes_unref);
	g_clear_pointer(&s->sasl2_features, stanza_free);

	if (resumed && s->resume) {
		/* XEP-0198 §5 inside SASL2: the old session goes on. */
		s->auth.sm_inline = true;
		stream_on_resumed(s, resumed);
		return;
	}
	if (s->resume) {
		g_debug("xmpp stream: %s could not resume the stream inside "
			"SASL2; %s",
			s->domain,
			s->bind2_requested ? "bound a new one"
					   : "starting a new session");
		g_clear_pointer(&s->resume, stream_mgmt_free);
	}
	if (bind_failed) {
		fail_bind2(s, bind_failed);
		return;
	}
	if (bound) {
		g_free(s->full_jid);
		s->full_jid = g_strdup(jid_get_full(jid));
		g_debug("xmpp stream: bound %s (Bind2)", s->full_jid);
		on_bound(s, bound);
	}
	/* §2.6.1: no restart; the features follow in this stream. */
	stream_set_state(s, XMPP_SESSION_STATE_STREAM_OPENING);
}

void stream_sasl2_on_features(XmppStream *s, const Stanza *features)
{
	stream_note_features(s, features);
	if (!s->bind2_done) {
		stream_begin_bind(s, features);
		return;
	}
	stream_set_state(s, XMPP_SESSION_STATE_BINDING);
	stream_finish_binding(s);
}

/* <failure/> (XEP-0388 §2.6.2): conditions are RFC 6120's. */
static void on_failure(XmppStream *s, const Stanza *failure)
{
	g_autofree char *clipped = NULL;
	const char *condition =
		stream_read_sasl_failure(failure, NS_SASL2, &clipped);
	XmppSessionEnd reason;

	if (s->fast_in_use) {
		/* XEP-0484 §3.4: the token is gone (expired, revoked); the
		 * password once, in this stream, with a request for a new
		 * one. A refusal of that is final for this attempt. */
		g_debug("xmpp stream: %s refused our FAST token (%s); "
			"logging in with the password",
			s->domain, condition);
		s->fast_refused = true;
		forget_token(s);
		send_authenticate(s, false);
		return;
	}
	reason = stream_sasl_failure_reason(condition);
	if (reason != XMPP_SESSION_END_AUTH_FAILED)
		s->sasl2_failed = true;
	end_sasl2(s, reason, "authentication with %s failed: %s%s%s", s->domain,
		  condition, clipped ? ": " : "", clipped ? clipped : "");
}

/* <continue/> (XEP-0388 §2.6.3): we know no task; say so and stop. */
static void on_continue(XmppStream *s, const Stanza *cont)
{
	const Stanza *tasks = stanza_get_child(cont, "tasks", NS_SASL2);
	const Stanza *first =
		tasks ? stanza_get_child(tasks, "task", NS_SASL2) : NULL;
	g_autofree char *name = first ? stream_clip_text(stanza_get_text(first),
							 MAX_ERROR_TEXT_BYTES)
				      : g_strdup("none named");

	stream_send_text(s, "<abort xmlns='" NS_SASL2 "'/>");
	fail_sasl2(s,
		   "authentication with %s failed: it asks for a SASL2 task "
		   "we do not support (%s); trying legacy SASL next time",
		   s->domain, name);
}

void stream_on_sasl2_element(XmppStream *s, const Stanza *el)
{
	const char *name = stanza_get_name(el);

	if (strcmp(name, "challenge") == 0)
		on_challenge(s, el);
	else if (strcmp(name, "success") == 0)
		on_success(s, el);
	else if (strcmp(name, "failure") == 0)
		on_failure(s, el);
	else if (strcmp(name, "continue") == 0)
		on_continue(s, el);
}

void stream_sasl2_clear(XmppStream *s)
{
	forget_token(s);
	stream_wipe_string(s->new_token);
	g_clear_pointer(&s->new_token, g_free);
	g_clear_pointer(&s->new_token_expiry, g_free);
	g_clear_pointer(&s->fast_cb, g_bytes_unref);
	g_clear_pointer(&s->sasl2_features, stanza_free);
	g_clear_pointer(&s->user_agent_id, g_free);
	g_clear_pointer(&s->device, g_free);
}

void xmpp_stream_get_auth_hints(const XmppStream *s, XmppAuthHints *ret)
{
	*ret = (XmppAuthHints){
		.sasl2_failed = s->sasl2_failed,
		.fast_refused = s->fast_refused,
	};
}

bool xmpp_stream_steal_fast_token(XmppStream *s, char **ret_token,
				  FastMechanism *ret_mechanism,
				  char **ret_expiry)
{
	if (!s->new_token)
		return false;
	*ret_token = g_steal_pointer(&s->new_token);
	*ret_mechanism = s->new_token_mech;
	*ret_expiry = g_steal_pointer(&s->new_token_expiry);
	if (!*ret_expiry)
		*ret_expiry = g_strdup("");
	return true;
}
