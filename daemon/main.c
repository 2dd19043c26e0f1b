/* SPDX-License-Identifier: MIT */
/* Placeholder until the daemon lands (issue #2). */
#include "config.h"

#include <stdio.h>

int main(void)
{
	puts(PACKAGE_STRING);
	return 0;
}
