/* SPDX-License-Identifier: MIT */
/*
 * The contact table. Sized for tens of thousands of contacts: one allocation
 * per contact (bare JID inline), a small sorted array of resources each
 * holding "resource\0status\0" in one allocation, roster data only for
 * roster items, and a GHashTable used as a set keyed by the inline JID.
 * Strangers (JIDs outside the roster) sit on an intrusive LRU list so the
 * bound is enforced in O(1).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>
#include <sys/types.h>

#include "core/contacts.h"
#include "core/text.h"

typedef struct {
	char *data;	     /* "resource\0status\0", one allocation */
	char *caps;	     /* GRefString: its XEP-0115 ver's key, or NULL */
	uint64_t arrival;    /* table->arrivals at the last update */
	uint16_t status_off; /* offset of the status inside data */
	int8_t priority;
	uint8_t show; /* PresenceShow */
	/* From before a reconnect and not confirmed by the new session yet
	 * (contacts_mark_stale). */
	bool stale;
} Resource;

/*
 * One allocation per roster item: this header, the NULL-terminated group
 * pointers, then the strings they and name point to. A 100,000-item
 * roster costs one block an item instead of 3 + the number of groups.
 */
typedef struct {
	const char *name;     /* NULL when none */
	uint8_t subscription; /* RosterSubscription */
	bool ask;
	const char *groups[]; /* NULL-terminated */
} RosterData;

struct _Contact {
	/* LRU list of strangers, most recently updated at the head. */
	Contact *lru_prev;
	Contact *lru_next;
	RosterData *roster;   /* NULL for a stranger */
	Resource *resources;  /* sorted in aggregation order */
	char *offline_status; /* of the last unavailable presence; NULL: none */
	uint8_t n_resources;
	uint8_t resources_size;
	/* Available presence received this session: "unknown" no longer applies
	 * to a none/from roster item. */
	bool seen_available;
	char jid[]; /* the hash table key */
};

struct _ContactTable {
	GHashTable *by_jid; /* set of Contact.jid (char *) */
	/*
	 * The contact found last: one presence looks its sender up three
	 * times (the resource, then its caps ver read and written through
	 * CapsJidStore), and a contact's resources come in a row; a string
	 * compare is a tenth of hashing the JID again.
	 */
	Contact *last;
	Contact *lru_head;
	Contact *lru_tail;
	size_t n_strangers;
	size_t roster_bytes; /* names and groups of the roster items */
	char *roster_ver;    /* RFC 6121 §2.6: version of the items held */
	/*
	 * Counts available presences in the order they were read: "most
	 * recent" is the order of arrival (CONTRACT.md, additions v3), so
	 * two presences from one read are still ordered.
	 */
	uint64_t arrivals;
};

static const char *const subscription_names[] = {
	[ROSTER_SUBSCRIPTION_NONE] = "none",
	[ROSTER_SUBSCRIPTION_TO] = "to",
	[ROSTER_SUBSCRIPTION_FROM] = "from",
	[ROSTER_SUBSCRIPTION_BOTH] = "both",
};

const char *roster_subscription_to_string(RosterSubscription sub)
{
	g_return_val_if_fail((size_t)sub < G_N_ELEMENTS(subscription_names),
			     NULL);
	return subscription_names[sub];
}

bool roster_subscription_from_string(const char *str,
				     RosterSubscription *ret_sub)
{
	g_return_val_if_fail(ret_sub != NULL, false);

	if (str == NULL)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(subscription_names); i++) {
		if (strcmp(str, subscription_names[i]) == 0) {
			*ret_sub = (RosterSubscription)i;
			return true;
		}
	}
	return false;
}

static Contact *contact_from_key(const char *key)
{
	return (Contact *)(void *)(key - offsetof(Contact, jid));
}

static const char *resource_name(const Resource *res)
{
	return res->data;
}

static const char *resource_status(const Resource *res)
{
	return res->data + res->status_off;
}

static void resource_forget_caps(Resource *res)
{
	g_clear_pointer(&res->caps, g_ref_string_release);
}

static void roster_data_free(RosterData *roster)
{
	g_free(roster);
}

static RosterData *roster_data_new(const char *name, RosterSubscription sub,
				   bool ask, const char *const *groups,
				   size_t n_groups)
{
	size_t head = sizeof(RosterData) + (n_groups + 1) * sizeof(char *);
	size_t size = head + (name ? strlen(name) + 1 : 0);
	RosterData *roster;
	char *p;

	for (size_t i = 0; i < n_groups; i++)
		size += strlen(groups[i]) + 1;
	roster = g_malloc(size);
	p = (char *)roster + head;
	roster->name = NULL;
	if (name) {
		roster->name = p;
		p = g_stpcpy(p, name) + 1;
	}
	for (size_t i = 0; i < n_groups; i++) {
		roster->groups[i] = p;
		p = g_stpcpy(p, groups[i]) + 1;
	}
	roster->groups[n_groups] = NULL;
	roster->subscription = (uint8_t)sub;
	roster->ask = ask;
	return roster;
}

static void contact_free(Contact *contact)
{
	if (contact == NULL)
		return;
	for (size_t i = 0; i < contact->n_resources; i++) {
		g_free(contact->resources[i].data);
		resource_forget_caps(&contact->resources[i]);
	}
	g_free(contact->resources);
	g_free(contact->offline_status);
	roster_data_free(contact->roster);
	g_free(contact);
}

ContactTable *contacts_new(void)
{
	ContactTable *table = g_new0(ContactTable, 1);

	table->by_jid = g_hash_table_new(g_str_hash, g_str_equal);
	return table;
}

void contacts_free(ContactTable *table)
{
	GHashTableIter iter;
	gpointer key;

	if (table == NULL)
		return;
	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		contact_free(contact_from_key(key));
	g_hash_table_destroy(table->by_jid);
	g_free(table->roster_ver);
	g_free(table);
}

static Contact *lookup(const ContactTable *table, const char *bare)
{
	const char *key;
	Contact *contact;

	if (table->last != NULL && strcmp(table->last->jid, bare) == 0)
		return table->last;
	key = g_hash_table_lookup(table->by_jid, bare);
	if (key == NULL)
		return NULL;
	contact = contact_from_key(key);
	/* A cache, not a change of the table: every table is allocated
	 * mutable (contacts_new), so writing through the cast is sound. */
	((ContactTable *)table)->last = contact;
	return contact;
}

/* ---- LRU list of strangers ---------------------------------------------- */

static void lru_unlink(ContactTable *table, Contact *contact)
{
	if (contact->lru_prev != NULL)
		contact->lru_prev->lru_next = contact->lru_next;
	else
		table->lru_head = contact->lru_next;
	if (contact->lru_next != NULL)
		contact->lru_next->lru_prev = contact->lru_prev;
	else
		table->lru_tail = contact->lru_prev;
	contact->lru_prev = NULL;
	contact->lru_next = NULL;
}

static void lru_push_head(ContactTable *table, Contact *contact)
{
	contact->lru_prev = NULL;
	contact->lru_next = table->lru_head;
	if (table->lru_head != NULL)
		table->lru_head->lru_prev = contact;
	else
		table->lru_tail = contact;
	table->lru_head = contact;
}

/* A presence update for a stranger makes it the most recently updated. */
static void touch(ContactTable *table, Contact *contact)
{
	if (contact->roster != NULL || table->lru_head == contact)
		return;
	lru_unlink(table, contact);
	lru_push_head(table, contact);
}

/* What a roster item's strings cost, for CONTACTS_MAX_ROSTER_BYTES. */
static size_t roster_strings_bytes(const char *name, const char *const *groups,
				   size_t n_groups)
{
	size_t n = name ? strlen(name) + 1 : 0;

	for (size_t i = 0; i < n_groups; i++)
		n += strlen(groups[i]) + 1 + sizeof(char *);
	return n;
}

static size_t roster_data_bytes(const RosterData *roster)
{
	size_t n_groups = 0;

	if (roster == NULL)
		return 0;
	while (roster->groups[n_groups])
		n_groups++;
	return roster_strings_bytes(roster->name, roster->groups, n_groups);
}

static void remove_contact(ContactTable *table, Contact *contact)
{
	if (contact->roster == NULL) {
		lru_unlink(table, contact);
		table->n_strangers--;
	} else {
		table->roster_bytes -= roster_data_bytes(contact->roster);
	}
	(void)g_hash_table_remove(table->by_jid, contact->jid);
	if (table->last == contact)
		table->last = NULL;
	contact_free(contact);
}

static Contact *add_contact(ContactTable *table, const char *bare)
{
	size_t len = strlen(bare);
	Contact *contact = g_malloc0(sizeof(*contact) + len + 1);

	memcpy(contact->jid, bare, len + 1);
	g_hash_table_add(table->by_jid, contact->jid);
	return contact;
}

/* New stranger at the head of the LRU list; drops the least recently
 * updated stranger beyond the bound (CONTRACT.md: silently). */
static Contact *add_stranger(ContactTable *table, const char *bare)
{
	Contact *contact = add_contact(table, bare);

	lru_push_head(table, contact);
	table->n_strangers++;
	while (table->n_strangers > CONTACTS_MAX_STRANGERS &&
	       table->lru_tail != contact)
		remove_contact(table, table->lru_tail);
	return contact;
}

/* ---- aggregation --------------------------------------------------------- */

static bool is_unknown(const Contact *contact)
{
	if (contact->roster == NULL || contact->seen_available ||
	    contact->n_resources > 0)
		return false;
	switch ((RosterSubscription)contact->roster->subscription) {
	case ROSTER_SUBSCRIPTION_NONE:
	case ROSTER_SUBSCRIPTION_FROM:
		return true;
	case ROSTER_SUBSCRIPTION_TO:
	case ROSTER_SUBSCRIPTION_BOTH:
		return false;
	}
	return false;
}

static PresenceShow aggregated_show(const Contact *contact)
{
	if (contact->n_resources > 0)
		return (PresenceShow)contact->resources[0].show;
	return is_unknown(contact) ? PRESENCE_SHOW_UNKNOWN
				   : PRESENCE_SHOW_OFFLINE;
}

static const char *aggregated_status(const Contact *contact)
{
	if (contact->n_resources > 0)
		return resource_status(&contact->resources[0]);
	return contact->offline_status != NULL ? contact->offline_status : "";
}

/* The aggregated state before a mutation. status is borrowed: mutators
 * defer freeing strings until the comparison is done. */
typedef struct {
	PresenceShow show;
	const char *status;
} Snapshot;

static Snapshot snapshot(const Contact *contact)
{
	return (Snapshot){aggregated_show(contact), aggregated_status(contact)};
}

static bool snapshot_changed(const Snapshot *old, const Contact *contact)
{
	return old->show != aggregated_show(contact) ||
	       strcmp(old->status, aggregated_status(contact)) != 0;
}

/* Negative when a sorts before b: more available, then higher priority,
 * then more recent (CONTRACT.md, Aggregation). */
static int resource_cmp(const Resource *a, const Resource *b)
{
	int ra = presence_show_rank((PresenceShow)a->show);
	int rb = presence_show_rank((PresenceShow)b->show);

	if (ra != rb)
		return rb - ra;
	if (a->priority != b->priority)
		return b->priority - a->priority;
	if (a->arrival != b->arrival)
		return b->arrival > a->arrival ? 1 : -1;
	return 0;
}

/* Moves resources[index], just changed, to its place in the order. */
static void resort(Contact *contact, size_t index)
{
	Resource *res = contact->resources;
	Resource moved = res[index];
	size_t i = index;

	while (i > 0 && resource_cmp(&moved, &res[i - 1]) < 0) {
		res[i] = res[i - 1];
		i--;
	}
	while (i + 1 < contact->n_resources &&
	       resource_cmp(&res[i + 1], &moved) < 0) {
		res[i] = res[i + 1];
		i++;
	}
	res[i] = moved;
}

static ssize_t find_resource(const Contact *contact, const char *resource)
{
	for (size_t i = 0; i < contact->n_resources; i++) {
		if (strcmp(resource_name(&contact->resources[i]), resource) ==
		    0)
			return (ssize_t)i;
	}
	return -1;
}

static char *resource_data_new(const char *resource, const char *status,
			       uint16_t *ret_status_off)
{
	size_t rlen = strlen(resource);
	size_t slen = strlen(status);
	char *data = g_malloc(rlen + 1 + slen + 1);

	memcpy(data, resource, rlen + 1);
	memcpy(data + rlen + 1, status, slen + 1);
	*ret_status_off = (uint16_t)(rlen + 1);
	return data;
}

static int clamp_priority(int priority)
{
	return CLAMP(priority, -128, 127);
}

bool contacts_update_resource(ContactTable *table, const char *bare,
			      const char *resource, PresenceShow show,
			      const char *status, int priority)
{
	g_autofree char *old_data = NULL;
	g_autofree char *bounded_status = NULL;
	Contact *contact;
	Snapshot old;
	Resource *res;
	ssize_t index;

	g_return_val_if_fail(table != NULL, false);
	g_return_val_if_fail(bare != NULL, false);
	g_return_val_if_fail(show != PRESENCE_SHOW_OFFLINE &&
				     show != PRESENCE_SHOW_UNKNOWN,
			     false);

	if (resource == NULL)
		resource = "";
	if (status == NULL)
		status = "";
	if (strlen(resource) > UINT16_MAX - 1)
		return false;
	if (strlen(status) > PRESENCE_MAX_STATUS_BYTES) {
		bounded_status = g_strndup(
			status,
			text_bounded_len(status, PRESENCE_MAX_STATUS_BYTES));
		status = bounded_status;
	}

	contact = lookup(table, bare);
	if (contact == NULL)
		contact = add_stranger(table, bare);
	old = snapshot(contact);

	index = find_resource(contact, resource);
	if (index < 0) {
		if (contact->n_resources >=
		    (contact->roster ? CONTACTS_MAX_RESOURCES
				     : CONTACTS_MAX_STRANGER_RESOURCES)) {
			/* A new resource past the bound is ignored; it does
			 * not even count as an update for the LRU order. */
			return false;
		}
		if (contact->n_resources == contact->resources_size) {
			size_t size = contact->resources_size == 0
					      ? 1
					      : contact->resources_size * 2u;

			size = MIN(size, CONTACTS_MAX_RESOURCES);
			contact->resources =
				g_renew(Resource, contact->resources, size);
			contact->resources_size = (uint8_t)size;
		}
		index = contact->n_resources++;
		contact->resources[index].data = NULL;
		contact->resources[index].caps = NULL;
	}
	res = &contact->resources[index];
	old_data = res->data; /* freed after the comparison */
	res->data = resource_data_new(resource, status, &res->status_off);
	res->arrival = ++table->arrivals;
	res->priority = (int8_t)clamp_priority(priority);
	res->show = (uint8_t)show;
	res->stale = false;
	resort(contact, (size_t)index);

	contact->seen_available = true;
	touch(table, contact);
	return snapshot_changed(&old, contact);
}

bool contacts_remove_resource(ContactTable *table, const char *bare,
			      const char *resource, const char *status)
{
	g_autofree char *old_offline = NULL;
	g_autofree char *old_data = NULL;
	g_autofree Resource *old_resources = NULL;
	size_t n_old_resources = 0;
	Contact *contact;
	Snapshot old;
	bool changed;

	g_return_val_if_fail(table != NULL, false);
	g_return_val_if_fail(bare != NULL, false);

	if (status == NULL)
		status = "";

	contact = lookup(table, bare);
	if (contact == NULL) {
		/* Unavailable from a JID we hold nothing for: only worth a
		 * stranger entry if it says something. */
		if (status[0] == '\0')
			return false;
		contact = add_stranger(table, bare);
	}
	old = snapshot(contact);

	if (resource == NULL) {
		old_resources = g_steal_pointer(&contact->resources);
		n_old_resources = contact->n_resources;
		contact->n_resources = 0;
		contact->resources_size = 0;
	} else {
		ssize_t index = find_resource(contact, resource);

		if (index >= 0) {
			old_data = contact->resources[index].data;
			resource_forget_caps(&contact->resources[index]);
			memmove(&contact->resources[index],
				&contact->resources[index + 1],
				(contact->n_resources - (size_t)index - 1) *
					sizeof(Resource));
			contact->n_resources--;
			if (contact->n_resources == 0) {
				g_clear_pointer(&contact->resources, g_free);
				contact->resources_size = 0;
			}
		}
	}

	old_offline = contact->offline_status;
	contact->offline_status =
		status[0] != '\0'
			? g_strndup(status,
				    text_bounded_len(status,
						     PRESENCE_MAX_STATUS_BYTES))
			: NULL;
	touch(table, contact);

	changed = snapshot_changed(&old, contact);
	for (size_t i = 0; i < n_old_resources; i++) {
		g_free(old_resources[i].data);
		resource_forget_caps(&old_resources[i]);
	}
	return changed;
}

bool contacts_set_roster_item(ContactTable *table, const char *bare,
			      const char *name, RosterSubscription sub,
			      bool ask, const char *const *groups,
			      size_t n_groups)
{
	Contact *contact;
	RosterData *roster;
	Snapshot old;
	size_t cost, held;
	bool is_new = false;

	g_return_val_if_fail(table != NULL, false);
	g_return_val_if_fail(bare != NULL, false);
	g_return_val_if_fail((size_t)sub < G_N_ELEMENTS(subscription_names),
			     false);
	g_return_val_if_fail(groups != NULL || n_groups == 0, false);

	if (name != NULL && name[0] == '\0')
		name = NULL;
	contact = lookup(table, bare);
	cost = roster_strings_bytes(name, groups, n_groups);
	held = contact ? roster_data_bytes(contact->roster) : 0;
	if (table->roster_bytes - held + cost > CONTACTS_MAX_ROSTER_BYTES) {
		g_debug("contacts: roster item %s dropped: past %zu bytes of "
			"roster names and groups",
			bare, CONTACTS_MAX_ROSTER_BYTES);
		return false;
	}
	table->roster_bytes += cost - held;
	if (contact == NULL) {
		contact = add_contact(table, bare);
		is_new = true;
	} else if (contact->roster == NULL) {
		/* No longer a stranger: off the LRU list and the bound. */
		lru_unlink(table, contact);
		table->n_strangers--;
	}
	old = snapshot(contact);

	/* Built before the old one goes: name may point into it. */
	roster = roster_data_new(name, sub, ask, groups, n_groups);
	roster_data_free(contact->roster);
	contact->roster = roster;

	return is_new || snapshot_changed(&old, contact);
}

bool contacts_remove_roster_item(ContactTable *table, const char *bare)
{
	Contact *contact;
	bool changed;

	g_return_val_if_fail(table != NULL, false);
	g_return_val_if_fail(bare != NULL, false);

	contact = lookup(table, bare);
	if (contact == NULL || contact->roster == NULL)
		return false;
	/* Afterwards the JID reads as never seen: offline, no status. */
	changed = aggregated_show(contact) != PRESENCE_SHOW_OFFLINE ||
		  aggregated_status(contact)[0] != '\0';
	remove_contact(table, contact);
	return changed;
}

GPtrArray *contacts_clear_presence(ContactTable *table)
{
	GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	g_return_val_if_fail(table != NULL, changed);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		Contact *contact = contact_from_key(key);
		g_autofree Resource *old_resources = contact->resources;
		char *old_offline = contact->offline_status;
		size_t n_old_resources = contact->n_resources;
		Snapshot old = snapshot(contact);

		contact->resources = NULL;
		contact->n_resources = 0;
		contact->resources_size = 0;
		contact->offline_status = NULL;
		/* The next session starts from scratch: "unknown" applies
		 * again until that session brings available presence. */
		contact->seen_available = false;
		if (snapshot_changed(&old, contact))
			g_ptr_array_add(changed, g_strdup(contact->jid));
		for (size_t i = 0; i < n_old_resources; i++) {
			g_free(old_resources[i].data);
			resource_forget_caps(&old_resources[i]);
		}
		g_free(old_offline);
	}
	return changed;
}

size_t contacts_mark_stale(ContactTable *table)
{
	GHashTableIter iter;
	gpointer key;
	size_t n = 0;

	g_return_val_if_fail(table != NULL, 0);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		Contact *contact = contact_from_key(key);

		for (size_t i = 0; i < contact->n_resources; i++)
			contact->resources[i].stale = true;
		n += contact->n_resources;
		/* Only what the new session brings counts as seen: a none/from
		 * item whose stale resources go reads unknown again. While
		 * they are there, its state is theirs (is_unknown). */
		contact->seen_available = false;
	}
	return n;
}

size_t contacts_count_stale(const ContactTable *table)
{
	GHashTableIter iter;
	gpointer key;
	size_t n = 0;

	g_return_val_if_fail(table != NULL, 0);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const Contact *contact = contact_from_key(key);

		for (size_t i = 0; i < contact->n_resources; i++)
			n += contact->resources[i].stale;
	}
	return n;
}

GPtrArray *contacts_drop_stale(ContactTable *table)
{
	GPtrArray *changed = g_ptr_array_new_with_free_func(g_free);
	GHashTableIter iter;
	gpointer key;

	g_return_val_if_fail(table != NULL, changed);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		Contact *contact = contact_from_key(key);
		g_autoptr(GPtrArray) old_data = NULL;
		Snapshot old;
		bool any = false;
		size_t kept = 0;

		for (size_t i = 0; i < contact->n_resources && !any; i++)
			any = contact->resources[i].stale;
		if (!any)
			continue; /* the common case: nothing stale */
		old = snapshot(contact);
		/* The status strings of old stay alive until compared. */
		old_data = g_ptr_array_new_with_free_func(g_free);
		kept = 0;
		for (size_t i = 0; i < contact->n_resources; i++) {
			Resource *res = &contact->resources[i];

			if (res->stale) {
				g_ptr_array_add(old_data, res->data);
				resource_forget_caps(res);
			} else
				contact->resources[kept++] = *res;
		}
		/* Removing entries keeps the rest in aggregation order. */
		contact->n_resources = (uint8_t)kept;
		if (kept == 0) {
			g_clear_pointer(&contact->resources, g_free);
			contact->resources_size = 0;
		}
		if (snapshot_changed(&old, contact))
			g_ptr_array_add(changed, g_strdup(contact->jid));
	}
	return changed;
}

const Contact *contacts_lookup(const ContactTable *table, const char *bare)
{
	g_return_val_if_fail(table != NULL, NULL);
	g_return_val_if_fail(bare != NULL, NULL);

	return lookup(table, bare);
}

size_t contacts_size(const ContactTable *table)
{
	g_return_val_if_fail(table != NULL, 0);

	return g_hash_table_size(table->by_jid);
}

size_t contacts_get_roster_bytes(const ContactTable *table)
{
	g_return_val_if_fail(table != NULL, 0);

	return table->roster_bytes;
}

size_t contacts_get_n_strangers(const ContactTable *table)
{
	g_return_val_if_fail(table != NULL, 0);

	return table->n_strangers;
}

size_t contacts_get_n_roster_items(const ContactTable *table)
{
	g_return_val_if_fail(table != NULL, 0);

	return (size_t)g_hash_table_size(table->by_jid) - table->n_strangers;
}

void contacts_set_roster_ver(ContactTable *table, const char *ver)
{
	g_return_if_fail(table != NULL);

	if (g_strcmp0(table->roster_ver, ver) == 0)
		return;
	g_free(table->roster_ver);
	table->roster_ver = g_strdup(ver);
}

const char *contacts_get_roster_ver(const ContactTable *table)
{
	g_return_val_if_fail(table != NULL, NULL);

	return table->roster_ver;
}

void contacts_foreach(const ContactTable *table, ContactFunc func,
		      void *user_data)
{
	GHashTableIter iter;
	gpointer key;

	g_return_if_fail(table != NULL);
	g_return_if_fail(func != NULL);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		func(contact_from_key(key), user_data);
}

const char *contact_get_jid(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, NULL);

	return contact->jid;
}

PresenceShow contact_get_show(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, PRESENCE_SHOW_OFFLINE);

	return aggregated_show(contact);
}

const char *contact_get_status(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, "");

	return aggregated_status(contact);
}

size_t contact_get_n_resources(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, 0);

	return contact->n_resources;
}

bool contact_get_resource(const Contact *contact, size_t index,
			  const char **ret_resource, PresenceShow *ret_show,
			  const char **ret_status, int *ret_priority)
{
	const Resource *res;

	g_return_val_if_fail(contact != NULL, false);

	if (index >= contact->n_resources)
		return false;
	res = &contact->resources[index];
	if (ret_resource != NULL)
		*ret_resource = resource_name(res);
	if (ret_show != NULL)
		*ret_show = (PresenceShow)res->show;
	if (ret_status != NULL)
		*ret_status = resource_status(res);
	if (ret_priority != NULL)
		*ret_priority = res->priority;
	return true;
}

/* ---- the resources' capabilities (caps-cache.h's jid store) ------------ */

static Resource *resource_of(const ContactTable *table, const char *bare,
			     const char *resource)
{
	Contact *contact = lookup(table, bare);
	ssize_t index = contact ? find_resource(contact, resource) : -1;

	return index >= 0 ? &contact->resources[index] : NULL;
}

bool contacts_set_resource_caps(ContactTable *table, const char *bare,
				const char *resource, const char *key)
{
	Resource *res;

	g_return_val_if_fail(table != NULL, false);
	g_return_val_if_fail(bare != NULL && resource != NULL, false);

	res = resource_of(table, bare, resource);
	if (res == NULL)
		return false;
	if (res->caps != key) {
		resource_forget_caps(res);
		res->caps = key ? g_ref_string_acquire((char *)key) : NULL;
	}
	return true;
}

const char *contacts_get_resource_caps(const ContactTable *table,
				       const char *bare, const char *resource)
{
	const Resource *res;

	g_return_val_if_fail(table != NULL, NULL);
	g_return_val_if_fail(bare != NULL && resource != NULL, NULL);

	res = resource_of(table, bare, resource);
	return res ? res->caps : NULL;
}

const char *contact_get_resource_caps(const Contact *contact, size_t index)
{
	g_return_val_if_fail(contact != NULL, NULL);

	return index < contact->n_resources ? contact->resources[index].caps
					    : NULL;
}

void contacts_forget_caps(ContactTable *table)
{
	GHashTableIter iter;
	gpointer key;

	g_return_if_fail(table != NULL);

	g_hash_table_iter_init(&iter, table->by_jid);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		Contact *contact = contact_from_key(key);

		for (size_t i = 0; i < contact->n_resources; i++)
			resource_forget_caps(&contact->resources[i]);
	}
}

bool contact_is_in_roster(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, false);

	return contact->roster != NULL;
}

const char *contact_get_name(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, "");

	if (contact->roster == NULL || contact->roster->name == NULL)
		return "";
	return contact->roster->name;
}

RosterSubscription contact_get_subscription(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, ROSTER_SUBSCRIPTION_NONE);

	if (contact->roster == NULL)
		return ROSTER_SUBSCRIPTION_NONE;
	return (RosterSubscription)contact->roster->subscription;
}

bool contact_get_ask(const Contact *contact)
{
	g_return_val_if_fail(contact != NULL, false);

	return contact->roster != NULL && contact->roster->ask;
}

const char *const *contact_get_groups(const Contact *contact)
{
	static const char *const no_groups[] = {NULL};

	g_return_val_if_fail(contact != NULL, no_groups);

	if (contact->roster == NULL)
		return no_groups;
	return contact->roster->groups;
}
