/* SPDX-License-Identifier: MIT */
/*
 * For the tests of what runs once online: a session over a stream that is
 * bound at start (xmpp_stream_new_bound_for_test), so a test begins at the
 * roster request instead of replaying TLS, SASL and bind each time.
 */
#pragma once

#include "core/xmpp-session.h"
#include "core/xmpp-stream.h"

XmppSession *xmpp_session_new_bound_for_test(
	const XmppSessionConfig *config, ContactTable *contacts,
	const XmppSessionCallbacks *callbacks, void *user_data,
	const char *full_jid, const char *const *features);
