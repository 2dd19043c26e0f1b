/* SPDX-License-Identifier: MIT */
/*
 * XEP-0191 blocking: the block list set, the server's result and pushes,
 * and the payloads we send.
 */
#include "config.h"

#include <string.h>

#include "core/blocking.h"
#include "core/jid.h"
#include "core/roster.h"

G_DEFINE_QUARK(blocking - error - quark, blocking_error)

struct _BlockList {
	GHashTable *items; /* normalized JID (owned) → itself */
};

BlockList *blocking_list_new(void)
{
	BlockList *list = g_new0(BlockList, 1);

	list->items =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return list;
}

void blocking_list_free(BlockList *list)
{
	if (list == NULL)
		return;
	g_hash_table_unref(list->items);
	g_free(list);
}

size_t blocking_list_get_n_items(const BlockList *list)
{
	return g_hash_table_size(list->items);
}

bool blocking_list_contains(const BlockList *list, const char *jid)
{
	return g_hash_table_contains(list->items, jid);
}

bool blocking_list_blocks(const BlockList *list, const char *jid)
{
	g_autoptr(Jid) j = jid ? jid_parse(jid, NULL) : NULL;
	g_autofree char *domain_resource = NULL;

	if (j == NULL)
		return false;
	if (blocking_list_contains(list, jid_get_full(j)) ||
	    blocking_list_contains(list, jid_get_bare(j)) ||
	    blocking_list_contains(list, jid_get_domain(j)))
		return true;
	if (jid_get_resource(j) == NULL)
		return false;
	domain_resource = g_strdup_printf("%s/%s", jid_get_domain(j),
					  jid_get_resource(j));
	return blocking_list_contains(list, domain_resource);
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char **blocking_list_dup_items(const BlockList *list)
{
	GPtrArray *out = g_ptr_array_new();
	GHashTableIter iter;
	gpointer key;

	g_hash_table_iter_init(&iter, list->items);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_ptr_array_add(out, g_strdup(key));
	g_ptr_array_sort(out, cmp_str);
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

void blocking_list_clear(BlockList *list)
{
	g_hash_table_remove_all(list->items);
}

/* ---- items ---------------------------------------------------------------
 */

/* The normalized JID of an <item jid/>, or NULL. Transfer full. */
static char *item_jid(const Stanza *item)
{
	const char *jid = stanza_get_attr(item, "jid");
	g_autoptr(Jid) j = jid ? jid_parse(jid, NULL) : NULL;

	return j ? g_strdup(jid_get_full(j)) : NULL;
}

static bool is_item(const Stanza *el)
{
	return strcmp(stanza_get_name(el), "item") == 0 &&
	       g_strcmp0(stanza_get_ns(el), NS_BLOCKING) == 0;
}

static bool sets_equal(GHashTable *a, GHashTable *b)
{
	GHashTableIter iter;
	gpointer key;

	if (g_hash_table_size(a) != g_hash_table_size(b))
		return false;
	g_hash_table_iter_init(&iter, a);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		if (!g_hash_table_contains(b, key))
			return false;
	return true;
}

bool blocking_list_replace(BlockList *list, const Stanza *iq, bool *ret_changed,
			   GError **error)
{
	const Stanza *bl = stanza_get_child(iq, "blocklist", NS_BLOCKING);
	GHashTable *items;
	bool changed;

	if (bl == NULL ||
	    g_strcmp0(stanza_get_attr(iq, "type"), "result") != 0) {
		g_set_error_literal(error, BLOCKING_ERROR,
				    BLOCKING_ERROR_BAD_REQUEST,
				    "not a block list result");
		return false;
	}
	items = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (Stanza *el = stanza_get_first_child(bl); el;
	     el = stanza_get_next_sibling(el)) {
		char *jid;

		if (g_hash_table_size(items) >= BLOCKING_MAX_ITEMS)
			break;
		if (is_item(el) && (jid = item_jid(el)) != NULL)
			g_hash_table_add(items, jid);
	}
	changed = !sets_equal(items, list->items);
	g_hash_table_unref(list->items);
	list->items = items;
	if (ret_changed)
		*ret_changed = changed;
	return true;
}

/* ---- pushes ---------------------------------------------------------------
 */

void blocking_push_clear(BlockingPush *push)
{
	g_clear_pointer(&push->jids, g_ptr_array_unref);
}

static bool bad_push(GError **error, const char *why)
{
	g_set_error(error, BLOCKING_ERROR, BLOCKING_ERROR_BAD_REQUEST,
		    "block list push: %s", why);
	return false;
}

/* The push's command element and its kind, or NULL. */
static const Stanza *push_command(const Stanza *iq, BlockingPushKind *kind)
{
	const Stanza *el;

	if ((el = stanza_get_child(iq, "block", NS_BLOCKING)) != NULL) {
		*kind = BLOCKING_PUSH_BLOCK;
		return el;
	}
	*kind = BLOCKING_PUSH_UNBLOCK;
	return stanza_get_child(iq, "unblock", NS_BLOCKING);
}

/* Every item of cmd, normalized and distinct, into jids. */
static bool push_items(const Stanza *cmd, GPtrArray *jids, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

	for (Stanza *el = stanza_get_first_child(cmd); el;
	     el = stanza_get_next_sibling(el)) {
		char *jid;

		if (!is_item(el))
			continue;
		if ((jid = item_jid(el)) == NULL)
			return bad_push(error, "an item has no valid jid");
		if (g_hash_table_contains(seen, jid)) {
			g_free(jid);
			continue;
		}
		if (jids->len >= BLOCKING_MAX_ITEMS) {
			g_free(jid);
			return bad_push(error, "too many items");
		}
		g_ptr_array_add(jids, jid); /* owns it; seen borrows */
		g_hash_table_add(seen, jid);
	}
	return true;
}

bool blocking_parse_push(const Stanza *iq, const char *own_bare,
			 BlockingPush *ret, GError **error)
{
	const char *from = stanza_get_attr(iq, "from");
	BlockingPushKind kind;
	const Stanza *cmd = push_command(iq, &kind);
	g_autoptr(GPtrArray) jids = g_ptr_array_new_with_free_func(g_free);

	/* Same rule as roster pushes: only the account speaks for it. */
	if (!roster_push_is_trusted(from, own_bare)) {
		g_set_error(error, BLOCKING_ERROR, BLOCKING_ERROR_UNTRUSTED,
			    "block list push from %s, who may not edit it",
			    from);
		return false;
	}
	if (g_strcmp0(stanza_get_attr(iq, "type"), "set") != 0 || !cmd)
		return bad_push(error, "not a block or unblock set");
	if (!push_items(cmd, jids, error))
		return false;
	if (jids->len == 0 && kind == BLOCKING_PUSH_BLOCK)
		return bad_push(error, "block without items"); /* §3.3 */
	if (jids->len == 0)
		kind = BLOCKING_PUSH_UNBLOCK_ALL;
	ret->kind = kind;
	ret->jids = g_steal_pointer(&jids);
	return true;
}

static void note(GPtrArray *out, const char *jid)
{
	if (out)
		g_ptr_array_add(out, g_strdup(jid));
}

static bool unblock_all(BlockList *list, GPtrArray *unblocked)
{
	GHashTableIter iter;
	gpointer key;
	bool changed = g_hash_table_size(list->items) > 0;

	g_hash_table_iter_init(&iter, list->items);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		note(unblocked, key);
	g_hash_table_remove_all(list->items);
	return changed;
}

bool blocking_list_apply_push(BlockList *list, const BlockingPush *push,
			      GPtrArray *blocked, GPtrArray *unblocked)
{
	bool changed = false;

	switch (push->kind) {
	case BLOCKING_PUSH_UNBLOCK_ALL:
		return unblock_all(list, unblocked);
	case BLOCKING_PUSH_BLOCK:
		for (guint i = 0; i < push->jids->len; i++) {
			const char *jid = push->jids->pdata[i];

			if (g_hash_table_size(list->items) >=
				    BLOCKING_MAX_ITEMS ||
			    !g_hash_table_add(list->items, g_strdup(jid)))
				continue;
			note(blocked, jid);
			changed = true;
		}
		return changed;
	case BLOCKING_PUSH_UNBLOCK:
		for (guint i = 0; i < push->jids->len; i++) {
			const char *jid = push->jids->pdata[i];

			if (!g_hash_table_remove(list->items, jid))
				continue;
			note(unblocked, jid);
			changed = true;
		}
		return changed;
	}
	g_assert_not_reached();
}

/* ---- what we send ---------------------------------------------------------
 */

char *blocking_normalize_target(const char *jid, GError **error)
{
	g_autoptr(GError) invalid = NULL;
	g_autoptr(Jid) j = jid ? jid_parse(jid, &invalid) : NULL;

	if (j == NULL) {
		g_set_error(error, BLOCKING_ERROR, BLOCKING_ERROR_INVALID_JID,
			    "jid: %s", invalid ? invalid->message : "missing");
		return NULL;
	}
	if (!jid_is_bare(j)) {
		g_set_error(error, BLOCKING_ERROR, BLOCKING_ERROR_INVALID_JID,
			    "jid '%s': a bare JID or a domain, not a full "
			    "JID",
			    jid);
		return NULL;
	}
	return g_strdup(jid_get_bare(j));
}

Stanza *blocking_build_request(void)
{
	return stanza_new("blocklist", NS_BLOCKING);
}

static Stanza *build_command(const char *name, const char *const *jids,
			     size_t n, GError **error)
{
	g_autoptr(Stanza) cmd = stanza_new(name, NS_BLOCKING);

	if (n == 0) {
		g_set_error(error, BLOCKING_ERROR, BLOCKING_ERROR_BAD_REQUEST,
			    "%s: no JID given", name);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		g_autofree char *jid =
			blocking_normalize_target(jids[i], error);

		if (jid == NULL)
			return NULL;
		stanza_set_attr(stanza_add_child_new(cmd, "item", NS_BLOCKING),
				"jid", jid);
	}
	return g_steal_pointer(&cmd);
}

Stanza *blocking_build_block(const char *const *jids, size_t n, GError **error)
{
	return build_command("block", jids, n, error);
}

Stanza *blocking_build_unblock(const char *const *jids, size_t n,
			       GError **error)
{
	return build_command("unblock", jids, n, error);
}

Stanza *blocking_build_unblock_all(void)
{
	return stanza_new("unblock", NS_BLOCKING);
}
