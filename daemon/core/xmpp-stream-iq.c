/* SPDX-License-Identifier: MIT */
/*
 * IQs inside the stream: the table of IQs we sent that wait for an answer
 * (id → handler, RFC 6120 §8.2.3), the check of who may answer, resource
 * binding (RFC 6120 §7) and the legacy session establishment some old
 * servers still require (RFC 3921 §3). Binding ends in bound(): what is
 * fetched once bound (the roster) belongs to the session.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/roster.h"
#include "core/xmpp-stream-private.h"

/* We send a handful at a time; the bound only stops a runaway owner. */
#define MAX_PENDING_IQS 1024u

typedef struct {
	XmppIqHandler handler;
	void *data;
	char *to; /* NULL: our server or account */
} PendingIq;

static void pending_iq_free(gpointer p)
{
	PendingIq *iq = p;

	g_free(iq->to);
	g_free(iq);
}

void stream_pending_init(XmppStream *s)
{
	s->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   pending_iq_free);
}

bool xmpp_stream_send_iq(XmppStream *s, Stanza *iq, XmppIqHandler handler,
			 void *data)
{
	g_autofree char *id = NULL;
	const char *to = stanza_get_attr(iq, "to");
	PendingIq *p;

	g_return_val_if_fail(s != NULL, false);
	g_return_val_if_fail(iq != NULL, false);
	g_return_val_if_fail(handler != NULL, false);

	if (stream_ended(s))
		return false;
	if (g_hash_table_size(s->pending) >= MAX_PENDING_IQS) {
		g_warning("xmpp stream: %u IQs unanswered by %s; not sending "
			  "more",
			  g_hash_table_size(s->pending), s->domain);
		return false;
	}
	id = stream_next_id(s);
	stanza_set_attr(iq, "id", id);
	p = g_new0(PendingIq, 1);
	p->handler = handler;
	p->data = data;
	p->to = g_strdup(to);
	g_hash_table_insert(s->pending, g_steal_pointer(&id), p);
	xmpp_stream_send(s, iq);
	return !stream_ended(s);
}

/*
 * Who may answer an IQ we sent to our own server or account: no from, our
 * domain, or our bare JID (RFC 6120 §8.1.2.1, RFC 6121 §2.1.4). Not a
 * full JID, not even one of our own account: another of our resources is
 * not the server, and must not be able to answer our bind or roster get.
 */
static bool is_from_own_server(const XmppStream *s, const char *from)
{
	g_autoptr(Jid) jid = NULL;

	if (!from)
		return true;
	jid = jid_parse(from, NULL);
	if (!jid || !jid_is_bare(jid))
		return false;
	if (!jid_get_local(jid))
		return strcmp(jid_get_domain(jid), s->domain) == 0;
	return strcmp(jid_get_bare(jid), s->bare_jid) == 0;
}

static bool is_own_address(const XmppStream *s, const char *to)
{
	return !to || strcmp(to, s->bare_jid) == 0 ||
	       strcmp(to, s->domain) == 0;
}

/* An answer must come from where the request went (§8.1.2.1), compared
 * as JIDs so that case and normalization do not matter. */
static bool is_from_addressee(const char *to, const char *from)
{
	g_autoptr(Jid) a = NULL;
	g_autoptr(Jid) b = NULL;

	if (!from)
		return false;
	a = jid_parse(to, NULL);
	b = jid_parse(from, NULL);
	return a && b && strcmp(jid_get_full(a), jid_get_full(b)) == 0;
}

void stream_on_iq_answer(XmppStream *s, const Stanza *iq)
{
	const char *id = stanza_get_attr(iq, "id");
	const char *from = stanza_get_attr(iq, "from");
	gpointer key = NULL, value = NULL;
	PendingIq *p;
	bool trusted;

	if (!id || !g_hash_table_lookup_extended(s->pending, id, &key, &value))
		return;
	p = value;
	trusted = is_own_address(s, p->to) ? is_from_own_server(s, from)
					   : is_from_addressee(p->to, from);
	/* A forged answer must not cancel the real one: it stays pending. */
	if (!trusted)
		return;
	g_hash_table_steal(s->pending, id);
	p->handler(p->data, iq);
	g_free(key);
	pending_iq_free(p);
}

void stream_error_condition(const Stanza *iq, const char **ret_cond,
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

/* ---- bind --------------------------------------------------------------- */

/*
 * STREAM_OPENING (authenticated) → RESUMING when there is a stream to
 * resume and the server offers stream management (XEP-0198 §5), else
 * BINDING (RFC 6120 §7).
 */
void stream_begin_bind(XmppStream *s, const Stanza *features)
{
	stream_note_features(s, features);
	if (s->resume && s->sm_offered) {
		stream_begin_resume(s);
		return;
	}
	if (s->resume) {
		g_debug("xmpp stream: %s no longer offers stream "
			"management; starting a new session",
			s->domain);
		g_clear_pointer(&s->resume, stream_mgmt_free);
	}
	stream_send_bind(s);
}

/* What the features after authentication offer (RFC 6120 §4.3.2). */
void stream_note_features(XmppStream *s, const Stanza *features)
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
}

/* Bound, and the legacy session if needed: stream management first
 * (XEP-0198 §3, so what the owner sends next is counted), then up. */
void stream_finish_binding(XmppStream *s)
{
	stream_enable_sm(s);
	if (stream_ended(s))
		return;
	stream_set_state(s, XMPP_SESSION_STATE_ROSTER);
	if (s->callbacks.bound)
		s->callbacks.bound(s->user_data, s->full_jid);
}

static void on_session_result(void *data, const Stanza *iq)
{
	XmppStream *s = data;

	if (s->state != XMPP_SESSION_STATE_BINDING)
		return;
	if (g_strcmp0(stanza_get_attr(iq, "type"), "error") == 0) {
		const char *cond, *text;

		stream_error_condition(iq, &cond, &text);
		stream_send_close(s);
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
			   "%s refused session establishment: %s", s->domain,
			   cond);
		return;
	}
	stream_finish_binding(s);
}

/* Legacy session establishment (RFC 3921 §3), still in BINDING. */
static void begin_session(XmppStream *s)
{
	g_autoptr(Stanza) iq = stanza_new("iq", NS_CLIENT);

	stanza_set_attr(iq, "type", "set");
	stanza_add_child_new(iq, "session", NS_SESSION);
	(void)xmpp_stream_send_iq(s, iq, on_session_result, s);
}

static void fail_bind(XmppStream *s, const Stanza *iq)
{
	const char *cond, *text;
	g_autofree char *clipped = NULL;

	stream_error_condition(iq, &cond, &text);
	if (text && *text)
		clipped = stream_clip_text(text, MAX_ERROR_TEXT_BYTES);
	stream_send_close(s);
	/* §7.6.2.2: conflict when the resource is taken and the server
	 * will not override it. */
	stream_end(s,
		   strcmp(cond, "conflict") == 0
			   ? XMPP_SESSION_END_CONFLICT
			   : XMPP_SESSION_END_SERVER_ERROR,
		   "%s refused to bind resource '%s': %s%s%s", s->domain,
		   s->resource ? s->resource : "", cond, clipped ? ": " : "",
		   clipped ? clipped : "");
}

static void on_bind_result(void *data, const Stanza *iq)
{
	XmppStream *s = data;
	Stanza *bind = stanza_get_child(iq, "bind", NS_BIND);
	Stanza *jid_el = bind ? stanza_get_child(bind, "jid", NS_BIND) : NULL;
	g_autoptr(Jid) jid = NULL;
	g_autoptr(GError) error = NULL;

	if (s->state != XMPP_SESSION_STATE_BINDING)
		return;
	if (g_strcmp0(stanza_get_attr(iq, "type"), "error") == 0) {
		fail_bind(s, iq);
		return;
	}
	if (jid_el)
		jid = jid_parse(stanza_get_text(jid_el), &error);
	if (!jid || !jid_get_resource(jid) ||
	    strcmp(jid_get_bare(jid), s->bare_jid) != 0) {
		stream_send_close(s);
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
			   "%s bound an invalid JID%s%s", s->domain,
			   error ? ": " : "", error ? error->message : "");
		return;
	}
	g_free(s->full_jid);
	s->full_jid = g_strdup(jid_get_full(jid));
	g_debug("xmpp stream: bound %s", s->full_jid);
	if (s->need_session)
		begin_session(s);
	else
		stream_finish_binding(s);
}

void stream_send_bind(XmppStream *s)
{
	g_autoptr(Stanza) iq = NULL;
	Stanza *bind;

	if (!s->has_bind) {
		stream_send_close(s);
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
			   "%s offers no resource binding", s->domain);
		return;
	}
	iq = stanza_new("iq", NS_CLIENT);
	stanza_set_attr(iq, "type", "set");
	bind = stanza_add_child_new(iq, "bind", NS_BIND);
	if (s->resource)
		stanza_add_child_text(bind, "resource", NULL, s->resource);
	stream_set_state(s, XMPP_SESSION_STATE_BINDING);
	(void)xmpp_stream_send_iq(s, iq, on_bind_result, s);
}
