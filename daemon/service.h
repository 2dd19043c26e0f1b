/* SPDX-License-Identifier: MIT */
/*
 * The service: owns the config, the contact table, the connection and the
 * user's desired presence, and keeps the session going. The bus object
 * (bus-presence.c) is a thin view of it: it calls these functions and is
 * told about changes through a ServiceObserver.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/contacts.h"
#include "core/presence.h"
#include "daemon/desktop-policy.h"
#include "daemon/settings.h"
#include "daemon/subscription-requests.h"

/* Defined in validate.c, which the real Service and the bus tests' fake
 * share. */
#define SERVICE_ERROR (service_error_quark())
GQuark service_error_quark(void);

typedef enum {
	SERVICE_ERROR_INVALID_ARGS, /* → org.freedesktop.DBus.Error.InvalidArgs
				     */
	SERVICE_ERROR_NOT_CONNECTED, /* needs an online session */
	SERVICE_ERROR_FAILED,
	/* The server lacks what the call needs (blocking): →
	 * org.freedesktop.DBus.Error.NotSupported */
	SERVICE_ERROR_NOT_SUPPORTED,
} ServiceError;

typedef enum {
	SERVICE_STATE_OFFLINE,
	SERVICE_STATE_CONNECTING,
	SERVICE_STATE_ONLINE,
	SERVICE_STATE_RECONNECTING,
} ServiceState;

/* "offline", "connecting", "online", "reconnecting". */
const char *service_state_to_string(ServiceState state);

typedef struct _Service Service;

/*
 * Takes config (transfer full). The desired presence starts as the
 * config's [presence] section. Nothing happens until service_start().
 * Transfer full.
 */
Service *service_new(Settings *config);
/*
 * Drops the connection at once (no goodbye: see service_stop). NULL-safe.
 * No autoptr cleanup is declared: tests/support/fake-service.h declares one for
 * its stand-in Service.
 */
void service_free(Service *service);

/* Connects unless the desired show is offline. */
void service_start(Service *service);

/*
 * Graceful stop: no more reconnecting; an open session sends unavailable
 * presence, </stream:stream> and TLS close_notify and waits for the server
 * to close, 5 s at most (then the connection is dropped; the same bound
 * holds for every close: offline, reload, suspend). done is called once,
 * from the main loop, when the session is gone (at once if there is none).
 */
void service_stop(Service *service, void (*done)(void *user_data),
		  void *user_data);

/*
 * SIGHUP: reload the file the config came from. Invalid: StateReason
 * "config", StateMessage says why, everything keeps running, false with
 * error. Valid: account changes restart the session; a session that
 * failed for auth, TLS, conflict or config, or is waiting to reconnect,
 * is tried again at once. The desired presence is kept.
 */
bool service_reload_config(Service *service, GError **error);

/* The current configuration. Transfer none, valid until a reload. */
const Settings *service_get_settings(const Service *service);

/*
 * --debug: every stanza sent and received, already redacted by the
 * session, for sessions started after this call. NULL turns it off.
 */
typedef void (*ServiceWireLogFunc)(void *user_data, bool sent,
				   const char *text);
void service_set_wire_log(Service *service, ServiceWireLogFunc func,
			  void *user_data);

/*
 * Delay before reconnect attempt `attempt` (0: the first retry), in
 * microseconds: exponential from 1 s with jitter from random (any 32-bit
 * value), at most 5 minutes: attempt 0 gives 1..2 s.
 */
#define SERVICE_BACKOFF_CAP ((int64_t)300 * G_USEC_PER_SEC)
int64_t service_backoff_delay(unsigned attempt, uint32_t random);
/* A session that stayed online this long resets the back-off. */
#define SERVICE_BACKOFF_RESET ((int64_t)60 * G_USEC_PER_SEC)

/*
 * What GNetworkMonitor says (its "network-changed" handler calls this;
 * tests call it directly): when the network becomes available, or its
 * connectivity becomes full (a captive portal passed), a reconnect that
 * waits out a back-off starts at once, unless the attempts of the last
 * minute are a handful already (retry-policy.h).
 */
void service_network_changed(Service *service, bool available, bool full);

typedef struct {
	/* A contact's aggregated presence changed (PresenceChanged): its
	 * state now, looked up once by the service; the observer need not
	 * look again. Every change is reported. */
	void (*presence_changed)(void *user_data, const char *jid,
				 PresenceShow show, const char *status);
	/* A property changed: "State", "StateReason", "StateMessage", "Jid",
	 * "Show", "Status", "Priority", "PresenceCause", "RosterReady",
	 * "Blocked". */
	void (*property_changed)(void *user_data, const char *name);
	void (*subscription_requested)(void *user_data, const char *jid,
				       const char *message);
	/*
	 * May be NULL. The roster item of jid was added, removed or changed
	 * (name, subscription, ask or groups; RosterChanged), once per real
	 * change. Its state now is in service_get_contacts(): a JID that is
	 * not a roster item there was removed.
	 */
	void (*roster_changed)(void *user_data, const char *jid);
	/*
	 * May be NULL. True while the observer cannot keep up (its outgoing
	 * queue is long): the service stops reading from the server until it
	 * is false again, so a flood slows the server (TCP) instead of
	 * growing our memory.
	 */
	bool (*is_congested)(void *user_data);
	/*
	 * May be NULL. Everything the server had sent was handled and the
	 * daemon is about to wait for more: the moment to announce a batch
	 * of changes (CONTRACT.md additions v3). During a flood it does not
	 * come; the observer's own idle catches the end of the iteration.
	 */
	void (*input_drained)(void *user_data);
} ServiceObserver;

void service_set_observer(Service *service, const ServiceObserver *observer,
			  void *user_data);

/*
 * Writes the output that calls since the last flush produced (a
 * SetPresence's stanza) now, not from the idle that would write it in the
 * next main-loop iteration. The bus layer calls it after each method call,
 * before the reply. Nothing pending, or no connection: nothing happens.
 */
void service_flush_output(Service *service);

/* Options of SetPresence, already type-checked by the bus layer; NULL
 * fields are absent. */
typedef struct {
	bool has_priority;
	int priority;
	const char *nick;
	const char *to;
} ServicePresenceOptions;

/*
 * SetPresence. Validates everything first (show name, status UTF-8 and
 * length, priority range, JID) and changes nothing on error
 * (SERVICE_ERROR_INVALID_ARGS, message says what was wrong).
 */
bool service_set_presence(Service *service, const char *show,
			  const char *status,
			  const ServicePresenceOptions *options,
			  GError **error);

/* Own presence as last set. Transfer none. */
PresenceShow service_get_show(const Service *service);
const char *service_get_status(const Service *service);
int service_get_priority(const Service *service);

ServiceState service_get_state(const Service *service);
const char *service_get_state_reason(const Service *service);
const char *service_get_state_message(const Service *service);
/* Bound full JID while online, the configured bare JID otherwise. */
const char *service_get_jid(const Service *service);
/* How the current session was authenticated ("TLS 1.3, SCRAM-SHA-1-PLUS
 * (tls-exporter), XEP-0474 checked[, resumed (XEP-0198)]"); "" when not
 * online. The Authentication property. */
const char *service_get_authentication(const Service *service);
bool service_get_roster_ready(const Service *service);

/* Transfer none. */
const ContactTable *service_get_contacts(const Service *service);

/* Roster and subscriptions (issue #4); validate jid first. */
bool service_subscribe(Service *service, const char *jid, const char *message,
		       GError **error);
bool service_unsubscribe(Service *service, const char *jid, GError **error);
bool service_authorize(Service *service, const char *jid, bool allow,
		       GError **error);
bool service_remove_contact(Service *service, const char *jid, GError **error);
/* Pending inbound requests, in order of arrival. Transfer none, valid as
 * long as the service. */
const SubscriptionRequests *
service_get_subscription_requests(const Service *service);

/* ---- blocking (XEP-0191) and contacts' clients (issue #14) ------------- */

/*
 * Block/Unblock: jid a bare JID or domain (validated first:
 * SERVICE_ERROR_INVALID_ARGS); needs an online session
 * (SERVICE_ERROR_NOT_CONNECTED) whose server offers blocking
 * (SERVICE_ERROR_NOT_SUPPORTED). The server's push then changes Blocked.
 */
bool service_block(Service *service, const char *jid, GError **error);
bool service_unblock(Service *service, const char *jid, GError **error);
/* The Blocked property: sorted, NULL-terminated, empty without blocking.
 * Transfer full. */
char **service_dup_blocked(const Service *service);

/* One online resource of a contact (GetContactClients): the client's
 * disco identity type and name and its sorted features, or "", "", {}
 * when its caps are not (yet) verified. */
typedef struct {
	char *resource;
	char *type;
	char *name;
	char **features; /* NULL-terminated */
} ServiceClient;

void service_client_free(ServiceClient *client);
/* bare_jid normalized (validate_jid). ServiceClient*, in the table's
 * order of resources; empty for an unknown or offline contact. Transfer
 * full. */
GPtrArray *service_dup_contact_clients(const Service *service,
				       const char *bare_jid);

/* ---- desktop integration (issues #7, #15; bus-desktop*.c calls these) --- */

/*
 * The causes of desktop-policy.h, as the desktop reports them; a repeated
 * value changes nothing. What the policy shows becomes Show and Status
 * (PresenceCause says why) and is sent when it changed, with the XEP-0319
 * idle time of the lock or the inactivity.
 *
 * The screen lock (any source locked), since: unix seconds of the lock, 0
 * for now. XEP-0352 <inactive/> while locked, <active/> on unlock, where
 * the server offers it (whatever away-on-lock says).
 */
void service_set_locked(Service *service, bool locked, int64_t since);
bool service_is_locked(const Service *service);
/* The desktop's Do Not Disturb (any source on). */
void service_set_dnd(Service *service, bool dnd);
/* The user's inactivity; since: unix seconds of its start, 0 for now. */
void service_set_idle(Service *service, DesktopIdle level, int64_t since);
/* PresenceCause: "user", "dnd", "lock" or "idle". Static string. */
const char *service_get_presence_cause(const Service *service);
/*
 * The desktop client's own listeners (after the observer): State (the idle
 * poller runs only while online) and a reloaded config (new idle
 * thresholds). NULL removes them; hooks is copied.
 */
typedef struct {
	void (*state_changed)(void *user_data, ServiceState state);
	void (*settings_changed)(void *user_data);
} ServiceDesktopHooks;
void service_set_desktop_hooks(Service *service,
			       const ServiceDesktopHooks *hooks,
			       void *user_data);

/*
 * The system is going to sleep (logind PrepareForSleep(true)): no more
 * reconnecting; an open session sends unavailable presence and closes the
 * stream. done is called once when no session is left: possibly before
 * this returns, else from the main loop. The desired presence is kept.
 */
void service_suspend(Service *service, void (*done)(void *user_data),
		     void *user_data);
/* Woke up: connect at once (no back-off) unless the desired show is
 * offline; the desired presence is sent once online. */
void service_resume(Service *service);
