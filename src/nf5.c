/*
 * NetFlow v1 and v5 encoders.  Both carry IPv4 only and times relative to
 * the exporter's sysUpTime; the header's unix_secs/unix_nsecs and
 * sys_uptime are chosen so a collector recovers boot time to the
 * millisecond, and so each flow's real start and end.
 */
#include "nf5.h"

#define V1_MAX_RECORDS	24
#define V5_MAX_RECORDS	30
#define V5_SAMPLING_DET	(1u << 14)	/* mode 01: deterministic 1 in N */
#define V5_INTERVAL_MAX	0x3fffu
#define V1_HDR_LEN	16
#define V5_HDR_LEN	24
#define NF5_REC_LEN	48

/* The export MTU may be below a full datagram (v5: 24 + 30 * 48 bytes). */
size_t
nf5_max_records(int version, size_t limit)
{
	size_t hdr = version == 1 ? V1_HDR_LEN : V5_HDR_LEN;
	size_t max = version == 1 ? V1_MAX_RECORDS : V5_MAX_RECORDS;
	size_t fit = limit > hdr ? (limit - hdr) / NF5_REC_LEN : 0;

	return fit < max ? fit : max;
}

static uint32_t
uptime(const struct export_clock *clk, uint64_t ms)
{
	return ms > clk->boot_ms ? (uint32_t)(ms - clk->boot_ms) : 0;
}

static uint32_t
ipv4(const uint8_t a[16])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	    (uint32_t)a[2] << 8 | a[3];
}

static uint16_t
sampling_field(unsigned sampling)
{
	if (sampling <= 1)
		return 0;
	return (uint16_t)(V5_SAMPLING_DET |
	    (sampling > V5_INTERVAL_MAX ? V5_INTERVAL_MAX : sampling));
}

void
nf5_encode(int version, unsigned sampling, struct export_stream *st,
    const struct export_clock *clk, const struct flow_record *recs, size_t n,
    struct wbuf *w)
{
	const struct flow_record *r;
	size_t i;

	if (n > nf5_max_records(version, w->cap))
		n = nf5_max_records(version, w->cap);
	wbuf_be16(w, (uint16_t)version);
	wbuf_be16(w, (uint16_t)n);
	wbuf_be32(w, uptime(clk, clk->now_ms));
	wbuf_be32(w, (uint32_t)(clk->now_ms / 1000));
	wbuf_be32(w, (uint32_t)(clk->now_ms % 1000) * 1000000u);
	if (version == 5) {
		wbuf_be32(w, st->sequence);
		wbuf_u8(w, 0);		/* engine type */
		wbuf_u8(w, 0);		/* engine id */
		wbuf_be16(w, sampling_field(sampling));
	}
	for (i = 0; i < n; i++) {
		r = &recs[i];
		wbuf_be32(w, ipv4(r->src));
		wbuf_be32(w, ipv4(r->dst));
		wbuf_be32(w, 0);			/* next hop */
		wbuf_be16(w, (uint16_t)r->if_in);
		wbuf_be16(w, (uint16_t)r->if_out);
		wbuf_be32(w, (uint32_t)r->packets);
		wbuf_be32(w, (uint32_t)r->octets);
		wbuf_be32(w, uptime(clk, r->first_ms));
		wbuf_be32(w, uptime(clk, r->last_ms));
		wbuf_be16(w, r->sport);
		wbuf_be16(w, r->dport);
		if (version == 1) {
			wbuf_be16(w, 0);		/* pad */
			wbuf_u8(w, r->proto);
			wbuf_u8(w, r->tos);
			wbuf_u8(w, r->tcp_flags);
			wbuf_reserve(w, 7);		/* pad, reserved */
		} else {
			wbuf_u8(w, 0);			/* pad */
			wbuf_u8(w, r->tcp_flags);
			wbuf_u8(w, r->proto);
			wbuf_u8(w, r->tos);
			wbuf_reserve(w, 8);	/* AS numbers, masks, pad */
		}
	}
	if (version == 5)
		st->sequence += (uint32_t)n;
}
