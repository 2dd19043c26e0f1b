/* SPDX-License-Identifier: MIT */
/*
 * The stream reader's lexer: where markup ends in the raw bytes, so that
 * libxml2 2.9's push parser gets whole tags only (xml-lexer.h).
 */
#include "config.h"

#include <stdbool.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/xml-lexer.h"

static const bool lex_special[256] = {
	['<'] = true, ['>'] = true, ['='] = true, ['\''] = true, ['"'] = true,
};

/*
 * The first byte at or after i that lex_special holds, or len. This scan
 * of every byte of the stream is the reader's own biggest cost on a
 * presence flood (issue #13): where SSE2 is there (every x86-64), it
 * looks at 16 bytes at a time.
 */
static size_t skip_plain(const char *data, size_t i, size_t len)
{
#ifdef __SSE2__
	const __m128i lt = _mm_set1_epi8('<');
	const __m128i gt = _mm_set1_epi8('>');
	const __m128i eq = _mm_set1_epi8('=');
	const __m128i sq = _mm_set1_epi8('\'');
	const __m128i dq = _mm_set1_epi8('"');

	while (len - i >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(data + i));
		__m128i hit = _mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(v, lt),
				     _mm_cmpeq_epi8(v, gt)),
			_mm_or_si128(_mm_cmpeq_epi8(v, eq),
				     _mm_or_si128(_mm_cmpeq_epi8(v, sq),
						  _mm_cmpeq_epi8(v, dq))));
		unsigned bits = (unsigned)_mm_movemask_epi8(hit);

		if (bits != 0)
			return i + (size_t)__builtin_ctz(bits);
		i += 16;
	}
#endif
	while (i < len && !lex_special[(unsigned char)data[i]])
		i++;
	return i;
}

static bool lex_skips(XmlLexState state)
{
	/* A mask, not a switch: this runs before every byte that matters. */
	return ((1u << XML_LEX_TEXT | 1u << XML_LEX_TAG | 1u << XML_LEX_QUOTE |
		 1u << XML_LEX_BANG) >>
		state) &
	       1u;
}

static void lex_save(XmlLexer *lexer, XmlLexState st, unsigned n,
		     unsigned attrs, char quote)
{
	lexer->state = st;
	lexer->n = n;
	lexer->attrs = attrs;
	lexer->quote = quote;
}

static void lex_fail(XmlLexer *lexer, XmlReaderError code, const char *what)
{
	lexer->error_code = code;
	lexer->error = what;
}

void xml_lexer_reset(XmlLexer *lexer)
{
	*lexer = (XmlLexer){.state = XML_LEX_TEXT};
}

size_t xml_lexer_scan(XmlLexer *lexer, unsigned max_attrs, const char *data,
		      size_t len, size_t *ret_back)
{
	static const char cdata[] = "[CDATA[";
	size_t cut = 0;
	/*
	 * The state in locals, stored back on the way out: through lexer
	 * the compiler would reload it after every byte it reads (a char
	 * pointer may alias anything).
	 */
	XmlLexState st = lexer->state;
	unsigned n = lexer->n;
	unsigned attrs = lexer->attrs;
	char quote = lexer->quote;

	*ret_back = 0;
	for (size_t i = 0; i < len; i++) {
		char c;

		/* Most bytes change nothing: skip them in a tight loop. */
		if (lex_skips(st)) {
			i = skip_plain(data, i, len);
			if (i == len)
				break;
		}
		c = data[i];
		switch (st) {
		case XML_LEX_TEXT:
			if (c == '<')
				st = XML_LEX_TAG_OPEN;
			else if (c == '>')
				cut = i + 1;
			break;
		case XML_LEX_TAG_OPEN:
			if (c == '!') {
				st = XML_LEX_BANG_PREFIX;
				n = 0;
			} else if (c == '?') {
				st = XML_LEX_BANG;
			} else if (c == '>') {
				st = XML_LEX_TEXT;
				cut = i + 1;
			} else {
				st = XML_LEX_TAG;
				attrs = 0;
			}
			break;
		case XML_LEX_TAG:
			if (c == '>') {
				st = XML_LEX_TEXT;
				cut = i + 1;
			} else if (c == '=') {
				st = XML_LEX_TAG_EQ;
				if (++attrs > max_attrs) {
					lex_fail(
						lexer,
						XML_READER_ERROR_POLICY_VIOLATION,
						"element has too many "
						"attributes");
					lex_save(lexer, st, n, attrs, quote);
					return i;
				}
			} else if (c == '<') {
				st = XML_LEX_TAG_OPEN;
			}
			break;
		case XML_LEX_TAG_EQ:
			if (c == '\'' || c == '"') {
				st = XML_LEX_QUOTE;
				quote = c;
			} else if (c == '>') {
				st = XML_LEX_TEXT;
				cut = i + 1;
			} else if (c != ' ' && c != '\t' && c != '\n' &&
				   c != '\r') {
				st = XML_LEX_TAG;
			}
			break;
		case XML_LEX_QUOTE:
			if (c == quote) {
				st = XML_LEX_TAG;
			} else if (c == '<') {
				/* XML 1.0 §3.1 [10] */
				lex_fail(lexer,
					 XML_READER_ERROR_NOT_WELL_FORMED,
					 "'<' in an attribute value");
				lex_save(lexer, st, n, attrs, quote);
				return i;
			}
			break;
		case XML_LEX_BANG_PREFIX:
			if (n == 0 && c != '[' && c != '-') {
				lex_fail(lexer, XML_READER_ERROR_RESTRICTED_XML,
					 "markup declaration (DTD) is not "
					 "allowed");
				lex_save(lexer, st, n, attrs, quote);
				if (i >= 2)
					return i - 2;
				*ret_back = 2 - i;
				return 0;
			}
			if (c == cdata[n]) {
				if (++n == sizeof(cdata) - 1) {
					st = XML_LEX_CDATA;
					n = 0;
				}
			} else if (c == '>') {
				st = XML_LEX_TEXT;
				cut = i + 1;
			} else {
				st = XML_LEX_BANG;
			}
			break;
		case XML_LEX_BANG:
			if (c == '>') {
				st = XML_LEX_TEXT;
				cut = i + 1;
			}
			break;
		case XML_LEX_CDATA:
			if (c == ']') {
				n++;
			} else if (c == '>' && n >= 2) {
				st = XML_LEX_TEXT;
				n = 0;
				cut = i + 1;
			} else {
				n = 0;
			}
			break;
		}
	}
	lex_save(lexer, st, n, attrs, quote);
	return cut;
}
