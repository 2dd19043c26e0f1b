/* SPDX-License-Identifier: MIT */
/*
 * Screen lock → own presence (CONTRACT.md away-on-lock): the pure decisions
 * of daemon/lock-policy.c, then the same rules through the Service
 * (service_set_locked, SetPresence while locked, suspend/resume) without a
 * server.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "daemon/lock-policy.h"
#include "daemon/service.h"
#include "tests/support/check-suite.h"

/* ---- LockSources -------------------------------------------------------- */

START_TEST(test_sources_any)
{
	LockSources s = LOCK_SOURCES_INIT;

	ck_assert(!lock_sources_is_locked(&s));
	/* First source locks: the aggregate changes. */
	ck_assert(lock_sources_set(&s, 0, true));
	ck_assert(lock_sources_is_locked(&s));
	/* Repeated: nothing changes. */
	ck_assert(!lock_sources_set(&s, 0, true));
	/* A second agrees: nothing changes. */
	ck_assert(!lock_sources_set(&s, 2, true));
	ck_assert(lock_sources_source_is_locked(&s, 2));
	/* One unlocks, the other still locked: nothing changes. */
	ck_assert(!lock_sources_set(&s, 0, false));
	ck_assert(lock_sources_is_locked(&s));
	ck_assert(!lock_sources_set(&s, 0, false));
	/* The last unlocks. */
	ck_assert(lock_sources_set(&s, 2, false));
	ck_assert(!lock_sources_is_locked(&s));
	/* Unlocked while unlocked: nothing. */
	ck_assert(!lock_sources_set(&s, 1, false));
	ck_assert(!lock_sources_source_is_locked(&s, 1));
	ck_assert(!lock_sources_source_is_locked(&s, LOCK_SOURCES_MAX));
	ck_assert(lock_sources_set(&s, LOCK_SOURCES_MAX - 1, true));
	ck_assert(lock_sources_is_locked(&s));
}
END_TEST

/* ---- LockPolicy --------------------------------------------------------- */

START_TEST(test_lock_unlock_restores)
{
	static const PresenceShow replaced[] = {PRESENCE_SHOW_AVAILABLE,
						PRESENCE_SHOW_CHAT};

	for (size_t i = 0; i < G_N_ELEMENTS(replaced); i++) {
		g_autoptr(LockPolicy) p = lock_policy_new();
		g_autofree char *status = NULL;
		PresenceShow show = PRESENCE_SHOW_OFFLINE;

		ck_assert(!lock_policy_is_locked(p));
		ck_assert_int_eq(lock_policy_get_idle_since(p), 0);
		ck_assert(lock_policy_lock(p, true, replaced[i], "writing",
					   1700000000));
		ck_assert(lock_policy_is_locked(p));
		ck_assert(lock_policy_is_away_applied(p));
		ck_assert_int_eq(lock_policy_get_idle_since(p), 1700000000);
		ck_assert(lock_policy_unlock(p, &show, &status));
		ck_assert_int_eq(show, replaced[i]);
		ck_assert_str_eq(status, "writing");
		ck_assert(!lock_policy_is_locked(p));
		ck_assert_int_eq(lock_policy_get_idle_since(p), 0);
	}
}
END_TEST

START_TEST(test_never_over_user_choice)
{
	static const PresenceShow kept[] = {PRESENCE_SHOW_AWAY,
					    PRESENCE_SHOW_XA, PRESENCE_SHOW_DND,
					    PRESENCE_SHOW_OFFLINE};

	for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
		g_autoptr(LockPolicy) p = lock_policy_new();
		char *status = NULL;
		PresenceShow show = PRESENCE_SHOW_CHAT;

		ck_assert(!lock_policy_lock(p, true, kept[i], "x", 10));
		ck_assert(lock_policy_is_locked(p));
		ck_assert(!lock_policy_is_away_applied(p));
		ck_assert_int_eq(lock_policy_get_idle_since(p), 0);
		ck_assert(!lock_policy_unlock(p, &show, &status));
		ck_assert_int_eq(show, PRESENCE_SHOW_CHAT); /* untouched */
		ck_assert_ptr_null(status);
		ck_assert(!lock_policy_is_locked(p));
	}
}
END_TEST

START_TEST(test_disabled)
{
	g_autoptr(LockPolicy) p = lock_policy_new();
	char *status = NULL;
	PresenceShow show;

	ck_assert(!lock_policy_lock(p, false, PRESENCE_SHOW_AVAILABLE, "", 5));
	ck_assert(lock_policy_is_locked(p));
	ck_assert(!lock_policy_unlock(p, &show, &status));
	ck_assert_ptr_null(status);
}
END_TEST

START_TEST(test_repeated_lock_keeps_first)
{
	g_autoptr(LockPolicy) p = lock_policy_new();
	g_autofree char *status = NULL;
	PresenceShow show;

	ck_assert(lock_policy_lock(p, true, PRESENCE_SHOW_CHAT, "a", 100));
	/* What the service shows now is away: a repeated lock must not save
	 * it, or the unlock would "restore" away. */
	ck_assert(!lock_policy_lock(p, true, PRESENCE_SHOW_AWAY, "a", 200));
	ck_assert_int_eq(lock_policy_get_idle_since(p), 100);
	ck_assert(lock_policy_unlock(p, &show, &status));
	ck_assert_int_eq(show, PRESENCE_SHOW_CHAT);
	ck_assert_str_eq(status, "a");
	/* A repeated unlock: nothing. */
	g_clear_pointer(&status, g_free);
	ck_assert(!lock_policy_unlock(p, &show, &status));
	ck_assert_ptr_null(status);
}
END_TEST

START_TEST(test_set_while_locked_wins)
{
	g_autoptr(LockPolicy) p = lock_policy_new();
	g_autofree char *status = NULL;
	PresenceShow show = PRESENCE_SHOW_XA;

	ck_assert(lock_policy_lock(p, true, PRESENCE_SHOW_AVAILABLE, "s", 1));
	lock_policy_presence_set(p);
	ck_assert(lock_policy_is_locked(p));
	ck_assert(!lock_policy_is_away_applied(p));
	ck_assert_int_eq(lock_policy_get_idle_since(p), 0);
	ck_assert(!lock_policy_unlock(p, &show, &status));
	ck_assert_int_eq(show, PRESENCE_SHOW_XA);
	ck_assert_ptr_null(status);

	/* Set before any lock: the next lock works as usual. */
	lock_policy_presence_set(p);
	ck_assert(lock_policy_lock(p, true, PRESENCE_SHOW_AVAILABLE, NULL, 2));
	ck_assert(lock_policy_unlock(p, &show, &status));
	ck_assert_int_eq(show, PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(status, "");
}
END_TEST

/* ---- through the Service (no server: the desired presence) ------------ */

typedef struct {
	unsigned show_changes;
	unsigned status_changes;
	unsigned done;
} Seen;

static void on_property(void *user_data, const char *name)
{
	Seen *seen = user_data;

	if (strcmp(name, "Show") == 0)
		seen->show_changes++;
	else if (strcmp(name, "Status") == 0)
		seen->status_changes++;
}

static const ServiceObserver observer = {.property_changed = on_property};

static Service *make_service(PresenceShow show, const char *status,
			     bool away_on_lock, Seen *seen)
{
	Settings *c = g_new0(Settings, 1);
	Service *s;

	c->path = g_strdup("/nonexistent/presenced.conf");
	c->jid = g_strdup("alice@example.org");
	c->password = g_strdup("pw");
	c->server = g_strdup("127.0.0.1");
	c->port = 9; /* never started except by resume */
	c->show = show;
	c->status = g_strdup(status);
	c->priority = 3;
	c->away_on_lock = away_on_lock;
	s = service_new(c);
	service_set_observer(s, &observer, seen);
	return s;
}

START_TEST(test_service_lock_cycle)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_CHAT, "here", true, &seen);

	service_set_locked(s, true);
	ck_assert(service_is_locked(s));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_status(s), "here");
	ck_assert_int_eq(service_get_priority(s), 3);
	ck_assert_uint_eq(seen.show_changes, 1);
	ck_assert_uint_eq(seen.status_changes, 0);
	service_set_locked(s, true); /* repeated */
	ck_assert_uint_eq(seen.show_changes, 1);
	service_set_locked(s, false);
	ck_assert(!service_is_locked(s));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_CHAT);
	ck_assert_str_eq(service_get_status(s), "here");
	ck_assert_uint_eq(seen.show_changes, 2);
	service_set_locked(s, false);
	ck_assert_uint_eq(seen.show_changes, 2);
	service_free(s);
}
END_TEST

START_TEST(test_service_dnd_and_disabled)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_DND, "busy", true, &seen);

	service_set_locked(s, true);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	service_set_locked(s, false);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	ck_assert_uint_eq(seen.show_changes, 0);
	service_free(s);

	s = make_service(PRESENCE_SHOW_AVAILABLE, "", false, &seen);
	service_set_locked(s, true);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	service_set_locked(s, false);
	ck_assert_uint_eq(seen.show_changes, 0);
	service_free(s);
}
END_TEST

START_TEST(test_service_set_while_locked)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_AVAILABLE, "a", true, &seen);

	service_set_locked(s, true);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	/* The same show and status as the lock's: still the user's choice. */
	ck_assert(service_set_presence(s, "away", "a", NULL, NULL));
	service_set_locked(s, false);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_status(s), "a");

	/* A rejected SetPresence changes nothing, the lock's away included. */
	ck_assert(service_set_presence(s, "available", "b", NULL, NULL));
	service_set_locked(s, true);
	ck_assert(!service_set_presence(s, "bogus", "c", NULL, NULL));
	service_set_locked(s, false);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_status(s), "b");
	service_free(s);
}
END_TEST

static void on_done(void *user_data)
{
	((Seen *)user_data)->done++;
}

START_TEST(test_service_suspend_resume)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_AVAILABLE, "", true, &seen);

	/* No session: done at once, still offline. */
	service_suspend(s, on_done, &seen);
	ck_assert_uint_eq(seen.done, 1);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	/* Wake: connecting at once, no back-off timer. */
	service_resume(s);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_CONNECTING);
	service_free(s);

	/* Offline by choice: waking changes nothing. */
	s = make_service(PRESENCE_SHOW_OFFLINE, "", true, &seen);
	service_suspend(s, on_done, &seen);
	ck_assert_uint_eq(seen.done, 2);
	service_resume(s);
	ck_assert_int_eq(service_get_state(s), SERVICE_STATE_OFFLINE);
	service_free(s);
}
END_TEST

int main(void)
{
	const CheckCase cases[] = {
		{"sources-any", test_sources_any},
		{"lock-unlock-restores", test_lock_unlock_restores},
		{"never-over-user-choice", test_never_over_user_choice},
		{"disabled", test_disabled},
		{"repeated-lock-keeps-first", test_repeated_lock_keeps_first},
		{"set-while-locked-wins", test_set_while_locked_wins},
		{"service-lock-cycle", test_service_lock_cycle},
		{"service-dnd-and-disabled", test_service_dnd_and_disabled},
		{"service-set-while-locked", test_service_set_while_locked},
		{"service-suspend-resume", test_service_suspend_resume},
	};

	return check_suite_run("lock-policy", cases, G_N_ELEMENTS(cases), 30);
}
