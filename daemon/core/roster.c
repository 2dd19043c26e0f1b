/* SPDX-License-Identifier: MIT */
/*
 * The roster (RFC 6121 §2) and the client's subscription decisions (§3),
 * I/O-free: see roster.h.
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/roster.h"
#include "core/text.h"

G_DEFINE_QUARK(presenced - roster - error - quark, roster_error)

void roster_item_clear(RosterItem *item)
{
	if (!item)
		return;
	g_clear_pointer(&item->jid, g_free);
	g_clear_pointer(&item->name, g_free);
	g_clear_pointer(&item->groups, g_ptr_array_unref);
	memset(item, 0, sizeof(*item));
}

/* Server text shortened at a character boundary (caps, STYLE.md §3). */
static char *clip(const char *text)
{
	return g_strndup(text, text_bounded_len(text, ROSTER_MAX_STRING_BYTES));
}

static bool is_roster_el(const Stanza *el, const char *name)
{
	return strcmp(stanza_get_name(el), name) == 0 &&
	       g_strcmp0(stanza_get_ns(el), NS_ROSTER_QUERY) == 0;
}

static bool has_group(const GPtrArray *groups, const char *name)
{
	for (guint i = 0; i < groups->len; i++)
		if (strcmp(g_ptr_array_index(groups, i), name) == 0)
			return true;
	return false;
}

bool roster_item_parse(const Stanza *el, RosterItem *ret_item, GError **error)
{
	const char *jid_attr = stanza_get_attr(el, "jid");
	const char *sub_attr = stanza_get_attr(el, "subscription");
	const char *name_attr = stanza_get_attr(el, "name");
	g_autoptr(GError) local = NULL;
	g_auto(RosterItem) item = {0};

	g_return_val_if_fail(el != NULL && ret_item != NULL, false);

	if (!is_roster_el(el, "item")) {
		g_set_error_literal(error, ROSTER_ERROR,
				    ROSTER_ERROR_BAD_REQUEST,
				    "not a roster <item/>");
		return false;
	}
	if (!jid_attr) {
		g_set_error_literal(error, ROSTER_ERROR,
				    ROSTER_ERROR_BAD_REQUEST,
				    "roster item without a jid");
		return false;
	}
	/* §2.1.2.3 calls it the contact's JID; presence works on bare JIDs. */
	item.jid = jid_dup_bare_from_string(jid_attr, &local);
	if (!item.jid) {
		g_set_error(error, ROSTER_ERROR, ROSTER_ERROR_BAD_REQUEST,
			    "roster item with an invalid jid: %s",
			    local->message);
		return false;
	}
	if (g_strcmp0(sub_attr, "remove") == 0)
		item.remove = true;
	else if (!sub_attr ||
		 !roster_subscription_from_string(sub_attr, &item.subscription))
		/* §2.1.2.5: absent means none; unknown values as well. */
		item.subscription = ROSTER_SUBSCRIPTION_NONE;
	/* §2.1.2.2: "subscribe" is the only defined value. */
	item.ask = g_strcmp0(stanza_get_attr(el, "ask"), "subscribe") == 0;
	item.approved =
		g_strcmp0(stanza_get_attr(el, "approved"), "true") == 0 ||
		g_strcmp0(stanza_get_attr(el, "approved"), "1") == 0;
	if (name_attr && *name_attr)
		item.name = clip(name_attr);
	item.groups = g_ptr_array_new_with_free_func(g_free);
	for (Stanza *c = stanza_get_first_child(el);
	     c && item.groups->len < ROSTER_MAX_GROUPS;
	     c = stanza_get_next_sibling(c)) {
		g_autofree char *group = NULL;

		if (!is_roster_el(c, "group") || !*stanza_get_text(c))
			continue;
		/* §2.1.2.4 forbids duplicates; keep the first. */
		group = clip(stanza_get_text(c));
		if (!has_group(item.groups, group))
			g_ptr_array_add(item.groups, g_steal_pointer(&group));
	}
	*ret_item = item;
	memset(&item, 0, sizeof(item));
	return true;
}

bool roster_push_is_trusted(const char *from, const char *own_bare)
{
	g_autoptr(Jid) jid = NULL;

	g_return_val_if_fail(own_bare != NULL, false);

	/*
	 * §2.1.6: "A receiving client MUST ignore the stanza unless it has no
	 * 'from' attribute ... or it has a 'from' attribute whose value
	 * matches the user's bare JID". Not our full JID, not our server's
	 * domain: a roster is the account's, and nothing else speaks for it.
	 */
	if (!from)
		return true;
	jid = jid_parse(from, NULL);
	return jid && jid_is_bare(jid) && jid_get_local(jid) &&
	       strcmp(jid_get_bare(jid), own_bare) == 0;
}

bool roster_parse_push(const Stanza *iq, const char *own_bare,
		       RosterItem *ret_item, char **ret_ver, GError **error)
{
	const char *from = stanza_get_attr(iq, "from");
	const Stanza *query = stanza_get_child(iq, "query", NS_ROSTER_QUERY);
	const Stanza *item_el = NULL;
	size_t n_items = 0;
	g_auto(RosterItem) item = {0};
	g_autoptr(GError) local = NULL;

	g_return_val_if_fail(iq && own_bare && ret_item && ret_ver, false);

	if (!roster_push_is_trusted(from, own_bare)) {
		g_set_error(error, ROSTER_ERROR, ROSTER_ERROR_UNTRUSTED,
			    "roster push from %s, who may not edit our roster",
			    from);
		return false;
	}
	if (g_strcmp0(stanza_get_attr(iq, "type"), "set") != 0 || !query) {
		g_set_error_literal(error, ROSTER_ERROR,
				    ROSTER_ERROR_BAD_REQUEST,
				    "not a roster push");
		return false;
	}
	for (Stanza *c = stanza_get_first_child(query); c;
	     c = stanza_get_next_sibling(c)) {
		if (is_roster_el(c, "item")) {
			item_el = c;
			n_items++;
		}
	}
	/* §2.1.6: a push carries exactly one item. */
	if (n_items != 1) {
		g_set_error(error, ROSTER_ERROR, ROSTER_ERROR_BAD_REQUEST,
			    "roster push with %zu items (one expected)",
			    n_items);
		return false;
	}
	if (!roster_item_parse(item_el, &item, &local)) {
		g_propagate_error(error, g_steal_pointer(&local));
		return false;
	}
	*ret_ver = stanza_get_attr(query, "ver")
			   ? clip(stanza_get_attr(query, "ver"))
			   : NULL;
	*ret_item = item;
	memset(&item, 0, sizeof(item));
	return true;
}

const char *roster_request_ver(bool server_versioning, const char *cached)
{
	/* §2.6.2: only to a server that advertised the feature; "" when we
	 * have no cache yet. */
	if (!server_versioning)
		return NULL;
	return cached ? cached : "";
}

bool roster_apply_item(ContactTable *table, const RosterItem *item)
{
	return roster_apply_item_full(table, item, NULL);
}

/*
 * Whether the table's item already says what item says. Groups are a set
 * (RFC 6121 §2.1.2.4 gives them no order): the same groups listed in
 * another order are no change. Both lists are distinct and at most
 * ROSTER_MAX_GROUPS long, so comparing pairwise is cheap.
 */
static bool item_matches(const Contact *c, const RosterItem *item)
{
	const char *const *groups = contact_get_groups(c);
	guint n_item = item->groups ? item->groups->len : 0;
	guint n_table = 0;

	if (strcmp(contact_get_name(c), item->name ? item->name : "") != 0 ||
	    contact_get_subscription(c) != item->subscription ||
	    contact_get_ask(c) != item->ask)
		return false;
	for (; groups && groups[n_table]; n_table++)
		if (!item->groups || !has_group(item->groups, groups[n_table]))
			return false;
	return n_table == n_item;
}

bool roster_apply_item_full(ContactTable *table, const RosterItem *item,
			    bool *ret_item_changed)
{
	const Contact *c;
	bool in_roster, changed;

	if (ret_item_changed)
		*ret_item_changed = false;
	g_return_val_if_fail(table && item && item->jid, false);

	c = contacts_lookup(table, item->jid);
	in_roster = c && contact_is_in_roster(c);
	if (item->remove) {
		if (ret_item_changed)
			*ret_item_changed = in_roster;
		return contacts_remove_roster_item(table, item->jid);
	}
	if (!in_roster &&
	    contacts_get_n_roster_items(table) >= ROSTER_MAX_ITEMS)
		return false;
	if (ret_item_changed)
		*ret_item_changed = !in_roster || !item_matches(c, item);
	changed = contacts_set_roster_item(
		table, item->jid, item->name, item->subscription, item->ask,
		item->groups ? (const char *const *)item->groups->pdata : NULL,
		item->groups ? item->groups->len : 0);
	return changed;
}

typedef struct {
	GHashTable *keep;
	GPtrArray *gone;
} Stale;

static void collect_stale(const Contact *contact, void *user_data)
{
	Stale *stale = user_data;

	if (contact_is_in_roster(contact) &&
	    !g_hash_table_contains(stale->keep, contact_get_jid(contact)))
		g_ptr_array_add(stale->gone,
				g_strdup(contact_get_jid(contact)));
}

/*
 * A list of JIDs, each at most once. The set makes that O(1) a JID: a
 * first roster of ROSTER_MAX_ITEMS items changes every one of them.
 */
typedef struct {
	GPtrArray *list; /* may be NULL: nobody asked */
	GHashTable *seen;
} JidList;

static void add_changed(JidList *jids, const char *jid, bool yes)
{
	char *copy;

	if (!jids->list || !yes || g_hash_table_contains(jids->seen, jid))
		return;
	copy = g_strdup(jid);
	g_ptr_array_add(jids->list, copy);
	g_hash_table_add(jids->seen, copy);
}

RosterResultKind roster_apply_result(ContactTable *table, const Stanza *iq,
				     GPtrArray *changed)
{
	return roster_apply_result_full(table, iq, changed, NULL);
}

RosterResultKind roster_apply_result_full(ContactTable *table, const Stanza *iq,
					  GPtrArray *changed,
					  GPtrArray *items_changed)
{
	const Stanza *query = stanza_get_child(iq, "query", NS_ROSTER_QUERY);
	g_autoptr(GHashTable) keep = NULL;
	g_autoptr(GPtrArray) gone = NULL;
	const char *ver;
	Stale stale;
	g_autoptr(GHashTable) seen_changed =
		g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) seen_items =
		g_hash_table_new(g_str_hash, g_str_equal);
	JidList presence = {changed, seen_changed};
	JidList items = {items_changed, seen_items};

	g_return_val_if_fail(table && iq, ROSTER_RESULT_ERROR);

	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0) {
		/* Whatever the cache was, the server did not confirm it. */
		contacts_set_roster_ver(table, NULL);
		return ROSTER_RESULT_ERROR;
	}
	/*
	 * §2.6.3: an empty result means our version is current and the
	 * changes, if any, follow as pushes. (A server without versioning
	 * never sends one; keeping the table is the harmless reading.)
	 */
	if (!query)
		return ROSTER_RESULT_UNCHANGED;

	keep = g_hash_table_new(g_str_hash, g_str_equal);
	gone = g_ptr_array_new_with_free_func(g_free);
	/* Apply everything, then drop what the result no longer has. The
	 * items are kept alive in parsed until the end (keep borrows). */
	{
		g_autoptr(GPtrArray) parsed =
			g_ptr_array_new_with_free_func((GDestroyNotify)g_free);

		for (Stanza *c = stanza_get_first_child(query); c;
		     c = stanza_get_next_sibling(c)) {
			g_auto(RosterItem) item = {0};
			bool item_changed;

			if (!is_roster_el(c, "item") ||
			    !roster_item_parse(c, &item, NULL))
				continue;
			/* A result lists items; "remove" has no place. */
			if (item.remove)
				continue;
			add_changed(&presence, item.jid,
				    roster_apply_item_full(table, &item,
							   &item_changed));
			add_changed(&items, item.jid, item_changed);
			if (!contacts_lookup(table, item.jid))
				continue; /* over the cap */
			g_hash_table_add(keep, item.jid);
			g_ptr_array_add(parsed, g_steal_pointer(&item.jid));
		}
		stale.keep = keep;
		stale.gone = gone;
		contacts_foreach(table, collect_stale, &stale);
	}
	for (guint i = 0; i < gone->len; i++) {
		const char *jid = g_ptr_array_index(gone, i);

		add_changed(&presence, jid,
			    contacts_remove_roster_item(table, jid));
		add_changed(&items, jid, true);
	}
	ver = stanza_get_attr(query, "ver");
	if (ver) {
		g_autofree char *clipped = clip(ver);

		contacts_set_roster_ver(table, clipped);
	} else {
		contacts_set_roster_ver(table, NULL);
	}
	return ROSTER_RESULT_FULL;
}

bool roster_subscription_has_from(RosterSubscription sub)
{
	switch (sub) {
	case ROSTER_SUBSCRIPTION_FROM:
	case ROSTER_SUBSCRIPTION_BOTH:
		return true;
	case ROSTER_SUBSCRIPTION_NONE:
	case ROSTER_SUBSCRIPTION_TO:
		return false;
	}
	return false;
}

bool roster_subscription_has_to(RosterSubscription sub)
{
	switch (sub) {
	case ROSTER_SUBSCRIPTION_TO:
	case ROSTER_SUBSCRIPTION_BOTH:
		return true;
	case ROSTER_SUBSCRIPTION_NONE:
	case ROSTER_SUBSCRIPTION_FROM:
		return false;
	}
	return false;
}

RosterAuthorize roster_decide_authorize(bool requested, const Contact *contact,
					bool pre_approval)
{
	if (requested)
		return ROSTER_AUTHORIZE_APPROVE;
	/* §3.1.3: the contact is subscribed already; the server would not
	 * forward another subscribed anyway. */
	if (contact && contact_is_in_roster(contact) &&
	    roster_subscription_has_from(contact_get_subscription(contact)))
		return ROSTER_AUTHORIZE_NOOP;
	/* §3.4: pre-approve only where the server advertises it. */
	return pre_approval ? ROSTER_AUTHORIZE_PRE_APPROVE
			    : ROSTER_AUTHORIZE_UNSUPPORTED;
}
