/* SPDX-License-Identifier: MIT */
/*
 * A stand-in presenced for the presencectl tests: the real bus object
 * (daemon/bus-presence.c) over tests/support/fake-service.c, seeded with
 * contacts whose text needs escaping. Every call the bus layer makes to the
 * service is printed to stdout, one line each. Every SetPresence is echoed as a
 * presence change of echo@example.net, so `presencectl watch` has
 * something to show. Stops on SIGTERM/SIGINT or bus loss.
 */
#include "config.h"

#include <glib-unix.h>
#include <stdio.h>

#include "bus-presence.h"
#include "tests/support/fake-service.h"

typedef struct {
	GMainLoop *loop;
	int status;
} Fake;

static gboolean on_signal(gpointer user_data)
{
	Fake *fake = user_data;

	g_main_loop_quit(fake->loop);
	return G_SOURCE_CONTINUE;
}

static void on_disconnect(void *user_data)
{
	Fake *fake = user_data;

	fake->status = 1;
	g_main_loop_quit(fake->loop);
}

static void seed(Service *service)
{
	static const char *const family[] = {"Family", "Friends, close", NULL};
	static const char *const work[] = {"Work\tand\\stuff", NULL};

	fake_service_set_jid(service, "alice@example.org/laptop");
	fake_service_set_state(service, SERVICE_STATE_ONLINE, "", "");
	fake_service_set_roster_ready(service, true);
	fake_service_roster_item(service, "bob@example.net", "Bob",
				 ROSTER_SUBSCRIPTION_BOTH, family);
	fake_service_roster_item(service, "carol@example.net", "Carol\nSmith",
				 ROSTER_SUBSCRIPTION_TO, work);
	/* Our request to dave awaits an answer (GetSubscription). */
	fake_service_roster_item_full(service, "dave@example.net", "",
				      ROSTER_SUBSCRIPTION_NONE, true, NULL);
	fake_service_contact_online(service, "bob@example.net", "phone",
				    PRESENCE_SHOW_AWAY, "on\tthe\nroad \\o/",
				    5);
	fake_service_contact_online(service, "bob@example.net", "desk",
				    PRESENCE_SHOW_CHAT, "at my desk", -1);
	fake_service_contact_offline(service, "carol@example.net", NULL,
				     "gone home");
	fake_service_request(service, "eve@example.com", "let me\tin\nplease");
	fake_service_request(service, "frank@example.com", "");
	fake_service_set_echo(service, "echo@example.net");
	fake_service_add_client(service, "bob@example.net", "phone", "phone",
				"Conversations\t2", NULL);
	fake_service_set_blocked(
		service, (const char *const[]){"spam.example",
					       "troll@example.com", NULL});
	fake_service_clear_calls(service);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(BusPresence) bus = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	Service *service = fake_service_new();
	Fake fake = {loop, 0};

	seed(service);
	bus = bus_presence_new(service, on_disconnect, &fake, &error);
	if (!bus) {
		fprintf(stderr, "fake-presenced: %s\n", error->message);
		fake_service_free(service);
		return error->code == BUS_PRESENCE_ERROR_NAME_TAKEN ? 3 : 1;
	}
	g_unix_signal_add(SIGTERM, on_signal, &fake);
	g_unix_signal_add(SIGINT, on_signal, &fake);
	fake_service_set_log(service, stdout);
	g_main_loop_run(loop);
	g_clear_pointer(&bus, bus_presence_free);
	fake_service_free(service);
	return fake.status;
}
