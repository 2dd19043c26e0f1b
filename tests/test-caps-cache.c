/* SPDX-License-Identifier: MIT */
/*
 * core/caps-cache.c: one query per distinct ver, the bounds, verification
 * before caching, retries and give-up, and the cache file (round trip and
 * hostile input).
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/caps-cache.h"
#include "tests/support/check-suite.h"
#include "tests/support/stanza-parse.h"

#define NODE "https://client.example"
#define T0 ((int64_t)1000000)

/* A client description distinguished by n, its disco#info answer and
 * its sha-1 ver. */
typedef struct {
	CapsInfo *info;
	Stanza *answer;
	char *ver;
} Client;

static void client_clear(Client *c)
{
	caps_info_free(c->info);
	stanza_free(c->answer);
	g_free(c->ver);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Client, client_clear)

static void client_init(Client *c, unsigned n)
{
	g_autofree char *name = g_strdup_printf("Client %u", n);
	g_autofree char *feature = g_strdup_printf("urn:test:%u", n);

	c->info = caps_info_new();
	caps_info_add_identity(c->info, "client", n % 2 ? "phone" : "pc", NULL,
			       name);
	caps_info_add_feature(c->info, NS_DISCO_INFO);
	caps_info_add_feature(c->info, feature);
	c->ver = caps_info_compute_ver(c->info, CAPS_HASH_SHA1);
	c->answer = caps_info_build_query(c->info, NULL);
}

static char *jid_of(unsigned contact, const char *resource)
{
	return g_strdup_printf("u%u@example.org/%s", contact, resource);
}

/* Takes the next query, which must exist, into *q. */
static void next(CapsCache *cache, CapsCacheQuery *q)
{
	caps_cache_query_clear(q);
	ck_assert(caps_cache_next_query(cache, T0, q));
}

static void assert_no_query(CapsCache *cache)
{
	g_auto(CapsCacheQuery) q = {0};

	ck_assert(!caps_cache_next_query(cache, T0, &q));
	ck_assert_ptr_null(q.to);
}

/* ---- one query per ver --------------------------------------------------
 */

/* 50,000 contacts on three clients: three queries (issue #14). */
START_TEST(test_flood_three_queries)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0}, b = {0}, c = {0};
	Client *clients[] = {&a, &b, &c};
	g_auto(CapsCacheQuery) q = {0};
	unsigned asked = 0;

	for (unsigned i = 0; i < 3; i++)
		client_init(clients[i], i);
	for (unsigned i = 0; i < 50000; i++) {
		g_autofree char *jid = jid_of(i, "r");

		ck_assert_int_eq(caps_cache_observe(cache, jid, NODE, "sha-1",
						    clients[i % 3]->ver),
				 CAPS_CACHE_PENDING);
	}
	while (caps_cache_next_query(cache, T0, &q)) {
		g_autoptr(GPtrArray) resolved =
			g_ptr_array_new_with_free_func(g_free);
		Client *cl = NULL;

		for (unsigned i = 0; i < 3; i++)
			if (g_str_has_suffix(q.node, clients[i]->ver))
				cl = clients[i];
		ck_assert_ptr_nonnull(cl);
		ck_assert(g_str_has_prefix(q.node, NODE "#"));
		ck_assert(caps_cache_complete(cache, q.key, q.to, cl->answer,
					      resolved, NULL));
		ck_assert_uint_ge(resolved->len, 16666);
		asked++;
		caps_cache_query_clear(&q);
	}
	ck_assert_uint_eq(asked, 3);
	ck_assert_uint_eq(caps_cache_get_n_entries(cache), 3);
	for (unsigned i = 0; i < 50000; i += 997) {
		g_autofree char *jid = jid_of(i, "r");
		const CapsInfo *info = caps_cache_lookup_jid(cache, jid);

		ck_assert_ptr_nonnull(info);
		ck_assert(caps_info_has_feature(info, i % 3 == 0 ? "urn:test:0"
						      : i % 3 == 1
							      ? "urn:test:1"
							      : "urn:test:2"));
	}
}
END_TEST

START_TEST(test_known_attaches)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};
	CapsIdentity id;

	client_init(&a, 1);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/1", NODE, "sha-1", a.ver),
		CAPS_CACHE_PENDING);
	/* Not known yet: nothing to show. */
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/1"));
	next(cache, &q);
	ck_assert_str_eq(q.to, "a@x/1");
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 1);
	{
		g_autoptr(Stanza) payload = caps_cache_query_build_payload(&q);
		g_autofree char *xml = stanza_to_string(payload);
		g_autofree char *want = g_strdup_printf(
			"<query xmlns='http://jabber.org/protocol/disco#info' "
			"node='" NODE "#%s'/>",
			a.ver);

		ck_assert_str_eq(xml, want);
	}
	/* A second resource while in flight: waits, costs no query. */
	ck_assert_int_eq(
		caps_cache_observe(cache, "b@x/1", NODE, "sha-1", a.ver),
		CAPS_CACHE_PENDING);
	assert_no_query(cache);
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 0);
	ck_assert_ptr_nonnull(caps_cache_lookup_jid(cache, "b@x/1"));
	ck_assert(caps_info_get_main_identity(
		caps_cache_lookup_jid(cache, "a@x/1"), &id));
	ck_assert_str_eq(id.type, "phone");
	ck_assert_str_eq(id.name, "Client 1");
	/* A third, later: known at once. */
	ck_assert_int_eq(caps_cache_observe(cache, "c@x/1", "other-node",
					    "sha-1", a.ver),
			 CAPS_CACHE_KNOWN);
	ck_assert_ptr_nonnull(caps_cache_lookup(cache, "sha-1", a.ver));
	assert_no_query(cache);
	/* Gone: nothing to show for it any more. */
	caps_cache_forget_jid(cache, "c@x/1");
	caps_cache_forget_jid(cache, "never@x/1");
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "c@x/1"));
}
END_TEST

/* Legacy caps and hashes we cannot check are never queried or shown. */
/* The same ver observed again after what held it went away (the end of
 * a session, an answer): observe() looks again, never at the old. */
START_TEST(test_same_ver_after_change)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};

	client_init(&a, 2);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/1", NODE, "sha-1", a.ver),
		CAPS_CACHE_PENDING);
	caps_cache_end_session(cache);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/2", NODE, "sha-1", a.ver),
		CAPS_CACHE_PENDING);
	next(cache, &q);
	ck_assert_str_eq(q.to, "a@x/2");
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/3", NODE, "sha-1", a.ver),
		CAPS_CACHE_KNOWN);
}
END_TEST

START_TEST(test_ignored)
{
	g_autoptr(CapsCache) cache = caps_cache_new();

	ck_assert_int_eq(caps_cache_observe(cache, "a@x/1", NODE, NULL, "0.9"),
			 CAPS_CACHE_IGNORED);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/1", NODE, "md5", "abcd"),
		CAPS_CACHE_IGNORED);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/1", NODE, "sha-1", NULL),
		CAPS_CACHE_IGNORED);
	assert_no_query(cache);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/1"));
}
END_TEST

/* A resource that changes ver: the old one no longer speaks for it. */
START_TEST(test_reannounce)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0}, b = {0};
	g_auto(CapsCacheQuery) q = {0};

	client_init(&a, 1);
	client_init(&b, 2);
	caps_cache_observe(cache, "a@x/1", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/1", NODE, "sha-1", b.ver),
		CAPS_CACHE_PENDING);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/1"));
	/* Legacy caps now: nothing shown either. */
	ck_assert_int_eq(caps_cache_observe(cache, "a@x/1", NODE, NULL, "1"),
			 CAPS_CACHE_IGNORED);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/1"));
}
END_TEST

/* ---- bounds --------------------------------------------------------------
 */

START_TEST(test_in_flight_bound)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	CapsCacheQuery qs[CAPS_CACHE_MAX_IN_FLIGHT] = {0};
	g_auto(CapsCacheQuery) extra = {0};
	Client clients[20] = {0};

	for (unsigned i = 0; i < 20; i++) {
		g_autofree char *jid = jid_of(i, "r");

		client_init(&clients[i], i);
		caps_cache_observe(cache, jid, NODE, "sha-1", clients[i].ver);
	}
	for (unsigned i = 0; i < CAPS_CACHE_MAX_IN_FLIGHT; i++)
		ck_assert(caps_cache_next_query(cache, T0, &qs[i]));
	assert_no_query(cache);
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache),
			  CAPS_CACHE_MAX_IN_FLIGHT);
	/* A failure frees a slot as well as a success. */
	ck_assert(!caps_cache_complete(cache, qs[0].key, qs[0].to, NULL, NULL,
				       NULL));
	next(cache, &extra);
	assert_no_query(cache);
	for (unsigned i = 0; i < CAPS_CACHE_MAX_IN_FLIGHT; i++)
		caps_cache_query_clear(&qs[i]);
	for (unsigned i = 0; i < 20; i++)
		client_clear(&clients[i]);
}
END_TEST

START_TEST(test_pending_bound)
{
	g_autoptr(CapsCache) cache = caps_cache_new();

	for (unsigned i = 0; i < CAPS_CACHE_MAX_PENDING; i++) {
		g_autofree char *jid = jid_of(i, "r");
		g_autofree char *ver = g_strdup_printf("v%u", i);

		ck_assert_int_eq(
			caps_cache_observe(cache, jid, NODE, "sha-1", ver),
			CAPS_CACHE_PENDING);
	}
	ck_assert_int_eq(caps_cache_observe(cache, "late@x/r", NODE, "sha-1",
					    "one-too-many"),
			 CAPS_CACHE_IGNORED);
	/* A known-pending ver still takes more resources. */
	ck_assert_int_eq(
		caps_cache_observe(cache, "late@x/r", NODE, "sha-1", "v0"),
		CAPS_CACHE_PENDING);
}
END_TEST

/* Many resources with one ver: bounded candidates, still one query. */
START_TEST(test_candidates_bound)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(CapsCacheQuery) q = {0};
	unsigned queries = 0;

	for (unsigned i = 0; i < 100; i++) {
		g_autofree char *jid = jid_of(i, "r");

		caps_cache_observe(cache, jid, NODE, "sha-1", "bogus");
	}
	/* Every answer fails: at most MAX_ATTEMPTS queries, then given up. */
	while (caps_cache_next_query(cache, T0, &q)) {
		ck_assert(!caps_cache_complete(cache, q.key, q.to, NULL, NULL,
					       NULL));
		caps_cache_query_clear(&q);
		queries++;
	}
	ck_assert_uint_eq(queries, CAPS_CACHE_MAX_ATTEMPTS);
	ck_assert_int_eq(
		caps_cache_observe(cache, "new@x/r", NODE, "sha-1", "bogus"),
		CAPS_CACHE_IGNORED);
	assert_no_query(cache);
}
END_TEST

/* Verified entries are bounded; the least recently used goes. */
START_TEST(test_entries_bound)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) first = {0}, second = {0};
	g_auto(CapsCacheQuery) q = {0};

	client_init(&first, 0);
	client_init(&second, 1);
	for (unsigned i = 0; i <= CAPS_CACHE_MAX_ENTRIES; i++) {
		g_auto(Client) c = {0};
		g_autofree char *jid = jid_of(i, "r");

		client_init(&c, i);
		caps_cache_observe(cache, jid, NODE, "sha-1", c.ver);
		next(cache, &q);
		ck_assert(caps_cache_complete(cache, q.key, q.to, c.answer,
					      NULL, NULL));
		/* Keep the first one in use. */
		caps_cache_observe(cache, "keep@x/r", NODE, "sha-1", first.ver);
	}
	ck_assert_uint_eq(caps_cache_get_n_entries(cache),
			  CAPS_CACHE_MAX_ENTRIES);
	ck_assert_ptr_nonnull(caps_cache_lookup(cache, "sha-1", first.ver));
	ck_assert_ptr_null(caps_cache_lookup(cache, "sha-1", second.ver));
}
END_TEST

/* ---- verification -------------------------------------------------------
 */

/* A ver whose answer does not hash to it: never cached or shown; the next
 * resource that announced it is asked (a liar cannot spoil a ver for
 * honest peers). */
START_TEST(test_mismatch_retries)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) real = {0}, fake = {0};
	g_auto(CapsCacheQuery) q = {0};
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) resolved = g_ptr_array_new_with_free_func(g_free);

	client_init(&real, 1);
	client_init(&fake, 2);
	caps_cache_observe(cache, "liar@x/r", NODE, "sha-1", real.ver);
	caps_cache_observe(cache, "honest@x/r", NODE, "sha-1", real.ver);
	next(cache, &q);
	ck_assert_str_eq(q.to, "liar@x/r");
	ck_assert(!caps_cache_complete(cache, q.key, q.to, fake.answer,
				       resolved, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_MISMATCH));
	ck_assert_uint_eq(resolved->len, 0);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "honest@x/r"));
	ck_assert_uint_eq(caps_cache_get_n_entries(cache), 0);
	next(cache, &q);
	ck_assert_str_eq(q.to, "honest@x/r");
	ck_assert(caps_cache_complete(cache, q.key, q.to, real.answer, resolved,
				      NULL));
	ck_assert_uint_eq(resolved->len, 2);
	ck_assert_ptr_nonnull(caps_cache_lookup_jid(cache, "liar@x/r"));
}
END_TEST

START_TEST(test_ill_formed_answer)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(CapsCacheQuery) q = {0};
	g_autoptr(Stanza) dup = test_parse_stanza(
		"<query xmlns='http://jabber.org/protocol/disco#info'>"
		"<feature var='a'/><feature var='a'/></query>");
	g_autoptr(GError) error = NULL;

	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", "x");
	next(cache, &q);
	ck_assert(!caps_cache_complete(cache, q.key, q.to, dup, NULL, &error));
	ck_assert(g_error_matches(error, CAPS_ERROR, CAPS_ERROR_ILL_FORMED));
	ck_assert_uint_eq(caps_cache_get_n_entries(cache), 0);
}
END_TEST

START_TEST(test_wrong_sender_and_unexpected)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};
	g_autoptr(GError) error = NULL;

	client_init(&a, 1);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(!caps_cache_complete(cache, q.key, "mallory@x/r", a.answer,
				       NULL, &error));
	ck_assert(g_error_matches(error, CAPS_CACHE_ERROR,
				  CAPS_CACHE_ERROR_WRONG_SENDER));
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/r"));
	g_clear_error(&error);
	/* A spoofed error is ignored too. */
	ck_assert(!caps_cache_complete(cache, q.key, "mallory@x/r", NULL, NULL,
				       &error));
	ck_assert(g_error_matches(error, CAPS_CACHE_ERROR,
				  CAPS_CACHE_ERROR_WRONG_SENDER));
	g_clear_error(&error);
	/* Ignored: still in flight, and the real answer counts. */
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 1);
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	/* Nothing in flight for that key any more. */
	ck_assert(!caps_cache_complete(cache, q.key, q.to, a.answer, NULL,
				       &error));
	ck_assert(g_error_matches(error, CAPS_CACHE_ERROR,
				  CAPS_CACHE_ERROR_UNEXPECTED));
	g_clear_error(&error);
	ck_assert(!caps_cache_complete(cache, "sha-1 nope", "a@x/r", a.answer,
				       NULL, &error));
	ck_assert(g_error_matches(error, CAPS_CACHE_ERROR,
				  CAPS_CACHE_ERROR_UNEXPECTED));
	g_clear_error(&error);
	ck_assert(!caps_cache_complete(cache, NULL, "a@x/r", a.answer, NULL,
				       &error));
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 0);
}
END_TEST

/* The resource went offline before we asked: ask another, or nobody. */
START_TEST(test_forget_before_query)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(CapsCacheQuery) q = {0};

	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", "v1");
	caps_cache_observe(cache, "b@x/r", NODE, "sha-1", "v1");
	caps_cache_observe(cache, "c@x/r", NODE, "sha-1", "v2");
	caps_cache_forget_jid(cache, "a@x/r");
	caps_cache_forget_jid(cache, "c@x/r");
	next(cache, &q);
	ck_assert_str_eq(q.to, "b@x/r");
	assert_no_query(cache);
	/* v2 is forgotten: a new announcement asks again. */
	caps_cache_observe(cache, "d@x/r", NODE, "sha-1", "v2");
	next(cache, &q);
	ck_assert_str_eq(q.to, "d@x/r");
}
END_TEST

/* A timeout with nobody else to ask: the next announcement asks again. */
START_TEST(test_timeout_waits_for_candidate)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};

	client_init(&a, 3);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(!caps_cache_complete(cache, q.key, q.to, NULL, NULL, NULL));
	assert_no_query(cache);
	ck_assert_int_eq(
		caps_cache_observe(cache, "b@x/r", "n2", "sha-1", a.ver),
		CAPS_CACHE_PENDING);
	next(cache, &q);
	ck_assert_str_eq(q.to, "b@x/r");
	ck_assert(g_str_has_prefix(q.node, "n2#"));
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	ck_assert_ptr_nonnull(caps_cache_lookup_jid(cache, "b@x/r"));
}
END_TEST

/* Unanswered: at the deadline the query fails, the next resource is
 * asked, and a late answer from the first one is ignored. */
START_TEST(test_query_timeout)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};
	g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *key = NULL;
	const int64_t due = T0 + CAPS_CACHE_QUERY_TIMEOUT;

	client_init(&a, 4);
	ck_assert_int_eq(caps_cache_get_deadline(cache), INT64_MAX);
	caps_cache_observe(cache, "slow@x/r", NODE, "sha-1", a.ver);
	caps_cache_observe(cache, "fast@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert_str_eq(q.to, "slow@x/r");
	key = g_strdup(q.key);
	ck_assert_int_eq(caps_cache_get_deadline(cache), due);
	caps_cache_tick(cache, due - 1, expired);
	ck_assert_uint_eq(expired->len, 0);
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 1);
	caps_cache_tick(cache, due, expired);
	ck_assert_uint_eq(expired->len, 1);
	ck_assert_str_eq(expired->pdata[0], key);
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 0);
	ck_assert_int_eq(caps_cache_get_deadline(cache), INT64_MAX);
	caps_cache_query_clear(&q);
	ck_assert(caps_cache_next_query(cache, due, &q));
	ck_assert_str_eq(q.to, "fast@x/r");
	ck_assert_int_eq(caps_cache_get_deadline(cache),
			 due + CAPS_CACHE_QUERY_TIMEOUT);
	ck_assert(!caps_cache_complete(cache, key, "slow@x/r", a.answer, NULL,
				       NULL));
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 1);
	ck_assert(caps_cache_complete(cache, key, "fast@x/r", a.answer, NULL,
				      NULL));
	ck_assert_ptr_nonnull(caps_cache_lookup_jid(cache, "slow@x/r"));
}
END_TEST

/* Several due at once, tick with no array: all fail, none crash. */
START_TEST(test_query_timeout_many)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(CapsCacheQuery) q = {0};

	for (unsigned i = 0; i < 20; i++) {
		g_autofree char *jid = jid_of(i, "r");
		g_autofree char *ver = g_strdup_printf("v%u", i);

		caps_cache_observe(cache, jid, NODE, "sha-1", ver);
	}
	for (unsigned i = 0; i < CAPS_CACHE_MAX_IN_FLIGHT; i++) {
		caps_cache_query_clear(&q);
		ck_assert(caps_cache_next_query(cache, T0 + i, &q));
	}
	caps_cache_tick(cache, T0 + 3 + CAPS_CACHE_QUERY_TIMEOUT, NULL);
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache),
			  CAPS_CACHE_MAX_IN_FLIGHT - 4);
	ck_assert_int_eq(caps_cache_get_deadline(cache),
			 T0 + 4 + CAPS_CACHE_QUERY_TIMEOUT);
}
END_TEST

START_TEST(test_end_session)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};

	client_init(&a, 1);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	caps_cache_observe(cache, "b@x/r", NODE, "sha-1", "other");
	next(cache, &q);
	caps_cache_end_session(cache);
	ck_assert_uint_eq(caps_cache_get_n_in_flight(cache), 0);
	ck_assert_ptr_null(caps_cache_lookup_jid(cache, "a@x/r"));
	ck_assert(!caps_cache_complete(cache, q.key, q.to, NULL, NULL, NULL));
	assert_no_query(cache);
	ck_assert_int_eq(
		caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver),
		CAPS_CACHE_KNOWN);
}
END_TEST

/* ---- the file ------------------------------------------------------------
 */

/* A cache with the XEP's complex example (forms, UTF-8) and a client
 * whose strings need escaping. */
static CapsCache *filled_cache(void)
{
	CapsCache *cache = caps_cache_new();
	g_autoptr(CapsInfo) odd = caps_info_new();
	const char *values[] = {"a\tb", "back\\slash", "line\nbreak", ""};
	g_autoptr(Stanza) answer = NULL;
	g_autofree char *ver = NULL;
	g_auto(CapsCacheQuery) q = {0};

	caps_info_add_identity(odd, "client", "pc", "el", "\xce\xa8\tx\\n");
	caps_info_add_identity(odd, "client", "pc", NULL, NULL);
	caps_info_add_feature(odd, "urn:a");
	caps_info_add_form(odd, "urn:f");
	caps_info_add_field(odd, "v", values, G_N_ELEMENTS(values));
	caps_info_add_field(odd, "empty", NULL, 0);
	ver = caps_info_compute_ver(odd, CAPS_HASH_SHA1);
	answer = caps_info_build_query(odd, NULL);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", ver);
	ck_assert(caps_cache_next_query(cache, T0, &q));
	ck_assert(caps_cache_complete(cache, q.key, q.to, answer, NULL, NULL));
	return cache;
}

START_TEST(test_file_round_trip)
{
	g_autoptr(CapsCache) cache = filled_cache();
	g_autofree char *text = caps_cache_serialize(cache);
	g_autoptr(CapsCache) loaded = caps_cache_new();
	g_autofree char *again = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert(g_str_has_prefix(text, "presenced-caps-cache 1\nentry\t"));
	ck_assert_msg(caps_cache_load(loaded, text, strlen(text), &error), "%s",
		      error ? error->message : "");
	ck_assert_uint_eq(caps_cache_get_n_entries(loaded), 1);
	again = caps_cache_serialize(loaded);
	ck_assert_str_eq(again, text);
}
END_TEST

START_TEST(test_file_loaded_known)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};
	g_autofree char *text = NULL;
	g_autoptr(CapsCache) loaded = caps_cache_new();

	client_init(&a, 5);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(
		caps_cache_complete(cache, q.key, q.to, a.answer, NULL, NULL));
	text = caps_cache_serialize(cache);
	ck_assert(caps_cache_load(loaded, text, strlen(text), NULL));
	ck_assert_int_eq(
		caps_cache_observe(loaded, "b@x/r", NODE, "sha-1", a.ver),
		CAPS_CACHE_KNOWN);
	assert_no_query(loaded);
	/* Loading again adds nothing twice. */
	ck_assert(caps_cache_load(loaded, text, strlen(text), NULL));
	ck_assert_uint_eq(caps_cache_get_n_entries(loaded), 1);
}
END_TEST

#define GOOD_ENTRY                                                             \
	"entry\tsha-1\tQgayPKawpkPSDYmwT/WM94uAlu0=\n"                         \
	"identity\tclient\tpc\t\tExodus 0.9.1\n"                               \
	"feature\thttp://jabber.org/protocol/caps\n"                           \
	"feature\thttp://jabber.org/protocol/disco#info\n"                     \
	"feature\thttp://jabber.org/protocol/disco#items\n"                    \
	"feature\thttp://jabber.org/protocol/muc\n"

static const char *const bad_files[] = {
	"",
	"\n",
	"presenced-caps-cache 2\n",
	"presenced-caps-cache 1",	       /* no newline: cut */
	"presenced-caps-cache 1\n" GOOD_ENTRY, /* no end */
	"presenced-caps-cache 1\n" GOOD_ENTRY "end",
	"presenced-caps-cache 1\n" GOOD_ENTRY "end\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "bogus\tline\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "feature\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "identity\tclient\tpc\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "field\tos\tMac\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "feature\turn:\\x\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "feature\turn:\\\nend\n",
	/* an edited feature: the ver no longer matches */
	"presenced-caps-cache 1\n" GOOD_ENTRY "feature\turn:extra\nend\n",
	/* duplicate feature: ill-formed even if someone fixed the ver */
	"presenced-caps-cache 1\n" GOOD_ENTRY
	"feature\thttp://jabber.org/protocol/muc\nend\n",
	"presenced-caps-cache 1\nentry\tmd5\tabc\nend\n",
	"presenced-caps-cache 1\nentry\tsha-1\nend\n",
	"presenced-caps-cache 1\nentry\t\t\nend\n",
	"presenced-caps-cache 1\nidentity\tclient\tpc\t\tx\n",
	"presenced-caps-cache 1\n\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "\nend\n",
	"presenced-caps-cache 1\n" GOOD_ENTRY "end\n\xff\n",
};

static void assert_refused(const char *data, size_t len)
{
	g_autoptr(CapsCache) cache = filled_cache();
	g_autofree char *before = caps_cache_serialize(cache);
	g_autofree char *after = NULL;
	g_autoptr(GError) error = NULL;

	ck_assert_msg(!caps_cache_load(cache, data, len, &error),
		      "accepted: %s", data);
	ck_assert(g_error_matches(error, CAPS_CACHE_ERROR,
				  CAPS_CACHE_ERROR_MALFORMED));
	ck_assert(strstr(error->message, "caps cache") != NULL);
	after = caps_cache_serialize(cache);
	ck_assert_str_eq(after, before);
}

START_TEST(test_file_malformed)
{
	assert_refused(bad_files[_i], strlen(bad_files[_i]));
}
END_TEST

START_TEST(test_file_good_entry)
{
	static const char text[] =
		"presenced-caps-cache 1\n" GOOD_ENTRY "end\n";
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_autoptr(GError) error = NULL;

	ck_assert_msg(caps_cache_load(cache, text, strlen(text), &error), "%s",
		      error ? error->message : "");
	ck_assert_ptr_nonnull(caps_cache_lookup(
		cache, "sha-1", "QgayPKawpkPSDYmwT/WM94uAlu0="));
}
END_TEST

START_TEST(test_file_hostile_bytes)
{
	static const char nul[] = "presenced-caps-cache 1\n\0entry\n";
	g_autofree char *huge = g_malloc(CAPS_CACHE_MAX_FILE_BYTES + 1);
	g_autoptr(CapsCache) cache = caps_cache_new();

	assert_refused(nul, sizeof(nul) - 1);
	memset(huge, 'a', CAPS_CACHE_MAX_FILE_BYTES + 1);
	assert_refused(huge, CAPS_CACHE_MAX_FILE_BYTES + 1);
	ck_assert(!caps_cache_load(cache, NULL, 0, NULL));
}
END_TEST

START_TEST(test_file_too_many_entries)
{
	g_autoptr(GString) text = g_string_new("presenced-caps-cache 1\n");

	for (unsigned i = 0; i <= CAPS_CACHE_MAX_ENTRIES; i++)
		g_string_append(text, GOOD_ENTRY "end\n");
	assert_refused(text->str, text->len);
}
END_TEST

/* The file brings a ver whose query is in flight: the answer still
 * counts once, nothing is cached twice. */
START_TEST(test_file_during_query)
{
	g_autoptr(CapsCache) cache = caps_cache_new();
	g_autoptr(CapsCache) other = caps_cache_new();
	g_auto(Client) a = {0};
	g_auto(CapsCacheQuery) q = {0};
	g_autofree char *text = NULL;
	g_autoptr(GPtrArray) resolved = g_ptr_array_new_with_free_func(g_free);

	client_init(&a, 7);
	caps_cache_observe(other, "x@x/r", NODE, "sha-1", a.ver);
	next(other, &q);
	ck_assert(
		caps_cache_complete(other, q.key, q.to, a.answer, NULL, NULL));
	text = caps_cache_serialize(other);
	caps_cache_observe(cache, "a@x/r", NODE, "sha-1", a.ver);
	next(cache, &q);
	ck_assert(caps_cache_load(cache, text, strlen(text), NULL));
	ck_assert(caps_cache_complete(cache, q.key, q.to, a.answer, resolved,
				      NULL));
	ck_assert_uint_eq(caps_cache_get_n_entries(cache), 1);
	ck_assert_uint_eq(resolved->len, 1);
	ck_assert_ptr_nonnull(caps_cache_lookup_jid(cache, "a@x/r"));
}
END_TEST

/* Every prefix of a good file: only one that ends after a whole entry
 * (or right after the header) loads; the rest are refused, none crash. */
START_TEST(test_file_every_prefix)
{
	g_autoptr(CapsCache) cache = filled_cache();
	g_autofree char *text = NULL;
	size_t len;

	caps_cache_load(cache, "presenced-caps-cache 1\n" GOOD_ENTRY "end\n",
			strlen("presenced-caps-cache 1\n" GOOD_ENTRY "end\n"),
			NULL);
	text = caps_cache_serialize(cache);
	len = strlen(text);
	for (size_t n = 0; n <= len; n++) {
		g_autoptr(CapsCache) fresh = caps_cache_new();
		g_autofree char *prefix = g_strndup(text, n);
		bool whole = g_str_has_suffix(prefix, "\nend\n") ||
			     strcmp(prefix, "presenced-caps-cache 1\n") == 0;

		ck_assert_msg(caps_cache_load(fresh, text, n, NULL) == whole,
			      "prefix of %zu bytes", n);
	}
}
END_TEST

/* Any one byte changed: refused (a changed description no longer hashes
 * to its ver, a changed structure does not parse). */
START_TEST(test_file_mutations)
{
	g_autoptr(CapsCache) cache = filled_cache();
	g_autofree char *text = caps_cache_serialize(cache);
	size_t len = strlen(text);
	g_autoptr(GRand) rand = g_rand_new_with_seed(0x0115);

	for (unsigned i = 0; i < 3000; i++) {
		g_autoptr(CapsCache) fresh = caps_cache_new();
		g_autofree char *copy = g_strdup(text);
		size_t at = g_rand_int_range(rand, 0, (gint32)len);

		copy[at] ^= (char)g_rand_int_range(rand, 1, 256);
		ck_assert_msg(!caps_cache_load(fresh, copy, len, NULL),
			      "byte %zu changed, still loaded", at);
		ck_assert_uint_eq(caps_cache_get_n_entries(fresh), 0);
	}
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"one-query-per-ver", test_flood_three_queries, .timeout = 120},
		{"one-query-per-ver", test_known_attaches},
		{"same-ver-after-change", test_same_ver_after_change},
		{"one-query-per-ver", test_ignored},
		{"one-query-per-ver", test_reannounce},
		{"bounds", test_in_flight_bound, .timeout = 120},
		{"bounds", test_pending_bound},
		{"bounds", test_candidates_bound},
		{"bounds", test_entries_bound},
		{"verify", test_mismatch_retries},
		{"verify", test_ill_formed_answer},
		{"verify", test_wrong_sender_and_unexpected},
		{"verify", test_forget_before_query},
		{"verify", test_timeout_waits_for_candidate},
		{"verify", test_query_timeout},
		{"verify", test_query_timeout_many},
		{"verify", test_end_session},
		{"file", test_file_round_trip},
		{"file", test_file_loaded_known},
		{"file", test_file_good_entry},
		{"file", test_file_during_query},
		{"file-malformed", test_file_malformed,
		 .loops = G_N_ELEMENTS(bad_files)},
		{"file-hostile", test_file_hostile_bytes},
		{"file-hostile", test_file_too_many_entries},
		{"file-hostile", test_file_every_prefix},
		{"file-hostile", test_file_mutations},
	};

	return check_suite_run("caps-cache", cases, G_N_ELEMENTS(cases), 30);
}
