/*
 * NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) encoders, both driven by one
 * table of information elements from which templates and records are
 * generated, so a template and its records cannot disagree.
 */
#ifndef NF9_H
#define NF9_H

#include "export.h"
#include "wbuf.h"

struct nf9_options {
	int		version;	/* 9 or 10 */
	int		biflow;		/* IPFIX only: RFC 5103 records */
	int		time_prec;	/* IPFIX timestamps: 0 s .. 3 ns */
	unsigned	mpls_labels;
	uint32_t	domain_id;
};

struct nf9;

struct nf9	*nf9_new(const struct nf9_options *opt);
void		 nf9_free(struct nf9 *enc);
/*
 * Encode one datagram: the templates first when with_templates, then as
 * many of recs[0..n) as fit in w.  Returns the number of records encoded.
 */
size_t		 nf9_encode(struct nf9 *enc, struct export_stream *st,
		    const struct export_clock *clk, int with_templates,
		    const struct flow_record *recs, size_t n, struct wbuf *w);

#endif /* NF9_H */
