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
#define NF9_TMPL_DATA		256	/* + 1 IPv6, + 2 ICMP type */
#define NF9_TMPL_SAMPLING	264	/* options: the packet selector */
#define NF9_TMPL_STATS		265	/* options: statistics */
#define NF9_SELECTOR_ID		1	/* the one selector */

struct nf9_options {
	int		version;	/* 9 or 10 */
	int		biflow;		/* IPFIX only: RFC 5103 records */
	int		psamp;		/* IPFIX only: PSAMP records */
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
 * Whether data records read a flow_record's MACs, MPLS labels or reverse
 * side: when not, those members need not be filled.
 */
int		 nf9_reads_rare(const struct nf9 *enc);
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
 * How many of recs[0..n) one data message of cap bytes takes, as
 * nf9_encode would, found without encoding them; and whether it takes
 * them all (quicker when they are too many).
 */
size_t		 nf9_take(const struct nf9 *enc,
		    const struct flow_record *recs, size_t n, size_t cap);
int		 nf9_fits_one(const struct nf9 *enc,
		    const struct flow_record *recs, size_t n, size_t cap);

/*
 * A control series: the templates and options templates (when
 * with_templates), then one options record per options template (the
 * sampling selector when sampling or PSAMP, the exporter statistics).
 * Start with next = 0; records counts the options records written.
 */
struct nf9_control {
	int		with_templates;
	size_t		next;
	size_t		records;
};

/*
 * Encode the next message of a control series into w: as many whole
 * items as fit.  Returns 1 when the series is complete, 0 when another
 * message is needed, -1 when an item does not fit even alone.
 */
int		 nf9_encode_control(struct nf9 *enc,
		    struct export_stream *st, const struct export_clock *clk,
		    const struct nf9_optvals *ov, struct nf9_control *ctl,
		    struct wbuf *w);

#endif /* NF9_H */
