/* SPDX-License-Identifier: MIT */
/*
 * What the files of the stream share (xmpp-stream.c, xmpp-stream-sasl.c,
 * xmpp-stream-iq.c, xmpp-stream-sm.c): the struct and the few primitives
 * every step uses (send, end, state). Not for use outside the stream.
 */
#pragma once

#include "core/fast-token.h"
#include "core/sasl-choice.h"
#include "core/sasl-scram.h"
#include "core/tls-session.h"
#include "core/xml-reader.h"
#include "core/xmpp-stream.h"

#define NS_CLIENT "jabber:client"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STREAM_ERRORS "urn:ietf:params:xml:ns:xmpp-streams"
#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_SESSION "urn:ietf:params:xml:ns:xmpp-session"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define NS_PING "urn:xmpp:ping"
#define NS_CSI "urn:xmpp:csi:0"
#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_BIND2 "urn:xmpp:bind:0"
#define NS_FAST "urn:xmpp:fast:0"

/* Caps on what the server controls (STYLE.md §3). */
#define MAX_ITEM_STRING_BYTES 1024u
#define MAX_ERROR_TEXT_BYTES 256u

struct _XmppStream {
	XmppSessionState state;
	/*
	 * Set while answering the server's end of the stream: our goodbye
	 * may meet a TLS session the server already closed, and that write
	 * error must not replace the reason the server gave.
	 */
	bool answering_end;

	/* Account, from the config. */
	char *bare_jid;
	char *localpart;
	char *domain;
	char *password;
	char *resource;
	char *ca_file;
	bool direct_tls;
	int64_t negotiation_timeout;

	XmppStreamCallbacks callbacks;
	void *user_data;

	XmlReader *reader;
	TlsSession *tls;
	bool tls_active;    /* handshake done: everything goes through TLS */
	bool header_seen;   /* the server's header of the current stream */
	bool authenticated; /* SASL succeeded: features mean bind */
	bool need_session;  /* RFC 3921 session establishment is mandatory */
	bool csi;	    /* XEP-0352 offered in the post-auth features */
	bool roster_versioning; /* RFC 6121 §2.6.1 stream feature */
	bool pre_approval;	/* RFC 6121 §3.4 stream feature */
	char *stream_from;	/* the server's header 'from', for messages */

	SaslClient *sasl;
	bool scram_worked_before; /* from the config: never PLAIN */
	XmppAuthInfo auth;	  /* what SASL used, once it succeeded */
	unsigned sasl_round;	  /* challenges answered so far */
	bool sasl_verified;	  /* server-final verified */

	/* XEP-0388 SASL2, XEP-0386 Bind2, XEP-0484 FAST. */
	bool legacy_sasl_only; /* from the config: SASL2 failed here before */
	char *user_agent_id;   /* NULL: no <user-agent/>, no FAST */
	char *device;
	char *fast_token;	 /* secret, wiped; NULL: none */
	FastMechanism fast_mech; /* the token's mechanism */
	bool csi_inactive;	 /* send <inactive/> inside Bind2 */
	bool sasl2;		 /* this authentication is SASL2 */
	bool fast_in_use;     /* the current <authenticate/> uses the token */
	GBytes *fast_cb;      /* its channel-binding data (NULL: -NONE) */
	bool bind2_requested; /* <bind/> inside <authenticate/> */
	bool bind2_done;      /* <bound/> came: no resource binding */
	bool sm_inline_requested; /* <enable/> inside <bind/> */
	Stanza *sasl2_features;	  /* copy, for the retry with the password */
	bool sasl2_failed;	  /* hint: legacy SASL next time */
	bool fast_refused;	  /* hint: forget the token */
	char *new_token;	  /* secret, from <success/>; wiped */
	char *new_token_expiry;
	FastMechanism new_token_mech;

	char *full_jid;
	unsigned id_prefix;
	uint64_t id_counter;
	GHashTable *pending; /* id → PendingIq: IQs awaiting an answer */

	int64_t deadline; /* negotiation and closing; ONLINE: keepalive */
	int64_t now;	  /* time of the current feed/tick */

	/* Keepalive while ONLINE (XEP-0199, XEP-0198 <r/>). */
	int64_t keepalive_idle;
	int64_t keepalive_timeout;
	int64_t last_rx;    /* last byte from the server */
	int64_t probe_sent; /* 0: no keepalive question outstanding */

	/* XEP-0198. */
	StreamMgmt *sm;	    /* this stream's counters and queue */
	StreamMgmt *resume; /* the previous stream's, to resume */
	bool sm_offered;    /* <sm/> in the features after SASL */
	bool sm_active;	    /* <enable/> sent or resumed: counting */
	bool ack_requested; /* <r/> sent, no <a/> yet */
	bool has_bind;	    /* <bind/> in the features after SASL */
	bool test_bound;    /* xmpp_stream_new_bound_for_test() */
	bool close_sent;    /* our </stream:stream> is out: nothing more */
	bool closed_by_us;  /* a deliberate close: never resumed */
	int64_t close_timeout;

	GByteArray *out;   /* bytes for the socket, in order */
	GByteArray *plain; /* scratch: decrypted input */
};

static inline bool stream_ended(const XmppStream *s)
{
	return s->state == XMPP_SESSION_STATE_CLOSED;
}

/* xmpp-stream.c */
char *stream_next_id(XmppStream *s);
void stream_set_state(XmppStream *s, XmppSessionState state);
void stream_end(XmppStream *s, XmppSessionEnd reason, const char *format, ...)
	G_GNUC_PRINTF(3, 4);
void stream_send_text(XmppStream *s, const char *text);
void stream_send_raw(XmppStream *s, const char *data, size_t len);
void stream_send_secret(XmppStream *s, Stanza *el);
void stream_log_wire(XmppStream *s, bool sent, const char *text);
void stream_send_header(XmppStream *s);
void stream_send_close(XmppStream *s);
void stream_send_error(XmppStream *s, const char *condition);
char *stream_clip_text(const char *text, size_t max);
void stream_wipe_string(char *str);
bool stream_is_counted_stanza(const Stanza *stanza);

/* xmpp-stream-sasl.c: STREAM_OPENING (TLS up) → AUTHENTICATING → restart. */
void stream_begin_auth(XmppStream *s, const Stanza *features);
void stream_on_sasl_element(XmppStream *s, const Stanza *el);
GBytes *stream_sasl_decode(const char *text);
void stream_secret_bytes_free(GBytes *bytes);
typedef GBytes SecretBytes;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SecretBytes, stream_secret_bytes_free)
/*
 * The channel bindings this TLS session can give: tls-exporter, and
 * tls-server-end-point when it is there to be preferred or
 * want_end_point says it could be chosen (it costs a parse of the server's
 * certificate, a tenth of a FAST login).
 */
unsigned stream_sasl_computable_bindings(XmppStream *s, bool want_end_point,
					 GBytes **ret_exporter,
					 GBytes **ret_end_point);
/* Whether a SCRAM choice on this offer could bind to tls-server-end-point
 * though tls-exporter is computable: XEP-0440 lists it without
 * tls-exporter. */
bool stream_sasl_offer_wants_end_point(const SaslServerOffer *offer);
bool stream_sasl_choose(XmppStream *s, const SaslServerOffer *offer,
			unsigned computable, SaslChoice *ret_choice);
XmppSessionEnd stream_sasl_failure_reason(const char *condition);
/* A <failure/>'s condition (default not-authorized) and clipped text (or
 * NULL; the text element in text_ns). */
const char *stream_read_sasl_failure(const Stanza *failure, const char *text_ns,
				     char **ret_text);

/* xmpp-stream-sasl2.c: XEP-0388 with Bind2 and FAST inline. */
void stream_begin_sasl2(XmppStream *s, const Stanza *features);
void stream_on_sasl2_element(XmppStream *s, const Stanza *el);
/* The <stream:features/> after a SASL2 success (no restart). */
void stream_sasl2_on_features(XmppStream *s, const Stanza *features);
void stream_sasl2_clear(XmppStream *s);

/* xmpp-stream-iq.c: the pending-IQ table, bind, legacy session. */
void stream_pending_init(XmppStream *s);
void stream_on_iq_answer(XmppStream *s, const Stanza *iq);
void stream_begin_bind(XmppStream *s, const Stanza *features);
void stream_note_features(XmppStream *s, const Stanza *features);
void stream_send_bind(XmppStream *s);
void stream_finish_binding(XmppStream *s);
void stream_error_condition(const Stanza *iq, const char **ret_cond,
			    const char **ret_text);

/* xmpp-stream-sm.c: XEP-0198 and the keepalive. */
void stream_begin_resume(XmppStream *s);
void stream_on_resumed(XmppStream *s, const Stanza *el);
void stream_enable_sm(XmppStream *s);
void stream_on_sm_element(XmppStream *s, const Stanza *el);
void stream_after_send(XmppStream *s, const Stanza *stanza, const GString *xml);
int64_t stream_online_deadline(const XmppStream *s);
void stream_tick_online(XmppStream *s, int64_t now);
