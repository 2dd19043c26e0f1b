/* SPDX-License-Identifier: MIT */
/*
 * The D-Bus object /im/presenced/Presence1 on the session bus: a thin view
 * of the Service (methods call it, its observer becomes signals and
 * PropertiesChanged).
 */
#pragma once

#include <glib.h>
#include <stdbool.h>

#include "service.h"

#define BUS_PRESENCE_ERROR (bus_presence_error_quark())
GQuark bus_presence_error_quark(void);

typedef enum {
	BUS_PRESENCE_ERROR_CONNECT,    /* no session bus */
	BUS_PRESENCE_ERROR_NAME_TAKEN, /* another presenced owns the name */
} BusPresenceError;

typedef struct _BusPresence BusPresence;

/*
 * Connects to the session bus (a private connection, exit-on-disconnect
 * off) in the thread-default main context, registers the object, sets
 * itself as the service's observer, then requests the name (DO_NOT_QUEUE):
 * owning the name is the Type=dbus readiness signal. on_disconnect is
 * called (from the main loop) if the bus goes away. Transfer full.
 */
BusPresence *bus_presence_new(Service *service,
			      void (*on_disconnect)(void *user_data),
			      void *user_data, GError **error);
void bus_presence_free(BusPresence *bus);

/* The D-Bus name, object path and interface (CONTRACT.md). */
#define BUS_PRESENCE_NAME "im.presenced.Presence1"
#define BUS_PRESENCE_PATH "/im/presenced/Presence1"
#define BUS_PRESENCE_INTERFACE "im.presenced.Presence1"
#define BUS_PRESENCE_ERROR_NOT_CONNECTED                                       \
	"im.presenced.Presence1.Error.NotConnected"

/* The object's static method/signal/property tables (dbus/bus-object.h),
 * for the test that checks them against the introspection XML. Transfer
 * none, static. */
struct _BusInterface;
const struct _BusInterface *bus_presence_get_interface(void);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BusPresence, bus_presence_free)
