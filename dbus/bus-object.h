/* SPDX-License-Identifier: MIT */
/*
 * One exported D-Bus object described by static tables (methods, signals,
 * properties), after BlueZ gdbus: dispatch with signature checks,
 * org.freedesktop.DBus.Introspectable from XML embedded at build time,
 * org.freedesktop.DBus.Properties (read-only properties), and
 * PropertiesChanged coalesced per main-loop iteration and always flushed
 * before any other message the object sends.
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

#define BUS_OBJECT_ERROR (bus_object_error_quark())
GQuark bus_object_error_quark(void);

typedef enum {
	BUS_OBJECT_ERROR_FAILED, /* the path could not be registered */
} BusObjectError;

typedef struct _BusObject BusObject;

/*
 * A method handler gets a message whose signature already equals in_sig
 * and returns the reply or an error reply (transfer full; NULL only when
 * out of memory).
 */
typedef DBusMessage *(*BusMethodFunc)(BusObject *object, DBusMessage *msg,
				      void *user_data);
/* Appends the property's current value (of type sig) to iter. */
typedef bool (*BusPropertyGetFunc)(BusObject *object, DBusMessageIter *iter,
				   void *user_data);

typedef struct {
	const char *name;
	const char *in_sig;
	const char *out_sig;
	BusMethodFunc func;
} BusMethod;

typedef struct {
	const char *name;
	const char *sig;
} BusSignal;

typedef struct {
	const char *name;
	const char *sig;
	BusPropertyGetFunc get;
} BusProperty;

/* All tables end with an entry whose name is NULL; at most 64 properties. */
typedef struct _BusInterface {
	const char *name;
	const BusMethod *methods;
	const BusSignal *signals;
	const BusProperty *properties;
} BusInterface;

/*
 * Registers path on conn (attached to a main loop) serving iface, whose
 * introspection document is xml (a complete <node>, transfer none, must
 * outlive the object; the standard interfaces are added to it). iface and
 * user_data are borrowed for the object's lifetime. Transfer full.
 */
BusObject *bus_object_new(DBusConnection *conn, const char *path,
			  const BusInterface *iface, const char *xml,
			  void *user_data, GError **error);
/* Unregisters the path, dropping unsent PropertiesChanged. NULL-safe. */
void bus_object_free(BusObject *object);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BusObject, bus_object_free)

/*
 * func(user_data) runs after every method handler, before its reply (and
 * the PropertiesChanged the call caused) is sent: the owner's chance to
 * put the call's effect on its own wire first. NULL: nothing.
 */
void bus_object_set_call_handled(BusObject *object,
				 void (*func)(void *user_data));

/* Transfer none. */
DBusConnection *bus_object_get_connection(BusObject *object);
const char *bus_object_get_path(BusObject *object);

/* Queues PropertiesChanged for property name (must be in the table). */
void bus_object_property_changed(BusObject *object, const char *name);
/* Sends the queued PropertiesChanged now, if any. */
void bus_object_flush_properties(BusObject *object);

/* A new signal of this object's interface. Transfer full. */
DBusMessage *bus_object_new_signal(BusObject *object, const char *name);
/*
 * A new signal of this object's interface whose n_args (at most 8)
 * arguments are all strings (NULL is sent as ""), built without libdbus'
 * slow top-level append path. Transfer full; NULL when a string is not
 * valid UTF-8 for D-Bus (fall back to bus_iter_append_string) or on OOM.
 */
DBusMessage *bus_object_new_signal_strings(BusObject *object, const char *name,
					   const char *const *args,
					   size_t n_args);
/*
 * The general form: a signal whose body the caller marshalled with the
 * bus_wire_* helpers below, in the order of signature (their types only:
 * s, b, as). Validated as a whole by libdbus; NULL when invalid (e.g. text
 * that is not UTF-8: fall back to the DBusMessageIter path) or on OOM.
 */
DBusMessage *bus_message_new_signal_wire(const char *path, const char *iface,
					 const char *name,
					 const char *signature,
					 const GString *body);
/* The same for this object's path and interface. */
DBusMessage *bus_object_new_signal_wire(BusObject *object, const char *name,
					const char *signature,
					const GString *body);
/* Body helpers (native byte order; NULL string is ""). */
void bus_wire_string(GString *body, const char *s);
void bus_wire_boolean(GString *body, bool value);
/* An array of strings: open returns where its elements start. */
size_t bus_wire_array_open(GString *body);
void bus_wire_array_close(GString *body, size_t start);
/* The same for any path (valid object path) and interface name. */
DBusMessage *bus_message_new_signal_strings(const char *path, const char *iface,
					    const char *name,
					    const char *const *args,
					    size_t n_args);
/* Flushes pending PropertiesChanged, then sends msg (transfer none). */
bool bus_object_send(BusObject *object, DBusMessage *msg);

/* The document Introspect returns. Transfer full. */
char *bus_object_dup_introspection(BusObject *object);

/*
 * Appends a string, replacing invalid UTF-8 with U+FFFD: libdbus aborts on
 * invalid UTF-8, and peer-controlled text must never do that.
 */
bool bus_iter_append_string(DBusMessageIter *iter, const char *str);

/* An org.freedesktop.DBus.Error.InvalidArgs reply. Transfer full. */
DBusMessage *bus_error_invalid_args(DBusMessage *msg, const char *format, ...)
	G_GNUC_PRINTF(2, 3);
