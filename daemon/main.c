/* SPDX-License-Identifier: MIT */
/*
 * presenced: options, config, logging, the Service, the bus object,
 * signals, the main loop (STYLE.md §6). Exit statuses (CONTRACT.md): 0 on
 * a clean stop, 1 on a configuration error (or a lost/taken bus name),
 * 2 on a usage error.
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>

#include "daemon/bus-desktop.h"
#include "daemon/bus-presence.h"
#include "daemon/settings.h"
#include "daemon/service.h"

/* How long a graceful stop may wait for the server (STYLE.md §6). */
#define STOP_DEADLINE_MS 3000

static char *opt_config;
static gboolean opt_debug;
static gboolean opt_version;

static const GOptionEntry entries[] = {
	{"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
	 "Configuration file (default: "
	 "$XDG_CONFIG_HOME/presenced/presenced.conf)",
	 "FILE"},
	{"debug", 'd', 0, G_OPTION_ARG_NONE, &opt_debug,
	 "Log debug messages and every stanza sent and received "
	 "(secrets redacted)",
	 NULL},
	{"version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
	 "Print the version and exit", NULL},
	{NULL}};

typedef struct {
	GMainLoop *loop;
	Service *service;
	int status;
	bool stopping;
	guint deadline_id;
} Daemon;

static void wire_log(void *user_data, bool sent, const char *text)
{
	/* Already redacted by the session (redact_log_stanza). */
	g_info("%s: %s", sent ? "SEND" : "RECV", text);
}

/*
 * GLib's default writer (journald under systemd, stderr otherwise) with
 * SYSLOG_IDENTIFIER=presenced added: GLib 2.74's journald writer sends
 * none, so `journalctl -t presenced` found nothing. The stderr writer
 * ignores the extra field.
 */
static GLogWriterOutput log_writer(GLogLevelFlags level,
				   const GLogField *fields, gsize n_fields,
				   gpointer user_data)
{
	GLogField *all = g_newa(GLogField, n_fields + 1);

	memcpy(all, fields, n_fields * sizeof(*fields));
	all[n_fields] = (GLogField){"SYSLOG_IDENTIFIER", "presenced", -1};
	return g_log_writer_default(level, all, n_fields + 1, user_data);
}

static gboolean stop_deadline(gpointer user_data)
{
	Daemon *d = user_data;

	d->deadline_id = 0;
	g_warning("the server did not close the stream in time; exiting");
	g_main_loop_quit(d->loop);
	return G_SOURCE_REMOVE;
}

static void stopped(void *user_data)
{
	Daemon *d = user_data;

	g_main_loop_quit(d->loop);
}

/* Goodbye to the server under a hard deadline, then leave the loop. */
static void start_stop(Daemon *d, int status)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->status = status;
	d->deadline_id = g_timeout_add(STOP_DEADLINE_MS, stop_deadline, d);
	service_stop(d->service, stopped, d);
}

static gboolean on_term(gpointer user_data)
{
	Daemon *d = user_data;

	if (d->stopping) {
		g_info("second signal: exiting at once");
		g_main_loop_quit(d->loop);
		return G_SOURCE_CONTINUE;
	}
	g_info("signal received: going offline");
	start_stop(d, EXIT_SUCCESS);
	return G_SOURCE_CONTINUE;
}

static gboolean on_hup(gpointer user_data)
{
	Daemon *d = user_data;

	/* Failure is logged and shown as StateReason "config". */
	(void)service_reload_config(d->service, NULL);
	return G_SOURCE_CONTINUE;
}

static void on_bus_disconnect(void *user_data)
{
	Daemon *d = user_data;

	g_warning("lost the connection to the session bus; exiting");
	start_stop(d, EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(Settings) config = NULL;
	Service *service = NULL;
	g_autoptr(BusPresence) bus = NULL;
	g_autoptr(BusDesktop) desktop = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autofree char *path = NULL;
	Daemon d = {0};
	guint sources[3];

	setlocale(LC_ALL, "");
	g_set_prgname("presenced");
	g_log_set_writer_func(log_writer, NULL, NULL);

	context = g_option_context_new(NULL);
	g_option_context_set_summary(context,
				     "XMPP presence daemon for the desktop.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("presenced: %s\nTry 'presenced --help'.\n",
			   error->message);
		return 2;
	}
	if (argc > 1) {
		g_printerr("presenced: unexpected argument '%s'\n"
			   "Try 'presenced --help'.\n",
			   argv[1]);
		return 2;
	}
	if (opt_version) {
		puts(PACKAGE_STRING);
		return EXIT_SUCCESS;
	}
	/*
	 * --debug shows our debug/info messages (wire lines included) on
	 * stderr or in the journal, without GLib's own debug chatter; an
	 * explicit G_MESSAGES_DEBUG wins. Still single-threaded here.
	 */
	if (opt_debug && !g_getenv("G_MESSAGES_DEBUG"))
		g_setenv("G_MESSAGES_DEBUG", G_LOG_DOMAIN, TRUE);

	path = opt_config ? g_strdup(opt_config) : settings_default_path();
	g_clear_pointer(&opt_config, g_free);
	config = settings_load(path, &error);
	if (!config) {
		/* settings.c names the file, the key and the reason. */
		g_printerr("presenced: %s\n", error->message);
		return EXIT_FAILURE;
	}

	/* Writes go through MSG_NOSIGNAL, but libraries may not. */
	(void)signal(SIGPIPE, SIG_IGN);

	loop = g_main_loop_new(NULL, FALSE);
	service = service_new(g_steal_pointer(&config));
	if (opt_debug)
		service_set_wire_log(service, wire_log, NULL);
	d.loop = loop;
	d.service = service;
	d.status = EXIT_SUCCESS;

	sources[0] = g_unix_signal_add(SIGTERM, on_term, &d);
	sources[1] = g_unix_signal_add(SIGINT, on_term, &d);
	sources[2] = g_unix_signal_add(SIGHUP, on_hup, &d);

	/* Owning the name is the readiness signal: everything else first. */
	bus = bus_presence_new(service, on_bus_disconnect, &d, &error);
	if (!bus) {
		if (g_error_matches(error, BUS_PRESENCE_ERROR,
				    BUS_PRESENCE_ERROR_NAME_TAKEN))
			g_printerr("presenced: another presenced is already "
				   "running for this user "
				   "(im.presenced.Presence1 is owned)\n");
		else
			g_printerr("presenced: cannot use the session bus: "
				   "%s\n",
				   error->message);
		service_free(service);
		return EXIT_FAILURE;
	}

	/* Screen lock and sleep (issue #7); each bus is optional. */
	desktop = bus_desktop_new(service);

	g_info("%s started", PACKAGE_STRING);
	service_start(service);
	g_main_loop_run(loop);

	for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
		g_source_remove(sources[i]);
	g_clear_handle_id(&d.deadline_id, g_source_remove);
	/* Reverse order of creation: the bus object observes the service. */
	g_clear_pointer(&desktop, bus_desktop_free);
	g_clear_pointer(&bus, bus_presence_free);
	g_clear_pointer(&service, service_free);
	g_info("stopped");
	return d.status;
}
