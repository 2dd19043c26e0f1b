/* SPDX-License-Identifier: MIT */
/*
 * The contacts' capabilities: resource → ver, ver → verified description,
 * the one-query-per-ver scheduling, and the cache file's text format.
 */
#include "config.h"

#include <string.h>

#include "core/caps-cache.h"

G_DEFINE_QUARK(caps - cache - error - quark, caps_cache_error)

#define FILE_HEADER "presenced-caps-cache 1"

typedef struct {
	char *key; /* "hash ver" */
	char *hash;
	char *ver;
	CapsInfo *info;
	GList *link; /* in CapsCache.lru; data is this entry */
} Entry;

typedef struct {
	char *jid;
	char *node; /* as that resource announced it: it checks node#ver */
} Candidate;

typedef struct {
	char *key;
	char *hash;
	char *ver;
	GPtrArray *candidates; /* Candidate*, ≤ MAX_CANDIDATES */
	Candidate *asked;      /* in flight, or NULL */
	guint attempts;
	int64_t deadline; /* of the query in flight */
	bool queued;	  /* in CapsCache.queue */
} Pending;

struct _CapsCache {
	GHashTable *entries;	   /* key → Entry* (owned) */
	GQueue lru;		   /* Entry*, most recently used first */
	const CapsJidStore *store; /* jid → key: own_store or the caller's */
	void *store_data;
	GHashTable *jids; /* own_store's: full jid (owned) → key (a ref) */
	/* The key of the last observe(), shared by every jid that announced
	 * it: a login flood of one client costs no key copy per resource. */
	char *last_key;	     /* GRefString, NULL: none */
	GHashTable *pending; /* key → Pending* (owned) */
	GQueue queue;	     /* Pending* waiting for a slot */
	GHashTable *failed;  /* key (owned) → itself */
	GQueue failed_order; /* keys in failed, oldest first (borrowed) */
	GPtrArray *flight;   /* Pending* with a query in flight (borrowed) */
	/*
	 * What entries and pending hold for last_key, as of generation
	 * memo_gen of the two tables (gen: bumped by every insert and
	 * removal, and when last_key changes). A flood of one client's
	 * presences asks the same key each time; hashing it twice per
	 * presence was most of observe().
	 */
	uint64_t gen;
	uint64_t memo_gen; /* 0: no memo */
	Entry *memo_entry;
	Pending *memo_pending;
};

/* ---- entries and pending vers ------------------------------------------
 */

static void entry_free(Entry *e)
{
	g_free(e->key);
	g_free(e->hash);
	g_free(e->ver);
	caps_info_free(e->info);
	g_free(e);
}

static void candidate_free(Candidate *c)
{
	if (c == NULL)
		return;
	g_free(c->jid);
	g_free(c->node);
	g_free(c);
}

static void pending_free(Pending *p)
{
	g_free(p->key);
	g_free(p->hash);
	g_free(p->ver);
	g_ptr_array_unref(p->candidates);
	candidate_free(p->asked);
	g_free(p);
}

/* Once per presence with <c/> (the login flood): no printf. */
static char *make_key(const char *hash, const char *ver)
{
	return g_strconcat(hash, " ", ver, NULL);
}

/* ---- the cache's own jid store ----------------------------------------- */

static const char *own_get(void *data, const char *jid)
{
	CapsCache *cache = data;

	return g_hash_table_lookup(cache->jids, jid);
}

static bool own_set(void *data, const char *jid, const char *key)
{
	CapsCache *cache = data;

	if (key == NULL) {
		g_hash_table_remove(cache->jids, jid);
		return true;
	}
	/* The size first: below the bound no look-up is needed. */
	if (g_hash_table_size(cache->jids) >= CAPS_CACHE_MAX_JIDS &&
	    !g_hash_table_contains(cache->jids, jid))
		return false;
	g_hash_table_insert(cache->jids, g_strdup(jid),
			    g_ref_string_acquire((char *)key));
	return true;
}

static void own_clear(void *data)
{
	CapsCache *cache = data;

	g_hash_table_remove_all(cache->jids);
}

static void own_foreach(void *data, const char *key, CapsJidFunc func,
			void *user_data)
{
	CapsCache *cache = data;
	GHashTableIter iter;
	gpointer jid, value;

	g_hash_table_iter_init(&iter, cache->jids);
	while (g_hash_table_iter_next(&iter, &jid, &value))
		if (strcmp(value, key) == 0)
			func(jid, user_data);
}

static const CapsJidStore own_store = {
	.get = own_get,
	.set = own_set,
	.clear = own_clear,
	.foreach = own_foreach,
};

void caps_cache_set_jid_store(CapsCache *cache, const CapsJidStore *store,
			      void *data)
{
	g_return_if_fail(cache != NULL);

	cache->store = store ? store : &own_store;
	cache->store_data = store ? data : cache;
}

CapsCache *caps_cache_new(void)
{
	CapsCache *cache = g_new0(CapsCache, 1);

	cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					       (GDestroyNotify)entry_free);
	cache->jids =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
				      (GDestroyNotify)g_ref_string_release);
	cache->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
					       (GDestroyNotify)pending_free);
	cache->failed =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	cache->flight = g_ptr_array_new();
	caps_cache_set_jid_store(cache, NULL, NULL);
	g_queue_init(&cache->lru);
	g_queue_init(&cache->queue);
	g_queue_init(&cache->failed_order);
	return cache;
}

void caps_cache_free(CapsCache *cache)
{
	if (cache == NULL)
		return;
	g_queue_clear(&cache->lru);
	g_queue_clear(&cache->queue);
	g_queue_clear(&cache->failed_order);
	g_hash_table_unref(cache->entries);
	g_hash_table_unref(cache->jids);
	g_clear_pointer(&cache->last_key, g_ref_string_release);
	g_hash_table_unref(cache->pending);
	g_hash_table_unref(cache->failed);
	g_ptr_array_unref(cache->flight);
	g_free(cache);
}

static void touch(CapsCache *cache, Entry *e)
{
	g_queue_unlink(&cache->lru, e->link);
	g_queue_push_head_link(&cache->lru, e->link);
}

static void remove_entry(CapsCache *cache, Entry *e)
{
	g_queue_delete_link(&cache->lru, e->link);
	g_hash_table_remove(cache->entries, e->key);
	cache->gen++;
}

/* Adds a verified entry (transfer full): most recent, or least recent for
 * a loaded one; evicts the least recently used past the bound. One with
 * the same key goes first (a file loaded while its query was in flight). */
static void add_entry(CapsCache *cache, Entry *e, bool recent)
{
	Entry *old = g_hash_table_lookup(cache->entries, e->key);

	if (old)
		remove_entry(cache, old);
	e->link = g_list_alloc();
	e->link->data = e;
	if (recent)
		g_queue_push_head_link(&cache->lru, e->link);
	else
		g_queue_push_tail_link(&cache->lru, e->link);
	g_hash_table_insert(cache->entries, e->key, e);
	cache->gen++;
	while (cache->lru.length > CAPS_CACHE_MAX_ENTRIES)
		remove_entry(cache, g_queue_peek_tail(&cache->lru));
}

static Entry *entry_new(const char *hash, const char *ver, CapsInfo *info)
{
	Entry *e = g_new0(Entry, 1);

	e->key = make_key(hash, ver);
	e->hash = g_strdup(hash);
	e->ver = g_strdup(ver);
	e->info = info;
	return e;
}

static void mark_failed(CapsCache *cache, const char *key)
{
	char *copy = g_strdup(key);

	g_hash_table_add(cache->failed, copy);
	g_queue_push_tail(&cache->failed_order, copy);
	if (cache->failed_order.length > CAPS_CACHE_MAX_FAILED)
		g_hash_table_remove(cache->failed,
				    g_queue_pop_head(&cache->failed_order));
}

static bool has_candidate(const Pending *p, const char *jid)
{
	for (guint i = 0; i < p->candidates->len; i++)
		if (strcmp(((Candidate *)p->candidates->pdata[i])->jid, jid) ==
		    0)
			return true;
	return p->asked && strcmp(p->asked->jid, jid) == 0;
}

static void add_candidate(CapsCache *cache, Pending *p, const char *jid,
			  const char *node)
{
	Candidate *c;

	/* The bound first: a full list needs no scan (the login flood). */
	if (p->candidates->len >= CAPS_CACHE_MAX_CANDIDATES ||
	    has_candidate(p, jid))
		return;
	c = g_new0(Candidate, 1);
	c->jid = g_strdup(jid);
	c->node = g_strdup(node);
	g_ptr_array_add(p->candidates, c);
	if (!p->queued && p->asked == NULL) {
		g_queue_push_tail(&cache->queue, p);
		p->queued = true;
	}
}

static Pending *pending_new(CapsCache *cache, const char *key, const char *hash,
			    const char *ver)
{
	Pending *p = g_new0(Pending, 1);

	p->key = g_strdup(key);
	p->hash = g_strdup(hash);
	p->ver = g_strdup(ver);
	p->candidates =
		g_ptr_array_new_with_free_func((GDestroyNotify)candidate_free);
	g_hash_table_insert(cache->pending, p->key, p);
	cache->gen++;
	return p;
}

static void remove_pending(CapsCache *cache, Pending *p)
{
	if (p->queued)
		g_queue_remove(&cache->queue, p);
	g_hash_table_remove(cache->pending, p->key);
	cache->gen++;
}

/* ---- observing presences -----------------------------------------------
 */

/* jid → key; false when the store has no place for jid. */
static bool remember_jid(CapsCache *cache, const char *jid, const char *key)
{
	return cache->store->set(cache->store_data, jid, key);
}

/* The key of (hash, ver) as a GRefString, borrowed: the last one again
 * when it matches (one client's resources in a row). */
static const char *shared_key(CapsCache *cache, const char *hash,
			      const char *ver)
{
	size_t n = strlen(hash);
	g_autofree char *key = NULL;

	if (cache->last_key && strncmp(cache->last_key, hash, n) == 0 &&
	    cache->last_key[n] == ' ' &&
	    strcmp(cache->last_key + n + 1, ver) == 0)
		return cache->last_key;
	key = make_key(hash, ver);
	g_clear_pointer(&cache->last_key, g_ref_string_release);
	cache->last_key = g_ref_string_new(key);
	/* The memo was of the old key (the new may be at its address). */
	cache->gen++;
	return cache->last_key;
}

/* The entry, else the pending query, of last_key (both NULL: neither). */
static void find_key(CapsCache *cache, Entry **ret_entry, Pending **ret_pending)
{
	if (cache->memo_gen != cache->gen + 1) {
		cache->memo_entry =
			g_hash_table_lookup(cache->entries, cache->last_key);
		cache->memo_pending =
			cache->memo_entry != NULL
				? NULL
				: g_hash_table_lookup(cache->pending,
						      cache->last_key);
		/* + 1: a new cache (gen 0) has no memo. */
		cache->memo_gen = cache->gen + 1;
	}
	*ret_entry = cache->memo_entry;
	*ret_pending = cache->memo_pending;
}

CapsCacheStatus caps_cache_observe(CapsCache *cache, const char *jid,
				   const char *node, const char *hash,
				   const char *ver)
{
	CapsHash algo;
	const char *key;
	Entry *e;
	Pending *p;

	caps_cache_forget_jid(cache, jid);
	/* §5.4 1-2: no hash is legacy caps, another hash we cannot check;
	 * neither is ever shown (issue #14). */
	if (!caps_hash_from_string(hash, &algo) || !node || !ver)
		return CAPS_CACHE_IGNORED;
	key = shared_key(cache, hash, ver);
	/* Nothing failed yet (the usual case) costs no hashing. */
	if ((g_hash_table_size(cache->failed) > 0 &&
	     g_hash_table_contains(cache->failed, key)) ||
	    !remember_jid(cache, jid, key))
		return CAPS_CACHE_IGNORED;
	find_key(cache, &e, &p);
	if (e != NULL) {
		touch(cache, e);
		return CAPS_CACHE_KNOWN;
	}
	if (p == NULL) {
		/* The jid stays remembered: another resource may bring
		 * this ver again once there is room. */
		if (g_hash_table_size(cache->pending) >= CAPS_CACHE_MAX_PENDING)
			return CAPS_CACHE_IGNORED;
		p = pending_new(cache, key, hash, ver);
	}
	add_candidate(cache, p, jid, node);
	return CAPS_CACHE_PENDING;
}

static void drop_candidate(Pending *p, const char *jid)
{
	for (guint i = 0; i < p->candidates->len; i++) {
		if (strcmp(((Candidate *)p->candidates->pdata[i])->jid, jid) ==
		    0) {
			g_ptr_array_remove_index(p->candidates, i);
			return;
		}
	}
}

void caps_cache_forget_jid(CapsCache *cache, const char *jid)
{
	const char *key = cache->store->get(cache->store_data, jid);
	Pending *p;

	if (key == NULL)
		return;
	/* An empty pending ver stays queued; next_query drops it. */
	if ((p = g_hash_table_lookup(cache->pending, key)) != NULL)
		drop_candidate(p, jid);
	(void)cache->store->set(cache->store_data, jid, NULL);
}

/* ---- queries -----------------------------------------------------------
 */

void caps_cache_query_clear(CapsCacheQuery *query)
{
	g_clear_pointer(&query->to, g_free);
	g_clear_pointer(&query->node, g_free);
	g_clear_pointer(&query->key, g_free);
}

Stanza *caps_cache_query_build_payload(const CapsCacheQuery *query)
{
	Stanza *payload = stanza_new("query", NS_DISCO_INFO);

	stanza_set_attr(payload, "node", query->node);
	return payload;
}

bool caps_cache_next_query(CapsCache *cache, int64_t now, CapsCacheQuery *ret)
{
	while (cache->flight->len < CAPS_CACHE_MAX_IN_FLIGHT &&
	       cache->queue.length > 0) {
		Pending *p = g_queue_pop_head(&cache->queue);

		p->queued = false;
		if (p->candidates->len == 0) {
			/* Everyone who announced it went offline. */
			g_hash_table_remove(cache->pending, p->key);
			cache->gen++;
			continue;
		}
		/* XEP-0115 §6.2 says ask a random one; the first is as good
		 * and a bad answer moves on to the next anyway. */
		p->asked = g_ptr_array_steal_index(p->candidates, 0);
		p->attempts++;
		p->deadline = now + CAPS_CACHE_QUERY_TIMEOUT;
		g_ptr_array_add(cache->flight, p);
		ret->to = g_strdup(p->asked->jid);
		ret->node = g_strdup_printf("%s#%s", p->asked->node, p->ver);
		ret->key = g_strdup(p->key);
		return true;
	}
	return false;
}

static void add_resolved(const char *jid, void *user_data)
{
	g_ptr_array_add(user_data, g_strdup(jid));
}

/* Every jid that announced key, now resolvable. */
static void collect_jids(CapsCache *cache, const char *key, GPtrArray *resolved)
{
	if (resolved != NULL)
		cache->store->foreach (cache->store_data, key, add_resolved,
				       resolved);
}

/*
 * A failed attempt: ask the next resource that announced the ver, or wait
 * for one to announce it (add_candidate queues it then); after
 * MAX_ATTEMPTS give the ver up, so a peer that keeps announcing a ver it
 * cannot back costs no more queries this session.
 */
static void retry_or_give_up(CapsCache *cache, Pending *p)
{
	if (p->attempts >= CAPS_CACHE_MAX_ATTEMPTS) {
		mark_failed(cache, p->key);
		remove_pending(cache, p);
	} else if (p->candidates->len > 0) {
		g_queue_push_tail(&cache->queue, p);
		p->queued = true;
	}
}

static bool check_answer(const Pending *p, const Stanza *result,
			 CapsInfo **ret_info, GError **error)
{
	if (result == NULL) {
		g_set_error(error, CAPS_CACHE_ERROR, CAPS_CACHE_ERROR_FAILED,
			    "disco#info of %s failed", p->asked->jid);
		return false;
	}
	return caps_verify(result, p->hash, p->ver, ret_info, error);
}

/* The query of p is over (answered, failed or timed out): its slot is
 * free. */
static void landed(CapsCache *cache, Pending *p)
{
	g_ptr_array_remove_fast(cache->flight, p);
	g_clear_pointer(&p->asked, candidate_free);
}

int64_t caps_cache_get_deadline(const CapsCache *cache)
{
	int64_t deadline = INT64_MAX;

	for (guint i = 0; i < cache->flight->len; i++)
		deadline = MIN(deadline,
			       ((Pending *)cache->flight->pdata[i])->deadline);
	return deadline;
}

void caps_cache_tick(CapsCache *cache, int64_t now, GPtrArray *expired)
{
	/* Backwards: landed() moves the last element into the hole. */
	for (guint i = cache->flight->len; i-- > 0;) {
		Pending *p = cache->flight->pdata[i];

		if (p->deadline > now)
			continue;
		if (expired)
			g_ptr_array_add(expired, g_strdup(p->key));
		landed(cache, p);
		retry_or_give_up(cache, p);
	}
}

bool caps_cache_complete(CapsCache *cache, const char *key, const char *from,
			 const Stanza *result, GPtrArray *resolved,
			 GError **error)
{
	Pending *p = key ? g_hash_table_lookup(cache->pending, key) : NULL;
	CapsInfo *info = NULL;
	bool ok;

	if (p == NULL || p->asked == NULL) {
		g_set_error(error, CAPS_CACHE_ERROR,
			    CAPS_CACHE_ERROR_UNEXPECTED,
			    "no disco#info query in flight for '%s'",
			    key ? key : "");
		return false;
	}
	/* Not the answer to our query (spoofed, or late from a resource asked
	 * before): ignore it; the real one or the timeout ends the query. An
	 * iq error comes from the JID asked too (RFC 6120 §8.3.1). */
	if (g_strcmp0(from, p->asked->jid) != 0) {
		g_set_error(error, CAPS_CACHE_ERROR,
			    CAPS_CACHE_ERROR_WRONG_SENDER,
			    "disco#info answer from %s, asked %s",
			    from ? from : "(none)", p->asked->jid);
		return false;
	}
	ok = check_answer(p, result, &info, error);
	landed(cache, p);
	if (!ok) {
		retry_or_give_up(cache, p);
		return false;
	}
	add_entry(cache, entry_new(p->hash, p->ver, info), true);
	collect_jids(cache, p->key, resolved);
	remove_pending(cache, p);
	return true;
}

void caps_cache_end_session(CapsCache *cache)
{
	g_queue_clear(&cache->queue);
	g_hash_table_remove_all(cache->pending);
	cache->gen++;
	cache->store->clear(cache->store_data);
	g_queue_clear(&cache->failed_order);
	g_hash_table_remove_all(cache->failed);
	g_ptr_array_set_size(cache->flight, 0);
}

/* ---- look-ups -----------------------------------------------------------
 */

const CapsInfo *caps_cache_lookup_jid(const CapsCache *cache, const char *jid)
{
	const char *key = cache->store->get(cache->store_data, jid);
	const Entry *e = key ? g_hash_table_lookup(cache->entries, key) : NULL;

	return e ? e->info : NULL;
}

const CapsInfo *caps_cache_lookup(const CapsCache *cache, const char *hash,
				  const char *ver)
{
	g_autofree char *key = make_key(hash, ver);
	const Entry *e = g_hash_table_lookup(cache->entries, key);

	return e ? e->info : NULL;
}

size_t caps_cache_get_n_entries(const CapsCache *cache)
{
	return g_hash_table_size(cache->entries);
}

size_t caps_cache_get_n_in_flight(const CapsCache *cache)
{
	return cache->flight->len;
}

/* ---- the file format ----------------------------------------------------
 *
 *	presenced-caps-cache 1
 *	entry	HASH	VER
 *	identity	CATEGORY	TYPE	LANG	NAME
 *	feature	VAR
 *	form	FORM_TYPE
 *	field	VAR	VALUE...
 *	end
 *
 * Fields are tab-separated; \\, tab, LF and CR inside them are escaped
 * as \\\\, \\t, \\n, \\r. Loading recomputes every ver, so a corrupted or
 * edited file cannot put a wrong description in the cache.
 */

static void put_escaped(GString *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		default:
			g_string_append_c(out, *s);
		}
	}
}

static void put_line(GString *out, const char *tag, const char *const *fields,
		     size_t n)
{
	g_string_append(out, tag);
	for (size_t i = 0; i < n; i++) {
		g_string_append_c(out, '\t');
		put_escaped(out, fields[i]);
	}
	g_string_append_c(out, '\n');
}

static void put_forms(GString *out, const CapsInfo *info)
{
	for (size_t f = 0; f < caps_info_get_n_forms(info); f++) {
		const char *type = caps_info_get_form_type(info, f);

		put_line(out, "form", &type, 1);
		for (size_t i = 0; i < caps_info_get_n_fields(info, f); i++) {
			const char *const *values;
			const char *var =
				caps_info_get_field(info, f, i, &values);
			g_autoptr(GPtrArray) row = g_ptr_array_new();

			g_ptr_array_add(row, (char *)var);
			for (; *values; values++)
				g_ptr_array_add(row, (char *)*values);
			put_line(out, "field", (const char *const *)row->pdata,
				 row->len);
		}
	}
}

static void put_entry(GString *out, const Entry *e)
{
	const char *head[] = {e->hash, e->ver};

	put_line(out, "entry", head, 2);
	for (size_t i = 0; i < caps_info_get_n_identities(e->info); i++) {
		CapsIdentity id = caps_info_get_identity(e->info, i);
		const char *row[] = {id.category, id.type, id.lang, id.name};

		put_line(out, "identity", row, 4);
	}
	for (size_t i = 0; i < caps_info_get_n_features(e->info); i++) {
		const char *var = caps_info_get_feature(e->info, i);

		put_line(out, "feature", &var, 1);
	}
	put_forms(out, e->info);
	g_string_append(out, "end\n");
}

char *caps_cache_serialize(const CapsCache *cache)
{
	GString *out = g_string_new(FILE_HEADER "\n");

	for (GList *l = cache->lru.head; l; l = l->next)
		put_entry(out, l->data);
	return g_string_free(out, FALSE);
}

/* ---- loading ------------------------------------------------------------
 */

typedef struct {
	GPtrArray *entries; /* Entry* parsed so far */
	Entry *current;	    /* between entry and end */
	bool has_form;
	guint line;
} Loader;

static bool malformed(const Loader *l, GError **error, const char *why)
{
	g_set_error(error, CAPS_CACHE_ERROR, CAPS_CACHE_ERROR_MALFORMED,
		    "caps cache, line %u: %s", l->line, why);
	return false;
}

/* Undoes put_escaped in place; false on an unknown or cut escape. */
static bool unescape(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		switch (*++r) {
		case '\\':
			*w++ = '\\';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		default:
			return false;
		}
	}
	*w = '\0';
	return true;
}

/* Checks and finishes the current entry: its ver must be its hash. */
static bool end_entry(Loader *l, GError **error)
{
	Entry *e = l->current;
	CapsHash algo;
	g_autofree char *ver = NULL;
	g_autoptr(GError) invalid = NULL;

	l->current = NULL;
	g_ptr_array_add(l->entries, e);
	if (!caps_hash_from_string(e->hash, &algo))
		return malformed(l, error, "unsupported hash");
	if (!caps_info_validate(e->info, &invalid))
		return malformed(l, error, invalid->message);
	ver = caps_info_compute_ver(e->info, algo);
	if (strcmp(ver, e->ver) != 0)
		return malformed(l, error, "ver does not match the entry");
	if (l->entries->len > CAPS_CACHE_MAX_ENTRIES)
		return malformed(l, error, "too many entries");
	return true;
}

static bool load_in_entry(Loader *l, char **f, guint n, GError **error)
{
	CapsInfo *info = l->current->info;

	if (strcmp(f[0], "identity") == 0 && n == 5)
		caps_info_add_identity(info, f[1], f[2], f[3], f[4]);
	else if (strcmp(f[0], "feature") == 0 && n == 2)
		caps_info_add_feature(info, f[1]);
	else if (strcmp(f[0], "form") == 0 && n == 2) {
		caps_info_add_form(info, f[1]);
		l->has_form = true;
	} else if (strcmp(f[0], "field") == 0 && n >= 2 && l->has_form)
		caps_info_add_field(info, f[1], (const char *const *)f + 2,
				    n - 2);
	else if (strcmp(f[0], "end") == 0 && n == 1)
		return end_entry(l, error);
	else
		return malformed(l, error, "unexpected line in an entry");
	return true;
}

static bool load_line(Loader *l, char *line, GError **error)
{
	g_auto(GStrv) f = g_strsplit(line, "\t", -1);
	guint n = g_strv_length(f);

	if (n == 0)
		return malformed(l, error, "empty line");
	for (guint i = 0; i < n; i++)
		if (!unescape(f[i]))
			return malformed(l, error, "bad escape");
	if (l->current)
		return load_in_entry(l, f, n, error);
	if (strcmp(f[0], "entry") != 0 || n != 3 || *f[1] == '\0' ||
	    *f[2] == '\0')
		return malformed(l, error, "expected an entry");
	l->current = entry_new(f[1], f[2], caps_info_new());
	l->has_form = false;
	return true;
}

static bool load_lines(Loader *l, char **lines, GError **error)
{
	guint n = g_strv_length(lines);

	/* The text ends with a newline: the last piece is empty. */
	if (n == 0 || strcmp(lines[0], FILE_HEADER) != 0)
		return malformed(l, error, "not a presenced caps cache");
	if (*lines[n - 1] != '\0')
		return malformed(l, error, "cut short");
	for (guint i = 1; i + 1 < n; i++) {
		l->line = i + 1;
		if (!load_line(l, lines[i], error))
			return false;
	}
	if (l->current)
		return malformed(l, error, "entry not ended");
	return true;
}

static void merge(CapsCache *cache, GPtrArray *entries)
{
	for (guint i = 0; i < entries->len; i++) {
		Entry *e = entries->pdata[i];

		if (cache->lru.length >= CAPS_CACHE_MAX_ENTRIES ||
		    g_hash_table_contains(cache->entries, e->key))
			continue;
		add_entry(cache, g_steal_pointer(&entries->pdata[i]), false);
	}
}

static void entry_free0(gpointer e)
{
	if (e)
		entry_free(e);
}

bool caps_cache_load(CapsCache *cache, const char *data, size_t len,
		     GError **error)
{
	Loader l = {.line = 1};
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GPtrArray) entries =
		g_ptr_array_new_with_free_func(entry_free0);
	bool ok;

	if (data == NULL || len == 0)
		return malformed(&l, error, "not a presenced caps cache");
	if (len > CAPS_CACHE_MAX_FILE_BYTES)
		return malformed(&l, error, "file too large");
	if (memchr(data, '\0', len) != NULL ||
	    !g_utf8_validate(data, len, NULL))
		return malformed(&l, error, "not UTF-8 text");
	text = g_strndup(data, len);
	lines = g_strsplit(text, "\n", -1);
	l.entries = entries;
	ok = load_lines(&l, lines, error);
	if (l.current)
		entry_free(l.current);
	if (ok)
		merge(cache, entries);
	return ok;
}
