/* SPDX-License-Identifier: MIT */
/*
 * core/caps.c: the XEP-0115 §5.1 verification string (the XEP's own
 * examples as vectors), the §5.4 checks on a received disco#info, <c/>
 * parsing, and our own description, <c/> and disco#info answer.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/blocking.h"
#include "core/caps.h"
#include "tests/support/check-suite.h"
#include "tests/support/stanza-parse.h"

/* The contract: our caps node is the project's URL from configure.ac. */
#define NODE PACKAGE_URL

/* XEP-0115 §5.2, the simple generation example. */
#define SIMPLE_VER "QgayPKawpkPSDYmwT/WM94uAlu0="
#define SIMPLE_S                                                               \
	"client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<"             \
	"http://jabber.org/protocol/disco#info<"                               \
	"http://jabber.org/protocol/disco#items<"                              \
	"http://jabber.org/protocol/muc<"
#define SIMPLE_BODY                                                            \
	"<identity category='client' name='Exodus 0.9.1' type='pc'/>"          \
	"<feature var='http://jabber.org/protocol/caps'/>"                     \
	"<feature var='http://jabber.org/protocol/disco#info'/>"               \
	"<feature var='http://jabber.org/protocol/disco#items'/>"              \
	"<feature var='http://jabber.org/protocol/muc'/>"

/* XEP-0115 §5.3, the complex generation example. */
#define COMPLEX_VER "q07IKJEyjvHSyhy//CH0CxmKi8w="
#define COMPLEX_S                                                              \
	"client/pc/el/\xce\xa8 0.11<client/pc/en/Psi 0.11<"                    \
	"http://jabber.org/protocol/caps<"                                     \
	"http://jabber.org/protocol/disco#info<"                               \
	"http://jabber.org/protocol/disco#items<"                              \
	"http://jabber.org/protocol/muc<urn:xmpp:dataforms:softwareinfo<"      \
	"ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<"          \
	"software_version<0.11<"
#define COMPLEX_FORM                                                           \
	"<x xmlns='jabber:x:data' type='result'>"                              \
	"<field var='FORM_TYPE' type='hidden'>"                                \
	"<value>urn:xmpp:dataforms:softwareinfo</value></field>"               \
	"<field var='ip_version'><value>ipv4</value><value>ipv6</value>"       \
	"</field>"                                                             \
	"<field var='os'><value>Mac</value></field>"                           \
	"<field var='os_version'><value>10.5.1</value></field>"                \
	"<field var='software'><value>Psi</value></field>"                     \
	"<field var='software_version'><value>0.11</value></field></x>"
#define COMPLEX_BODY                                                           \
	"<identity xml:lang='en' category='client' name='Psi 0.11' "           \
	"type='pc'/>"                                                          \
	"<identity xml:lang='el' category='client' name='\xce\xa8 0.11' "      \
	"type='pc'/>"                                                          \
	"<feature var='http://jabber.org/protocol/caps'/>"                     \
	"<feature var='http://jabber.org/protocol/disco#info'/>"               \
	"<feature var='http://jabber.org/protocol/disco#items'/>"              \
	"<feature var='http://jabber.org/protocol/muc'/>" COMPLEX_FORM

/* A disco#info <query/> with body as its children. */
static Stanza *query(const char *body)
{
	g_autofree char *xml = g_strdup_printf(
		"<query xmlns='http://jabber.org/protocol/disco#info'>%s"
		"</query>",
		body);

	return test_parse_stanza(xml);
}

static char *ver_of(const char *body)
{
	g_autoptr(Stanza) q = query(body);
	g_autoptr(GError) error = NULL;
	g_autoptr(CapsInfo) info = caps_info_parse(q, &error);

	ck_assert_msg(info != NULL, "%s", error ? error->message : "");
	return caps_info_compute_ver(info, CAPS_HASH_SHA1);
}

static void assert_ill_formed(const char *body)
{
	g_autoptr(Stanza) q = query(body);
	g_autoptr(GError) error = NULL;
	g_autoptr(CapsInfo) info = caps_info_parse(q, &error);

	ck_assert_msg(info == NULL, "accepted: %s", body);
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED));
}

/* ---- §5.1 vectors ------------------------------------------------------ */

/* The XEP's own examples: body, S, ver. */
static const struct {
	const char *body;
	const char *s;
	const char *ver;
	size_t n_forms;
} vectors[] = {
	{SIMPLE_BODY, SIMPLE_S, SIMPLE_VER, 0},
	{COMPLEX_BODY, COMPLEX_S, COMPLEX_VER, 1},
};

START_TEST(test_xep_examples)
{
	g_autoptr(Stanza) q = query(vectors[_i].body);
	g_autoptr(CapsInfo) info = caps_info_parse(q, NULL);
	g_autofree char *s = NULL;
	g_autofree char *ver = NULL;

	ck_assert_ptr_nonnull(info);
	s = caps_info_dup_hash_input(info);
	ck_assert_str_eq(s, vectors[_i].s);
	ver = caps_info_compute_ver(info, CAPS_HASH_SHA1);
	ck_assert_str_eq(ver, vectors[_i].ver);
	ck_assert_uint_eq(caps_info_get_n_forms(info), vectors[_i].n_forms);
}
END_TEST

/* The hash sorts: document order of everything is irrelevant. */
START_TEST(test_order_irrelevant)
{
	g_autofree char *ver = ver_of(
		"<x xmlns='jabber:x:data' type='result'>"
		"<field var='software_version'><value>0.11</value></field>"
		"<field var='os'><value>Mac</value></field>"
		"<field var='ip_version'><value>ipv6</value><value>ipv4</value>"
		"</field>"
		"<field var='FORM_TYPE' type='hidden'>"
		"<value>urn:xmpp:dataforms:softwareinfo</value></field>"
		"<field var='software'><value>Psi</value></field>"
		"<field var='os_version'><value>10.5.1</value></field></x>"
		"<feature var='http://jabber.org/protocol/muc'/>"
		"<identity xml:lang='el' category='client' "
		"name='\xce\xa8 0.11' type='pc'/>"
		"<feature var='http://jabber.org/protocol/disco#items'/>"
		"<feature var='http://jabber.org/protocol/caps'/>"
		"<identity xml:lang='en' category='client' name='Psi 0.11' "
		"type='pc'/>"
		"<feature var='http://jabber.org/protocol/disco#info'/>");

	ck_assert_str_eq(ver, COMPLEX_VER);
}
END_TEST

/* Two forms sort by FORM_TYPE; identities by category, type, lang. */
START_TEST(test_sort_keys)
{
	g_autoptr(CapsInfo) info = caps_info_new();
	const char *a[] = {"1"};
	g_autofree char *s = NULL;

	caps_info_add_identity(info, "client", "pc", "en", "B");
	caps_info_add_identity(info, "client", "phone", NULL, NULL);
	caps_info_add_identity(info, "automation", "x", NULL, "Z");
	caps_info_add_identity(info, "client", "pc", NULL, "A");
	caps_info_add_feature(info, "b");
	caps_info_add_feature(info, "a");
	caps_info_add_form(info, "urn:z");
	caps_info_add_field(info, "f", a, 1);
	caps_info_add_form(info, "urn:a");
	caps_info_add_field(info, "g", NULL, 0);
	ck_assert(caps_info_validate(info, NULL));
	s = caps_info_dup_hash_input(info);
	ck_assert_str_eq(s, "automation/x//Z<client/pc//A<client/pc/en/B<"
			    "client/phone//<a<b<urn:a<g<urn:z<f<1<");
}
END_TEST

/* Forms without a (hidden) FORM_TYPE do not count (§5.4 3.6). */
START_TEST(test_form_ignored)
{
	g_autofree char *none = ver_of(
		SIMPLE_BODY "<x xmlns='jabber:x:data' type='result'>"
			    "<field var='os'><value>Mac</value></field></x>");
	g_autofree char *shown =
		ver_of(SIMPLE_BODY
		       "<x xmlns='jabber:x:data' type='result'>"
		       "<field var='FORM_TYPE'><value>urn:x</value></field>"
		       "</x>");
	g_autofree char *empty = ver_of(
		SIMPLE_BODY "<x xmlns='jabber:x:data' type='result'>"
			    "<field var='FORM_TYPE' type='hidden'/></x>");

	ck_assert_str_eq(none, SIMPLE_VER);
	ck_assert_str_eq(shown, SIMPLE_VER);
	ck_assert_str_eq(empty, SIMPLE_VER);
}
END_TEST

/* Unknown children and other namespaces are not part of the hash. */
START_TEST(test_foreign_children)
{
	g_autofree char *ver =
		ver_of(SIMPLE_BODY "<feature xmlns='urn:other' var='x'/>"
				   "<identity xmlns='urn:other' category='a'/>"
				   "<something/>");

	ck_assert_str_eq(ver, SIMPLE_VER);
}
END_TEST

/* The same FORM_TYPE value twice in one field is one FORM_TYPE. */
START_TEST(test_form_type_repeated)
{
	g_autofree char *ver = ver_of(
		"<identity category='client' name='Psi 0.11' type='pc' "
		"xml:lang='en'/>"
		"<identity xml:lang='el' category='client' "
		"name='\xce\xa8 0.11' type='pc'/>"
		"<feature var='http://jabber.org/protocol/caps'/>"
		"<feature var='http://jabber.org/protocol/disco#info'/>"
		"<feature var='http://jabber.org/protocol/disco#items'/>"
		"<feature var='http://jabber.org/protocol/muc'/>"
		"<x xmlns='jabber:x:data' type='result'>"
		"<field var='FORM_TYPE' type='hidden'>"
		"<value>urn:xmpp:dataforms:softwareinfo</value>"
		"<value>urn:xmpp:dataforms:softwareinfo</value></field>"
		"<field var='ip_version'><value>ipv4</value><value>ipv6</value>"
		"</field><field var='os'><value>Mac</value></field>"
		"<field var='os_version'><value>10.5.1</value></field>"
		"<field var='software'><value>Psi</value></field>"
		"<field var='software_version'><value>0.11</value></field>"
		"</x>");

	ck_assert_str_eq(ver, COMPLEX_VER);
}
END_TEST

START_TEST(test_other_hashes)
{
	g_autoptr(Stanza) q = query(SIMPLE_BODY);
	g_autoptr(CapsInfo) info = caps_info_parse(q, NULL);
	g_autofree char *v256 = caps_info_compute_ver(info, CAPS_HASH_SHA256);
	g_autofree char *v512 = caps_info_compute_ver(info, CAPS_HASH_SHA512);
	CapsHash h;

	/* base64 of 32 and 64 bytes */
	ck_assert_uint_eq(strlen(v256), 44);
	ck_assert_uint_eq(strlen(v512), 88);
	ck_assert(caps_hash_from_string("sha-256", &h));
	ck_assert_int_eq(h, CAPS_HASH_SHA256);
	ck_assert_str_eq(caps_hash_to_string(CAPS_HASH_SHA1), "sha-1");
	h = CAPS_HASH_SHA384;
	ck_assert(!caps_hash_from_string("md5", &h));
	ck_assert(!caps_hash_from_string("SHA-1", &h));
	ck_assert(!caps_hash_from_string(NULL, &h));
	ck_assert_int_eq(h, CAPS_HASH_SHA384); /* untouched on failure */
}
END_TEST

/* The identity GetContactClients shows: a client one, lang-less or en. */
START_TEST(test_main_identity)
{
	g_autoptr(CapsInfo) info = caps_info_new();
	g_autoptr(CapsInfo) bot = caps_info_new();
	g_autoptr(CapsInfo) none = caps_info_new();
	CapsIdentity id;

	caps_info_add_identity(info, "client", "phone", "el", "\xce\xa8");
	caps_info_add_identity(info, "automation", "bot", NULL, "A");
	caps_info_add_identity(info, "client", "phone", "en-GB", "Phone");
	ck_assert(caps_info_get_main_identity(info, &id));
	ck_assert_str_eq(id.name, "Phone");
	caps_info_add_identity(info, "client", "phone", NULL, "Plain");
	ck_assert(caps_info_get_main_identity(info, &id));
	ck_assert_str_eq(id.name, "Plain");
	caps_info_add_identity(bot, "pubsub", "pep", NULL, NULL);
	caps_info_add_identity(bot, "automation", "bot", NULL, "B");
	ck_assert(caps_info_get_main_identity(bot, &id));
	ck_assert_str_eq(id.category, "automation");
	ck_assert(!caps_info_get_main_identity(none, &id));
}
END_TEST

START_TEST(test_features_sorted)
{
	g_autoptr(Stanza) q = query(COMPLEX_BODY);
	g_autoptr(CapsInfo) info = caps_info_parse(q, NULL);
	g_auto(GStrv) features = NULL;

	caps_info_add_feature(info, "a:first");
	features = caps_info_dup_features_sorted(info);
	ck_assert_uint_eq(g_strv_length(features), 5);
	ck_assert_str_eq(features[0], "a:first");
	ck_assert_str_eq(features[4], "http://jabber.org/protocol/muc");
	/* The info itself keeps its order. */
	ck_assert_str_eq(caps_info_get_feature(info, 4), "a:first");
}
END_TEST

/* ---- §5.4 --------------------------------------------------------------- */

START_TEST(test_verify)
{
	g_autoptr(Stanza) q = query(COMPLEX_BODY);
	g_autoptr(CapsInfo) info = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(caps_verify(q, "sha-1", COMPLEX_VER, &info, &error));
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(caps_info_get_n_identities(info), 2);
	ck_assert(
		caps_info_has_feature(info, "http://jabber.org/protocol/muc"));
	ck_assert(caps_verify(q, "sha-1", COMPLEX_VER, NULL, NULL));
}
END_TEST

START_TEST(test_verify_mismatch)
{
	g_autoptr(Stanza) q =
		query(SIMPLE_BODY "<feature var='urn:xmpp:extra'/>");
	g_autoptr(CapsInfo) info = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(!caps_verify(q, "sha-1", SIMPLE_VER, &info, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_MISMATCH));
	ck_assert_ptr_null(info);
	g_clear_error(&error);
	ck_assert(!caps_verify(q, "sha-1", NULL, NULL, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_MISMATCH));
}
END_TEST

START_TEST(test_verify_unsupported_hash)
{
	g_autoptr(Stanza) q = query(SIMPLE_BODY);
	g_autoptr(GError) error = NULL;

	ck_assert(!caps_verify(q, "md5", SIMPLE_VER, NULL, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR,
				  CAPS_ERROR_UNSUPPORTED_HASH));
	g_clear_error(&error);
	ck_assert(!caps_verify(q, NULL, SIMPLE_VER, NULL, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR,
				  CAPS_ERROR_UNSUPPORTED_HASH));
}
END_TEST

static const char *const ill_formed_bodies[] = {
	/* §5.4 3.3: duplicate identity */
	"<identity category='client' type='pc' name='A'/>"
	"<identity category='client' type='pc' name='A'/>",
	/* §5.4 3.4: duplicate feature */
	"<feature var='urn:a'/><feature var='urn:a'/>",
	/* §5.4 3.5: two forms with one FORM_TYPE */
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field></x>"
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field></x>",
	/* §5.4 3.5: FORM_TYPE with two different values */
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value><value>urn:g</value></field></x>",
	/* two hidden FORM_TYPE fields that differ */
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field><field var='FORM_TYPE' "
	"type='hidden'><value>urn:g</value></field></x>",
	/* a field var twice: the order would be undefined */
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field>"
	"<field var='a'><value>1</value></field>"
	"<field var='a'><value>2</value></field></x>",
	/* a field without var */
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field><field type='fixed'>"
	"<value>1</value></field></x>",
	/* XEP-0030: category and type are required */
	"<identity type='pc'/>",
	"<identity category='client'/>",
	"<identity category='' type='pc'/>",
	/* a feature without var */
	"<feature/>",
	"<feature var=''/>",
	/* '<' would make S ambiguous: cache poisoning */
	"<identity category='client' type='pc' name='x&lt;urn:a'/>",
	"<feature var='urn:a&lt;urn:b'/>",
	"<identity category='client' type='pc' xml:lang='en&lt;'/>",
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f</value></field><field var='a'>"
	"<value>1&lt;b</value></field></x>",
	"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
	"type='hidden'><value>urn:f&lt;</value></field></x>",
};

START_TEST(test_ill_formed)
{
	assert_ill_formed(ill_formed_bodies[_i]);
}
END_TEST

static void repeat(GString *s, unsigned n, const char *fmt)
{
	for (unsigned i = 0; i < n; i++)
		g_string_append_printf(s, fmt, i);
}

START_TEST(test_caps_bounds)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *big = g_strnfill(CAPS_MAX_STRING_BYTES + 1, 'a');
	g_autofree char *long_feature = NULL;
	g_autofree char *ok = NULL;

	repeat(s, CAPS_MAX_FEATURES + 1, "<feature var='urn:f%u'/>");
	assert_ill_formed(s->str);
	g_string_truncate(s, 0);
	repeat(s, CAPS_MAX_FEATURES, "<feature var='urn:f%u'/>");
	ok = ver_of(s->str);
	g_string_truncate(s, 0);
	repeat(s, CAPS_MAX_IDENTITIES + 1,
	       "<identity category='client' type='pc' name='%u'/>");
	assert_ill_formed(s->str);
	g_string_truncate(s, 0);
	g_string_append(s, "<x xmlns='jabber:x:data' type='result'>"
			   "<field var='FORM_TYPE' type='hidden'><value>urn:f"
			   "</value></field><field var='a'>");
	repeat(s, CAPS_MAX_VALUES + 1, "<value>%u</value>");
	g_string_append(s, "</field></x>");
	assert_ill_formed(s->str);
	long_feature = g_strdup_printf("<feature var='%s'/>", big);
	assert_ill_formed(long_feature);
}
END_TEST

START_TEST(test_not_a_query)
{
	g_autoptr(Stanza) other =
		test_parse_stanza("<query xmlns='jabber:iq:last'/>");
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(caps_info_parse(other, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED));
	g_clear_error(&error);
	ck_assert_ptr_null(caps_info_parse(NULL, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED));
}
END_TEST

/* What we build, we read back to the same ver (also through forms). */
START_TEST(test_build_round_trip)
{
	g_autoptr(Stanza) q = query(COMPLEX_BODY);
	g_autoptr(CapsInfo) info = caps_info_parse(q, NULL);
	g_autoptr(Stanza) built = caps_info_build_query(info, "n#v");
	g_autofree char *xml = stanza_to_string(built);
	g_autoptr(Stanza) reparsed = test_parse_stanza(xml);

	ck_assert_str_eq(stanza_get_attr(built, "node"), "n#v");
	ck_assert(caps_verify(reparsed, "sha-1", COMPLEX_VER, NULL, NULL));
}
END_TEST

/* Whitespace that XML only carries as character references survives our
 * serialization, so a peer hashes what we hashed. */
START_TEST(test_build_round_trip_refs)
{
	g_autoptr(Stanza) q = query(
		"<identity category='client' type='pc' "
		"name='a&#9;b&#10;c&#13;d'/>"
		"<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' "
		"type='hidden'><value>urn:f</value></field><field var='v'>"
		"<value>x&#13;y&#13;&#10;z&#9;</value></field></x>");
	g_autoptr(CapsInfo) info = caps_info_parse(q, NULL);
	g_autofree char *ver = caps_info_compute_ver(info, CAPS_HASH_SHA1);
	g_autoptr(Stanza) built = caps_info_build_query(info, NULL);
	g_autofree char *xml = stanza_to_string(built);
	g_autoptr(Stanza) reparsed = test_parse_stanza(xml);

	ck_assert_msg(caps_verify(reparsed, "sha-1", ver, NULL, NULL), "%s",
		      xml);
}
END_TEST

/* Server and account results: lenient, duplicates allowed. */
START_TEST(test_disco_has)
{
	g_autoptr(Stanza) server =
		query("<identity category='server' type='im'/>"
		      "<identity category='pubsub' type='pep'/>"
		      "<feature var='urn:xmpp:blocking'/>"
		      "<feature var='urn:xmpp:blocking'/>"
		      "<feature xmlns='urn:other' var='urn:xmpp:ping'/>");
	g_autoptr(Stanza) other =
		test_parse_stanza("<query xmlns='urn:other'>"
				  "<feature var='urn:xmpp:blocking'/></query>");

	ck_assert(caps_disco_has_feature(server, NS_BLOCKING));
	ck_assert(!caps_disco_has_feature(server, NS_PING));
	ck_assert(caps_disco_has_identity(server, "pubsub", "pep"));
	ck_assert(!caps_disco_has_identity(server, "pubsub", "service"));
	ck_assert(!caps_disco_has_identity(server, "server", "pep"));
	ck_assert(!caps_disco_has_feature(other, NS_BLOCKING));
	ck_assert(!caps_disco_has_feature(NULL, NS_BLOCKING));
}
END_TEST

/* ---- <c/> ---------------------------------------------------------------- */

START_TEST(test_announcement)
{
	g_autoptr(Stanza) p = test_parse_stanza(
		"<presence from='a@b/c'><c xmlns='http://jabber.org/protocol/"
		"caps' hash='sha-1' node='http://psi-im.org' ver='" COMPLEX_VER
		"'/></presence>");
	g_auto(CapsAnnouncement) ann = {0};

	ck_assert(caps_announcement_parse(p, &ann, NULL));
	ck_assert_str_eq(ann.node, "http://psi-im.org");
	ck_assert_str_eq(ann.hash, "sha-1");
	ck_assert_str_eq(ann.ver, COMPLEX_VER);
}
END_TEST

START_TEST(test_announcement_legacy_and_missing)
{
	g_autoptr(Stanza) legacy = test_parse_stanza(
		"<presence><c xmlns='http://jabber.org/protocol/caps' "
		"node='http://exodus.jabberstudio.org/caps' ver='0.9' "
		"ext='ftrans'/></presence>");
	g_autoptr(Stanza) none = test_parse_stanza(
		"<presence><c xmlns='urn:other' node='n' ver='v'/></presence>");
	g_auto(CapsAnnouncement) ann = {0};
	g_autoptr(GError) error = NULL;

	ck_assert(caps_announcement_parse(legacy, &ann, NULL));
	ck_assert_ptr_null(ann.hash);
	ck_assert_str_eq(ann.ver, "0.9");
	ck_assert(!caps_announcement_parse(none, &ann, &error));
	ck_assert_ptr_null(error);
}
END_TEST

static const char *const bad_c[] = {
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n'/>",
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ver='v'/>",
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='' "
	"ver='v'/>",
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n#x' "
	"ver='v'/>",
	"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' "
	"ver='v#x'/>",
};

START_TEST(test_announcement_bad)
{
	g_autofree char *xml =
		g_strdup_printf("<presence>%s</presence>", bad_c[_i]);
	g_autoptr(Stanza) p = test_parse_stanza(xml);
	g_auto(CapsAnnouncement) ann = {0};
	g_autoptr(GError) error = NULL;

	ck_assert(!caps_announcement_parse(p, &ann, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED));
	ck_assert_ptr_null(ann.ver);
}
END_TEST

START_TEST(test_disco_info_query)
{
	g_autoptr(Stanza) q =
		caps_build_disco_info_query("http://psi-im.org", COMPLEX_VER);
	g_autofree char *xml = stanza_to_string(q);

	ck_assert_str_eq(xml, "<query xmlns='http://jabber.org/protocol/"
			      "disco#info' node='http://psi-im.org#" COMPLEX_VER
			      "'/>");
}
END_TEST

/* ---- our own ------------------------------------------------------------- */

/* Our ver is the hash of what we answer: recomputed from the answer as a
 * peer would (issue #14: it can never drift). */
START_TEST(test_own_ver_matches_answer)
{
	g_autoptr(CapsOwn) own = caps_own_new(NODE, _i != 0);
	g_autoptr(Stanza) get = test_parse_stanza(
		"<query xmlns='http://jabber.org/protocol/disco#info'/>");
	g_autoptr(Stanza) answer = caps_own_answer_disco_info(own, get, NULL);
	g_autofree char *xml = stanza_to_string(answer);
	g_autoptr(Stanza) received = test_parse_stanza(xml);

	ck_assert_ptr_null(stanza_get_attr(answer, "node"));
	ck_assert(caps_verify(received, "sha-1", caps_own_get_ver(own), NULL,
			      NULL));
}
END_TEST

START_TEST(test_own_description)
{
	g_autoptr(CapsOwn) own = caps_own_new(NODE, false);
	g_autoptr(CapsOwn) blocking = caps_own_new(NODE, true);
	const CapsInfo *info = caps_own_get_info(own);
	CapsIdentity id;
	g_autofree char *s = caps_info_dup_hash_input(info);

	ck_assert_uint_eq(caps_info_get_n_identities(info), 1);
	id = caps_info_get_identity(info, 0);
	ck_assert_str_eq(id.category, "client");
	ck_assert_str_eq(id.type, "pc");
	ck_assert_str_eq(id.name, "presenced");
	ck_assert_str_eq(s, "client/pc//presenced<"
			    "http://jabber.org/protocol/caps<"
			    "http://jabber.org/protocol/disco#info<"
			    "jabber:iq:last<urn:xmpp:idle:1<urn:xmpp:ping<");
	ck_assert(!caps_info_has_feature(info, NS_BLOCKING));
	ck_assert(caps_info_has_feature(caps_own_get_info(blocking),
					NS_BLOCKING));
	ck_assert_str_ne(caps_own_get_ver(own), caps_own_get_ver(blocking));
	ck_assert_str_eq(caps_own_get_node(own), NODE);
	ck_assert(g_str_has_prefix(NODE, "https://"));
	ck_assert(caps_info_validate(info, NULL));
}
END_TEST

START_TEST(test_own_c)
{
	g_autoptr(CapsOwn) own = caps_own_new(NODE, false);
	g_autoptr(Stanza) c = caps_own_build_c(own);
	g_autofree char *xml = stanza_to_string(c);
	g_autofree char *want = g_strdup_printf(
		"<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
		"node='%s' ver='%s'/>",
		NODE, caps_own_get_ver(own));

	ck_assert_str_eq(xml, want);
}
END_TEST

START_TEST(test_own_answer_node)
{
	g_autoptr(CapsOwn) own = caps_own_new(NODE, false);
	g_autofree char *nv =
		g_strdup_printf("%s#%s", NODE, caps_own_get_ver(own));
	g_autoptr(Stanza) get =
		caps_build_disco_info_query(NODE, caps_own_get_ver(own));
	g_autoptr(Stanza) answer = caps_own_answer_disco_info(own, get, NULL);
	g_autoptr(Stanza) other = caps_build_disco_info_query(NODE, "old");
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_nonnull(answer);
	ck_assert_str_eq(stanza_get_attr(answer, "node"), nv);
	ck_assert(caps_verify(answer, "sha-1", caps_own_get_ver(own), NULL,
			      NULL));
	ck_assert_ptr_null(caps_own_answer_disco_info(own, other, &error));
	ck_assert(
		g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ITEM_NOT_FOUND));
}
END_TEST

START_TEST(test_own_disco_items)
{
	g_autoptr(Stanza) plain = test_parse_stanza(
		"<query xmlns='http://jabber.org/protocol/disco#items'/>");
	g_autoptr(Stanza) noded = test_parse_stanza(
		"<query xmlns='http://jabber.org/protocol/disco#items' "
		"node='x'/>");
	g_autoptr(Stanza) a = caps_own_answer_disco_items(plain);
	g_autoptr(Stanza) b = caps_own_answer_disco_items(noded);
	g_autofree char *xa = stanza_to_string(a);
	g_autofree char *xb = stanza_to_string(b);

	ck_assert_str_eq(
		xa, "<query xmlns='http://jabber.org/protocol/disco#items'/>");
	ck_assert_str_eq(xb, "<query xmlns='http://jabber.org/protocol/"
			     "disco#items' node='x'/>");
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"vectors", test_xep_examples, .loops = G_N_ELEMENTS(vectors)},
		{"generate", test_order_irrelevant},
		{"generate", test_sort_keys},
		{"generate", test_form_ignored},
		{"generate", test_foreign_children},
		{"generate", test_form_type_repeated},
		{"generate", test_other_hashes},
		{"generate", test_main_identity},
		{"generate", test_features_sorted},
		{"verify", test_verify},
		{"verify", test_verify_mismatch},
		{"verify", test_verify_unsupported_hash},
		{"ill-formed", test_ill_formed,
		 .loops = G_N_ELEMENTS(ill_formed_bodies)},
		{"bounds", test_caps_bounds},
		{"bounds", test_not_a_query},
		{"build", test_build_round_trip},
		{"build", test_build_round_trip_refs},
		{"build", test_disco_has},
		{"announcement", test_announcement},
		{"announcement", test_announcement_legacy_and_missing},
		{"announcement", test_disco_info_query},
		{"announcement-bad", test_announcement_bad,
		 .loops = G_N_ELEMENTS(bad_c)},
		{"own", test_own_ver_matches_answer, .loops = 2},
		{"own", test_own_description},
		{"own", test_own_c},
		{"own", test_own_answer_node},
		{"own", test_own_disco_items},
	};

	return check_suite_run("caps", cases, G_N_ELEMENTS(cases), 30);
}
