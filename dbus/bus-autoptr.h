/* SPDX-License-Identifier: MIT */
/*
 * g_autoptr()/g_auto() support for the libdbus types we own references to.
 * DBusError is a stack struct: use g_auto(DBusError) err = DBUS_ERROR_INIT.
 */
#pragma once

#include <dbus/dbus.h>
#include <glib.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusMessage, dbus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusConnection, dbus_connection_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(DBusPendingCall, dbus_pending_call_unref)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DBusError, dbus_error_free)
