/* SPDX-License-Identifier: MIT */
/*
 * ConnectionSinkFuncs over xmpp_session_*(): only the pointer type differs
 * (the connection knows its sink as void *), so each is one call.
 */
#include "config.h"

#include "core/xmpp-session.h"
#include "daemon/session-sink.h"

static void sink_start(void *sink, int64_t now)
{
	xmpp_session_start(sink, now);
}

static void sink_feed(void *sink, const char *data, size_t len, int64_t now)
{
	xmpp_session_feed(sink, data, len, now);
}

static void sink_eof(void *sink, const GError *error)
{
	xmpp_session_eof(sink, error);
}

static void sink_take_output(void *sink, GByteArray *out)
{
	xmpp_session_take_output(sink, out);
}

static int64_t sink_get_deadline(void *sink)
{
	return xmpp_session_get_deadline(sink);
}

static void sink_tick(void *sink, int64_t now)
{
	xmpp_session_tick(sink, now);
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
