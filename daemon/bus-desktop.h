/* SPDX-License-Identifier: MIT */
/*
 * The desktop around the daemon (issue #7): the screen lock and system
 * sleep, as the session and system buses report them, turned into calls on
 * the Service (service_set_locked, service_suspend, service_resume).
 *
 * Screen lock sources (CONTRACT.md, away-on-lock), locked while any says
 * so:
 *   - org.freedesktop.ScreenSaver (objects /org/freedesktop/ScreenSaver and
 *     /ScreenSaver) and org.gnome.ScreenSaver (/org/gnome/ScreenSaver) on
 *     the session bus: GetActive when the name gets an owner (now or later,
 *     followed with NameOwnerChanged), then ActiveChanged(b) on those
 *     objects (from any sender: the session bus is the user's own); an
 *     owner that goes away no longer counts as locked;
 *   - the LockedHint property of the daemon's logind session, else of the
 *     user's display session, on the system bus.
 *
 * Sleep (logind, system bus): a delay inhibitor ("sleep") is held while
 * awake; PrepareForSleep(true) takes the session offline cleanly, then
 * closes the inhibitor's fd (or after SLEEP_DEADLINE at the latest: logind
 * waits at most InhibitDelayMaxSec, 5 s by default); PrepareForSleep(false)
 * reconnects at once and takes a new inhibitor.
 *
 * Each bus is optional: without one (no system bus in a container, no
 * screensaver) the daemon carries on, logging at debug level. The system
 * bus address comes from DBUS_SYSTEM_BUS_ADDRESS when set (libdbus).
 */
#pragma once

#include <glib.h>

#include "daemon/service.h"

typedef struct _BusDesktop BusDesktop;

/*
 * Connects (private connections, thread-default main context) and starts
 * watching. Never fails: a bus that cannot be reached is left out.
 * service is borrowed and must outlive the BusDesktop. Transfer full.
 */
BusDesktop *bus_desktop_new(Service *service);
/* Releases a held inhibitor and closes the connections. NULL-safe. */
void bus_desktop_free(BusDesktop *desktop);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(BusDesktop, bus_desktop_free)
