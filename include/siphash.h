/*
 * Keyed hashes, so crafted traffic cannot flood one bucket: SipHash-1-3,
 * and on x86-64 CPUs with AES instructions a cheaper hash of AES rounds.
 */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t	siphash13(const uint8_t key[16], const void *data, size_t len);

/* A key loaded once, for hashing many short inputs. */
struct siphash_key {
	uint64_t	k0;
	uint64_t	k1;
};

void		siphash13_key(struct siphash_key *sk, const uint8_t key[16]);
/*
 * The same hash over an input given as n whole little-endian words and
 * the final word: the input's length in the top byte above its last
 * len % 8 bytes.  Callers that build their input as words skip the byte
 * copying.
 */
uint64_t	siphash13_words(const struct siphash_key *sk, const uint64_t *w,
		    size_t n, uint64_t last);

/*
 * aeshash: up to AESHASH_LANES 16-byte blocks, one per lane.  Each block
 * is whitened with a secret key and goes through two AES rounds under
 * secret round keys of its own; the lanes are summed and the sum goes
 * through two more keyed rounds.  All keys come from one 128-bit random
 * key through SipHash, a PRF, so they are independent to the attacker.
 *
 * Why that resists hash flooding: two different inputs differ in some
 * lane.  With independent uniform round keys, the expected probability
 * that two rounds of AES turn a given nonzero input difference into any
 * given output difference is at most 53/2^34, about 2^-28.3 (the exact
 * two-round maximum, Keliher and Sui, IET Information Security 2007), so
 * the lane sums of the two inputs collide with at most that probability
 * whatever the other lanes do.  Different sums then pass two more keyed
 * rounds, after which every output bit depends on every byte of the sum.
 * Every input byte thus meets four keyed rounds, whose differential
 * trails have at least 25 active S-boxes (AES's wide-trail bound), before
 * it reaches the bucket index.  As with SipHash, the attacker never sees
 * a hash value, only the effect of a whole bucket on timing, so the
 * attack is to guess key-independent collisions, which that bound rules
 * out.  Go's runtime has hashed map keys with keyed AES rounds for the
 * same reason since 2013; this construction is our own.
 */
#define AESHASH_LANES	4

struct aeshash_key {
	/* Per lane: whitening, round 1, round 2; then the two last rounds. */
	_Alignas(16) uint8_t rk[3 * AESHASH_LANES + 2][16];
};

/* Round keys from a 128-bit key. */
void		aeshash_key(struct aeshash_key *ak, const uint8_t key[16]);
/* 1 when the CPU runs AES instructions: checked once, then cached. */
int		aeshash_supported(void);

#if defined(__x86_64__)
#define HAVE_AESHASH	1
#include <emmintrin.h>
#include <wmmintrin.h>

/* One lane: whitening and two rounds under the lane's keys. */
static inline __attribute__((target("aes"))) __m128i
aeshash_lane(const struct aeshash_key *ak, int lane, __m128i b)
{
	const __m128i *rk = (const __m128i *)(const void *)ak->rk[3 * lane];

	b = _mm_xor_si128(b, rk[0]);
	b = _mm_aesenc_si128(b, rk[1]);
	return _mm_aesenc_si128(b, rk[2]);
}

/* The lanes' sum through the last two rounds; the low 32 bits. */
static inline __attribute__((target("aes"))) uint32_t
aeshash_final(const struct aeshash_key *ak, __m128i sum)
{
	const __m128i *rk = (const __m128i *)(const void *)
	    ak->rk[3 * AESHASH_LANES];

	sum = _mm_aesenc_si128(sum, rk[0]);
	sum = _mm_aesenc_si128(sum, rk[1]);
	return (uint32_t)_mm_cvtsi128_si32(sum);
}

/* Three blocks, or four (b3 not NULL). */
static inline __attribute__((target("aes"))) uint32_t
aeshash_blocks(const struct aeshash_key *ak, __m128i b0, __m128i b1,
    __m128i b2, const __m128i *b3)
{
	__m128i s;

	s = _mm_xor_si128(aeshash_lane(ak, 0, b0), aeshash_lane(ak, 1, b1));
	s = _mm_xor_si128(s, aeshash_lane(ak, 2, b2));
	if (b3 != NULL)
		s = _mm_xor_si128(s, aeshash_lane(ak, 3, *b3));
	return aeshash_final(ak, s);
}
#endif /* __x86_64__ */

#endif /* SIPHASH_H */
