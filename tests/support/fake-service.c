/* SPDX-License-Identifier: MIT */
/* Test double of daemon/service.h; see fake-service.h. */
#include "config.h"

#include <string.h>

#include "core/roster.h"
#include "daemon/validate.h"
#include "tests/support/fake-service.h"

struct _Service {
	GStrv blocked;
	GPtrArray *clients; /* ServiceClient*, resource = "bare/resource" */
	const ServiceObserver *observer;
	void *observer_data;
	ContactTable *contacts;
	SubscriptionRequests *requests;
	GPtrArray *calls;
	bool fail_next;
	ServiceError fail_code;
	char *fail_message;
	PresenceShow show;
	char *status;
	int priority;
	ServiceState state;
	char *reason;
	char *message;
	char *jid;
	bool roster_ready;
	char *echo_jid;
	unsigned flushes;	 /* service_flush_output() calls */
	unsigned calls_at_flush; /* calls->len at the last one */
	int64_t clock;
	FILE *log;
};

static const char *const state_names[] = {
	[SERVICE_STATE_OFFLINE] = "offline",
	[SERVICE_STATE_CONNECTING] = "connecting",
	[SERVICE_STATE_ONLINE] = "online",
	[SERVICE_STATE_RECONNECTING] = "reconnecting",
};

const char *service_state_to_string(ServiceState state)
{
	if ((size_t)state >= G_N_ELEMENTS(state_names))
		return "offline";
	return state_names[state];
}

Service *fake_service_new(void)
{
	Service *service = g_new0(Service, 1);

	service->contacts = contacts_new();
	service->requests =
		subscription_requests_new(SUBSCRIPTION_REQUESTS_MAX);
	service->calls = g_ptr_array_new_with_free_func(g_free);
	service->show = PRESENCE_SHOW_AVAILABLE;
	service->status = g_strdup("");
	service->priority = 0;
	service->reason = g_strdup("");
	service->message = g_strdup("");
	service->jid = g_strdup("alice@example.org");
	service->blocked = g_new0(char *, 1);
	service->clients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)service_client_free);
	return service;
}

void fake_service_free(Service *service)
{
	if (!service)
		return;
	contacts_free(service->contacts);
	subscription_requests_free(service->requests);
	g_ptr_array_unref(service->calls);
	g_free(service->fail_message);
	g_free(service->status);
	g_free(service->reason);
	g_free(service->message);
	g_free(service->jid);
	g_free(service->echo_jid);
	g_strfreev(service->blocked);
	g_ptr_array_unref(service->clients);
	g_free(service);
}

const GPtrArray *fake_service_get_calls(const Service *service)
{
	return service->calls;
}

void fake_service_clear_calls(Service *service)
{
	g_ptr_array_set_size(service->calls, 0);
}

void fake_service_fail_next(Service *service, ServiceError code,
			    const char *message)
{
	service->fail_next = true;
	service->fail_code = code;
	g_free(service->fail_message);
	service->fail_message = g_strdup(message);
}

static void record(Service *service, const char *format, ...)
	G_GNUC_PRINTF(2, 3);
static void record(Service *service, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	g_ptr_array_add(service->calls, g_strdup_vprintf(format, ap));
	va_end(ap);
	if (service->log) {
		fprintf(service->log, "%s\n",
			(const char *)
				service->calls->pdata[service->calls->len - 1]);
		fflush(service->log);
	}
}

void fake_service_set_log(Service *service, FILE *out)
{
	service->log = out;
}

static bool failing(Service *service, GError **error)
{
	if (!service->fail_next)
		return false;
	service->fail_next = false;
	g_set_error_literal(error, SERVICE_ERROR, service->fail_code,
			    service->fail_message);
	return true;
}

static void notify(Service *service, const char *name)
{
	if (service->observer && service->observer->property_changed)
		service->observer->property_changed(service->observer_data,
						    name);
}

void service_set_observer(Service *service, const ServiceObserver *observer,
			  void *user_data)
{
	service->observer = observer;
	service->observer_data = user_data;
}

bool service_set_presence(Service *service, const char *show,
			  const char *status,
			  const ServicePresenceOptions *options, GError **error)
{
	g_autofree char *to = NULL;
	PresenceShow value;

	/* The real service's checks, in its order: a bad value is no call. */
	if (!validate_show(show, &value, error) ||
	    !validate_text("status", status, PRESENCE_MAX_STATUS_BYTES,
			   error) ||
	    (options->has_priority &&
	     !validate_priority(options->priority, error)) ||
	    (options->nick && !validate_text("nick", options->nick,
					     PRESENCE_MAX_NICK_BYTES, error)))
		return false;
	if (options->to &&
	    !(to = validate_jid("options['to']", options->to, true, error)))
		return false;
	record(service,
	       "set_presence show=%s status=%s priority=%s%d "
	       "nick=%s to=%s",
	       show, status,
	       options->has_priority ? "" : "unset:", options->priority,
	       options->nick ? options->nick : "(null)", to ? to : "(null)");
	if (failing(service, error))
		return false;
	if (to)
		return true; /* directed: own presence unchanged */
	if (value != service->show) {
		service->show = value;
		notify(service, "Show");
	}
	if (strcmp(status, service->status) != 0) {
		g_free(service->status);
		service->status = g_strdup(status);
		notify(service, "Status");
	}
	if (options->has_priority && options->priority != service->priority) {
		service->priority = options->priority;
		notify(service, "Priority");
	}
	if (service->echo_jid)
		fake_service_emit_presence(service, service->echo_jid, value,
					   status);
	return true;
}

const char *service_get_presence_cause(const Service *service)
{
	return "user";
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
	return service->reason;
}

const char *service_get_state_message(const Service *service)
{
	return service->message;
}

const char *service_get_authentication(const Service *service)
{
	(void)service;
	return "TLS 1.3, SCRAM-SHA-256-PLUS (tls-exporter)";
}

const char *service_get_jid(const Service *service)
{
	return service->jid;
}

bool service_get_roster_ready(const Service *service)
{
	return service->roster_ready;
}

const ContactTable *service_get_contacts(const Service *service)
{
	return service->contacts;
}

bool service_subscribe(Service *service, const char *jid, const char *message,
		       GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);

	if (!bare ||
	    (message && !validate_text("message", message,
				       PRESENCE_MAX_STATUS_BYTES, error)))
		return false;
	record(service, "subscribe jid=%s message=%s", bare, message);
	return !failing(service, error);
}

bool service_unsubscribe(Service *service, const char *jid, GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);

	if (!bare)
		return false;
	record(service, "unsubscribe jid=%s", bare);
	return !failing(service, error);
}

bool service_authorize(Service *service, const char *jid, bool allow,
		       GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);

	if (!bare)
		return false;
	record(service, "authorize jid=%s allow=%s", bare,
	       allow ? "true" : "false");
	return !failing(service, error);
}

bool service_remove_contact(Service *service, const char *jid, GError **error)
{
	g_autofree char *bare = validate_jid("jid", jid, false, error);

	if (!bare)
		return false;
	record(service, "remove_contact jid=%s", bare);
	return !failing(service, error);
}

const SubscriptionRequests *
service_get_subscription_requests(const Service *service)
{
	return service->requests;
}

bool service_block(Service *service, const char *jid, GError **error)
{
	g_autofree char *target = validate_block_target("jid", jid, error);

	if (!target)
		return false;
	record(service, "block jid=%s", target);
	return !failing(service, error);
}

bool service_unblock(Service *service, const char *jid, GError **error)
{
	g_autofree char *target = validate_block_target("jid", jid, error);

	if (!target)
		return false;
	record(service, "unblock jid=%s", target);
	return !failing(service, error);
}

char **service_dup_blocked(const Service *service)
{
	return g_strdupv(service->blocked);
}

void service_client_free(ServiceClient *client)
{
	if (!client)
		return;
	g_free(client->resource);
	g_free(client->type);
	g_free(client->name);
	g_strfreev(client->features);
	g_free(client);
}

GPtrArray *service_dup_contact_clients(const Service *service,
				       const char *bare_jid)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(
		(GDestroyNotify)service_client_free);
	size_t len = strlen(bare_jid);

	for (guint i = 0; i < service->clients->len; i++) {
		const ServiceClient *c = g_ptr_array_index(service->clients, i);
		ServiceClient *copy;

		if (strncmp(c->resource, bare_jid, len) != 0 ||
		    c->resource[len] != '/')
			continue;
		copy = g_new0(ServiceClient, 1);
		copy->resource = g_strdup(c->resource + len + 1);
		copy->type = g_strdup(c->type);
		copy->name = g_strdup(c->name);
		copy->features = g_strdupv(c->features);
		g_ptr_array_add(out, copy);
	}
	return out;
}

void fake_service_set_blocked(Service *service, const char *const *items)
{
	g_strfreev(service->blocked);
	service->blocked = g_strdupv((char **)items);
	notify(service, "Blocked");
}

void fake_service_add_client(Service *service, const char *bare,
			     const char *resource, const char *type,
			     const char *name, const char *const *features)
{
	ServiceClient *c = g_new0(ServiceClient, 1);

	c->resource = g_strdup_printf("%s/%s", bare, resource);
	c->type = g_strdup(type);
	c->name = g_strdup(name);
	c->features = g_strdupv((char **)features);
	g_ptr_array_add(service->clients, c);
}

/* ---- driving the observer ---------------------------------------------- */

static void replace(char **field, const char *value)
{
	g_free(*field);
	*field = g_strdup(value ? value : "");
}

void fake_service_set_state(Service *service, ServiceState state,
			    const char *reason, const char *message)
{
	service->state = state;
	replace(&service->reason, reason);
	replace(&service->message, message);
	notify(service, "State");
	notify(service, "StateReason");
	notify(service, "StateMessage");
}

void fake_service_set_jid(Service *service, const char *jid)
{
	replace(&service->jid, jid);
	notify(service, "Jid");
}

void fake_service_set_roster_ready(Service *service, bool ready)
{
	service->roster_ready = ready;
	notify(service, "RosterReady");
}

void service_flush_output(Service *service)
{
	service->flushes++;
	service->calls_at_flush = service->calls->len;
}

unsigned fake_service_get_flushes(const Service *service,
				  unsigned *ret_calls_at_flush)
{
	if (ret_calls_at_flush)
		*ret_calls_at_flush = service->calls_at_flush;
	return service->flushes;
}

void fake_service_input_drained(Service *service)
{
	if (service->observer && service->observer->input_drained)
		service->observer->input_drained(service->observer_data);
}

void fake_service_emit_presence(Service *service, const char *jid,
				PresenceShow show, const char *status)
{
	if (service->observer && service->observer->presence_changed)
		service->observer->presence_changed(service->observer_data, jid,
						    show, status);
}

static void report(Service *service, const char *bare)
{
	const Contact *contact = contacts_lookup(service->contacts, bare);

	if (contact)
		fake_service_emit_presence(service, bare,
					   contact_get_show(contact),
					   contact_get_status(contact));
	else
		fake_service_emit_presence(service, bare, PRESENCE_SHOW_OFFLINE,
					   "");
}

void fake_service_contact_online(Service *service, const char *bare,
				 const char *resource, PresenceShow show,
				 const char *status, int priority)
{
	if (contacts_update_resource(service->contacts, bare, resource, show,
				     status, priority))
		report(service, bare);
}

void fake_service_contact_offline(Service *service, const char *bare,
				  const char *resource, const char *status)
{
	if (contacts_remove_resource(service->contacts, bare, resource, status))
		report(service, bare);
}

static void apply_roster_item(Service *service, const RosterItem *item)
{
	bool item_changed, changed;

	/* Like xmpp-session.c: the item first, then its presence. */
	changed =
		roster_apply_item_full(service->contacts, item, &item_changed);
	if (item_changed && service->observer &&
	    service->observer->roster_changed)
		service->observer->roster_changed(service->observer_data,
						  item->jid);
	if (changed)
		report(service, item->jid);
}

void fake_service_roster_item_full(Service *service, const char *bare,
				   const char *name, RosterSubscription sub,
				   bool ask, const char *const *groups)
{
	g_auto(RosterItem) item = {0};

	item.jid = g_strdup(bare);
	item.name = name && name[0] ? g_strdup(name) : NULL;
	item.subscription = sub;
	item.ask = ask;
	if (groups && groups[0]) {
		item.groups = g_ptr_array_new_with_free_func(g_free);
		for (size_t i = 0; groups[i]; i++)
			g_ptr_array_add(item.groups, g_strdup(groups[i]));
	}
	apply_roster_item(service, &item);
}

void fake_service_roster_item(Service *service, const char *bare,
			      const char *name, RosterSubscription sub,
			      const char *const *groups)
{
	fake_service_roster_item_full(service, bare, name, sub, false, groups);
}

void fake_service_roster_remove(Service *service, const char *bare)
{
	g_auto(RosterItem) item = {0};

	item.jid = g_strdup(bare);
	item.remove = true;
	apply_roster_item(service, &item);
}

void fake_service_request(Service *service, const char *jid,
			  const char *message)
{
	(void)subscription_requests_insert(service->requests, jid, message);
	if (service->observer && service->observer->subscription_requested)
		service->observer->subscription_requested(
			service->observer_data, jid, message);
}

void fake_service_set_echo(Service *service, const char *echo_jid)
{
	replace(&service->echo_jid, echo_jid);
	if (!echo_jid)
		g_clear_pointer(&service->echo_jid, g_free);
}
