/* SPDX-License-Identifier: MIT */
/*
 * An in-process XMPP server for scripted session tests (STYLE.md §9): it
 * reads what the client session wrote with an XmlReader (ids are random,
 * so tests match elements, not bytes), answers with scripted XML, runs a
 * real GnuTLS server on memory for STARTTLS/direct TLS, and computes the
 * server side of SCRAM with GnuTLS PBKDF2/HMAC so logins run offline.
 */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <stdbool.h>

#include "core/contacts.h"
#include "core/stanza.h"
#include "core/xml-reader.h"
#include "core/xmpp-session.h"
#include "tests/support/tls-test-certs.h"

#define TS_DOMAIN "example.org"
#define TS_JID "alice@example.org"
#define TS_PASSWORD "Tr0ub4dor&3-secret"
#define TS_RESOURCE "laptop"
#define TS_FULL_JID TS_JID "/" TS_RESOURCE

#define TS_SERVER_HEADER                                                       \
	"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "           \
	"xmlns:stream='http://etherx.jabber.org/streams' "                     \
	"from='example.org' id='s-1' version='1.0' xml:lang='en'>"
#define TS_FEATURES_STARTTLS                                                   \
	"<stream:features><starttls "                                          \
	"xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"       \
	"</stream:features>"
#define TS_FEATURES_BIND                                                       \
	"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"    \
	"</stream:features>"

typedef struct {
	/* The session under test and what its callbacks saw. */
	XmppSession *session;
	ContactTable *contacts;
	TlsTestCertMatrix *certs;
	int online_count;
	int resumed_count;
	bool own_contacts;
	char *online_jid;
	GPtrArray *changed;	  /* bare JIDs, in order */
	GPtrArray *subscriptions; /* "bare|message" */
	int closed_count;
	int output_ready_count; /* output_ready() calls */
	XmppSessionEnd closed_reason;
	char *closed_message;
	GString *wire;		    /* "SEND: ..."/"RECV: ..." lines */
	bool send_initial_presence; /* from online(), like the owner */
	bool close_on_change;	  /* xmpp_session_close from contact_changed */
	GPtrArray *requests_gone; /* subscription_request_gone JIDs */

	/* Roster and PEP in ts_login (RFC 6121 §2.6, XEP-0163). */
	const char *bind_features;     /* NULL: TS_FEATURES_BIND */
	const char *expect_roster_ver; /* the get's ver; NULL: none sent */
	bool roster_unchanged;	       /* answer with an empty result */
	bool pep;		       /* disco#info shows pubsub/pep */
	const char *expect_nick;       /* published after disco; NULL: none */
	/* XEP-0191 in ts_answer_pep: offered on the account's or the
	 * domain's disco#info; the list answered (inner XML). */
	bool blocking_account;
	bool blocking_domain;
	const char *blocklist;
	int own_caps_changed_count;
	bool blocking_hint; /* TestServerOptions': caps with blocking first */
	int caps_learned_count;
	int blocked_changed_count;
	uint64_t idle_seconds; /* what idle_seconds() answers */

	/* Server side. */
	bool bound; /* TestServerOptions.bound */
	int64_t now;
	size_t split_plain;	/* server plaintext per feed/record; 0: all */
	size_t split_wire;	/* ciphertext per feed; 0: all */
	XmlReader *reader;	/* the client's stream */
	GString *client_plain;	/* everything the client sent, decrypted */
	GByteArray *client_raw; /* pending client bytes (wire) */
	TlsTestServer *tls_server; /* crypto's in-process TLS server */
	gnutls_session_t tls;	   /* its session, once TLS started */
	bool tls_up;

	/* SCRAM server state. */
	gnutls_mac_algorithm_t scram_mac;
	gnutls_digest_algorithm_t scram_digest;
	size_t scram_hash_len;
	char *scram_client_first_bare;
	char *scram_server_first;
	char *scram_gs2_header;
	bool corrupt_server_signature;
	/* XEP-0440 types advertised with the mechanisms (space-separated;
	 * NULL: no <sasl-channel-binding/>). */
	const char *channel_bindings;
	/* XEP-0474 h= value put into server-first; NULL: none. */
	const char *downgrade_h;
	/* XEP-0388: the features also offer <authentication/> with the same
	 * mechanisms and this inner XML of <inline/>; NULL: no SASL2. */
	const char *sasl2_inline;
} TestServer;

typedef struct {
	const char *resource; /* NULL: TS_RESOURCE; "" : server assigns */
	bool direct_tls;
	bool no_ca_file;
	int64_t negotiation_timeout;
	bool no_log_wire;
	ContactTable *contacts; /* borrowed; NULL: the server's own */
	StreamMgmt *resume;	/* XEP-0198 state to resume; transfer full */
	const char *nick;	/* xmpp_session_set_nick before start */
	/* Bound at start over plaintext, no login (xmpp-session-private.h):
	 * for the tests of what runs once online. */
	bool bound;
	const char *const *bound_features; /* "csi", "sm", ... */
	bool scram_worked_before;	   /* XmppSessionConfig's */
	/* XmppSessionConfig's SASL2 / FAST fields. */
	bool legacy_sasl_only;
	const char *user_agent_id;
	const char *fast_token;
	const char *fast_mechanism;
	bool csi_inactive;
	bool blocking_hint;
} TestServerOptions;

TestServer *ts_new(const TestServerOptions *options);
void ts_free(TestServer *ts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestServer, ts_free)

void ts_start(TestServer *ts);

/* Server → client: plaintext (encrypted when TLS is up), split per
 * split_plain/split_wire. */
void ts_send(TestServer *ts, const char *xml);
/* Raw bytes to the client, bypassing TLS (injection tests). */
void ts_send_raw(TestServer *ts, const char *data, size_t len);

/* Client → server: the next event from the client's stream. */
XmlReaderEvent ts_next(TestServer *ts, Stanza **ret_stanza);
/* Asserts the next client element is name/ns; transfer full. */
Stanza *ts_expect(TestServer *ts, const char *name, const char *ns);
/* Asserts the client sent a stream header (with or without 'from'). */
void ts_expect_header(TestServer *ts, bool with_from);
/* Asserts the client sent nothing more. */
void ts_expect_nothing(TestServer *ts);
/* Asserts </stream:stream> from the client. */
void ts_expect_close(TestServer *ts);

/* Restart the server's view of the client stream (after proceed or
 * SASL success). */
void ts_reset_reader(TestServer *ts);

/* Runs the server TLS handshake with the given certificate; true if
 * both sides completed it. */
bool ts_tls_handshake(TestServer *ts, TlsTestServerCertKind cert);

/* SCRAM server side: answers client-first (initial response, decoded),
 * returns server-first. */
char *ts_scram_server_first(TestServer *ts, const char *mech,
			    const char *client_first);
/* Verifies client-final; returns server-final ("v=...") or NULL if the
 * proof is wrong. */
char *ts_scram_server_final(TestServer *ts, const char *client_final);

/* Decodes the base64 text of a SASL element; transfer full, NUL-ended. */
char *ts_sasl_text(const Stanza *el, gsize *ret_len);

/* Full login with the given mechanisms offered; stops at ONLINE with the
 * roster answered by roster_items (inner XML of <query/>). Returns the
 * mechanism the client chose. */
char *ts_login(TestServer *ts, const char *mechanisms,
	       const char *roster_items);
/* From the client's roster get on: answers it with roster_items, checks
 * online() and the initial presence, answers PEP discovery (ts_login's
 * last part). */
void ts_finish_roster(TestServer *ts, const char *roster_items);
/* With TestServerOptions.bound: start, then ts_finish_roster. */
void ts_online_bound(TestServer *ts, const char *roster_items);
/* After login: answers the client's disco#info on our bare JID (with the
 * pubsub/pep identity if ts->pep) and, with ts->expect_nick, checks the
 * nick publish that follows and answers it. */
void ts_answer_pep(TestServer *ts);

/* The presence sent again for the new caps (with send_initial_presence)
 * and the block list get, answered with ts->blocklist. */
void ts_answer_blocklist(TestServer *ts);

/* PLAIN login up to the client's header of the post-SASL stream: the
 * server's header and features are the test's to send. */
void ts_login_plain(TestServer *ts);
/* Login up to (and including) the post-TLS stream header and features. */
void ts_login_to_auth(TestServer *ts, const char *mechanisms);

/* closed() came once with reason, its message containing fragment (NULL:
 * any) and no password; the session is inert. */
void ts_assert_closed(TestServer *ts, XmppSessionEnd reason,
		      const char *fragment);
/* The wire log holds the password neither plain nor in base64. */
void ts_assert_no_password(TestServer *ts);
bool ts_bytes_contain(const GByteArray *haystack, const char *needle);
/* ts_send with a printf format. */
void ts_send_fmt(TestServer *ts, const char *format, ...) G_GNUC_PRINTF(2, 3);
