/* SPDX-License-Identifier: MIT */
/*
 * ConnectionSinkFuncs over xmpp_session_*(): each is one call, after a
 * look at the session's state for session_sink_is_tls_verified().
 */
#include "config.h"

#include "core/xmpp-session.h"
#include "daemon/session-sink.h"

void session_sink_init(SessionSink *sink, XmppSession *session)
{
	*sink = (SessionSink){.session = session};
}

bool session_sink_is_tls_verified(const SessionSink *sink)
{
	return sink->tls_verified;
}

/*
 * The session only leaves TLS_HANDSHAKE for a later state once the
 * certificate verified (else it ends tls-failed); AUTHENTICATING and after
 * are only reached inside TLS, in both STARTTLS and direct TLS.
 */
static void note_state(SessionSink *sink)
{
	XmppSessionState state = xmpp_session_get_state(sink->session);

	switch (state) {
	case XMPP_SESSION_STATE_TLS_HANDSHAKE:
		sink->handshake_seen = true;
		return;
	case XMPP_SESSION_STATE_STREAM_OPENING:
		if (sink->handshake_seen)
			sink->tls_verified = true;
		return;
	case XMPP_SESSION_STATE_AUTHENTICATING:
	case XMPP_SESSION_STATE_RESUMING:
	case XMPP_SESSION_STATE_BINDING:
	case XMPP_SESSION_STATE_ROSTER:
	case XMPP_SESSION_STATE_ONLINE:
	case XMPP_SESSION_STATE_CLOSING:
		sink->tls_verified = true;
		return;
	case XMPP_SESSION_STATE_INIT:
	case XMPP_SESSION_STATE_STARTTLS:
	case XMPP_SESSION_STATE_CLOSED:
		return;
	}
}

static void sink_start(void *sink, int64_t now)
{
	SessionSink *s = sink;

	xmpp_session_start(s->session, now);
}

static void sink_feed(void *sink, const char *data, size_t len, int64_t now)
{
	SessionSink *s = sink;

	note_state(s);
	xmpp_session_feed(s->session, data, len, now);
}

static void sink_eof(void *sink, const GError *error)
{
	SessionSink *s = sink;

	note_state(s);
	xmpp_session_eof(s->session, error);
}

static void sink_take_output(void *sink, GByteArray *out)
{
	SessionSink *s = sink;

	xmpp_session_take_output(s->session, out);
}

static int64_t sink_get_deadline(void *sink)
{
	SessionSink *s = sink;

	return xmpp_session_get_deadline(s->session);
}

static void sink_tick(void *sink, int64_t now)
{
	SessionSink *s = sink;

	note_state(s);
	xmpp_session_tick(s->session, now);
}

static const ConnectionSinkFuncs funcs = {
	.start = sink_start,
	.feed = sink_feed,
	.eof = sink_eof,
	.take_output = sink_take_output,
	.get_deadline = sink_get_deadline,
	.tick = sink_tick,
};

const ConnectionSinkFuncs *session_sink_get_funcs(void)
{
	return &funcs;
}
