/* SPDX-License-Identifier: MIT */
/*
 * The table of pending subscription requests (daemon/subscription-requests.c):
 * order of arrival, insert-or-replace, remove, and the bound.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "daemon/subscription-requests.h"
#include "tests/support/check-suite.h"

/* "jid=message;jid=message;" in order. */
static char *dump(const SubscriptionRequests *r)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < subscription_requests_get_count(r); i++)
		g_string_append_printf(out, "%s=%s;",
				       subscription_requests_get_jid(r, i),
				       subscription_requests_get_message(r, i));
	return g_string_free(out, FALSE);
}

#define ck_assert_dump(r, expected)                                            \
	do {                                                                   \
		g_autofree char *got_ = dump(r);                               \
		ck_assert_str_eq(got_, expected);                              \
	} while (0)

START_TEST(test_insert_in_order)
{
	g_autoptr(SubscriptionRequests) r = subscription_requests_new(10);

	ck_assert_uint_eq(subscription_requests_get_count(r), 0);
	ck_assert(subscription_requests_insert(r, "a@x", "hi"));
	ck_assert(subscription_requests_insert(r, "b@x", NULL));
	ck_assert(subscription_requests_insert(r, "c@x", ""));
	ck_assert_dump(r, "a@x=hi;b@x=;c@x=;");
	ck_assert(subscription_requests_has(r, "b@x"));
	ck_assert(!subscription_requests_has(r, "d@x"));
}
END_TEST

START_TEST(test_replace_keeps_place)
{
	g_autoptr(SubscriptionRequests) r = subscription_requests_new(10);

	(void)subscription_requests_insert(r, "a@x", "one");
	(void)subscription_requests_insert(r, "b@x", "two");
	/* A repeated request replaces the message (CONTRACT.md). */
	ck_assert(!subscription_requests_insert(r, "a@x", "again"));
	ck_assert_dump(r, "a@x=again;b@x=two;");
	ck_assert(!subscription_requests_insert(r, "b@x", NULL));
	ck_assert_dump(r, "a@x=again;b@x=;");
}
END_TEST

static bool drop_b(const char *jid, void *user_data)
{
	int *calls = user_data;

	(*calls)++;
	return jid[0] == 'b';
}

START_TEST(test_remove)
{
	g_autoptr(SubscriptionRequests) r = subscription_requests_new(10);
	int calls = 0;

	(void)subscription_requests_insert(r, "a@x", "1");
	(void)subscription_requests_insert(r, "b@x", "2");
	(void)subscription_requests_insert(r, "c@x", "3");
	(void)subscription_requests_insert(r, "b2@x", "4");
	ck_assert(subscription_requests_remove(r, "a@x"));
	ck_assert(!subscription_requests_remove(r, "a@x"));
	ck_assert_dump(r, "b@x=2;c@x=3;b2@x=4;");
	subscription_requests_remove_if(r, drop_b, &calls);
	ck_assert_int_eq(calls, 3);
	ck_assert_dump(r, "c@x=3;");
	subscription_requests_clear(r);
	ck_assert_uint_eq(subscription_requests_get_count(r), 0);
	/* Usable after clearing. */
	ck_assert(subscription_requests_insert(r, "a@x", "5"));
	ck_assert_dump(r, "a@x=5;");
}
END_TEST

START_TEST(test_bound_drops_oldest)
{
	g_autoptr(SubscriptionRequests) r = subscription_requests_new(3);

	(void)subscription_requests_insert(r, "a@x", "1");
	(void)subscription_requests_insert(r, "b@x", "2");
	(void)subscription_requests_insert(r, "c@x", "3");
	/* Full: a replacement drops nothing. */
	ck_assert(!subscription_requests_insert(r, "a@x", "1b"));
	ck_assert_dump(r, "a@x=1b;b@x=2;c@x=3;");
	/* A new one drops the oldest. */
	ck_assert(subscription_requests_insert(r, "d@x", "4"));
	ck_assert_dump(r, "b@x=2;c@x=3;d@x=4;");
	ck_assert(!subscription_requests_has(r, "a@x"));
}
END_TEST

START_TEST(test_bound_daemon)
{
	g_autoptr(SubscriptionRequests) r =
		subscription_requests_new(SUBSCRIPTION_REQUESTS_MAX);

	for (unsigned i = 0; i < SUBSCRIPTION_REQUESTS_MAX + 5; i++) {
		g_autofree char *jid = g_strdup_printf("u%u@example.net", i);

		(void)subscription_requests_insert(r, jid, "hi");
	}
	ck_assert_uint_eq(subscription_requests_get_count(r),
			  SUBSCRIPTION_REQUESTS_MAX);
	ck_assert_str_eq(subscription_requests_get_jid(r, 0), "u5@example.net");
	ck_assert(!subscription_requests_has(r, "u4@example.net"));
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"insert", test_insert_in_order},
		{"insert", test_replace_keeps_place},
		{"remove", test_remove},
		{"bound", test_bound_drops_oldest},
		{"bound", test_bound_daemon},
	};

	return check_suite_run("subscription-requests", cases,
			       G_N_ELEMENTS(cases), 30);
}
