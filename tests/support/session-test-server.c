/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <check.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "tests/support/session-test-server.h"

#include "core/xmpp-session-private.h"

#define NS_TLS "urn:ietf:params:xml:ns:xmpp-tls"
#define NS_SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define NS_BIND "urn:ietf:params:xml:ns:xmpp-bind"
#define NS_CLIENT "jabber:client"
#define NS_ROSTER "jabber:iq:roster"

#define SCRAM_SALT "presenced-test-salt"
#define SCRAM_ITERATIONS 4096u
#define SCRAM_SERVER_NONCE "3rfcNHYJY1ZVvWVs7j"

/* ---- session callbacks -------------------------------------------------- */

static void on_online(void *user_data, const char *full_jid)
{
	TestServer *ts = user_data;

	ts->online_count++;
	g_free(ts->online_jid);
	ts->online_jid = g_strdup(full_jid);
	ck_assert_str_eq(xmpp_session_get_full_jid(ts->session), full_jid);
	if (ts->send_initial_presence) {
		PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE,
				     .status = "here",
				     .priority = 5};

		ck_assert(xmpp_session_send_presence(ts->session, &spec));
	}
}

static void on_resumed(void *user_data, const char *full_jid)
{
	TestServer *ts = user_data;

	ts->resumed_count++;
	g_free(ts->online_jid);
	ts->online_jid = g_strdup(full_jid);
	ck_assert_str_eq(xmpp_session_get_full_jid(ts->session), full_jid);
}

/* Like the owner: our caps changed, the presence goes again. */
static void on_own_caps_changed(void *user_data)
{
	TestServer *ts = user_data;

	ts->own_caps_changed_count++;
	if (ts->send_initial_presence) {
		PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE,
				     .status = "here",
				     .priority = 5};

		ck_assert(xmpp_session_send_presence(ts->session, &spec));
	}
}

static void on_caps_learned(void *user_data)
{
	TestServer *ts = user_data;

	ts->caps_learned_count++;
}

static void on_blocked_changed(void *user_data)
{
	TestServer *ts = user_data;

	ts->blocked_changed_count++;
}

static uint64_t on_idle_seconds(void *user_data)
{
	TestServer *ts = user_data;

	return ts->idle_seconds;
}

static void on_contact_changed(void *user_data, const char *bare_jid)
{
	TestServer *ts = user_data;

	g_ptr_array_add(ts->changed, g_strdup(bare_jid));
	if (ts->close_on_change)
		xmpp_session_close(ts->session);
}

static void on_subscription_request(void *user_data, const char *bare_jid,
				    const char *message)
{
	TestServer *ts = user_data;

	g_ptr_array_add(ts->subscriptions,
			g_strdup_printf("%s|%s", bare_jid, message));
}

static void on_subscription_request_gone(void *user_data, const char *bare_jid)
{
	TestServer *ts = user_data;

	g_ptr_array_add(ts->requests_gone, g_strdup(bare_jid));
}

static void on_closed(void *user_data, XmppSessionEnd reason,
		      const GError *error)
{
	TestServer *ts = user_data;

	ck_assert_ptr_nonnull(error);
	ck_assert(error->domain == XMPP_SESSION_ERROR);
	ck_assert_int_eq(error->code, (int)reason);
	ts->closed_count++;
	ts->closed_reason = reason;
	g_free(ts->closed_message);
	ts->closed_message = g_strdup(error->message);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_CLOSED);
}

static void on_log_wire(void *user_data, bool sent, const char *text)
{
	TestServer *ts = user_data;

	g_string_append_printf(ts->wire, "%s: %s\n", sent ? "SEND" : "RECV",
			       text);
}

static void on_output_ready(void *user_data)
{
	TestServer *ts = user_data;

	/* Called exactly when the buffer became non-empty. */
	ck_assert(xmpp_session_has_output(ts->session));
	ts->output_ready_count++;
}

/* ---- construction ------------------------------------------------------- */

TestServer *ts_new(const TestServerOptions *options)
{
	static const TestServerOptions defaults = {0};
	TestServer *ts = g_new0(TestServer, 1);
	XmppSessionCallbacks callbacks = {
		.online = on_online,
		.contact_changed = on_contact_changed,
		.subscription_request = on_subscription_request,
		.subscription_request_gone = on_subscription_request_gone,
		.closed = on_closed,
		.log_wire = on_log_wire,
		.resumed = on_resumed,
		.output_ready = on_output_ready,
		.own_caps_changed = on_own_caps_changed,
		.caps_learned = on_caps_learned,
		.blocked_changed = on_blocked_changed,
		.idle_seconds = on_idle_seconds,
	};
	XmppSessionConfig config = {0};
	g_autoptr(GError) error = NULL;

	if (!options)
		options = &defaults;
	if (options->no_log_wire)
		callbacks.log_wire = NULL;
	ts->certs = tls_test_cert_matrix_new(TS_DOMAIN, &error);
	ck_assert_msg(ts->certs != NULL, "%s", error ? error->message : "");
	ts->own_contacts = !options->contacts;
	ts->contacts = options->contacts ? options->contacts : contacts_new();
	ts->changed = g_ptr_array_new_with_free_func(g_free);
	ts->subscriptions = g_ptr_array_new_with_free_func(g_free);
	ts->requests_gone = g_ptr_array_new_with_free_func(g_free);
	ts->wire = g_string_new(NULL);
	ts->reader = xml_reader_new(NULL);
	ts->client_plain = g_string_new(NULL);
	ts->client_raw = g_byte_array_new();
	ts->now = 1000 * G_USEC_PER_SEC;
	ts->send_initial_presence = true;

	config.jid = TS_JID;
	config.password = TS_PASSWORD;
	config.resource = options->resource ? options->resource : TS_RESOURCE;
	config.ca_file = options->no_ca_file ? NULL : ts->certs->ca_file;
	config.direct_tls = options->direct_tls;
	config.negotiation_timeout = options->negotiation_timeout;
	config.scram_worked_before = options->scram_worked_before;
	config.legacy_sasl_only = options->legacy_sasl_only;
	config.user_agent_id = options->user_agent_id;
	config.fast_token = options->fast_token;
	config.fast_mechanism = options->fast_mechanism;
	config.csi_inactive = options->csi_inactive;
	config.blocking_hint = options->blocking_hint;
	ts->blocking_hint = options->blocking_hint;
	config.device = "test-host";
	ts->bound = options->bound;
	if (options->bound)
		ts->session = xmpp_session_new_bound_for_test(
			&config, ts->contacts, &callbacks, ts, TS_FULL_JID,
			options->bound_features);
	else
		ts->session = xmpp_session_new(&config, ts->contacts,
					       &callbacks, ts, &error);
	ck_assert_msg(ts->session != NULL, "%s", error ? error->message : "");
	if (options->resume)
		xmpp_session_set_resume_state(ts->session, options->resume);
	if (options->nick)
		xmpp_session_set_nick(ts->session, options->nick);
	return ts;
}

void ts_free(TestServer *ts)
{
	if (!ts)
		return;
	xmpp_session_free(ts->session);
	if (ts->own_contacts)
		contacts_free(ts->contacts);
	tls_test_cert_matrix_free(ts->certs);
	g_free(ts->online_jid);
	g_ptr_array_unref(ts->changed);
	g_ptr_array_unref(ts->subscriptions);
	g_ptr_array_unref(ts->requests_gone);
	g_free(ts->closed_message);
	g_string_free(ts->wire, TRUE);
	xml_reader_free(ts->reader);
	g_string_free(ts->client_plain, TRUE);
	g_byte_array_unref(ts->client_raw);
	if (ts->tls_server)
		tls_test_server_free(ts->tls_server);
	g_free(ts->scram_client_first_bare);
	g_free(ts->scram_server_first);
	g_free(ts->scram_gs2_header);
	g_free(ts);
}

void ts_start(TestServer *ts)
{
	static const char header[] =
		"<stream:stream xmlns='jabber:client' "
		"xmlns:stream='http://etherx.jabber.org/streams'>";

	xmpp_session_start(ts->session, ts->now);
	if (ts->bound) {
		/* A bound stream sends no header: the client's stream as
		 * the server would see it after the last restart. */
		g_autoptr(Stanza) st = NULL;

		xml_reader_feed(ts->reader, header, sizeof(header) - 1);
		ck_assert_int_eq(xml_reader_next(ts->reader, &st, NULL),
				 XML_READER_EVENT_STREAM_OPEN);
	}
}

/* ---- wire --------------------------------------------------------------- */

static void read_tls_plain(TestServer *ts)
{
	g_autoptr(GByteArray) plain = g_byte_array_new();

	/* 1 (close_notify) or an error: the tests notice through the
	 * session. */
	(void)tls_test_server_read(ts->tls_server, plain);
	g_string_append_len(ts->client_plain, (const char *)plain->data,
			    plain->len);
	xml_reader_feed(ts->reader, (const char *)plain->data, plain->len);
}

/* Moves the client's output to the server side. */
static void pump_client(TestServer *ts)
{
	g_autoptr(GByteArray) out = g_byte_array_new();

	xmpp_session_take_output(ts->session, out);
	ck_assert(!xmpp_session_has_output(ts->session));
	g_byte_array_append(ts->client_raw, out->data, out->len);
	if (!ts->tls_server) {
		g_string_append_len(ts->client_plain, (const char *)out->data,
				    out->len);
		xml_reader_feed(ts->reader, (const char *)out->data, out->len);
		return;
	}
	tls_test_server_feed(ts->tls_server, out->data, out->len);
	if (ts->tls_up)
		read_tls_plain(ts);
}

static void feed_split(TestServer *ts, const guint8 *data, size_t len,
		       size_t split)
{
	size_t step = split ? split : len;

	for (size_t off = 0; off < len; off += step) {
		size_t n = MIN(step, len - off);

		xmpp_session_feed(ts->session, (const char *)data + off, n,
				  ts->now);
	}
}

/* Server ciphertext → client. */
static void deliver_wire(TestServer *ts)
{
	g_autoptr(GByteArray) wire = g_byte_array_new();

	tls_test_server_take_output(ts->tls_server, wire);
	if (wire->len)
		feed_split(ts, wire->data, wire->len, ts->split_wire);
}

void ts_send_raw(TestServer *ts, const char *data, size_t len)
{
	xmpp_session_feed(ts->session, data, len, ts->now);
}

void ts_send(TestServer *ts, const char *xml)
{
	size_t len = strlen(xml);
	size_t step;

	if (!ts->tls_up) {
		feed_split(ts, (const guint8 *)xml, len, ts->split_plain);
		return;
	}
	step = ts->split_plain ? ts->split_plain : len;
	for (size_t off = 0; off < len;) {
		size_t n = MIN(step, len - off);
		int ret = tls_test_server_write(ts->tls_server, xml + off, n);

		ck_assert_msg(ret == 0, "server write: %s",
			      gnutls_strerror(ret));
		off += n;
		/* One record per step reaches the client by itself. */
		if (ts->split_plain)
			deliver_wire(ts);
	}
	deliver_wire(ts);
}

XmlReaderEvent ts_next(TestServer *ts, Stanza **ret_stanza)
{
	g_autoptr(GError) error = NULL;
	XmlReaderEvent event;

	pump_client(ts);
	event = xml_reader_next(ts->reader, ret_stanza, &error);
	ck_assert_msg(event != XML_READER_EVENT_ERROR,
		      "client sent bad XML: %s\n%s", error->message,
		      ts->client_plain->str);
	return event;
}

Stanza *ts_expect(TestServer *ts, const char *name, const char *ns)
{
	Stanza *stanza = NULL;
	XmlReaderEvent event = ts_next(ts, &stanza);

	ck_assert_msg(event == XML_READER_EVENT_STANZA,
		      "expected <%s/>, got event %d; client sent:\n%s", name,
		      event, ts->client_plain->str);
	ck_assert_str_eq(stanza_get_name(stanza), name);
	if (ns)
		ck_assert_str_eq(stanza_get_ns(stanza), ns);
	return stanza;
}

void ts_expect_header(TestServer *ts, bool with_from)
{
	g_autoptr(Stanza) header = NULL;
	XmlReaderEvent event = ts_next(ts, &header);

	ck_assert_msg(event == XML_READER_EVENT_STREAM_OPEN,
		      "expected a stream header, got event %d:\n%s", event,
		      ts->client_plain->str);
	ck_assert_str_eq(stanza_get_name(header), "stream");
	ck_assert_str_eq(stanza_get_ns(header),
			 "http://etherx.jabber.org/streams");
	ck_assert_str_eq(stanza_get_attr(header, "to"), TS_DOMAIN);
	ck_assert_str_eq(stanza_get_attr(header, "version"), "1.0");
	if (with_from)
		ck_assert_str_eq(stanza_get_attr(header, "from"), TS_JID);
	else
		ck_assert_ptr_null(stanza_get_attr(header, "from"));
}

void ts_expect_nothing(TestServer *ts)
{
	g_autoptr(Stanza) stanza = NULL;
	XmlReaderEvent event = ts_next(ts, &stanza);

	ck_assert_msg(event == XML_READER_EVENT_NONE,
		      "expected nothing from the client, got event %d (%s)",
		      event, stanza ? stanza_get_name(stanza) : "");
}

void ts_expect_close(TestServer *ts)
{
	g_autoptr(Stanza) stanza = NULL;
	XmlReaderEvent event = ts_next(ts, &stanza);

	ck_assert_msg(event == XML_READER_EVENT_STREAM_CLOSE,
		      "expected </stream:stream>, got event %d (%s)", event,
		      stanza ? stanza_get_name(stanza) : "");
}

void ts_reset_reader(TestServer *ts)
{
	xml_reader_reset(ts->reader);
}

/* ---- TLS ---------------------------------------------------------------- */

bool ts_tls_handshake(TestServer *ts, TlsTestServerCertKind cert)
{
	ck_assert_ptr_null(ts->tls_server);
	ts->tls_server = tls_test_server_new(ts->certs->server[cert], NULL);
	ts->tls = tls_test_server_get_session(ts->tls_server);

	for (int i = 0; i < 64; i++) {
		int ret;

		pump_client(ts);
		ret = tls_test_server_handshake(ts->tls_server);
		deliver_wire(ts);
		if (ret == 0) {
			ts->tls_up = true;
			pump_client(ts);
			return xmpp_session_get_state(ts->session) !=
			       XMPP_SESSION_STATE_CLOSED;
		}
		if (gnutls_error_is_fatal(ret))
			return false;
		if (xmpp_session_get_state(ts->session) ==
		    XMPP_SESSION_STATE_CLOSED)
			return false;
	}
	ck_abort_msg("TLS handshake did not finish");
	return false;
}

/* ---- SCRAM (RFC 5802 §3, server side) ----------------------------------- */

static char *attr_value(const char *msg, char key)
{
	g_auto(GStrv) parts = g_strsplit(msg, ",", -1);

	for (size_t i = 0; parts[i]; i++)
		if (parts[i][0] == key && parts[i][1] == '=')
			return g_strdup(parts[i] + 2);
	return NULL;
}

char *ts_scram_server_first(TestServer *ts, const char *mech,
			    const char *client_first)
{
	const char *p = client_first;
	g_autofree char *nonce = NULL;
	g_autofree char *salt = NULL;

	if (g_str_has_prefix(mech, "SCRAM-SHA-256")) {
		ts->scram_mac = GNUTLS_MAC_SHA256;
		ts->scram_digest = GNUTLS_DIG_SHA256;
		ts->scram_hash_len = 32;
	} else {
		ts->scram_mac = GNUTLS_MAC_SHA1;
		ts->scram_digest = GNUTLS_DIG_SHA1;
		ts->scram_hash_len = 20;
	}
	/* gs2-header: cbind-flag "," [authzid] "," */
	p = strchr(p, ',');
	ck_assert_ptr_nonnull(p);
	p = strchr(p + 1, ',');
	ck_assert_ptr_nonnull(p);
	p++;
	g_free(ts->scram_gs2_header);
	ts->scram_gs2_header = g_strndup(client_first, p - client_first);
	g_free(ts->scram_client_first_bare);
	ts->scram_client_first_bare = g_strdup(p);
	ck_assert(g_str_has_prefix(p, "n=alice,"));
	nonce = attr_value(p, 'r');
	ck_assert_ptr_nonnull(nonce);
	ck_assert_uint_ge(strlen(nonce), 16);
	salt = g_base64_encode((const guchar *)SCRAM_SALT, strlen(SCRAM_SALT));
	g_free(ts->scram_server_first);
	ts->scram_server_first = g_strdup_printf(
		"r=%s" SCRAM_SERVER_NONCE ",s=%s,i=%u%s%s", nonce, salt,
		SCRAM_ITERATIONS, ts->downgrade_h ? ",h=" : "",
		ts->downgrade_h ? ts->downgrade_h : "");
	return g_strdup(ts->scram_server_first);
}

static void hmac(TestServer *ts, const guint8 *key, const char *data,
		 size_t len, guint8 *out)
{
	ck_assert_int_eq(gnutls_hmac_fast(ts->scram_mac, key,
					  ts->scram_hash_len, data, len, out),
			 0);
}

char *ts_scram_server_final(TestServer *ts, const char *client_final)
{
	const char *proof_at = strstr(client_final, ",p=");
	g_autofree char *without_proof = NULL;
	g_autofree char *auth_message = NULL;
	g_autofree char *c_attr = NULL;
	g_autofree char *r_attr = NULL;
	g_autofree char *expected_c = NULL;
	g_autofree char *expected_r = NULL;
	g_autofree guchar *proof = NULL;
	g_autofree char *v = NULL;
	g_autoptr(GByteArray) cbind = g_byte_array_new();
	gnutls_datum_t pw = {(unsigned char *)TS_PASSWORD, strlen(TS_PASSWORD)};
	gnutls_datum_t salt = {(unsigned char *)SCRAM_SALT, strlen(SCRAM_SALT)};
	guint8 salted[64], client_key[64], stored_key[64], client_sig[64];
	guint8 server_key[64], server_sig[64];
	gsize proof_len = 0;

	ck_assert_ptr_nonnull(proof_at);
	without_proof = g_strndup(client_final, proof_at - client_final);
	c_attr = attr_value(without_proof, 'c');
	r_attr = attr_value(without_proof, 'r');
	ck_assert_ptr_nonnull(c_attr);
	ck_assert_ptr_nonnull(r_attr);

	/* c= is the gs2 header plus, for p=, the binding's bytes. */
	g_byte_array_append(cbind, (const guint8 *)ts->scram_gs2_header,
			    strlen(ts->scram_gs2_header));
	if (g_str_has_prefix(ts->scram_gs2_header, "p=tls-server-end-point,")) {
		/* RFC 5929 §4.1: the hash of our certificate; the test
		 * certificates are signed with SHA-256. */
		const gnutls_datum_t *cert =
			gnutls_certificate_get_ours(ts->tls);
		guint8 digest[32];

		ck_assert_ptr_nonnull(cert);
		ck_assert_int_eq(gnutls_hash_fast(GNUTLS_DIG_SHA256, cert->data,
						  cert->size, digest),
				 0);
		g_byte_array_append(cbind, digest, sizeof(digest));
	} else if (ts->scram_gs2_header[0] == 'p') {
		guint8 exporter[32];
		static const char label[] = "EXPORTER-Channel-Binding";

		ck_assert(g_str_has_prefix(ts->scram_gs2_header,
					   "p=tls-exporter,"));
		ck_assert_int_eq(gnutls_prf_rfc5705(
					 ts->tls, strlen(label), label, 0, NULL,
					 sizeof(exporter), (char *)exporter),
				 0);
		g_byte_array_append(cbind, exporter, sizeof(exporter));
	}
	expected_c = g_base64_encode(cbind->data, cbind->len);
	ck_assert_str_eq(c_attr, expected_c);
	expected_r = attr_value(ts->scram_server_first, 'r');
	ck_assert_str_eq(r_attr, expected_r);

	auth_message = g_strdup_printf("%s,%s,%s", ts->scram_client_first_bare,
				       ts->scram_server_first, without_proof);
	ck_assert_int_eq(gnutls_pbkdf2(ts->scram_mac, &pw, &salt,
				       SCRAM_ITERATIONS, salted,
				       ts->scram_hash_len),
			 0);
	hmac(ts, salted, "Client Key", 10, client_key);
	ck_assert_int_eq(gnutls_hash_fast(ts->scram_digest, client_key,
					  ts->scram_hash_len, stored_key),
			 0);
	hmac(ts, stored_key, auth_message, strlen(auth_message), client_sig);
	proof = g_base64_decode(proof_at + 3, &proof_len);
	if (proof_len != ts->scram_hash_len)
		return NULL;
	for (size_t i = 0; i < proof_len; i++)
		if ((proof[i] ^ client_sig[i]) != client_key[i])
			return NULL;
	hmac(ts, salted, "Server Key", 10, server_key);
	hmac(ts, server_key, auth_message, strlen(auth_message), server_sig);
	if (ts->corrupt_server_signature)
		server_sig[0] ^= 0x01;
	v = g_base64_encode(server_sig, ts->scram_hash_len);
	return g_strdup_printf("v=%s", v);
}

char *ts_sasl_text(const Stanza *el, gsize *ret_len)
{
	const char *text = stanza_get_text(el);
	g_autofree guchar *data = NULL;
	gsize len = 0;
	char *str;

	if (strcmp(text, "=") == 0 || !*text) {
		*ret_len = 0;
		return g_strdup("");
	}
	data = g_base64_decode(text, &len);
	str = g_malloc(len + 1);
	memcpy(str, data, len);
	str[len] = '\0';
	*ret_len = len;
	return str;
}

/* ---- scripted login ----------------------------------------------------- */

static char *mechanisms_features(const TestServer *ts, const char *mechanisms)
{
	g_auto(GStrv) names = g_strsplit(mechanisms, " ", -1);
	GString *xml =
		g_string_new("<stream:features><mechanisms "
			     "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");

	for (size_t i = 0; names[i]; i++)
		if (*names[i])
			g_string_append_printf(xml, "<mechanism>%s</mechanism>",
					       names[i]);
	g_string_append(xml, "</mechanisms>");
	if (ts->sasl2_inline) {
		g_string_append(xml,
				"<authentication xmlns='urn:xmpp:sasl:2'>");
		for (size_t i = 0; names[i]; i++)
			if (*names[i])
				g_string_append_printf(
					xml, "<mechanism>%s</mechanism>",
					names[i]);
		g_string_append_printf(xml,
				       "<inline>%s</inline></authentication>",
				       ts->sasl2_inline);
	}
	if (ts->channel_bindings) {
		/* XEP-0440 §3. */
		g_auto(GStrv) types = g_strsplit(ts->channel_bindings, " ", -1);

		g_string_append(xml, "<sasl-channel-binding "
				     "xmlns='urn:xmpp:sasl-cb:0'>");
		for (size_t i = 0; types[i]; i++)
			if (*types[i])
				g_string_append_printf(
					xml, "<channel-binding type='%s'/>",
					types[i]);
		g_string_append(xml, "</sasl-channel-binding>");
	}
	g_string_append(xml, "</stream:features>");
	return g_string_free(xml, FALSE);
}

void ts_login_to_auth(TestServer *ts, const char *mechanisms)
{
	g_autofree char *features = mechanisms_features(ts, mechanisms);
	g_autoptr(Stanza) starttls = NULL;

	ts_start(ts);
	if (!ts->tls_server) {
		XmppSessionState state = xmpp_session_get_state(ts->session);

		if (state == XMPP_SESSION_STATE_TLS_HANDSHAKE) {
			ck_assert(ts_tls_handshake(ts,
						   TLS_TEST_SERVER_CERT_GOOD));
		} else {
			ts_expect_header(ts, false);
			ts_send(ts, TS_SERVER_HEADER TS_FEATURES_STARTTLS);
			starttls = ts_expect(ts, "starttls", NS_TLS);
			ts_expect_nothing(ts);
			ck_assert_int_eq(xmpp_session_get_state(ts->session),
					 XMPP_SESSION_STATE_STARTTLS);
			ts_send(ts,
				"<proceed "
				"xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
			ts_reset_reader(ts);
			ck_assert(ts_tls_handshake(ts,
						   TLS_TEST_SERVER_CERT_GOOD));
		}
	}
	ts_expect_header(ts, true);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_STREAM_OPENING);
	ts_send(ts, TS_SERVER_HEADER);
	ts_send(ts, features);
}

void ts_login_plain(TestServer *ts)
{
	g_autoptr(Stanza) auth = NULL;

	ts_login_to_auth(ts, "PLAIN");
	auth = ts_expect(ts, "auth", NS_SASL);
	ts_send(ts, "<success xmlns='" NS_SASL "'/>");
	ts_reset_reader(ts);
	ts_expect_header(ts, true);
}

/* From the roster get on: answer it, check online(), the initial
 * presence and PEP discovery. */
void ts_finish_roster(TestServer *ts, const char *roster_items)
{
	g_autoptr(Stanza) roster_iq = NULL;
	g_autofree char *reply = NULL;
	Stanza *query;

	roster_iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ROSTER);
	ck_assert_str_eq(stanza_get_attr(roster_iq, "type"), "get");
	query = stanza_get_child(roster_iq, "query", NS_ROSTER);
	ck_assert_ptr_nonnull(query);
	if (ts->expect_roster_ver)
		ck_assert_str_eq(stanza_get_attr(query, "ver") ?: "(none)",
				 ts->expect_roster_ver);
	else
		ck_assert_ptr_null(stanza_get_attr(query, "ver"));
	ck_assert_int_eq(ts->online_count, 0);
	if (ts->roster_unchanged)
		reply = g_strdup_printf("<iq type='result' id='%s' to='%s'/>",
					stanza_get_attr(roster_iq, "id"),
					TS_FULL_JID);
	else
		reply = g_strdup_printf(
			"<iq type='result' id='%s' to='%s'><query "
			"xmlns='jabber:iq:roster' ver='v1'>%s</query>"
			"</iq>",
			stanza_get_attr(roster_iq, "id"), TS_FULL_JID,
			roster_items ? roster_items : "");
	ts_send(ts, reply);
	ck_assert_int_eq(ts->online_count, 1);
	ck_assert_str_eq(ts->online_jid, TS_FULL_JID);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_ONLINE);
	ck_assert_int_eq(ts->closed_count, 0);
	if (ts->send_initial_presence) {
		g_autoptr(Stanza) presence =
			ts_expect(ts, "presence", NS_CLIENT);

		ck_assert_ptr_null(stanza_get_attr(presence, "type"));
	}
	ts_answer_pep(ts);
	ts_expect_nothing(ts);
}

void ts_online_bound(TestServer *ts, const char *roster_items)
{
	ck_assert_msg(ts->bound, "ts_new(.bound = true) first");
	ts_start(ts);
	ts_finish_roster(ts, roster_items);
}

char *ts_login(TestServer *ts, const char *mechanisms, const char *roster_items)
{
	g_autoptr(Stanza) auth = NULL;
	g_autoptr(Stanza) bind_iq = NULL;
	g_autofree char *mech = NULL;
	g_autofree char *initial = NULL;
	g_autofree char *reply = NULL;
	Stanza *bind, *resource;
	gsize len;

	ts_login_to_auth(ts, mechanisms);
	auth = ts_expect(ts, "auth", NS_SASL);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_AUTHENTICATING);
	mech = g_strdup(stanza_get_attr(auth, "mechanism"));
	ck_assert_ptr_nonnull(mech);
	initial = ts_sasl_text(auth, &len);
	if (strcmp(mech, "PLAIN") == 0) {
		ck_assert_uint_eq(len, sizeof("\0alice\0" TS_PASSWORD) - 1);
		ck_assert_mem_eq(initial, "\0alice\0" TS_PASSWORD, len);
		ts_send(ts,
			"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
	} else {
		g_autofree char *server_first =
			ts_scram_server_first(ts, mech, initial);
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)server_first, strlen(server_first));
		g_autofree char *challenge = g_strdup_printf(
			"<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
			"%s</challenge>",
			b64);
		g_autoptr(Stanza) response = NULL;
		g_autofree char *client_final = NULL;
		g_autofree char *server_final = NULL;
		g_autofree char *final_b64 = NULL;
		g_autofree char *success = NULL;

		ts_send(ts, challenge);
		response = ts_expect(ts, "response", NS_SASL);
		client_final = ts_sasl_text(response, &len);
		server_final = ts_scram_server_final(ts, client_final);
		ck_assert_ptr_nonnull(server_final);
		final_b64 = g_base64_encode((const guchar *)server_final,
					    strlen(server_final));
		success = g_strdup_printf(
			"<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
			"%s</success>",
			final_b64);
		ts_send(ts, success);
		if (ts->corrupt_server_signature)
			return g_steal_pointer(&mech);
	}
	ts_reset_reader(ts);
	ts_expect_header(ts, true);
	if (ts->bind_features) {
		g_autofree char *features =
			g_strconcat(TS_SERVER_HEADER, ts->bind_features, NULL);

		ts_send(ts, features);
	} else {
		ts_send(ts, TS_SERVER_HEADER TS_FEATURES_BIND);
	}

	bind_iq = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_BINDING);
	ck_assert_str_eq(stanza_get_attr(bind_iq, "type"), "set");
	ck_assert_ptr_nonnull(stanza_get_attr(bind_iq, "id"));
	bind = stanza_get_child(bind_iq, "bind", NS_BIND);
	ck_assert_ptr_nonnull(bind);
	resource = stanza_get_child(bind, "resource", NULL);
	ck_assert_ptr_nonnull(resource);
	ck_assert_str_eq(stanza_get_text(resource), TS_RESOURCE);
	reply = g_strdup_printf(
		"<iq type='result' id='%s'><bind "
		"xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>%s</jid></bind>"
		"</iq>",
		stanza_get_attr(bind_iq, "id"), TS_FULL_JID);
	ts_send(ts, reply);
	g_clear_pointer(&reply, g_free);

	ts_finish_roster(ts, roster_items);
	return g_steal_pointer(&mech);
}

void ts_answer_blocklist(TestServer *ts)
{
	g_autoptr(Stanza) get = NULL;
	g_autofree char *reply = NULL;

	/* Blocking changes our caps, and the owner sends them again:
	 * unless they had it from the start (blocking_hint). */
	if (ts->send_initial_presence && !ts->blocking_hint) {
		g_autoptr(Stanza) presence =
			ts_expect(ts, "presence", NS_CLIENT);

		ck_assert_ptr_nonnull(stanza_get_child(
			presence, "c", "http://jabber.org/protocol/caps"));
	}
	get = ts_expect(ts, "iq", NS_CLIENT);
	ck_assert_str_eq(stanza_get_attr(get, "type"), "get");
	ck_assert_ptr_null(stanza_get_attr(get, "to"));
	ck_assert_ptr_nonnull(
		stanza_get_child(get, "blocklist", "urn:xmpp:blocking"));
	reply = g_strdup_printf("<iq type='result' id='%s'><blocklist "
				"xmlns='urn:xmpp:blocking'>%s</blocklist></iq>",
				stanza_get_attr(get, "id"),
				ts->blocklist ? ts->blocklist : "");
	ts_send(ts, reply);
}

static void answer_domain_disco(TestServer *ts, const Stanza *disco)
{
	g_autofree char *reply = g_strdup_printf(
		"<iq type='result' id='%s' from='%s' to='%s'><query "
		"xmlns='http://jabber.org/protocol/disco#info'>"
		"<identity category='server' type='im'/>%s</query></iq>",
		stanza_get_attr(disco, "id"), TS_DOMAIN, TS_FULL_JID,
		ts->blocking_domain ? "<feature var='urn:xmpp:blocking'/>"
				    : "");

	ts_send(ts, reply);
	if (ts->blocking_domain)
		ts_answer_blocklist(ts);
	else if (ts->send_initial_presence && ts->blocking_hint)
		/* The hint was wrong: our caps without blocking, again. */
		stanza_free(ts_expect(ts, "presence", NS_CLIENT));
}

void ts_answer_pep(TestServer *ts)
{
	g_autoptr(Stanza) disco = ts_expect(ts, "iq", NS_CLIENT);
	g_autoptr(Stanza) domain_disco = NULL;
	g_autofree char *reply = NULL;

	ck_assert_str_eq(stanza_get_attr(disco, "type"), "get");
	ck_assert_str_eq(stanza_get_attr(disco, "to"), TS_JID);
	ck_assert_ptr_nonnull(stanza_get_child(
		disco, "query", "http://jabber.org/protocol/disco#info"));
	reply = g_strdup_printf(
		"<iq type='result' id='%s' from='%s' to='%s'><query "
		"xmlns='http://jabber.org/protocol/disco#info'>"
		"<identity category='account' type='registered'/>%s%s"
		"</query></iq>",
		stanza_get_attr(disco, "id"), TS_JID, TS_FULL_JID,
		ts->pep ? "<identity category='pubsub' type='pep'/>" : "",
		ts->blocking_account ? "<feature var='urn:xmpp:blocking'/>"
				     : "");
	ts_send(ts, reply);
	if (ts->blocking_account) {
		ts_answer_blocklist(ts);
	} else {
		/* Not on the account: the domain is asked (XEP-0191 §2). */
		domain_disco = ts_expect(ts, "iq", NS_CLIENT);
		ck_assert_str_eq(stanza_get_attr(domain_disco, "to"),
				 TS_DOMAIN);
		ck_assert_ptr_nonnull(stanza_get_child(
			domain_disco, "query",
			"http://jabber.org/protocol/disco#info"));
	}
	if (ts->pep && ts->expect_nick) {
		g_autoptr(Stanza) iq = ts_expect(ts, "iq", NS_CLIENT);
		Stanza *pubsub = stanza_get_child(
			iq, "pubsub", "http://jabber.org/protocol/pubsub");
		Stanza *publish =
			pubsub ? stanza_get_child(pubsub, "publish", NULL)
			       : NULL;
		Stanza *item = publish ? stanza_get_child(publish, "item", NULL)
				       : NULL;
		Stanza *nick = item ? stanza_get_child(
					      item, "nick",
					      "http://jabber.org/protocol/nick")
				    : NULL;
		g_autofree char *result = NULL;

		ck_assert_str_eq(stanza_get_attr(iq, "type"), "set");
		ck_assert_ptr_nonnull(nick);
		ck_assert_str_eq(stanza_get_attr(publish, "node"),
				 "http://jabber.org/protocol/nick");
		ck_assert_str_eq(stanza_get_text(nick), ts->expect_nick);
		result = g_strdup_printf("<iq type='result' id='%s'/>",
					 stanza_get_attr(iq, "id"));
		ts_send(ts, result);
	}
	if (domain_disco)
		answer_domain_disco(ts, domain_disco);
}

/* ---- assertions shared by the session and stream tests ------------------ */

void ts_assert_closed(TestServer *ts, XmppSessionEnd reason,
		      const char *fragment)
{
	ck_assert_int_eq(ts->closed_count, 1);
	ck_assert_msg(ts->closed_reason == reason,
		      "ended with %s (%s), expected %s",
		      xmpp_session_end_to_string(ts->closed_reason),
		      ts->closed_message, xmpp_session_end_to_string(reason));
	if (fragment)
		ck_assert_msg(strstr(ts->closed_message, fragment),
			      "'%s' not in '%s'", fragment, ts->closed_message);
	ck_assert_int_eq(xmpp_session_get_state(ts->session),
			 XMPP_SESSION_STATE_CLOSED);
	ck_assert_ptr_null(xmpp_session_get_full_jid(ts->session));
	ck_assert(xmpp_session_get_deadline(ts->session) == INT64_MAX);
	/* Nothing that could hold a secret leaks into the message. */
	ck_assert_ptr_null(strstr(ts->closed_message, TS_PASSWORD));
}

void ts_assert_no_password(TestServer *ts)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)TS_PASSWORD,
					       strlen(TS_PASSWORD));

	ck_assert_ptr_null(strstr(ts->wire->str, TS_PASSWORD));
	ck_assert_ptr_null(strstr(ts->wire->str, b64));
}

bool ts_bytes_contain(const GByteArray *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= haystack->len; i++)
		if (memcmp(haystack->data + i, needle, n) == 0)
			return true;
	return false;
}

void ts_send_fmt(TestServer *ts, const char *format, ...)
{
	g_autofree char *xml = NULL;
	va_list ap;

	va_start(ap, format);
	xml = g_strdup_vprintf(format, ap);
	va_end(ap);
	ts_send(ts, xml);
}
