/*
 * Statistics.  One walk over the probe's counters emits (group, name,
 * optional label, value) tuples; the sink formats them as text, JSON or
 * Prometheus metrics, so the three views always carry the same numbers.
 */
#include <inttypes.h>
#include <string.h>

#include "capture.h"
#include "ctl.h"
#include "export.h"
#include "flowtable.h"
#include "stats.h"

struct sink {
	enum stats_format	 fmt;
	FILE			*fp;
	const char		*group;		/* open group */
	const char		*name;		/* open labelled metric */
	int			 first_in_group;
	int			 first_label;
	int			 any_group;
};

static void
close_metric(struct sink *s)
{
	if (s->name == NULL)
		return;
	if (s->fmt == STATS_JSON)
		fputs("}", s->fp);
	s->name = NULL;
}

static void
open_group(struct sink *s, const char *group)
{
	if (s->group && !strcmp(s->group, group))
		return;
	close_metric(s);
	switch (s->fmt) {
	case STATS_TEXT:
		fprintf(s->fp, "%s%s:\n", s->any_group ? "\n" : "", group);
		break;
	case STATS_JSON:
		fprintf(s->fp, "%s\"%s\":{", s->any_group ? "}," : "{", group);
		break;
	case STATS_PROMETHEUS:
		break;
	}
	s->group = group;
	s->first_in_group = 1;
	s->any_group = 1;
}

static void
emit(struct sink *s, const char *group, const char *name, const char *label,
    const char *lval, uint64_t v)
{
	open_group(s, group);
	switch (s->fmt) {
	case STATS_TEXT:
		if (label)
			fprintf(s->fp, "  %s{%s=%s}: %" PRIu64 "\n", name, label,
			    lval, v);
		else
			fprintf(s->fp, "  %s: %" PRIu64 "\n", name, v);
		break;
	case STATS_JSON:
		if (label && s->name && !strcmp(s->name, name)) {
			fprintf(s->fp, ",\"%s\":%" PRIu64, lval, v);
			break;
		}
		close_metric(s);
		fprintf(s->fp, "%s\"%s\":", s->first_in_group ? "" : ",", name);
		if (label) {
			fprintf(s->fp, "{\"%s\":%" PRIu64, lval, v);
			s->name = name;
		} else
			fprintf(s->fp, "%" PRIu64, v);
		break;
	case STATS_PROMETHEUS:
		if (label)
			fprintf(s->fp, "softflowd_%s_%s{%s=\"%s\"} %" PRIu64 "\n",
			    group, name, label, lval, v);
		else
			fprintf(s->fp, "softflowd_%s_%s %" PRIu64 "\n", group,
			    name, v);
		break;
	}
	s->first_in_group = 0;
}

static const char *
proto_name(int proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 47: return "gre";
	case 50: return "esp";
	case 132: return "sctp";
	}
	snprintf(buf, len, "%d", proto);
	return buf;
}

void
stats_write(struct probe *p, enum stats_format fmt, FILE *fp)
{
	struct sink s = { .fmt = fmt, .fp = fp };
	const struct flowtable_stats *fs = flowtable_stats(p->ft);
	const struct export_stats *es = exporter_stats(p->ex);
	const struct collector_stats *cs;
	struct capture_stats cap;
	char buf[16];
	unsigned i;
	int r;

	emit(&s, "capture", "packets_seen", NULL, NULL, p->packets_seen);
	emit(&s, "capture", "packets_unsampled", NULL, NULL,
	    p->packets_unsampled);
	emit(&s, "capture", "read_errors", NULL, NULL, p->read_errors);
	for (i = 0; i < p->ncap; i++) {
		capture_get_stats(p->cap[i], &cap);
		emit(&s, "capture", "received", "source",
		    capture_name(p->cap[i]), cap.received);
	}
	for (i = 0; i < p->ncap; i++) {
		capture_get_stats(p->cap[i], &cap);
		emit(&s, "capture", "kernel_drops", "source",
		    capture_name(p->cap[i]), cap.kernel_drops);
	}
	for (i = 0; i < p->ncap; i++) {
		capture_get_stats(p->cap[i], &cap);
		emit(&s, "capture", "interface_drops", "source",
		    capture_name(p->cap[i]), cap.if_drops);
	}

	for (r = 1; r < DECODE_NREASONS; r++)
		emit(&s, "decoder", "dropped", "reason",
		    decode_reason_name((enum decode_result)r),
		    p->decode_drops[r]);
	for (r = 0; r < DECODE_NNOTES; r++)
		emit(&s, "decoder", "noted", "note",
		    decode_note_name((enum decode_note)r), p->decode_notes[r]);

	emit(&s, "flows", "active", NULL, NULL, fs->active);
	emit(&s, "flows", "peak_active", NULL, NULL, fs->peak_active);
	emit(&s, "flows", "max_flows", NULL, NULL, p->cfg.max_flows);
	emit(&s, "flows", "created", NULL, NULL, fs->flows_created);
	emit(&s, "flows", "expired", NULL, NULL, fs->flows_expired);
	emit(&s, "flows", "deleted", NULL, NULL, fs->flows_deleted);
	emit(&s, "flows", "deleted_packets", NULL, NULL, fs->packets_deleted);
	emit(&s, "flows", "deleted_octets", NULL, NULL, fs->octets_deleted);
	emit(&s, "flows", "packets", NULL, NULL, fs->packets);
	emit(&s, "flows", "octets", NULL, NULL, fs->octets);
	for (r = 0; r < EXP_NREASONS; r++)
		emit(&s, "flows", "expired_by", "reason",
		    flowtable_reason_name((enum expiry_reason)r),
		    fs->expired[r]);
	for (r = 0; r < 256; r++)
		if (fs->flows_by_proto[r])
			emit(&s, "flows", "flows_by_protocol", "protocol",
			    proto_name(r, buf, sizeof(buf)),
			    fs->flows_by_proto[r]);
	for (r = 0; r < 256; r++)
		if (fs->packets_by_proto[r])
			emit(&s, "flows", "packets_by_protocol", "protocol",
			    proto_name(r, buf, sizeof(buf)),
			    fs->packets_by_proto[r]);
	for (r = 0; r < 256; r++)
		if (fs->octets_by_proto[r])
			emit(&s, "flows", "octets_by_protocol", "protocol",
			    proto_name(r, buf, sizeof(buf)),
			    fs->octets_by_proto[r]);

	emit(&s, "export", "flows", NULL, NULL, es->flows);
	emit(&s, "export", "records", NULL, NULL, es->records);
	emit(&s, "export", "packets", NULL, NULL, es->packets);
	emit(&s, "export", "octets", NULL, NULL, es->octets);
	emit(&s, "export", "datagrams", NULL, NULL, es->datagrams);
	emit(&s, "export", "max_datagram", NULL, NULL, es->max_datagram);
	emit(&s, "export", "template_datagrams", NULL, NULL, es->templates);
	emit(&s, "export", "options_records", NULL, NULL, es->options);
	emit(&s, "export", "unexportable_records", NULL, NULL,
	    es->unexportable);
	emit(&s, "export", "unexportable_packets", NULL, NULL,
	    es->unexportable_packets);
	emit(&s, "export", "unexportable_octets", NULL, NULL,
	    es->unexportable_octets);

#define COLLECTOR_FIELD(field)						\
	for (i = 0; i < exporter_ncollectors(p->ex); i++) {		\
		cs = exporter_collector(p->ex, i);			\
		emit(&s, "collector", #field, "collector", cs->name,	\
		    cs->field);						\
	}
	COLLECTOR_FIELD(packets)
	COLLECTOR_FIELD(octets)
	COLLECTOR_FIELD(records)
	COLLECTOR_FIELD(errors)
	COLLECTOR_FIELD(refused)
	COLLECTOR_FIELD(nobufs)
	COLLECTOR_FIELD(disconnected)
	COLLECTOR_FIELD(backlog_full)
	COLLECTOR_FIELD(other_errors)
	COLLECTOR_FIELD(connects)
	COLLECTOR_FIELD(lost_records)
	COLLECTOR_FIELD(lost_packets)
#undef COLLECTOR_FIELD

	/* The control socket, when there is one. */
	if (p->ctl != NULL) {
		emit(&s, "control", "connections", NULL, NULL,
		    p->ctl_stats.connections);
		emit(&s, "control", "commands", NULL, NULL,
		    p->ctl_stats.commands);
		for (r = CTL_EMPTY; r < CTL_NSTATUS; r++)
			emit(&s, "control", "refused", "reason",
			    ctl_status_name((enum ctl_status)r),
			    p->ctl_stats.refused[r]);
	}

	close_metric(&s);
	if (fmt == STATS_JSON)
		fputs(s.any_group ? "}}\n" : "{}\n", fp);
}
