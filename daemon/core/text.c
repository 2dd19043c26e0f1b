/* SPDX-License-Identifier: MIT */
/*
 * Text helpers shared by the core (text.h): cutting server-controlled
 * strings to a byte bound without splitting a UTF-8 character.
 */
#include <string.h>

#include "core/text.h"

size_t text_bounded_len(const char *str, size_t max)
{
	size_t len = strlen(str);

	if (len <= max)
		return len;
	/* Back over continuation bytes (10xxxxxx) to a character start. */
	len = max;
	while (len > 0 && ((unsigned char)str[len] & 0xC0) == 0x80)
		len--;
	return len;
}
