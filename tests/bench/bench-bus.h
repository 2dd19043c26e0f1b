/* SPDX-License-Identifier: MIT */
/*
 * The benchmark's D-Bus side: a private dbus-daemon, a watcher thread that
 * counts ContactsChanged or PresenceChanged signals and notices the name
 * im.presenced.Presence1 being owned, and a SetPresence caller thread.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "bench-server.h"

typedef struct _BenchBus BenchBus;

/* Starts dbus-daemon with a generated config in dir. */
BenchBus *bench_bus_new(const char *dir, GError **error);
void bench_bus_free(BenchBus *bus); /* kills the daemon by PID */
const char *bench_bus_get_address(const BenchBus *bus);
GPid bench_bus_get_pid(const BenchBus *bus);

typedef enum {
	BENCH_WATCH_CONTACTS_CHANGED,
	BENCH_WATCH_PRESENCE_CHANGED,
} BenchWatchKind;

typedef struct _BenchWatch BenchWatch;

/* Connected and subscribed when this returns. probe_max: how many
 * "lat-<i>" statuses to timestamp (PresenceChanged). */
BenchWatch *bench_watch_new(BenchBus *bus, BenchWatchKind kind,
			    unsigned probe_max, GError **error);
void bench_watch_free(BenchWatch *watch);
/* Monotonic µs when the name became owned; 0: not yet. */
int64_t bench_watch_get_name_owned(BenchWatch *watch);
/* Signals and contact entries received so far. */
uint64_t bench_watch_get_signals(BenchWatch *watch);
uint64_t bench_watch_get_entries(BenchWatch *watch);
/* When "lat-<i>" arrived; 0: not yet. */
int64_t bench_watch_get_probe(BenchWatch *watch, unsigned i);
/* When "end-<i>" (a sentinel after a blob, bench_wire_sentinel()) arrived;
 * 0: not yet. i < BENCH_WATCH_ENDS. */
#define BENCH_WATCH_ENDS 4
int64_t bench_watch_get_end(BenchWatch *watch, unsigned i);
/* When the latest entry with any other status arrived; 0: none yet. */
int64_t bench_watch_get_last_entry(BenchWatch *watch);

/*
 * The bus's own floors, measured before any subject runs: dbus-daemon's
 * CPU per PresenceChanged-shaped signal (sss, a flood contact's JID, show
 * and status) that nobody listens to, n of them sent 256 at a time; and
 * the latency of one hop (send → dbus-daemon → a client's thread) for
 * probes signals, each from an idle bus, appended to ret_hop_us (double
 * µs). cpu_seconds(pid): the CPU time of a process, in seconds.
 */
bool bench_bus_floor(BenchBus *bus, unsigned n, unsigned probes,
		     double (*cpu_seconds)(GPid pid), double *ret_us_per_signal,
		     GArray *ret_hop_us, GError **error);

/* ListContacts() on a connection of its own: bare JID → "show<TAB>status".
 * NULL with error when the call fails. Transfer full. */
GHashTable *bench_bus_list_contacts(BenchBus *bus, GError **error);

/*
 * Calls SetPresence("available", "sp-<i>", {}) n times from its own
 * thread, each after the server saw the previous one (or 1 s passed).
 * ret_call[i] gets the monotonic µs just before each call, already built,
 * is handed to libdbus (the client's marshalling is not the daemon's).
 */
typedef struct _BenchSetter BenchSetter;
BenchSetter *bench_setter_start(BenchBus *bus, unsigned n,
				const BenchServerEvents *ev, int64_t *ret_call);
bool bench_setter_is_done(BenchSetter *setter);
/* Joins; returns how many calls failed. */
unsigned bench_setter_finish(BenchSetter *setter);
