/* SPDX-License-Identifier: MIT */
/*
 * The XmppSession as a Connection's byte sink: bytes go from the socket
 * straight into the session and its output straight back, with no layer in
 * between (STYLE.md §11 "the presence path is short"). Pass these functions
 * and the session pointer to connection_new().
 */
#pragma once

#include "daemon/connection.h"

/* xmpp_session_{start,feed,eof,take_output,get_deadline,tick}. Transfer
 * none, static. */
const ConnectionSinkFuncs *session_sink_get_funcs(void);
