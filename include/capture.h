/*
 * Capture: live interfaces and replayed files, both feeding packets to the
 * same callback from the event loop.  A replay runs in batches so signals
 * and the control socket are served between them.
 */
#ifndef CAPTURE_H
#define CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

struct event_base;
struct capture;

/* One captured frame. */
struct capture_frame {
	const uint8_t	*data;
	uint64_t	 ts_ms;		/* capture time, rounded to the ms */
	uint32_t	 caplen;	/* bytes at data */
	uint32_t	 len;		/* length on the wire */
};

/*
 * Called with frames as they are read (a replay hands over many at once,
 * a live capture one), then with f NULL when a batch is done.  The frames
 * are valid only during the call.
 */
typedef void (*capture_packet_fn)(void *arg, const struct capture_frame *f,
		    unsigned n, int dlt, uint32_t ifindex);
/* End of a replay; error is NULL or why the file could not be read on. */
typedef void (*capture_eof_fn)(void *arg, struct capture *c,
		    const char *error);

struct capture_stats {
	uint64_t	received;	/* handed to the callback */
	uint64_t	kernel_drops;	/* pcap_stats ps_drop */
	uint64_t	if_drops;	/* pcap_stats ps_ifdrop */
};

struct capture_options {
	int		 snaplen;
	int		 promisc;
	int		 bufsize;	/* 0: libpcap's default */
	const char	*bpf;
};

/* spec is [idx:]ifname.  On error fills err and returns NULL. */
struct capture	*capture_open_live(const char *spec,
		    const struct capture_options *opt, char *err,
		    size_t errlen);
struct capture	*capture_open_file(const char *path,
		    const struct capture_options *opt, char *err,
		    size_t errlen);
int		 capture_start(struct capture *c, struct event_base *base,
		    capture_packet_fn fn, capture_eof_fn eof, void *arg);
void		 capture_close(struct capture *c);
/*
 * Stop reading packets (softflowctl stop-gather) or read on.  A paused
 * live capture leaves packets to the kernel buffer; a paused replay waits.
 */
void		 capture_pause(struct capture *c, int paused);
const char	*capture_name(const struct capture *c);
int		 capture_is_file(const struct capture *c);
/* Replay position and size in bytes; returns -1 for live captures. */
int		 capture_progress(const struct capture *c, uint64_t *pos,
		    uint64_t *size);
void		 capture_get_stats(struct capture *c, struct capture_stats *st);

#endif /* CAPTURE_H */
