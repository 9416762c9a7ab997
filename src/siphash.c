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

#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

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
	uint64_t v0 = sk->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = sk->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = sk->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = sk->k1 ^ 0x7465646279746573ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		v3 ^= w[i];
		SIPROUND;
		v0 ^= w[i];
	}
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t
siphash13(const uint8_t key[16], const void *data, size_t len)
{
	const uint8_t *in = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;
	uint64_t m, b = (uint64_t)len << 56;
	uint8_t tail[8];
	size_t left = len & 7, i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	memset(tail, 0, sizeof(tail));
	memcpy(tail, in + i, left);
	b |= load_le64(tail);
	v3 ^= b;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
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
