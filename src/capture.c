/*
 * Capture through libpcap.  Live captures are non-blocking and read when
 * the selectable fd is ready; a replay reads one batch per loop turn and
 * re-arms itself, so one event loop serves both.
 *
 * A classic pcap file in host byte order, once libpcap has opened it and
 * vouched for its header, is read a MiB at a time into one buffer and its
 * records handed over in place, many to a call: no copy through stdio and
 * libpcap's buffer per packet.  Other files (pcapng, the other byte
 * order, pipes) go through libpcap.
 */
#include <sys/stat.h>
#include <sys/uio.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "capture.h"
#include "cursor.h"
#include "decode.h"
#include "log.h"

#define BATCH_LIVE	512
#define BATCH_FILE	4096
#define LIVE_TIMEOUT_MS	100
/* A replay reads the file in large blocks rather than stdio's 4 KiB. */
#define FILE_BUFSIZE	(1 << 20)
/* Classic pcap magic numbers as read in host order: us and ns stamps. */
#define PCAP_MAGIC_US	0xa1b2c3d4u
#define PCAP_MAGIC_NS	0xa1b23c4du
#define PCAP_FILE_HDR	24
#define PCAP_REC_HDR	16
/* libpcap's limit on one record; more means a damaged file. */
#define PCAP_MAX_CAPLEN	262144u
/* A replay's read buffer: larger than any record libpcap accepts. */
#define READ_BUFSIZE	(1u << 20)
/*
 * How far ahead of a replay the kernel is asked to read the file: pages
 * the page cache has let go of come back while the records before them
 * are worked on, instead of each read() waiting for the disk.
 */
#define READ_AHEAD	(8u << 20)
/* Frames a replay hands to the callback at once. */
#define FRAMES		64

struct capture {
	pcap_t			*pcap;
	char			 name[128];
	int			 dlt;
	int			 is_file;
	int			 paused;
	int			 started;
	uint32_t		 ifindex;
	uint64_t		 file_size;
	char			*file_buf;	/* stdio buffer of a replay */
	int			 rfd;		/* a replay read here, or -1 */
	const uint8_t		*rbuf;		/* the records: rmem */
	uint8_t			*rmem;		/* the read() buffer */
	size_t			 rlen;		/* bytes in rbuf */
	size_t			 rpos;		/* the next record */
	uint64_t		 roff;		/* file offset of rbuf[0] */
	uint64_t		 radvised;	/* read ahead asked up to here */
	int			 reof;
	int			 rnowait;	/* preadv2(RWF_NOWAIT) works */
	int			 rnsec;		/* nanosecond stamps */
	int			 rerror;
	uint32_t		 snapshot;
	struct bpf_program	 prog;		/* the filter, for rfd */
	int			 have_prog;
	char			 errbuf[PCAP_ERRBUF_SIZE];
	struct event		*ev;
	capture_packet_fn	 fn;
	capture_eof_fn		 eof;
	void			*arg;
	struct capture_stats	 stats;
};

static int
set_filter(struct capture *c, const char *bpf, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (bpf == NULL || *bpf == '\0')
		return 0;
	if (pcap_compile(c->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "BPF filter \"%s\": %s", bpf,
		    pcap_geterr(c->pcap));
		return -1;
	}
	if (pcap_setfilter(c->pcap, &prog) == -1) {
		snprintf(err, errlen, "BPF filter: %s", pcap_geterr(c->pcap));
		pcap_freecode(&prog);
		return -1;
	}
	if (c->is_file) {
		/* A replay read through rfd filters each record itself. */
		c->prog = prog;
		c->have_prog = 1;
	} else
		pcap_freecode(&prog);
	return 0;
}

/*
 * Read a classic pcap file libpcap has opened ourselves.  Anything else
 * (pcapng, the other byte order, versions before 2.4 whose lengths may be
 * swapped, standard input, a pipe that a second reader would split) stays
 * with libpcap.
 */
static void
rfile_open(struct capture *c, const char *path)
{
	uint8_t hdr[PCAP_FILE_HDR];
	uint32_t magic;
	uint16_t version[2];
	struct stat sb;
	int fd;

	if (strcmp(path, "-") == 0 || pcap_is_swapped(c->pcap) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return;
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    read(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
		goto no;
	memcpy(&magic, hdr, sizeof(magic));
	memcpy(version, hdr + 4, sizeof(version));
	if ((magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) ||
	    version[0] != 2 || version[1] != 4)
		goto no;
	/*
	 * read(), not mmap(): a file cut short while mapped raises SIGBUS,
	 * and measured no faster (the page faults and unmapping cost what
	 * the copy saves).
	 */
	if ((c->rmem = malloc(READ_BUFSIZE)) == NULL)
		goto no;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	c->rbuf = c->rmem;
	c->roff = PCAP_FILE_HDR;
	c->rfd = fd;
	c->rnowait = 1;
	c->rnsec = magic == PCAP_MAGIC_NS;
	c->snapshot = (uint32_t)pcap_snapshot(c->pcap);
	return;
no:
	close(fd);
}

/*
 * Read from the replay file without waiting on the disk when the page
 * cache holds the bytes; returns -1 with EAGAIN when it does not.
 */
static ssize_t
rfile_read_cached(struct capture *c, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	ssize_t n;

	if (!c->rnowait) {
		errno = EAGAIN;
		return -1;
	}
	n = preadv2(c->rfd, &iov, 1, -1, RWF_NOWAIT);
	if (n == -1 && errno != EAGAIN && errno != EINTR) {
		/* A kernel or file system without it: read() from now on. */
		c->rnowait = 0;
		errno = EAGAIN;
	}
	return n;
}

/* Keep the unread bytes and read more behind them, up to a full buffer. */
static int
rfile_fill(struct capture *c)
{
	size_t left = c->rlen - c->rpos;
	ssize_t n;

	memmove(c->rmem, c->rmem + c->rpos, left);
	c->roff += c->rpos;
	c->rlen = left;
	c->rpos = 0;
	while (c->rlen < READ_BUFSIZE) {
		n = rfile_read_cached(c, c->rmem + c->rlen,
		    READ_BUFSIZE - c->rlen);
		if (n == -1 && errno == EAGAIN) {
			/*
			 * Not cached: ask for what lies ahead, a buffer's worth
			 * at a time so the kernel checks each page once, and
			 * wait for this part.  A cached file costs no advice.
			 */
			while (c->radvised < c->roff + c->rlen + READ_AHEAD) {
				(void)posix_fadvise(c->rfd, (off_t)c->radvised,
				    READ_BUFSIZE, POSIX_FADV_WILLNEED);
				c->radvised += READ_BUFSIZE;
			}
			n = read(c->rfd, c->rmem + c->rlen,
			    READ_BUFSIZE - c->rlen);
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(c->errbuf, sizeof(c->errbuf), "error reading "
			    "dump file: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			c->reof = 1;
			break;
		}
		c->rlen += (size_t)n;
	}
	return 0;
}

/*
 * A frame's time rounded to the millisecond, as collectors store it: the
 * same as sec * 1000 + (usec + 500) / 1000, with one division.
 */
static inline uint64_t
frame_ms(uint64_t sec, uint64_t usec)
{
	return (sec * 1000000 + usec + 500) / 1000;
}

static void
rfile_deliver(struct capture *c, const struct capture_frame *f, unsigned n)
{
	if (n == 0)
		return;
	c->stats.received += n;
	c->fn(c->arg, f, n, c->dlt, c->ifindex);
}

/*
 * Keep the frames of a run the filter passes; returns how many.  Their
 * record headers are still in the buffer, just before each frame.
 */
static unsigned
rfile_filter(struct capture *c, struct capture_frame *f, unsigned n)
{
	struct pcap_pkthdr h;
	uint32_t rh[2];
	unsigned i, k = 0;

	for (i = 0; i < n; i++) {
		memcpy(rh, f[i].data - PCAP_REC_HDR, sizeof(rh));
		h.ts.tv_sec = rh[0];
		h.ts.tv_usec = c->rnsec ? rh[1] / 1000 : rh[1];
		h.caplen = f[i].caplen;
		h.len = f[i].len;
		if (pcap_offline_filter(&c->prog, &h, f[i].data) != 0)
			f[k++] = f[i];
	}
	return k;
}

/*
 * Frames for the whole records at *pp of at most lim bytes, up to flim:
 * returns the frame after the last, with *pp at the record after it.
 * nsec is a constant where this is inlined: the stamps' unit is tested
 * per run, not per record.
 */
static inline __attribute__((always_inline)) struct capture_frame *
rfile_run(const uint8_t **pp, const uint8_t *end, struct capture_frame *f,
    const struct capture_frame *flim, uint32_t lim, uint32_t snap, int nsec)
{
	const uint8_t *p = *pp;
	uint32_t sec, frac, incl, orig;

	for (; f < flim; f++) {
		/*
		 * Bounds checked by hand, not through a cursor: the header,
		 * then the frame it announces, end before end.
		 */
		if ((size_t)(end - p) < PCAP_REC_HDR)
			break;
		memcpy(&sec, p, 4);
		memcpy(&frac, p + 4, 4);
		memcpy(&incl, p + 8, 4);
		memcpy(&orig, p + 12, 4);
		if (incl > lim || incl > (size_t)(end - p) - PCAP_REC_HDR)
			break;
		f->data = p + PCAP_REC_HDR;
		f->ts_ms = frame_ms(sec, nsec ? frac / 1000 : frac);
		f->len = orig;
		/* libpcap hands over no more than the snap length. */
		f->caplen = incl < snap ? incl : snap;
		p += PCAP_REC_HDR + incl;
	}
	*pp = p;
	return f;
}

/*
 * The record a run stopped at, if it is whole and only longer than the
 * snap length (which files written by libpcap never are): its frame at
 * f, cut to the snap length.  Returns the frame after it, or f.
 */
static __attribute__((noinline)) struct capture_frame *
rfile_one(struct capture *c, const uint8_t **pp, const uint8_t *end,
    struct capture_frame *f)
{
	return rfile_run(pp, end, f, f + 1, PCAP_MAX_CAPLEN, c->snapshot,
	    c->rnsec);
}

/*
 * Up to max records to the callback, as pcap_dispatch does: returns how
 * many, 0 at the end, -1 once the file is broken (errbuf says how, in
 * libpcap's words).  Each record's header is checked against the bytes
 * left before its frame is handed over.
 */
static int
rfile_dispatch(struct capture *c, int max)
{
	struct capture_frame fr[FRAMES], *f, *g, *flim;
	const uint8_t *p, *end;
	uint32_t incl, lim;
	size_t left, need;
	unsigned k;
	int n = 0;

	if (c->rerror)
		return -1;
	p = c->rbuf + c->rpos;
	end = c->rbuf + c->rlen;
	/*
	 * Records of up to lim bytes need no cutting to the snap length:
	 * the runs take only those, and rfile_one() any longer one.
	 */
	lim = c->snapshot < PCAP_MAX_CAPLEN ? c->snapshot : PCAP_MAX_CAPLEN;
	while (n < max) {
		/* A run of whole records at hand, up to FRAMES of them. */
		flim = fr + (max - n < FRAMES ? max - n : FRAMES);
		for (f = fr;; f = g) {
			if (c->rnsec)
				f = rfile_run(&p, end, f, flim, lim, lim, 1);
			else
				f = rfile_run(&p, end, f, flim, lim, lim, 0);
			if (f == flim || (g = rfile_one(c, &p, end, f)) == f)
				break;
		}
		/* Before a read moves the buffer the frames point into. */
		k = (unsigned)(f - fr);
		if (c->have_prog)
			k = rfile_filter(c, fr, k);
		rfile_deliver(c, fr, k);
		n += (int)k;
		if (f == flim)
			continue;
		/* What stopped the run: the record at p. */
		left = (size_t)(end - p);
		need = PCAP_REC_HDR;
		if (left >= need) {
			memcpy(&incl, p + 8, sizeof(incl));
			need += incl;
		}
		if (need > PCAP_REC_HDR + PCAP_MAX_CAPLEN) {
			snprintf(c->errbuf, sizeof(c->errbuf), "invalid packet "
			    "capture length %zu, bigger than snaplen of %u",
			    need - PCAP_REC_HDR, c->snapshot);
			goto broken;
		}
		/* The record runs past the bytes at hand: read on, or cut. */
		if (!c->reof) {
			c->rpos = (size_t)(p - c->rbuf);
			if (rfile_fill(c) == -1)
				goto broken;
			p = c->rbuf + c->rpos;
			end = c->rbuf + c->rlen;
			continue;
		}
		if (left == 0)
			break;
		if (need == PCAP_REC_HDR)
			snprintf(c->errbuf, sizeof(c->errbuf), "truncated dump "
			    "file; tried to read %d header bytes, only got %zu",
			    PCAP_REC_HDR, left);
		else
			snprintf(c->errbuf, sizeof(c->errbuf), "truncated dump "
			    "file; tried to read %zu captured bytes, only got "
			    "%zu", need - PCAP_REC_HDR, left - PCAP_REC_HDR);
		goto broken;
	}
	c->rpos = (size_t)(p - c->rbuf);
	return n;
broken:
	c->rpos = (size_t)(p - c->rbuf);
	c->rerror = 1;
	return n > 0 ? n : -1;
}

static int
check_linktype(struct capture *c, char *err, size_t errlen)
{
	const char *name;

	c->dlt = pcap_datalink(c->pcap);
	if (decode_linktype_supported(c->dlt))
		return 0;
	name = pcap_datalink_val_to_name(c->dlt);
	snprintf(err, errlen, "%s: unsupported link type %d (%s); supported: "
	    "Ethernet, Linux cooked v1/v2, raw IP, BSD loopback, PPP, PPPoE",
	    c->name, c->dlt, name ? name : "unknown");
	return -1;
}

struct capture *
capture_open_file(const char *path, const struct capture_options *opt,
    char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct capture *c;
	struct stat sb;
	FILE *fp;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->rfd = -1;
	snprintf(c->name, sizeof(c->name), "%s", path);
	c->is_file = 1;
	perr[0] = '\0';
	if (strcmp(path, "-") == 0)
		c->pcap = pcap_open_offline(path, perr);
	else {
		if ((fp = fopen(path, "rb")) == NULL) {
			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
			goto fail;
		}
		if ((c->file_buf = malloc(FILE_BUFSIZE)) != NULL)
			setvbuf(fp, c->file_buf, _IOFBF, FILE_BUFSIZE);
		/* pcap owns fp once it opens; on failure it is still ours. */
		if ((c->pcap = pcap_fopen_offline(fp, perr)) == NULL)
			fclose(fp);
	}
	if (c->pcap == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, perr);
		goto fail;
	}
	if (stat(path, &sb) == 0)
		c->file_size = (uint64_t)sb.st_size;
	if (check_linktype(c, err, errlen) || set_filter(c, opt->bpf, err,
	    errlen))
		goto fail;
	rfile_open(c, path);
	return c;
fail:
	capture_close(c);
	return NULL;
}

struct capture *
capture_open_live(const char *spec, const struct capture_options *opt,
    char *err, size_t errlen)
{
	char perr[PCAP_ERRBUF_SIZE];
	struct capture *c;
	const char *ifname = spec, *colon;
	char *end;
	unsigned long idx = 0;
	int r, *dlts = NULL, n, i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->rfd = -1;
	if ((colon = strchr(spec, ':')) != NULL) {
		idx = strtoul(spec, &end, 10);
		if (end != colon || colon == spec || idx > UINT32_MAX) {
			snprintf(err, errlen, "interface \"%s\": expected "
			    "[index:]name", spec);
			goto fail;
		}
		ifname = colon + 1;
	}
	snprintf(c->name, sizeof(c->name), "%s", ifname);
	c->ifindex = idx ? (uint32_t)idx : if_nametoindex(ifname);
	perr[0] = '\0';
	if ((c->pcap = pcap_create(ifname, perr)) == NULL) {
		snprintf(err, errlen, "interface %s: %s", ifname, perr);
		goto fail;
	}
	(void)pcap_set_snaplen(c->pcap, opt->snaplen);
	(void)pcap_set_promisc(c->pcap, opt->promisc);
	(void)pcap_set_timeout(c->pcap, LIVE_TIMEOUT_MS);
	if (opt->bufsize > 0)
		(void)pcap_set_buffer_size(c->pcap, opt->bufsize);
	if ((r = pcap_activate(c->pcap)) < 0) {
		snprintf(err, errlen, "interface %s: %s%s", ifname,
		    pcap_statustostr(r), r == PCAP_ERROR_PERM_DENIED ||
		    r == PCAP_ERROR ? " (run as root or grant CAP_NET_RAW)" :
		    r == PCAP_ERROR_NO_SUCH_DEVICE ? " (check `ip link`)" : "");
		if (r == PCAP_ERROR && *pcap_geterr(c->pcap))
			snprintf(err, errlen, "interface %s: %s", ifname,
			    pcap_geterr(c->pcap));
		goto fail;
	}
	if (r > 0)
		log_warnx("interface %s: %s", ifname, pcap_statustostr(r));
	/* Cooked v2 carries the interface index and direction of "any". */
	if ((n = pcap_list_datalinks(c->pcap, &dlts)) > 0) {
		for (i = 0; i < n; i++)
			if (dlts[i] == 276 /* DLT_LINUX_SLL2 */)
				(void)pcap_set_datalink(c->pcap, dlts[i]);
		pcap_free_datalinks(dlts);
	}
	if (check_linktype(c, err, errlen) || set_filter(c, opt->bpf, err,
	    errlen))
		goto fail;
	if (pcap_setnonblock(c->pcap, 1, perr) == -1) {
		snprintf(err, errlen, "interface %s: %s", ifname, perr);
		goto fail;
	}
	return c;
fail:
	capture_close(c);
	return NULL;
}

static void
capture_handler(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capture *c = (struct capture *)user;
	struct capture_frame f;

	f.data = data;
	f.ts_ms = frame_ms((uint64_t)h->ts.tv_sec, (uint64_t)h->ts.tv_usec);
	f.caplen = h->caplen;
	f.len = h->len;
	c->stats.received++;
	c->fn(c->arg, &f, 1, c->dlt, c->ifindex);
}

static void
live_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capture *c = arg;

	(void)fd;
	(void)what;
	if (pcap_dispatch(c->pcap, BATCH_LIVE, capture_handler,
	    (u_char *)c) == -1)
		log_warnx("interface %s: %s", c->name, pcap_geterr(c->pcap));
	c->fn(c->arg, NULL, 0, c->dlt, c->ifindex);
}

static void
file_cb(evutil_socket_t fd, short what, void *arg)
{
	struct capture *c = arg;
	int n;

	(void)fd;
	(void)what;
	if (c->paused)
		return;		/* capture_pause re-arms it */
	if (c->rfd != -1)
		n = rfile_dispatch(c, BATCH_FILE);
	else
		n = pcap_dispatch(c->pcap, BATCH_FILE, capture_handler,
		    (u_char *)c);
	c->fn(c->arg, NULL, 0, c->dlt, c->ifindex);
	if (n > 0) {
		event_active(c->ev, EV_READ, 0);
		return;
	}
	if (n == PCAP_ERROR_BREAK) {
		event_active(c->ev, EV_READ, 0);
		return;
	}
	c->eof(c->arg, c, n == 0 ? NULL : c->rfd != -1 ? c->errbuf :
	    pcap_geterr(c->pcap));
}

int
capture_start(struct capture *c, struct event_base *base,
    capture_packet_fn fn, capture_eof_fn eof, void *arg)
{
	int fd;

	c->fn = fn;
	c->eof = eof;
	c->arg = arg;
	c->started = 1;
	if (c->is_file) {
		if ((c->ev = event_new(base, -1, 0, file_cb, c)) == NULL)
			return -1;
		if (!c->paused)
			event_active(c->ev, EV_READ, 0);
		return 0;
	}
	if ((fd = pcap_get_selectable_fd(c->pcap)) == -1) {
		log_warnx("interface %s: no selectable descriptor", c->name);
		return -1;
	}
	c->ev = event_new(base, fd, EV_READ | EV_PERSIST, live_cb, c);
	if (c->ev == NULL || (!c->paused && event_add(c->ev, NULL) == -1))
		return -1;
	return 0;
}

void
capture_pause(struct capture *c, int paused)
{
	paused = paused != 0;
	if (c->paused == paused)
		return;
	c->paused = paused;
	if (!c->started || c->ev == NULL)
		return;
	if (c->is_file) {
		if (!paused)
			event_active(c->ev, EV_READ, 0);
	} else if (paused)
		event_del(c->ev);
	else
		event_add(c->ev, NULL);
}

void
capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->ev)
		event_free(c->ev);
	if (c->rfd != -1)
		close(c->rfd);
	free(c->rmem);
	if (c->have_prog)
		pcap_freecode(&c->prog);
	if (c->pcap)
		pcap_close(c->pcap);
	free(c->file_buf);
	free(c);
}

const char *
capture_name(const struct capture *c)
{
	return c->name;
}

int
capture_is_file(const struct capture *c)
{
	return c->is_file;
}

int
capture_progress(const struct capture *c, uint64_t *pos, uint64_t *size)
{
	FILE *fp;
	long off;

	if (!c->is_file)
		return -1;
	if (c->rfd != -1)
		off = (long)(c->roff + c->rpos);
	else if ((fp = pcap_file(c->pcap)) == NULL || (off = ftell(fp)) < 0)
		return -1;
	*pos = (uint64_t)off;
	*size = c->file_size;
	return 0;
}

void
capture_get_stats(struct capture *c, struct capture_stats *st)
{
	struct pcap_stat ps;

	if (!c->is_file && pcap_stats(c->pcap, &ps) == 0) {
		c->stats.kernel_drops = ps.ps_drop;
		c->stats.if_drops = ps.ps_ifdrop;
	}
	*st = c->stats;
}
