/* SPDX-License-Identifier: MIT */
/* Unit tests for core/redact.c: no secret survives a --debug line. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "tests/support/check-suite.h"

#define SASL "urn:ietf:params:xml:ns:xmpp-sasl"
#define PASSWORD "s3cr3t-Pa55"
/* base64("\0alice\0s3cr3t-Pa55"): the PLAIN initial response. */
#define PLAIN_B64 "AGFsaWNlAHMzY3IzdC1QYTU1"

static void assert_clean(const char *line)
{
	ck_assert_ptr_null(strstr(line, PASSWORD));
	ck_assert_ptr_null(strstr(line, PLAIN_B64));
}

START_TEST(test_sasl_plain)
{
	g_autoptr(Stanza) auth = stanza_new("auth", SASL);
	g_autofree char *b64 = NULL;
	g_autofree char *line = NULL;
	static const char raw[] = "\0alice\0" PASSWORD;

	b64 = g_base64_encode((const guchar *)raw, sizeof(raw) - 1);
	ck_assert_str_eq(b64, PLAIN_B64);
	stanza_set_attr(auth, "mechanism", "PLAIN");
	stanza_set_text(auth, b64);
	line = redact_log_stanza(auth);
	assert_clean(line);
	ck_assert_str_eq(line, "<auth xmlns='" SASL "' mechanism='PLAIN'>"
			       "[redacted]</auth>");
	/* The original is untouched. */
	ck_assert_str_eq(stanza_get_text(auth), PLAIN_B64);
}
END_TEST

START_TEST(test_sasl_scram)
{
	const char *names[] = {"auth", "challenge", "response", "success"};

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(Stanza) s = stanza_new(names[i], SASL);
		g_autofree char *line = NULL;
		g_autofree char *b64 = g_base64_encode(
			(const guchar *)"c=biws,r=abc,p=" PASSWORD,
			strlen("c=biws,r=abc,p=" PASSWORD));

		stanza_set_text(s, b64);
		line = redact_log_stanza(s);
		ck_assert_ptr_null(strstr(line, b64));
		ck_assert_ptr_nonnull(strstr(line, "[redacted]"));
	}
}
END_TEST

/* What a person debugging a login needs stays readable. */
START_TEST(test_sasl_mechanisms_visible)
{
	g_autoptr(Stanza) features = stanza_new("features", NULL);
	g_autofree char *line = NULL;
	Stanza *mechs = stanza_add_child_new(features, "mechanisms", SASL);
	Stanza *failure = stanza_new("failure", SASL);

	stanza_add_child_text(mechs, "mechanism", NULL, "SCRAM-SHA-1");
	stanza_add_child_text(mechs, "mechanism", NULL, "PLAIN");
	line = redact_log_stanza(features);
	ck_assert_ptr_nonnull(strstr(line, ">SCRAM-SHA-1<"));
	ck_assert_ptr_nonnull(strstr(line, ">PLAIN<"));
	ck_assert_ptr_null(strstr(line, "[redacted]"));
	g_free(line);

	stanza_add_child_new(failure, "not-authorized", NULL);
	stanza_add_child_text(failure, "text", NULL, "Invalid username");
	line = redact_log_stanza(failure);
	stanza_free(failure);
	ck_assert_ptr_nonnull(strstr(line, "Invalid username"));
}
END_TEST

START_TEST(test_password_element)
{
	g_autoptr(Stanza) iq = stanza_new("iq", NULL);
	Stanza *q;
	Stanza *x;
	Stanza *field;
	g_autofree char *line = NULL;

	stanza_set_attr(iq, "type", "set");
	q = stanza_add_child_new(iq, "query", "jabber:iq:register");
	stanza_add_child_text(q, "username", NULL, "alice");
	stanza_add_child_text(q, "password", NULL, PASSWORD);
	x = stanza_add_child_new(q, "x", "jabber:x:data");
	field = stanza_add_child_new(x, "field", NULL);
	stanza_set_attr(field, "var", "password");
	stanza_add_child_text(field, "value", NULL, PASSWORD);
	line = redact_log_stanza(iq);
	assert_clean(line);
	ck_assert_ptr_nonnull(strstr(line, "<username>alice</username>"));
	ck_assert_ptr_nonnull(strstr(line, "<password>[redacted]</password>"));
}
END_TEST

START_TEST(test_ordinary_untouched)
{
	g_autoptr(Stanza) p = stanza_new("presence", NULL);
	g_autofree char *line = NULL;
	g_autofree char *plain = NULL;

	stanza_add_child_text(p, "status", NULL, "password is not here & <ok>");
	line = redact_log_stanza(p);
	plain = stanza_to_string(p);
	ck_assert_str_eq(line, plain);
	/* Empty SASL elements stay empty. */
	{
		g_autoptr(Stanza) s = stanza_new("success", SASL);
		g_autofree char *l = redact_log_stanza(s);

		ck_assert_str_eq(l, "<success xmlns='" SASL "'/>");
	}
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"sasl", test_sasl_plain},
		{"sasl", test_sasl_scram},
		{"sasl", test_sasl_mechanisms_visible},
		{"password", test_password_element},
		{"passthrough", test_ordinary_untouched},
	};

	return check_suite_run("redact", cases, G_N_ELEMENTS(cases), 30);
}
