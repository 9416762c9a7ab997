/* NetFlow v1 and v5 encoders: fixed-format, IPv4 only. */
#ifndef NF5_H
#define NF5_H

#include "export.h"
#include "wbuf.h"

/* Records one datagram of this version can carry within limit bytes. */
size_t	nf5_max_records(int version, size_t limit);
/*
 * Encode recs[0..n) (at most nf5_max_records) into one datagram in w.
 * Counters above 32 bits must have been split by the caller.  v5 headers
 * announce 1-in-sampling deterministic sampling (0 or 1: none), the
 * interval capped at the field's 14 bits.
 */
void	nf5_encode(int version, unsigned sampling, struct export_stream *st,
	    const struct export_clock *clk, const struct flow_record *recs,
	    size_t n, struct wbuf *w);

#endif /* NF5_H */
