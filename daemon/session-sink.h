/* SPDX-License-Identifier: MIT */
/*
 * The XmppSession as a Connection's byte sink: bytes go from the socket
 * straight into the session and its output straight back, with no layer in
 * between (STYLE.md §11 "the presence path is short"). Pass these functions
 * and a SessionSink to connection_new().
 *
 * On the way it notes whether the session is inside verified TLS each time
 * bytes arrive, which the retry rule needs (retry-policy.h): an element
 * read in plaintext must not stop our attempts.
 */
#pragma once

#include <stdbool.h>

#include "core/xmpp-session.h"
#include "daemon/connection.h"

typedef struct {
	XmppSession *session; /* borrowed */
	bool handshake_seen;  /* the TLS handshake was under way */
	/* Input has been fed to a session past its (verifying) handshake. */
	bool tls_verified;
} SessionSink;

/* Starts watching session (borrowed; must outlive the sink's use). */
void session_sink_init(SessionSink *sink, XmppSession *session);

/*
 * True when the session was already inside verified TLS the last time
 * bytes arrived (or the timer fired): what ended it then came through TLS.
 * It errs towards false: a stream that ends in the same read as its
 * handshake counts as plaintext (TODO(#12): the session should say so).
 */
bool session_sink_is_tls_verified(const SessionSink *sink);

/*
 * xmpp_session_{start,feed,eof,take_output,get_deadline,tick}; the sink
 * pointer they get is a SessionSink. Transfer none, static.
 */
const ConnectionSinkFuncs *session_sink_get_funcs(void);
