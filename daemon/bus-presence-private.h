/* SPDX-License-Identifier: MIT */
/*
 * The bus object's state and the helpers its files share: bus-presence.c
 * (presence, contacts, roster, signals), bus-presence-batch.c (the batch
 * that becomes PresenceChanged and ContactsChanged) and
 * bus-presence-caps.c (blocking and contacts' clients, issue #14).
 * Nothing else includes this.
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

#include "dbus/bus-object.h"
#include "bus-presence.h"

struct _BusPresence {
	Service *service;
	DBusConnection *conn;
	BusObject *object;
	void (*on_disconnect)(void *user_data);
	void *user_data;
	bool filter_added;
	bool observing;
	GSource *disconnect_idle;
	/* The batch of one main-loop iteration: bare JID → ContactState,
	 * the contact's latest state; order holds the JIDs (keys of
	 * changed) in the order of their first change. */
	GHashTable *changed;
	GPtrArray *order;
	GSource *contacts_idle;
};

/* The error reply for error (the one GError → D-Bus name mapping). */
DBusMessage *bus_presence_error_reply(DBusMessage *msg, const GError *error);
/* An empty method return when ok, else the error reply. */
DBusMessage *bus_presence_empty_reply(DBusMessage *msg, bool ok,
				      const GError *error);
/* A JID argument of a method that only reads: the normalized bare JID in
 * *ret_jid (transfer full) and NULL, or the InvalidArgs reply. */
DBusMessage *bus_presence_parse_jid_arg(DBusMessage *msg, const char *str,
					char **ret_jid);

/* Sends a signal (NULL: out of memory, warned). */
void bus_presence_emit(BusPresence *bus, DBusMessage *sig);
/* One (sss) contact entry of ListContacts / ContactsChanged. */
bool bus_presence_append_contact_state(DBusMessageIter *array, const char *jid,
				       PresenceShow show, const char *status);

/* bus-presence-batch.c. init: an empty batch; clear: frees it (unsent). */
void bus_presence_batch_init(BusPresence *bus);
void bus_presence_batch_clear(BusPresence *bus);
/* Remembers the contact's latest state; schedules the idle flush. */
void bus_presence_batch_note(BusPresence *bus, const char *jid,
			     PresenceShow show, const char *status);
/* Sends the batch, if any (see the file's opening comment). */
void bus_presence_batch_flush(BusPresence *bus);

/* bus-presence-caps.c: method handlers and the Blocked getter. */
DBusMessage *bus_presence_get_contact_clients(BusObject *object,
					      DBusMessage *msg,
					      void *user_data);
DBusMessage *bus_presence_block(BusObject *object, DBusMessage *msg,
				void *user_data);
DBusMessage *bus_presence_unblock(BusObject *object, DBusMessage *msg,
				  void *user_data);
bool bus_presence_get_blocked(BusObject *object, DBusMessageIter *iter,
			      void *user_data);
