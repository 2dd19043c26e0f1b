/* SPDX-License-Identifier: MIT */
/*
 * XEP-0198 counters and the unacked queue. The queue is a GQueue of
 * GBytes, oldest at the head; its entries are the last n_queued of the
 * n_unacked stanzas not acknowledged yet (fewer only after an overflow).
 */
#include "config.h"

#include <string.h>

#include "core/stream-mgmt.h"

G_DEFINE_QUARK(stream - mgmt - error - quark, stream_mgmt_error)

struct _StreamMgmt {
	uint32_t inbound;   /* our h: stanzas handled from the server */
	uint32_t acked;	    /* the server's last h */
	uint32_t n_unacked; /* sent - acked */
	GQueue queue;	    /* GBytes copies, oldest first */
	size_t queue_bytes;
	bool overflowed; /* a copy was dropped: no resumption */
	char *resume_id;
	uint32_t max_seconds;
	char *jid;
	bool has_learned;
	StreamMgmtLearned learned; /* .nick is learned_nick */
	char *learned_nick;
};

StreamMgmt *stream_mgmt_new(void)
{
	StreamMgmt *sm = g_new0(StreamMgmt, 1);

	g_queue_init(&sm->queue);
	return sm;
}

static void clear_queue(StreamMgmt *sm)
{
	g_queue_clear_full(&sm->queue, (GDestroyNotify)g_bytes_unref);
	sm->queue_bytes = 0;
}

void stream_mgmt_free(StreamMgmt *sm)
{
	if (!sm)
		return;
	clear_queue(sm);
	g_free(sm->resume_id);
	g_free(sm->jid);
	g_free(sm->learned_nick);
	g_free(sm);
}

void stream_mgmt_start(StreamMgmt *sm)
{
	g_return_if_fail(sm != NULL);

	clear_queue(sm);
	sm->inbound = 0;
	sm->acked = 0;
	sm->n_unacked = 0;
	sm->overflowed = false;
	g_clear_pointer(&sm->resume_id, g_free);
	sm->max_seconds = 0;
	stream_mgmt_set_learned(sm, NULL);
}

void stream_mgmt_set_enabled(StreamMgmt *sm, const char *id, bool resume,
			     uint32_t max_seconds)
{
	g_return_if_fail(sm != NULL);

	g_clear_pointer(&sm->resume_id, g_free);
	if (resume && id && *id && strlen(id) <= STREAM_MGMT_MAX_ID_BYTES)
		sm->resume_id = g_strdup(id);
	sm->max_seconds = max_seconds;
}

const char *stream_mgmt_get_resume_id(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, NULL);

	return sm->resume_id;
}

uint32_t stream_mgmt_get_max_seconds(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, 0);

	return sm->max_seconds;
}

bool stream_mgmt_can_resume(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, false);

	return sm->resume_id && !sm->overflowed;
}

void stream_mgmt_forget_resumption(StreamMgmt *sm)
{
	g_return_if_fail(sm != NULL);

	g_clear_pointer(&sm->resume_id, g_free);
}

void stream_mgmt_set_jid(StreamMgmt *sm, const char *full_jid)
{
	g_return_if_fail(sm != NULL);

	g_free(sm->jid);
	sm->jid = g_strdup(full_jid);
}

const char *stream_mgmt_get_jid(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, NULL);

	return sm->jid;
}

void stream_mgmt_set_learned(StreamMgmt *sm, const StreamMgmtLearned *learned)
{
	g_return_if_fail(sm != NULL);

	char *nick = learned ? g_strdup(learned->nick) : NULL;

	g_free(sm->learned_nick);
	sm->has_learned = learned != NULL;
	sm->learned = learned ? *learned : (StreamMgmtLearned){0};
	sm->learned_nick = nick;
	sm->learned.nick = nick;
}

const StreamMgmtLearned *stream_mgmt_get_learned(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, NULL);

	return sm->has_learned ? &sm->learned : NULL;
}

void stream_mgmt_count_inbound(StreamMgmt *sm)
{
	g_return_if_fail(sm != NULL);

	sm->inbound++; /* wraps at 2^32 (§4) */
}

uint32_t stream_mgmt_get_inbound(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, 0);

	return sm->inbound;
}

static void drop_oldest(StreamMgmt *sm)
{
	GBytes *old = g_queue_pop_head(&sm->queue);

	if (!old)
		return;
	sm->queue_bytes -= g_bytes_get_size(old);
	g_bytes_unref(old);
}

void stream_mgmt_push_outbound(StreamMgmt *sm, const char *xml, size_t len)
{
	g_return_if_fail(sm != NULL);
	g_return_if_fail(xml != NULL || len == 0);

	/* More unacked stanzas than 2^32 would make h ambiguous; the queue
	 * bound gives up resumption long before. */
	if (sm->n_unacked < UINT32_MAX)
		sm->n_unacked++;
	/* NUL-terminated copy (the GBytes size excludes the NUL). */
	g_queue_push_tail(
		&sm->queue,
		g_bytes_new_take(g_strndup(xml ? xml : "", len), len));
	sm->queue_bytes += len;
	while (sm->queue.length > STREAM_MGMT_MAX_QUEUE ||
	       (sm->queue_bytes > STREAM_MGMT_MAX_QUEUE_BYTES &&
		sm->queue.length > 0)) {
		drop_oldest(sm);
		sm->overflowed = true;
	}
}

uint32_t stream_mgmt_get_n_unacked(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, 0);

	return sm->n_unacked;
}

size_t stream_mgmt_get_n_queued(const StreamMgmt *sm)
{
	g_return_val_if_fail(sm != NULL, 0);

	return sm->queue.length;
}

const char *stream_mgmt_get_queued(const StreamMgmt *sm, size_t index,
				   size_t *ret_len)
{
	GBytes *bytes;
	gsize len = 0;
	const char *data;

	g_return_val_if_fail(sm != NULL, NULL);

	bytes = g_queue_peek_nth((GQueue *)&sm->queue, (guint)index);
	if (!bytes)
		return NULL;
	data = g_bytes_get_data(bytes, &len);
	if (ret_len)
		*ret_len = len;
	return data ? data : "";
}

bool stream_mgmt_ack(StreamMgmt *sm, uint32_t h, GError **error)
{
	uint32_t delta;

	g_return_val_if_fail(sm != NULL, false);

	delta = h - sm->acked; /* modulo 2^32 (§4) */
	if (delta == 0)
		return true;
	if (delta > sm->n_unacked) {
		/* Either a stale ack that went backwards (it looks huge
		 * modulo 2^32) or one for stanzas never sent. */
		if ((uint32_t)(sm->acked - h) <= UINT32_MAX / 2)
			return true;
		g_set_error(error, STREAM_MGMT_ERROR, STREAM_MGMT_ERROR_BAD_ACK,
			    "the server acknowledged %u stanzas, %u were "
			    "sent",
			    h, sm->acked + sm->n_unacked);
		return false;
	}
	sm->acked = h;
	sm->n_unacked -= delta;
	while (sm->queue.length > sm->n_unacked)
		drop_oldest(sm);
	return true;
}

bool stream_mgmt_parse_h(const char *text, uint32_t *ret_h)
{
	guint64 value;

	g_return_val_if_fail(ret_h != NULL, false);

	if (!text || !g_ascii_isdigit(*text))
		return false;
	if (!g_ascii_string_to_unsigned(text, 10, 0, UINT32_MAX, &value, NULL))
		return false;
	*ret_h = (uint32_t)value;
	return true;
}
