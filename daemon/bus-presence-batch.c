/* SPDX-License-Identifier: MIT */
/*
 * The batch of contact changes of one main-loop iteration and the two
 * signals it becomes (CONTRACT.md additions v3): one PresenceChanged per
 * contact that changed, with its state when sent, then one
 * ContactsChanged with all of them. The batch goes when the server's
 * input is drained, else from a low-priority idle.
 */
#include "config.h"

#include "dbus/bus-autoptr.h"
#include "bus-presence-private.h"

typedef struct {
	PresenceShow show;
	char *status;
} ContactState;

static void contact_state_free(void *data)
{
	ContactState *state = data;

	g_free(state->status);
	g_free(state);
}

/*
 * PresenceChanged for one contact (s jid, s show, s status): the fast
 * builder, the repairing one only for text libdbus refuses.
 */
static DBusMessage *new_presence_changed(BusPresence *bus, const char *jid,
					 const ContactState *state)
{
	const char *args[] = {jid, presence_show_to_string(state->show),
			      state->status};
	DBusMessage *sig;
	DBusMessageIter iter;

	sig = bus_object_new_signal_strings(bus->object, "PresenceChanged",
					    args, G_N_ELEMENTS(args));
	if (!sig)
		sig = bus_object_new_signal(bus->object, "PresenceChanged");
	if (sig && dbus_message_get_signature(sig)[0] == '\0') {
		dbus_message_iter_init_append(sig, &iter);
		if (!bus_iter_append_string(&iter, args[0]) ||
		    !bus_iter_append_string(&iter, args[1]) ||
		    !bus_iter_append_string(&iter, args[2]))
			g_clear_pointer(&sig, dbus_message_unref);
	}
	return sig;
}

/* ContactsChanged a(sss) with every contact of the batch, in order. */
static DBusMessage *new_contacts_changed(BusPresence *bus, GHashTable *changed,
					 GPtrArray *order)
{
	g_autoptr(DBusMessage) sig =
		bus_object_new_signal(bus->object, "ContactsChanged");
	DBusMessageIter iter, array;
	bool ok = true;

	if (!sig)
		return NULL;
	dbus_message_iter_init_append(sig, &iter);
	if (!dbus_message_iter_open_container(&iter, DBUS_TYPE_ARRAY, "(sss)",
					      &array))
		return NULL;
	for (guint i = 0; ok && i < order->len; i++) {
		const char *jid = g_ptr_array_index(order, i);
		const ContactState *last = g_hash_table_lookup(changed, jid);

		ok = bus_presence_append_contact_state(&array, jid, last->show,
						       last->status);
	}
	/* libdbus: abandon only a container still open; a failed close
	 * has already let go of it. */
	if (!ok)
		dbus_message_iter_abandon_container(&iter, &array);
	if (!ok || !dbus_message_iter_close_container(&iter, &array))
		return NULL;
	return g_steal_pointer(&sig);
}

/*
 * PresenceChanged for the contacts of order, built a chunk at a time and
 * then written back to back: dbus-daemon, woken by the first, finds the
 * rest already queued on its socket and reads several per wake-up
 * (4,096 signals built and sent one by one: 12.6 us of its CPU each;
 * built first: 10.1 us; BENCHMARKS.md, issue #13 "the bus path"). A chunk,
 * not the whole batch: a roster of 100,000 items is one batch, and
 * holding all its signals at once raised the peak RSS by 21 MiB.
 */
#define SEND_CHUNK 256u

static void send_presence_changed(BusPresence *bus, GHashTable *changed,
				  GPtrArray *order)
{
	DBusMessage *chunk[SEND_CHUNK];

	for (guint at = 0; at < order->len; at += SEND_CHUNK) {
		guint n = MIN(SEND_CHUNK, order->len - at);

		for (guint i = 0; i < n; i++) {
			const char *jid = g_ptr_array_index(order, at + i);

			chunk[i] = new_presence_changed(
				bus, jid, g_hash_table_lookup(changed, jid));
		}
		for (guint i = 0; i < n; i++) {
			bus_presence_emit(bus, chunk[i]);
			if (chunk[i])
				dbus_message_unref(chunk[i]);
		}
	}
}

/*
 * Sends the batch, if any: one PresenceChanged per contact that changed
 * (CONTRACT.md additions v3: at most one per contact per main-loop
 * iteration, with the state at the time it is sent), then one
 * ContactsChanged with all of them. A contact that changed five times in
 * one read costs one signal, not five.
 */
void bus_presence_batch_flush(BusPresence *bus)
{
	g_autoptr(GHashTable) changed = NULL;
	g_autoptr(GPtrArray) order = NULL;

	if (bus->contacts_idle) {
		g_source_destroy(bus->contacts_idle);
		g_clear_pointer(&bus->contacts_idle, g_source_unref);
	}
	if (bus->order->len == 0)
		return;
	changed = g_steal_pointer(&bus->changed);
	order = g_steal_pointer(&bus->order);
	bus_presence_batch_init(bus);
	send_presence_changed(bus, changed, order);
	/* Built once they are out: a lone change's PresenceChanged does not
	 * wait for it. */
	{
		g_autoptr(DBusMessage) sig =
			new_contacts_changed(bus, changed, order);

		bus_presence_emit(bus, sig);
	}
}

static gboolean contacts_idle_cb(gpointer user_data)
{
	/* bus_presence_batch_flush destroys this source: GLib keeps it alive
	 * until the dispatch returns. */
	bus_presence_batch_flush(user_data);
	return G_SOURCE_REMOVE;
}

/* Remembers the contact's latest state for the batch. */
static void note_change(BusPresence *bus, const char *jid, PresenceShow show,
			const char *status)
{
	ContactState *state = g_hash_table_lookup(bus->changed, jid);

	if (!state) {
		char *key = g_strdup(jid);

		state = g_new0(ContactState, 1);
		g_hash_table_insert(bus->changed, key, state);
		g_ptr_array_add(bus->order, key);
	}
	state->show = show;
	g_free(state->status);
	state->status = g_strdup(status ? status : "");
}

void bus_presence_batch_note(BusPresence *bus, const char *jid,
			     PresenceShow show, const char *status)
{
	note_change(bus, jid, show, status);
	if (bus->contacts_idle)
		return;
	/*
	 * Low priority: runs once the current iteration's events (a burst of
	 * stanzas from one read, a roster push) have all been handled, so
	 * they share one batch.
	 */
	bus->contacts_idle = g_idle_source_new();
	g_source_set_priority(bus->contacts_idle, G_PRIORITY_LOW);
	g_source_set_callback(bus->contacts_idle, contacts_idle_cb, bus, NULL);
	g_source_set_static_name(bus->contacts_idle,
				 "[presenced] PresenceChanged");
	g_source_attach(bus->contacts_idle,
			g_main_context_get_thread_default());
}

void bus_presence_batch_init(BusPresence *bus)
{
	bus->changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     contact_state_free);
	bus->order = g_ptr_array_new();
}

void bus_presence_batch_clear(BusPresence *bus)
{
	if (bus->contacts_idle) {
		g_source_destroy(bus->contacts_idle);
		g_clear_pointer(&bus->contacts_idle, g_source_unref);
	}
	g_clear_pointer(&bus->order, g_ptr_array_unref);
	g_clear_pointer(&bus->changed, g_hash_table_unref);
}
