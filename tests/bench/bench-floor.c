/* SPDX-License-Identifier: MIT */
/*
 * The machine's floors, as clients of the bench server in direct-TLS mode
 * (no XMPP negotiation: it is not timed) and in memory:
 *   tls    decrypt with GnuTLS and discard; answer the ping
 *   table  decrypt, libxml2 SAX2 push parse, a GHashTable of contacts and
 *          resources (what a tracker must do at least); answer the ping
 *   sax    libxml2 SAX2 push parser alone over the plaintext, in memory
 */
#include "config.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <libxml/parser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench-floor.h"

/* ---- the table floor's SAX handlers ------------------------------------ */

typedef struct {
	char *status;
	int priority;
	char show[8];
} FloorResource;

typedef struct {
	gnutls_session_t tls;
	GHashTable *contacts; /* bare → GHashTable resource → FloorResource */
	int depth;
	bool is_presence, is_iq, has_ping, unavailable;
	char *from, *id;
	GString *text;
	int field; /* 0 none, 1 show, 2 status, 3 priority */
	char show[8];
	char *status;
	int priority;
	unsigned long n_elements;
} FloorParser;

static void resource_free(gpointer p)
{
	FloorResource *r = p;

	g_free(r->status);
	g_free(r);
}

static void contact_free(gpointer p)
{
	g_hash_table_unref(p);
}

static const char *find_attr(int n, const xmlChar **attrs, const char *name)
{
	static char buf[3072];

	/* SAX2 attributes: localname, prefix, URI, value, end. */
	for (int i = 0; i < n; i++) {
		if (strcmp((const char *)attrs[i * 5], name) == 0) {
			size_t len =
				(size_t)(attrs[i * 5 + 4] - attrs[i * 5 + 3]);
			if (len >= sizeof(buf))
				len = sizeof(buf) - 1;
			memcpy(buf, attrs[i * 5 + 3], len);
			buf[len] = '\0';
			return buf;
		}
	}
	return NULL;
}

static void sax_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
		      const xmlChar *uri, int n_ns, const xmlChar **ns,
		      int n_attrs, int n_defaulted, const xmlChar **attrs)
{
	FloorParser *p = ctx;
	const char *n = (const char *)name;

	p->depth++;
	p->n_elements++;
	if (p->contacts == NULL)
		return;
	if (p->depth == 2) {
		const char *v;
		p->is_presence = strcmp(n, "presence") == 0;
		p->is_iq = strcmp(n, "iq") == 0;
		p->has_ping = false;
		p->unavailable = false;
		g_free(p->from);
		g_free(p->id);
		v = find_attr(n_attrs, attrs, "from");
		p->from = v ? g_strdup(v) : NULL;
		v = find_attr(n_attrs, attrs, "id");
		p->id = v ? g_strdup(v) : NULL;
		v = find_attr(n_attrs, attrs, "type");
		p->unavailable = v != NULL && strcmp(v, "unavailable") == 0;
		strcpy(p->show, "");
		g_clear_pointer(&p->status, g_free);
		p->priority = 0;
	} else if (p->depth == 3) {
		p->field = strcmp(n, "show") == 0	? 1
			   : strcmp(n, "status") == 0	? 2
			   : strcmp(n, "priority") == 0 ? 3
							: 0;
		if (p->is_iq && strcmp(n, "ping") == 0)
			p->has_ping = true;
		g_string_truncate(p->text, 0);
	}
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
	FloorParser *p = ctx;

	if (p->contacts != NULL && p->depth == 3 && p->field != 0)
		g_string_append_len(p->text, (const char *)ch, len);
}

static void presence_done(FloorParser *p)
{
	const char *slash;
	g_autofree char *bare = NULL;
	GHashTable *resources;

	if (p->from == NULL)
		return;
	slash = strchr(p->from, '/');
	bare = slash ? g_strndup(p->from, (gsize)(slash - p->from))
		     : g_strdup(p->from);
	resources = g_hash_table_lookup(p->contacts, bare);
	if (p->unavailable) {
		if (resources != NULL)
			g_hash_table_remove(resources, slash ? slash + 1 : "");
		return;
	}
	if (resources == NULL) {
		resources = g_hash_table_new_full(g_str_hash, g_str_equal,
						  g_free, resource_free);
		g_hash_table_insert(p->contacts, g_steal_pointer(&bare),
				    resources);
	}
	FloorResource *r =
		g_hash_table_lookup(resources, slash ? slash + 1 : "");
	if (r == NULL) {
		r = g_new0(FloorResource, 1);
		g_hash_table_insert(resources, g_strdup(slash ? slash + 1 : ""),
				    r);
	}
	g_strlcpy(r->show, p->show, sizeof(r->show));
	g_free(r->status);
	r->status = g_steal_pointer(&p->status);
	r->priority = p->priority;
}

static void sax_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
		    const xmlChar *uri)
{
	FloorParser *p = ctx;

	if (p->contacts != NULL && p->depth == 3) {
		switch (p->field) {
		case 1:
			g_strlcpy(p->show, p->text->str, sizeof(p->show));
			break;
		case 2:
			g_free(p->status);
			p->status = g_strdup(p->text->str);
			break;
		case 3:
			p->priority = atoi(p->text->str);
			break;
		default:
			break;
		}
		p->field = 0;
	} else if (p->contacts != NULL && p->depth == 2) {
		if (p->is_presence) {
			presence_done(p);
		} else if (p->is_iq && p->has_ping && p->id != NULL) {
			g_autofree char *reply = g_strdup_printf(
				"<iq type='result' id='%s'/>", p->id);
			(void)gnutls_record_send(p->tls, reply, strlen(reply));
		}
	}
	p->depth--;
}

static xmlSAXHandler sax_handler(void)
{
	xmlSAXHandler h;

	memset(&h, 0, sizeof(h));
	h.initialized = XML_SAX2_MAGIC;
	h.startElementNs = sax_start;
	h.endElementNs = sax_end;
	h.characters = sax_chars;
	return h;
}

/* The parser alone, in this thread: CPU time is its time, whatever else
 * the shared machine runs. */
static int64_t thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double bench_floor_sax(const GString *bytes, unsigned long *ret_elements)
{
	xmlSAXHandler h = sax_handler();
	FloorParser p = {0};
	xmlParserCtxtPtr ctx;
	int64_t t0, t1;

	t0 = thread_cpu_us();
	ctx = xmlCreatePushParserCtxt(&h, &p, NULL, 0, NULL);
	for (gsize off = 0; off < bytes->len; off += 16384) {
		gsize n = MIN((gsize)16384, bytes->len - off);
		(void)xmlParseChunk(ctx, bytes->str + off, (int)n, 0);
	}
	t1 = thread_cpu_us();
	xmlFreeParserCtxt(ctx);
	*ret_elements = p.n_elements;
	return (double)(t1 - t0) / 1e6;
}

/* ---- the TLS clients --------------------------------------------------- */

static int connect_loopback(unsigned port)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("floor: connect");
		return -1;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* The ping ends the blob: keep the last 256 bytes seen and look there. */
static void scan_ping(gnutls_session_t tls, GString *win, const char *buf,
		      size_t len)
{
	size_t take = MIN(len, (size_t)256);
	const char *end, *p;

	g_string_append_len(win, buf + len - take, (gssize)take);
	if (win->len > 256)
		g_string_erase(win, 0, (gssize)(win->len - 256));
	end = g_strstr_len(win->str, (gssize)win->len, "</iq>");
	if (end == NULL)
		return;
	p = g_strrstr_len(win->str, end - win->str, "id='bping-");
	if (p != NULL) {
		const char *q = strchr(p + 4, '\'');
		g_autofree char *id = g_strndup(p + 4, (gsize)(q - p - 4));
		g_autofree char *reply =
			g_strdup_printf("<iq type='result' id='%s'/>", id);
		(void)gnutls_record_send(tls, reply, strlen(reply));
	}
	g_string_truncate(win, 0);
}

int bench_floor_client(const char *mode, unsigned port, const char *ca_file)
{
	gnutls_certificate_credentials_t cred;
	gnutls_session_t tls;
	bool table = strcmp(mode, "table") == 0;
	char *buf = g_malloc(65536);
	g_autoptr(GString) win = g_string_new(NULL);
	int fd, r;
	xmlSAXHandler h = sax_handler();
	FloorParser p = {0};
	xmlParserCtxtPtr ctx = NULL;

	fd = connect_loopback(port);
	if (fd < 0)
		return 1;
	gnutls_certificate_allocate_credentials(&cred);
	if (gnutls_certificate_set_x509_trust_file(cred, ca_file,
						   GNUTLS_X509_FMT_PEM) <= 0) {
		fprintf(stderr, "floor: cannot read %s\n", ca_file);
		return 1;
	}
	gnutls_init(&tls, GNUTLS_CLIENT);
	gnutls_set_default_priority(tls);
	gnutls_credentials_set(tls, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_server_name_set(tls, GNUTLS_NAME_DNS, "bench.test", 10);
	gnutls_session_set_verify_cert(tls, "bench.test", 0);
	gnutls_transport_set_int(tls, fd);
	do {
		r = gnutls_handshake(tls);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		fprintf(stderr, "floor: handshake: %s\n", gnutls_strerror(r));
		return 1;
	}
	if (table) {
		p.tls = tls;
		p.text = g_string_new(NULL);
		p.contacts = g_hash_table_new_full(g_str_hash, g_str_equal,
						   g_free, contact_free);
		ctx = xmlCreatePushParserCtxt(&h, &p, NULL, 0, NULL);
	}
	for (;;) {
		ssize_t n = gnutls_record_recv(tls, buf, 65536);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			continue;
		if (n <= 0)
			break;
		if (table)
			(void)xmlParseChunk(ctx, buf, (int)n, 0);
		else
			scan_ping(tls, win, buf, (size_t)n);
	}
	/* The table stays until exit: the driver reads our RSS before. */
	close(fd);
	return 0;
}
