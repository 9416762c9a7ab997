/*
 * Writes every packet of the given captures (pcap or pcapng) as one seed
 * file for fuzz_decode: the selector byte of fuzz.h, then the frame, cut
 * to FUZZ_SEED_MAX bytes (a cut frame gets the selector's "cut" bit, as
 * does a frame the capture itself cut by its snaplen).  Captures the
 * decoder or libpcap cannot read are skipped with a note.
 *   pcap2seeds OUTDIR CAPTURE ...
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "fuzz.h"

#define FUZZ_SEED_MAX	4095	/* libFuzzer's default -max_len, less one */

static int
write_seed(const char *path, uint8_t sel, const uint8_t *data, size_t len)
{
	FILE *fp;
	int ok;

	if ((fp = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "pcap2seeds: cannot create %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	ok = fwrite(&sel, 1, 1, fp) == 1 && fwrite(data, 1, len, fp) == len;
	if (fclose(fp) != 0)
		ok = 0;
	if (!ok)
		fprintf(stderr, "pcap2seeds: cannot write %s\n", path);
	return ok ? 0 : -1;
}

/* Returns the seeds written, or -1 when the output cannot be written. */
static long
seeds_of(const char *outdir, const char *capture, const int *dlts,
    size_t ndlt)
{
	char errbuf[PCAP_ERRBUF_SIZE], path[4096], name[1024];
	struct pcap_pkthdr *h;
	const uint8_t *data;
	pcap_t *p;
	size_t idx, len;
	long n = 0;
	uint8_t sel;
	int dlt, r;

	if ((p = pcap_open_offline(capture, errbuf)) == NULL) {
		fprintf(stderr, "pcap2seeds: skipping %s: %s\n", capture,
		    errbuf);
		return 0;
	}
	dlt = pcap_datalink(p);
	for (idx = 0; idx < ndlt && dlts[idx] != dlt; idx++)
		;
	if (idx == ndlt) {
		fprintf(stderr, "pcap2seeds: skipping %s: link type %d is not "
		    "decoded\n", capture, dlt);
		pcap_close(p);
		return 0;
	}
	snprintf(name, sizeof(name), "%s", capture);
	while ((r = pcap_next_ex(p, &h, &data)) == 1) {
		len = h->caplen < FUZZ_SEED_MAX ? h->caplen : FUZZ_SEED_MAX;
		sel = (uint8_t)idx;
		if (h->len > len)
			sel |= FUZZ_CUT;
		snprintf(path, sizeof(path), "%s/%s-%05ld", outdir,
		    basename(name), n);
		if (write_seed(path, sel, data, len) == -1) {
			pcap_close(p);
			return -1;
		}
		n++;
	}
	if (r == -1)
		fprintf(stderr, "pcap2seeds: %s: stopped after %ld packets: "
		    "%s\n", capture, n, pcap_geterr(p));
	pcap_close(p);
	return n;
}

int
main(int argc, char **argv)
{
	int dlts[FUZZ_MAX_LINKTYPES];
	size_t ndlt;
	long n, total = 0;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: pcap2seeds OUTDIR CAPTURE ...\n");
		return 2;
	}
	ndlt = fuzz_linktypes(dlts);
	for (i = 2; i < argc; i++) {
		if ((n = seeds_of(argv[1], argv[i], dlts, ndlt)) == -1)
			return 1;
		total += n;
	}
	printf("pcap2seeds: %ld seeds from %d captures in %s\n", total,
	    argc - 2, argv[1]);
	return 0;
}
