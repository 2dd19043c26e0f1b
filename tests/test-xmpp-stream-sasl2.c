/* SPDX-License-Identifier: MIT */
/*
 * SASL2 (XEP-0388), Bind2 (XEP-0386), XEP-0198 inside SASL2 and FAST
 * (XEP-0484) in the link (xmpp-stream-sasl2.c), scripted against the
 * in-process server of session-test-server.c; and the HT-SHA-256
 * computations of fast-token.c.
 */
#include "config.h"

#include <check.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "core/contacts.h"
#include "core/fast-token.h"
#include "core/xmpp-session.h"
#include "core/xmpp-stream.h"
#include "tests/support/check-suite.h"
#include "tests/support/session-test-server.h"

#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_SASL2 "urn:xmpp:sasl:2"
#define NS_BIND2 "urn:xmpp:bind:0"
#define NS_FAST "urn:xmpp:fast:0"
#define NS_SM "urn:xmpp:sm:3"
#define NS_CSI "urn:xmpp:csi:0"
#define NS_CLIENT "jabber:client"
#define NS_ROSTER "jabber:iq:roster"
#define UA_ID "2f1c6b5e-6d2a-4c1e-9a43-0c5c1f0e8a11"
#define TOKEN "secret-token:fast-Zm9vYmFyYmF6"
#define MECHS "SCRAM-SHA-1 SCRAM-SHA-256"

#define INLINE_BIND2                                                           \
	"<bind xmlns='urn:xmpp:bind:0'><inline>"                               \
	"<feature var='urn:xmpp:csi:0'/></inline></bind>"
#define INLINE_BIND2_SM                                                        \
	"<bind xmlns='urn:xmpp:bind:0'><inline>"                               \
	"<feature var='urn:xmpp:csi:0'/><feature var='urn:xmpp:sm:3'/>"        \
	"</inline></bind><sm xmlns='urn:xmpp:sm:3'/>"
#define INLINE_FAST                                                            \
	"<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism>" \
	"<mechanism>HT-SHA-256-EXPR</mechanism>"                               \
	"<mechanism>HT-SHA-256-UNIQ</mechanism></fast>"
#define POST_AUTH_FEATURES                                                     \
	"<stream:features><csi xmlns='urn:xmpp:csi:0'/>"                       \
	"<ver xmlns='urn:xmpp:features:rosterver'/></stream:features>"

static TestServer *new_server(const TestServerOptions *options,
			      const char *inline_xml)
{
	TestServer *ts = ts_new(options);

	ts->sasl2_inline = inline_xml;
	return ts;
}

/* The <initial-response/> of an <authenticate/>, decoded. */
static char *initial_response(const Stanza *auth, gsize *ret_len)
{
	Stanza *ir = stanza_get_child(auth, "initial-response", NULL);

	ck_assert_ptr_nonnull(ir);
	return ts_sasl_text(ir, ret_len);
}

static char *b64(const void *data, size_t len)
{
	return g_base64_encode(data, len);
}

/* SCRAM inside SASL2 up to (not including) <success/>: returns the base64
 * of server-final for <additional-data/>. */
static char *scram_exchange(TestServer *ts, const Stanza *auth)
{
	g_autofree char *initial = NULL;
	g_autofree char *server_first = NULL;
	g_autofree char *sf64 = NULL;
	g_autofree char *client_final = NULL;
	g_autofree char *server_final = NULL;
	g_autoptr(Stanza) response = NULL;
	gsize len;

	initial = initial_response(auth, &len);
	server_first = ts_scram_server_first(
		ts, stanza_get_attr(auth, "mechanism"), initial);
	sf64 = b64(server_first, strlen(server_first));
	ts_send_fmt(ts, "<challenge xmlns='" NS_SASL2 "'>%s</challenge>", sf64);
	response = ts_expect(ts, "response", NS_SASL2);
	client_final = ts_sasl_text(response, &len);
	server_final = ts_scram_server_final(ts, client_final);
	ck_assert_ptr_nonnull(server_final);
	return b64(server_final, strlen(server_final));
}

/* The roster get and what follows it up to online (no SM). */
static void finish(TestServer *ts)
{
	ts_finish_roster(ts, NULL);
	ck_assert_int_eq(ts->closed_count, 0);
}

static void tls_exporter(TestServer *ts, guint8 out[32])
{
	static const char label[] = "EXPORTER-Channel-Binding";

	ck_assert_int_eq(gnutls_prf_rfc5705(ts->tls, strlen(label), label, 0,
					    NULL, 32, (char *)out),
			 0);
}

static void ht_hmac(const char *token, const char *label, const guint8 *cb,
		    size_t cb_len, guint8 out[32])
{
	g_autoptr(GByteArray) msg = g_byte_array_new();

	g_byte_array_append(msg, (const guint8 *)label, strlen(label));
	if (cb_len)
		g_byte_array_append(msg, cb, cb_len);
	ck_assert_int_eq(gnutls_hmac_fast(GNUTLS_MAC_SHA256, token,
					  strlen(token), msg->data, msg->len,
					  out),
			 0);
}

/* ---- SASL2 and Bind2 ---------------------------------------------------- */

/*
 * One <authenticate/> with the user-agent, a Bind2 request tagged with the
 * resource and our CSI state; <success/> verified (server-final in
 * <additional-data/>), no stream restart, the bound JID from
 * <authorization-identifier/>, the features that follow taken for the
 * post-authentication ones (roster versioning).
 */
START_TEST(test_sasl2_bind2_login)
{
	g_autoptr(TestServer) ts = NULL;
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *final64 = NULL;
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.csi_inactive = true,
	};
	Stanza *ua, *bind;
	XmppAuthInfo info;

	ts = new_server(&options, INLINE_BIND2);
	ts->channel_bindings = "tls-exporter";
	ts->expect_roster_ver = "";
	ts_login_to_auth(ts, MECHS " SCRAM-SHA-256-PLUS");
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"),
			 "SCRAM-SHA-256-PLUS");
	ua = stanza_get_child(auth, "user-agent", NULL);
	ck_assert_ptr_nonnull(ua);
	ck_assert_str_eq(stanza_get_attr(ua, "id"), UA_ID);
	ck_assert_str_eq(
		stanza_get_text(stanza_get_child(ua, "software", NULL)),
		"presenced");
	ck_assert_str_eq(stanza_get_text(stanza_get_child(ua, "device", NULL)),
			 "test-host");
	bind = stanza_get_child(auth, "bind", NS_BIND2);
	ck_assert_ptr_nonnull(bind);
	ck_assert_str_eq(stanza_get_text(stanza_get_child(bind, "tag", NULL)),
			 TS_RESOURCE);
	ck_assert_ptr_nonnull(stanza_get_child(bind, "inactive", NS_CSI));
	/* SM is not offered inline: not asked for. No FAST offered. */
	ck_assert_ptr_null(stanza_get_child(bind, "enable", NS_SM));
	ck_assert_ptr_null(stanza_get_child(auth, "request-token", NS_FAST));
	ck_assert_ptr_null(stanza_get_child(auth, "resume", NS_SM));

	final64 = scram_exchange(ts, auth);
	ck_assert_str_eq(ts->scram_gs2_header, "p=tls-exporter,,");
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier><bound xmlns='" NS_BIND2 "'/>"
		    "</success>",
		    final64);
	/* No restart: nothing until the features. */
	ts_expect_nothing(ts);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_STREAM_OPENING);
	ts_send(ts, POST_AUTH_FEATURES);
	ts->expect_roster_ver = "";
	finish(ts);
	ck_assert(xmpp_session_has_csi(ts->session));
	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert(info.sasl2);
	ck_assert(info.bind2);
	ck_assert(!info.sm_inline);
	ck_assert_int_eq(info.fast, FAST_MECHANISM_NONE);
	ck_assert_int_eq(info.mechanism, SASL_MECHANISM_SCRAM_SHA_256_PLUS);
	ck_assert_int_eq(info.binding, SASL_CHANNEL_BINDING_TLS_EXPORTER);
	ts_assert_no_password(ts);
}
END_TEST

/* SASL2 without Bind2: the features after <success/> lead to a classic
 * bind in the same stream. */
START_TEST(test_sasl2_then_legacy_bind)
{
	g_autoptr(TestServer) ts = new_server(NULL, "");
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) bind_iq = NULL;
	g_autofree char *final64 = NULL;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-256");
	/* No user-agent id configured: no <user-agent/>. */
	ck_assert_ptr_null(stanza_get_child(auth, "user-agent", NULL));
	ck_assert_ptr_null(stanza_get_child(auth, "bind", NS_BIND2));
	final64 = scram_exchange(ts, auth);
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_JID
		    "</authorization-identifier></success>" TS_FEATURES_BIND,
		    final64);
	bind_iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(stanza_get_child(
		bind_iq, "bind", "urn:ietf:params:xml:ns:xmpp-bind"));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>" TS_FULL_JID
		    "</jid></bind></iq>",
		    stanza_get_attr(bind_iq, "id"));
	finish(ts);
}
END_TEST

/* The configured fallback: SASL2 offered, legacy SASL used. */
START_TEST(test_sasl2_legacy_only)
{
	TestServerOptions options = {.legacy_sasl_only = true};
	g_autoptr(TestServer) ts = new_server(&options, INLINE_BIND2);
	g_autofree char *mech = ts_login(ts, MECHS, NULL);
	XmppAuthInfo info;

	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert(!info.sasl2);
	ck_assert(!info.bind2);
}
END_TEST

/* A server that does not prove it knows the password (bad v=). */
START_TEST(test_sasl2_bad_server_signature)
{
	g_autoptr(TestServer) ts = new_server(NULL, INLINE_BIND2);
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *final64 = NULL;
	g_autofree char *bad =
		b64("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 46);
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	final64 = scram_exchange(ts, auth);
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier><bound xmlns='" NS_BIND2 "'/>"
		    "</success>",
		    bad);
	ts_expect_close(ts);
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "prove");
	ck_assert_int_eq(ts->online_count, 0);
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(!hints.sasl2_failed);
}
END_TEST

/* Malformed successes: not base64, no identity, another account. Each
 * ends the attempt and says "legacy SASL next time". */
static const char *const malformed_success[] = {
	"<success xmlns='" NS_SASL2 "'><additional-data>!!!</additional-data>"
	"<authorization-identifier>" TS_FULL_JID "</authorization-identifier>"
	"</success>",
	"<success xmlns='" NS_SASL2 "'><additional-data>%s</additional-data>"
	"</success>",
	"<success xmlns='" NS_SASL2 "'><additional-data>%s</additional-data>"
	"<authorization-identifier>mallory@example.org/x"
	"</authorization-identifier></success>",
	"<success xmlns='" NS_SASL2 "'><additional-data>%s</additional-data>"
	"<authorization-identifier>" TS_JID "</authorization-identifier>"
	"<bound xmlns='" NS_BIND2 "'/></success>",
	/* No server-final anywhere (the hostile-server scenario
	 * sasl2-malformed-success): it used to be retried with SASL2 for
	 * ever. The %.0s keeps the format's one argument. */
	"<success xmlns='" NS_SASL2
	"'>%.0s<authorization-identifier>" TS_FULL_JID
	"</authorization-identifier><bound xmlns='" NS_BIND2 "'/></success>",
	"<success xmlns='" NS_SASL2 "'><additional-data>=%.0s"
	"</additional-data><authorization-identifier>" TS_FULL_JID
	"</authorization-identifier><bound xmlns='" NS_BIND2 "'/></success>",
};

START_TEST(test_sasl2_malformed_success)
{
	g_autoptr(TestServer) ts = new_server(NULL, INLINE_BIND2);
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *final64 = NULL;
	g_autofree char *xml = NULL;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	final64 = scram_exchange(ts, auth);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	xml = g_strdup_printf(malformed_success[_i], final64);
#pragma GCC diagnostic pop
	ts_send(ts, xml);
	ts_expect_close(ts);
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ck_assert_int_eq(ts->online_count, 0);
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(hints.sasl2_failed);
	ck_assert(!hints.fast_refused);
}
END_TEST

/* <continue/> with a task we do not know: <abort/>, then the end. */
START_TEST(test_sasl2_unknown_continue)
{
	g_autoptr(TestServer) ts = new_server(NULL, INLINE_BIND2);
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) abort_el = NULL;
	g_autofree char *final64 = NULL;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	final64 = scram_exchange(ts, auth);
	ts_send_fmt(ts,
		    "<continue xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><tasks><task>HOTP-EXAMPLE</task>"
		    "</tasks><text>2FA</text></continue>",
		    final64);
	abort_el = ts_expect(ts, "abort", NS_SASL2);
	ts_expect_close(ts);
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "HOTP-EXAMPLE");
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(hints.sasl2_failed);
}
END_TEST

/* <failure/>: not-authorized is our credentials (auth-failed, SASL2 is
 * fine); temporary-auth-failure is worth a retry, with legacy SASL. */
START_TEST(test_sasl2_failure)
{
	static const struct {
		const char *condition;
		XmppSessionEnd reason;
		bool sasl2_failed;
	} rows[] = {
		{"not-authorized", XMPP_SESSION_END_AUTH_FAILED, false},
		{"temporary-auth-failure", XMPP_SESSION_END_SERVER_ERROR, true},
	};
	g_autoptr(TestServer) ts = new_server(NULL, INLINE_BIND2);
	g_autoptr(Stanza) auth = NULL;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ts_send_fmt(ts,
		    "<failure xmlns='" NS_SASL2 "'><%s xmlns='" NS_SASL
		    "'/><text>nope</text></failure>",
		    rows[_i].condition);
	ts_expect_close(ts);
	ts_assert_closed(ts, rows[_i].reason, rows[_i].condition);
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(hints.sasl2_failed == rows[_i].sasl2_failed);
}
END_TEST

/* ---- XEP-0198 inside SASL2 ---------------------------------------------- */

/* A SASL2 + Bind2 login with SM enabled inline; online. */
static TestServer *sm_online(ContactTable *contacts, StreamMgmt *resume)
{
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.contacts = contacts,
		.resume = resume,
	};
	TestServer *ts = new_server(&options, INLINE_BIND2_SM);
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) roster = NULL;
	g_autofree char *final64 = NULL;
	Stanza *bind, *enable;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	bind = stanza_get_child(auth, "bind", NS_BIND2);
	enable = stanza_get_child(bind, "enable", NS_SM);
	ck_assert_ptr_nonnull(enable);
	ck_assert_str_eq(stanza_get_attr(enable, "resume"), "true");
	if (!resume)
		ck_assert_ptr_null(stanza_get_child(auth, "resume", NS_SM));
	final64 = scram_exchange(ts, auth);
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier>%s<bound xmlns='" NS_BIND2
		    "'><enabled xmlns='" NS_SM "' id='sm-2' resume='1'/>"
		    "</bound></success>" POST_AUTH_FEATURES,
		    final64,
		    resume ? "<failed xmlns='" NS_SM "'><item-not-found "
			     "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
			     "</failed>"
			   : "");
	/* No <enable/> after bind: it went inline. */
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(stanza_get_child(roster, "query", NS_ROSTER));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><query xmlns='" NS_ROSTER
		    "' ver='v1'><item jid='bob@example.net' "
		    "subscription='both'/></query></iq>",
		    stanza_get_attr(roster, "id"));
	ck_assert_int_eq(ts->online_count, 1);
	ck_assert_str_eq(ts->online_jid, TS_FULL_JID);
	/* Drain what follows (presence, <r/>, disco). */
	for (;;) {
		g_autoptr(Stanza) st = NULL;

		if (ts_next(ts, &st) == XML_READER_EVENT_NONE)
			break;
	}
	return ts;
}

START_TEST(test_sasl2_sm_inline_and_resume)
{
	g_autoptr(TestServer) ts = sm_online(NULL, NULL);
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) replay = NULL;
	g_autofree char *final64 = NULL;
	StreamMgmt *sm;
	Stanza *resume;
	XmppAuthInfo info;

	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert(info.sm_inline);
	ts_send(ts, "<presence from='bob@example.net/phone'/>");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);
	xmpp_session_eof(ts->session, NULL);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, NULL);
	sm = xmpp_session_steal_resume_state(ts->session);
	ck_assert_ptr_nonnull(sm);

	/* The next login resumes inside SASL2 (and still asks for a bind,
	 * which the server skips when it resumes). */
	ts2 = new_server(&(TestServerOptions){.user_agent_id = UA_ID,
					      .contacts = ts->contacts,
					      .resume = sm},
			 INLINE_BIND2_SM);
	g_ptr_array_set_size(ts->changed, 0);
	ts_login_to_auth(ts2, MECHS);
	auth = ts_expect(ts2, "authenticate", NS_SASL2);
	resume = stanza_get_child(auth, "resume", NS_SM);
	ck_assert_ptr_nonnull(resume);
	ck_assert_str_eq(stanza_get_attr(resume, "previd"), "sm-2");
	/* roster result + bob's presence */
	ck_assert_str_eq(stanza_get_attr(resume, "h"), "2");
	ck_assert_ptr_nonnull(stanza_get_child(auth, "bind", NS_BIND2));
	final64 = scram_exchange(ts2, auth);
	ts_send_fmt(ts2,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier><resumed xmlns='" NS_SM
		    "' previd='sm-2' h='1'/></success>" POST_AUTH_FEATURES,
		    final64);
	/* Online at once: no roster get; what the server missed again. */
	ck_assert_int_eq(ts2->resumed_count, 1);
	ck_assert_int_eq(ts2->online_count, 0);
	ck_assert_str_eq(ts2->online_jid, TS_FULL_JID);
	ck_assert_int_eq(xmpp_session_get_state(ts2->session),
			 XMPP_SESSION_STATE_ONLINE);
	replay = ts_expect(ts2, "presence", NS_CLIENT);
	ck_assert_uint_eq(ts2->changed->len, 0);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts2->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);
	xmpp_session_get_auth_info(ts2->session, &info);
	ck_assert(info.sm_inline);
	ck_assert(info.sasl2);
	/* The features after the success still count (CSI). */
	ck_assert(xmpp_session_has_csi(ts2->session));
}
END_TEST

/* Resumption refused inside SASL2: the Bind2 request gives a new one. */
START_TEST(test_sasl2_resume_failed_binds)
{
	g_autoptr(TestServer) ts = sm_online(NULL, NULL);
	g_autoptr(TestServer) ts2 = NULL;
	StreamMgmt *sm;

	xmpp_session_eof(ts->session, NULL);
	sm = xmpp_session_steal_resume_state(ts->session);
	ck_assert_ptr_nonnull(sm);
	ts2 = sm_online(ts->contacts, sm);
	ck_assert_int_eq(ts2->resumed_count, 0);
	ck_assert_int_eq(ts2->online_count, 1);
}
END_TEST

/* ---- FAST --------------------------------------------------------------- */

/* A password login asks for a channel-bound token and hands it over; the
 * token never reaches the wire log. */
START_TEST(test_fast_token_requested)
{
	TestServerOptions options = {.user_agent_id = UA_ID};
	g_autoptr(TestServer) ts =
		new_server(&options, INLINE_BIND2 INLINE_FAST);
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *final64 = NULL;
	g_autofree char *token = NULL;
	g_autofree char *expiry = NULL;
	FastMechanism mech;
	Stanza *req;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-256");
	req = stanza_get_child(auth, "request-token", NS_FAST);
	ck_assert_ptr_nonnull(req);
	/* TLS 1.3 here: -EXPR before -NONE; -UNIQ is not ours. */
	ck_assert_str_eq(stanza_get_attr(req, "mechanism"), "HT-SHA-256-EXPR");
	ck_assert_ptr_null(stanza_get_child(auth, "fast", NS_FAST));
	final64 = scram_exchange(ts, auth);
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier><bound xmlns='" NS_BIND2 "'/>"
		    "<token xmlns='" NS_FAST "' expiry='2030-01-01T00:00:00Z' "
		    "token='" TOKEN "'/></success>" POST_AUTH_FEATURES,
		    final64);
	ts->expect_roster_ver = "";
	finish(ts);
	ck_assert(xmpp_session_steal_fast_token(ts->session, &token, &mech,
						&expiry));
	ck_assert_str_eq(token, TOKEN);
	ck_assert_int_eq(mech, FAST_MECHANISM_HT_SHA_256_EXPR);
	ck_assert_str_eq(expiry, "2030-01-01T00:00:00Z");
	ck_assert_ptr_null(strstr(ts->wire->str, TOKEN));
	ck_assert_ptr_null(strstr(ts->wire->str, "Zm9vYmFyYmF6"));
	g_clear_pointer(&token, g_free);
	g_clear_pointer(&expiry, g_free);
	/* Handed over once. */
	ck_assert(!xmpp_session_steal_fast_token(ts->session, &token, &mech,
						 &expiry));
}
END_TEST

/* The FAST login: HT-SHA-256-EXPR, one round trip, the server's answer
 * checked; a rotated token is handed over. server_ok false: the server's
 * HMAC does not verify (not our channel, or not our token). */
static void fast_login(bool server_ok)
{
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.fast_token = TOKEN,
		.fast_mechanism = "HT-SHA-256-EXPR",
	};
	g_autoptr(TestServer) ts =
		new_server(&options, INLINE_BIND2 INLINE_FAST);
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *initial = NULL;
	g_autofree char *resp64 = NULL;
	guint8 cb[32], want[32], resp[32];
	gsize len;
	XmppAuthInfo info;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "HT-SHA-256-EXPR");
	ck_assert_ptr_nonnull(stanza_get_child(auth, "fast", NS_FAST));
	ck_assert_ptr_null(stanza_get_child(auth, "request-token", NS_FAST));
	ck_assert_ptr_nonnull(stanza_get_child(auth, "user-agent", NULL));
	initial = initial_response(auth, &len);
	tls_exporter(ts, cb);
	ht_hmac(TOKEN, "Initiator", cb, sizeof(cb), want);
	ck_assert_uint_eq(len, 6 + 32);
	ck_assert_mem_eq(initial, "alice\0", 6);
	ck_assert_mem_eq(initial + 6, want, 32);
	ht_hmac(TOKEN, server_ok ? "Responder" : "Initiator", cb, sizeof(cb),
		resp);
	resp64 = b64(resp, sizeof(resp));
	ts_send_fmt(ts,
		    "<success xmlns='" NS_SASL2 "'><additional-data>%s"
		    "</additional-data><authorization-identifier>" TS_FULL_JID
		    "</authorization-identifier><bound xmlns='" NS_BIND2 "'/>"
		    "<token xmlns='" NS_FAST "' expiry='2030-02-01T00:00:00Z' "
		    "token='secret-token:fast-rotated'/></"
		    "success>" POST_AUTH_FEATURES,
		    resp64);
	xmpp_session_get_auth_hints(ts->session, &hints);
	if (!server_ok) {
		ts_expect_close(ts);
		ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "token");
		ck_assert(hints.fast_refused);
		ck_assert(!hints.sasl2_failed);
		ck_assert_int_eq(ts->online_count, 0);
		return;
	}
	ts->expect_roster_ver = "";
	finish(ts);
	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert_int_eq(info.fast, FAST_MECHANISM_HT_SHA_256_EXPR);
	ck_assert_int_eq(info.binding, SASL_CHANNEL_BINDING_TLS_EXPORTER);
	ck_assert(info.sasl2 && info.bind2);
	ck_assert(!hints.fast_refused);
	{
		g_autofree char *token = NULL;
		g_autofree char *expiry = NULL;
		FastMechanism mech;

		ck_assert(xmpp_session_steal_fast_token(ts->session, &token,
							&mech, &expiry));
		ck_assert_str_eq(token, "secret-token:fast-rotated");
		ck_assert_int_eq(mech, FAST_MECHANISM_HT_SHA_256_EXPR);
	}
	ck_assert_ptr_null(strstr(ts->wire->str, "fast-rotated"));
}

START_TEST(test_fast_login)
{
	fast_login(true);
}
END_TEST

START_TEST(test_fast_bad_server_hmac)
{
	fast_login(false);
}
END_TEST

/* The token refused (expired, revoked): forgotten, and the password once
 * in the same stream, with a request for a new token. */
START_TEST(test_fast_refused_password_once)
{
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.fast_token = TOKEN,
		.fast_mechanism = "HT-SHA-256-NONE",
	};
	g_autoptr(TestServer) ts =
		new_server(&options, INLINE_BIND2 INLINE_FAST);
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) auth2 = NULL;
	g_autofree char *initial = NULL;
	guint8 want[32];
	gsize len;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "HT-SHA-256-NONE");
	initial = initial_response(auth, &len);
	ht_hmac(TOKEN, "Initiator", NULL, 0, want);
	ck_assert_uint_eq(len, 6 + 32);
	ck_assert_mem_eq(initial + 6, want, 32);
	ts_send(ts, "<failure xmlns='" NS_SASL2 "'><credentials-expired "
		    "xmlns='" NS_SASL "'/></failure>");
	auth2 = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth2, "mechanism"), "SCRAM-SHA-256");
	ck_assert_ptr_null(stanza_get_child(auth2, "fast", NS_FAST));
	ck_assert_ptr_nonnull(
		stanza_get_child(auth2, "request-token", NS_FAST));
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(hints.fast_refused);
	/* And that one refused too: the end, not a third try. */
	ts_send(ts, "<failure xmlns='" NS_SASL2 "'><not-authorized "
		    "xmlns='" NS_SASL "'/></failure>");
	ts_expect_close(ts);
	ts_assert_closed(ts, XMPP_SESSION_END_AUTH_FAILED, "not-authorized");
}
END_TEST

/* A token kept for a mechanism the server no longer offers: the
 * password, and the token is dropped. */
START_TEST(test_fast_mechanism_gone)
{
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.fast_token = TOKEN,
		.fast_mechanism = "HT-SHA-256-ENDP",
	};
	g_autoptr(TestServer) ts =
		new_server(&options, INLINE_BIND2 INLINE_FAST);
	g_autoptr(Stanza) auth = NULL;
	XmppAuthHints hints;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "SCRAM-SHA-256");
	xmpp_session_get_auth_hints(ts->session, &hints);
	ck_assert(hints.fast_refused);
}
END_TEST

/* RFC 5929 §4.1 over the test server's certificate (signed with
 * SHA-256). */
static void end_point(TestServer *ts, guint8 out[32])
{
	const gnutls_datum_t *cert = gnutls_certificate_get_ours(ts->tls);

	ck_assert_ptr_nonnull(cert);
	ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, cert->data,
					  cert->size, out),
			 0);
}

#define INLINE_FAST_ENDP                                                       \
	"<fast xmlns='urn:xmpp:fast:0'><mechanism>HT-SHA-256-NONE</mechanism>" \
	"<mechanism>HT-SHA-256-ENDP</mechanism></fast>"

/* tls-server-end-point is worked out only where it can be chosen, but
 * there it is: a kept -ENDP token logs in with it on TLS 1.3 too, and a
 * server without -EXPR gets a request for -ENDP. */
START_TEST(test_fast_end_point)
{
	TestServerOptions options = {
		.user_agent_id = UA_ID,
		.fast_token = TOKEN,
		.fast_mechanism = "HT-SHA-256-ENDP",
	};
	g_autoptr(TestServer) ts =
		new_server(&options, INLINE_BIND2
			   "<fast xmlns='urn:xmpp:fast:0'>"
			   "<mechanism>HT-SHA-256-EXPR</mechanism>"
			   "<mechanism>HT-SHA-256-ENDP</mechanism></fast>");
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *initial = NULL;
	guint8 cb[32], want[32];
	gsize len;

	ts_login_to_auth(ts, MECHS);
	auth = ts_expect(ts, "authenticate", NS_SASL2);
	ck_assert_str_eq(stanza_get_attr(auth, "mechanism"), "HT-SHA-256-ENDP");
	initial = initial_response(auth, &len);
	end_point(ts, cb);
	ht_hmac(TOKEN, "Initiator", cb, sizeof(cb), want);
	ck_assert_uint_eq(len, 6 + 32);
	ck_assert_mem_eq(initial + 6, want, 32);

	/* No token, no -EXPR: the request is for -ENDP, not -NONE. */
	TestServerOptions fresh = {.user_agent_id = UA_ID};
	g_autoptr(TestServer) ts2 =
		new_server(&fresh, INLINE_BIND2 INLINE_FAST_ENDP);
	g_autoptr(Stanza) auth2 = NULL;
	Stanza *req;

	ts_login_to_auth(ts2, MECHS);
	auth2 = ts_expect(ts2, "authenticate", NS_SASL2);
	req = stanza_get_child(auth2, "request-token", NS_FAST);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(stanza_get_attr(req, "mechanism"), "HT-SHA-256-ENDP");
}
END_TEST

/* fast-token.c by itself. */
START_TEST(test_fast_choose)
{
	static const char *const all[] = {"HT-SHA-256-NONE", "HT-SHA-256-ENDP",
					  "HT-SHA-256-EXPR", "HT-SHA-256-UNIQ",
					  NULL};
	static const char *const uniq[] = {"HT-SHA-256-UNIQ", NULL};
	unsigned expr =
		SASL_CHANNEL_BINDING_BIT(SASL_CHANNEL_BINDING_TLS_EXPORTER);
	unsigned endp = SASL_CHANNEL_BINDING_BIT(
		SASL_CHANNEL_BINDING_TLS_SERVER_END_POINT);

	ck_assert_int_eq(fast_mechanism_choose(all, expr | endp),
			 FAST_MECHANISM_HT_SHA_256_EXPR);
	ck_assert_int_eq(fast_mechanism_choose(all, endp),
			 FAST_MECHANISM_HT_SHA_256_ENDP);
	ck_assert_int_eq(fast_mechanism_choose(all, 0),
			 FAST_MECHANISM_HT_SHA_256_NONE);
	ck_assert_int_eq(fast_mechanism_choose(uniq, expr),
			 FAST_MECHANISM_NONE);
	ck_assert_int_eq(fast_mechanism_choose(NULL, expr),
			 FAST_MECHANISM_NONE);
	ck_assert_int_eq(fast_mechanism_from_string("HT-SHA-256-ENDP"),
			 FAST_MECHANISM_HT_SHA_256_ENDP);
	ck_assert_int_eq(fast_mechanism_from_string("ht-sha-256-endp"),
			 FAST_MECHANISM_NONE);
}
END_TEST

START_TEST(test_fast_hmac)
{
	g_autoptr(GBytes) cb = g_bytes_new_static("0123456789abcdef", 16);
	g_autoptr(GBytes) ir = fast_initial_response("alice", TOKEN, cb);
	guint8 want[32];
	gsize len;
	const guint8 *data = g_bytes_get_data(ir, &len);

	ht_hmac(TOKEN, "Initiator", (const guint8 *)"0123456789abcdef", 16,
		want);
	ck_assert_uint_eq(len, 6 + 32);
	ck_assert_mem_eq(data, "alice\0", 6);
	ck_assert_mem_eq(data + 6, want, 32);
	ht_hmac(TOKEN, "Responder", (const guint8 *)"0123456789abcdef", 16,
		want);
	ck_assert(fast_verify_responder(TOKEN, cb, want, 32));
	ck_assert(!fast_verify_responder(TOKEN, NULL, want, 32));
	ck_assert(!fast_verify_responder(TOKEN, cb, want, 31));
	ck_assert(!fast_verify_responder(TOKEN, cb, NULL, 0));
	want[5] ^= 1;
	ck_assert(!fast_verify_responder(TOKEN, cb, want, 32));
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
#define CASE(fn) {#fn, fn}
		CASE(test_sasl2_bind2_login),
		CASE(test_sasl2_then_legacy_bind),
		CASE(test_sasl2_legacy_only),
		CASE(test_sasl2_bad_server_signature),
		{"test_sasl2_malformed_success", test_sasl2_malformed_success,
		 .loops = G_N_ELEMENTS(malformed_success)},
		CASE(test_sasl2_unknown_continue),
		{"test_sasl2_failure", test_sasl2_failure, .loops = 2},
		CASE(test_sasl2_sm_inline_and_resume),
		CASE(test_sasl2_resume_failed_binds),
		CASE(test_fast_token_requested),
		CASE(test_fast_login),
		CASE(test_fast_bad_server_hmac),
		CASE(test_fast_refused_password_once),
		CASE(test_fast_mechanism_gone),
		CASE(test_fast_end_point),
		CASE(test_fast_choose),
		CASE(test_fast_hmac),
#undef CASE
	};

	return check_suite_run("xmpp-stream-sasl2", cases, G_N_ELEMENTS(cases),
			       120);
}
