/* SPDX-License-Identifier: MIT */
/*
 * Desktop causes → own presence (CONTRACT.md away-on-lock and "Desktop:
 * idle, Do Not Disturb, more screen lockers"): the pure decisions of
 * daemon/desktop-policy.c, checked against a small independent model for
 * every pair of causes in both orders, with and without a manual change
 * in between; then the same rules through the Service (service_set_locked,
 * _dnd, _idle, SetPresence meanwhile, suspend/resume) without a server.
 */
#include "config.h"

#include <check.h>
#include <string.h>

#include "daemon/desktop-policy.h"
#include "daemon/service.h"
#include "tests/support/check-suite.h"

/* ---- DesktopSources ----------------------------------------------------- */

START_TEST(test_sources_any)
{
	DesktopSources s = DESKTOP_SOURCES_INIT;

	ck_assert(!desktop_sources_is_on(&s));
	/* First source on: the aggregate changes. */
	ck_assert(desktop_sources_set(&s, 0, true));
	ck_assert(desktop_sources_is_on(&s));
	/* Repeated: nothing changes. */
	ck_assert(!desktop_sources_set(&s, 0, true));
	/* A second agrees: nothing changes. */
	ck_assert(!desktop_sources_set(&s, 2, true));
	ck_assert(desktop_sources_source_is_on(&s, 2));
	/* One goes off, the other still on: nothing changes. */
	ck_assert(!desktop_sources_set(&s, 0, false));
	ck_assert(desktop_sources_is_on(&s));
	ck_assert(!desktop_sources_set(&s, 0, false));
	/* The last goes off. */
	ck_assert(desktop_sources_set(&s, 2, false));
	ck_assert(!desktop_sources_is_on(&s));
	ck_assert(!desktop_sources_set(&s, 1, false));
	ck_assert(!desktop_sources_source_is_on(&s, 1));
	ck_assert(!desktop_sources_source_is_on(&s, DESKTOP_SOURCES_MAX));
	ck_assert(desktop_sources_set(&s, DESKTOP_SOURCES_MAX - 1, true));
	ck_assert(desktop_sources_is_on(&s));
}
END_TEST

/* ---- idle thresholds ---------------------------------------------------- */

#define MIN_MS (60u * 1000u)

START_TEST(test_idle_levels)
{
	ck_assert_int_eq(desktop_idle_level(0, 5, 15), DESKTOP_IDLE_NONE);
	ck_assert_int_eq(desktop_idle_level(5 * MIN_MS - 1, 5, 15),
			 DESKTOP_IDLE_NONE);
	ck_assert_int_eq(desktop_idle_level(5 * MIN_MS, 5, 15),
			 DESKTOP_IDLE_AWAY);
	ck_assert_int_eq(desktop_idle_level(15 * MIN_MS, 5, 15),
			 DESKTOP_IDLE_XA);
	/* 0 turns a level off. */
	ck_assert_int_eq(desktop_idle_level(60 * MIN_MS, 0, 0),
			 DESKTOP_IDLE_NONE);
	ck_assert_int_eq(desktop_idle_level(60 * MIN_MS, 5, 0),
			 DESKTOP_IDLE_AWAY);
	ck_assert_int_eq(desktop_idle_level(10 * MIN_MS, 0, 10),
			 DESKTOP_IDLE_XA);
	/* xa-after below away-after: xa wins once reached. */
	ck_assert_int_eq(desktop_idle_level(10 * MIN_MS, 20, 10),
			 DESKTOP_IDLE_XA);
}
END_TEST

START_TEST(test_idle_next)
{
	ck_assert_uint_eq(desktop_idle_next_ms(0, 5, 15), 5 * MIN_MS);
	ck_assert_uint_eq(desktop_idle_next_ms(5 * MIN_MS, 5, 15), 15 * MIN_MS);
	ck_assert_uint_eq(desktop_idle_next_ms(15 * MIN_MS, 5, 15), 0);
	ck_assert_uint_eq(desktop_idle_next_ms(0, 0, 0), 0);
	ck_assert_uint_eq(desktop_idle_next_ms(0, 0, 15), 15 * MIN_MS);
	ck_assert_uint_eq(desktop_idle_next_ms(0, 5, 0), 5 * MIN_MS);
	ck_assert_uint_eq(desktop_idle_next_ms(6 * MIN_MS, 5, 0), 0);
	ck_assert_uint_eq(desktop_idle_next_ms(0, 20, 10), 10 * MIN_MS);
}
END_TEST

/* ---- DesktopPolicy: basics ---------------------------------------------- */

START_TEST(test_names)
{
	ck_assert_str_eq(desktop_cause_to_string(DESKTOP_CAUSE_USER), "user");
	ck_assert_str_eq(desktop_cause_to_string(DESKTOP_CAUSE_DND), "dnd");
	ck_assert_str_eq(desktop_cause_to_string(DESKTOP_CAUSE_LOCK), "lock");
	ck_assert_str_eq(desktop_cause_to_string(DESKTOP_CAUSE_IDLE), "idle");
}
END_TEST

START_TEST(test_lock_unlock_restores)
{
	static const PresenceShow replaced[] = {PRESENCE_SHOW_AVAILABLE,
						PRESENCE_SHOW_CHAT};

	for (size_t i = 0; i < G_N_ELEMENTS(replaced); i++) {
		g_autoptr(DesktopPolicy) p =
			desktop_policy_new(replaced[i], "writing");

		ck_assert_int_eq(desktop_policy_get_cause(p),
				 DESKTOP_CAUSE_USER);
		ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);
		ck_assert(desktop_policy_set_locked(p, true, 1700000000));
		ck_assert(desktop_policy_is_locked(p));
		ck_assert_int_eq(desktop_policy_get_show(p),
				 PRESENCE_SHOW_AWAY);
		ck_assert_str_eq(desktop_policy_get_status(p), "writing");
		ck_assert_int_eq(desktop_policy_get_cause(p),
				 DESKTOP_CAUSE_LOCK);
		ck_assert_int_eq(desktop_policy_get_idle_since(p), 1700000000);
		/* A repeated lock changes nothing, the first time stays. */
		ck_assert(!desktop_policy_set_locked(p, true, 1700000099));
		ck_assert_int_eq(desktop_policy_get_idle_since(p), 1700000000);
		ck_assert(desktop_policy_set_locked(p, false, 0));
		ck_assert_int_eq(desktop_policy_get_show(p), replaced[i]);
		ck_assert_str_eq(desktop_policy_get_status(p), "writing");
		ck_assert_int_eq(desktop_policy_get_cause(p),
				 DESKTOP_CAUSE_USER);
		ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);
		ck_assert(!desktop_policy_set_locked(p, false, 0));
	}
}
END_TEST

/* No cause ever replaces away, xa, dnd or offline set by the user. */
START_TEST(test_never_over_user_choice)
{
	static const PresenceShow kept[] = {PRESENCE_SHOW_AWAY,
					    PRESENCE_SHOW_XA, PRESENCE_SHOW_DND,
					    PRESENCE_SHOW_OFFLINE};

	for (size_t i = 0; i < G_N_ELEMENTS(kept); i++) {
		g_autoptr(DesktopPolicy) p = desktop_policy_new(kept[i], "x");

		ck_assert(!desktop_policy_set_locked(p, true, 10));
		ck_assert(!desktop_policy_set_dnd(p, true));
		ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_AWAY, 10));
		ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_XA, 10));
		ck_assert_int_eq(desktop_policy_get_show(p), kept[i]);
		ck_assert_int_eq(desktop_policy_get_cause(p),
				 DESKTOP_CAUSE_USER);
		ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);
		ck_assert(!desktop_policy_set_locked(p, false, 0));
		ck_assert(!desktop_policy_set_dnd(p, false));
		ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_NONE, 0));
		ck_assert_int_eq(desktop_policy_get_show(p), kept[i]);
	}
}
END_TEST

START_TEST(test_options_off)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "");
	DesktopOptions off = {false, false};
	DesktopOptions on = {true, true};

	ck_assert(!desktop_policy_set_options(p, &off));
	ck_assert(!desktop_policy_set_locked(p, true, 5));
	ck_assert(!desktop_policy_set_dnd(p, true));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_AVAILABLE);
	/* Idle has no switch here: away-after = 0 never reports a level. */
	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_AWAY, 7));
	ck_assert_int_eq(desktop_policy_get_cause(p), DESKTOP_CAUSE_IDLE);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 7);
	/* A reload that turns them on applies the causes in force. */
	ck_assert(desktop_policy_set_options(p, &on));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_DND);
	ck_assert_int_eq(desktop_policy_get_cause(p), DESKTOP_CAUSE_DND);
	/* Locked since 5, idle since 7: the earlier. */
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 5);
}
END_TEST

/* away → xa within one idle period, then back: one stamp throughout. */
START_TEST(test_idle_escalates)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_CHAT, "c");

	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_AWAY, 100));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_AWAY);
	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_XA, 999));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_XA);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 100);
	ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_XA, 1000));
	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_NONE, 0));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_CHAT);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);

	/* Set aside while away: the xa of the same period stays aside. */
	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_AWAY, 200));
	ck_assert(desktop_policy_set_user(p, PRESENCE_SHOW_AVAILABLE, "m"));
	ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_XA, 200));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_AVAILABLE);
	ck_assert(!desktop_policy_set_idle(p, DESKTOP_IDLE_NONE, 0));
	/* The next period applies again. */
	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_AWAY, 300));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(desktop_policy_get_status(p), "m");
}
END_TEST

/* ---- every pair of causes, against a model ------------------------------ */

typedef enum {
	C_DND,
	C_LOCK,
	C_IDLE_AWAY,
	C_IDLE_XA,
	N_CAUSES,
} Cause;

static const char *const cause_names[] = {"dnd", "lock", "idle-away",
					  "idle-xa"};

/* What the contract says is shown for a set of active causes. */
static void model(const bool active[N_CAUSES], PresenceShow *show,
		  DesktopCause *cause)
{
	if (active[C_DND]) {
		*show = PRESENCE_SHOW_DND;
		*cause = DESKTOP_CAUSE_DND;
	} else if (active[C_IDLE_XA]) {
		*show = PRESENCE_SHOW_XA;
		*cause = DESKTOP_CAUSE_IDLE;
	} else if (active[C_LOCK]) {
		*show = PRESENCE_SHOW_AWAY;
		*cause = DESKTOP_CAUSE_LOCK;
	} else if (active[C_IDLE_AWAY]) {
		*show = PRESENCE_SHOW_AWAY;
		*cause = DESKTOP_CAUSE_IDLE;
	} else {
		*show = PRESENCE_SHOW_AVAILABLE;
		*cause = DESKTOP_CAUSE_USER;
	}
}

static bool apply(DesktopPolicy *p, Cause c, bool on)
{
	switch (c) {
	case C_DND:
		return desktop_policy_set_dnd(p, on);
	case C_LOCK:
		return desktop_policy_set_locked(p, on, 1000);
	case C_IDLE_AWAY:
		return desktop_policy_set_idle(
			p, on ? DESKTOP_IDLE_AWAY : DESKTOP_IDLE_NONE, 900);
	case C_IDLE_XA:
		return desktop_policy_set_idle(
			p, on ? DESKTOP_IDLE_XA : DESKTOP_IDLE_NONE, 900);
	case N_CAUSES:
		break;
	}
	g_assert_not_reached();
}

static void expect(const DesktopPolicy *p, const bool active[N_CAUSES],
		   const char *status, const char *step, Cause a, Cause b)
{
	PresenceShow show;
	DesktopCause cause;

	model(active, &show, &cause);
	ck_assert_msg(desktop_policy_get_show(p) == show &&
			      desktop_policy_get_cause(p) == cause,
		      "%s then %s, %s: shows %s (%s), expected %s (%s)",
		      cause_names[a], cause_names[b], step,
		      presence_show_to_string(desktop_policy_get_show(p)),
		      desktop_cause_to_string(desktop_policy_get_cause(p)),
		      presence_show_to_string(show),
		      desktop_cause_to_string(cause));
	ck_assert_str_eq(desktop_policy_get_status(p), status);
	ck_assert_msg((desktop_policy_get_idle_since(p) != 0) ==
			      (cause == DESKTOP_CAUSE_LOCK ||
			       cause == DESKTOP_CAUSE_IDLE ||
			       (cause == DESKTOP_CAUSE_DND &&
				(active[C_LOCK] || active[C_IDLE_AWAY] ||
				 active[C_IDLE_XA]))),
		      "%s then %s, %s: idle since %" G_GINT64_FORMAT,
		      cause_names[a], cause_names[b], step,
		      desktop_policy_get_idle_since(p));
}

/* Both idle levels are one cause (one source): not a pair. */
static bool is_pair(Cause a, Cause b)
{
	bool idle_a = a == C_IDLE_AWAY || a == C_IDLE_XA;
	bool idle_b = b == C_IDLE_AWAY || b == C_IDLE_XA;

	return a != b && !(idle_a && idle_b);
}

/*
 * a starts, b starts, then they end in either order: after each step what
 * is shown is the model's, and when the last ends the user's presence is
 * back exactly; a repeated report changes nothing.
 */
static void run_pair(Cause a, Cause b, bool a_ends_first)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "s");
	bool active[N_CAUSES] = {false};
	Cause first = a_ends_first ? a : b, second = a_ends_first ? b : a;

	active[a] = true;
	ck_assert(apply(p, a, true));
	expect(p, active, "s", "a started", a, b);
	ck_assert(!apply(p, a, true));
	active[b] = true;
	(void)apply(p, b, true);
	expect(p, active, "s", "both started", a, b);
	ck_assert(!apply(p, b, true));
	active[first] = false;
	(void)apply(p, first, false);
	expect(p, active, "s", "one ended", a, b);
	active[second] = false;
	ck_assert(apply(p, second, false));
	expect(p, active, "s", "both ended", a, b);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);
}

/*
 * The same with a SetPresence after both started: it is shown at once
 * and kept through both ends; a cause that starts again applies again.
 */
static void run_pair_manual_after(Cause a, Cause b, bool a_ends_first)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "s");
	bool none[N_CAUSES] = {false};
	bool only_a[N_CAUSES] = {false};
	Cause first = a_ends_first ? a : b, second = a_ends_first ? b : a;

	(void)apply(p, a, true);
	(void)apply(p, b, true);
	ck_assert(desktop_policy_set_user(p, PRESENCE_SHOW_AVAILABLE, "m"));
	expect(p, none, "m", "manual after both", a, b);
	ck_assert(!apply(p, first, false));
	expect(p, none, "m", "manual, one ended", a, b);
	ck_assert(!apply(p, second, false));
	expect(p, none, "m", "manual, both ended", a, b);
	only_a[a] = true;
	ck_assert(apply(p, a, true));
	expect(p, only_a, "m", "a again after the manual change", a, b);
}

/*
 * A SetPresence between the two starts: a is set aside, b applies alone;
 * whichever ends first, the manual presence is back at the end.
 */
static void run_pair_manual_between(Cause a, Cause b, bool a_ends_first)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "s");
	bool none[N_CAUSES] = {false};
	bool only_b[N_CAUSES] = {false};

	only_b[b] = true;
	(void)apply(p, a, true);
	ck_assert(desktop_policy_set_user(p, PRESENCE_SHOW_CHAT, "m"));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_CHAT);
	ck_assert_int_eq(desktop_policy_get_cause(p), DESKTOP_CAUSE_USER);
	ck_assert(apply(p, b, true));
	expect(p, only_b, "m", "manual between, b started", a, b);
	if (a_ends_first) {
		ck_assert(!apply(p, a, false));
		expect(p, only_b, "m", "manual between, a ended", a, b);
		ck_assert(apply(p, b, false));
	} else {
		ck_assert(apply(p, b, false));
		ck_assert_int_eq(desktop_policy_get_show(p),
				 PRESENCE_SHOW_CHAT);
		ck_assert(!apply(p, a, false));
	}
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_CHAT);
	ck_assert_int_eq(desktop_policy_get_cause(p), DESKTOP_CAUSE_USER);
	ck_assert_str_eq(desktop_policy_get_status(p), "m");
	(void)none;
}

START_TEST(test_pairs)
{
	unsigned n = 0;

	for (Cause a = 0; a < N_CAUSES; a++) {
		for (Cause b = 0; b < N_CAUSES; b++) {
			if (!is_pair(a, b))
				continue;
			for (int order = 0; order < 2; order++) {
				run_pair(a, b, order == 0);
				run_pair_manual_after(a, b, order == 0);
				run_pair_manual_between(a, b, order == 0);
				n++;
			}
		}
	}
	/* 10 ordered pairs, each with both end orders. */
	ck_assert_uint_eq(n, 20);
}
END_TEST

/* Idle xa, then a lock: nothing changes; the unlock changes nothing. */
START_TEST(test_lock_while_idle_xa)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "s");

	ck_assert(desktop_policy_set_idle(p, DESKTOP_IDLE_XA, 100));
	ck_assert(!desktop_policy_set_locked(p, true, 200));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_XA);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 100);
	ck_assert(!desktop_policy_set_locked(p, false, 0));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_XA);
}
END_TEST

/* The user sets what the lock showed: still the user's, kept at unlock. */
START_TEST(test_set_same_while_locked)
{
	g_autoptr(DesktopPolicy) p =
		desktop_policy_new(PRESENCE_SHOW_AVAILABLE, "a");

	ck_assert(desktop_policy_set_locked(p, true, 1));
	ck_assert(desktop_policy_set_user(p, PRESENCE_SHOW_AWAY, "a"));
	ck_assert_int_eq(desktop_policy_get_cause(p), DESKTOP_CAUSE_USER);
	ck_assert_int_eq(desktop_policy_get_idle_since(p), 0);
	ck_assert(!desktop_policy_set_locked(p, false, 0));
	ck_assert_int_eq(desktop_policy_get_show(p), PRESENCE_SHOW_AWAY);
	ck_assert_int_eq(desktop_policy_get_user_show(p), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(desktop_policy_get_user_status(p), "a");
}
END_TEST

/* ---- through the Service (no server: the desired presence) ------------ */

typedef struct {
	unsigned show_changes;
	unsigned status_changes;
	unsigned cause_changes;
	unsigned done;
} Seen;

static void on_property(void *user_data, const char *name)
{
	Seen *seen = user_data;

	if (strcmp(name, "Show") == 0)
		seen->show_changes++;
	else if (strcmp(name, "Status") == 0)
		seen->status_changes++;
	else if (strcmp(name, "PresenceCause") == 0)
		seen->cause_changes++;
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
	c->dnd_follows_desktop = true;
	c->away_after = 5;
	c->xa_after = 15;
	s = service_new(c);
	service_set_observer(s, &observer, seen);
	return s;
}

START_TEST(test_service_lock_cycle)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_CHAT, "here", true, &seen);

	service_set_locked(s, true, 0);
	ck_assert(service_is_locked(s));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_status(s), "here");
	ck_assert_int_eq(service_get_priority(s), 3);
	ck_assert_uint_eq(seen.show_changes, 1);
	ck_assert_uint_eq(seen.status_changes, 0);
	service_set_locked(s, true, 0); /* repeated */
	ck_assert_uint_eq(seen.show_changes, 1);
	service_set_locked(s, false, 0);
	ck_assert(!service_is_locked(s));
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_CHAT);
	ck_assert_str_eq(service_get_status(s), "here");
	ck_assert_uint_eq(seen.show_changes, 2);
	service_set_locked(s, false, 0);
	ck_assert_uint_eq(seen.show_changes, 2);
	service_free(s);
}
END_TEST

START_TEST(test_service_dnd_and_disabled)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_DND, "busy", true, &seen);

	service_set_locked(s, true, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	service_set_locked(s, false, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	ck_assert_uint_eq(seen.show_changes, 0);
	service_free(s);

	s = make_service(PRESENCE_SHOW_AVAILABLE, "", false, &seen);
	service_set_locked(s, true, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	service_set_locked(s, false, 0);
	ck_assert_uint_eq(seen.show_changes, 0);
	service_free(s);
}
END_TEST

START_TEST(test_service_set_while_locked)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_AVAILABLE, "a", true, &seen);

	service_set_locked(s, true, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	/* The same show and status as the lock's: still the user's choice. */
	ck_assert(service_set_presence(s, "away", "a", NULL, NULL));
	service_set_locked(s, false, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_status(s), "a");

	/* A rejected SetPresence changes nothing, the lock's away included. */
	ck_assert(service_set_presence(s, "available", "b", NULL, NULL));
	service_set_locked(s, true, 0);
	ck_assert(!service_set_presence(s, "bogus", "c", NULL, NULL));
	service_set_locked(s, false, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_status(s), "b");
	service_free(s);
}
END_TEST

START_TEST(test_service_stacked)
{
	Seen seen = {0};
	Service *s = make_service(PRESENCE_SHOW_AVAILABLE, "here", true, &seen);

	ck_assert_str_eq(service_get_presence_cause(s), "user");
	service_set_idle(s, DESKTOP_IDLE_AWAY, 100);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_presence_cause(s), "idle");
	service_set_dnd(s, true);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	ck_assert_str_eq(service_get_presence_cause(s), "dnd");
	service_set_dnd(s, true); /* repeated */
	service_set_locked(s, true, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_DND);
	ck_assert_uint_eq(seen.show_changes, 2);
	ck_assert_uint_eq(seen.cause_changes, 2);
	service_set_dnd(s, false);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	ck_assert_str_eq(service_get_presence_cause(s), "lock");
	service_set_idle(s, DESKTOP_IDLE_XA, 100);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_XA);
	ck_assert_str_eq(service_get_presence_cause(s), "idle");
	service_set_idle(s, DESKTOP_IDLE_NONE, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AWAY);
	service_set_locked(s, false, 0);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_AVAILABLE);
	ck_assert_str_eq(service_get_status(s), "here");
	ck_assert_str_eq(service_get_presence_cause(s), "user");
	ck_assert_uint_eq(seen.status_changes, 0);

	/* SetPresence under a cause: user, and kept when it ends. */
	service_set_dnd(s, true);
	ck_assert(service_set_presence(s, "chat", "free", NULL, NULL));
	ck_assert_str_eq(service_get_presence_cause(s), "user");
	service_set_dnd(s, false);
	ck_assert_int_eq(service_get_show(s), PRESENCE_SHOW_CHAT);
	ck_assert_str_eq(service_get_status(s), "free");
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
		{"idle-thresholds", test_idle_levels},
		{"idle-thresholds", test_idle_next},
		{"names", test_names},
		{"lock-unlock-restores", test_lock_unlock_restores},
		{"never-over-user-choice", test_never_over_user_choice},
		{"options-off", test_options_off},
		{"idle-escalates", test_idle_escalates},
		{"pairs", test_pairs},
		{"lock-while-idle-xa", test_lock_while_idle_xa},
		{"set-same-while-locked", test_set_same_while_locked},
		{"service-lock-cycle", test_service_lock_cycle},
		{"service-dnd-and-disabled", test_service_dnd_and_disabled},
		{"service-set-while-locked", test_service_set_while_locked},
		{"service-stacked", test_service_stacked},
		{"service-suspend-resume", test_service_suspend_resume},
	};

	return check_suite_run("desktop-policy", cases, G_N_ELEMENTS(cases),
			       30);
}
