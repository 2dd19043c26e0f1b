/* SPDX-License-Identifier: MIT */
/*
 * The stream reader's lexer (xml-reader.c): over the raw bytes, before
 * libxml2, where the last markup ends, so that the reader hands libxml2
 * only whole tags. On the way it counts a tag's attributes and refuses
 * two constructs itself that libxml2 would misreport or sit on (see
 * xml_lexer_scan). No allocation, no I/O; the state carries over from one
 * feed to the next.
 */
#pragma once

#include <stddef.h>

#include "core/xml-reader.h"

/*
 * Where the bytes fed so far stand, as far as finding the end of a tag
 * goes. libxml2 2.9's push parser rescans an unfinished start tag each
 * time a chunk with a '>' arrives, which a '>' inside an attribute value
 * (legal) turns into quadratic time. So the reader hands libxml2 only
 * input up to the last '>' that ends markup, and holds the rest.
 */
typedef enum {
	XML_LEX_TEXT,	     /* character data */
	XML_LEX_TAG_OPEN,    /* just after '<' */
	XML_LEX_TAG,	     /* in a start or end tag */
	XML_LEX_TAG_EQ,	     /* after '=' in a tag, before the quote */
	XML_LEX_QUOTE,	     /* in a quoted attribute value */
	XML_LEX_BANG_PREFIX, /* after "<!", matching "[CDATA[" */
	XML_LEX_BANG,	     /* "<?...", "<!...": ends at any '>' */
	XML_LEX_CDATA,	     /* in a CDATA section, ends at "]]>" */
} XmlLexState;

typedef struct {
	XmlLexState state;
	/* XML_LEX_BANG_PREFIX: chars matched; XML_LEX_CDATA: ']'s seen */
	unsigned n;
	char quote;
	unsigned attrs;	   /* '=' seen in the current tag */
	const char *error; /* set by xml_lexer_scan(): bad from its result on */
	XmlReaderError error_code;
} XmlLexer;

/* Back to the start of a stream: character data, no error. */
void xml_lexer_reset(XmlLexer *lexer);

/*
 * Scans data with the lexer's state and returns the length of its longest
 * prefix that ends where markup ends (0: none). It counts attributes
 * (libxml2's duplicate check is quadratic in their number; more than
 * max_attrs is a policy violation) and rejects two things itself, since
 * libxml2 would misreport or sit on them: a markup declaration
 * ("<!DOCTYPE", "<!ENTITY", ...: after the stream header just a syntax
 * error to libxml2, but it is the DTD RFC 6120 §11.1 forbids) and '<' in
 * an attribute value (libxml2 waits for a '>' after a closing quote that
 * may never come). Then error is set and the return value is where the
 * bad construct starts, which is up to two bytes before data (*ret_back
 * bytes of the input held from earlier feeds) when "<!" came in an
 * earlier feed.
 */
size_t xml_lexer_scan(XmlLexer *lexer, unsigned max_attrs, const char *data,
		      size_t len, size_t *ret_back);
