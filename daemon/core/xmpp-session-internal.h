/* SPDX-License-Identifier: MIT */
/*
 * The XmppSession's state and the helpers its files share: xmpp-session.c
 * (roster, presence, IQ dispatch, PEP nick, CSI, resync),
 * xmpp-session-caps.c (XEP-0115/0030 both ways, XEP-0012) and
 * xmpp-session-blocking.c (XEP-0191). Nothing outside
 * daemon/core/xmpp-session*.c includes this.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/blocking.h"
#include "core/caps-cache.h"
#include "core/caps.h"
#include "core/presence.h"
#include "core/stream-mgmt.h"
#include "core/xmpp-session.h"
#include "core/xmpp-stream.h"

#define NS_CLIENT "jabber:client"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"

struct _XmppSession {
	XmppStream *stream;
	ContactTable *contacts; /* borrowed */
	XmppSessionCallbacks callbacks;
	void *user_data;

	/* Resynchronising the table after a new session (contacts.h). */
	int64_t resync_grace;
	bool resync;	   /* stale resources marked for this session */
	int64_t settle_at; /* INT64_MAX: nothing to settle */

	/* XEP-0172 nick over PEP (XEP-0163): disco#info on our bare JID
	 * first, publish only where it shows the pubsub/pep identity. */
	char *nick;	      /* NULL: none set */
	bool pep;	      /* the disco#info result showed pubsub/pep */
	bool nick_published;  /* something was published this session */
	char *published_nick; /* what (NULL: an empty <nick/>) */

	/* What the server offers (PEP, blocking) is known and the block
	 * list fetched: a resumption of this stream takes it over
	 * (StreamMgmtLearned) instead of asking again. */
	bool discovered;
	/* From the stream this one resumes; used once <resumed/> says the
	 * server still holds that session. */
	StreamMgmtLearned *learned;

	/* Our caps (XEP-0115): recreated when blocking becomes known; the
	 * previous one still answers for its node#ver, which contacts may
	 * be asking about while our new presence is on its way. */
	CapsOwn *caps_own;
	CapsOwn *caps_own_prev; /* NULL: none */

	/* Contacts' caps: the cache (borrowed, or our own when none is
	 * lent) and the disco#info queries in flight, iq id → cache key. */
	CapsCache *caps_cache;
	CapsCache *own_caps_cache;
	GHashTable *caps_iq_ids;

	/* XEP-0191: the server offers it (disco#info of our account or of
	 * the domain); the list is borrowed, or our own when none is lent. */
	bool blocking;
	BlockList *blocked;
	BlockList *own_blocked;
	/* Our block/unblock requests in flight: iq id → "+jid" or "-jid".
	 * Applied on the server's result as well as by its push: jabberd2
	 * 2.7 answers a block without the push XEP-0191 §3.3 requires. */
	GHashTable *block_requests;
};

/* <iq type/>, no id yet. Transfer full. */
Stanza *xmpp_session_new_iq(const char *type);
/* The answer to request (id and to copied from it), sent. */
void xmpp_session_send_iq_reply(XmppSession *s, const Stanza *request,
				Stanza *reply);
/* An empty result, or the payload (transfer full; may be NULL). */
void xmpp_session_send_iq_result(XmppSession *s, const Stanza *request,
				 Stanza *payload);
/* <error type=error_type><condition xmlns=stanzas/></error>. */
void xmpp_session_send_iq_error(XmppSession *s, const Stanza *request,
				const char *error_type, const char *condition);
/* The condition of an IQ error (RFC 6120 §8.3.3), for logs. */
const char *xmpp_session_iq_error_condition(const Stanza *iq);
bool xmpp_session_is_payload(const Stanza *payload, const char *name,
			     const char *ns);
/* contact_changed(bare) when changed. */
void xmpp_session_report_change(XmppSession *s, const char *bare, bool changed);
bool xmpp_session_is_over(const XmppSession *s);

/* ---- xmpp-session-caps.c ------------------------------------------------ */

void xmpp_session_caps_init(XmppSession *s);
void xmpp_session_caps_clear(XmppSession *s);
/* Adds our <c/> to an available presence we send. */
void xmpp_session_caps_add_c(XmppSession *s, Stanza *presence);
/* disco#info, disco#items, last activity: true when answered here. */
bool xmpp_session_caps_on_request(XmppSession *s, const Stanza *iq, bool is_get,
				  const Stanza *payload);
/* A contact resource's available presence (with or without <c/>) and its
 * going away (resource NULL: every resource of bare). */
void xmpp_session_caps_on_available(XmppSession *s, const char *from_full,
				    const Stanza *presence);
/* The same for a presence record (presence-record.h). */
void xmpp_session_caps_on_available_record(XmppSession *s,
					   const char *from_full,
					   const PresenceRecord *record);
void xmpp_session_caps_on_gone(XmppSession *s, const char *bare,
			       const char *from_full);
/* Our features changed (blocking now known): new ver, owner told. */
void xmpp_session_caps_set_blocking(XmppSession *s, bool blocking);
/* The features of the stream this one resumed: the ver the server
 * already has in our presence, nobody told. */
void xmpp_session_caps_resume(XmppSession *s, bool blocking);
int64_t xmpp_session_caps_get_deadline(const XmppSession *s);
void xmpp_session_caps_tick(XmppSession *s, int64_t now);
/* The stream ended: no answer will come. */
void xmpp_session_caps_end(XmppSession *s, bool may_resume);

/* ---- xmpp-session-blocking.c -------------------------------------------- */

void xmpp_session_blocking_init(XmppSession *s);
void xmpp_session_blocking_clear(XmppSession *s);
/* The disco#info result (payload) of our bare JID: blocking offered? If
 * not, the domain's is asked next. */
void xmpp_session_blocking_on_account_disco(XmppSession *s,
					    const Stanza *query);
/* A <block/>/<unblock/> push: true when it was one (answered or
 * ignored here). */
bool xmpp_session_blocking_on_request(XmppSession *s, const Stanza *iq,
				      bool is_get, const Stanza *payload);
/* Resumed (XEP-0198): blocking as the stream this one resumed knew it;
 * its list is the one kept, and pushes missed meanwhile are replayed. */
void xmpp_session_blocking_resume(XmppSession *s, bool blocking);
/* Presence from from_full must be dropped (on the list). */
bool xmpp_session_blocking_drops(const XmppSession *s, const char *from_full);
