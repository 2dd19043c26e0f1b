/* SPDX-License-Identifier: MIT */
/*
 * One XMPP client session, I/O-free: raw bytes in (xmpp_session_feed),
 * raw bytes out (xmpp_session_take_output), a deadline out
 * (xmpp_session_get_deadline / xmpp_session_tick), events through
 * callbacks. The link (TLS, stream, SASL, bind, XEP-0198, keepalive) is an
 * XmppStream inside (xmpp-stream.h); what runs once bound is
 * xmpp-session.c. The caller only moves bytes and keeps time.
 *
 * Negotiation is an explicit state machine (RFC 6120): stream header →
 * STARTTLS (required; or TLS first for direct TLS, XEP-0368) → stream
 * restart → SASL (strongest mechanism) → restart → resource bind → roster
 * get (RFC 6121 §2) → online. Incoming presence goes into the borrowed
 * ContactTable; unhandled IQ get/set is answered service-unavailable.
 *
 * Callbacks may call back into the session (e.g. send presence from
 * online()); they must not free it. After closed() the session is inert:
 * the caller frees it and closes the socket once output is flushed.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/blocking.h"
#include "core/caps-cache.h"
#include "core/contacts.h"
#include "core/presence.h"
#include "core/stream-mgmt.h"
#include "core/xmpp-stream.h"

typedef struct {
	/* Bound and roster received: send the initial presence now. */
	void (*online)(void *user_data, const char *full_jid);
	/* The contact's aggregated (show, status) changed in the table. */
	void (*contact_changed)(void *user_data, const char *bare_jid);
	/*
	 * The roster item of bare_jid changed in the table (roster result or
	 * push, RFC 6121 §2): added, removed (no longer a roster item there)
	 * or its name, subscription, ask or groups differ; reported once per
	 * real change, before any contact_changed the same stanza causes.
	 * May be NULL.
	 */
	void (*roster_item_changed)(void *user_data, const char *bare_jid);
	/* Inbound subscription request (RFC 6121 §3.1.2); message may be "". */
	void (*subscription_request)(void *user_data, const char *bare_jid,
				     const char *message);
	/* The inbound request of bare_jid is no longer pending: withdrawn
	 * (unsubscribe, RFC 6121 §3.3) or approved (a roster push shows
	 * subscription from/both). May be NULL. */
	void (*subscription_request_gone)(void *user_data,
					  const char *bare_jid);
	/* The session ended; error says why, for people, without secrets.
	 * error is in XMPP_SESSION_ERROR with code == reason. */
	void (*closed)(void *user_data, XmppSessionEnd reason,
		       const GError *error);
	/* --debug wire log: each stanza already redacted. May be NULL.
	 * text is the XML alone (stanza, stream header or closing tag);
	 * the caller prefixes "SEND: " or "RECV: " according to sent. */
	void (*log_wire)(void *user_data, bool sent, const char *text);
	/* XEP-0198 §5: the previous stream was resumed; the unacked stanzas
	 * went out again and the table stands. Instead of online(). */
	void (*resumed)(void *user_data, const char *full_jid);
	/* Output is waiting (xmpp_session_has_output() became true): the
	 * caller schedules one flush. May be NULL. */
	void (*output_ready)(void *user_data);
	/* Our features changed (blocking became known or went away), so
	 * our caps ver did: send the presence again (XEP-0115 §4). May be
	 * NULL. */
	void (*own_caps_changed)(void *user_data);
	/* A contact's caps ver was verified and cached (the cache changed:
	 * time to write it out). May be NULL. */
	void (*caps_learned)(void *user_data);
	/* The block list (XEP-0191) or whether the server offers blocking
	 * changed. May be NULL. */
	void (*blocked_changed)(void *user_data);
	/* Seconds since the user was last active, for XEP-0012 answers.
	 * May be NULL (0). */
	uint64_t (*idle_seconds)(void *user_data);
} XmppSessionCallbacks;

typedef struct _XmppSession XmppSession;

/* contacts is borrowed and must outlive the session. Transfer full; NULL
 * with error on a bad config (e.g. unreadable ca_file; the error names the
 * key, its code is the XmppSessionEnd such a failure would have caused). */
XmppSession *xmpp_session_new(const XmppSessionConfig *config,
			      ContactTable *contacts,
			      const XmppSessionCallbacks *callbacks,
			      void *user_data, GError **error);
void xmpp_session_free(XmppSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmppSession, xmpp_session_free)

/* The TCP connection is up: queue the stream header (or ClientHello). */
void xmpp_session_start(XmppSession *session, int64_t now);

/* Bytes read from the socket. */
void xmpp_session_feed(XmppSession *session, const char *data, size_t len,
		       int64_t now);
/* The peer closed the TCP connection (or it failed). */
void xmpp_session_eof(XmppSession *session, const GError *error);

/* Bytes to write to the socket, appended to out. */
void xmpp_session_take_output(XmppSession *session, GByteArray *out);
bool xmpp_session_has_output(const XmppSession *session);

/* Monotonic microseconds of the next timer, INT64_MAX when none. */
int64_t xmpp_session_get_deadline(const XmppSession *session);
void xmpp_session_tick(XmppSession *session, int64_t now);

XmppSessionState xmpp_session_get_state(const XmppSession *session);
/* Bound full JID while ONLINE, else NULL. Transfer none. */
const char *xmpp_session_get_full_jid(const XmppSession *session);

/* How the session was authenticated (mechanism NONE before SASL). */
void xmpp_session_get_auth_info(const XmppSession *session, XmppAuthInfo *ret);
/* What the login learned for the next attempt, and a new FAST token:
 * see xmpp_stream_get_auth_hints() / xmpp_stream_steal_fast_token(). */
void xmpp_session_get_auth_hints(const XmppSession *session,
				 XmppAuthHints *ret);
bool xmpp_session_steal_fast_token(XmppSession *session, char **ret_token,
				   FastMechanism *ret_mechanism,
				   char **ret_expiry);

/* Sends presence (broadcast or directed) when ONLINE; false otherwise. */
bool xmpp_session_send_presence(XmppSession *session, const PresenceSpec *spec);
/* The server offered XEP-0352 client state indication (stream feature
 * <csi xmlns='urn:xmpp:csi:0'/> after authentication). */
bool xmpp_session_has_csi(const XmppSession *session);
/* XEP-0352: <active/> (true) or <inactive/>; false (nothing sent) when
 * not ONLINE or the server does not offer CSI. */
bool xmpp_session_send_csi(XmppSession *session, bool active);
/* Subscription management (RFC 6121 §3); false when not ONLINE. */
bool xmpp_session_send_subscription(XmppSession *session, PresenceType type,
				    const char *to, const char *nick,
				    const char *message);

/* RFC 6121 §2.5: roster set with subscription='remove'; the server's
 * push removes it from the table. false when not ONLINE. */
bool xmpp_session_remove_roster_item(XmppSession *session,
				     const char *bare_jid);
/* The server advertised subscription pre-approval (RFC 6121 §3.4). */
bool xmpp_session_has_pre_approval(const XmppSession *session);
/*
 * The user's nickname (XEP-0172); NULL or "" for none. Published with PEP
 * (XEP-0163) once online where disco#info on our bare JID shows the
 * pubsub/pep identity, and again on each change; a failed publish is only
 * logged (debug). Copied.
 */
void xmpp_session_set_nick(XmppSession *session, const char *nick);

/* ---- capabilities (XEP-0115, XEP-0030) ----------------------------------
 *
 * The contacts' caps go into a CapsCache: the session's own, or one the
 * owner lends (borrowed, must outlive the session; set before start) so
 * that it outlives sessions and can be kept on disk.
 */
void xmpp_session_set_caps_cache(XmppSession *session, CapsCache *cache);
/* Transfer none. */
CapsCache *xmpp_session_get_caps_cache(const XmppSession *session);
/* The ver of the <c/> we send now. Transfer none. */
const char *xmpp_session_get_caps_ver(const XmppSession *session);

/* ---- blocking (XEP-0191) -------------------------------------------------
 *
 * Once online, disco#info of our bare JID (else of our domain) says
 * whether the server offers urn:xmpp:blocking; if so the list is read and
 * kept current from the server's pushes (ours or another client's), and
 * the contacts it blocks go offline in the table. The list is the
 * session's own or one the owner lends (as the caps cache).
 */
void xmpp_session_set_block_list(XmppSession *session, BlockList *list);
/* Transfer none. */
const BlockList *xmpp_session_get_block_list(const XmppSession *session);
bool xmpp_session_has_blocking(const XmppSession *session);
/* Sends <block/> (or <unblock/>) for jid, a bare JID or domain already
 * normalized (blocking_normalize_target); the server's push updates the
 * list. false when not online, blocking is not offered, or jid is bad. */
bool xmpp_session_block(XmppSession *session, const char *jid, bool block);

/* Graceful end: unavailable presence, </stream:stream>, close_notify;
 * closed(REQUESTED) follows when the server closes or at once. */
void xmpp_session_close(XmppSession *session);
/* The same, with status (NULL or "" for none) in the unavailable presence
 * (RFC 6121 §4.5.1: contacts see why we left). */
void xmpp_session_close_with_status(XmppSession *session, const char *status);

/*
 * XEP-0198 resumption across sessions. After closed(NETWORK), steal the
 * stream management state (NULL when the stream cannot be resumed: not
 * enabled, no resumption offered, or the unacked queue overflowed) and
 * hand it to the next session before xmpp_session_start(): after SASL it
 * sends <resume/>; <resumed/> gives resumed(), <failed/> a full new
 * session (bind, roster, online()). The state also carries what the
 * session had found out about the server (StreamMgmtLearned: PEP,
 * blocking, the nick it published), which a resumed session takes over
 * instead of asking again. Transfer full both ways.
 */
StreamMgmt *xmpp_session_steal_resume_state(XmppSession *session);
/* Whether the discovery after login finished (ret_blocking: the server
 * offers XEP-0191), for the next session's blocking_hint. */
bool xmpp_session_get_blocking_found(const XmppSession *session,
				     bool *ret_blocking);
void xmpp_session_set_resume_state(XmppSession *session, StreamMgmt *sm);

/* The roster version (RFC 6121 §2.6) from the last roster result or push,
 * NULL when the server sent none. Kept in the ContactTable
 * (contacts_get_roster_ver), so it outlives the session. Transfer none. */
const char *xmpp_session_get_roster_ver(const XmppSession *session);
