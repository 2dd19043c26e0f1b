/* SPDX-License-Identifier: MIT */
/*
 * The Service and the desktop (issues #7, #15): screen lock, idle and Do
 * Not Disturb go through desktop-policy.c, which decides what is shown;
 * this file takes its answer into the Service's properties and own
 * presence, sends CSI (XEP-0352), and goes offline before the system
 * sleeps and back after it wakes.
 */
#include "config.h"

#include <string.h>

#include "daemon/service-private.h"

static void send_csi(Service *service, bool active)
{
	if (service->state != SERVICE_STATE_ONLINE || !service->session ||
	    service->session_closed || service->closing)
		return;
	(void)xmpp_session_send_csi(service->session, active);
}

/*
 * Takes what the policy shows as own presence, telling the observer what
 * changed. True when what is sent to the server changed.
 */
bool service_take_desktop_presence(Service *service)
{
	PresenceShow show = desktop_policy_get_show(service->desktop);
	const char *status = desktop_policy_get_status(service->desktop);
	DesktopCause cause = desktop_policy_get_cause(service->desktop);
	int64_t since = desktop_policy_get_idle_since(service->desktop);
	bool changed = show != service->show ||
		       g_strcmp0(status, service->status) != 0 ||
		       since != service->shown_idle_since;

	service->shown_idle_since = since;
	if (service->show != show) {
		service->show = show;
		service_notify(service, "Show");
	}
	service_set_string(service, &service->status, status, "Status");
	if (service->cause != cause) {
		service->cause = cause;
		service_notify(service, "PresenceCause");
	}
	return changed;
}

/* A cause changed (changed: the policy says what is shown did). */
void service_desktop_changed(Service *service, bool changed)
{
	if (!changed || !service_take_desktop_presence(service))
		return;
	g_info("presence: %s (%s)", presence_show_to_string(service->show),
	       desktop_cause_to_string(service->cause));
	if (service->state == SERVICE_STATE_ONLINE && service->connection)
		service_send_own_presence(service);
}

static int64_t now_or(int64_t since)
{
	return since > 0 ? since : g_get_real_time() / G_USEC_PER_SEC;
}

void service_set_locked(Service *service, bool locked, int64_t since)
{
	bool changed;

	g_return_if_fail(service);

	if (locked == desktop_policy_is_locked(service->desktop))
		return;
	changed = desktop_policy_set_locked(service->desktop, locked,
					    now_or(since));
	g_info("screen %s", locked ? "locked" : "unlocked");
	/* Away goes out before <inactive/>, <active/> before the restore. */
	if (locked) {
		service_desktop_changed(service, changed);
		send_csi(service, false);
	} else {
		send_csi(service, true);
		service_desktop_changed(service, changed);
	}
}

bool service_is_locked(const Service *service)
{
	return desktop_policy_is_locked(service->desktop);
}

void service_set_dnd(Service *service, bool dnd)
{
	g_return_if_fail(service);

	if (dnd == desktop_policy_is_dnd(service->desktop))
		return;
	g_info("desktop Do Not Disturb %s", dnd ? "on" : "off");
	service_desktop_changed(service,
				desktop_policy_set_dnd(service->desktop, dnd));
}

void service_set_idle(Service *service, DesktopIdle level, int64_t since)
{
	static const char *const names[] = {"active", "idle (away)",
					    "idle (xa)"};

	g_return_if_fail(service);

	if (level == desktop_policy_get_idle(service->desktop))
		return;
	g_info("user %s", names[level]);
	service_desktop_changed(service,
				desktop_policy_set_idle(service->desktop, level,
							now_or(since)));
}

const char *service_get_presence_cause(const Service *service)
{
	return desktop_cause_to_string(service->cause);
}

void service_set_desktop_hooks(Service *service,
			       const ServiceDesktopHooks *hooks,
			       void *user_data)
{
	g_return_if_fail(service);

	if (hooks)
		service->desktop_hooks = *hooks;
	else
		memset(&service->desktop_hooks, 0,
		       sizeof(service->desktop_hooks));
	service->desktop_hooks_data = user_data;
}

void service_suspend(Service *service, void (*done)(void *user_data),
		     void *user_data)
{
	g_return_if_fail(service);

	service->suspend_done = done;
	service->suspend_data = user_data;
	service->suspended = true;
	g_clear_handle_id(&service->reconnect_id, g_source_remove);
	if (service->stopping) {
		service_finish_suspend(service);
		return;
	}
	g_info("the system is going to sleep: going offline");
	if (service->session && !service->session_closed) {
		/* Unavailable presence and </stream:stream> (RFC 6121
		 * §4.5.1); session_ended() calls done. */
		service_close_session(service);
		return;
	}
	if (service->session)
		return; /* teardown pending: session_ended() calls done */
	service_finish_suspend(service);
}

void service_resume(Service *service)
{
	g_return_if_fail(service);

	service->suspended = false;
	service->suspend_done = NULL;
	if (service->stopping || service->show == PRESENCE_SHOW_OFFLINE)
		return;
	g_info("the system woke up: reconnecting");
	/* The outage was ours, not the server's: no back-off. */
	service->attempts = 0;
	if (service->session)
		return; /* still closing: session_ended() reconnects */
	service_connect_now(service);
}
