/* SPDX-License-Identifier: MIT */
/*
 * The service: one XMPP session kept alive on behalf of the desktop.
 *
 * Life of a session: service_connect_now() creates an XmppSession and a
 * Connection that feeds it. The session reports online() (send the desired
 * presence), contact changes, subscription requests and finally closed().
 * closed() can come from deep inside the connection's I/O callbacks or
 * synchronously from xmpp_session_close(), so it only records why and schedules
 * an idle (teardown) that frees the connection and session and then decides
 * what next: nothing, wait for the user, or reconnect after a back-off.
 *
 * Here too: own presence (SetPresence), the desktop's causes (lock, idle,
 * DND: desktop-policy.c decides, this applies) and sleep. The
 * roster and subscription methods are in service-roster.c.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "core/roster.h"
#include "core/tls-session.h"
#include "core/xmpp-session.h"
#include "daemon/account-state.h"
#include "daemon/connection.h"
#include "daemon/desktop-policy.h"
#include "daemon/retry-policy.h"
#include "daemon/service-private.h"
#include "daemon/service.h"
#include "daemon/session-sink.h"
#include "daemon/subscription-requests.h"
#include "daemon/validate.h"

/*
 * After a drop, contacts keep their last known presence this long while we
 * reconnect (a short outage should not flap every contact); past it the
 * table says what we know: nothing (offline).
 */
#define HOLD_CONTACTS_MS (120u * 1000u)
/*
 * A close we asked for (offline, reload, suspend, stop) waits this long for
 * the server's </stream:stream>; then the TCP connection is dropped, so a
 * server or link that never answers cannot keep State online or hold the
 * next SetPresence back.
 */
#define CLOSE_TIMEOUT_MS (5u * 1000u)

bool service_take_desktop_presence(Service *service);

const char *service_state_to_string(ServiceState state)
{
	switch (state) {
	case SERVICE_STATE_OFFLINE:
		return "offline";
	case SERVICE_STATE_CONNECTING:
		return "connecting";
	case SERVICE_STATE_ONLINE:
		return "online";
	case SERVICE_STATE_RECONNECTING:
		return "reconnecting";
	}
	return "offline";
}

int64_t service_backoff_delay(unsigned attempt, uint32_t random)
{
	/*
	 * base = 1 s << attempt, at most half the cap; the delay is uniform
	 * in [base, 2 base): spread out so that many clients cut off at once
	 * do not come back at once, and never above the cap.
	 */
	int64_t base = G_USEC_PER_SEC;

	for (unsigned i = 0; i < attempt && base < SERVICE_BACKOFF_CAP / 2; i++)
		base *= 2;
	base = MIN(base, SERVICE_BACKOFF_CAP / 2);
	return base + (int64_t)(((uint64_t)base * random) >> 32);
}

/* ---- properties --------------------------------------------------------- */

void service_notify(Service *service, const char *name)
{
	if (service->observer.property_changed)
		service->observer.property_changed(service->observer_data,
						   name);
}

void service_set_string(Service *service, char **field, const char *value,
			const char *name)
{
	if (g_strcmp0(*field, value) == 0)
		return;
	g_free(*field);
	*field = g_strdup(value);
	service_notify(service, name);
}

static void set_state(Service *service, ServiceState state)
{
	if (service->state == state)
		return;
	g_info("state: %s -> %s", service_state_to_string(service->state),
	       service_state_to_string(state));
	service->state = state;
	service_notify(service, "State");
	if (service->desktop_hooks.state_changed)
		service->desktop_hooks.state_changed(
			service->desktop_hooks_data, state);
}

static void set_reason(Service *service, const char *reason,
		       const char *message)
{
	service_set_string(service, &service->state_reason, reason,
			   "StateReason");
	service_set_string(service, &service->state_message, message,
			   "StateMessage");
}

static void set_roster_ready(Service *service, bool ready)
{
	if (service->roster_ready == ready)
		return;
	service->roster_ready = ready;
	service_notify(service, "RosterReady");
}

static const char *jid_domain(const char *bare)
{
	const char *at = strchr(bare, '@');

	return at ? at + 1 : bare;
}

/*
 * Session messages name the domain, and the host connected to where it is
 * another (CONTRACT.md StateMessage).
 */
static char *message_naming_domain(const Service *service, const char *message)
{
	const char *domain = jid_domain(service->config->jid);
	const char *host = service->host;
	g_autofree char *text = NULL;

	if (!message || !*message)
		text = g_strdup_printf("Session with %s ended", domain);
	else if (strstr(message, domain))
		text = g_strdup(message);
	else
		text = g_strdup_printf("%s: %s", domain, message);
	if (host && g_ascii_strcasecmp(host, domain) != 0 &&
	    !strstr(text, host))
		return g_strdup_printf("%s (server %s)", text, host);
	return g_steal_pointer(&text);
}

/* ---- output ------------------------------------------------------------ */

/*
 * The session's output_ready: the one place that asks for a flush. The
 * connection's own dispatches (input, timer) flush by themselves.
 */
static void on_output_ready(void *user_data)
{
	Service *service = user_data;

	if (service->connection)
		connection_schedule_flush(service->connection);
}

/* ---- session callbacks -------------------------------------------------- */

void service_send_own_presence(Service *service)
{
	PresenceSpec spec = {
		.show = service->show,
		.status = service->status,
		.priority = service->priority,
		/* XEP-0319: idle since the lock or inactivity, while an
		 * automatic presence is shown. */
		.idle_since = service->shown_idle_since,
	};

	if (!service->session || service->session_closed || service->closing ||
	    service->state != SERVICE_STATE_ONLINE)
		return;
	if (!xmpp_session_send_presence(service->session, &spec)) {
		g_warning("could not send presence: session not online");
		return;
	}
	service->sent_valid = true;
	service->sent_show = service->show;
	g_free(service->sent_status);
	service->sent_status = g_strdup(service->status);
	service->sent_priority = service->priority;
}

static void cancel_hold(Service *service)
{
	g_clear_handle_id(&service->hold_id, g_source_remove);
}

static bool is_answered(const char *jid, void *user_data)
{
	const Contact *c = contacts_lookup(user_data, jid);

	return c && contact_is_in_roster(c) &&
	       roster_subscription_has_from(contact_get_subscription(c));
}

/*
 * Requests answered while we were away (from another client): the roster
 * shows the contact subscribed to us already (RFC 6121 §3.1.5).
 */
static void prune_requests(Service *service)
{
	subscription_requests_remove_if(service->requests, is_answered,
					service->contacts);
}

static void on_online(void *user_data, const char *full_jid)
{
	Service *service = user_data;

	g_info("online as %s", full_jid);
	service_auth_remember(service, false);
	cancel_hold(service);
	g_clear_pointer(&service->resume, stream_mgmt_free);
	service->sent_valid = false;
	service->online_since = g_get_monotonic_time();
	service_set_string(service, &service->jid, full_jid, "Jid");
	set_reason(service, "", "");
	prune_requests(service);
	set_roster_ready(service, true);
	set_state(service, SERVICE_STATE_ONLINE);
	/* The session publishes the nick with PEP by itself. */
	service_send_own_presence(service);
	/* XEP-0352: a new session starts active; say so if it is not. */
	if (desktop_policy_is_locked(service->desktop))
		(void)xmpp_session_send_csi(service->session, false);
}

/*
 * XEP-0198: the old stream is back. Contacts never saw us leave and the
 * table stands; only a presence set during the drop still has to go.
 */
static void on_resumed(void *user_data, const char *full_jid)
{
	Service *service = user_data;

	g_info("resumed the session as %s", full_jid);
	service_auth_remember(service, true);
	cancel_hold(service);
	service->online_since = g_get_monotonic_time();
	service_set_string(service, &service->jid, full_jid, "Jid");
	set_reason(service, "", "");
	set_roster_ready(service, true);
	set_state(service, SERVICE_STATE_ONLINE);
	if (!service->sent_valid || service->sent_show != service->show ||
	    g_strcmp0(service->sent_status, service->status) != 0 ||
	    service->sent_priority != service->priority)
		service_send_own_presence(service);
}

/*
 * The one step up from the table to the observer: the contact is looked up
 * here, once, and the observer gets its state (it looks nothing up).
 */
static void on_contact_changed(void *user_data, const char *bare_jid)
{
	Service *service = user_data;
	const Contact *c;

	if (!service->observer.presence_changed)
		return;
	c = contacts_lookup(service->contacts, bare_jid);
	service->observer.presence_changed(service->observer_data, bare_jid,
					   c ? contact_get_show(c)
					     : PRESENCE_SHOW_OFFLINE,
					   c ? contact_get_status(c) : "");
}

static void on_roster_item_changed(void *user_data, const char *bare_jid)
{
	Service *service = user_data;

	/*
	 * The roster result itself is not announced item by item: readers
	 * take GetRosterItems when RosterReady turns true, and a 50,000-item
	 * roster must not become 50,000 signals. Pushes after that are.
	 */
	if (!service->roster_ready)
		return;
	if (service->observer.roster_changed)
		service->observer.roster_changed(service->observer_data,
						 bare_jid);
}

static void on_subscription_request(void *user_data, const char *bare_jid,
				    const char *message)
{
	Service *service = user_data;

	/* A repeated request replaces the message (CONTRACT.md). */
	(void)subscription_requests_insert(service->requests, bare_jid,
					   message);
	g_info("subscription request from %s", bare_jid);
	if (service->observer.subscription_requested)
		service->observer.subscription_requested(
			service->observer_data, bare_jid,
			message ? message : "");
}

static void on_subscription_request_gone(void *user_data, const char *bare_jid)
{
	Service *service = user_data;

	(void)subscription_requests_remove(service->requests, bare_jid);
}

static gboolean teardown(gpointer user_data);

static void on_closed(void *user_data, XmppSessionEnd reason,
		      const GError *error)
{
	Service *service = user_data;

	if (service->session_closed)
		return;
	service->session_closed = true;
	service->end_reason = reason;
	if (service->session)
		service_auth_learn(service);
	/* Asked now: what the sink saw up to the read that ended it. */
	service->end_tls_verified =
		session_sink_is_tls_verified(&service->sink);
	g_free(service->end_message);
	service->end_message = error ? g_strdup(error->message) : NULL;
	/* Not here: we may be deep inside the session or the connection. */
	service->teardown_id = g_idle_add(teardown, service);
}

static void on_log_wire(void *user_data, bool sent, const char *text)
{
	Service *service = user_data;

	if (service->wire_log)
		service->wire_log(service->wire_log_data, sent, text);
}

/* ---- the connection ----------------------------------------------------- */

/* The bus cannot keep up with what the server sends: read no further. */
static bool on_congested(void *user_data)
{
	Service *service = user_data;

	return service->observer.is_congested &&
	       service->observer.is_congested(service->observer_data);
}

static void on_input_drained(void *user_data)
{
	Service *service = user_data;

	if (service->observer.input_drained)
		service->observer.input_drained(service->observer_data);
}

void service_flush_output(Service *service)
{
	g_return_if_fail(service != NULL);

	connection_flush_scheduled(service->connection);
}

static void on_connected(void *user_data, const char *host)
{
	Service *service = user_data;

	g_free(service->host);
	service->host = g_strdup(host);
	g_info("connected to %s for %s", host,
	       jid_domain(service->config->jid));
}

/* No TCP connection could be made: the session never started. */
static void on_connect_failed(void *user_data, const GError *error)
{
	Service *service = user_data;

	/* Allowed: failed() is the connection's last act. */
	g_clear_pointer(&service->connection, connection_free);
	if (service->session_closed)
		return; /* teardown pending already */
	on_closed(service, XMPP_SESSION_END_NETWORK, error);
}

/* ---- session life ------------------------------------------------------- */

static void drop_session(Service *service)
{
	bool blocking;

	if (service->session &&
	    xmpp_session_get_blocking_found(service->session, &blocking))
		service->blocking_hint = blocking;
	g_clear_handle_id(&service->teardown_id, g_source_remove);
	g_clear_handle_id(&service->close_id, g_source_remove);
	service->closing = false;
	/* Connection first: its last flush still reads the session. */
	g_clear_pointer(&service->connection, connection_free);
	g_clear_pointer(&service->session, xmpp_session_free);
	service->session_closed = false;
}

static void clear_presence(Service *service)
{
	g_autoptr(GPtrArray) changed =
		contacts_clear_presence(service->contacts);

	cancel_hold(service);
	/* A resumed stream would not bring the presence again. */
	g_clear_pointer(&service->resume, stream_mgmt_free);
	for (guint i = 0; changed && i < changed->len; i++)
		on_contact_changed(service, g_ptr_array_index(changed, i));
}

static gboolean hold_expired(gpointer user_data)
{
	Service *service = user_data;

	service->hold_id = 0;
	g_info("still not back online: contacts read offline until we are");
	clear_presence(service);
	return G_SOURCE_REMOVE;
}

/*
 * A drop we reconnect from: keep the table (a resumed stream keeps it for
 * good, a new session resynchronises it, xmpp-session.h) for a while.
 */
static void hold_presence(Service *service)
{
	if (!service->hold_id)
		service->hold_id =
			g_timeout_add(HOLD_CONTACTS_MS, hold_expired, service);
}

static gboolean reconnect_due(gpointer user_data)
{
	Service *service = user_data;

	service->reconnect_id = 0;
	service_connect_now(service);
	return G_SOURCE_REMOVE;
}

static void schedule_reconnect(Service *service)
{
	int64_t now = g_get_monotonic_time();
	int64_t delay =
		service_backoff_delay(service->attempts, g_random_int());

	/* A handful of connections a minute, whatever the back-off says. */
	delay = MAX(delay, retry_policy_earliest(&service->window, now) - now);
	service->attempts++;
	g_warning("%s, retrying in %.1f s", service->state_message,
		  (double)delay / G_USEC_PER_SEC);
	g_clear_handle_id(&service->reconnect_id, g_source_remove);
	service->reconnect_id =
		g_timeout_add_full(G_PRIORITY_DEFAULT, (guint)(delay / 1000),
				   reconnect_due, service, NULL);
	set_state(service, SERVICE_STATE_RECONNECTING);
}

void service_finish_suspend(Service *service)
{
	void (*done)(void *) = service->suspend_done;

	set_state(service, SERVICE_STATE_OFFLINE);
	service->suspend_done = NULL;
	if (done)
		done(service->suspend_data);
}

static void finish_stop(Service *service)
{
	void (*done)(void *) = service->stop_done;

	service->stop_done = NULL;
	if (done)
		done(service->stop_data);
}

/* CONTRACT.md "Staying connected": only a believable rejection stops us. */
static bool end_is_final(const Service *service, XmppSessionEnd reason,
			 const char *message)
{
	RetryPolicyEnd end = {
		.reason = reason,
		.tls_verified = service->end_tls_verified,
		.message = message,
		.domain = jid_domain(service->config->jid),
	};

	return retry_policy_is_final(&end);
}

/* After a session is gone: say why and decide what comes next. */
static void session_ended(Service *service, XmppSessionEnd reason,
			  const char *message)
{
	g_autofree char *text =
		reason == XMPP_SESSION_END_REQUESTED
			? g_strdup_printf("Disconnected from %s as requested",
					  jid_domain(service->config->jid))
			: message_naming_domain(service, message);
	int64_t now = g_get_monotonic_time();

	if (service->online_since &&
	    now - service->online_since >= SERVICE_BACKOFF_RESET)
		service->attempts = 0;
	service->online_since = 0;

	set_roster_ready(service, false);
	service_set_string(service, &service->jid, service->config->jid, "Jid");
	service_set_string(service, &service->authentication, "",
			   "Authentication");
	if ((reason == XMPP_SESSION_END_NETWORK ||
	     reason == XMPP_SESSION_END_SERVER_ERROR) &&
	    !service->stopping && service->show != PRESENCE_SHOW_OFFLINE)
		hold_presence(service);
	else
		clear_presence(service);
	set_reason(service, xmpp_session_end_to_string(reason), text);

	if (service->stopping) {
		set_state(service, SERVICE_STATE_OFFLINE);
		finish_stop(service);
		return;
	}
	if (service->suspended) {
		service_finish_suspend(service);
		return;
	}

	if (reason == XMPP_SESSION_END_REQUESTED) {
		g_info("%s", text);
		/* Closed for a restart (config reload) rather than offline? */
		if (service->show != PRESENCE_SHOW_OFFLINE)
			service_connect_now(service);
		else
			set_state(service, SERVICE_STATE_OFFLINE);
		return;
	}
	if (service->show == PRESENCE_SHOW_OFFLINE) {
		set_state(service, SERVICE_STATE_OFFLINE);
		return;
	}
	if (end_is_final(service, reason, message)) {
		/* Retrying cannot help: wait for SIGHUP or a SetPresence. */
		g_warning("%s; not retrying until the configuration is "
			  "reloaded or presence is set again",
			  text);
		set_state(service, SERVICE_STATE_OFFLINE);
		return;
	}
	schedule_reconnect(service);
}

static gboolean teardown(gpointer user_data)
{
	Service *service = user_data;
	XmppSessionEnd reason = service->end_reason;
	g_autofree char *message = g_steal_pointer(&service->end_message);

	service->teardown_id = 0;
	/* A dropped link may be resumed (XEP-0198); a stream error or a
	 * close of ours may not. */
	if (reason == XMPP_SESSION_END_NETWORK && service->session) {
		StreamMgmt *sm =
			xmpp_session_steal_resume_state(service->session);

		if (sm) {
			stream_mgmt_free(service->resume);
			service->resume = sm;
		}
	} else {
		g_clear_pointer(&service->resume, stream_mgmt_free);
	}
	drop_session(service);
	session_ended(service, reason, message);
	return G_SOURCE_REMOVE;
}

void service_connect_now(Service *service)
{
	g_autoptr(GError) error = NULL;
	g_auto(ServiceLoginSecrets) secrets = {0};
	XmppSessionConfig scfg = {
		.jid = service->config->jid,
		.password = service->config->password,
		.resource = service->config->resource,
		.ca_file = service->config->ca_file,
		.direct_tls = service->config->direct_tls,
		.scram_worked_before =
			account_state_scram_worked(NULL, service->config->jid),
		.legacy_sasl_only = service->legacy_sasl_only,
		.device = g_get_host_name(),
		.csi_inactive = desktop_policy_is_locked(service->desktop),
		.blocking_hint = service->blocking_hint,
	};
	XmppSessionCallbacks callbacks = {
		.online = on_online,
		.contact_changed = on_contact_changed,
		.roster_item_changed = on_roster_item_changed,
		.subscription_request = on_subscription_request,
		.subscription_request_gone = on_subscription_request_gone,
		.closed = on_closed,
		.log_wire = service->wire_log ? on_log_wire : NULL,
		.resumed = on_resumed,
		.output_ready = on_output_ready,
	};
	ConnectionConfig ccfg = {
		.domain = jid_domain(service->config->jid),
		.server = service->config->server,
		.port = service->config->port,
		.direct_tls = service->config->direct_tls,
	};
	static const ConnectionCallbacks conn_callbacks = {
		.connected = on_connected,
		.failed = on_connect_failed,
		.congested = on_congested,
		.input_drained = on_input_drained,
	};

	g_clear_handle_id(&service->reconnect_id, g_source_remove);
	if (service->session || service->stopping)
		return;
	service_auth_prepare(service, &scfg, &secrets);

	g_clear_pointer(&service->host, g_free);
	retry_policy_note_attempt(&service->window, g_get_monotonic_time());
	service->end_tls_verified = false;
	service_caps_prepare(service, &callbacks);
	service->session = xmpp_session_new(&scfg, service->contacts,
					    &callbacks, service, &error);
	if (service->session)
		service_caps_attach(service, service->session);
	if (service->session && service->resume)
		xmpp_session_set_resume_state(
			service->session, g_steal_pointer(&service->resume));
	if (!service->session) {
		g_autofree char *text = g_strdup_printf(
			"%s: %s", service->config->path, error->message);

		g_warning("cannot start a session: %s", text);
		set_reason(service, "config", text);
		set_state(service, SERVICE_STATE_OFFLINE);
		return;
	}
	xmpp_session_set_nick(service->session, service->nick);
	set_state(service, service->attempts > 0 ? SERVICE_STATE_RECONNECTING
						 : SERVICE_STATE_CONNECTING);
	g_info("connecting to %s as %s", ccfg.domain, service->config->jid);
	session_sink_init(&service->sink, service->session);
	service->connection =
		connection_new(&ccfg, session_sink_get_funcs(), &service->sink,
			       &conn_callbacks, service);
}

static gboolean close_expired(gpointer user_data)
{
	Service *service = user_data;
	g_autoptr(GError) error = g_error_new(
		XMPP_SESSION_ERROR, XMPP_SESSION_END_REQUESTED,
		"%s did not answer our close within %u s; connection dropped",
		jid_domain(service->config->jid), CLOSE_TIMEOUT_MS / 1000);

	service->close_id = 0;
	g_info("%s", error->message);
	/* teardown() frees the connection, which closes the socket. */
	on_closed(service, XMPP_SESSION_END_REQUESTED, error);
	return G_SOURCE_REMOVE;
}

/*
 * Ends the session on the user's behalf. An established stream gets its
 * goodbye (xmpp_session_close) and CLOSE_TIMEOUT_MS for the server's
 * answer; one still looking for its server is just dropped.
 */
void service_close_session(Service *service)
{
	if (!service->session || service->session_closed || service->closing)
		return;
	if (!connection_is_connected(service->connection)) {
		drop_session(service);
		session_ended(service, XMPP_SESSION_END_REQUESTED, NULL);
		return;
	}
	/* RFC 6121 §4.5.1: going offline on purpose tells contacts why
	 * (CONTRACT.md additions v3); a stop or a suspend says nothing. */
	xmpp_session_close_with_status(service->session,
				       service->show == PRESENCE_SHOW_OFFLINE
					       ? service->status
					       : NULL);
	if (service->session_closed)
		return; /* it ended at once */
	service->closing = true;
	service->close_id =
		g_timeout_add(CLOSE_TIMEOUT_MS, close_expired, service);
}

/* ---- public ------------------------------------------------------------- */

Service *service_new(Settings *config)
{
	Service *service;

	g_return_val_if_fail(config && config->jid, NULL);

	service = g_new0(Service, 1);
	service->config = config;
	service->contacts = contacts_new();
	service->show = config->show;
	service->status = g_strdup(config->status ? config->status : "");
	service->priority = config->priority;
	service->nick =
		config->nick && *config->nick ? g_strdup(config->nick) : NULL;
	service->state = SERVICE_STATE_OFFLINE;
	service->state_reason = g_strdup("");
	service->state_message = g_strdup("");
	/* PRESENCED_SASL2=0: the RFC 6120 login even where SASL2 is offered
	 * (troubleshooting, and the legacy column of the reconnect bench). */
	service->legacy_sasl_only =
		g_strcmp0(g_getenv("PRESENCED_SASL2"), "0") == 0;
	service->jid = g_strdup(config->jid);
	service->requests =
		subscription_requests_new(SUBSCRIPTION_REQUESTS_MAX);
	service->desktop = desktop_policy_new(service->show, service->status);
	(void)desktop_policy_set_options(
		service->desktop,
		&(DesktopOptions){config->away_on_lock,
				  config->dnd_follows_desktop});
	service->cause = DESKTOP_CAUSE_USER;
	service_caps_init(service);
	return service;
}

void service_free(Service *service)
{
	if (!service)
		return;
	g_clear_handle_id(&service->reconnect_id, g_source_remove);
	g_clear_handle_id(&service->stop_idle_id, g_source_remove);
	cancel_hold(service);
	if (service->netmon) {
		g_signal_handler_disconnect(service->netmon,
					    service->netmon_handler);
		g_clear_object(&service->netmon);
	}
	drop_session(service);
	service_caps_free(service);
	stream_mgmt_free(service->resume);
	g_free(service->sent_status);
	contacts_free(service->contacts);
	settings_free(service->config);
	g_free(service->end_message);
	g_free(service->host);
	g_free(service->status);
	g_free(service->nick);
	g_free(service->state_reason);
	g_free(service->state_message);
	g_free(service->jid);
	g_free(service->authentication);
	subscription_requests_free(service->requests);
	desktop_policy_free(service->desktop);
	g_free(service);
}

void service_set_observer(Service *service, const ServiceObserver *observer,
			  void *user_data)
{
	g_return_if_fail(service);

	if (observer)
		service->observer = *observer;
	else
		memset(&service->observer, 0, sizeof(service->observer));
	service->observer_data = user_data;
}

void service_set_wire_log(Service *service, ServiceWireLogFunc func,
			  void *user_data)
{
	g_return_if_fail(service);

	service->wire_log = func;
	service->wire_log_data = user_data;
}

void service_network_changed(Service *service, bool available, bool full)
{
	int64_t now = g_get_monotonic_time();
	bool better;

	g_return_if_fail(service);

	better = available && (!service->network_available ||
			       (full && !service->network_full));
	service->network_available = available;
	service->network_full = full;
	if (!better || !service->reconnect_id || service->stopping ||
	    service->suspended)
		return;
	/* A flapping link must not become a reconnect storm. */
	if (retry_policy_earliest(&service->window, now) > now) {
		g_debug("network is back, but we tried often enough lately");
		return;
	}
	g_info("network is available again: reconnecting now");
	service_connect_now(service);
}

static bool is_full(GNetworkMonitor *monitor)
{
	return g_network_monitor_get_connectivity(monitor) ==
	       G_NETWORK_CONNECTIVITY_FULL;
}

static void on_network_changed(GNetworkMonitor *monitor, gboolean available,
			       gpointer user_data)
{
	service_network_changed(user_data, available, is_full(monitor));
}

void service_start(Service *service)
{
	g_return_if_fail(service);

	service_caps_load(service);
	if (!service->netmon) {
		service->netmon = g_object_ref(g_network_monitor_get_default());
		service->netmon_handler = g_signal_connect(
			service->netmon, "network-changed",
			G_CALLBACK(on_network_changed), service);
		service->network_available =
			g_network_monitor_get_network_available(
				service->netmon);
		service->network_full = is_full(service->netmon);
	}

	if (service->show != PRESENCE_SHOW_OFFLINE)
		service_connect_now(service);
}

static gboolean stop_idle(gpointer user_data)
{
	Service *service = user_data;

	service->stop_idle_id = 0;
	finish_stop(service);
	return G_SOURCE_REMOVE;
}

void service_stop(Service *service, void (*done)(void *user_data),
		  void *user_data)
{
	g_return_if_fail(service);

	service->stop_done = done;
	service->stop_data = user_data;
	if (service->stopping)
		return;
	service->stopping = true;
	g_clear_handle_id(&service->reconnect_id, g_source_remove);

	if (service->session && !service->session_closed) {
		service_close_session(service); /* session_ended() calls done */
		if (service->session)
			return;
	} else if (service->session) {
		return; /* teardown pending: it calls done */
	}
	set_state(service, SERVICE_STATE_OFFLINE);
	if (!service->stop_idle_id && service->stop_done)
		service->stop_idle_id = g_idle_add(stop_idle, service);
}

static bool same_str(const char *a, const char *b)
{
	return g_strcmp0(a && *a ? a : NULL, b && *b ? b : NULL) == 0;
}

static bool account_changed(const Settings *a, const Settings *b)
{
	return !same_str(a->jid, b->jid) ||
	       !same_str(a->password, b->password) ||
	       !same_str(a->resource, b->resource) ||
	       !same_str(a->server, b->server) || a->port != b->port ||
	       a->direct_tls != b->direct_tls ||
	       !same_str(a->ca_file, b->ca_file);
}

bool service_reload_config(Service *service, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(Settings) config = NULL;
	bool changed;

	g_return_val_if_fail(service, false);

	/* SIGHUP is also how to make a changed system trust store count. */
	tls_session_forget_trust();
	config = settings_load(service->config->path, &local);
	if (!config) {
		g_warning("configuration not reloaded: %s", local->message);
		set_reason(service, "config", local->message);
		g_propagate_error(error, g_steal_pointer(&local));
		return false;
	}

	g_info("configuration reloaded from %s", config->path);
	changed = account_changed(service->config, config);
	if (changed)
		service->blocking_hint = false; /* maybe another server */
	if (!same_str(service->config->jid, config->jid)) {
		/* Another account: our roster version and requests are not
		 * its own; the next roster result replaces the items. */
		contacts_set_roster_ver(service->contacts, NULL);
		subscription_requests_clear(service->requests);
	}
	/* The complaint about the previous file no longer holds. */
	if (g_strcmp0(service->state_reason, "config") == 0)
		set_reason(service, "", "");
	settings_free(service->config);
	service->config = g_steal_pointer(&config);
	service_desktop_changed(
		service,
		desktop_policy_set_options(
			service->desktop,
			&(DesktopOptions){
				service->config->away_on_lock,
				service->config->dnd_follows_desktop}));
	if (service->state != SERVICE_STATE_ONLINE)
		service_set_string(service, &service->jid, service->config->jid,
				   "Jid");
	if (service->desktop_hooks.settings_changed)
		service->desktop_hooks.settings_changed(
			service->desktop_hooks_data);

	if (service->stopping || service->show == PRESENCE_SHOW_OFFLINE)
		return true;
	if (service->session && !service->session_closed) {
		/* session_ended(REQUESTED) reconnects with the new account. */
		if (changed)
			service_close_session(service);
		return true;
	}
	if (service->session)
		return true; /* teardown pending decides */
	/* Failed for auth/TLS/conflict/config, or waiting to retry. */
	service->attempts = 0;
	service_connect_now(service);
	return true;
}

const Settings *service_get_settings(const Service *service)
{
	return service->config;
}

bool service_check_online(const Service *service, const char *what,
			  GError **error)
{
	if (service->state == SERVICE_STATE_ONLINE && service->session &&
	    !service->session_closed && !service->closing)
		return true;
	g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_NOT_CONNECTED,
		    "%s needs an online session (state is %s)", what,
		    service_state_to_string(service->state));
	return false;
}

bool service_set_presence(Service *service, const char *show_str,
			  const char *status,
			  const ServicePresenceOptions *options, GError **error)
{
	static const ServicePresenceOptions no_options;
	g_autofree char *to = NULL;
	PresenceShow show;
	int priority;

	g_return_val_if_fail(service, false);
	if (!options)
		options = &no_options;
	if (!status)
		status = "";

	/* Everything is checked before anything changes or is sent. */
	if (!validate_show(show_str, &show, error) ||
	    !validate_text("status", status, PRESENCE_MAX_STATUS_BYTES, error))
		return false;
	if (options->has_priority &&
	    !validate_priority(options->priority, error))
		return false;
	if (options->nick && !validate_text("nick", options->nick,
					    PRESENCE_MAX_NICK_BYTES, error))
		return false;
	if (options->to) {
		to = validate_jid("options['to']", options->to, true, error);
		if (!to)
			return false;
	}
	priority =
		options->has_priority ? options->priority : service->priority;

	if (to) {
		/* Directed presence (RFC 6121 §4.6): own presence unchanged. */
		PresenceSpec spec = {
			.show = show,
			.status = status,
			.priority = priority,
			.to = to,
			.nick = options->nick ? options->nick : service->nick,
		};

		if (!service_check_online(service, "directed presence", error))
			return false;
		if (!xmpp_session_send_presence(service->session, &spec)) {
			g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_FAILED,
				    "directed presence to %s not sent", to);
			return false;
		}
		return true;
	}

	if (options->nick) {
		/*
		 * The user's nickname (XEP-0172): carried in later subscription
		 * requests and directed presence, never in broadcasts (§4.5),
		 * and published with PEP by the session where it can.
		 */
		const char *nick = *options->nick ? options->nick : NULL;

		if (g_strcmp0(service->nick, nick) != 0) {
			g_free(service->nick);
			service->nick = g_strdup(nick);
		}
		if (service->session && !service->session_closed)
			xmpp_session_set_nick(service->session, service->nick);
	}
	/* Set by the user or an app: wins over every cause active now. */
	(void)desktop_policy_set_user(service->desktop, show, status);
	service_caps_touch(service);
	(void)service_take_desktop_presence(service);
	if (service->priority != priority) {
		service->priority = priority;
		service_notify(service, "Priority");
	}

	if (show == PRESENCE_SHOW_OFFLINE) {
		/*
		 * Unavailable presence, then the stream closes and stays
		 * closed until a SetPresence with another show.
		 */
		if (service->reconnect_id) {
			g_clear_handle_id(&service->reconnect_id,
					  g_source_remove);
			service->attempts = 0;
			set_reason(service, "requested",
				   "Not reconnecting: offline as requested");
			set_state(service, SERVICE_STATE_OFFLINE);
		}
		/* xmpp_session_close() sends the unavailable presence. */
		service_close_session(service);
		if (!service->session &&
		    service->state != SERVICE_STATE_OFFLINE)
			set_state(service, SERVICE_STATE_OFFLINE);
		return true;
	}

	if (service->state == SERVICE_STATE_ONLINE) {
		service_send_own_presence(service);
	} else if (!service->session && !service->reconnect_id &&
		   !service->stopping) {
		/* Offline (asked, or failed): a new SetPresence tries again. */
		service->attempts = 0;
		service_connect_now(service);
	}
	/* Else: negotiating or waiting to retry; sent once online. */
	return true;
}

PresenceShow service_get_show(const Service *service)
{
	return service->show;
}

const char *service_get_status(const Service *service)
{
	return service->status;
}

int service_get_priority(const Service *service)
{
	return service->priority;
}

ServiceState service_get_state(const Service *service)
{
	return service->state;
}

const char *service_get_state_reason(const Service *service)
{
	return service->state_reason;
}

const char *service_get_state_message(const Service *service)
{
	return service->state_message;
}

const char *service_get_jid(const Service *service)
{
	return service->jid;
}

const char *service_get_authentication(const Service *service)
{
	return service->authentication ? service->authentication : "";
}

bool service_get_roster_ready(const Service *service)
{
	return service->roster_ready;
}

const ContactTable *service_get_contacts(const Service *service)
{
	return service->contacts;
}
