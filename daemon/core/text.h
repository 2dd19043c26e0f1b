/* SPDX-License-Identifier: MIT */
/*
 * Small helpers for text that came from the network.
 */
#pragma once

#include <stddef.h>

/*
 * Length of the longest prefix of str (valid UTF-8) that is at most max
 * bytes and ends at a character boundary: the cap on every
 * peer-controlled string (STYLE.md §3) without splitting a character.
 */
size_t text_bounded_len(const char *str, size_t max);
