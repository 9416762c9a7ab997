/*
 * The running probe: the pipeline's stages and the counters that belong
 * to none of them.  Owned by main.c; the control socket and the
 * statistics writers read it.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stdint.h>

#include "capture.h"
#include "config.h"
#include "ctl.h"
#include "decode.h"
#include "export.h"
#include "flowtable.h"

#define PROBE_MAX_CAPTURES	CONFIG_MAX_INTERFACES
/*
 * Decoded packets handed to the flow table together.  64 spent 3 fewer
 * instructions a packet in the flow table's prefetch prologue but took
 * 10% more L1 misses (cachegrind), a net loss: 4 KiB stays.
 */
#define PROBE_BATCH		32

struct event;
struct event_base;
struct ctl;

struct probe {
	struct config		 cfg;
	int			 argc;		/* kept to re-read on SIGHUP */
	char			**argv;
	struct event_base	*base;
	struct capture		*cap[PROBE_MAX_CAPTURES];
	unsigned		 ncap;
	unsigned		 replays_running;
	struct flowtable	*ft;
	struct exporter		*ex;
	struct ctl		*ctl;
	struct ctl_stats	 ctl_stats;	/* kept by ctl.c */
	uint64_t		 now_ms;	/* packet time in replay */
	uint64_t		 next_expiry_ms;
	uint64_t		 start_real_ms;
	uint64_t		 packets_seen;
	uint64_t		 packets_unsampled;	/* skipped by -s */
	uint64_t		 sample_counter;
	uint64_t		 decode_drops[DECODE_NREASONS];
	uint64_t		 decode_notes[DECODE_NNOTES];
	uint64_t		 read_errors;	/* replay files cut short */
	struct export_probe_totals totals;	/* reported by the exporter */
	/* Not yet accounted; what the flow table reads is one line each. */
	_Alignas(64) struct packet batch[PROBE_BATCH];
	unsigned		 nbatch;
	int			 macs;		/* -T ether or PSAMP reads MACs */
	int			 gathering;	/* start-gather/stop-gather */
	int			 exit_code;
	int			 stopping;
	struct event		*ev_expiry;
	struct event		*ev_progress;
	struct event		*ev_signal[4];
};

/* Expire every flow, send everything, and leave the event loop. */
void	probe_shutdown(struct probe *p, int exit_code);
/* Run expiry now (softflowctl expire-all forces every flow out). */
void	probe_expire(struct probe *p, int all);
/* Re-read the config file and apply timeouts and collectors (SIGHUP). */
int	probe_reload(struct probe *p, char *err, size_t errlen);
uint64_t probe_real_ms(void);

#endif /* PROBE_H */
