/* SPDX-License-Identifier: MIT */
/*
 * The Service's state and the helpers its files share: service.c (the
 * session's life, own presence, the desktop) and service-roster.c (roster
 * and subscription methods). Nothing outside daemon/service*.c includes
 * this; everyone else sees the opaque Service of service.h.
 */
#pragma once

#include <gio/gio.h>

#include "core/blocking.h"
#include "core/caps-cache.h"
#include "core/contacts.h"
#include "core/stream-mgmt.h"
#include "core/xmpp-session.h"
#include "daemon/connection.h"
#include "daemon/desktop-policy.h"
#include "daemon/retry-policy.h"
#include "daemon/service.h"
#include "daemon/session-sink.h"
#include "daemon/settings.h"
#include "daemon/subscription-requests.h"

struct _Service {
	Settings *config;
	ContactTable *contacts;

	XmppSession *session;
	SessionSink sink; /* the session as the connection's sink */
	Connection *connection;
	char *host;	     /* connected to, for messages; NULL before */
	bool session_closed; /* closed() seen, teardown pending */
	XmppSessionEnd end_reason;
	char *end_message;
	bool end_tls_verified; /* the end came inside verified TLS */
	guint teardown_id;
	/* We asked the session to close: the server has a few seconds to
	 * answer before the connection is dropped (close_expired). */
	bool closing;
	guint close_id;
	guint reconnect_id;
	unsigned attempts; /* reconnects since the last long session */
	int64_t online_since;
	RetryPolicyWindow window; /* recent connection attempts */

	/* Across a drop (issue #5): the XEP-0198 state to resume, and how
	 * long the table is held before it is cleared. */
	StreamMgmt *resume;
	/* The last session's discovery found XEP-0191 blocking: the next
	 * one starts with those caps (XmppSessionConfig.blocking_hint). */
	bool blocking_hint;
	/* SASL2 failed on this server (not as a rejection of our
	 * credentials): legacy SASL until the daemon restarts. */
	bool legacy_sasl_only;
	guint hold_id;
	GNetworkMonitor *netmon;
	gulong netmon_handler;
	/* As last reported: a retry at once only when it gets better. */
	bool network_available;
	bool network_full;

	/* Own presence as last sent to the server: after a resumption only
	 * a difference from what is wanted needs sending. */
	bool sent_valid;
	PresenceShow sent_show;
	char *sent_status;
	int sent_priority;

	/* Desired own presence (SetPresence, else the config). */
	PresenceShow show;
	char *status;
	int priority;
	char *nick; /* NULL: none */

	ServiceState state;
	char *state_reason;
	char *state_message;
	char *jid; /* bound full JID while online, else the bare JID */
	char *authentication; /* how the session logged in; "" offline */
	bool roster_ready;
	SubscriptionRequests *requests; /* pending inbound */

	ServiceObserver observer;
	void *observer_data;
	ServiceWireLogFunc wire_log;
	void *wire_log_data;

	/* Desktop integration (issues #7, #15): screen lock, idle, DND and
	 * system sleep. show/status above are what the policy shows. */
	DesktopPolicy *desktop;
	DesktopCause cause;	  /* PresenceCause as last notified */
	int64_t shown_idle_since; /* XEP-0319 stamp as last taken */
	ServiceDesktopHooks desktop_hooks;
	void *desktop_hooks_data;
	bool suspended; /* asleep: no session until service_resume() */
	void (*suspend_done)(void *user_data);
	void *suspend_data;

	/* Issue #14 (service-caps.c): the contacts' caps, kept on disk;
	 * the block list; when the presence was last set (XEP-0012). */
	CapsCache *caps_cache;
	char *caps_path;
	guint caps_save_id;
	bool caps_loaded;
	BlockList *blocked;
	int64_t presence_set_at; /* monotonic */

	bool stopping;
	void (*stop_done)(void *user_data);
	void *stop_data;
	guint stop_idle_id;
};

/* service.c, for service-desktop.c and service-roster.c. */
void service_notify(Service *service, const char *name);
void service_set_string(Service *service, char **field, const char *value,
			const char *property);
void service_send_own_presence(Service *service);
void service_connect_now(Service *service);
void service_close_session(Service *service);
void service_finish_suspend(Service *service);

/* service-desktop.c, for service.c: take what the policy shows (true when
 * what goes to the server changed); a cause changed (changed: the policy
 * says what is shown did), send presence if online. */
bool service_take_desktop_presence(Service *service);
void service_desktop_changed(Service *service, bool changed);

/* service-caps.c: the cache and the list; load reads the cache file
 * (once); at free the cache is written if it changed. */
/* service-auth.c: the login's state (user-agent id, FAST token), and
 * what a login teaches. */
typedef struct {
	char *ua_id;
	char *token; /* wiped when cleared */
	char *token_mech;
	char *expiry;
} ServiceLoginSecrets;
void service_login_secrets_clear(ServiceLoginSecrets *secrets);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ServiceLoginSecrets,
				 service_login_secrets_clear)
/* Fills scfg's user-agent id and token; secrets owns them. */
void service_auth_prepare(Service *service, XmppSessionConfig *scfg,
			  ServiceLoginSecrets *secrets);
/* Online (or resumed): Authentication, the SCRAM mark, a new token. */
void service_auth_remember(Service *service, bool resumed);
/* Closed before online: SASL2 broken → legacy; a refused token goes. */
void service_auth_learn(Service *service);

void service_caps_init(Service *service);
void service_caps_load(Service *service);
void service_caps_free(Service *service);
/* A new session: lend it the cache and the list, add the callbacks. */
void service_caps_prepare(Service *service, XmppSessionCallbacks *callbacks);
void service_caps_attach(Service *service, XmppSession *session);
/* The user set a presence: last activity starts again (XEP-0012). */
void service_caps_touch(Service *service);

/* True when a session is online; else false with SERVICE_ERROR_NOT_CONNECTED
 * naming what (e.g. "a subscription request") needed it. */
bool service_check_online(const Service *service, const char *what,
			  GError **error);
