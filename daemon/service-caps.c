/* SPDX-License-Identifier: MIT */
/*
 * The Service's part of issue #14: the contacts' capabilities cache, which
 * outlives sessions and is kept in $XDG_CACHE_HOME/presenced/caps-cache
 * (read at start, written a few seconds after it learned something and at
 * the end, atomically, 0600), GetContactClients, the block list (XEP-0191)
 * with Block/Unblock and the Blocked property, and the user's last
 * activity for XEP-0012 answers. The session does the protocol; this file
 * lends it the cache and the list and does the file I/O.
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <time.h>

#include "core/caps-cache.h"
#include "core/xmpp-session.h"
#include "daemon/desktop-policy.h"
#include "daemon/service-private.h"
#include "daemon/service.h"
#include "daemon/validate.h"

/* Learning a ver is often followed by others (a login burst): one write
 * for them all. */
#define CAPS_SAVE_DELAY_S 5u

static void load_cache(Service *service)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *data = NULL;
	GStatBuf st;
	gsize len;

	if (g_stat(service->caps_path, &st) != 0)
		return; /* none yet: the first login fills it */
	if ((guint64)st.st_size > CAPS_CACHE_MAX_FILE_BYTES) {
		g_warning("ignoring %s: larger than %u bytes",
			  service->caps_path, CAPS_CACHE_MAX_FILE_BYTES);
		return;
	}
	if (!g_file_get_contents(service->caps_path, &data, &len, &error) ||
	    !caps_cache_load(service->caps_cache, data, len, &error)) {
		g_warning("ignoring %s: %s", service->caps_path,
			  error->message);
		return;
	}
	g_debug("caps cache: %zu entries from %s",
		caps_cache_get_n_entries(service->caps_cache),
		service->caps_path);
}

static void save_cache(Service *service)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_path_get_dirname(service->caps_path);
	g_autofree char *text = caps_cache_serialize(service->caps_cache);

	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_warning("cannot create %s: %s", dir, g_strerror(errno));
		return;
	}
	/* CONSISTENT: a crash leaves the old file or the new, never half. */
	if (!g_file_set_contents_full(service->caps_path, text, -1,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600,
				      &error))
		g_warning("cannot write the caps cache: %s", error->message);
}

static gboolean save_due(gpointer user_data)
{
	Service *service = user_data;

	service->caps_save_id = 0;
	save_cache(service);
	return G_SOURCE_REMOVE;
}

void service_caps_init(Service *service)
{
	service->caps_cache = caps_cache_new();
	service->caps_path = g_build_filename(g_get_user_cache_dir(),
					      "presenced", "caps-cache", NULL);
	service->blocked = blocking_list_new();
	service->presence_set_at = g_get_monotonic_time();
}

void service_caps_load(Service *service)
{
	if (service->caps_loaded)
		return;
	service->caps_loaded = true;
	load_cache(service);
}

void service_caps_free(Service *service)
{
	if (service->caps_save_id) {
		g_clear_handle_id(&service->caps_save_id, g_source_remove);
		save_cache(service);
	}
	g_clear_pointer(&service->caps_cache, caps_cache_free);
	g_clear_pointer(&service->caps_path, g_free);
	g_clear_pointer(&service->blocked, blocking_list_free);
}

void service_caps_touch(Service *service)
{
	service->presence_set_at = g_get_monotonic_time();
}

/* ---- session callbacks -------------------------------------------------- */

static void on_caps_learned(void *user_data)
{
	Service *service = user_data;

	if (service->caps_save_id == 0)
		service->caps_save_id = g_timeout_add_seconds(
			CAPS_SAVE_DELAY_S, save_due, service);
}

static void on_blocked_changed(void *user_data)
{
	Service *service = user_data;

	if (service->observer.property_changed)
		service->observer.property_changed(service->observer_data,
						   "Blocked");
}

/* The contract: the desktop's idle time (the lock or inactivity in
 * force) where it gives one, else the time since the presence was last
 * set. */
static uint64_t on_idle_seconds(void *user_data)
{
	Service *service = user_data;
	int64_t since = desktop_policy_get_idle_since(service->desktop);
	int64_t now = g_get_real_time() / G_USEC_PER_SEC;

	if (since > 0 && now > since)
		return (uint64_t)(now - since);
	return (uint64_t)(g_get_monotonic_time() - service->presence_set_at) /
	       G_USEC_PER_SEC;
}

static void on_own_caps_changed(void *user_data)
{
	service_send_own_presence(user_data);
}

void service_caps_prepare(Service *service, XmppSessionCallbacks *callbacks)
{
	(void)service;
	callbacks->own_caps_changed = on_own_caps_changed;
	callbacks->caps_learned = on_caps_learned;
	callbacks->blocked_changed = on_blocked_changed;
	callbacks->idle_seconds = on_idle_seconds;
}

void service_caps_attach(Service *service, XmppSession *session)
{
	xmpp_session_set_caps_cache(session, service->caps_cache);
	xmpp_session_set_block_list(session, service->blocked);
}

/* ---- Block, Unblock, Blocked -------------------------------------------- */

static bool block(Service *service, const char *jid, bool on, GError **error)
{
	g_autofree char *target = validate_block_target("jid", jid, error);

	if (!target || !service_check_online(service, "blocking", error))
		return false;
	if (!xmpp_session_has_blocking(service->session)) {
		g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_NOT_SUPPORTED,
			    "The server does not offer blocking (XEP-0191)");
		return false;
	}
	if (!xmpp_session_block(service->session, target, on)) {
		g_set_error(error, SERVICE_ERROR, SERVICE_ERROR_FAILED,
			    "%s request for %s not sent",
			    on ? "block" : "unblock", target);
		return false;
	}
	return true;
}

bool service_block(Service *service, const char *jid, GError **error)
{
	g_return_val_if_fail(service != NULL, false);

	return block(service, jid, true, error);
}

bool service_unblock(Service *service, const char *jid, GError **error)
{
	g_return_val_if_fail(service != NULL, false);

	return block(service, jid, false, error);
}

char **service_dup_blocked(const Service *service)
{
	g_return_val_if_fail(service != NULL, NULL);

	return blocking_list_dup_items(service->blocked);
}

/* ---- GetContactClients -------------------------------------------------- */

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

static ServiceClient *client_new(const CapsCache *cache, const char *bare,
				 const char *resource)
{
	g_autofree char *full = g_strdup_printf("%s/%s", bare, resource);
	const CapsInfo *info = caps_cache_lookup_jid(cache, full);
	ServiceClient *client = g_new0(ServiceClient, 1);
	CapsIdentity id;

	client->resource = g_strdup(resource);
	if (info && caps_info_get_main_identity(info, &id)) {
		client->type = g_strdup(id.type);
		client->name = g_strdup(id.name);
		client->features = caps_info_dup_features_sorted(info);
	} else {
		/* The contract: not (yet) verified reads "", "", []. */
		client->type = g_strdup("");
		client->name = g_strdup("");
		client->features = g_new0(char *, 1);
	}
	return client;
}

GPtrArray *service_dup_contact_clients(const Service *service,
				       const char *bare_jid)
{
	GPtrArray *clients = g_ptr_array_new_with_free_func(
		(GDestroyNotify)service_client_free);
	const Contact *c;
	size_t n;

	g_return_val_if_fail(service != NULL, clients);

	c = contacts_lookup(service->contacts, bare_jid);
	n = c ? contact_get_n_resources(c) : 0;
	for (size_t i = 0; i < n; i++) {
		const char *resource = NULL;

		if (contact_get_resource(c, i, &resource, NULL, NULL, NULL))
			g_ptr_array_add(clients,
					client_new(service->caps_cache,
						   bare_jid, resource));
	}
	return clients;
}
