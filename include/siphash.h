/* SipHash-1-3: a keyed hash, so crafted traffic cannot flood one bucket. */
#ifndef SIPHASH_H
#define SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t	siphash13(const uint8_t key[16], const void *data, size_t len);

#endif /* SIPHASH_H */
