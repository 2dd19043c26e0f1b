/* SPDX-License-Identifier: MIT */
/*
 * core/blocking.c: the block list result, pushes (trusted and spoofed,
 * block, unblock, unblock-all, malformed), matching, and the payloads.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/blocking.h"
#include "tests/support/check-suite.h"
#include "tests/support/stanza-parse.h"

#define OWN "alice@example.org"

static Stanza *result(const char *items)
{
	g_autofree char *xml =
		g_strdup_printf("<iq type='result' id='b1'><blocklist "
				"xmlns='urn:xmpp:blocking'>"
				"%s</blocklist></iq>",
				items);

	return test_parse_stanza(xml);
}

static Stanza *push(const char *from, const char *cmd, const char *items)
{
	g_autofree char *xml = g_strdup_printf(
		"<iq type='set' id='p1'%s%s%s><%s xmlns='urn:xmpp:blocking'>"
		"%s</%s></iq>",
		from ? " from='" : "", from ? from : "", from ? "'" : "", cmd,
		items, cmd);

	return test_parse_stanza(xml);
}

static BlockList *list_of(const char *items)
{
	BlockList *list = blocking_list_new();
	g_autoptr(Stanza) iq = result(items);

	ck_assert(blocking_list_replace(list, iq, NULL, NULL));
	return list;
}

static void assert_items(const BlockList *list, const char *joined)
{
	g_auto(GStrv) items = blocking_list_dup_items(list);
	g_autofree char *got = g_strjoinv(" ", items);

	ck_assert_str_eq(got, joined);
}

/* ---- the list ------------------------------------------------------------
 */

START_TEST(test_result)
{
	g_autoptr(BlockList) list = blocking_list_new();
	g_autoptr(Stanza) iq = result(
		"<item jid='Romeo@Montague.NET'/><item "
		"jid='iago@shakespeare.lit'/>"
		"<item jid='example.com'/><item jid='romeo@montague.net'/>"
		"<item jid='bad@@jid'/><item/><other jid='x@y'/>");
	bool changed = false;

	ck_assert(blocking_list_replace(list, iq, &changed, NULL));
	ck_assert(changed);
	/* Normalized, distinct; invalid items skipped. */
	assert_items(list,
		     "example.com iago@shakespeare.lit romeo@montague.net");
	ck_assert_uint_eq(blocking_list_get_n_items(list), 3);
	ck_assert(blocking_list_replace(list, iq, &changed, NULL));
	ck_assert(!changed);
}
END_TEST

START_TEST(test_result_empty_and_bad)
{
	g_autoptr(BlockList) list = list_of("<item jid='a@b'/>");
	g_autoptr(Stanza) empty = result("");
	g_autoptr(Stanza) error_iq =
		test_parse_stanza("<iq type='error' id='b1'><blocklist "
				  "xmlns='urn:xmpp:blocking'/>"
				  "</iq>");
	g_autoptr(Stanza) other =
		test_parse_stanza("<iq type='result' id='b1'><blocklist "
				  "xmlns='urn:other'/></iq>");
	g_autoptr(GError) error = NULL;
	bool changed = false;

	ck_assert(!blocking_list_replace(list, other, &changed, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	ck_assert(!blocking_list_replace(list, error_iq, NULL, &error));
	ck_assert_uint_eq(blocking_list_get_n_items(list), 1);
	ck_assert(blocking_list_replace(list, empty, &changed, NULL));
	ck_assert(changed);
	ck_assert_uint_eq(blocking_list_get_n_items(list), 0);
}
END_TEST

START_TEST(test_result_bound)
{
	g_autoptr(GString) items = g_string_new(NULL);
	g_autoptr(BlockList) list = NULL;

	for (unsigned i = 0; i < BLOCKING_MAX_ITEMS + 10; i++)
		g_string_append_printf(items, "<item jid='u%u@example.org'/>",
				       i);
	list = list_of(items->str);
	ck_assert_uint_eq(blocking_list_get_n_items(list), BLOCKING_MAX_ITEMS);
}
END_TEST

/* XEP-0016 §2.1 matching: full, bare, domain/resource, domain. */
START_TEST(test_matching)
{
	g_autoptr(BlockList) list = list_of(
		"<item jid='bob@example.net'/><item jid='spam.example'/>"
		"<item jid='carol@example.com/phone'/>"
		"<item jid='example.org/bot'/>");

	ck_assert(blocking_list_blocks(list, "bob@example.net"));
	ck_assert(blocking_list_blocks(list, "Bob@Example.NET/laptop"));
	ck_assert(blocking_list_blocks(list, "anyone@spam.example/x"));
	ck_assert(blocking_list_blocks(list, "spam.example"));
	ck_assert(blocking_list_blocks(list, "carol@example.com/phone"));
	ck_assert(!blocking_list_blocks(list, "carol@example.com/pc"));
	ck_assert(!blocking_list_blocks(list, "carol@example.com"));
	ck_assert(blocking_list_blocks(list, "dave@example.org/bot"));
	ck_assert(!blocking_list_blocks(list, "dave@example.org/pc"));
	ck_assert(!blocking_list_blocks(list, "other@example.net"));
	ck_assert(!blocking_list_blocks(list, "not a jid@@"));
	ck_assert(!blocking_list_blocks(list, NULL));
	ck_assert(blocking_list_contains(list, "spam.example"));
	ck_assert(!blocking_list_contains(list, "x@spam.example"));
	blocking_list_clear(list);
	ck_assert(!blocking_list_blocks(list, "bob@example.net"));
}
END_TEST

/* ---- pushes ----------------------------------------------------------------
 */

START_TEST(test_push_block)
{
	g_autoptr(BlockList) list = list_of("<item jid='a@x'/>");
	g_autoptr(Stanza) iq = push(NULL, "block",
				    "<item jid='B@X'/><item jid='a@x'/>"
				    "<item jid='b@x'/>");
	g_auto(BlockingPush) p = {0};
	g_autoptr(GPtrArray) blocked = g_ptr_array_new_with_free_func(g_free);

	ck_assert(blocking_parse_push(iq, OWN, &p, NULL));
	ck_assert_int_eq(p.kind, BLOCKING_PUSH_BLOCK);
	ck_assert_uint_eq(p.jids->len, 2);
	ck_assert(blocking_list_apply_push(list, &p, blocked, NULL));
	ck_assert_uint_eq(blocked->len, 1);
	ck_assert_str_eq(blocked->pdata[0], "b@x");
	assert_items(list, "a@x b@x");
	/* Again: nothing changes. */
	ck_assert(!blocking_list_apply_push(list, &p, NULL, NULL));
}
END_TEST

START_TEST(test_push_unblock)
{
	g_autoptr(BlockList) list =
		list_of("<item jid='a@x'/><item jid='b@x'/>");
	g_autoptr(Stanza) iq =
		push(OWN, "unblock", "<item jid='a@x'/><item jid='c@x'/>");
	g_auto(BlockingPush) p = {0};
	g_autoptr(GPtrArray) unblocked = g_ptr_array_new_with_free_func(g_free);

	ck_assert(blocking_parse_push(iq, OWN, &p, NULL));
	ck_assert_int_eq(p.kind, BLOCKING_PUSH_UNBLOCK);
	ck_assert(blocking_list_apply_push(list, &p, NULL, unblocked));
	ck_assert_uint_eq(unblocked->len, 1);
	ck_assert_str_eq(unblocked->pdata[0], "a@x");
	assert_items(list, "b@x");
}
END_TEST

START_TEST(test_push_unblock_all)
{
	g_autoptr(BlockList) list =
		list_of("<item jid='a@x'/><item jid='b@x'/>");
	g_autoptr(Stanza) iq = push(NULL, "unblock", "");
	g_auto(BlockingPush) p = {0};
	g_autoptr(GPtrArray) unblocked = g_ptr_array_new_with_free_func(g_free);

	ck_assert(blocking_parse_push(iq, OWN, &p, NULL));
	ck_assert_int_eq(p.kind, BLOCKING_PUSH_UNBLOCK_ALL);
	ck_assert_uint_eq(p.jids->len, 0);
	ck_assert(blocking_list_apply_push(list, &p, NULL, unblocked));
	ck_assert_uint_eq(unblocked->len, 2);
	ck_assert_uint_eq(blocking_list_get_n_items(list), 0);
	ck_assert(!blocking_list_apply_push(list, &p, NULL, NULL));
}
END_TEST

START_TEST(test_push_untrusted)
{
	static const char *const senders[] = {
		"mallory@evil.example", "example.org",
		"alice@example.org/phone", "bob@example.org"};

	for (size_t i = 0; i < G_N_ELEMENTS(senders); i++) {
		g_autoptr(Stanza) iq = push(senders[i], "unblock", "");
		g_auto(BlockingPush) p = {0};
		g_autoptr(GError) error = NULL;

		ck_assert(!blocking_parse_push(iq, OWN, &p, &error));
		ck_assert(g_error_matches(error, BLOCKING_ERROR,
					  BLOCKING_ERROR_UNTRUSTED));
		ck_assert_ptr_null(p.jids);
	}
}
END_TEST

static const char *const bad_pushes[] = {
	/* a block needs an item (§3.3) */
	"<iq type='set'><block xmlns='urn:xmpp:blocking'/></iq>",
	/* one bad JID must not turn an unblock into unblock-all */
	"<iq type='set'><unblock xmlns='urn:xmpp:blocking'>"
	"<item jid='@@'/></unblock></iq>",
	"<iq type='set'><unblock xmlns='urn:xmpp:blocking'><item/></unblock>"
	"</iq>",
	"<iq type='set'><block xmlns='urn:xmpp:blocking'><item jid='a@x'/>"
	"<item jid=''/></block></iq>",
	/* not a set */
	"<iq type='get'><block xmlns='urn:xmpp:blocking'><item jid='a@x'/>"
	"</block></iq>",
	"<iq type='result'><unblock xmlns='urn:xmpp:blocking'/></iq>",
	/* no command */
	"<iq type='set'><blocklist xmlns='urn:xmpp:blocking'/></iq>",
	"<iq type='set'><block xmlns='urn:other'><item jid='a@x'/></block>"
	"</iq>",
};

START_TEST(test_push_malformed)
{
	g_autoptr(Stanza) iq = test_parse_stanza(bad_pushes[_i]);
	g_auto(BlockingPush) p = {0};
	g_autoptr(GError) error = NULL;

	ck_assert(!blocking_parse_push(iq, OWN, &p, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_BAD_REQUEST));
	ck_assert_ptr_null(p.jids);
}
END_TEST

START_TEST(test_push_bound)
{
	g_autoptr(GString) items = g_string_new(NULL);
	g_autoptr(BlockList) list = NULL;
	g_autoptr(Stanza) iq = NULL;
	g_auto(BlockingPush) p = {0};
	g_autoptr(GError) error = NULL;

	for (unsigned i = 0; i <= BLOCKING_MAX_ITEMS; i++)
		g_string_append_printf(items, "<item jid='u%u@x'/>", i);
	iq = push(NULL, "block", items->str);
	ck_assert(!blocking_parse_push(iq, OWN, &p, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_BAD_REQUEST));
	/* A list that is full keeps what it has. */
	g_string_truncate(items, 0);
	for (unsigned i = 0; i < BLOCKING_MAX_ITEMS; i++)
		g_string_append_printf(items, "<item jid='u%u@x'/>", i);
	list = list_of(items->str);
	stanza_free(iq);
	iq = push(NULL, "block", "<item jid='one-more@x'/>");
	ck_assert(blocking_parse_push(iq, OWN, &p, NULL));
	ck_assert(!blocking_list_apply_push(list, &p, NULL, NULL));
	ck_assert(!blocking_list_contains(list, "one-more@x"));
}
END_TEST

/* ---- what we send
 * ------------------------------------------------------------
 */

START_TEST(test_build_request)
{
	g_autoptr(Stanza) req = blocking_build_request();
	g_autofree char *xml = stanza_to_string(req);

	ck_assert_str_eq(xml, "<blocklist xmlns='urn:xmpp:blocking'/>");
}
END_TEST

START_TEST(test_build_block_unblock)
{
	const char *jids[] = {"Romeo@Montague.NET", "spam.example"};
	g_autoptr(Stanza) block = blocking_build_block(jids, 2, NULL);
	g_autoptr(Stanza) unblock = blocking_build_unblock(jids, 1, NULL);
	g_autoptr(Stanza) all = blocking_build_unblock_all();
	g_autofree char *xb = stanza_to_string(block);
	g_autofree char *xu = stanza_to_string(unblock);
	g_autofree char *xa = stanza_to_string(all);

	ck_assert_str_eq(xb, "<block xmlns='urn:xmpp:blocking'>"
			     "<item jid='romeo@montague.net'/>"
			     "<item jid='spam.example'/></block>");
	ck_assert_str_eq(xu, "<unblock xmlns='urn:xmpp:blocking'>"
			     "<item jid='romeo@montague.net'/></unblock>");
	ck_assert_str_eq(xa, "<unblock xmlns='urn:xmpp:blocking'/>");
}
END_TEST

START_TEST(test_build_invalid)
{
	const char *full[] = {"a@x", "romeo@montague.net/orchard"};
	const char *bad[] = {"not@@valid"};
	const char *null_jid[] = {NULL};
	g_autoptr(GError) error = NULL;

	ck_assert_ptr_null(blocking_build_block(full, 2, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_INVALID_JID));
	ck_assert(strstr(error->message, "orchard") != NULL);
	g_clear_error(&error);
	ck_assert_ptr_null(blocking_build_unblock(bad, 1, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_INVALID_JID));
	g_clear_error(&error);
	ck_assert_ptr_null(blocking_build_block(null_jid, 1, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_INVALID_JID));
	g_clear_error(&error);
	/* An empty list is never "everyone". */
	ck_assert_ptr_null(blocking_build_unblock(full, 0, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_BAD_REQUEST));
	g_clear_error(&error);
	ck_assert_ptr_null(blocking_build_block(NULL, 0, &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_BAD_REQUEST));
}
END_TEST

START_TEST(test_normalize_target)
{
	g_autofree char *bare =
		blocking_normalize_target("Bob@Example.NET", NULL);
	g_autofree char *domain =
		blocking_normalize_target("Example.NET.", NULL);
	g_autoptr(GError) error = NULL;

	ck_assert_str_eq(bare, "bob@example.net");
	ck_assert_str_eq(domain, "example.net");
	ck_assert_ptr_null(blocking_normalize_target("", &error));
	ck_assert(g_error_matches(error, BLOCKING_ERROR,
				  BLOCKING_ERROR_INVALID_JID));
}
END_TEST

/* A push we build and a server echoes back parses to the same items. */
START_TEST(test_build_parse_round_trip)
{
	const char *jids[] = {"a@x", "b@y"};
	g_autoptr(Stanza) block = blocking_build_block(jids, 2, NULL);
	g_autoptr(Stanza) iq = stanza_new("iq", NULL);
	g_autofree char *xml = NULL;
	g_autoptr(Stanza) reparsed = NULL;
	g_auto(BlockingPush) p = {0};

	stanza_set_attr(iq, "type", "set");
	stanza_add_child(iq, g_steal_pointer(&block));
	xml = stanza_to_string(iq);
	reparsed = test_parse_stanza(xml);
	ck_assert(blocking_parse_push(reparsed, OWN, &p, NULL));
	ck_assert_uint_eq(p.jids->len, 2);
	ck_assert_str_eq(p.jids->pdata[1], "b@y");
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"list", test_result},
		{"list", test_result_empty_and_bad},
		{"list", test_result_bound},
		{"list", test_matching},
		{"push", test_push_block},
		{"push", test_push_unblock},
		{"push", test_push_unblock_all},
		{"push", test_push_untrusted},
		{"push", test_push_bound},
		{"push-malformed", test_push_malformed,
		 .loops = G_N_ELEMENTS(bad_pushes)},
		{"build", test_build_request},
		{"build", test_build_block_unblock},
		{"build", test_build_invalid},
		{"build", test_normalize_target},
		{"build", test_build_parse_round_trip},
	};

	return check_suite_run("blocking", cases, G_N_ELEMENTS(cases), 30);
}
