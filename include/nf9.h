/*
 * NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) encoders, both driven by one
 * table of information elements from which templates, options templates
 * and records are generated, so a template and its records cannot
 * disagree.  PSAMP (RFC 5476/5477) per-packet records are IPFIX records
 * of their own templates.
 */
#ifndef NF9_H
#define NF9_H

#include "export.h"
#include "wbuf.h"

/* Template ids: data records 256..259, options records 264.. */
#define NF9_TMPL_DATA		256	/* + 1 for IPv6, + 2 with ICMP type */
#define NF9_TMPL_SAMPLING	264	/* options: the packet selector */
#define NF9_TMPL_STATS		265	/* options: exporter statistics */
#define NF9_SELECTOR_ID		1	/* selectorId of the one selector */

struct nf9_options {
	int		version;	/* 9 or 10 */
	int		biflow;		/* IPFIX only: RFC 5103 records */
	int		psamp;		/* IPFIX only: per-packet records */
	int		time_prec;	/* IPFIX timestamps: 0 s .. 3 ns */
	unsigned	mpls_labels;
	unsigned	sampling;	/* 1-in-N announced; 0 or 1: none */
	uint32_t	domain_id;
};

/*
 * What the exporter statistics options record reports for one stream
 * (RFC 7011 section 4.3 and RFC 5101 IEs 40-42, 144, 164, 166, 167).
 */
struct nf9_optvals {
	uint64_t	messages;	/* exportedMessageTotalCount */
	uint64_t	records;	/* exportedFlowRecordTotalCount */
	uint64_t	octets;		/* exportedOctetTotalCount */
	uint64_t	ignored_packets; /* ignoredPacketTotalCount */
	uint64_t	notsent_records; /* notSentFlowTotalCount */
	uint64_t	notsent_packets; /* notSentPacketTotalCount */
	uint32_t	process_id;	/* exportingProcessId */
};

struct nf9;

struct nf9	*nf9_new(const struct nf9_options *opt);
void		 nf9_free(struct nf9 *enc);
/*
 * Encode one datagram: every template and options template first when
 * with_templates, then as many of recs[0..n) as fit in w.  Returns the
 * number of records encoded.  IPFIX sequence numbers advance by the data
 * records, v9 ones by one per datagram.
 */
size_t		 nf9_encode(struct nf9 *enc, struct export_stream *st,
		    const struct export_clock *clk, int with_templates,
		    const struct flow_record *recs, size_t n, struct wbuf *w);
/*
 * Encode a control message: the templates and options templates when
 * with_templates, then one options record per options template (the
 * sampling selector when sampling or PSAMP, and the exporter statistics
 * from ov).  Returns the number of options data records written; w's
 * overflow flag says when w was too small.
 */
size_t		 nf9_encode_control(struct nf9 *enc, struct export_stream *st,
		    const struct export_clock *clk, int with_templates,
		    const struct nf9_optvals *ov, struct wbuf *w);

#endif /* NF9_H */
