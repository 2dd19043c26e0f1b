/* SPDX-License-Identifier: MIT */
/* The floors of the benchmark (see bench-floor.c). */
#pragma once

#include <glib.h>
#include <stdbool.h>

/* CPU seconds of libxml2's SAX2 push parser over bytes (16 KiB chunks). */
double bench_floor_sax(const GString *bytes, unsigned long *ret_elements);

/* Runs a floor client ("tls" or "table") against the bench server in
 * direct-TLS mode until it closes; the process exit status. */
int bench_floor_client(const char *mode, unsigned port, const char *ca_file);
