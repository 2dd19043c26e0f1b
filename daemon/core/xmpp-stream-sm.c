/* SPDX-License-Identifier: MIT */
/*
 * XEP-0198 inside the stream (enable, acks, resumption) and the keepalive
 * that tells a dead link from a quiet one (XEP-0199 ping, or <r/> once
 * stream management is on). The counters and the unacked queue are in
 * stream-mgmt.c.
 */
#include "config.h"

#include <string.h>

#include "core/xmpp-stream-private.h"

/*
 * XEP-0198 §3: after binding, before anything else, so that what the
 * owner sends next (the roster request) is already counted.
 */
void stream_enable_sm(XmppStream *s)
{
	/* Bind2 asked for it inline (XEP-0386 §2.5): not twice. */
	if (!s->sm_offered || s->sm_active ||
	    (s->bind2_done && s->sm_inline_requested))
		return;
	if (!s->sm)
		s->sm = stream_mgmt_new();
	stream_mgmt_start(s->sm);
	stream_mgmt_set_jid(s->sm, s->full_jid);
	stream_send_text(s,
			 "<enable xmlns='" NS_STREAM_MGMT "' resume='true'/>");
	s->sm_active = true;
}

/* A stanza went out: count and queue it until acked (XEP-0198 §4). */
void stream_after_send(XmppStream *s, const Stanza *stanza, const GString *xml)
{
	if (!s->sm_active || !stream_is_counted_stanza(stanza))
		return;
	stream_mgmt_push_outbound(s->sm, xml->str, xml->len);
	/* Ask for an ack, one question at a time, so the queue drains
	 * while we are online. */
	if (s->state == XMPP_SESSION_STATE_ONLINE && !s->ack_requested &&
	    !stream_ended(s)) {
		s->ack_requested = true;
		stream_send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
	}
}

static void send_ack(XmppStream *s)
{
	g_autofree char *a = g_strdup_printf("<a xmlns='" NS_STREAM_MGMT
					     "' h='%" G_GUINT32_FORMAT "'/>",
					     stream_mgmt_get_inbound(s->sm));

	stream_send_text(s, a);
}

/* An <a/> or <resumed/> h that is not a number, or acks stanzas never
 * sent: §4 says the stream is broken. */
static bool apply_ack(XmppStream *s, const Stanza *el)
{
	g_autoptr(GError) error = NULL;
	uint32_t h;

	if (!stream_mgmt_parse_h(stanza_get_attr(el, "h"), &h)) {
		stream_send_error(s, "undefined-condition");
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR,
			   "%s sent a stream management ack without a valid "
			   "count",
			   s->domain);
		return false;
	}
	if (!stream_mgmt_ack(s->sm, h, &error)) {
		stream_send_error(s, "undefined-condition");
		stream_end(s, XMPP_SESSION_END_SERVER_ERROR, "%s: %s",
			   s->domain, error->message);
		return false;
	}
	return true;
}

/* AUTHENTICATED → RESUMING (XEP-0198 §5). */
void stream_begin_resume(XmppStream *s)
{
	g_autofree char *id =
		g_markup_escape_text(stream_mgmt_get_resume_id(s->resume), -1);
	g_autofree char *text =
		g_strdup_printf("<resume xmlns='" NS_STREAM_MGMT
				"' previd='%s' h='%" G_GUINT32_FORMAT "'/>",
				id, stream_mgmt_get_inbound(s->resume));

	stream_set_state(s, XMPP_SESSION_STATE_RESUMING);
	stream_send_text(s, text);
}

/*
 * <resumed/>: the server kept our session. What it did not handle goes
 * out again, in order; then we are online as before, table and all.
 */
void stream_on_resumed(XmppStream *s, const Stanza *el)
{
	const char *jid;
	size_t n;

	g_clear_pointer(&s->sm, stream_mgmt_free);
	s->sm = g_steal_pointer(&s->resume);
	s->sm_active = true;
	if (g_strcmp0(stanza_get_attr(el, "previd"),
		      stream_mgmt_get_resume_id(s->sm)) != 0)
		g_debug("xmpp stream: <resumed/> names another stream id");
	if (!apply_ack(s, el))
		return;
	jid = stream_mgmt_get_jid(s->sm);
	g_free(s->full_jid);
	s->full_jid = g_strdup(jid);
	n = stream_mgmt_get_n_queued(s->sm);
	g_debug("xmpp stream: resumed the stream with %s, sending %zu "
		"unacknowledged stanzas again",
		s->domain, n);
	for (size_t i = 0; i < n && !stream_ended(s); i++) {
		size_t len = 0;
		const char *xml = stream_mgmt_get_queued(s->sm, i, &len);
		g_autofree char *copy = g_strndup(xml, len);

		stream_log_wire(s, true, copy);
		stream_send_raw(s, xml, len);
	}
	if (stream_ended(s))
		return;
	stream_set_state(s, XMPP_SESSION_STATE_ONLINE);
	s->deadline = INT64_MAX;
	s->last_rx = s->now;
	s->probe_sent = 0;
	s->ack_requested = false;
	if (n) {
		s->ack_requested = true;
		stream_send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
	}
	if (s->callbacks.resumed)
		s->callbacks.resumed(s->user_data, s->full_jid);
}

void stream_on_sm_element(XmppStream *s, const Stanza *el)
{
	const char *name = stanza_get_name(el);

	if (s->state == XMPP_SESSION_STATE_RESUMING) {
		if (strcmp(name, "resumed") == 0) {
			stream_on_resumed(s, el);
		} else if (strcmp(name, "failed") == 0) {
			/* §5: the session is gone; start a new one. */
			g_debug("xmpp stream: %s could not resume the stream; "
				"starting a new session",
				s->domain);
			g_clear_pointer(&s->resume, stream_mgmt_free);
			stream_send_bind(s);
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
		g_debug("xmpp stream: %s refused stream management", s->domain);
		s->sm_active = false;
		g_clear_pointer(&s->sm, stream_mgmt_free);
	} else if (strcmp(name, "r") == 0) {
		send_ack(s);
	} else if (strcmp(name, "a") == 0) {
		s->ack_requested = false;
		(void)apply_ack(s, el);
	}
}

/* ---- keepalive ---------------------------------------------------------- */

static int64_t add_clamped(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* ONLINE: the keepalive is the only timer of the stream. */
int64_t stream_online_deadline(const XmppStream *s)
{
	return s->probe_sent ? add_clamped(s->probe_sent, s->keepalive_timeout)
			     : add_clamped(s->last_rx, s->keepalive_idle);
}

/*
 * XEP-0199 §4.2 client-to-server ping, or with stream management an <r/>
 * (XEP-0198 §4), which any server that offers it must answer. The ping's
 * answer needs no handler: any byte is the sign of life.
 */
static void send_keepalive(XmppStream *s)
{
	s->probe_sent = s->now > 0 ? s->now : 1;
	if (s->sm_active) {
		stream_send_text(s, "<r xmlns='" NS_STREAM_MGMT "'/>");
	} else {
		g_autoptr(Stanza) iq = stanza_new("iq", NS_CLIENT);
		g_autofree char *id = stream_next_id(s);

		stanza_set_attr(iq, "type", "get");
		stanza_set_attr(iq, "id", id);
		stanza_set_attr(iq, "to", s->domain);
		stanza_add_child_new(iq, "ping", NS_PING);
		xmpp_stream_send(s, iq);
	}
}

void stream_tick_online(XmppStream *s, int64_t now)
{
	if (s->probe_sent) {
		if (now >= add_clamped(s->probe_sent, s->keepalive_timeout))
			stream_end(s, XMPP_SESSION_END_NETWORK,
				   "no answer from %s for %" G_GINT64_FORMAT
				   " s; the connection is dead",
				   s->domain,
				   (now - s->last_rx) / G_USEC_PER_SEC);
		return;
	}
	if (now >= add_clamped(s->last_rx, s->keepalive_idle))
		send_keepalive(s);
}

/* ---- resumption across streams ----------------------------------------- */

StreamMgmt *xmpp_stream_steal_resume_state(XmppStream *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	/* Closed on purpose: contacts saw us leave; nothing to resume. */
	if (s->closed_by_us)
		return NULL;
	/* Dropped again while resuming: the old stream is still the one. */
	if (s->resume)
		return g_steal_pointer(&s->resume);
	if (!s->sm || !s->sm_active || !stream_mgmt_can_resume(s->sm))
		return NULL;
	return g_steal_pointer(&s->sm);
}

void xmpp_stream_set_resume_state(XmppStream *s, StreamMgmt *sm)
{
	g_return_if_fail(s != NULL);

	stream_mgmt_free(s->resume);
	s->resume = sm;
}
