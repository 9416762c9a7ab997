/*
 * Shared by the fuzz harnesses, the plain replay driver and the seed
 * writer: how an input's first byte names a link type.  The low 7 bits
 * index the link types the decoder accepts, in ascending DLT order; the
 * top bit says the frame was cut by the snaplen, so its wire length is
 * FUZZ_CUT_EXTRA bytes more than what was captured.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

#define FUZZ_MAX_DLT		1024	/* scanned for supported link types */
#define FUZZ_MAX_LINKTYPES	127
#define FUZZ_CUT		0x80
#define FUZZ_CUT_EXTRA		65536u

/* Fill dlts with the supported link types; returns how many. */
static inline size_t
fuzz_linktypes(int dlts[FUZZ_MAX_LINKTYPES])
{
	size_t n = 0;
	int d;

	for (d = 0; d < FUZZ_MAX_DLT && n < FUZZ_MAX_LINKTYPES; d++)
		if (decode_linktype_supported(d))
			dlts[n++] = d;
	return n;
}

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* FUZZ_H */
