/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the stanza handlers of an ONLINE XmppSession: the
 * input is what a (hostile) server sends after the session is negotiated —
 * presence, roster pushes, IQs, messages, stream errors, garbage.
 *
 * Every input starts from a session over a stream that is bound at start
 * (xmpp_session_new_bound_for_test: no TLS, SASL or bind to replay, so an
 * input costs microseconds, not a PBKDF2), whose roster get the in-memory
 * test server (tests/support/session-test-server.c) answers; then the
 * input goes to the client as the server's plaintext. The TLS record path
 * is covered by the unit tests and the xml-reader fuzzer. A fresh session
 * per input keeps every run reproducible; the certificates are made once
 * (ts_new would make them per input), so the TestServer is assembled here.
 *
 * The test server reports through check's assertion macros. Running them
 * inside a check suite is not an option: srunner_run_all installs
 * SIGALRM/SIGINT/SIGTERM handlers that killpg(SIGKILL) the caller's whole
 * process group, and libFuzzer's -timeout alarm, a process-wide signal,
 * reaches them through libFuzzer's own threads whatever the main thread
 * blocks (it killed the fuzzer, and CI's shell with it). So this target is
 * built with the two functions the macros expand to renamed
 * (tests/hostile/local.mk), defined below to print the failed assertion
 * and abort(), which libFuzzer reports as a crash with its input; check's
 * library is not linked at all.
 *
 * Oracles besides ASan/UBSan:
 *  - whatever the client writes back (IQ errors, pongs, the closing tag)
 *    must be well-formed XML: the test server's reader checks it;
 *  - the contact table keeps the bounds of CONTRACT.md (1,000 strangers,
 *    64 resources a contact) and holds only valid UTF-8, which libdbus
 *    would otherwise abort on when the daemon puts it on the bus;
 *  - closed() is called at most once, with the error the header promises
 *    (checked by the test server's callback);
 *  - an ONLINE session still sends presence and closes cleanly afterwards;
 *  - the same input to a session without the wire log (whose reader takes
 *    presences as records, xml-reader.h) ends with the same table, the
 *    same change reports and the same state (issue #13).
 */
#include "config.h"

#include <check.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmpp-session-private.h"
#include "tests/support/session-test-server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A roster with every subscription kind, so presence meets roster items
 * as well as strangers. */
#define FUZZ_ROSTER                                                            \
	"<item jid='bob@example.org' subscription='both' name='Bob'>"          \
	"<group>Friends</group></item>"                                        \
	"<item jid='carol@example.org' subscription='to'/>"                    \
	"<item jid='dave@example.org' subscription='from' ask='subscribe'/>"   \
	"<item jid='eve@example.net' subscription='none'/>"

static void fuzz_abort(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz-stanza-handlers: %s: %s\n", what,
		detail ? detail : "");
	abort();
}

static void check_utf8(const char *what, const char *str)
{
	if (!str)
		return;
	if (!g_utf8_validate(str, -1, NULL))
		fuzz_abort("invalid UTF-8 in the contact table", what);
}

static void check_contact(const Contact *contact, void *user_data)
{
	size_t n = contact_get_n_resources(contact);
	const char *const *groups = contact_get_groups(contact);

	check_utf8("jid", contact_get_jid(contact));
	check_utf8("status", contact_get_status(contact));
	check_utf8("name", contact_get_name(contact));
	if (!*contact_get_jid(contact))
		fuzz_abort("empty JID in the contact table", NULL);
	if (n > CONTACTS_MAX_RESOURCES)
		fuzz_abort("too many resources", contact_get_jid(contact));
	for (size_t i = 0; groups && groups[i]; i++)
		check_utf8("group", groups[i]);
	for (size_t i = 0; i < n; i++) {
		const char *resource = NULL;
		const char *status = NULL;
		PresenceShow show;
		int priority;

		if (!contact_get_resource(contact, i, &resource, &show, &status,
					  &priority))
			fuzz_abort("resource index in range not found",
				   contact_get_jid(contact));
		check_utf8("resource", resource);
		check_utf8("resource status", status);
		if (priority < -128 || priority > 127)
			fuzz_abort("priority out of range", resource);
		if (status && strlen(status) > PRESENCE_MAX_STATUS_BYTES)
			fuzz_abort("status over the bound", resource);
	}
}

/* ---- the session's callbacks (the test server's are static) ---------- */

static void on_online(void *user_data, const char *full_jid)
{
	TestServer *ts = user_data;
	PresenceSpec spec = {.show = PRESENCE_SHOW_AVAILABLE,
			     .status = "here",
			     .priority = 5};

	ts->online_count++;
	g_free(ts->online_jid);
	ts->online_jid = g_strdup(full_jid);
	/* Like the daemon: initial presence from online(). */
	if (!xmpp_session_send_presence(ts->session, &spec))
		fuzz_abort("send_presence failed in online()", full_jid);
}

static void on_contact_changed(void *user_data, const char *bare_jid)
{
	TestServer *ts = user_data;

	g_ptr_array_add(ts->changed, g_strdup(bare_jid));
	check_utf8("changed jid", bare_jid);
	if (!contacts_lookup(ts->contacts, bare_jid))
		fuzz_abort("contact_changed for a JID not in the table",
			   bare_jid);
}

static void on_subscription_request(void *user_data, const char *bare_jid,
				    const char *message)
{
	check_utf8("subscription jid", bare_jid);
	check_utf8("subscription message", message);
	if (!message)
		fuzz_abort("subscription request without message", bare_jid);
}

static void on_closed(void *user_data, XmppSessionEnd reason,
		      const GError *error)
{
	TestServer *ts = user_data;

	if (!error || error->domain != XMPP_SESSION_ERROR ||
	    error->code != (int)reason)
		fuzz_abort("closed() error does not match the reason",
			   error ? error->message : NULL);
	check_utf8("closed message", error->message);
	if (strstr(error->message, TS_PASSWORD))
		fuzz_abort("password in the closed() message", NULL);
	if (xmpp_session_get_state(ts->session) != XMPP_SESSION_STATE_CLOSED)
		fuzz_abort("closed() before state CLOSED", NULL);
	ts->closed_count++;
	ts->closed_reason = reason;
}

static void on_log_wire(void *user_data, bool sent, const char *text)
{
	check_utf8("wire log", text);
	if (strstr(text, TS_PASSWORD))
		fuzz_abort("password in the wire log", NULL);
}

static TlsTestCertMatrix *fuzz_certs;

/*
 * Every session loads the system trust store, which under ASan costs more
 * than the rest of a login: this definition in the executable interposes
 * GnuTLS' own for the core compiled into it, so the session trusts only
 * the test CA (ca_file) and an input runs in a few milliseconds.
 */
int gnutls_certificate_set_x509_system_trust(
	gnutls_certificate_credentials_t cred)
{
	return 0;
}

static void free_certs(void)
{
	g_clear_pointer(&fuzz_certs, tls_test_cert_matrix_free);
}

/* A TestServer whose certificates are not its own. */
typedef TestServer FuzzServer;

/* What ts_new does, with the certificates shared between inputs. */
static TestServer *fuzz_server_new(bool log_wire)
{
	XmppSessionCallbacks callbacks = {
		.online = on_online,
		.contact_changed = on_contact_changed,
		.subscription_request = on_subscription_request,
		.closed = on_closed,
		.log_wire = log_wire ? on_log_wire : NULL,
	};
	XmppSessionConfig config = {
		.jid = TS_JID,
		.password = TS_PASSWORD,
		.resource = TS_RESOURCE,
	};
	TestServer *ts = g_new0(TestServer, 1);

	if (!fuzz_certs) {
		g_autoptr(GError) cert_error = NULL;

		fuzz_certs = tls_test_cert_matrix_new(TS_DOMAIN, &cert_error);
		if (!fuzz_certs)
			fuzz_abort("test certificates", cert_error->message);
		/* libFuzzer ends with exit(): remove the CA file then. */
		atexit(free_certs);
	}
	ts->certs = fuzz_certs;
	ts->contacts = contacts_new();
	ts->own_contacts = true;
	ts->changed = g_ptr_array_new_with_free_func(g_free);
	ts->subscriptions = g_ptr_array_new_with_free_func(g_free);
	ts->requests_gone = g_ptr_array_new_with_free_func(g_free);
	ts->wire = g_string_new(NULL);
	ts->reader = xml_reader_new(NULL);
	ts->client_plain = g_string_new(NULL);
	ts->client_raw = g_byte_array_new();
	ts->now = 1000 * G_USEC_PER_SEC;
	ts->send_initial_presence = true;
	config.ca_file = ts->certs->ca_file;
	ts->bound = true;
	ts->session = xmpp_session_new_bound_for_test(
		&config, ts->contacts, &callbacks, ts, TS_FULL_JID, NULL);
	if (!ts->session)
		fuzz_abort("xmpp_session_new_bound_for_test", NULL);
	return ts;
}

static void fuzz_server_free(TestServer *ts)
{
	ts->certs = NULL; /* shared */
	ts_free(ts);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FuzzServer, fuzz_server_free)

/* Reads everything the client wrote; the reader aborts (through the test
 * server's assertion) on malformed XML. */
static void drain_client(TestServer *ts)
{
	for (;;) {
		g_autoptr(Stanza) stanza = NULL;
		XmlReaderEvent event = ts_next(ts, &stanza);

		if (event == XML_READER_EVENT_NONE ||
		    event == XML_READER_EVENT_STREAM_CLOSE)
			return;
	}
}

/* check's assertion macros, renamed here by the build (see the top). */
#if !defined(_ck_assert_failed) || !defined(_mark_point)
#error "build with -D_ck_assert_failed=fuzz_assert_failed -D_mark_point=fuzz_mark_point"
#endif

void _ck_assert_failed(const char *file, int line, const char *expr,
		       const char *msg, ...)
{
	fprintf(stderr, "fuzz-stanza-handlers: %s:%d: %s", file, line, expr);
	if (msg) {
		va_list args;

		fputs(": ", stderr);
		va_start(args, msg);
		vfprintf(stderr, msg, args);
		va_end(args);
	}
	fputc('\n', stderr);
	abort();
}

void _mark_point(const char *file, int line)
{
}

/* One contact as a line: what the bus would show of it. */
static void describe_contact(const Contact *c, void *user_data)
{
	GPtrArray *lines = user_data;
	GString *line = g_string_new(NULL);
	size_t n = contact_get_n_resources(c);

	g_string_append_printf(line, "%s %d '%s' %d:", contact_get_jid(c),
			       contact_get_show(c), contact_get_status(c),
			       contact_is_in_roster(c));
	for (size_t i = 0; i < n; i++) {
		const char *resource = NULL, *status = NULL;
		const char *ver = contact_get_resource_caps(c, i);
		PresenceShow show = PRESENCE_SHOW_OFFLINE;
		int priority = 0;

		(void)contact_get_resource(c, i, &resource, &show, &status,
					   &priority);
		g_string_append_printf(line, " [%s %d '%s' %d %s]", resource,
				       show, status ? status : "", priority,
				       ver ? ver : "-");
	}
	g_ptr_array_add(lines, g_string_free(line, FALSE));
}

static int cmp_line(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The table, the changes reported and the end, as text. */
static char *describe_session(TestServer *ts)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);

	contacts_foreach(ts->contacts, describe_contact, lines);
	g_ptr_array_sort(lines, cmp_line);
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "%s\n",
				       (char *)g_ptr_array_index(lines, i));
	for (guint i = 0; i < ts->changed->len; i++)
		g_string_append_printf(
			out, "changed %s\n",
			(char *)g_ptr_array_index(ts->changed, i));
	g_string_append_printf(out, "state %d closed %d\n",
			       (int)xmpp_session_get_state(ts->session),
			       ts->closed_count);
	return g_string_free(out, FALSE);
}

static char *run_one_input(const char *input, bool log_wire)
{
	g_autoptr(FuzzServer) ts = fuzz_server_new(log_wire);
	g_autofree char *after_input = NULL;

	ts_online_bound(ts, FUZZ_ROSTER);
	if (xmpp_session_get_state(ts->session) != XMPP_SESSION_STATE_ONLINE)
		fuzz_abort("did not reach ONLINE", NULL);

	ts->now += G_USEC_PER_SEC;
	if (*input)
		ts_send(ts, input);
	drain_client(ts);
	after_input = describe_session(ts);

	if (contacts_get_n_strangers(ts->contacts) > CONTACTS_MAX_STRANGERS)
		fuzz_abort("stranger bound exceeded", NULL);
	contacts_foreach(ts->contacts, check_contact, NULL);
	if (ts->closed_count > 1)
		fuzz_abort("closed() more than once", NULL);

	if (xmpp_session_get_state(ts->session) == XMPP_SESSION_STATE_ONLINE) {
		PresenceSpec spec = {.show = PRESENCE_SHOW_DND,
				     .status = "busy",
				     .priority = 1};

		if (!xmpp_session_send_presence(ts->session, &spec))
			fuzz_abort("ONLINE session refused presence", NULL);
		drain_client(ts);
		xmpp_session_close(ts->session);
		drain_client(ts);
		ts_send(ts, "</stream:stream>");
	} else if (ts->closed_count == 0) {
		/* Not online and not closed: the input must have left the
		 * session closing (our close, awaiting the server's). */
		if (xmpp_session_get_state(ts->session) !=
		    XMPP_SESSION_STATE_CLOSING)
			fuzz_abort(
				"left ONLINE without closing",
				xmpp_session_state_to_string(
					xmpp_session_get_state(ts->session)));
	}
	/* Time passes: pending timers (ping, close deadline) fire. */
	ts->now += 120 * G_USEC_PER_SEC;
	xmpp_session_tick(ts->session, ts->now);
	drain_client(ts);
	if (ts->closed_count > 1)
		fuzz_abort("closed() more than once", NULL);
	return g_steal_pointer(&after_input);
}

/* The input goes in NUL-terminated: ts_send takes a C string, so a NUL
 * ends it (the reader's own NUL handling is the xml-reader fuzzer's job). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autofree char *input = g_strndup((const char *)data, size);
	g_autofree char *tree = run_one_input(input, true);
	g_autofree char *record = run_one_input(input, false);

	if (strcmp(tree, record) != 0) {
		fprintf(stderr, "tree path:\n%s\nrecord path:\n%s\n", tree,
			record);
		fuzz_abort("the presence path differs from the tree", NULL);
	}
	return 0;
}
