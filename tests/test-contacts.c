/* SPDX-License-Identifier: MIT */
/*
 * The contact table: scripted updates with a hand-advanced clock. Every
 * mutator's return value is checked, since it decides PresenceChanged.
 */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/contacts.h"
#include "tests/support/check-suite.h"

#define ALICE "alice@example.org"
#define BOB "bob@example.org"

/* Shorthand for an available presence. */
#define AVAIL(t, jid, res, show, status, prio)                                 \
	contacts_update_resource((t), (jid), (res), PRESENCE_SHOW_##show,      \
				 (status), (prio))

static void assert_state(const ContactTable *table, const char *jid,
			 PresenceShow show, const char *status)
{
	const Contact *c = contacts_lookup(table, jid);

	ck_assert_msg(c != NULL, "%s not in the table", jid);
	ck_assert_str_eq(presence_show_to_string(contact_get_show(c)),
			 presence_show_to_string(show));
	ck_assert_str_eq(contact_get_status(c), status);
}

/* ---- strings --------------------------------------------------------------
 */

START_TEST(test_subscription_strings)
{
	static const char *const names[] = {"none", "to", "from", "both"};
	RosterSubscription sub;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		ck_assert(roster_subscription_from_string(names[i], &sub));
		ck_assert_int_eq(sub, (int)i);
		ck_assert_str_eq(roster_subscription_to_string(sub), names[i]);
	}
	sub = ROSTER_SUBSCRIPTION_BOTH;
	ck_assert(!roster_subscription_from_string("remove", &sub));
	ck_assert(!roster_subscription_from_string("", &sub));
	ck_assert(!roster_subscription_from_string(NULL, &sub));
	ck_assert_int_eq(sub, ROSTER_SUBSCRIPTION_BOTH);
}
END_TEST

/* ---- aggregation ----------------------------------------------------------
 */

START_TEST(test_show_order)
{
	/* chat > available > dnd > away > xa: add from least to most
	 * available, each addition becomes the aggregate; then remove from
	 * the top, each removal reveals the next. */
	g_autoptr(ContactTable) t = contacts_new();

	(void)contacts_set_roster_item(t, ALICE, NULL, ROSTER_SUBSCRIPTION_BOTH,
				       false, NULL, 0);
	ck_assert(AVAIL(t, ALICE, "r-xa", XA, "xa", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_XA, "xa");
	ck_assert(AVAIL(t, ALICE, "r-away", AWAY, "away", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "away");
	ck_assert(AVAIL(t, ALICE, "r-dnd", DND, "dnd", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_DND, "dnd");
	ck_assert(AVAIL(t, ALICE, "r-av", AVAILABLE, "av", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_AVAILABLE, "av");
	ck_assert(AVAIL(t, ALICE, "r-chat", CHAT, "chat", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_CHAT, "chat");

	/* A less available resource than the top changes nothing, even
	 * with a higher priority and more recent. */
	ck_assert(!AVAIL(t, ALICE, "r-xa", XA, "xa2", 127));
	assert_state(t, ALICE, PRESENCE_SHOW_CHAT, "chat");

	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  5);
	{
		static const PresenceShow order[] = {
			PRESENCE_SHOW_CHAT, PRESENCE_SHOW_AVAILABLE,
			PRESENCE_SHOW_DND, PRESENCE_SHOW_AWAY,
			PRESENCE_SHOW_XA};
		const Contact *c = contacts_lookup(t, ALICE);

		for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
			PresenceShow show;

			ck_assert(contact_get_resource(c, i, NULL, &show, NULL,
						       NULL));
			ck_assert_int_eq(show, order[i]);
		}
		ck_assert(!contact_get_resource(c, 5, NULL, NULL, NULL, NULL));
	}

	ck_assert(contacts_remove_resource(t, ALICE, "r-chat", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_AVAILABLE, "av");
	ck_assert(contacts_remove_resource(t, ALICE, "r-av", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_DND, "dnd");
	ck_assert(contacts_remove_resource(t, ALICE, "r-dnd", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "away");
	ck_assert(contacts_remove_resource(t, ALICE, "r-away", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_XA, "xa2");
	ck_assert(contacts_remove_resource(t, ALICE, "r-xa", "bye"));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "bye");
}
END_TEST

START_TEST(test_priority_tiebreak)
{
	g_autoptr(ContactTable) t = contacts_new();

	ck_assert(AVAIL(t, ALICE, "low", AWAY, "low", -5));
	/* Same show, higher priority, wins even though... */
	ck_assert(AVAIL(t, ALICE, "high", AWAY, "high", 10));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "high");
	/* ...the lower one is updated more recently afterwards. */
	ck_assert(!AVAIL(t, ALICE, "low", AWAY, "low again", -5));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "high");
	/* Raising its priority above the other makes it the aggregate. */
	ck_assert(AVAIL(t, ALICE, "low", AWAY, "low again", 11));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "low again");
	/* Priority never beats availability. */
	ck_assert(AVAIL(t, ALICE, "neg", AVAILABLE, "neg", -128));
	assert_state(t, ALICE, PRESENCE_SHOW_AVAILABLE, "neg");
}
END_TEST

START_TEST(test_recency_tiebreak)
{
	g_autoptr(ContactTable) t = contacts_new();

	ck_assert(AVAIL(t, ALICE, "a", DND, "first", 5));
	ck_assert(AVAIL(t, ALICE, "b", DND, "second", 5));
	assert_state(t, ALICE, PRESENCE_SHOW_DND, "second");
	/* a is updated again: now the most recent among equals. */
	ck_assert(AVAIL(t, ALICE, "a", DND, "first again", 5));
	assert_state(t, ALICE, PRESENCE_SHOW_DND, "first again");
	/* Re-sending b's presence unchanged makes it the most recent: the
	 * aggregate moves to b's status, which is a change. */
	ck_assert(AVAIL(t, ALICE, "b", DND, "second", 5));
	assert_state(t, ALICE, PRESENCE_SHOW_DND, "second");
}
END_TEST

/* CONTRACT.md additions v3: "most recent" is the order of arrival, even
 * for two presences read in one chunk (one clock reading). */
START_TEST(test_arrival_order_in_one_read)
{
	g_autoptr(ContactTable) t = contacts_new();

	ck_assert(AVAIL(t, ALICE, "phone", AWAY, "older", 0));
	ck_assert(AVAIL(t, ALICE, "laptop", AWAY, "newer", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "newer");
	ck_assert(AVAIL(t, BOB, "laptop", AWAY, "older", 0));
	ck_assert(AVAIL(t, BOB, "phone", AWAY, "newer", 0));
	assert_state(t, BOB, PRESENCE_SHOW_AWAY, "newer");
}
END_TEST

START_TEST(test_same_presence_no_change)
{
	g_autoptr(ContactTable) t = contacts_new();

	ck_assert(AVAIL(t, ALICE, "r", AWAY, "lunch", 0));
	ck_assert(!AVAIL(t, ALICE, "r", AWAY, "lunch", 0));
	/* Priority alone is not part of the aggregated (show, status). */
	ck_assert(!AVAIL(t, ALICE, "r", AWAY, "lunch", 3));
	ck_assert(AVAIL(t, ALICE, "r", AWAY, "dinner", 3));
	ck_assert(AVAIL(t, ALICE, "r", XA, "dinner", 3));
	/* NULL and "" status are the same: none. */
	ck_assert(AVAIL(t, ALICE, "r", XA, NULL, 3));
	ck_assert(!AVAIL(t, ALICE, "r", XA, "", 3));
	/* A second resource with the same state: no change. */
	ck_assert(!AVAIL(t, ALICE, "s", XA, "", 3));
	/* Unavailable from a resource we never saw, same offline status as
	 * before: nothing visible changes. */
	ck_assert(!contacts_remove_resource(t, ALICE, "zzz", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_XA, "");
}
END_TEST

START_TEST(test_unavailable_keeps_status)
{
	g_autoptr(ContactTable) t = contacts_new();

	ck_assert(AVAIL(t, ALICE, "r", AVAILABLE, "here", 0));
	ck_assert(contacts_remove_resource(t, ALICE, "r", "gone home"));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "gone home");
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  0);
	/* The same unavailable again: no change. */
	ck_assert(!contacts_remove_resource(t, ALICE, "r", "gone home"));
	/* Another status while offline: a change. */
	ck_assert(contacts_remove_resource(t, ALICE, "r", "asleep"));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "asleep");
	/* Unavailable without status: offline with none. */
	ck_assert(contacts_remove_resource(t, ALICE, NULL, NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "");
	/* Online again, then offline: the latest unavailable's status. */
	ck_assert(AVAIL(t, ALICE, "r", CHAT, "back", 0));
	ck_assert(contacts_remove_resource(t, ALICE, "r", "out"));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "out");
	/* The offline status of one resource while another stays online is
	 * kept for later but not shown now. */
	ck_assert(AVAIL(t, ALICE, "a", AWAY, "a", 0));
	ck_assert(AVAIL(t, ALICE, "b", AWAY, "b", 0));
	ck_assert(contacts_remove_resource(t, ALICE, "b", "b left"));
	assert_state(t, ALICE, PRESENCE_SHOW_AWAY, "a");
	ck_assert(contacts_remove_resource(t, ALICE, "a", NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "");
}
END_TEST

START_TEST(test_bare_unavailable_removes_all)
{
	g_autoptr(ContactTable) t = contacts_new();

	(void)contacts_set_roster_item(t, ALICE, NULL, ROSTER_SUBSCRIPTION_BOTH,
				       false, NULL, 0);
	for (int i = 0; i < 10; i++) {
		g_autofree char *res = g_strdup_printf("res%d", i);

		(void)AVAIL(t, ALICE, res, AVAILABLE, res, i);
	}
	ck_assert(AVAIL(t, ALICE, "", DND, "bare", 0) == false);
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  11);
	ck_assert(contacts_remove_resource(t, ALICE, NULL, "all gone"));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "all gone");
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  0);
	/* The bare JID itself as a resource (""): removed by "" too. */
	ck_assert(AVAIL(t, BOB, "", AWAY, NULL, 0));
	ck_assert(contacts_remove_resource(t, BOB, "", NULL));
	assert_state(t, BOB, PRESENCE_SHOW_OFFLINE, "");
}
END_TEST

START_TEST(test_resource_listing)
{
	g_autoptr(ContactTable) t = contacts_new();
	const char *res, *status;
	PresenceShow show;
	int prio;
	const Contact *c;

	(void)AVAIL(t, ALICE, "phone", AWAY, "on the go", -1);
	(void)AVAIL(t, ALICE, "laptop", CHAT, "talk", 200);
	c = contacts_lookup(t, ALICE);
	ck_assert_str_eq(contact_get_jid(c), ALICE);
	ck_assert(contact_get_resource(c, 0, &res, &show, &status, &prio));
	ck_assert_str_eq(res, "laptop");
	ck_assert_int_eq(show, PRESENCE_SHOW_CHAT);
	ck_assert_str_eq(status, "talk");
	ck_assert_int_eq(prio, 127); /* clamped */
	ck_assert(contact_get_resource(c, 1, &res, &show, &status, &prio));
	ck_assert_str_eq(res, "phone");
	ck_assert_int_eq(show, PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(status, "on the go");
	ck_assert_int_eq(prio, -1);
	ck_assert(!contact_is_in_roster(c));
	ck_assert_str_eq(contact_get_name(c), "");
	ck_assert(contact_get_groups(c)[0] == NULL);
	ck_assert(contacts_lookup(t, BOB) == NULL);
}
END_TEST

START_TEST(test_status_bound)
{
	g_autoptr(ContactTable) t = contacts_new();
	/* 1023 ASCII bytes then a 2-byte character: cut before it. */
	g_autofree char *s = g_strnfill(1023, 'x');
	g_autofree char *status = g_strconcat(s, "é", "tail", NULL);

	ck_assert(AVAIL(t, ALICE, "r", AWAY, status, 0));
	ck_assert_uint_eq(strlen(contact_get_status(contacts_lookup(t, ALICE))),
			  1023);
}
END_TEST

/* ---- bounds ---------------------------------------------------------------
 */

START_TEST(test_stranger_bound)
{
	g_autoptr(ContactTable) t = contacts_new();

	for (unsigned i = 0; i < CONTACTS_MAX_STRANGERS; i++) {
		g_autofree char *jid = g_strdup_printf("s%u@example.org", i);

		ck_assert(AVAIL(t, jid, "r", AVAILABLE, NULL, 0));
	}
	ck_assert_uint_eq(contacts_size(t), CONTACTS_MAX_STRANGERS);
	/* s0 is updated again: s1 is now the least recently updated. */
	ck_assert(!AVAIL(t, "s0@example.org", "r", AVAILABLE, NULL, 0));
	/* A roster item is never dropped and does not count. */
	ck_assert(contacts_set_roster_item(t, "friend@example.org", "F",
					   ROSTER_SUBSCRIPTION_BOTH, false,
					   NULL, 0));
	ck_assert_uint_eq(contacts_get_n_strangers(t), CONTACTS_MAX_STRANGERS);

	/* The 1,001st stranger: reported as its own change; s1 dropped
	 * silently. */
	ck_assert(AVAIL(t, "new@example.org", "r", AWAY, NULL, 0));
	ck_assert_uint_eq(contacts_get_n_strangers(t), CONTACTS_MAX_STRANGERS);
	ck_assert_uint_eq(contacts_size(t), CONTACTS_MAX_STRANGERS + 1);
	ck_assert(contacts_lookup(t, "s1@example.org") == NULL);
	ck_assert(contacts_lookup(t, "s0@example.org") != NULL);
	ck_assert(contacts_lookup(t, "s2@example.org") != NULL);
	ck_assert(contacts_lookup(t, "friend@example.org") != NULL);
	ck_assert(contacts_lookup(t, "new@example.org") != NULL);

	/* An unavailable presence counts as an update too: s2 survives. */
	ck_assert(contacts_remove_resource(t, "s2@example.org", "r", NULL));
	ck_assert(AVAIL(t, "new2@example.org", "r", AWAY, NULL, 0));
	ck_assert(contacts_lookup(t, "s2@example.org") != NULL);
	ck_assert(contacts_lookup(t, "s3@example.org") == NULL);

	/* A stranger that becomes a roster item leaves the bound. */
	ck_assert(!contacts_set_roster_item(t, "s4@example.org", NULL,
					    ROSTER_SUBSCRIPTION_TO, false, NULL,
					    0));
	ck_assert_uint_eq(contacts_get_n_strangers(t),
			  CONTACTS_MAX_STRANGERS - 1);
	ck_assert(AVAIL(t, "new3@example.org", "r", AWAY, NULL, 0));
	ck_assert_uint_eq(contacts_get_n_strangers(t), CONTACTS_MAX_STRANGERS);
	ck_assert(contacts_lookup(t, "s5@example.org") != NULL);
	ck_assert(AVAIL(t, "new4@example.org", "r", AWAY, NULL, 0));
	ck_assert(contacts_lookup(t, "s4@example.org") != NULL);
	ck_assert(contacts_lookup(t, "s5@example.org") == NULL);
}
END_TEST

START_TEST(test_resource_bound)
{
	g_autoptr(ContactTable) t = contacts_new();
	unsigned i;

	(void)contacts_set_roster_item(t, ALICE, NULL, ROSTER_SUBSCRIPTION_BOTH,
				       false, NULL, 0);
	for (i = 0; i < CONTACTS_MAX_RESOURCES; i++) {
		g_autofree char *res = g_strdup_printf("r%u", i);

		(void)AVAIL(t, ALICE, res, XA, NULL, 0);
	}
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  CONTACTS_MAX_RESOURCES);
	/* A 65th resource is ignored, even a more available one. */
	ck_assert(!AVAIL(t, ALICE, "extra", CHAT, "x", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_XA, "");
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  CONTACTS_MAX_RESOURCES);
	/* An existing one still updates. */
	ck_assert(AVAIL(t, ALICE, "r63", CHAT, "y", 0));
	assert_state(t, ALICE, PRESENCE_SHOW_CHAT, "y");
	/* After one leaves, a new one fits again. */
	ck_assert(!contacts_remove_resource(t, ALICE, "r0", NULL));
	ck_assert(!AVAIL(t, ALICE, "extra", XA, NULL, 0));
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, ALICE)),
			  CONTACTS_MAX_RESOURCES);
}
END_TEST

/* Strangers get a few resources; a roster item gets its 64. */
START_TEST(test_stranger_resource_bound)
{
	g_autoptr(ContactTable) t = contacts_new();

	for (unsigned i = 0; i < CONTACTS_MAX_STRANGER_RESOURCES; i++) {
		g_autofree char *res = g_strdup_printf("r%u", i);

		(void)AVAIL(t, BOB, res, AWAY, NULL, 0);
	}
	ck_assert(!AVAIL(t, BOB, "extra", CHAT, "x", 0));
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, BOB)),
			  CONTACTS_MAX_STRANGER_RESOURCES);
	(void)contacts_set_roster_item(t, BOB, NULL, ROSTER_SUBSCRIPTION_BOTH,
				       false, NULL, 0);
	ck_assert(AVAIL(t, BOB, "extra", CHAT, "x", 0));
	ck_assert_uint_eq(contact_get_n_resources(contacts_lookup(t, BOB)),
			  CONTACTS_MAX_STRANGER_RESOURCES + 1);
}
END_TEST

/* Roster names and groups have a byte budget: an item past it is not
 * added (or changed), and removing items gives the room back. */
START_TEST(test_roster_byte_budget)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autofree char *big = g_strnfill(1023, 'n');
	const char *groups[64];
	size_t per, added = 0;

	for (size_t i = 0; i < G_N_ELEMENTS(groups); i++)
		groups[i] = big;
	for (;; added++) {
		g_autofree char *jid =
			g_strdup_printf("c%zu@example.org", added);

		if (!contacts_set_roster_item(t, jid, big,
					      ROSTER_SUBSCRIPTION_BOTH, false,
					      groups, G_N_ELEMENTS(groups)))
			break;
		ck_assert_uint_le(contacts_get_roster_bytes(t),
				  CONTACTS_MAX_ROSTER_BYTES);
	}
	per = contacts_get_roster_bytes(t) / added;
	ck_assert_uint_gt(per, 64 * 1024);
	ck_assert_uint_ge(contacts_get_roster_bytes(t) + per,
			  CONTACTS_MAX_ROSTER_BYTES);
	ck_assert_ptr_null(contacts_lookup(t, "overflow@example.org"));
	/* A small item still fits; a removal frees its bytes. */
	ck_assert(contacts_remove_roster_item(t, "c0@example.org") ||
		  contacts_lookup(t, "c0@example.org") == NULL);
	ck_assert(contacts_set_roster_item(t, "c0@example.org", big,
					   ROSTER_SUBSCRIPTION_BOTH, false,
					   groups, G_N_ELEMENTS(groups)));
	while (added-- > 0) {
		g_autofree char *jid =
			g_strdup_printf("c%zu@example.org", added);

		(void)contacts_remove_roster_item(t, jid);
	}
	ck_assert_uint_eq(contacts_get_roster_bytes(t), 0);
}
END_TEST

/* ---- roster -----------------------------------------------------------------
 */

/* A resource's ver (caps-cache.h's key) lives and dies with the resource. */
START_TEST(test_resource_caps)
{
	g_autoptr(ContactTable) t = contacts_new();
	char *key = g_ref_string_new("sha-1 abc=");
	const Contact *c;

	/* No such resource: no place for it. */
	ck_assert(!contacts_set_resource_caps(t, ALICE, "r", key));
	ck_assert(AVAIL(t, ALICE, "r", AWAY, "x", 0));
	(void)AVAIL(t, ALICE, "s", XA, "y", 0);
	ck_assert(contacts_set_resource_caps(t, ALICE, "r", key));
	ck_assert(contacts_set_resource_caps(t, ALICE, "s", key));
	ck_assert_ptr_eq(contacts_get_resource_caps(t, ALICE, "r"), key);
	ck_assert_ptr_null(contacts_get_resource_caps(t, ALICE, "t"));
	ck_assert_ptr_null(contacts_get_resource_caps(t, BOB, "r"));
	/* An update of the resource keeps it; the order moves it along. */
	(void)AVAIL(t, ALICE, "s", CHAT, "z", 0);
	ck_assert_ptr_eq(contacts_get_resource_caps(t, ALICE, "s"), key);
	c = contacts_lookup(t, ALICE);
	ck_assert_ptr_eq(contact_get_resource_caps(c, 0), key);
	ck_assert_ptr_eq(contact_get_resource_caps(c, 1), key);
	ck_assert_ptr_null(contact_get_resource_caps(c, 2));
	/* Forgotten with NULL, with the resource, and all at once. */
	ck_assert(contacts_set_resource_caps(t, ALICE, "s", NULL));
	ck_assert_ptr_null(contacts_get_resource_caps(t, ALICE, "s"));
	ck_assert(contacts_set_resource_caps(t, ALICE, "s", key));
	contacts_remove_resource(t, ALICE, "s", NULL);
	ck_assert_ptr_null(contacts_get_resource_caps(t, ALICE, "s"));
	ck_assert_ptr_eq(contacts_get_resource_caps(t, ALICE, "r"), key);
	contacts_forget_caps(t);
	ck_assert_ptr_null(contacts_get_resource_caps(t, ALICE, "r"));
	/* The table's references are its own: whatever it still holds
	 * goes with it (LeakSanitizer / valgrind check the count). */
	ck_assert(contacts_set_resource_caps(t, ALICE, "r", key));
	(void)AVAIL(t, BOB, "b", AWAY, NULL, 0);
	ck_assert(contacts_set_resource_caps(t, BOB, "b", key));
	g_ref_string_release(key);
}
END_TEST

START_TEST(test_roster_add_remove)
{
	g_autoptr(ContactTable) t = contacts_new();
	const char *groups[] = {"Friends", "Work, etc."};
	const Contact *c;

	/* A new item is a change: its first state. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, "Alice", ROSTER_SUBSCRIPTION_BOTH, false, groups, 2));
	c = contacts_lookup(t, ALICE);
	ck_assert(contact_is_in_roster(c));
	ck_assert_str_eq(contact_get_name(c), "Alice");
	ck_assert_int_eq(contact_get_subscription(c), ROSTER_SUBSCRIPTION_BOTH);
	ck_assert(!contact_get_ask(c));
	ck_assert_str_eq(contact_get_groups(c)[0], "Friends");
	ck_assert_str_eq(contact_get_groups(c)[1], "Work, etc.");
	ck_assert(contact_get_groups(c)[2] == NULL);
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "");

	/* The item's own strings given back (one block: built before the
	 * old one goes), and the byte budget counts them once. */
	{
		size_t bytes = contacts_get_roster_bytes(t);

		ck_assert(!contacts_set_roster_item(
			t, ALICE, contact_get_name(c), ROSTER_SUBSCRIPTION_BOTH,
			false, contact_get_groups(c), 2));
		c = contacts_lookup(t, ALICE);
		ck_assert_str_eq(contact_get_name(c), "Alice");
		ck_assert_str_eq(contact_get_groups(c)[1], "Work, etc.");
		ck_assert_uint_eq(contacts_get_roster_bytes(t), bytes);
	}

	/* Renaming, regrouping, ask: no presence change. */
	ck_assert(!contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_BOTH, true, NULL, 0));
	c = contacts_lookup(t, ALICE);
	ck_assert_str_eq(contact_get_name(c), "");
	ck_assert(contact_get_groups(c)[0] == NULL);
	ck_assert(contact_get_ask(c));

	/* Removing an offline item without status: no change. */
	ck_assert(!contacts_remove_roster_item(t, ALICE));
	ck_assert(contacts_lookup(t, ALICE) == NULL);
	/* Removing what is not there, or a stranger: nothing. */
	ck_assert(!contacts_remove_roster_item(t, ALICE));
	ck_assert(AVAIL(t, BOB, "r", AWAY, NULL, 0));
	ck_assert(!contacts_remove_roster_item(t, BOB));
	ck_assert(contacts_lookup(t, BOB) != NULL);

	/* Removing an online item: a change (to offline), resources gone. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_TO, false, NULL, 0));
	ck_assert(AVAIL(t, ALICE, "r", AWAY, "x", 0));
	ck_assert(contacts_remove_roster_item(t, ALICE));
	ck_assert(contacts_lookup(t, ALICE) == NULL);

	/* Removing an offline item that shows a status: a change too (the
	 * status goes). */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_TO, false, NULL, 0));
	ck_assert(contacts_remove_resource(t, ALICE, "r", "bye"));
	ck_assert(contacts_remove_roster_item(t, ALICE));

	/* Removing an unknown item: a change. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_NONE, false, NULL, 0));
	assert_state(t, ALICE, PRESENCE_SHOW_UNKNOWN, "");
	ck_assert(contacts_remove_roster_item(t, ALICE));

	/* A stranger becoming a roster item keeps its presence: no change. */
	ck_assert(!contacts_set_roster_item(
		t, BOB, "Bob", ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	assert_state(t, BOB, PRESENCE_SHOW_AWAY, "");
	ck_assert_uint_eq(contacts_get_n_strangers(t), 0);
	ck_assert_uint_eq(contacts_size(t), 1);
}
END_TEST

START_TEST(test_unknown)
{
	g_autoptr(ContactTable) t = contacts_new();

	/* none and from: unknown until available presence arrives. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_NONE, true, NULL, 0));
	assert_state(t, ALICE, PRESENCE_SHOW_UNKNOWN, "");
	ck_assert(contacts_set_roster_item(
		t, BOB, NULL, ROSTER_SUBSCRIPTION_FROM, false, NULL, 0));
	assert_state(t, BOB, PRESENCE_SHOW_UNKNOWN, "");

	/* Subscription approved (none → to): offline, a change. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_TO, false, NULL, 0));
	assert_state(t, ALICE, PRESENCE_SHOW_OFFLINE, "");
	/* And back (to → none): unknown again. */
	ck_assert(contacts_set_roster_item(
		t, ALICE, NULL, ROSTER_SUBSCRIPTION_NONE, false, NULL, 0));
	assert_state(t, ALICE, PRESENCE_SHOW_UNKNOWN, "");

	/* Directed presence from a from-item: known from then on. */
	ck_assert(AVAIL(t, BOB, "r", DND, "busy", 0));
	assert_state(t, BOB, PRESENCE_SHOW_DND, "busy");
	ck_assert(contacts_remove_resource(t, BOB, "r", NULL));
	assert_state(t, BOB, PRESENCE_SHOW_OFFLINE, "");
	/* Subscription changes do not make it unknown again this session. */
	ck_assert(!contacts_set_roster_item(
		t, BOB, NULL, ROSTER_SUBSCRIPTION_NONE, false, NULL, 0));
	assert_state(t, BOB, PRESENCE_SHOW_OFFLINE, "");

	/* An unavailable presence alone does not make an item known. */
	ck_assert(!contacts_remove_resource(t, ALICE, NULL, NULL));
	assert_state(t, ALICE, PRESENCE_SHOW_UNKNOWN, "");
	ck_assert(contacts_remove_resource(t, ALICE, NULL, "note"));
	assert_state(t, ALICE, PRESENCE_SHOW_UNKNOWN, "note");

	/* to and both are never unknown. */
	ck_assert(contacts_set_roster_item(t, "c@example.org", NULL,
					   ROSTER_SUBSCRIPTION_BOTH, false,
					   NULL, 0));
	assert_state(t, "c@example.org", PRESENCE_SHOW_OFFLINE, "");
	/* Strangers neither. */
	ck_assert(contacts_remove_resource(t, "d@example.org", NULL, "hm"));
	assert_state(t, "d@example.org", PRESENCE_SHOW_OFFLINE, "hm");
	/* Unavailable without status from an unseen JID adds nothing. */
	ck_assert(!contacts_remove_resource(t, "e@example.org", "r", NULL));
	ck_assert(contacts_lookup(t, "e@example.org") == NULL);
}
END_TEST

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(test_clear_presence)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GPtrArray) changed = NULL;

	ck_assert(contacts_set_roster_item(
		t, "a@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "b@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "c@x.org", NULL, ROSTER_SUBSCRIPTION_FROM, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "d@x.org", NULL, ROSTER_SUBSCRIPTION_NONE, false, NULL, 0));
	ck_assert(AVAIL(t, "a@x.org", "r", AWAY, NULL, 0));
	/* b offline with a status; c online; d unknown; e a stranger. */
	ck_assert(contacts_remove_resource(t, "b@x.org", "r", "bye"));
	ck_assert(AVAIL(t, "c@x.org", "r", AVAILABLE, NULL, 0));
	ck_assert(AVAIL(t, "e@x.org", "r", CHAT, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "f@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));

	changed = contacts_clear_presence(t);
	g_ptr_array_sort(changed, cmp_str);
	ck_assert_uint_eq(changed->len, 4);
	ck_assert_str_eq(g_ptr_array_index(changed, 0), "a@x.org");
	ck_assert_str_eq(g_ptr_array_index(changed, 1), "b@x.org");
	ck_assert_str_eq(g_ptr_array_index(changed, 2), "c@x.org");
	ck_assert_str_eq(g_ptr_array_index(changed, 3), "e@x.org");
	assert_state(t, "a@x.org", PRESENCE_SHOW_OFFLINE, "");
	assert_state(t, "b@x.org", PRESENCE_SHOW_OFFLINE, "");
	assert_state(t, "c@x.org", PRESENCE_SHOW_UNKNOWN, "");
	assert_state(t, "d@x.org", PRESENCE_SHOW_UNKNOWN, "");
	assert_state(t, "e@x.org", PRESENCE_SHOW_OFFLINE, "");
	assert_state(t, "f@x.org", PRESENCE_SHOW_OFFLINE, "");
	ck_assert_uint_eq(contacts_size(t), 6);

	/* Again: nothing left to change. */
	g_clear_pointer(&changed, g_ptr_array_unref);
	changed = contacts_clear_presence(t);
	ck_assert_uint_eq(changed->len, 0);
}
END_TEST

/*
 * Resync after a new session (hand clock): the burst confirms some
 * resources; only real differences are reported when the rest go.
 */
START_TEST(test_resync_stale)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GPtrArray) changed = NULL;

	ck_assert(contacts_set_roster_item(
		t, "a@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "b@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "c@x.org", NULL, ROSTER_SUBSCRIPTION_FROM, false, NULL, 0));
	ck_assert(contacts_set_roster_item(
		t, "d@x.org", NULL, ROSTER_SUBSCRIPTION_BOTH, false, NULL, 0));
	ck_assert(AVAIL(t, "a@x.org", "r", AWAY, "out", 0));
	ck_assert(AVAIL(t, "b@x.org", "phone", AVAILABLE, NULL, 0));
	ck_assert(AVAIL(t, "b@x.org", "pc", CHAT, "hi", 0));
	ck_assert(AVAIL(t, "c@x.org", "r", AVAILABLE, NULL, 0));
	ck_assert(contacts_remove_resource(t, "d@x.org", NULL, "gone"));

	ck_assert_uint_eq(contacts_mark_stale(t), 4);
	/* Stale resources still count until dropped. */
	assert_state(t, "a@x.org", PRESENCE_SHOW_AWAY, "out");
	assert_state(t, "c@x.org", PRESENCE_SHOW_AVAILABLE, "");
	/* The burst: a exactly as before (no change), b's phone only. */
	ck_assert(!AVAIL(t, "a@x.org", "r", AWAY, "out", 0));
	ck_assert(!AVAIL(t, "b@x.org", "phone", AVAILABLE, NULL, 0));

	changed = contacts_drop_stale(t);
	g_ptr_array_sort(changed, cmp_str);
	/* b lost its chat resource; c is none/from and went: unknown. a and
	 * d (offline before and after, status kept) are not reported. */
	ck_assert_uint_eq(changed->len, 2);
	ck_assert_str_eq(g_ptr_array_index(changed, 0), "b@x.org");
	ck_assert_str_eq(g_ptr_array_index(changed, 1), "c@x.org");
	assert_state(t, "a@x.org", PRESENCE_SHOW_AWAY, "out");
	assert_state(t, "b@x.org", PRESENCE_SHOW_AVAILABLE, "");
	assert_state(t, "c@x.org", PRESENCE_SHOW_UNKNOWN, "");
	assert_state(t, "d@x.org", PRESENCE_SHOW_OFFLINE, "gone");
	ck_assert_uint_eq(
		contact_get_n_resources(contacts_lookup(t, "b@x.org")), 1);

	/* Nothing stale any more: a second drop changes nothing. */
	g_clear_pointer(&changed, g_ptr_array_unref);
	changed = contacts_drop_stale(t);
	ck_assert_uint_eq(changed->len, 0);
	ck_assert_uint_eq(contacts_mark_stale(t), 2);
}
END_TEST

static void count_cb(const Contact *contact, void *user_data)
{
	GHashTable *seen = user_data;

	ck_assert(g_hash_table_add(seen, g_strdup(contact_get_jid(contact))));
}

START_TEST(test_foreach)
{
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	(void)AVAIL(t, ALICE, "r", AWAY, NULL, 0);
	(void)contacts_set_roster_item(t, BOB, NULL, ROSTER_SUBSCRIPTION_TO,
				       false, NULL, 0);
	contacts_foreach(t, count_cb, seen);
	ck_assert_uint_eq(g_hash_table_size(seen), 2);
	ck_assert(g_hash_table_contains(seen, ALICE));
	ck_assert(g_hash_table_contains(seen, BOB));
}
END_TEST

START_TEST(test_many_contacts)
{
	/* Many roster items, updates and removals in random order checked
	 * against a simple model: the table's answers and change flags. */
	g_autoptr(ContactTable) t = contacts_new();
	g_autoptr(GRand) rand = g_rand_new_with_seed(42);

	for (int i = 0; i < 2000; i++) {
		g_autofree char *jid = g_strdup_printf("u%d@example.org", i);

		ck_assert(contacts_set_roster_item(t, jid, NULL,
						   ROSTER_SUBSCRIPTION_BOTH,
						   false, NULL, 0));
	}
	for (int round = 0; round < 20000; round++) {
		int i = g_rand_int_range(rand, 0, 2000);
		g_autofree char *jid = g_strdup_printf("u%d@example.org", i);
		const Contact *c = contacts_lookup(t, jid);
		PresenceShow before = contact_get_show(c);
		g_autofree char *before_status =
			g_strdup(contact_get_status(c));
		bool changed;

		if (g_rand_boolean(rand)) {
			PresenceShow show = (PresenceShow)g_rand_int_range(
				rand, PRESENCE_SHOW_XA, PRESENCE_SHOW_CHAT + 1);
			g_autofree char *res = g_strdup_printf(
				"r%d", g_rand_int_range(rand, 0, 3));
			g_autofree char *status = g_strdup_printf(
				"s%d", g_rand_int_range(rand, 0, 2));

			changed = contacts_update_resource(
				t, jid, res, show, status,
				g_rand_int_range(rand, -2, 3));
		} else {
			g_autofree char *res = g_strdup_printf(
				"r%d", g_rand_int_range(rand, 0, 3));

			changed = contacts_remove_resource(t, jid, res, NULL);
		}
		c = contacts_lookup(t, jid);
		ck_assert_int_eq(changed,
				 before != contact_get_show(c) ||
					 strcmp(before_status,
						contact_get_status(c)) != 0);
	}
	ck_assert_uint_eq(contacts_size(t), 2000);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"subscription-strings", test_subscription_strings},
		{"show-order", test_show_order},
		{"priority-tiebreak", test_priority_tiebreak},
		{"recency-tiebreak", test_recency_tiebreak},
		{"arrival-order-in-one-read", test_arrival_order_in_one_read},
		{"same-presence-no-change", test_same_presence_no_change},
		{"unavailable-keeps-status", test_unavailable_keeps_status},
		{"bare-unavailable-removes-all",
		 test_bare_unavailable_removes_all},
		{"resource-listing", test_resource_listing},
		{"status-bound", test_status_bound},
		{"stranger-bound", test_stranger_bound},
		{"resource-bound", test_resource_bound},
		{"resource-bound", test_stranger_resource_bound},
		{"roster-byte-budget", test_roster_byte_budget},
		{"resource-caps", test_resource_caps},
		{"roster-add-remove", test_roster_add_remove},
		{"unknown", test_unknown},
		{"clear-presence", test_clear_presence},
		{"resync-stale", test_resync_stale},
		{"foreach", test_foreach},
		{"many-contacts", test_many_contacts},
	};

	return check_suite_run("contacts", cases, G_N_ELEMENTS(cases), 30);
}
