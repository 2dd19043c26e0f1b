/* SPDX-License-Identifier: MIT */
/*
 * XEP-0198 Stream Management bookkeeping, no I/O: the count of stanzas we
 * handled from the server (our 'h'), the count of stanzas we sent, and a
 * copy of each sent stanza until the server acknowledges it, so that a
 * resumed stream (§5) can send again what the drop may have lost.
 *
 * XEP-0198 §4: both counters start at zero when <enable/> is sent and
 * count modulo 2^32. The queue is bounded (STREAM_MGMT_MAX_QUEUE stanzas,
 * STREAM_MGMT_MAX_QUEUE_BYTES); past the bound the oldest copy is dropped
 * and resumption is given up, since it could no longer replay everything.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STREAM_MGMT_ERROR (stream_mgmt_error_quark())
GQuark stream_mgmt_error_quark(void);

typedef enum {
	/* An ack for more stanzas than were sent (§4: the server is
	 * broken or confused; handled-count-too-high). */
	STREAM_MGMT_ERROR_BAD_ACK,
} StreamMgmtError;

#define NS_STREAM_MGMT "urn:xmpp:sm:3"
#define STREAM_MGMT_MAX_QUEUE 500u
#define STREAM_MGMT_MAX_QUEUE_BYTES ((size_t)1024 * 1024)
#define STREAM_MGMT_MAX_ID_BYTES 1024u

typedef struct _StreamMgmt StreamMgmt;

/* Transfer full. */
StreamMgmt *stream_mgmt_new(void);
void stream_mgmt_free(StreamMgmt *sm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StreamMgmt, stream_mgmt_free)

/* <enable/> sent: counters to zero, queue emptied, no resumption id. */
void stream_mgmt_start(StreamMgmt *sm);

/* <enabled/> received: id NULL (or resume false) means no resumption;
 * max_seconds 0 when the server named no limit. id is copied, clipped to
 * STREAM_MGMT_MAX_ID_BYTES. */
void stream_mgmt_set_enabled(StreamMgmt *sm, const char *id, bool resume,
			     uint32_t max_seconds);
/* Resumption id, NULL when the stream cannot be resumed. Transfer none. */
const char *stream_mgmt_get_resume_id(const StreamMgmt *sm);
/* The server's limit on how long it keeps the session (0: unknown). */
uint32_t stream_mgmt_get_max_seconds(const StreamMgmt *sm);
/* Resumption was possible and nothing was lost from the queue. */
bool stream_mgmt_can_resume(const StreamMgmt *sm);
/* Forget the resumption id (e.g. <failed/>), counters kept. */
void stream_mgmt_forget_resumption(StreamMgmt *sm);

/* The full JID the stream was bound to, carried to the resumed stream.
 * Copied; NULL before set. Transfer none. */
void stream_mgmt_set_jid(StreamMgmt *sm, const char *full_jid);
const char *stream_mgmt_get_jid(const StreamMgmt *sm);

/*
 * What the session above learned of the server once online (PEP and
 * blocking from disco#info, the nick it published), carried to the
 * resumed stream like the JID: a resumed stream is the same server
 * session, so none of it is asked again. Copied; cleared by
 * stream_mgmt_start(); NULL before set. Transfer none.
 */
typedef struct {
	bool pep;
	bool blocking;
	bool nick_published; /* something was published */
	const char *nick;    /* what: NULL for none (an empty <nick/>) */
} StreamMgmtLearned;
void stream_mgmt_set_learned(StreamMgmt *sm, const StreamMgmtLearned *learned);
const StreamMgmtLearned *stream_mgmt_get_learned(const StreamMgmt *sm);

/* One stanza from the server handled: h + 1 (mod 2^32). */
void stream_mgmt_count_inbound(StreamMgmt *sm);
uint32_t stream_mgmt_get_inbound(const StreamMgmt *sm);

/* One stanza sent: counted, and a copy of xml kept until acked. */
void stream_mgmt_push_outbound(StreamMgmt *sm, const char *xml, size_t len);
/* Stanzas sent and not acknowledged yet (also those whose copy was
 * dropped past the bound). */
uint32_t stream_mgmt_get_n_unacked(const StreamMgmt *sm);
/* Copies held, oldest first; index < stream_mgmt_get_n_queued(). The
 * text is NUL-terminated; ret_len (may be NULL) its length. */
size_t stream_mgmt_get_n_queued(const StreamMgmt *sm);
const char *stream_mgmt_get_queued(const StreamMgmt *sm, size_t index,
				   size_t *ret_len);

/*
 * <a h='…'/> or <resumed h='…'/>: the server handled h of our stanzas in
 * all; their copies are dropped. An h below the last one is ignored as a
 * late ack (true); above what was sent is an error (false, nothing
 * changes).
 */
bool stream_mgmt_ack(StreamMgmt *sm, uint32_t h, GError **error);

/* Parses an 'h' attribute: decimal 0..2^32-1. */
bool stream_mgmt_parse_h(const char *text, uint32_t *ret_h);
