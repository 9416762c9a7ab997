/* SipHash-1-3: a keyed hash, so crafted traffic cannot flood one bucket. */
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

#endif /* SIPHASH_H */
