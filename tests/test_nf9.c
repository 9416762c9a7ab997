/*
 * Unit tests of the NetFlow v9 and IPFIX encoders.  Each datagram
 * nf9_encode writes is read back by a small collector written here from
 * RFC 3954 and RFC 7011, independently of src/nf9.c: it learns the
 * templates, then decodes every data record through them, so a test
 * asserts what a collector would see.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "nf9.h"

#define BUFSZ		65000
#define MAXF		64
#define MAXT		32
#define MAXREC		1024
#define PEN_REVERSE	29305
#define NTP_OFFSET	2208988800ULL

/* The collector: templates learnt so far, by id. */
struct field {
	uint16_t	 id;
	uint16_t	 len;
	uint32_t	 pen;
};

struct tmpl {
	uint16_t	 id;
	int		 options;
	unsigned	 nscope;
	unsigned	 nf;
	struct field	 f[MAXF];
	size_t		 reclen;
};

struct rec {
	const struct tmpl *t;
	const uint8_t	*p;
};

struct coll {
	int		 version;
	unsigned	 ntmpl;
	struct tmpl	 tmpl[MAXT];
	/* The last message. */
	uint16_t	 count;		/* v9 */
	uint16_t	 length;	/* IPFIX */
	uint32_t	 uptime;	/* v9 */
	uint32_t	 secs;
	uint32_t	 seq;
	uint32_t	 domain;
	unsigned	 ntemplates;	/* template records in it */
	unsigned	 noptemplates;
	unsigned	 nrec;
	struct rec	 rec[MAXREC];
	unsigned	 ndatasets;
};

static uint64_t
getbe(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static struct tmpl *
coll_tmpl(struct coll *c, uint16_t id)
{
	unsigned i;

	for (i = 0; i < c->ntmpl; i++)
		if (c->tmpl[i].id == id)
			return &c->tmpl[i];
	return NULL;
}

/* Learn one template record; returns the bytes it took. */
static size_t
coll_template(struct coll *c, const uint8_t *p, size_t left, int options)
{
	struct tmpl t, *slot;
	size_t off, i, nfields, nscope = 0;

	memset(&t, 0, sizeof(t));
	if (left < 4)
		fail_msg("template header cut");
	t.id = (uint16_t)getbe(p, 2);
	if (t.id < 256)
		fail_msg("template id %u below 256", t.id);
	t.options = options;
	if (!options) {
		nfields = getbe(p + 2, 2);
		off = 4;
	} else if (c->version == 9) {
		/* RFC 3954 6.1: scope and option lengths in bytes. */
		if (left < 6)
			fail_msg("options template header cut");
		nscope = getbe(p + 2, 2) / 4;
		nfields = nscope + getbe(p + 4, 2) / 4;
		off = 6;
	} else {
		/* RFC 7011 3.4.2.2: field count, then scope field count. */
		if (left < 6)
			fail_msg("options template header cut");
		nfields = getbe(p + 2, 2);
		nscope = getbe(p + 4, 2);
		off = 6;
		if (nscope == 0 || nscope > nfields)
			fail_msg("options template scope count %zu", nscope);
	}
	if (nfields == 0 || nfields > MAXF)
		fail_msg("template %u has %zu fields", t.id, nfields);
	t.nf = (unsigned)nfields;
	t.nscope = (unsigned)nscope;
	for (i = 0; i < nfields; i++) {
		if (off + 4 > left)
			fail_msg("template %u cut in field %zu", t.id, i);
		t.f[i].id = (uint16_t)getbe(p + off, 2);
		t.f[i].len = (uint16_t)getbe(p + off + 2, 2);
		off += 4;
		if (t.f[i].id & 0x8000) {
			if (c->version == 9)
				fail_msg("enterprise bit in a v9 template");
			if (off + 4 > left)
				fail_msg("template %u cut in a PEN", t.id);
			t.f[i].id &= 0x7fff;
			t.f[i].pen = (uint32_t)getbe(p + off, 4);
			off += 4;
		}
		if (t.f[i].len == 0 || t.f[i].len == 0xffff)
			fail_msg("field length %u", t.f[i].len);
		t.reclen += t.f[i].len;
	}
	if ((slot = coll_tmpl(c, t.id)) == NULL) {
		assert_true(c->ntmpl < MAXT);
		slot = &c->tmpl[c->ntmpl++];
	}
	*slot = t;
	return off;
}

/*
 * Read one message: its header, every set, every record.  Fails the
 * test on anything a collector would reject.
 */
static void
coll_read(struct coll *c, const uint8_t *buf, size_t len)
{
	size_t off, end, setlen, hdrlen, used, rem, i;
	uint16_t setid;
	struct tmpl *t;
	int version;

	c->ntemplates = c->noptemplates = c->nrec = c->ndatasets = 0;
	if (len < 16)
		fail_msg("message of %zu bytes", len);
	version = (int)getbe(buf, 2);
	if (version != c->version)
		fail_msg("version %d, want %d", version, c->version);
	if (version == 9) {
		hdrlen = 20;
		if (len < hdrlen)
			fail_msg("v9 header cut");
		c->count = (uint16_t)getbe(buf + 2, 2);
		c->uptime = (uint32_t)getbe(buf + 4, 4);
		c->secs = (uint32_t)getbe(buf + 8, 4);
		c->seq = (uint32_t)getbe(buf + 12, 4);
		c->domain = (uint32_t)getbe(buf + 16, 4);
	} else {
		hdrlen = 16;
		c->length = (uint16_t)getbe(buf + 2, 2);
		if (c->length != len)
			fail_msg("IPFIX length %u, message %zu", c->length, len);
		c->secs = (uint32_t)getbe(buf + 4, 4);
		c->seq = (uint32_t)getbe(buf + 8, 4);
		c->domain = (uint32_t)getbe(buf + 12, 4);
	}
	for (off = hdrlen; off < len; off = end) {
		if (len - off < 4)
			fail_msg("set header cut at %zu", off);
		setid = (uint16_t)getbe(buf + off, 2);
		setlen = getbe(buf + off + 2, 2);
		if (setlen < 4 || setlen > len - off)
			fail_msg("set %u length %zu at %zu of %zu", setid, setlen,
			    off, len);
		if (version == 9 && setlen % 4 != 0)
			fail_msg("v9 set %u not padded: %zu", setid, setlen);
		end = off + setlen;
		off += 4;
		if (setid == (version == 9 ? 0 : 2) ||
		    setid == (version == 9 ? 1 : 3)) {
			int options = setid == (version == 9 ? 1 : 3);

			/* Under 4 bytes left: padding, not a template. */
			while (end - off >= 4) {
				used = coll_template(c, buf + off, end - off,
				    options);
				off += used;
				if (options)
					c->noptemplates++;
				else
					c->ntemplates++;
			}
		} else if (setid >= 256) {
			if ((t = coll_tmpl(c, setid)) == NULL)
				fail_msg("data set %u before its template",
				    setid);
			c->ndatasets++;
			while (end - off >= t->reclen) {
				assert_true(c->nrec < MAXREC);
				c->rec[c->nrec].t = t;
				c->rec[c->nrec].p = buf + off;
				c->nrec++;
				off += t->reclen;
			}
		} else
			fail_msg("reserved set id %u", setid);
		/* What is left is padding: v9 to 32 bits, IPFIX none here. */
		rem = end - off;
		if (version == 9 && rem >= 4)
			fail_msg("v9 set %u: %zu bytes left over", setid, rem);
		if (version == 10 && rem != 0)
			fail_msg("IPFIX set %u: %zu bytes left over", setid,
			    rem);
		for (i = 0; i < rem; i++)
			if (buf[off + i] != 0)
				fail_msg("padding byte is not zero");
	}
	if (version == 9 &&
	    c->count != c->ntemplates + c->noptemplates + c->nrec)
		fail_msg("v9 count %u, message has %u templates, %u options "
		    "templates, %u records", c->count, c->ntemplates,
		    c->noptemplates, c->nrec);
}

/* A field of a record, or NULL when its template lacks it. */
static const uint8_t *
rec_field(const struct rec *r, uint16_t id, uint32_t pen, size_t *len)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; i < r->t->nf; i++) {
		if (r->t->f[i].id == id && r->t->f[i].pen == pen) {
			*len = r->t->f[i].len;
			return r->p + off;
		}
		off += r->t->f[i].len;
	}
	return NULL;
}

static uint64_t
rec_num(const struct rec *r, uint16_t id, uint32_t pen)
{
	const uint8_t *p;
	size_t len;

	if ((p = rec_field(r, id, pen, &len)) == NULL)
		fail_msg("record of template %u lacks element %u/%u", r->t->id,
		    id, pen);
	assert_true(len <= 8);
	return getbe(p, len);
}

static int
rec_has(const struct rec *r, uint16_t id, uint32_t pen)
{
	size_t len;

	return rec_field(r, id, pen, &len) != NULL;
}

static int
tmpl_has(const struct tmpl *t, uint16_t id, uint32_t pen)
{
	unsigned i;

	for (i = 0; i < t->nf; i++)
		if (t->f[i].id == id && t->f[i].pen == pen)
			return 1;
	return 0;
}

static struct flow_record
flowrec(unsigned i, int af, uint8_t proto)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.af = (uint8_t)af;
	if (af == 4) {
		r.src[0] = 192; r.src[1] = 0; r.src[2] = 2;
		r.src[3] = (uint8_t)i;
		r.dst[0] = 198; r.dst[1] = 51; r.dst[2] = 100; r.dst[3] = 1;
	} else {
		r.src[0] = 0x20; r.src[1] = 0x01; r.src[2] = 0x0d;
		r.src[3] = 0xb8; r.src[15] = (uint8_t)i;
		r.dst[0] = 0x20; r.dst[1] = 0x01; r.dst[2] = 0x0d;
		r.dst[3] = 0xb8; r.dst[14] = 1;
	}
	r.proto = proto;
	if (proto == 1 || proto == 58)
		r.dport = proto == 1 ? 0x0303 : 0x8000;
	else {
		r.sport = (uint16_t)(30000 + i);
		r.dport = 443;
	}
	r.tos = 0x28;
	r.tcp_flags = proto == 6 ? 0x1b : 0;
	r.packets = 1000000000000ULL + i;	/* beyond 32 bits */
	r.octets = 5000000000000ULL + i;
	r.first_ms = 1700000000123ULL + i;
	r.last_ms = 1700000059876ULL + i;
	r.if_in = 3;
	r.if_out = 0;
	r.vlan = 42;
	r.inner_vlan = 7;
	r.end_reason = 1;
	return r;
}

static struct nf9 *
enc_new(int version, int biflow, int prec, unsigned mpls, uint32_t domain)
{
	struct nf9_options o;
	struct nf9 *enc;

	memset(&o, 0, sizeof(o));
	o.version = version;
	o.biflow = biflow;
	o.time_prec = prec;
	o.mpls_labels = mpls;
	o.domain_id = domain;
	enc = nf9_new(&o);
	assert_non_null(enc);
	return enc;
}

static const struct export_clock clk = { .now_ms = 1700000100789ULL,
    .boot_ms = 1700000000000ULL - 5000 };

/* What both versions put in every data record. */
static void
check_common(const struct rec *r, const struct flow_record *f)
{
	const uint8_t *p;
	size_t len;
	int v6 = f->af == 6;

	p = rec_field(r, v6 ? 27 : 8, 0, &len);
	assert_non_null(p);
	assert_int_equal(len, v6 ? 16 : 4);
	assert_memory_equal(p, f->src, len);
	p = rec_field(r, v6 ? 28 : 12, 0, &len);
	assert_non_null(p);
	assert_memory_equal(p, f->dst, len);
	assert_false(rec_has(r, v6 ? 8 : 27, 0));
	assert_int_equal(rec_num(r, 7, 0), f->sport);
	assert_int_equal(rec_num(r, 11, 0), f->dport);
	assert_int_equal(rec_num(r, 4, 0), f->proto);
	assert_int_equal(rec_num(r, 5, 0), f->tos);
	assert_int_equal(rec_num(r, 6, 0), f->tcp_flags);
	assert_int_equal(rec_num(r, 2, 0), f->packets);
	assert_int_equal(rec_num(r, 1, 0), f->octets);
	assert_int_equal(rec_num(r, 10, 0), f->if_in);
	assert_int_equal(rec_num(r, 14, 0), f->if_out);
	assert_int_equal(rec_num(r, 58, 0), f->vlan);
	assert_int_equal(rec_num(r, 60, 0), f->af);
}

/* v9: header fields, sysUpTime times exact, templates before data. */
static void
test_nf9_v9_message(void **state)
{
	static uint8_t buf[BUFSZ];
	struct flow_record recs[4];
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	uint64_t boot;
	unsigned i;

	(void)state;
	c = calloc(1, sizeof(*c));
	c->version = 9;
	enc = enc_new(9, 0, 1, 0, 0x01020304);
	memset(&st, 0, sizeof(st));
	st.sequence = 41;
	recs[0] = flowrec(1, 4, 6);
	recs[1] = flowrec(2, 6, 17);
	recs[2] = flowrec(3, 4, 1);
	recs[3] = flowrec(4, 6, 58);
	wbuf_init(&w, buf, 1400);
	assert_int_equal(nf9_encode(enc, &st, &clk, 1, recs, 4, &w), 4);
	assert_false(w.overflow);
	coll_read(c, buf, w.len);
	assert_int_equal(c->seq, 41);
	assert_int_equal(st.sequence, 42);	/* v9 counts messages */
	assert_int_equal(c->domain, 0x01020304);
	assert_int_equal(c->secs, clk.now_ms / 1000);
	assert_true(c->ntemplates >= 4);
	assert_int_equal(c->nrec, 4);
	/* boot = unix_secs * 1000 - sysUpTime, exactly. */
	boot = (uint64_t)c->secs * 1000 - c->uptime;
	assert_int_equal(boot, clk.boot_ms);
	for (i = 0; i < 4; i++) {
		check_common(&c->rec[i], &recs[i]);
		assert_int_equal(boot + rec_num(&c->rec[i], 22, 0),
		    recs[i].first_ms);
		assert_int_equal(boot + rec_num(&c->rec[i], 21, 0),
		    recs[i].last_ms);
		assert_int_equal(rec_num(&c->rec[i], 61, 0), recs[i].egress);
	}
	/* The four shapes, v9's ICMP_TYPE (32) for both families. */
	assert_int_equal(c->rec[0].t->id, 256);
	assert_int_equal(c->rec[1].t->id, 257);
	assert_int_equal(c->rec[2].t->id, 258);
	assert_int_equal(c->rec[3].t->id, 259);
	assert_false(tmpl_has(c->rec[0].t, 32, 0));
	assert_false(tmpl_has(c->rec[1].t, 32, 0));
	assert_int_equal(rec_num(&c->rec[2], 32, 0), 0x0303);
	assert_int_equal(rec_num(&c->rec[3], 32, 0), 0x8000);
	assert_false(tmpl_has(c->rec[3].t, 139, 0));
	/* No absolute times in v9. */
	assert_false(tmpl_has(c->rec[0].t, 152, 0));

	/* The next message, without templates: still readable, seq + 1. */
	wbuf_init(&w, buf, 1400);
	assert_int_equal(nf9_encode(enc, &st, &clk, 0, recs, 2, &w), 2);
	coll_read(c, buf, w.len);
	assert_int_equal(c->ntemplates, 0);
	assert_int_equal(c->count, 2);
	assert_int_equal(c->seq, 42);
	assert_int_equal(st.sequence, 43);
	/* A template-only message counts too. */
	wbuf_init(&w, buf, 1400);
	assert_int_equal(nf9_encode(enc, &st, &clk, 1, recs, 0, &w), 0);
	coll_read(c, buf, w.len);
	assert_int_equal(c->nrec, 0);
	assert_int_equal(c->seq, 43);
	assert_int_equal(st.sequence, 44);
	nf9_free(enc);
	free(c);
}

/* IPFIX: header, length, sequence counting data records only. */
static void
test_nf9_ipfix_message(void **state)
{
	static uint8_t buf[BUFSZ];
	struct flow_record recs[4];
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	unsigned i;

	(void)state;
	c = calloc(1, sizeof(*c));
	c->version = 10;
	enc = enc_new(10, 0, 1, 0, 77);
	memset(&st, 0, sizeof(st));
	st.sequence = 1000;
	recs[0] = flowrec(1, 4, 6);
	recs[1] = flowrec(2, 6, 17);
	recs[2] = flowrec(3, 4, 1);
	recs[3] = flowrec(4, 6, 58);
	wbuf_init(&w, buf, 1400);
	assert_int_equal(nf9_encode(enc, &st, &clk, 1, recs, 4, &w), 4);
	assert_false(w.overflow);
	coll_read(c, buf, w.len);
	assert_int_equal(c->length, w.len);
	assert_int_equal(c->secs, clk.now_ms / 1000);
	assert_int_equal(c->seq, 1000);
	assert_int_equal(c->domain, 77);
	assert_int_equal(c->nrec, 4);
	assert_int_equal(st.sequence, 1004);
	for (i = 0; i < 4; i++) {
		check_common(&c->rec[i], &recs[i]);
		assert_int_equal(rec_num(&c->rec[i], 152, 0), recs[i].first_ms);
		assert_int_equal(rec_num(&c->rec[i], 153, 0), recs[i].last_ms);
		assert_int_equal(rec_num(&c->rec[i], 245, 0), 7);
		assert_int_equal(rec_num(&c->rec[i], 136, 0), 1);
		assert_false(tmpl_has(c->rec[i].t, 22, 0));
		/* Without -b, no reverse elements. */
		assert_false(tmpl_has(c->rec[i].t, 2, PEN_REVERSE));
	}
	/* IPFIX splits ICMP: 32 for IPv4, 139 for IPv6. */
	assert_int_equal(rec_num(&c->rec[2], 32, 0), 0x0303);
	assert_false(tmpl_has(c->rec[2].t, 139, 0));
	assert_int_equal(rec_num(&c->rec[3], 139, 0), 0x8000);
	assert_false(tmpl_has(c->rec[3].t, 32, 0));

	/* Templates alone do not advance the sequence. */
	wbuf_init(&w, buf, 1400);
	nf9_encode(enc, &st, &clk, 1, recs, 0, &w);
	coll_read(c, buf, w.len);
	assert_int_equal(c->seq, 1004);
	assert_int_equal(st.sequence, 1004);
	wbuf_init(&w, buf, 1400);
	nf9_encode(enc, &st, &clk, 0, recs, 3, &w);
	coll_read(c, buf, w.len);
	assert_int_equal(c->seq, 1004);
	assert_int_equal(st.sequence, 1007);
	nf9_free(enc);
	free(c);
}

/* The template set names four templates, each with its own id. */
static void
test_nf9_four_templates(void **state)
{
	static uint8_t buf[BUFSZ];
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	const struct tmpl *t;
	int version;
	uint16_t id;

	(void)state;
	for (version = 9; version <= 10; version++) {
		c = calloc(1, sizeof(*c));
		c->version = version;
		enc = enc_new(version, 0, 1, 0, 0);
		memset(&st, 0, sizeof(st));
		wbuf_init(&w, buf, 1400);
		nf9_encode(enc, &st, &clk, 1, NULL, 0, &w);
		coll_read(c, buf, w.len);
		assert_int_equal(c->ntemplates, 4);
		for (id = 256; id < 260; id++) {
			t = coll_tmpl(c, id);
			assert_non_null(t);
			assert_false(t->options);
			assert_int_equal(tmpl_has(t, 8, 0), !(id & 1));
			assert_int_equal(tmpl_has(t, 27, 0), id & 1);
			assert_int_equal(tmpl_has(t, 32, 0) || tmpl_has(t, 139, 0),
			    (id & 2) != 0);
		}
		nf9_free(enc);
		free(c);
	}
}

/*
 * -b: RFC 5103 reverse elements under enterprise 29305 carry the reverse
 * direction; without reverse packets, its times are the forward start.
 */
static void
test_nf9_biflow(void **state)
{
	static uint8_t buf[BUFSZ];
	struct flow_record recs[2];
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;

	(void)state;
	c = calloc(1, sizeof(*c));
	c->version = 10;
	enc = enc_new(10, 1, 1, 0, 0);
	memset(&st, 0, sizeof(st));
	recs[0] = flowrec(1, 4, 6);
	recs[0].biflow = 1;
	recs[0].rev_packets = 5000000000ULL;
	recs[0].rev_octets = 7000000000ULL;
	recs[0].rev_first_ms = recs[0].first_ms + 3;
	recs[0].rev_last_ms = recs[0].last_ms - 3;
	recs[0].rev_tcp_flags = 0x12;
	recs[1] = flowrec(2, 6, 17);
	recs[1].biflow = 1;
	wbuf_init(&w, buf, 1400);
	assert_int_equal(nf9_encode(enc, &st, &clk, 1, recs, 2, &w), 2);
	coll_read(c, buf, w.len);
	assert_int_equal(c->nrec, 2);
	check_common(&c->rec[0], &recs[0]);
	assert_int_equal(rec_num(&c->rec[0], 2, PEN_REVERSE), 5000000000ULL);
	assert_int_equal(rec_num(&c->rec[0], 1, PEN_REVERSE), 7000000000ULL);
	assert_int_equal(rec_num(&c->rec[0], 6, PEN_REVERSE), 0x12);
	assert_int_equal(rec_num(&c->rec[0], 152, PEN_REVERSE),
	    recs[0].rev_first_ms);
	assert_int_equal(rec_num(&c->rec[0], 153, PEN_REVERSE),
	    recs[0].rev_last_ms);
	/* The forward times are still there, under no enterprise. */
	assert_int_equal(rec_num(&c->rec[0], 152, 0), recs[0].first_ms);
	assert_int_equal(rec_num(&c->rec[1], 2, PEN_REVERSE), 0);
	assert_int_equal(rec_num(&c->rec[1], 1, PEN_REVERSE), 0);
	assert_int_equal(rec_num(&c->rec[1], 152, PEN_REVERSE),
	    recs[1].first_ms);
	nf9_free(enc);
	free(c);

	/* v9 has no biflows: the option is ignored. */
	c = calloc(1, sizeof(*c));
	c->version = 9;
	enc = enc_new(9, 1, 1, 0, 0);
	wbuf_init(&w, buf, 1400);
	nf9_encode(enc, &st, &clk, 1, recs, 1, &w);
	coll_read(c, buf, w.len);
	assert_false(tmpl_has(c->rec[0].t, 2, PEN_REVERSE));
	nf9_free(enc);
	free(c);
}

/*
 * -A: seconds, milliseconds, or NTP-format micro/nanoseconds from which
 * a collector recovers the millisecond exactly; microseconds leave the
 * low 11 bits of the fraction zero (RFC 7011 6.1.9).
 */
static void
test_nf9_time_precision(void **state)
{
	static const uint16_t start_ie[4] = { 150, 152, 154, 156 };
	static const uint16_t end_ie[4] = { 151, 153, 155, 157 };
	static const size_t ie_len[4] = { 4, 8, 8, 8 };
	static const uint64_t ms_cases[] = { 1700000000000ULL,
	    1700000000001ULL, 1700000000999ULL, 1700000000500ULL,
	    1700000000123ULL, 1234567ULL };
	static uint8_t buf[BUFSZ];
	struct flow_record r;
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	const uint8_t *p;
	uint64_t v, secs, frac, ms;
	size_t len = 0, i;
	int prec, k;

	(void)state;
	for (prec = 0; prec < 4; prec++) {
		c = calloc(1, sizeof(*c));
		c->version = 10;
		enc = enc_new(10, 0, prec, 0, 0);
		for (i = 0; i < sizeof(ms_cases) / sizeof(ms_cases[0]); i++) {
			r = flowrec(1, 4, 17);
			r.first_ms = ms_cases[i];
			r.last_ms = ms_cases[i] + 1;
			memset(&st, 0, sizeof(st));
			wbuf_init(&w, buf, 1400);
			nf9_encode(enc, &st, &clk, 1, &r, 1, &w);
			coll_read(c, buf, w.len);
			for (k = 0; k < 4; k++)
				if (k != prec)
					assert_false(tmpl_has(c->rec[0].t,
					    start_ie[k], 0));
			p = rec_field(&c->rec[0], start_ie[prec], 0, &len);
			assert_non_null(p);
			assert_int_equal(len, ie_len[prec]);
			v = getbe(p, len);
			switch (prec) {
			case 0:
				assert_int_equal(v, r.first_ms / 1000);
				break;
			case 1:
				assert_int_equal(v, r.first_ms);
				break;
			default:
				secs = v >> 32;
				frac = v & 0xffffffffULL;
				assert_int_equal(secs - NTP_OFFSET,
				    r.first_ms / 1000);
				ms = (secs - NTP_OFFSET) * 1000 +
				    ((frac * 1000) >> 32);
				assert_int_equal(ms, r.first_ms);
				if (prec == 2) {
					assert_int_equal(frac & 0x7ff, 0);
					assert_int_equal((frac * 1000000) >> 32,
					    (r.first_ms % 1000) * 1000);
				} else
					assert_int_equal(
					    (frac * 1000000000) >> 32,
					    (r.first_ms % 1000) * 1000000);
			}
			v = rec_num(&c->rec[0], end_ie[prec], 0);
			if (prec == 1)
				assert_int_equal(v, r.last_ms);
		}
		nf9_free(enc);
		free(c);
	}
}

/* -x: the first labels as mplsLabelStackSection elements (70..79). */
static void
test_nf9_mpls(void **state)
{
	static uint8_t buf[BUFSZ];
	struct flow_record r;
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	int version;

	(void)state;
	for (version = 9; version <= 10; version++) {
		c = calloc(1, sizeof(*c));
		c->version = version;
		enc = enc_new(version, 0, 1, 3, 0);
		r = flowrec(1, 4, 6);
		r.nmpls = 2;
		r.mpls[0] = 0x00020040;	/* label 32, not bottom, ttl 64 */
		r.mpls[1] = 0x00010140;	/* label 16, bottom */
		memset(&st, 0, sizeof(st));
		wbuf_init(&w, buf, 1400);
		nf9_encode(enc, &st, &clk, 1, &r, 1, &w);
		coll_read(c, buf, w.len);
		assert_int_equal(rec_num(&c->rec[0], 70, 0), 0x000200);
		assert_int_equal(rec_num(&c->rec[0], 71, 0), 0x000101);
		assert_int_equal(rec_num(&c->rec[0], 72, 0), 0);
		assert_false(tmpl_has(c->rec[0].t, 73, 0));
		nf9_free(enc);
		free(c);
	}
}

/*
 * Records that do not fit are left for the next message: over many
 * buffer sizes and a mix of the four shapes, every message is whole,
 * nothing overflows, and the records come out in order, each once.
 */
static void
test_nf9_fill_and_continue(void **state)
{
	static uint8_t buf[BUFSZ];
	static struct flow_record recs[60];
	static const uint8_t protos[] = { 6, 17, 1, 6, 58, 17, 17 };
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	size_t cap, done, k, i, msgs;
	uint32_t seq;
	int version, withtmpl;

	(void)state;
	for (i = 0; i < 60; i++) {
		uint8_t proto = protos[i % sizeof(protos)];

		recs[i] = flowrec((unsigned)i, (i / 2) % 2 ? 6 : 4,
		    proto == 58 && (i / 2) % 2 == 0 ? 1 : proto == 1 &&
		    (i / 2) % 2 ? 58 : proto);
	}
	for (version = 9; version <= 10; version++) {
		c = calloc(1, sizeof(*c));
		c->version = version;
		enc = enc_new(version, version == 10, 1, 2, 0);
		/* Learn the templates once. */
		memset(&st, 0, sizeof(st));
		wbuf_init(&w, buf, BUFSZ);
		nf9_encode(enc, &st, &clk, 1, NULL, 0, &w);
		coll_read(c, buf, w.len);
		for (cap = 160; cap <= 1500; cap++) {
			withtmpl = cap > 1200;
			memset(&st, 0, sizeof(st));
			done = 0;
			msgs = 0;
			seq = 0;
			while (done < 60) {
				wbuf_init(&w, buf, cap);
				k = nf9_encode(enc, &st, &clk, withtmpl,
				    recs + done, 60 - done, &w);
				if (w.overflow)
					fail_msg("v%d cap %zu: overflow after "
					    "%zu records", version, cap, done);
				assert_true(w.len <= cap);
				coll_read(c, buf, w.len);
				assert_int_equal(c->nrec, k);
				assert_int_equal(c->seq, seq);
				seq += version == 9 ? 1 : (uint32_t)k;
				for (i = 0; i < k; i++)
					assert_int_equal(rec_num(&c->rec[i],
					    2, 0), recs[done + i].packets);
				if (k == 0)
					break;
				done += k;
				assert_true(++msgs <= 60);
			}
			/* Every record shape (at most 130 bytes) fits in 160. */
			if (!withtmpl && done != 60)
				fail_msg("v%d cap %zu: stuck after %zu", version,
				    cap, done);
		}
		nf9_free(enc);
		free(c);
	}
}

/*
 * Control series (templates, options templates, options records) split
 * over messages of any size: each message whole, every item sent once,
 * the statistics record carrying the values given.
 */
static void
test_nf9_control_series(void **state)
{
	static uint8_t buf[BUFSZ];
	struct nf9_optvals ov;
	struct nf9_options o;
	struct nf9_control ctl;
	struct export_stream st;
	struct coll *c;
	struct nf9 *enc;
	struct wbuf w;
	const struct rec *stats;
	size_t cap, msgs, ntmpl, nopt, nrec, i;
	int version, r;

	(void)state;
	memset(&ov, 0, sizeof(ov));
	ov.messages = 11;
	ov.records = 222;
	ov.octets = 3333;
	ov.ignored_packets = 4;
	ov.process_id = 55;
	for (version = 9; version <= 10; version++) {
		for (cap = 40; cap <= 700; cap++) {
			c = calloc(1, sizeof(*c));
			c->version = version;
			memset(&o, 0, sizeof(o));
			o.version = version;
			o.sampling = 100;
			o.time_prec = 1;
			enc = nf9_new(&o);
			assert_non_null(enc);
			memset(&st, 0, sizeof(st));
			memset(&ctl, 0, sizeof(ctl));
			ctl.with_templates = 1;
			ntmpl = nopt = nrec = 0;
			stats = NULL;
			for (msgs = 0, r = 0; r == 0; msgs++) {
				assert_true(msgs < 100);
				wbuf_init(&w, buf, cap);
				r = nf9_encode_control(enc, &st, &clk, &ov, &ctl,
				    &w);
				if (r == -1)
					break;
				if (w.overflow)
					fail_msg("v%d cap %zu: overflow", version,
					    cap);
				coll_read(c, buf, w.len);
				ntmpl += c->ntemplates;
				nopt += c->noptemplates;
				nrec += c->nrec;
				for (i = 0; i < c->nrec; i++)
					if (c->rec[i].t->id == NF9_TMPL_STATS)
						stats = &c->rec[i];
				if (stats != NULL) {
					assert_int_equal(rec_num(stats, 41, 0),
					    11);
					assert_int_equal(rec_num(stats, 42, 0),
					    222);
					assert_int_equal(rec_num(stats, 40, 0),
					    3333);
					assert_int_equal(rec_num(stats, 164, 0),
					    4);
					stats = NULL;
				}
			}
			if (r == 1) {
				assert_int_equal(ntmpl, 4);
				assert_int_equal(nopt, 2);
				assert_int_equal(nrec, 2);
				assert_int_equal(ctl.records, 2);
				assert_non_null(coll_tmpl(c, NF9_TMPL_SAMPLING));
				assert_non_null(coll_tmpl(c, NF9_TMPL_STATS));
			} else	/* only when an item cannot fit alone */
				assert_true(cap < 200);
			nf9_free(enc);
			free(c);
		}
	}
}

/* A buffer too small for the header encodes nothing. */
static void
test_nf9_tiny_buffer(void **state)
{
	static uint8_t buf[16];
	struct flow_record r = flowrec(1, 4, 6);
	struct export_stream st;
	struct nf9 *enc;
	struct wbuf w;

	(void)state;
	enc = enc_new(9, 0, 1, 0, 0);
	memset(&st, 0, sizeof(st));
	wbuf_init(&w, buf, sizeof(buf));
	assert_int_equal(nf9_encode(enc, &st, &clk, 0, &r, 1, &w), 0);
	assert_int_equal(st.sequence, 0);
	nf9_free(enc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nf9_v9_message),
		cmocka_unit_test(test_nf9_ipfix_message),
		cmocka_unit_test(test_nf9_four_templates),
		cmocka_unit_test(test_nf9_biflow),
		cmocka_unit_test(test_nf9_time_precision),
		cmocka_unit_test(test_nf9_mpls),
		cmocka_unit_test(test_nf9_fill_and_continue),
		cmocka_unit_test(test_nf9_control_series),
		cmocka_unit_test(test_nf9_tiny_buffer),
	};

	/* An encoder that loops forever fails the suite instead. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
