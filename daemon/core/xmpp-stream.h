/* SPDX-License-Identifier: MIT */
/*
 * The XMPP link, I/O-free (RFC 6120): bytes in (xmpp_stream_feed), bytes
 * out (xmpp_stream_take_output), a deadline out (xmpp_stream_get_deadline
 * / xmpp_stream_tick). It owns TLS (tls-session), the stream reader
 * (xml-reader), STARTTLS, SASL (sasl-scram), resource binding, XEP-0198,
 * the keepalive, the negotiation deadline, and the table of IQs we sent
 * that wait for an answer (id → handler).
 *
 * Negotiation: stream header → STARTTLS (required; or TLS first for direct
 * TLS, XEP-0368) → restart → SASL → restart → resume (XEP-0198) or bind →
 * bound(). The owner (xmpp-session.c) then fetches what it needs and calls
 * xmpp_stream_set_online(); from then on only the keepalive runs here.
 *
 * Upward it reports only through callbacks: bound, resumed, stanza (every
 * top-level stanza that is not an answer to one of our IQs), closed, wire
 * log, output ready. Callbacks may call back into the stream; they must
 * not free it. After closed() the stream is inert.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/fast-token.h"
#include "core/presence-record.h"
#include "core/sasl-scram.h"
#include "core/stanza.h"
#include "core/stream-mgmt.h"
#include "core/tls-session.h"

#define XMPP_SESSION_ERROR (xmpp_session_error_quark())
GQuark xmpp_session_error_quark(void);

/* Why a session ended; maps onto the StateReason property. */
typedef enum {
	XMPP_SESSION_END_REQUESTED, /* we closed it (xmpp_session_close) */
	XMPP_SESSION_END_NETWORK,   /* EOF, reset, timeout, TLS record error */
	XMPP_SESSION_END_AUTH_FAILED, /* SASL failure, bad server signature */
	XMPP_SESSION_END_TLS_FAILED,  /* no STARTTLS, bad certificate */
	XMPP_SESSION_END_CONFLICT,    /* stream error conflict, bind conflict */
	XMPP_SESSION_END_SERVER_ERROR, /* any other stream error, bad XML */
} XmppSessionEnd;

typedef enum {
	XMPP_SESSION_STATE_INIT,
	XMPP_SESSION_STATE_TLS_HANDSHAKE,
	XMPP_SESSION_STATE_STREAM_OPENING, /* header sent, awaiting features */
	XMPP_SESSION_STATE_STARTTLS,	   /* <starttls/> sent */
	XMPP_SESSION_STATE_AUTHENTICATING,
	XMPP_SESSION_STATE_RESUMING, /* XEP-0198 <resume/> sent */
	XMPP_SESSION_STATE_BINDING,
	XMPP_SESSION_STATE_ROSTER, /* bound; the owner finishes (roster) */
	XMPP_SESSION_STATE_ONLINE,
	XMPP_SESSION_STATE_CLOSING,
	XMPP_SESSION_STATE_CLOSED,
} XmppSessionState;

typedef struct {
	const char *jid;      /* bare JID, validated */
	const char *password; /* copied; wiped on free */
	const char *resource; /* NULL or "": the server assigns one */
	const char *ca_file;  /* NULL: system trust store only */
	bool direct_tls;      /* XEP-0368: TLS from the first byte */
	/* Deadline for reaching ONLINE after start, microseconds; 0: 30 s. */
	int64_t negotiation_timeout;
	/*
	 * Keepalive (XEP-0199 §4.2, or an XEP-0198 <r/> once stream
	 * management is on): after this long without a byte from the server
	 * we ask; no byte within keepalive_timeout and the link is dead
	 * (closed(NETWORK)). Microseconds; 0: 90 s and 30 s.
	 */
	int64_t keepalive_idle;
	int64_t keepalive_timeout;
	/* After our closing tag, how long the server has to answer before
	 * closed(REQUESTED) anyway (the caller then drops TCP); 0: 5 s. */
	int64_t close_timeout;
	/*
	 * A new session after a drop: the table still holds the presence of
	 * before (contacts_mark_stale); resources the server has not sent
	 * again this long after online() are dropped. 0: 10 s. (Used by the
	 * session, not the stream.)
	 */
	int64_t resync_grace;
	/* SCRAM has authenticated this account before (the daemon keeps the
	 * mark): PLAIN is then a downgrade and never used (XEP-0474 §7). */
	bool scram_worked_before;
	/*
	 * XEP-0388 SASL2 (with XEP-0386 Bind2 and XEP-0484 FAST inline) is
	 * used where the server offers it, unless legacy_sasl_only (it
	 * failed on this server before, not as a rejection of our
	 * credentials: see xmpp_stream_get_auth_hints()).
	 */
	bool legacy_sasl_only;
	/* <user-agent id=…/>: a UUID stable per installation; NULL: no
	 * user-agent, and then no FAST (servers tie tokens to it). device:
	 * its <device/> text (NULL: none). Both copied. */
	const char *user_agent_id;
	const char *device;
	/* A FAST token from an earlier session and its mechanism
	 * ("HT-SHA-256-EXPR"…); NULL: none. Copied, wiped on free. */
	const char *fast_token;
	const char *fast_mechanism;
	/* XEP-0352 state at login: Bind2 carries <inactive/> when true. */
	bool csi_inactive;
	/*
	 * The server offered XEP-0191 blocking in the last session
	 * (xmpp_session_get_blocking_found()): our first presence carries
	 * the caps with it. Discovery still decides; only a server that
	 * changed costs a second presence with new caps.
	 */
	bool blocking_hint;
} XmppSessionConfig;

/* How the stream was authenticated, for status and logs. */
typedef struct {
	TlsSessionVersion tls_version;
	SaslMechanism mechanism; /* NONE before authentication */
	SaslChannelBinding binding;
	bool downgrade_checked; /* a XEP-0474 hash was sent and matched */
	bool sasl2;		/* XEP-0388 */
	bool bind2;		/* bound inline (XEP-0386) */
	bool sm_inline;		/* XEP-0198 enabled or resumed inside SASL2 */
	FastMechanism fast;	/* logged in with a FAST token (XEP-0484) */
} XmppAuthInfo;

/*
 * What this stream learned for the next attempt (read it at closed() or
 * online). sasl2_failed: SASL2 broke in a way that is not a rejection of
 * our credentials (malformed answer, unknown <continue/> task, a failure
 * condition worth a retry): use legacy SASL next time. fast_refused: the
 * token was refused or the server's answer to it did not verify: forget
 * it (the next login uses the password).
 */
typedef struct {
	bool sasl2_failed;
	bool fast_refused;
} XmppAuthHints;

typedef struct {
	/* Bound (state ROSTER): the owner requests what it needs, then
	 * calls xmpp_stream_set_online(). */
	void (*bound)(void *user_data, const char *full_jid);
	/* XEP-0198 §5: the previous stream was resumed (state ONLINE). */
	void (*resumed)(void *user_data, const char *full_jid);
	/* A top-level jabber:client stanza once binding began, except the
	 * answers to our own IQs (those go to their handler). */
	void (*stanza)(void *user_data, const Stanza *stanza);
	/* The same for a <presence/> the reader gathered as a record instead
	 * of a tree (xml_reader_set_presence_path): set, the reader's
	 * presence path is on whenever log_wire is NULL (the wire log needs
	 * the tree). May be NULL: every presence comes to stanza(). */
	void (*presence)(void *user_data, const PresenceRecord *record);
	/* The stream ended; error (XMPP_SESSION_ERROR, code == reason) says
	 * why, for people, without secrets. */
	void (*closed)(void *user_data, XmppSessionEnd reason,
		       const GError *error);
	/* --debug wire log, each element already redacted. May be NULL. */
	void (*log_wire)(void *user_data, bool sent, const char *text);
	/* Output is waiting: the caller schedules one flush. May be NULL. */
	void (*output_ready)(void *user_data);
} XmppStreamCallbacks;

/* Features of the stream after authentication that the owner uses. */
typedef enum {
	XMPP_STREAM_FEATURE_CSI,	  /* XEP-0352 */
	XMPP_STREAM_FEATURE_ROSTER_VER,	  /* RFC 6121 §2.6.1 */
	XMPP_STREAM_FEATURE_PRE_APPROVAL, /* RFC 6121 §3.4 */
} XmppStreamFeature;

/* The answer (type result or error) to an IQ sent with
 * xmpp_stream_send_iq(). Handlers of IQs still pending when the stream
 * ends are dropped without a call. */
typedef void (*XmppIqHandler)(void *data, const Stanza *iq);

typedef struct _XmppStream XmppStream;

/* Transfer full; NULL with error on a bad config (the error names the
 * key; its code is the XmppSessionEnd such a failure would cause). */
XmppStream *xmpp_stream_new(const XmppSessionConfig *config,
			    const XmppStreamCallbacks *callbacks,
			    void *user_data, GError **error);
void xmpp_stream_free(XmppStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(XmppStream, xmpp_stream_free)

/* The TCP connection is up: queue the stream header (or ClientHello). */
void xmpp_stream_start(XmppStream *stream, int64_t now);
void xmpp_stream_feed(XmppStream *stream, const char *data, size_t len,
		      int64_t now);
/* The peer closed the TCP connection (or it failed). */
void xmpp_stream_eof(XmppStream *stream, const GError *error);
void xmpp_stream_take_output(XmppStream *stream, GByteArray *out);
bool xmpp_stream_has_output(const XmppStream *stream);
/* Monotonic microseconds of the next timer, INT64_MAX when none. */
int64_t xmpp_stream_get_deadline(const XmppStream *stream);
void xmpp_stream_tick(XmppStream *stream, int64_t now);

XmppSessionState xmpp_stream_get_state(const XmppStream *stream);
bool xmpp_stream_is_ended(const XmppStream *stream);
/* The time of the current feed or tick. */
int64_t xmpp_stream_get_now(const XmppStream *stream);
/* Bound full JID from ROSTER on, else NULL. Transfer none. */
const char *xmpp_stream_get_full_jid(const XmppStream *stream);
const char *xmpp_stream_get_bare_jid(const XmppStream *stream);
const char *xmpp_stream_get_domain(const XmppStream *stream);
bool xmpp_stream_offers(const XmppStream *stream, XmppStreamFeature feature);
/* Filled once SASL succeeded (mechanism NONE before). */
void xmpp_stream_get_auth_info(const XmppStream *stream, XmppAuthInfo *ret);

void xmpp_stream_get_auth_hints(const XmppStream *stream, XmppAuthHints *ret);
/*
 * A FAST token the server gave in this stream's <success/> (XEP-0484),
 * handed over once: true and ret_token (secret: wipe it), ret_mechanism
 * and ret_expiry (ISO 8601 as sent, may be "") all transfer full; false
 * and nothing written when there is none.
 */
bool xmpp_stream_steal_fast_token(XmppStream *stream, char **ret_token,
				  FastMechanism *ret_mechanism,
				  char **ret_expiry);

/* ROSTER → ONLINE: the negotiation deadline ends, the keepalive starts. */
void xmpp_stream_set_online(XmppStream *stream);

/* Sends a stanza (or a top-level element such as CSI's) from BINDING on;
 * counted and acked by XEP-0198 when it is on. */
void xmpp_stream_send(XmppStream *stream, const Stanza *stanza);
/*
 * Gives iq (type get or set, no id yet) a fresh id, sends it and routes
 * the answer to handler. The answer must come from iq's 'to' (or, without
 * 'to' or when it is our account or server, from our own server or
 * account: RFC 6120 §8.1.2.1); anything else is ignored. false (nothing
 * sent) when the stream is over or too many IQs are pending.
 */
bool xmpp_stream_send_iq(XmppStream *stream, Stanza *iq, XmppIqHandler handler,
			 void *data);

/* Graceful end. Online: goodbye (may be NULL) goes out, then
 * </stream:stream> and close_notify; closed(REQUESTED) follows when the
 * server closes. Before online: closed(REQUESTED) at once. */
void xmpp_stream_close(XmppStream *stream, const Stanza *goodbye);

/* XEP-0198 resumption across streams: see xmpp-session.h. */
StreamMgmt *xmpp_stream_steal_resume_state(XmppStream *stream);
void xmpp_stream_set_resume_state(XmppStream *stream, StreamMgmt *sm);

/* "init", "stream-opening", ... for logs. Static string. */
const char *xmpp_session_state_to_string(XmppSessionState state);
/* "requested", "network", "auth-failed", "tls-failed", "conflict",
 * "server-error": the StateReason names of CONTRACT.md. Static string. */
const char *xmpp_session_end_to_string(XmppSessionEnd reason);

/*
 * For tests of what runs once bound: a plaintext stream that, at
 * xmpp_stream_start(), is bound to full_jid at once (no TLS, SASL or bind
 * exchange) with the post-authentication features named in features
 * (NULL-terminated: "csi", "rosterver", "pre-approval", "sm"), enables
 * XEP-0198 when "sm" is named, and calls bound(). Never used by the daemon.
 */
XmppStream *xmpp_stream_new_bound_for_test(const XmppSessionConfig *config,
					   const XmppStreamCallbacks *callbacks,
					   void *user_data,
					   const char *full_jid,
					   const char *const *features);
