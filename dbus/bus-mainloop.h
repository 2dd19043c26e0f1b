/* SPDX-License-Identifier: MIT */
/*
 * Runs a libdbus connection from a GMainContext: the one place that knows
 * both libraries. Sources exist only for enabled watches and timeouts, and
 * incoming messages are dispatched as soon as they are read until the queue
 * is drained; nothing polls.
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>
#include <stdbool.h>

/*
 * Attaches conn to context (NULL: the thread-default context). The
 * connection keeps what it needs (a context reference) until it is
 * finalized or detached. Attaching twice is a programmer error. Returns
 * false only when libdbus runs out of memory.
 */
bool bus_mainloop_attach(DBusConnection *conn, GMainContext *context);

/* Removes every source of conn from its context. Safe on a connection that
 * was never attached. */
void bus_mainloop_detach(DBusConnection *conn);
