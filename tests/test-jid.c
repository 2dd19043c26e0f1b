/* SPDX-License-Identifier: MIT */
/* Unit tests for core/jid.c: RFC 7622 parsing, validation, normalization. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/jid.h"
#include "tests/support/check-suite.h"

typedef struct {
	const char *in;
	const char *local; /* expected normalized parts; NULL: absent */
	const char *domain;
	const char *resource;
} ValidCase;

/* RFC 7622 §3.5 examples first, then our own. */
static const ValidCase valid_cases[] = {
	{"juliet@example.com", "juliet", "example.com", NULL},
	{"juliet@example.com/foo", "juliet", "example.com", "foo"},
	{"juliet@example.com/foo bar", "juliet", "example.com", "foo bar"},
	{"juliet@example.com/foo@bar", "juliet", "example.com", "foo@bar"},
	{"foo\\20bar@example.com", "foo\\20bar", "example.com", NULL},
	{"fussball@example.com", "fussball", "example.com", NULL},
	/* RFC 8265 toLowerCase keeps ß and final sigma (no case folding). */
	{"fu\xc3\x9f"
	 "ball@example.com",
	 "fu\xc3\x9f"
	 "ball",
	 "example.com", NULL},
	{"\xcf\x80@example.com", "\xcf\x80", "example.com", NULL},
	{"\xce\xa3@example.com/foo", "\xcf\x83", "example.com", "foo"},
	{"\xcf\x83@example.com/foo", "\xcf\x83", "example.com", "foo"},
	{"\xcf\x82@example.com/foo", "\xcf\x82", "example.com", "foo"},
	{"king@example.com/\xe2\x99\x9a", "king", "example.com",
	 "\xe2\x99\x9a"},
	{"example.com", NULL, "example.com", NULL},
	{"example.com/foobar", NULL, "example.com", "foobar"},
	{"a.example.com/b@example.net", NULL, "a.example.com", "b@example.net"},
	/* Case folding of local and domain, not of the resource. */
	{"Juliet@Example.COM/Balcony", "juliet", "example.com", "Balcony"},
	/* Trailing dot of the domain is removed (RFC 7622 §3.2). */
	{"romeo@example.net.", "romeo", "example.net", NULL},
	{"romeo@example.net./r", "romeo", "example.net", "r"},
	/* Resource may hold '/', '@' and spaces. */
	{"a@b/c/d@e f", "a", "b", "c/d@e f"},
	/* IP literals. */
	{"a@192.0.2.1", "a", "192.0.2.1", NULL},
	{"a@[2001:db8::1]/r", "a", "[2001:db8::1]", "r"},
	{"[::1]", NULL, "[::1]", NULL},
	{"a@[2001:DB8::A]", "a", "[2001:db8::a]", NULL},
	/* NFC: e + combining acute becomes U+00E9. */
	{"e\xcc\x81@example.com/e\xcc\x81", "\xc3\xa9", "example.com",
	 "\xc3\xa9"},
	/* Fullwidth letters map to ASCII in the localpart. */
	{"\xef\xbd\x8a\xef\xbd\x95@example.com", "ju", "example.com", NULL},
	/* Internationalized domain. */
	{"user@M\xc3\x9cNCHEN.example", "user", "m\xc3\xbcnchen.example", NULL},
	{"user@xn--mnchen-3ya.de", "user", "xn--mnchen-3ya.de", NULL},
	/* IDNA full stops (U+3002, U+FF0E) separate labels too. */
	{"a@example\xe3\x80\x82"
	 "com",
	 "a", "example.com", NULL},
	{"a@example\xef\xbc\x8e"
	 "com/r",
	 "a", "example.com", "r"},
	/* Printable ASCII allowed in a localpart. */
	{"a.b_c-d+e!#$%*=?^`{|}~@x", "a.b_c-d+e!#$%*=?^`{|}~", "x", NULL},
	{"localhost", NULL, "localhost", NULL},
	{"under_score.example", NULL, "under_score.example", NULL},
};

typedef struct {
	const char *in;
	const char *why; /* substring expected in the error message */
} InvalidCase;

static const InvalidCase invalid_cases[] = {
	/* RFC 7622 §3.5 */
	{"\"juliet\"@example.com",
	 "localpart contains forbidden character '\"'"},
	{"foo bar@example.com", "localpart contains forbidden character"},
	{"juliet@example.com/ foo", "resourcepart starts with a space"},
	{"@example.com/", "localpart is empty"},
	{"henri\xe2\x85\xa3@example.com", "compatibility equivalent"},
	{"\xe2\x99\x9a@example.com", "localpart contains forbidden character"},
	{"juliet@", "domainpart is empty"},
	{"/foobar", "domainpart is empty"},
	/* Empty pieces. */
	{"", "JID is empty"},
	{"a@b/", "resourcepart is empty"},
	{"@b", "localpart is empty"},
	{"a@/r", "domainpart is empty"},
	/* Forbidden localpart characters (RFC 7622 §3.3.1). */
	{"a&b@example.com", "localpart contains forbidden character '&'"},
	{"a'b@example.com", "localpart contains forbidden character '''"},
	{"a:b@example.com", "localpart contains forbidden character ':'"},
	{"a<b@example.com", "localpart contains forbidden character '<'"},
	{"a>b@example.com", "localpart contains forbidden character '>'"},
	{"a\tb@example.com", "localpart contains forbidden character U+0009"},
	{"a\x7f"
	 "b@example.com",
	 "localpart contains forbidden character"},
	{"a\xc2\xa0"
	 "b@example.com",
	 "localpart contains forbidden character U+00A0"},
	/* A second '@' ends up in the domain. */
	{"a@b@c", "domainpart contains forbidden character '@'"},
	/* Domain rules. */
	{"a@exa mple.com", "domainpart contains forbidden character"},
	{"a@example..com", "domainpart contains an empty label"},
	{"a@.example.com", "domainpart contains an empty label"},
	{"a@example.com..", "domainpart contains an empty label"},
	{"a@.", "domainpart contains an empty label"},
	{"a@-bad.example", "starts or ends with '-'"},
	{"a@bad-.example", "starts or ends with '-'"},
	{"a@exa:mple.com", "domainpart contains forbidden character ':'"},
	{"a@x\xe2\x99\x9ay.com", "domainpart contains forbidden character"},
	{"a@[::1", "bracketed IPv6"},
	{"a@[]", "bracketed IPv6"},
	{"a@[not:an:ip:address]", "IPv6"},
	{"a@[192.0.2.1]", "IPv6"},
	{"a@256.1.1.1", "IPv4"},
	{"a@1.2.3", "IPv4"},
	/* Resource rules. */
	{"a@b/c\x01"
	 "d",
	 "resourcepart contains forbidden character U+0001"},
	{"a@b/c\nd", "resourcepart contains forbidden character U+000A"},
	{"a@b/\xe2\x80\xa8", "resourcepart contains forbidden character"},
	/* Encoding. */
	{"a\xff@example.com", "not valid UTF-8"},
	{"a@example.com/\xc3", "not valid UTF-8"},
	{"\xed\xa0\x80@example.com", "not valid UTF-8"},
};

START_TEST(test_valid)
{
	const ValidCase *c = &valid_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(Jid) jid = jid_parse(c->in, &error);
	g_autofree char *bare = NULL;
	g_autofree char *full = NULL;

	ck_assert_msg(jid != NULL, "'%s' rejected: %s", c->in,
		      error ? error->message : "?");
	ck_assert_ptr_null(error);
	ck_assert_pstr_eq(jid_get_local(jid), c->local);
	ck_assert_str_eq(jid_get_domain(jid), c->domain);
	ck_assert_pstr_eq(jid_get_resource(jid), c->resource);
	ck_assert(jid_is_bare(jid) == (c->resource == NULL));

	bare = c->local ? g_strconcat(c->local, "@", c->domain, NULL)
			: g_strdup(c->domain);
	full = c->resource ? g_strconcat(bare, "/", c->resource, NULL)
			   : g_strdup(bare);
	ck_assert_str_eq(jid_get_bare(jid), bare);
	ck_assert_str_eq(jid_get_full(jid), full);
}
END_TEST

START_TEST(test_invalid)
{
	const InvalidCase *c = &invalid_cases[_i];
	g_autoptr(GError) error = NULL;
	g_autoptr(Jid) jid = jid_parse(c->in, &error);

	ck_assert_msg(jid == NULL, "'%s' accepted as '%s'", c->in,
		      jid ? jid_get_full(jid) : "");
	ck_assert_ptr_nonnull(error);
	ck_assert(g_error_matches(error, JID_ERROR, JID_ERROR_INVALID));
	ck_assert_msg(strstr(error->message, c->why) != NULL,
		      "'%s': message '%s' lacks '%s'", c->in, error->message,
		      c->why);
}
END_TEST

START_TEST(test_null)
{
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(jid_parse(NULL, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_null(jid_parse("a@@b", NULL));
}
END_TEST

static char *repeat(char c, size_t n)
{
	char *s = g_malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

START_TEST(test_lengths)
{
	g_autofree char *l1023 = repeat('a', 1023);
	g_autofree char *l1024 = repeat('a', 1024);
	g_autofree char *label63 = repeat('b', 63);
	g_autofree char *label64 = repeat('b', 64);
	g_autofree char *ok = NULL;
	g_autofree char *bad = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) dom = g_string_new(NULL);
	Jid *jid;

	ok = g_strconcat(l1023, "@x/", l1023, NULL);
	jid = jid_parse(ok, NULL);
	ck_assert_ptr_nonnull(jid);
	jid_free(jid);

	bad = g_strconcat(l1024, "@x", NULL);
	ck_assert_ptr_null(jid_parse(bad, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "localpart is longer"));
	g_clear_error(&error);
	g_free(bad);

	bad = g_strconcat("a@x/", l1024, NULL);
	ck_assert_ptr_null(jid_parse(bad, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "resourcepart is longer"));
	g_clear_error(&error);
	g_free(bad);

	g_free(ok);
	ok = g_strconcat("a@", label63, ".com", NULL);
	jid = jid_parse(ok, NULL);
	ck_assert_ptr_nonnull(jid);
	jid_free(jid);

	bad = g_strconcat("a@", label64, ".com", NULL);
	ck_assert_ptr_null(jid_parse(bad, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "longer than 63"));
	g_clear_error(&error);
	g_free(bad);

	/* 16 labels of 63 + 15 dots = 1023: the maximum. */
	for (int i = 0; i < 16; i++)
		g_string_append_printf(dom, "%s%s", i ? "." : "", label63);
	ck_assert_uint_eq(dom->len, 1023);
	jid = jid_parse(dom->str, NULL);
	ck_assert_ptr_nonnull(jid);
	jid_free(jid);
	/* Its trailing-dot form is still fine. */
	g_string_append_c(dom, '.');
	jid = jid_parse(dom->str, NULL);
	ck_assert_ptr_nonnull(jid);
	jid_free(jid);
	g_string_truncate(dom, 1023);
	g_string_append(dom, ".b");
	ck_assert_ptr_null(jid_parse(dom->str, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "domainpart is longer"));
	g_clear_error(&error);

	/* Absurdly long input is refused without normalizing it. */
	bad = repeat('x', 100000);
	ck_assert_ptr_null(jid_parse(bad, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "too long"));
}
END_TEST

START_TEST(test_equal)
{
	g_autoptr(Jid) a = jid_parse("Juliet@EXAMPLE.com/Balcony", NULL);
	g_autoptr(Jid) b = jid_parse("juliet@example.com./Balcony", NULL);
	g_autoptr(Jid) c = jid_parse("juliet@example.com/balcony", NULL);
	g_autoptr(Jid) d = jid_parse("juliet@example.com", NULL);

	ck_assert(jid_equal(a, b));
	ck_assert(!jid_equal(a, c));
	ck_assert(jid_bare_equal(a, c));
	ck_assert(jid_bare_equal(a, d));
	ck_assert(!jid_equal(a, d));
	ck_assert(jid_is_bare(d));
}
END_TEST

START_TEST(test_dup_bare)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bare = jid_dup_bare_from_string("A@B.org/Res", NULL);
	g_autofree char *none = jid_dup_bare_from_string("a@b/", &error);

	ck_assert_str_eq(bare, "a@b.org");
	ck_assert_ptr_null(none);
	ck_assert(g_error_matches(error, JID_ERROR, JID_ERROR_INVALID));
}
END_TEST

/* The strings a presence keeps, without copies. */
START_TEST(test_free_to_strings)
{
	char *full, *bare, *resource;

	jid_free_to_strings(jid_parse("Ju.Liet@Example.COM/Bal cony", NULL),
			    &full, &bare, &resource);
	ck_assert_str_eq(full, "ju.liet@example.com/Bal cony");
	ck_assert_str_eq(bare, "ju.liet@example.com");
	ck_assert_str_eq(resource, "Bal cony");
	g_free(full);
	g_free(bare);
	g_free(resource);
	jid_free_to_strings(jid_parse("example.com", NULL), &full, &bare,
			    &resource);
	ck_assert_str_eq(full, "example.com");
	ck_assert_str_eq(bare, "example.com");
	ck_assert_ptr_null(resource);
	g_free(full);
	g_free(bare);
}
END_TEST

/* The remembered domainpart (jid.c's memo) changes no result: the same
 * domain again, another one, an invalid one after a valid one, and one
 * too long to remember. */
START_TEST(test_domain_memo)
{
	static const struct {
		const char *in;
		const char *bare; /* NULL: invalid */
	} cases[] = {
		{"a@Example.COM", "a@example.com"},
		{"b@Example.COM/r", "b@example.com"},
		{"c@example.com.", "c@example.com"},
		{"d@Example.COM", "d@example.com"},
		{"e@exa mple.com", NULL},
		{"f@Example.COM", "f@example.com"},
		{"g@-bad.com", NULL},
		{"h@-bad.com", NULL},
		/* fullwidth E: kept, lowercased */
		{"i@\xef\xbc\xa5xample.com", "i@\xef\xbd\x85xample.com"},
		{"j@Example.COM", "j@example.com"},
	};
	g_autofree char *label = g_strnfill(63, 'X');
	g_autofree char *longdom =
		g_strjoin(".", label, label, label, label, "Org", NULL);
	g_autofree char *longjid = g_strconcat("k@", longdom, NULL);
	g_autofree char *want = g_ascii_strdown(longjid, -1);

	for (size_t round = 0; round < 2; round++) {
		for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
			g_autoptr(GError) error = NULL;
			g_autoptr(Jid) jid = jid_parse(cases[i].in, &error);

			if (cases[i].bare == NULL) {
				ck_assert_msg(jid == NULL, "%s", cases[i].in);
				continue;
			}
			ck_assert_msg(jid != NULL, "%s: %s", cases[i].in,
				      error->message);
			ck_assert_str_eq(jid_get_bare(jid), cases[i].bare);
		}
		for (int k = 0; k < 2; k++) {
			g_autoptr(Jid) jid = jid_parse(longjid, NULL);

			ck_assert_ptr_nonnull(jid);
			ck_assert_str_eq(jid_get_bare(jid), want);
		}
	}
}
END_TEST

START_TEST(test_free_null)
{
	jid_free(NULL);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"valid", test_valid, .loops = G_N_ELEMENTS(valid_cases)},
		{"invalid", test_invalid, .loops = G_N_ELEMENTS(invalid_cases)},
		{"invalid", test_null},
		{"lengths", test_lengths},
		{"compare", test_equal},
		{"compare", test_dup_bare},
		{"compare", test_free_null},
		{"free-to-strings", test_free_to_strings},
		{"domain-memo", test_domain_memo},
	};

	return check_suite_run("jid", cases, G_N_ELEMENTS(cases), 30);
}
