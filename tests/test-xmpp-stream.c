/* SPDX-License-Identifier: MIT */
/*
 * The link (xmpp-stream*.c): logins, TLS and certificates, SASL, bind,
 * stream errors, deadlines, keepalive, XEP-0198, split reads, and the
 * table of pending IQs, scripted against the in-process server of
 * session-test-server.c through the session's API (which passes them
 * straight to the stream).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/contacts.h"
#include "core/xmpp-session.h"
#include "core/xmpp-stream.h"
#include "tests/support/check-suite.h"
#include "tests/support/session-test-server.h"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_CLIENT "jabber:client"
#define NS_STREAMS "http://etherx.jabber.org/streams"
#define NS_STANZAS "urn:ietf:params:xml:ns:xmpp-stanzas"
#define ALL_MECHS "SCRAM-SHA-1 PLAIN SCRAM-SHA-256"
#define NS_SM "urn:xmpp:sm:3"
#define NS_PING "urn:xmpp:ping"
#define KEEPALIVE_IDLE ((int64_t)90 * G_USEC_PER_SEC)
#define KEEPALIVE_TIMEOUT ((int64_t)30 * G_USEC_PER_SEC)
#define RESYNC_GRACE ((int64_t)10 * G_USEC_PER_SEC)

static const char roster_items[] =
	"<item jid='bob@example.net' name='Bob' subscription='both'>"
	"<group>Friends</group><group>Work</group></item>"
	"<item jid='carol@example.com' subscription='to'/>"
	"<item jid='dave@example.com' subscription='none' ask='subscribe'/>";

static TestServer *new_online(const char *items)
{
	TestServer *ts = ts_new(NULL);
	g_autofree char *mech = ts_login(ts, ALL_MECHS, items);

	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	g_ptr_array_set_size(ts->changed, 0);
	return ts;
}

/* ---- logins ------------------------------------------------------------- */

START_TEST(test_login_scram_sha256)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = ts_login(ts, ALL_MECHS, roster_items);

	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	ck_assert_str_eq(xmpp_session_get_full_jid(ts->session), TS_FULL_JID);
	/* Online, the only timer is the keepalive. */
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + KEEPALIVE_IDLE);
	ck_assert_str_eq(xmpp_session_get_roster_ver(ts->session), "v1");
	/* The first header goes out before TLS: no 'from' (RFC 6120
	 * §4.7.1); checked by ts_expect_header. The wire log has the
	 * exchange, redacted. */
	ck_assert_ptr_nonnull(strstr(ts->wire->str, "SEND: <?xml"));
	ck_assert_ptr_nonnull(strstr(ts->wire->str, "RECV: <stream:stream"));
	ck_assert_ptr_nonnull(strstr(ts->wire->str, "SEND: <auth"));
	ck_assert_ptr_nonnull(strstr(ts->wire->str, "RECV: <iq"));
	/* SASL payloads are blanked in the log (redact.h). */
	{
		const char *auth = strstr(ts->wire->str, "SEND: <auth");
		const char *eol = strchr(auth, '\n');
		g_autofree char *line = g_strndup(auth, eol - auth);

		ck_assert_ptr_nonnull(strstr(line, "[redacted]"));
		ck_assert_ptr_null(strstr(line, "biwsbj1hbGljZ"));
	}
	ts_assert_no_password(ts);
	ck_assert_int_eq(ts->closed_count, 0);
}
END_TEST

START_TEST(test_login_scram_sha1)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = ts_login(ts, "PLAIN SCRAM-SHA-1", NULL);

	ck_assert_str_eq(mech, "SCRAM-SHA-1");
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ONLINE);
	ts_assert_no_password(ts);
}
END_TEST

START_TEST(test_login_plain_inside_tls)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = ts_login(ts, "PLAIN", NULL);

	ck_assert_str_eq(mech, "PLAIN");
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ONLINE);
	/* The PLAIN payload was encrypted on the wire ... */
	ck_assert(!ts_bytes_contain(ts->client_raw, TS_PASSWORD));
	/* ... and never logged. */
	ts_assert_no_password(ts);
}
END_TEST

START_TEST(test_login_scram_plus)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = NULL;
	XmppAuthInfo info;

	ts->channel_bindings = "tls-unique tls-exporter tls-server-end-point";
	mech = ts_login(ts, "SCRAM-SHA-1 SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
			NULL);
	/* TLS 1.3 in-process: tls-exporter binding (RFC 9266) preferred,
	 * checked by the server side in ts_scram_server_final. */
	ck_assert_str_eq(mech, "SCRAM-SHA-256-PLUS");
	ck_assert_str_eq(ts->scram_gs2_header, "p=tls-exporter,,");
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ONLINE);
	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert_int_eq(info.mechanism, SASL_MECHANISM_SCRAM_SHA_256_PLUS);
	ck_assert_int_eq(info.binding, SASL_CHANNEL_BINDING_TLS_EXPORTER);
	ck_assert_int_eq(info.tls_version, TLS_SESSION_VERSION_1_3);
	ck_assert(!info.downgrade_checked);
}
END_TEST

/*
 * XEP-0440: -PLUS only with a binding type the server lists and we can
 * compute; with none (ejabberd 23.01 offers -PLUS but cannot do
 * tls-exporter) or none we know, no -PLUS and the GS2 flag "n", since the
 * server does bind ("y" would read as a downgrade, RFC 5802 §6). Only
 * tls-server-end-point: RFC 5929 §4.1 over the certificate.
 */
START_TEST(test_login_plus_choice)
{
	static const struct {
		const char *bindings, *mechanisms, *mech, *gs2;
	} rows[] = {
		{NULL, "SCRAM-SHA-1 SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "n,,"},
		{"tls-server-end-point", "SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS",
		 "SCRAM-SHA-256-PLUS", "p=tls-server-end-point,,"},
		{"tls-unique", "SCRAM-SHA-256 SCRAM-SHA-256-PLUS",
		 "SCRAM-SHA-256", "n,,"},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
		g_autoptr(TestServer) ts = ts_new(NULL);
		g_autofree char *mech = NULL;

		ts->channel_bindings = rows[i].bindings;
		mech = ts_login(ts, rows[i].mechanisms, NULL);
		ck_assert_str_eq(mech, rows[i].mech);
		ck_assert_str_eq(ts->scram_gs2_header, rows[i].gs2);
	}
}
END_TEST

/* XEP-0474: server-first's h= is the hash of what the server advertised;
 * one that does not match what we received is a downgrade: no proof goes
 * out, and it is not auth-failed (the credentials were not rejected). */
START_TEST(test_sasl_downgrade_detected)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;
	g_autofree char *first = NULL;
	g_autofree char *server_first = NULL;
	g_autofree char *b64 = NULL;
	gsize len;

	/* The hash of a list with -PLUS in it, as a server would compute
	 * it before a MITM stripped -PLUS from the features. */
	ts->downgrade_h = "6MJLdaf7dJC4+Rlq9Id+eQUfVNU=";
	ts_login_to_auth(ts, "SCRAM-SHA-1");
	auth = ts_expect(ts, "auth", NS_SASL);
	first = ts_sasl_text(auth, &len);
	server_first = ts_scram_server_first(ts, "SCRAM-SHA-1", first);
	b64 = g_base64_encode((const guchar *)server_first,
			      strlen(server_first));
	ts_send_fmt(ts, "<challenge xmlns='" NS_SASL "'>%s</challenge>", b64);
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ck_assert_ptr_nonnull(strstr(ts->closed_message, "XEP-0474"));
	ts_expect_close(ts);
}
END_TEST

/* A matching h= is checked and remembered for status. */
START_TEST(test_sasl_downgrade_checked)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = NULL;
	SaslServerOffer offer = {0};
	char *mechs[] = {"SCRAM-SHA-1", NULL};
	g_autofree char *h = NULL;
	XmppAuthInfo info;

	offer.mechanisms = mechs;
	h = sasl_downgrade_hash(SASL_MECHANISM_SCRAM_SHA_1, &offer, false);
	ts->downgrade_h = h;
	mech = ts_login(ts, "SCRAM-SHA-1", NULL);
	xmpp_session_get_auth_info(ts->session, &info);
	ck_assert(info.downgrade_checked);
	ck_assert_int_eq(info.mechanism, SASL_MECHANISM_SCRAM_SHA_1);
}
END_TEST

/* Once SCRAM has worked for the account, PLAIN alone is a downgrade:
 * nothing is sent, and the daemon will try again (not auth-failed). */
START_TEST(test_sasl_plain_refused_after_scram)
{
	g_autoptr(TestServer) ts =
		ts_new(&(TestServerOptions){.scram_worked_before = true});

	ts_login_to_auth(ts, "PLAIN");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ts_expect_close(ts);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "<auth"));
}
END_TEST

/* RFC 6120 §6.5.13: temporary-auth-failure is worth another try. */
START_TEST(test_sasl_temporary_failure)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;

	ts_login_to_auth(ts, "SCRAM-SHA-256");
	auth = ts_expect(ts, "auth", NS_SASL);
	ts_send(ts, "<failure xmlns='" NS_SASL "'><temporary-auth-failure/>"
		    "</failure>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR,
			 "temporary-auth-failure");
}
END_TEST

START_TEST(test_login_direct_tls)
{
	TestServerOptions options = {.direct_tls = true};
	g_autoptr(TestServer) ts = ts_new(&options);
	g_autofree char *mech = NULL;

	ts_start(ts);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_TLS_HANDSHAKE);
	ck_assert(xmpp_session_has_output(ts->session));
	/* ts_login sees the handshake state and skips STARTTLS. */
	mech = ts_login(ts, ALL_MECHS, NULL);
	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	ck_assert_ptr_null(strstr(ts->client_plain->str, "starttls"));
}
END_TEST

START_TEST(test_login_server_assigned_resource)
{
	TestServerOptions options = {.resource = ""};
	g_autoptr(TestServer) ts = ts_new(&options);
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) roster = NULL;
	Stanza *bind;

	ts_login_plain(ts);
	/* Legacy session establishment, mandatory here (RFC 3921 §3). */
	ts_send(ts, TS_SERVER_HEADER
		"<stream:features><bind "
		"xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
		"<session xmlns='urn:ietf:params:xml:ns:xmpp-session'/>"
		"</stream:features>");
	iq = ts_expect(ts, "iq", NS_CLIENT);
	bind = stanza_get_child(iq, "bind", NULL);
	ck_assert_ptr_nonnull(bind);
	ck_assert_ptr_null(stanza_get_child(bind, "resource", NULL));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		    "<jid>alice@example.org/srv-42</jid></bind></iq>",
		    stanza_get_attr(iq, "id"));
	g_clear_pointer(&iq, stanza_free);
	iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(iq, "type"), "set");
	ck_assert_ptr_nonnull(stanza_get_child(
		iq, "session", "urn:ietf:params:xml:ns:xmpp-session"));
	ts_send_fmt(ts, "<iq type='result' id='%s'/>",
		    stanza_get_attr(iq, "id"));
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(
		stanza_get_child(roster, "query", "jabber:iq:roster"));
	/* A roster error is not fatal: presence works without it. */
	ts_send_fmt(ts,
		    "<iq type='error' id='%s'><error type='cancel'>"
		    "<service-unavailable xmlns='" NS_STANZAS
		    "'/></error></iq>",
		    stanza_get_attr(roster, "id"));
	ck_assert_int_eq(ts->online_count, 1);
	ck_assert_str_eq(ts->online_jid, "alice@example.org/srv-42");
}
END_TEST

START_TEST(test_login_optional_session_skipped)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) roster = NULL;

	ts_login_plain(ts);
	ts_send(ts, TS_SERVER_HEADER
		"<stream:features><bind "
		"xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
		"<session xmlns='urn:ietf:params:xml:ns:xmpp-session'>"
		"<optional/></session></stream:features>");
	iq = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		    "<jid>" TS_FULL_JID "</jid></bind></iq>",
		    stanza_get_attr(iq, "id"));
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(
		stanza_get_child(roster, "query", "jabber:iq:roster"));
}
END_TEST

/* XEP-0352: offered after auth → <inactive/> and <active/> when asked. */
START_TEST(test_csi_offered)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) iq = NULL;
	g_autoptr(Stanza) roster = NULL;
	g_autoptr(Stanza) presence = NULL;
	g_autoptr(Stanza) inactive = NULL;
	g_autoptr(Stanza) active = NULL;

	ts_login_plain(ts);
	ts_send(ts, TS_SERVER_HEADER
		"<stream:features><bind "
		"xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
		"<csi xmlns='urn:xmpp:csi:0'/></stream:features>");
	iq = ts_expect(ts, "iq", NS_CLIENT);
	/* Not online yet: nothing is sent. */
	ck_assert(!xmpp_session_send_csi(ts->session, false));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		    "<jid>" TS_FULL_JID "</jid></bind></iq>",
		    stanza_get_attr(iq, "id"));
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(ts, "<iq type='result' id='%s'/>",
		    stanza_get_attr(roster, "id"));
	ck_assert_int_eq(ts->online_count, 1);
	ck_assert(xmpp_session_has_csi(ts->session));
	if (ts->send_initial_presence)
		presence = ts_expect(ts, "presence", NS_CLIENT);
	ts_answer_pep(ts);

	ck_assert(xmpp_session_send_csi(ts->session, false));
	inactive = ts_expect(ts, "inactive", "urn:xmpp:csi:0");
	ck_assert_uint_eq(stanza_get_n_children(inactive), 0);
	ck_assert(xmpp_session_send_csi(ts->session, true));
	active = ts_expect(ts, "active", "urn:xmpp:csi:0");
	ts_expect_nothing(ts);
}
END_TEST

/* Not offered: never sent (XEP-0352 §2: only where advertised). */
/* ---- TLS ---------------------------------------------------------------- */

START_TEST(test_no_starttls)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER
		"<stream:features><mechanisms xmlns='" NS_SASL "'>"
		"<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
	ts_assert_closed(ts, XMPP_SESSION_END_TLS_FAILED,
			 "server example.org does not offer STARTTLS; refusing "
			 "to log in without TLS");
	ts_expect_close(ts);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "<auth"));
	ck_assert_ptr_null(strstr(ts->client_plain->str, "alice"));
	/* Inert afterwards. */
	ts_send(ts, "<success xmlns='" NS_SASL "'/>");
	ck_assert(!xmpp_session_has_output(ts->session));
	ck_assert_int_eq(ts->closed_count, 1);
}
END_TEST

START_TEST(test_starttls_failure)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) starttls = NULL;

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER TS_FEATURES_STARTTLS);
	starttls = ts_expect(ts, "starttls", NS_TLS);
	ts_send(ts, "<failure xmlns='" NS_TLS "'/></stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_TLS_FAILED, "STARTTLS");
	ck_assert_ptr_null(strstr(ts->client_plain->str, "<auth"));
}
END_TEST

/*
 * Plaintext after <proceed/> in the same read must not survive into the
 * TLS stream (STARTTLS command injection): here a fake <success/> and
 * features that would skip authentication.
 */
START_TEST(test_proceed_injection_dropped)
{
	static const char injected[] =
		"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
		"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
		"<stream:features><bind "
		"xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>"
		"<iq type='get' id='x'><ping xmlns='urn:xmpp:ping'/></iq>";
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) starttls = NULL;
	g_autoptr(Stanza) auth = NULL;

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER TS_FEATURES_STARTTLS);
	starttls = ts_expect(ts, "starttls", NS_TLS);
	ts_send_raw(ts, injected, strlen(injected));
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_TLS_HANDSHAKE);
	/* Only the ClientHello left the client: no ping answer. */
	ck_assert_ptr_null(strstr(ts->client_plain->str, "result"));
	ts_reset_reader(ts);
	ck_assert(ts_tls_handshake(ts, TLS_TEST_SERVER_CERT_GOOD));
	ts_expect_header(ts, true);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_STREAM_OPENING);
	ts_send(ts, TS_SERVER_HEADER
		"<stream:features><mechanisms xmlns='" NS_SASL "'>"
		"<mechanism>PLAIN</mechanism></mechanisms></stream:features>");
	/* The session authenticates as if nothing had been injected. */
	auth = ts_expect(ts, "auth", NS_SASL);
	ck_assert_int_eq(ts->closed_count, 0);
}
END_TEST

static void check_bad_cert(TlsTestServerCertKind cert, const char *fragment)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) starttls = NULL;

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER TS_FEATURES_STARTTLS);
	starttls = ts_expect(ts, "starttls", NS_TLS);
	ts_send(ts, "<proceed xmlns='" NS_TLS "'/>");
	ts_reset_reader(ts);
	ck_assert(!ts_tls_handshake(ts, cert));
	ts_assert_closed(ts, XMPP_SESSION_END_TLS_FAILED, fragment);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "<auth"));
}

START_TEST(test_bad_cert_wrong_name)
{
	check_bad_cert(TLS_TEST_SERVER_CERT_WRONG_NAME, "example.org");
}
END_TEST

START_TEST(test_bad_cert_self_signed)
{
	check_bad_cert(TLS_TEST_SERVER_CERT_SELF_SIGNED, "example.org");
}
END_TEST

START_TEST(test_bad_cert_expired)
{
	check_bad_cert(TLS_TEST_SERVER_CERT_EXPIRED, "example.org");
}
END_TEST

START_TEST(test_bad_cert_not_yet_valid)
{
	check_bad_cert(TLS_TEST_SERVER_CERT_NOT_YET_VALID, "example.org");
}
END_TEST

START_TEST(test_bad_cert_unknown_ca)
{
	check_bad_cert(TLS_TEST_SERVER_CERT_UNKNOWN_CA, "example.org");
}
END_TEST

START_TEST(test_bad_cert_direct_tls)
{
	TestServerOptions options = {.direct_tls = true};
	g_autoptr(TestServer) ts = ts_new(&options);

	ts_start(ts);
	ck_assert(!ts_tls_handshake(ts, TLS_TEST_SERVER_CERT_WRONG_NAME));
	ts_assert_closed(ts, XMPP_SESSION_END_TLS_FAILED, NULL);
	ck_assert_uint_eq(ts->client_plain->len, 0);
}
END_TEST

/* ---- SASL --------------------------------------------------------------- */

START_TEST(test_sasl_failure)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;

	ts_login_to_auth(ts, "SCRAM-SHA-256");
	auth = ts_expect(ts, "auth", NS_SASL);
	ts_send(ts, "<failure xmlns='" NS_SASL "'><not-authorized/>"
		    "<text xml:lang='en'>Wrong password, try again</text>"
		    "</failure>");
	ts_assert_closed(ts, XMPP_SESSION_END_AUTH_FAILED, "not-authorized");
	ck_assert_ptr_nonnull(
		strstr(ts->closed_message, "Wrong password, try again"));
	ts_expect_close(ts);
}
END_TEST

START_TEST(test_sasl_bad_server_signature)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = NULL;

	ts->corrupt_server_signature = true;
	mech = ts_login(ts, "SCRAM-SHA-256", NULL);
	/* The server said <success/>, but could not prove it knows the
	 * password: nothing more is sent but the close. */
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ck_assert_int_eq(ts->online_count, 0);
	ts_expect_close(ts);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "bind"));
}
END_TEST

START_TEST(test_sasl_success_without_signature)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;

	ts_login_to_auth(ts, "SCRAM-SHA-1");
	auth = ts_expect(ts, "auth", NS_SASL);
	/* A server that skips the whole exchange. */
	ts_send(ts, "<success xmlns='" NS_SASL "'/>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "bind"));
}
END_TEST

START_TEST(test_sasl_no_mechanism)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	ts_login_to_auth(ts, "DIGEST-MD5 X-OAUTH2");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
	ck_assert_ptr_null(strstr(ts->client_plain->str, "<auth"));
}
END_TEST

START_TEST(test_sasl_bad_base64)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;

	ts_login_to_auth(ts, "SCRAM-SHA-256");
	auth = ts_expect(ts, "auth", NS_SASL);
	ts_send(ts, "<challenge xmlns='" NS_SASL "'>!!notbase64**</challenge>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "base64");
}
END_TEST

/* Servers that send server-final in a last <challenge/> and then an empty
 * <success/> (RFC 6120 §6.3.10 allows both). */
START_TEST(test_sasl_final_in_challenge)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) response = NULL;
	g_autoptr(Stanza) empty = NULL;
	g_autofree char *client_first = NULL;
	g_autofree char *server_first = NULL;
	g_autofree char *client_final = NULL;
	g_autofree char *server_final = NULL;
	g_autofree char *b64 = NULL;
	gsize len;

	ts_login_to_auth(ts, "SCRAM-SHA-1");
	auth = ts_expect(ts, "auth", NS_SASL);
	client_first = ts_sasl_text(auth, &len);
	server_first = ts_scram_server_first(ts, "SCRAM-SHA-1", client_first);
	b64 = g_base64_encode((const guchar *)server_first,
			      strlen(server_first));
	ts_send_fmt(ts, "<challenge xmlns='" NS_SASL "'>%s</challenge>", b64);
	response = ts_expect(ts, "response", NS_SASL);
	client_final = ts_sasl_text(response, &len);
	server_final = ts_scram_server_final(ts, client_final);
	g_free(b64);
	b64 = g_base64_encode((const guchar *)server_final,
			      strlen(server_final));
	ts_send_fmt(ts, "<challenge xmlns='" NS_SASL "'>%s</challenge>", b64);
	empty = ts_expect(ts, "response", NS_SASL);
	ck_assert(strcmp(stanza_get_text(empty), "") == 0 ||
		  strcmp(stanza_get_text(empty), "=") == 0);
	ts_send(ts, "<success xmlns='" NS_SASL "'/>");
	ts_reset_reader(ts);
	ts_expect_header(ts, true);
	ck_assert_int_eq(ts->closed_count, 0);
}
END_TEST

/* A forged or corrupted TLS record once online ends the session. */
START_TEST(test_tls_record_error)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	static const char garbage[] = "\x17\x03\x03\x00\x20"
				      "0123456789abcdef0123456789abcdef";

	ts_send_raw(ts, garbage, sizeof(garbage) - 1);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, NULL);
}
END_TEST

/* The server's close_notify without </stream:stream>. */
START_TEST(test_tls_close_notify)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	tls_test_server_bye(ts->tls_server);
	ts_send(ts, "");
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, NULL);
}
END_TEST

/* ---- bind --------------------------------------------------------------- */

START_TEST(test_bind_conflict)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) iq = NULL;

	ts_login_plain(ts);
	ts_send(ts, TS_SERVER_HEADER TS_FEATURES_BIND);
	iq = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(ts,
		    "<iq type='error' id='%s'><error type='cancel'>"
		    "<conflict xmlns='" NS_STANZAS "'/></error></iq>",
		    stanza_get_attr(iq, "id"));
	ts_assert_closed(ts, XMPP_SESSION_END_CONFLICT, "conflict");
}
END_TEST

START_TEST(test_bind_wrong_jid)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) iq = NULL;

	ts_login_plain(ts);
	ts_send(ts, TS_SERVER_HEADER TS_FEATURES_BIND);
	iq = ts_expect(ts, "iq", NS_CLIENT);
	/* A reply with another id changes nothing ... */
	ts_send(ts, "<iq type='result' id='other'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		    "<jid>alice@example.org/x</jid></bind></iq>");
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_BINDING);
	/* ... and someone else's JID is refused. */
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
		    "<jid>mallory@example.org/x</jid></bind></iq>",
		    stanza_get_attr(iq, "id"));
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, NULL);
}
END_TEST

/* ---- stream errors and closing ----------------------------------------- */

START_TEST(test_stream_error_conflict)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "<stream:error><conflict "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		    "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
		    "Replaced by new connection</text></stream:error>"
		    "</stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_CONFLICT, "conflict");
	ck_assert_ptr_nonnull(
		strstr(ts->closed_message, "Replaced by new connection"));
	ts_expect_close(ts);
}
END_TEST

START_TEST(test_stream_error_system_shutdown)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "<stream:error><system-shutdown "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
		    "</stream:error></stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR,
			 "stream error from example.org: system-shutdown");
}
END_TEST

START_TEST(test_stream_error_see_other_host)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "<stream:error><see-other-host "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-streams'>"
		    "xmpp2.example.org:5222</see-other-host></stream:error>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR,
			 "xmpp2.example.org:5222");
}
END_TEST

START_TEST(test_stream_error_before_tls)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts,
		TS_SERVER_HEADER "<stream:error><host-unknown "
				 "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
				 "</stream:error>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "host-unknown");
}
END_TEST

static void check_bad_xml(const char *xml, const char *condition)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) error = NULL;
	g_autofree char *expected = g_strdup_printf("(%s)", condition);

	ts_send(ts, xml);
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, expected);
	error = ts_expect(ts, "error", NS_STREAMS);
	ck_assert_ptr_nonnull(stanza_get_child(
		error, condition, "urn:ietf:params:xml:ns:xmpp-streams"));
	ts_expect_close(ts);
}

START_TEST(test_restricted_xml_comment)
{
	check_bad_xml("<!-- hello -->", "restricted-xml");
}
END_TEST

START_TEST(test_restricted_xml_pi)
{
	check_bad_xml("<presence from='bob@example.net/a'><?evil x?>"
		      "</presence>",
		      "restricted-xml");
}
END_TEST

START_TEST(test_not_well_formed)
{
	check_bad_xml("<presence></iq>", "not-well-formed");
}
END_TEST

START_TEST(test_bad_header_version)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autoptr(Stanza) error = NULL;

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
		    "xmlns:stream='http://etherx.jabber.org/streams' "
		    "from='example.org' id='s-1'>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "version");
	error = ts_expect(ts, "error", NS_STREAMS);
	ck_assert_ptr_nonnull(
		stanza_get_child(error, "unsupported-version", NULL));
}
END_TEST

START_TEST(test_server_closes_stream)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	ts_send(ts, "</stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "closed the stream");
	ts_expect_close(ts);
}
END_TEST

START_TEST(test_eof)
{
	g_autoptr(TestServer) ts = new_online(NULL);

	xmpp_session_eof(ts->session, NULL);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, NULL);
	xmpp_session_eof(ts->session, NULL);
	ck_assert_int_eq(ts->closed_count, 1);
}
END_TEST

START_TEST(test_close_before_online)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	ts_start(ts);
	ts_expect_header(ts, false);
	xmpp_session_close(ts->session);
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
	ts_expect_close(ts);
	xmpp_session_close(ts->session);
	ck_assert_int_eq(ts->closed_count, 1);
}
END_TEST

START_TEST(test_close_before_start)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	xmpp_session_close(ts->session);
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
	ck_assert(!xmpp_session_has_output(ts->session));
}
END_TEST

/* ---- deadline ----------------------------------------------------------- */

START_TEST(test_negotiation_timeout)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	int64_t start = ts->now;

	ck_assert(xmpp_session_get_deadline(ts->session) == INT64_MAX);
	ts_start(ts);
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  start + 30 * G_USEC_PER_SEC);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER);
	xmpp_session_tick(ts->session, start + 30 * G_USEC_PER_SEC - 1);
	ck_assert_int_eq(ts->closed_count, 0);
	xmpp_session_tick(ts->session, start + 30 * G_USEC_PER_SEC);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "timed out");
}
END_TEST

START_TEST(test_negotiation_timeout_configured)
{
	TestServerOptions options = {.negotiation_timeout = 5 * G_USEC_PER_SEC};
	g_autoptr(TestServer) ts = ts_new(&options);

	ts_start(ts);
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + 5 * G_USEC_PER_SEC);
	xmpp_session_tick(ts->session, ts->now + 5 * G_USEC_PER_SEC);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "timed out");
}
END_TEST

/*
 * Online, the keepalive is the only deadline: a quiet link gets an
 * XEP-0199 ping; any answer re-arms it; none within the timeout and the
 * link is declared dead.
 */
START_TEST(test_keepalive_ping)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) ping = NULL;
	g_autoptr(Stanza) ping2 = NULL;
	g_autofree char *reply = NULL;
	int64_t t0 = ts->now;

	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  t0 + KEEPALIVE_IDLE);
	xmpp_session_tick(ts->session, t0 + KEEPALIVE_IDLE - 1);
	ts_expect_nothing(ts);
	ts->now = t0 + KEEPALIVE_IDLE;
	xmpp_session_tick(ts->session, ts->now);
	ping = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(ping, "type"), "get");
	ck_assert_str_eq(stanza_get_attr(ping, "to"), TS_DOMAIN);
	ck_assert_ptr_nonnull(stanza_get_child(ping, "ping", NS_PING));
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + KEEPALIVE_TIMEOUT);

	/* The answer (or any byte) re-arms the idle timer from now. */
	ts->now += G_USEC_PER_SEC;
	reply = g_strdup_printf("<iq type='result' id='%s' from='%s'/>",
				stanza_get_attr(ping, "id"), TS_DOMAIN);
	ts_send(ts, reply);
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + KEEPALIVE_IDLE);
	ts_expect_nothing(ts);

	/* No answer: dead after the timeout, not before. */
	ts->now += KEEPALIVE_IDLE;
	xmpp_session_tick(ts->session, ts->now);
	ping2 = ts_expect(ts, "iq", NS_CLIENT);
	xmpp_session_tick(ts->session, ts->now + KEEPALIVE_TIMEOUT - 1);
	ck_assert_int_eq(ts->closed_count, 0);
	xmpp_session_tick(ts->session, ts->now + KEEPALIVE_TIMEOUT);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "dead");
}
END_TEST

/* ---- stream management (XEP-0198) --------------------------------------- */

static const char sm_features[] =
	"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
	"<sm xmlns='" NS_SM "'/></stream:features>";

/* Up to the features after SASL (PLAIN, for speed). */
static void sm_login_to_bind(TestServer *ts)
{

	ts_login_plain(ts);
	ts_send(ts, TS_SERVER_HEADER);
	ts_send(ts, sm_features);
}

/* Bind, <enable/>, roster: online with stream management, the initial
 * presence sent and an ack asked for. */
/*
 * After going online the session asks disco#info on our bare JID (PEP);
 * the SM tests leave it unanswered so the handled count stays as they
 * expect. Any <r/> around it is the session asking for an ack.
 */
static void expect_disco_get(TestServer *ts)
{
	int discos = 0;

	for (;;) {
		g_autoptr(Stanza) st = NULL;
		XmlReaderEvent ev = ts_next(ts, &st);

		if (ev == XML_READER_EVENT_NONE)
			break;
		ck_assert_int_eq(ev, XML_READER_EVENT_STANZA);
		if (strcmp(stanza_get_name(st), "r") == 0)
			continue;
		ck_assert_str_eq(stanza_get_name(st), "iq");
		ck_assert_ptr_nonnull(stanza_get_child(
			st, "query", "http://jabber.org/protocol/disco#info"));
		discos++;
	}
	ck_assert_int_eq(discos, 1);
}

static void sm_bind_to_online(TestServer *ts, const char *items)
{
	g_autoptr(Stanza) bind = ts_expect(ts, "iq", NS_CLIENT);
	g_autoptr(Stanza) enable = NULL;
	g_autoptr(Stanza) roster = NULL;
	g_autoptr(Stanza) presence = NULL;
	g_autoptr(Stanza) r = NULL;

	ck_assert_ptr_nonnull(stanza_get_child(
		bind, "bind", "urn:ietf:params:xml:ns:xmpp-bind"));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid>"
		    "</bind></iq>",
		    stanza_get_attr(bind, "id"), TS_FULL_JID);
	enable = ts_expect(ts, "enable", NS_SM);
	ck_assert_str_eq(stanza_get_attr(enable, "resume"), "true");
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(
		stanza_get_child(roster, "query", "jabber:iq:roster"));
	ts_expect_nothing(ts);
	ts_send(ts, "<enabled xmlns='" NS_SM "' id='sm-1' resume='true' "
		    "max='300'/>");
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><query xmlns='jabber:iq:roster'>"
		    "%s</query></iq>",
		    stanza_get_attr(roster, "id"), items ? items : "");
	presence = ts_expect(ts, "presence", NS_CLIENT);
	r = ts_expect(ts, "r", NS_SM);
	expect_disco_get(ts);
}

/* no_log_wire: presences take the reader's presence path (xml-reader.h),
 * which the wire log turns off. */
static TestServer *sm_new_online_logged(const char *items, bool log_wire)
{
	TestServer *ts = ts_new(&(TestServerOptions){.no_log_wire = !log_wire});

	sm_login_to_bind(ts);
	sm_bind_to_online(ts, items);
	ck_assert_int_eq(ts->online_count, 1);
	g_ptr_array_set_size(ts->changed, 0);
	return ts;
}

static TestServer *sm_new_online(const char *items)
{
	return sm_new_online_logged(items, true);
}

/* _i 1: the presence is counted on the presence path too. */
START_TEST(test_sm_acks)
{
	g_autoptr(TestServer) ts = sm_new_online_logged(roster_items, _i == 0);
	g_autoptr(Stanza) a = NULL;
	g_autoptr(Stanza) a2 = NULL;
	g_autoptr(StreamMgmt) sm = NULL;

	/* Handled so far: the roster result (the bind result came before
	 * <enable/>, XEP-0198 §4). */
	ts_send(ts, "<r xmlns='" NS_SM "'/>");
	a = ts_expect(ts, "a", NS_SM);
	ck_assert_str_eq(stanza_get_attr(a, "h"), "1");
	ts_send(ts, "<presence from='bob@example.net/phone'/>"
		    "<message from='bob@example.net/phone'><body>x</body>"
		    "</message><r xmlns='" NS_SM "'/>");
	a2 = ts_expect(ts, "a", NS_SM);
	ck_assert_str_eq(stanza_get_attr(a2, "h"), "3");
	/* Ours: roster get and initial presence; the ack empties the
	 * queue, and the next stanza asks again. */
	ts_send(ts, "<a xmlns='" NS_SM "' h='2'/>");
	ck_assert(xmpp_session_send_presence(
		ts->session, &(PresenceSpec){.show = PRESENCE_SHOW_AWAY}));
	g_autoptr(Stanza) p = ts_expect(ts, "presence", NS_CLIENT);
	g_autoptr(Stanza) r = ts_expect(ts, "r", NS_SM);
	ck_assert_ptr_nonnull(stanza_get_child(p, "show", NULL));
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(ts->closed_count, 0);
	/* An ack for more than was sent breaks the stream. */
	ts_send(ts, "<a xmlns='" NS_SM "' h='9'/>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "acknowledged 9");
	/* Not resumable after a stream error... but the state is there;
	 * the owner steals it only after a network drop. */
	sm = xmpp_session_steal_resume_state(ts->session);
	ck_assert_ptr_nonnull(sm);
}
END_TEST

/* With stream management the keepalive is an <r/>. */
START_TEST(test_sm_keepalive)
{
	g_autoptr(TestServer) ts = sm_new_online(NULL);
	g_autoptr(Stanza) r = NULL;
	g_autoptr(Stanza) r2 = NULL;

	ts->now += KEEPALIVE_IDLE;
	xmpp_session_tick(ts->session, ts->now);
	r = ts_expect(ts, "r", NS_SM);
	ts_expect_nothing(ts);
	ts->now += G_USEC_PER_SEC;
	ts_send(ts, "<a xmlns='" NS_SM "' h='2'/>");
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + KEEPALIVE_IDLE);
	ts->now += KEEPALIVE_IDLE;
	xmpp_session_tick(ts->session, ts->now);
	r2 = ts_expect(ts, "r", NS_SM);
	xmpp_session_tick(ts->session, ts->now + KEEPALIVE_TIMEOUT);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "dead");
}
END_TEST

static const char bob_carol[] =
	"<item jid='bob@example.net' subscription='both'/>"
	"<item jid='carol@example.com' subscription='both'/>";

/* Online with SM and bob + carol available, then the TCP link drops. */
static StreamMgmt *sm_drop(TestServer *ts)
{
	ts_send(ts, "<presence from='bob@example.net/phone'>"
		    "<status>hi</status></presence>"
		    "<presence from='carol@example.com/pc'/>");
	ck_assert_uint_eq(ts->changed->len, 2);
	g_ptr_array_set_size(ts->changed, 0);
	/* Sent, never acked: must go out again on resumption. */
	ck_assert(xmpp_session_send_presence(
		ts->session,
		&(PresenceSpec){.show = PRESENCE_SHOW_DND, .status = "busy"}));
	g_autoptr(Stanza) p = ts_expect(ts, "presence", NS_CLIENT);
	ck_assert_ptr_nonnull(stanza_get_child(p, "show", NULL));
	xmpp_session_eof(ts->session, NULL);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, NULL);
	return xmpp_session_steal_resume_state(ts->session);
}

START_TEST(test_sm_resume)
{
	g_autoptr(TestServer) ts = sm_new_online(bob_carol);
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(Stanza) resume = NULL;
	g_autoptr(Stanza) p1 = NULL;
	g_autoptr(Stanza) disco = NULL;
	g_autoptr(Stanza) p2 = NULL;
	g_autoptr(Stanza) r = NULL;
	TestServerOptions options = {0};
	StreamMgmt *sm = sm_drop(ts);

	ck_assert_ptr_nonnull(sm);
	/* The table stands through the drop. */
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);

	options.contacts = ts->contacts;
	options.resume = sm;
	ts2 = ts_new(&options);
	sm_login_to_bind(ts2);
	resume = ts_expect(ts2, "resume", NS_SM);
	ck_assert_str_eq(stanza_get_attr(resume, "previd"), "sm-1");
	/* roster result + two presences */
	ck_assert_str_eq(stanza_get_attr(resume, "h"), "3");
	ck_assert_int_eq(xmpp_session_get_state(ts2->session),
			 XMPP_SESSION_STATE_RESUMING);
	/* The server handled the roster get only: the initial presence, the
	 * disco#info get (PEP) and the dnd presence go out again, in order,
	 * then an ack request. */
	ts_send(ts2, "<resumed xmlns='" NS_SM "' previd='sm-1' h='1'/>");
	p1 = ts_expect(ts2, "presence", NS_CLIENT);
	ck_assert_ptr_null(stanza_get_child(p1, "show", NULL));
	disco = ts_expect(ts2, "iq", NS_CLIENT);
	ck_assert_ptr_nonnull(stanza_get_child(
		disco, "query", "http://jabber.org/protocol/disco#info"));
	p2 = ts_expect(ts2, "presence", NS_CLIENT);
	ck_assert_str_eq(stanza_get_text(stanza_get_child(p2, "show", NULL)),
			 "dnd");
	r = ts_expect(ts2, "r", NS_SM);
	/* The session asks again what the server offers (PEP, blocking). */
	ts_answer_pep(ts2);
	ts_expect_nothing(ts2);
	ck_assert_int_eq(ts2->resumed_count, 1);
	ck_assert_int_eq(ts2->online_count, 0);
	ck_assert_str_eq(ts2->online_jid, TS_FULL_JID);
	ck_assert_int_eq(xmpp_session_get_state(ts2->session),
			 XMPP_SESSION_STATE_ONLINE);
	ck_assert_uint_eq(ts2->changed->len, 0);
	/* Counting goes on from the old stream (3, then the two disco#info
	 * results). */
	ts_send(ts2, "<r xmlns='" NS_SM "'/>");
	g_autoptr(Stanza) a = ts_expect(ts2, "a", NS_SM);
	ck_assert_str_eq(stanza_get_attr(a, "h"), "5");
	ck_assert(xmpp_session_get_deadline(ts2->session) ==
		  ts2->now + KEEPALIVE_IDLE);
}
END_TEST

/* The client's next stanza that is not an ack request, or NULL. */
static Stanza *next_not_r(TestServer *ts)
{
	for (;;) {
		Stanza *st = NULL;
		XmlReaderEvent ev = ts_next(ts, &st);

		if (ev == XML_READER_EVENT_NONE)
			return NULL;
		ck_assert_int_eq(ev, XML_READER_EVENT_STANZA);
		if (strcmp(stanza_get_name(st), "r") != 0)
			return st;
		stanza_free(st);
	}
}

static void answer_iq(TestServer *ts, const Stanza *iq, const char *payload)
{
	ts_send_fmt(ts, "<iq type='result' id='%s'>%s</iq>",
		    stanza_get_attr(iq, "id"), payload);
}

/* Online with SM and the discovery answered: PEP and blocking on the
 * account, the (empty) block list, the nick published. */
static TestServer *sm_online_discovered(void)
{
	TestServer *ts = ts_new(&(TestServerOptions){.nick = "Al"});
	g_autoptr(Stanza) bind = NULL;
	g_autoptr(Stanza) roster = NULL;
	g_autoptr(Stanza) disco = NULL;
	Stanza *st;

	sm_login_to_bind(ts);
	bind = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(ts,
		    "<iq type='result' id='%s'><bind "
		    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid>"
		    "</bind></iq>",
		    stanza_get_attr(bind, "id"), TS_FULL_JID);
	stanza_free(ts_expect(ts, "enable", NS_SM));
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ts_send(ts, "<enabled xmlns='" NS_SM "' id='sm-1' resume='true'/>");
	answer_iq(ts, roster, "<query xmlns='jabber:iq:roster'/>");
	stanza_free(next_not_r(ts)); /* the initial presence */
	disco = next_not_r(ts);
	ck_assert_str_eq(stanza_get_attr(disco, "to"), TS_JID);
	answer_iq(ts, disco,
		  "<query xmlns='http://jabber.org/protocol/disco#info'>"
		  "<identity category='pubsub' type='pep'/>"
		  "<feature var='urn:xmpp:blocking'/></query>");
	/* Our presence with the new caps, the block list get and the nick:
	 * six stanzas since <enable/>. */
	while ((st = next_not_r(ts)) != NULL) {
		if (stanza_get_child(st, "blocklist", "urn:xmpp:blocking"))
			answer_iq(ts, st,
				  "<blocklist xmlns='urn:xmpp:blocking'/>");
		else if (strcmp(stanza_get_name(st), "presence") != 0)
			ck_assert_msg(
				stanza_get_child(
					st, "pubsub",
					"http://jabber.org/protocol/pubsub"),
				"%s", ts->client_plain->str);
		stanza_free(st);
	}
	ck_assert_int_eq(ts->own_caps_changed_count, 1);
	return ts;
}

/* A new XmppSession resuming sm, nick set; after <resumed/>, every
 * stanza it sends, acks aside (transfer full). */
static GPtrArray *sm_resume_sent(TestServer **ret_ts, ContactTable *contacts,
				 StreamMgmt *sm, const char *nick)
{
	TestServerOptions options = {
		.contacts = contacts, .resume = sm, .nick = nick};
	TestServer *ts = ts_new(&options);
	GPtrArray *sent =
		g_ptr_array_new_with_free_func((GDestroyNotify)stanza_free);
	Stanza *st;

	sm_login_to_bind(ts);
	stanza_free(ts_expect(ts, "resume", NS_SM));
	/* Everything acked: what follows is new, not sent again. */
	ts_send(ts, "<resumed xmlns='" NS_SM "' previd='sm-1' h='6'/>");
	while ((st = next_not_r(ts)) != NULL)
		g_ptr_array_add(sent, st);
	ck_assert_int_eq(ts->resumed_count, 1);
	*ret_ts = ts;
	return sent;
}

/*
 * A resumed stream is the same server session: what the dropped one found
 * out (PEP, blocking, the nick it published) is taken over, not asked
 * again, and our caps ver stays the one in the server's copy of our
 * presence. A nick set while the link was down still goes out.
 */
START_TEST(test_sm_resume_keeps_discovery)
{
	g_autoptr(TestServer) ts = sm_online_discovered();
	g_autofree char *ver = g_strdup(xmpp_session_get_caps_ver(ts->session));
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(TestServer) ts3 = NULL;
	g_autoptr(GPtrArray) sent = NULL;
	g_autoptr(GPtrArray) sent3 = NULL;
	StreamMgmt *sm;

	ts_send(ts, "<a xmlns='" NS_SM "' h='6'/>");
	xmpp_session_eof(ts->session, NULL);
	sm = xmpp_session_steal_resume_state(ts->session);
	ck_assert_ptr_nonnull(sm);
	ck_assert_ptr_nonnull(stream_mgmt_get_learned(sm));
	sent = sm_resume_sent(&ts2, ts->contacts, sm, "Al");
	ck_assert_uint_eq(sent->len, 0);
	ck_assert_int_eq(ts2->own_caps_changed_count, 0);
	ck_assert_str_eq(xmpp_session_get_caps_ver(ts2->session), ver);

	/* Dropped again; the nick changed meanwhile: published, nothing
	 * else. */
	xmpp_session_eof(ts2->session, NULL);
	sm = xmpp_session_steal_resume_state(ts2->session);
	ck_assert_ptr_nonnull(sm);
	sent3 = sm_resume_sent(&ts3, ts->contacts, sm, "Alice");
	ck_assert_uint_eq(sent3->len, 1);
	ck_assert_msg(stanza_get_child(sent3->pdata[0], "pubsub",
				       "http://jabber.org/protocol/pubsub"),
		      "%s", ts3->client_plain->str);
	ck_assert_str_eq(xmpp_session_get_caps_ver(ts3->session), ver);
}
END_TEST

/*
 * Resumption refused: a full new session. The table keeps what it knew;
 * the server's presence burst confirms bob (no signal), carol is not sent
 * again and goes offline after the grace period: one signal, not a storm.
 */
START_TEST(test_sm_resume_failed_resync)
{
	g_autoptr(TestServer) ts = sm_new_online(bob_carol);
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(Stanza) resume = NULL;
	TestServerOptions options = {0};
	StreamMgmt *sm = sm_drop(ts);
	int64_t online_at;

	options.contacts = ts->contacts;
	options.resume = sm;
	ts2 = ts_new(&options);
	sm_login_to_bind(ts2);
	resume = ts_expect(ts2, "resume", NS_SM);
	ts_send(ts2,
		"<failed xmlns='" NS_SM "'>"
		"<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
		"</failed>");
	sm_bind_to_online(ts2, bob_carol);
	ck_assert_int_eq(ts2->online_count, 1);
	ck_assert_int_eq(ts2->resumed_count, 0);
	ck_assert_uint_eq(ts2->changed->len, 0);
	online_at = ts2->now;
	/* The grace period is the next deadline. */
	ck_assert(xmpp_session_get_deadline(ts2->session) ==
		  online_at + RESYNC_GRACE);
	ts_send(ts2, "<presence from='bob@example.net/phone'>"
		     "<status>hi</status></presence>");
	ck_assert_uint_eq(ts2->changed->len, 0);
	xmpp_session_tick(ts2->session, online_at + RESYNC_GRACE - 1);
	ck_assert_uint_eq(ts2->changed->len, 0);
	xmpp_session_tick(ts2->session, online_at + RESYNC_GRACE);
	ck_assert_uint_eq(ts2->changed->len, 1);
	ck_assert_str_eq(g_ptr_array_index(ts2->changed, 0),
			 "carol@example.com");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts2->contacts,
							  "carol@example.com")),
			 PRESENCE_SHOW_OFFLINE);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts2->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);
	ck_assert(xmpp_session_get_deadline(ts2->session) ==
		  ts2->now + KEEPALIVE_IDLE);
}
END_TEST

/*
 * The new session of a refused resumption drops again inside its grace
 * period, and that stream is resumed: carol, whom the server never sent
 * again, still goes offline one grace period after the resumption (the
 * resumed stream is the session that was resynchronising); bob, who was
 * confirmed, stays.
 */
START_TEST(test_sm_resume_during_resync)
{
	g_autoptr(TestServer) ts = sm_new_online(bob_carol);
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(TestServer) ts3 = NULL;
	g_autoptr(Stanza) resume = NULL;
	g_autoptr(Stanza) resume2 = NULL;
	TestServerOptions options = {0};
	int64_t resumed_at;

	options.contacts = ts->contacts;
	options.resume = sm_drop(ts);
	ts2 = ts_new(&options);
	sm_login_to_bind(ts2);
	resume = ts_expect(ts2, "resume", NS_SM);
	ts_send(ts2,
		"<failed xmlns='" NS_SM "'>"
		"<item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
		"</failed>");
	sm_bind_to_online(ts2, bob_carol);
	ts_send(ts2, "<presence from='bob@example.net/phone'>"
		     "<status>hi</status></presence>");
	ts2->now += RESYNC_GRACE / 2;
	xmpp_session_tick(ts2->session, ts2->now);
	ck_assert_uint_eq(ts2->changed->len, 0);
	xmpp_session_eof(ts2->session, NULL);
	ts_assert_closed(ts2, XMPP_SESSION_END_NETWORK, NULL);

	options.resume = xmpp_session_steal_resume_state(ts2->session);
	ck_assert_ptr_nonnull(options.resume);
	ts3 = ts_new(&options);
	sm_login_to_bind(ts3);
	resume2 = ts_expect(ts3, "resume", NS_SM);
	ck_assert_str_eq(stanza_get_attr(resume2, "previd"), "sm-1");
	ts_send(ts3, "<resumed xmlns='" NS_SM "' previd='sm-1' h='3'/>");
	ck_assert_int_eq(ts3->resumed_count, 1);
	ck_assert_int_eq(xmpp_session_get_state(ts3->session),
			 XMPP_SESSION_STATE_ONLINE);
	ck_assert_uint_eq(ts3->changed->len, 0);
	resumed_at = ts3->now;
	ck_assert(xmpp_session_get_deadline(ts3->session) ==
		  resumed_at + RESYNC_GRACE);
	xmpp_session_tick(ts3->session, resumed_at + RESYNC_GRACE - 1);
	ck_assert_uint_eq(ts3->changed->len, 0);
	xmpp_session_tick(ts3->session, resumed_at + RESYNC_GRACE);
	ck_assert_uint_eq(ts3->changed->len, 1);
	ck_assert_str_eq(g_ptr_array_index(ts3->changed, 0),
			 "carol@example.com");
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts3->contacts,
							  "carol@example.com")),
			 PRESENCE_SHOW_OFFLINE);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts3->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_AVAILABLE);
	ck_assert_uint_eq(contacts_count_stale(ts3->contacts), 0);
}
END_TEST

/* A plain resumption (no resync pending) starts no grace period. */
START_TEST(test_sm_resume_no_resync)
{
	g_autoptr(TestServer) ts = sm_new_online(bob_carol);
	g_autoptr(TestServer) ts2 = NULL;
	g_autoptr(Stanza) resume = NULL;
	TestServerOptions options = {0};

	options.contacts = ts->contacts;
	options.resume = sm_drop(ts);
	ts2 = ts_new(&options);
	sm_login_to_bind(ts2);
	resume = ts_expect(ts2, "resume", NS_SM);
	ts_send(ts2, "<resumed xmlns='" NS_SM "' previd='sm-1' h='1'/>");
	ck_assert_int_eq(ts2->resumed_count, 1);
	ck_assert(xmpp_session_get_deadline(ts2->session) ==
		  ts2->now + KEEPALIVE_IDLE);
}
END_TEST

/* A server that no longer offers <sm/>: a new session straight away. */
START_TEST(test_sm_resume_not_offered)
{
	g_autoptr(TestServer) ts = sm_new_online(bob_carol);
	g_autoptr(TestServer) ts2 = NULL;
	TestServerOptions options = {0};
	g_autofree char *mech = NULL;

	options.contacts = ts->contacts;
	options.resume = sm_drop(ts);
	ts2 = ts_new(&options);
	mech = ts_login(ts2, "PLAIN", bob_carol);
	ck_assert_int_eq(ts2->online_count, 1);
	ck_assert_ptr_null(strstr(ts2->client_plain->str, "resume"));
	ck_assert_ptr_null(xmpp_session_steal_resume_state(ts2->session));
}
END_TEST

/* ---- splits ------------------------------------------------------------- */

/* The whole login with the server's plaintext one byte per TLS record
 * and the ciphertext one byte per feed. */
START_TEST(test_split_bytewise)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = NULL;

	ts->split_plain = 1;
	ts->split_wire = 1;
	mech = ts_login(ts, ALL_MECHS, roster_items);
	ck_assert_str_eq(mech, "SCRAM-SHA-256");
	ts_send(ts, "<presence from='bob@example.net/phone'><show>xa</show>"
		    "</presence><iq type='get' id='p'><ping "
		    "xmlns='urn:xmpp:ping'/></iq>");
	ck_assert_uint_eq(ts->changed->len, 4);
	ck_assert_int_eq(contact_get_show(contacts_lookup(ts->contacts,
							  "bob@example.net")),
			 PRESENCE_SHOW_XA);
	g_autoptr(Stanza) pong = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(pong, "type"), "result");
}
END_TEST

/* Records of 7 bytes, wire chunks of 13: splits that fall anywhere. */
START_TEST(test_split_odd)
{
	g_autoptr(TestServer) ts = ts_new(NULL);
	g_autofree char *mech = NULL;

	ts->split_plain = 7;
	ts->split_wire = 13;
	mech = ts_login(ts, "SCRAM-SHA-1", roster_items);
	ck_assert_str_eq(mech, "SCRAM-SHA-1");
}
END_TEST

/* Every two-piece split of the pre-TLS server side. */
START_TEST(test_split_every_byte_pre_tls)
{
	static const char server[] = TS_SERVER_HEADER TS_FEATURES_STARTTLS;
	size_t len = strlen(server);

	for (size_t cut = 0; cut <= len; cut++) {
		g_autoptr(TestServer) ts = ts_new(NULL);
		g_autoptr(Stanza) starttls = NULL;

		ts_start(ts);
		ts_expect_header(ts, false);
		ts_send_raw(ts, server, cut);
		ts_send_raw(ts, server + cut, len - cut);
		starttls = ts_expect(ts, "starttls", NS_TLS);
		ck_assert_int_eq(ts->closed_count, 0);
	}
}
END_TEST

/* ---- config ------------------------------------------------------------- */

START_TEST(test_new_bad_config)
{
	g_autoptr(ContactTable) contacts = contacts_new();
	XmppSessionCallbacks callbacks = {0};
	XmppSessionConfig config = {.jid = "not a jid@@", .password = "x"};
	g_autoptr(GError) error = NULL;
	XmppSession *s;

	s = xmpp_session_new(&config, contacts, &callbacks, NULL, &error);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);

	config.jid = "example.org";
	s = xmpp_session_new(&config, contacts, &callbacks, NULL, &error);
	ck_assert_ptr_null(s);
	g_clear_error(&error);

	config.jid = TS_JID;
	config.ca_file = "/nonexistent/ca.pem";
	s = xmpp_session_new(&config, contacts, &callbacks, NULL, &error);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(error->message, "ca-file"));
}
END_TEST

/* ---- closing (issue #12) ------------------------------------------------ */

/* A server that never answers our closing tag: after 5 s the close is
 * done anyway (REQUESTED), so the owner drops TCP and goes on. */
START_TEST(test_close_deadline)
{
	g_autoptr(TestServer) ts = new_online(NULL);
	g_autoptr(Stanza) presence = NULL;

	xmpp_session_close(ts->session);
	presence = ts_expect(ts, "presence", NS_CLIENT);
	ts_expect_close(ts);
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + 5 * G_USEC_PER_SEC);
	xmpp_session_tick(ts->session, ts->now + 4 * G_USEC_PER_SEC);
	ck_assert_int_eq(ts->closed_count, 0);
	xmpp_session_tick(ts->session, ts->now + 5 * G_USEC_PER_SEC);
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, "did not answer");
}
END_TEST

/* RFC 6120 §4.4: after our </stream:stream> nothing more goes out, not
 * even the answer to an <r/> (it used to, and GnuTLS refused the write). */
START_TEST(test_close_nothing_after_tag)
{
	g_autoptr(TestServer) ts = sm_new_online(NULL);
	g_autoptr(Stanza) presence = NULL;
	g_autoptr(StreamMgmt) sm = NULL;

	xmpp_session_close(ts->session);
	presence = ts_expect(ts, "presence", NS_CLIENT);
	ts_expect_close(ts);
	ts_send(ts,
		"<r xmlns='" NS_SM "'/>"
		"<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>");
	ts_expect_nothing(ts);
	ck_assert_int_eq(ts->closed_count, 0);
	ts_send(ts, "</stream:stream>");
	ts_assert_closed(ts, XMPP_SESSION_END_REQUESTED, NULL);
	/* Closed on purpose: contacts saw us leave; never resumed. */
	sm = xmpp_session_steal_resume_state(ts->session);
	ck_assert_ptr_null(sm);
}
END_TEST

/* Before TLS nothing is authenticated: a forged <conflict/> is a
 * server-error (retried), not conflict (which stops retrying). */
START_TEST(test_conflict_before_tls)
{
	g_autoptr(TestServer) ts = ts_new(NULL);

	ts_start(ts);
	ts_expect_header(ts, false);
	ts_send(ts, TS_SERVER_HEADER "<stream:error><conflict "
				     "xmlns='urn:ietf:params:xml:ns:xmpp-"
				     "streams'/></stream:error>");
	ts_assert_closed(ts, XMPP_SESSION_END_SERVER_ERROR, "conflict");
}
END_TEST

/* Bound, the roster may take long on a slow link: the deadline is no
 * byte for 30 s, not 30 s in all. */
START_TEST(test_roster_progress_deadline)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(Stanza) roster = NULL;

	ts_start(ts);
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(
		ts,
		"<iq type='result' id='%s'><query xmlns='jabber:iq:roster'>",
		stanza_get_attr(roster, "id"));
	for (int i = 0; i < 10; i++) {
		ts->now += 20 * G_USEC_PER_SEC;
		xmpp_session_tick(ts->session, ts->now);
		ck_assert_int_eq(ts->closed_count, 0);
		ts_send_fmt(ts, "<item jid='c%d@example.org'/>", i);
	}
	ck_assert(xmpp_session_get_deadline(ts->session) ==
		  ts->now + 30 * G_USEC_PER_SEC);
	ts->now += 30 * G_USEC_PER_SEC;
	xmpp_session_tick(ts->session, ts->now);
	ts_assert_closed(ts, XMPP_SESSION_END_NETWORK, "roster");
}
END_TEST

/* The roster result must come from our server or bare JID, not from a
 * full JID, not even another resource of ours (RFC 6121 §2.1.4). */
START_TEST(test_roster_result_from_full_jid)
{
	g_autoptr(TestServer) ts = ts_new(&(TestServerOptions){.bound = true});
	g_autoptr(Stanza) roster = NULL;

	ts_start(ts);
	roster = ts_expect(ts, "iq", NS_CLIENT);
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' from='" TS_JID "/other'>"
		    "<query xmlns='jabber:iq:roster'><item "
		    "jid='mallory@evil.example' subscription='both'/></query>"
		    "</iq>",
		    stanza_get_attr(roster, "id"));
	ck_assert_int_eq(ts->online_count, 0);
	ck_assert_ptr_null(
		contacts_lookup(ts->contacts, "mallory@evil.example"));
	ts_send_fmt(ts,
		    "<iq type='result' id='%s' from='" TS_JID "'><query "
		    "xmlns='jabber:iq:roster'/></iq>",
		    stanza_get_attr(roster, "id"));
	ck_assert_int_eq(ts->online_count, 1);
}
END_TEST

/* ---- the pending-IQ table, on the stream directly ------------------------ */

typedef struct {
	XmppStream *stream;
	GPtrArray *answers; /* "data:type" per handler call */
	int bound_count;
	int closed_count;
} StreamProbe;

static void probe_bound(void *user_data, const char *full_jid)
{
	StreamProbe *p = user_data;

	ck_assert_str_eq(full_jid, TS_FULL_JID);
	p->bound_count++;
}

static void probe_closed(void *user_data, XmppSessionEnd reason,
			 const GError *error)
{
	StreamProbe *p = user_data;

	(void)reason;
	(void)error;
	p->closed_count++;
}

/* Handler data: where to note the call, and a label. */
typedef struct {
	GPtrArray *answers;
	const char *label;
} ProbeTag;

static void probe_answer(void *data, const Stanza *iq)
{
	ProbeTag *tag = data;

	g_ptr_array_add(tag->answers,
			g_strdup_printf("%s:%s", tag->label,
					stanza_get_attr(iq, "type")));
}

static void probe_init(StreamProbe *p)
{
	static const XmppStreamCallbacks callbacks = {
		.bound = probe_bound,
		.closed = probe_closed,
	};
	XmppSessionConfig config = {.jid = TS_JID, .password = TS_PASSWORD};
	g_autoptr(GByteArray) out = g_byte_array_new();

	p->answers = g_ptr_array_new_with_free_func(g_free);
	p->stream = xmpp_stream_new_bound_for_test(&config, &callbacks, p,
						   TS_FULL_JID, NULL);
	ck_assert_ptr_nonnull(p->stream);
	xmpp_stream_start(p->stream, 1);
	ck_assert_int_eq(p->bound_count, 1);
	ck_assert_int_eq(xmpp_stream_get_state(p->stream),
			 XMPP_SESSION_STATE_ROSTER);
	xmpp_stream_set_online(p->stream);
	xmpp_stream_take_output(p->stream, out);
}

static void probe_clear(StreamProbe *p)
{
	xmpp_stream_free(p->stream);
	g_ptr_array_unref(p->answers);
}

/* Sends an IQ get to `to` (NULL: none) and returns its id. */
static char *probe_send(StreamProbe *p, const char *to, ProbeTag *data)
{
	g_autoptr(Stanza) iq = stanza_new("iq", NS_CLIENT);

	stanza_set_attr(iq, "type", "get");
	if (to)
		stanza_set_attr(iq, "to", to);
	stanza_add_child_new(iq, "query", "urn:example:q");
	ck_assert(xmpp_stream_send_iq(p->stream, iq, probe_answer, data));
	return g_strdup(stanza_get_attr(iq, "id"));
}

static void probe_feed(StreamProbe *p, const char *format, ...)
	G_GNUC_PRINTF(2, 3);

static void probe_feed(StreamProbe *p, const char *format, ...)
{
	g_autofree char *xml = NULL;
	va_list ap;

	va_start(ap, format);
	xml = g_strdup_vprintf(format, ap);
	va_end(ap);
	xmpp_stream_feed(p->stream, xml, strlen(xml), 2);
}

/* RFC 6120 §8.1.2.1: the answer must come from where the request went;
 * a forged one leaves the request pending; one answer, one call. */
START_TEST(test_pending_iq_from_addressee)
{
	StreamProbe p = {0};
	ProbeTag data;
	g_autofree char *id = NULL;

	probe_init(&p);
	data = (ProbeTag){p.answers, "bob"};
	id = probe_send(&p, "bob@example.net/phone", &data);
	probe_feed(&p,
		   "<iq type='result' id='%s' from='mallory@evil.example'/>",
		   id);
	probe_feed(&p, "<iq type='result' id='%s'/>", id);
	probe_feed(&p, "<iq type='result' id='%s' from='bob@example.net'/>",
		   id);
	ck_assert_uint_eq(p.answers->len, 0);
	/* JIDs compare normalized: the domain's case does not matter. */
	probe_feed(&p,
		   "<iq type='error' id='%s' from='bob@EXAMPLE.net/phone'/>",
		   id);
	ck_assert_uint_eq(p.answers->len, 1);
	ck_assert_str_eq(g_ptr_array_index(p.answers, 0), "bob:error");
	probe_feed(&p,
		   "<iq type='result' id='%s' from='bob@example.net/phone'/>",
		   id);
	ck_assert_uint_eq(p.answers->len, 1);
	probe_clear(&p);
}
END_TEST

/* Requests to our own server or account: no from, the domain, our bare or
 * full JID may answer; another account on our server may not. */
START_TEST(test_pending_iq_own_server)
{
	StreamProbe p = {0};
	ProbeTag data;
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autofree char *c = NULL;

	probe_init(&p);
	data = (ProbeTag){p.answers, "own"};
	a = probe_send(&p, NULL, &data);
	b = probe_send(&p, TS_JID, &data);
	c = probe_send(&p, TS_DOMAIN, &data);
	probe_feed(&p, "<iq type='result' id='%s' from='eve@" TS_DOMAIN "'/>",
		   a);
	ck_assert_uint_eq(p.answers->len, 0);
	probe_feed(&p, "<iq type='result' id='%s'/>", a);
	probe_feed(&p, "<iq type='result' id='%s' from='" TS_JID "'/>", b);
	probe_feed(&p, "<iq type='result' id='%s' from='" TS_DOMAIN "'/>", c);
	ck_assert_uint_eq(p.answers->len, 3);
	/* Unknown ids and answers without id change nothing. */
	probe_feed(&p, "<iq type='result' id='nope'/><iq type='result'/>");
	ck_assert_uint_eq(p.answers->len, 3);
	ck_assert_int_eq(xmpp_stream_get_state(p.stream),
			 XMPP_SESSION_STATE_ONLINE);
	probe_clear(&p);
}
END_TEST

/* IQs still pending when the stream ends are dropped without a call, and
 * nothing more can be sent; the table is bounded. */
START_TEST(test_pending_iq_dropped_and_bounded)
{
	StreamProbe p = {0};
	ProbeTag data;
	g_autofree char *id = NULL;
	unsigned sent = 0;

	probe_init(&p);
	data = (ProbeTag){p.answers, "x"};
	id = probe_send(&p, NULL, &data);
	for (unsigned i = 0; i < 5000; i++) {
		g_autoptr(Stanza) iq = stanza_new("iq", NS_CLIENT);
		g_autoptr(GByteArray) out = g_byte_array_new();

		stanza_set_attr(iq, "type", "get");
		if (!xmpp_stream_send_iq(p.stream, iq, probe_answer, &data))
			break;
		xmpp_stream_take_output(p.stream, out);
		sent++;
	}
	ck_assert_uint_lt(sent, 5000);
	ck_assert_uint_gt(sent, 100);
	xmpp_stream_eof(p.stream, NULL);
	ck_assert_int_eq(p.closed_count, 1);
	probe_feed(&p, "<iq type='result' id='%s'/>", id);
	ck_assert_uint_eq(p.answers->len, 0);
	{
		g_autoptr(Stanza) iq = stanza_new("iq", NS_CLIENT);

		stanza_set_attr(iq, "type", "get");
		ck_assert(!xmpp_stream_send_iq(p.stream, iq, probe_answer,
					       &data));
	}
	probe_clear(&p);
}
END_TEST

int main(void)
{
	/* One TCase per test, named after it without "test_". */
	const CheckCase cases[] = {
#define CASE(fn) {&(#fn)[sizeof("test_") - 1], fn}
		CASE(test_login_scram_sha256),
		CASE(test_login_scram_sha1),
		CASE(test_login_plain_inside_tls),
		CASE(test_login_scram_plus),
		CASE(test_login_plus_choice),
		CASE(test_sasl_downgrade_detected),
		CASE(test_sasl_downgrade_checked),
		CASE(test_sasl_plain_refused_after_scram),
		CASE(test_sasl_temporary_failure),
		CASE(test_login_direct_tls),
		CASE(test_login_server_assigned_resource),
		CASE(test_login_optional_session_skipped),
		CASE(test_csi_offered),
		CASE(test_no_starttls),
		CASE(test_starttls_failure),
		CASE(test_proceed_injection_dropped),
		CASE(test_bad_cert_wrong_name),
		CASE(test_bad_cert_self_signed),
		CASE(test_bad_cert_expired),
		CASE(test_bad_cert_not_yet_valid),
		CASE(test_bad_cert_unknown_ca),
		CASE(test_bad_cert_direct_tls),
		CASE(test_sasl_failure),
		CASE(test_sasl_bad_server_signature),
		CASE(test_sasl_success_without_signature),
		CASE(test_sasl_no_mechanism),
		CASE(test_sasl_bad_base64),
		CASE(test_sasl_final_in_challenge),
		CASE(test_tls_record_error),
		CASE(test_tls_close_notify),
		CASE(test_bind_conflict),
		CASE(test_bind_wrong_jid),
		CASE(test_stream_error_conflict),
		CASE(test_stream_error_system_shutdown),
		CASE(test_stream_error_see_other_host),
		CASE(test_stream_error_before_tls),
		CASE(test_restricted_xml_comment),
		CASE(test_restricted_xml_pi),
		CASE(test_not_well_formed),
		CASE(test_bad_header_version),
		CASE(test_server_closes_stream),
		CASE(test_eof),
		CASE(test_close_before_online),
		CASE(test_close_before_start),
		CASE(test_negotiation_timeout),
		CASE(test_negotiation_timeout_configured),
		CASE(test_keepalive_ping),
		{"sm_acks", test_sm_acks, 2},
		CASE(test_sm_keepalive),
		CASE(test_sm_resume),
		CASE(test_sm_resume_keeps_discovery),
		CASE(test_sm_resume_failed_resync),
		CASE(test_sm_resume_during_resync),
		CASE(test_sm_resume_no_resync),
		CASE(test_sm_resume_not_offered),
		CASE(test_split_bytewise),
		CASE(test_split_odd),
		CASE(test_split_every_byte_pre_tls),
		CASE(test_new_bad_config),
		CASE(test_close_deadline),
		CASE(test_close_nothing_after_tag),
		CASE(test_conflict_before_tls),
		CASE(test_roster_progress_deadline),
		CASE(test_roster_result_from_full_jid),
		CASE(test_pending_iq_from_addressee),
		CASE(test_pending_iq_own_server),
		CASE(test_pending_iq_dropped_and_bounded),
#undef CASE
	};

	return check_suite_run("xmpp-stream", cases, G_N_ELEMENTS(cases), 120);
}
