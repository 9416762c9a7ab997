/*
 * SipHash-1-3 (Aumasson and Bernstein), written from the published
 * algorithm description.  One compression round per 8-byte block and three
 * finalisation rounds: enough against hash flooding, cheap per packet.
 */
#include <endian.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sipstate {
	uint64_t	v0, v1, v2, v3;
};

static inline void
sip_round(struct sipstate *s)
{
	s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static inline void
sip_init(struct sipstate *s, uint64_t k0, uint64_t k1)
{
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
}

/* One 8-byte block, one compression round (the "1" of 1-3). */
static inline void
sip_block(struct sipstate *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	s->v0 ^= m;
}

/* The last block (length in its top byte), then three rounds. */
static inline uint64_t
sip_finish(struct sipstate *s, uint64_t last)
{
	sip_block(s, last);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* One unaligned load: the compiler did not merge a byte loop into it. */
static inline uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

void
siphash13_key(struct siphash_key *sk, const uint8_t key[16])
{
	sk->k0 = load_le64(key);
	sk->k1 = load_le64(key + 8);
}

uint64_t
siphash13_words(const struct siphash_key *sk, const uint64_t *w, size_t n,
    uint64_t last)
{
	struct sipstate st;
	size_t i;

	sip_init(&st, sk->k0, sk->k1);
	for (i = 0; i < n; i++)
		sip_block(&st, w[i]);
	return sip_finish(&st, last);
}

uint64_t
siphash13(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	struct sipstate st;
	uint8_t tail[8];
	size_t i;

	sip_init(&st, load_le64(key), load_le64(key + 8));
	for (i = 0; i + 8 <= len; i += 8)
		sip_block(&st, load_le64(in + i));
	memset(tail, 0, sizeof(tail));
	memcpy(tail, in + i, len & 7);
	return sip_finish(&st, (uint64_t)len << 56 | load_le64(tail));
}

void
aeshash_key(struct aeshash_key *ak, const uint8_t key[16])
{
	uint64_t i, v;

	/* SipHash of a counter: keys unrelated to each other or to key. */
	for (i = 0; i < sizeof(ak->rk) / 8; i++) {
		v = htole64(siphash13(key, &i, sizeof(i)));
		memcpy((uint8_t *)ak->rk + 8 * i, &v, sizeof(v));
	}
}

int
aeshash_supported(void)
{
#if defined(HAVE_AESHASH)
	static int supported = -1;
	unsigned a, b, c, d;

	if (supported == -1)
		supported = __get_cpuid(1, &a, &b, &c, &d) &&
		    (c & bit_AES) != 0;
	return supported;
#else
	return 0;
#endif
}
