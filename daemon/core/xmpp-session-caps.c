/* SPDX-License-Identifier: MIT */
/*
 * Capabilities once online, both ways: our <c/> on every available
 * presence and the disco#info / disco#items answers for our full JID
 * (XEP-0115, XEP-0030, built by caps.c from one table so the ver we send
 * is the hash of what we answer), last activity (XEP-0012) for contacts
 * subscribed to us, and the contacts' caps: each resource's <c/> into the
 * CapsCache, whose disco#info queries go out through the stream's IQ
 * table (which routes an answer here only if it comes from the JID
 * asked).
 */
#include "config.h"

#include <string.h>

#include "core/jid.h"
#include "core/last-activity.h"
#include "core/xmpp-session-internal.h"

static void pump_queries(XmppSession *s);

/* ---- resource → ver in the contact table (CapsJidStore) ----------------- */

/* RFC 7622 §3.1-3.3: 1023 bytes a part, so a bare JID fits in 2048. */
#define BARE_JID_MAX 2048

/* The table's bare JID (in buf) and resource ("" for a bare JID) of a
 * normalized full JID; on the flood path, so no allocation. */
static bool split_jid(const char *jid, char buf[BARE_JID_MAX],
		      const char **ret_resource)
{
	const char *slash = strchr(jid, '/');
	size_t n = slash ? (size_t)(slash - jid) : strlen(jid);

	if (n >= BARE_JID_MAX)
		return false;
	memcpy(buf, jid, n);
	buf[n] = '\0';
	*ret_resource = slash ? slash + 1 : "";
	return true;
}

static const char *table_get(void *data, const char *jid)
{
	char bare[BARE_JID_MAX];
	const char *resource;

	if (!split_jid(jid, bare, &resource))
		return NULL;
	return contacts_get_resource_caps(data, bare, resource);
}

static bool table_set(void *data, const char *jid, const char *key)
{
	char bare[BARE_JID_MAX];
	const char *resource;

	return split_jid(jid, bare, &resource) &&
	       contacts_set_resource_caps(data, bare, resource, key);
}

static void table_clear(void *data)
{
	contacts_forget_caps(data);
}

typedef struct {
	const char *key;
	CapsJidFunc func;
	void *user_data;
} TableForeach;

static void table_foreach_contact(const Contact *contact, void *user_data)
{
	const TableForeach *f = user_data;
	size_t n = contact_get_n_resources(contact);

	for (size_t i = 0; i < n; i++) {
		const char *caps = contact_get_resource_caps(contact, i);
		const char *resource = NULL;
		g_autofree char *full = NULL;

		if (caps == NULL || strcmp(caps, f->key) != 0 ||
		    !contact_get_resource(contact, i, &resource, NULL, NULL,
					  NULL))
			continue;
		full = *resource ? g_strconcat(contact_get_jid(contact), "/",
					       resource, NULL)
				 : g_strdup(contact_get_jid(contact));
		f->func(full, f->user_data);
	}
}

static void table_foreach(void *data, const char *key, CapsJidFunc func,
			  void *user_data)
{
	TableForeach f = {key, func, user_data};

	contacts_foreach(data, table_foreach_contact, &f);
}

static const CapsJidStore table_store = {
	.get = table_get,
	.set = table_set,
	.clear = table_clear,
	.foreach = table_foreach,
};

void xmpp_session_caps_init(XmppSession *s)
{
	s->caps_own = caps_own_new(PACKAGE_URL, false);
	s->own_caps_cache = caps_cache_new();
	s->caps_cache = s->own_caps_cache;
	caps_cache_set_jid_store(s->caps_cache, &table_store, s->contacts);
	s->caps_iq_ids =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

void xmpp_session_caps_clear(XmppSession *s)
{
	g_clear_pointer(&s->caps_own, caps_own_free);
	g_clear_pointer(&s->caps_own_prev, caps_own_free);
	g_clear_pointer(&s->caps_iq_ids, g_hash_table_unref);
	g_clear_pointer(&s->own_caps_cache, caps_cache_free);
	s->caps_cache = NULL;
}

void xmpp_session_set_caps_cache(XmppSession *s, CapsCache *cache)
{
	g_return_if_fail(s != NULL);
	g_return_if_fail(cache != NULL);

	s->caps_cache = cache;
	caps_cache_set_jid_store(cache, &table_store, s->contacts);
	g_clear_pointer(&s->own_caps_cache, caps_cache_free);
}

CapsCache *xmpp_session_get_caps_cache(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return s->caps_cache;
}

const char *xmpp_session_get_caps_ver(const XmppSession *s)
{
	g_return_val_if_fail(s != NULL, NULL);

	return caps_own_get_ver(s->caps_own);
}

void xmpp_session_caps_add_c(XmppSession *s, Stanza *presence)
{
	stanza_add_child(presence, caps_own_build_c(s->caps_own));
}

/* Our caps for blocking; the replaced ones (transfer full), or NULL when
 * they already were. */
static CapsOwn *swap_caps(XmppSession *s, bool blocking)
{
	const CapsInfo *info = caps_own_get_info(s->caps_own);
	CapsOwn *old;

	if (caps_info_has_feature(info, NS_BLOCKING) == blocking)
		return NULL;
	old = s->caps_own;
	s->caps_own = caps_own_new(PACKAGE_URL, blocking);
	return old;
}

void xmpp_session_caps_set_blocking(XmppSession *s, bool blocking)
{
	CapsOwn *old = swap_caps(s, blocking);

	if (old == NULL)
		return;
	g_clear_pointer(&s->caps_own_prev, caps_own_free);
	s->caps_own_prev = old;
	g_debug("xmpp session: our caps ver is now %s",
		caps_own_get_ver(s->caps_own));
	/* XEP-0115 §4: a change of features goes out with a new presence. */
	if (s->callbacks.own_caps_changed)
		s->callbacks.own_caps_changed(s->user_data);
}

void xmpp_session_caps_resume(XmppSession *s, bool blocking)
{
	caps_own_free(swap_caps(s, blocking));
}

/* ---- answers to contacts ------------------------------------------------ */

/* XEP-0030 §3.1 and XEP-0115 §6.2: our description, with or without
 * node#ver; the previous ver is still ours for a moment after a change. */
static void answer_disco_info(XmppSession *s, const Stanza *iq,
			      const Stanza *query)
{
	g_autoptr(GError) error = NULL;
	Stanza *answer = caps_own_answer_disco_info(s->caps_own, query, &error);

	if (!answer && s->caps_own_prev) {
		g_clear_error(&error);
		answer = caps_own_answer_disco_info(s->caps_own_prev, query,
						    &error);
	}
	if (answer) {
		xmpp_session_send_iq_result(s, iq, answer);
		return;
	}
	g_debug("xmpp session: disco#info: %s", error->message);
	xmpp_session_send_iq_error(s, iq, "cancel", "item-not-found");
}

/* XEP-0012 §4, only to contacts subscribed to our presence; anyone else
 * is answered as by a client without it (the contract). */
static void answer_last_activity(XmppSession *s, const Stanza *iq)
{
	const char *from = stanza_get_attr(iq, "from");
	g_autofree char *bare =
		from ? jid_dup_bare_from_string(from, NULL) : NULL;
	const Contact *c = bare ? contacts_lookup(s->contacts, bare) : NULL;
	RosterSubscription sub = c && contact_is_in_roster(c)
					 ? contact_get_subscription(c)
					 : ROSTER_SUBSCRIPTION_NONE;
	uint64_t seconds = 0;

	if (!last_activity_may_answer(sub)) {
		xmpp_session_send_iq_error(s, iq, "cancel",
					   "service-unavailable");
		return;
	}
	if (s->callbacks.idle_seconds)
		seconds = s->callbacks.idle_seconds(s->user_data);
	xmpp_session_send_iq_result(s, iq, last_activity_build_result(seconds));
}

bool xmpp_session_caps_on_request(XmppSession *s, const Stanza *iq, bool is_get,
				  const Stanza *payload)
{
	if (!is_get)
		return false;
	if (xmpp_session_is_payload(payload, "query", NS_DISCO_INFO)) {
		answer_disco_info(s, iq, payload);
		return true;
	}
	if (xmpp_session_is_payload(payload, "query", NS_DISCO_ITEMS)) {
		xmpp_session_send_iq_result(
			s, iq, caps_own_answer_disco_items(payload));
		return true;
	}
	if (last_activity_is_query(iq)) {
		answer_last_activity(s, iq);
		return true;
	}
	return false;
}

/* ---- the contacts' caps ------------------------------------------------- */

/* The answer to one of the cache's disco#info queries. The stream checked
 * it comes from the JID asked; a timed-out query's id is gone already. */
static void on_caps_result(void *data, const Stanza *iq)
{
	XmppSession *s = data;
	g_autoptr(GPtrArray) resolved = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	g_autoptr(Jid) from = jid_parse(stanza_get_attr(iq, "from"), NULL);
	g_autofree char *id = NULL; /* the table's copy, stolen with key */
	g_autofree char *key = NULL;
	const Stanza *query = NULL;

	if (!g_hash_table_steal_extended(s->caps_iq_ids,
					 stanza_get_attr(iq, "id"),
					 (gpointer *)&id, (gpointer *)&key) ||
	    !from)
		return;
	if (g_strcmp0(stanza_get_attr(iq, "type"), "result") == 0)
		query = stanza_get_child(iq, "query", NS_DISCO_INFO);
	if (caps_cache_complete(s->caps_cache, key, jid_get_full(from), query,
				resolved, &error)) {
		g_debug("xmpp session: caps of %s verified (%u resources)",
			jid_get_full(from), resolved->len);
		if (s->callbacks.caps_learned)
			s->callbacks.caps_learned(s->user_data);
	} else {
		/* Not shown, not cached: another resource is asked. */
		g_debug("xmpp session: caps of %s: %s", jid_get_full(from),
			error->message);
	}
	if (!xmpp_session_is_over(s))
		pump_queries(s);
}

static void send_query(XmppSession *s, CapsCacheQuery *q)
{
	g_autoptr(Stanza) iq = xmpp_session_new_iq("get");

	stanza_set_attr(iq, "to", q->to);
	stanza_add_child(iq, caps_cache_query_build_payload(q));
	if (!xmpp_stream_send_iq(s->stream, iq, on_caps_result, s))
		return; /* the cache times it out like an unanswered one */
	g_hash_table_insert(s->caps_iq_ids, g_strdup(stanza_get_attr(iq, "id")),
			    g_steal_pointer(&q->key));
}

static void pump_queries(XmppSession *s)
{
	int64_t now = xmpp_stream_get_now(s->stream);

	for (;;) {
		g_auto(CapsCacheQuery) q = {0};

		if (!caps_cache_next_query(s->caps_cache, now, &q))
			return;
		send_query(s, &q);
		if (xmpp_session_is_over(s))
			return;
	}
}

/* On the flood path: the <c/> is read in place, nothing copied here. */
/* node NULL: the presence had no <c/>, or a bad one. */
static void on_announced(XmppSession *s, const char *from_full,
			 const char *node, const char *hash, const char *ver)
{
	if (node == NULL) {
		/* What it announced before no longer holds. */
		caps_cache_forget_jid(s->caps_cache, from_full);
		return;
	}
	if (caps_cache_observe(s->caps_cache, from_full, node, hash, ver) ==
	    CAPS_CACHE_PENDING)
		pump_queries(s);
}

void xmpp_session_caps_on_available(XmppSession *s, const char *from_full,
				    const Stanza *presence)
{
	const char *node = NULL, *hash = NULL, *ver = NULL;

	if (!caps_announcement_peek(presence, &node, &hash, &ver, NULL))
		node = NULL;
	on_announced(s, from_full, node, hash, ver);
}

void xmpp_session_caps_on_available_record(XmppSession *s,
					   const char *from_full,
					   const PresenceRecord *record)
{
	const char *node = NULL, *hash = NULL, *ver = NULL;

	if (!presence_record_get_caps(record, &node, &hash, &ver) ||
	    !caps_announcement_check(node, ver, NULL))
		node = NULL;
	on_announced(s, from_full, node, hash, ver);
}

void xmpp_session_caps_on_gone(XmppSession *s, const char *bare,
			       const char *from_full)
{
	const Contact *c;
	size_t n;

	if (from_full) {
		caps_cache_forget_jid(s->caps_cache, from_full);
		return;
	}
	/* Unavailable from the bare JID: every resource goes. */
	c = contacts_lookup(s->contacts, bare);
	n = c ? contact_get_n_resources(c) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *resource = NULL;
		g_autofree char *full = NULL;

		if (!contact_get_resource(c, i, &resource, NULL, NULL, NULL))
			continue;
		full = g_strdup_printf("%s/%s", bare, resource);
		caps_cache_forget_jid(s->caps_cache, full);
	}
}

int64_t xmpp_session_caps_get_deadline(const XmppSession *s)
{
	return caps_cache_get_deadline(s->caps_cache);
}

static gboolean has_expired_key(gpointer id, gpointer key, gpointer expired)
{
	GPtrArray *keys = expired;

	(void)id;
	for (guint i = 0; i < keys->len; i++)
		if (strcmp(g_ptr_array_index(keys, i), key) == 0)
			return TRUE;
	return FALSE;
}

void xmpp_session_caps_tick(XmppSession *s, int64_t now)
{
	g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func(g_free);

	if (now < caps_cache_get_deadline(s->caps_cache))
		return;
	caps_cache_tick(s->caps_cache, now, expired);
	/* A late answer to a forgotten id is then not ours to read. */
	g_hash_table_foreach_remove(s->caps_iq_ids, has_expired_key, expired);
	pump_queries(s);
}

void xmpp_session_caps_end(XmppSession *s, bool may_resume)
{
	g_hash_table_remove_all(s->caps_iq_ids);
	/*
	 * A dropped link may be resumed (XEP-0198): the contacts' presence
	 * is not sent again then, so who announced what is kept; queries in
	 * flight time out in the next session. Otherwise it all starts over.
	 */
	if (!may_resume)
		caps_cache_end_session(s->caps_cache);
}
