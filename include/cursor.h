/*
 * Bounds-checked reader for untrusted packet bytes.  Every read of packet
 * memory in the general decoder goes through these functions; each returns
 * -1 and leaves the cursor unchanged when fewer bytes remain than asked
 * for.  (decode_fast_ether() checks the length once for its fixed offsets.)
 */
#ifndef CURSOR_H
#define CURSOR_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t	*pos;
	const uint8_t	*end;
};

static inline void
cur_init(struct cursor *c, const uint8_t *data, size_t len)
{
	c->pos = data;
	c->end = data + len;
}

static inline size_t
cur_left(const struct cursor *c)
{
	return (size_t)(c->end - c->pos);
}

/* Whether n bytes lie at off; written so off + n cannot wrap. */
static inline int
cur_has(const struct cursor *c, size_t off, size_t n)
{
	return off <= cur_left(c) && n <= cur_left(c) - off;
}

static inline int
cur_skip(struct cursor *c, size_t n)
{
	if (cur_left(c) < n)
		return -1;
	c->pos += n;
	return 0;
}

static inline int
cur_peek_u8(const struct cursor *c, size_t off, uint8_t *v)
{
	if (!cur_has(c, off, 1))
		return -1;
	*v = c->pos[off];
	return 0;
}

static inline int
cur_peek_be16(const struct cursor *c, size_t off, uint16_t *v)
{
	if (!cur_has(c, off, 2))
		return -1;
	*v = (uint16_t)(c->pos[off] << 8 | c->pos[off + 1]);
	return 0;
}

static inline int
cur_peek_be32(const struct cursor *c, size_t off, uint32_t *v)
{
	if (!cur_has(c, off, 4))
		return -1;
	*v = (uint32_t)c->pos[off] << 24 | (uint32_t)c->pos[off + 1] << 16 |
	    (uint32_t)c->pos[off + 2] << 8 | c->pos[off + 3];
	return 0;
}

/* Little-endian and host-order reads exist only for link headers that use them. */
static inline int
cur_peek_le32(const struct cursor *c, size_t off, uint32_t *v)
{
	if (!cur_has(c, off, 4))
		return -1;
	*v = (uint32_t)c->pos[off + 3] << 24 | (uint32_t)c->pos[off + 2] << 16 |
	    (uint32_t)c->pos[off + 1] << 8 | c->pos[off];
	return 0;
}

static inline int
cur_peek_bytes(const struct cursor *c, size_t off, void *dst, size_t n)
{
	if (!cur_has(c, off, n))
		return -1;
	memcpy(dst, c->pos + off, n);
	return 0;
}

static inline int
cur_u8(struct cursor *c, uint8_t *v)
{
	return cur_peek_u8(c, 0, v) == 0 ? cur_skip(c, 1) : -1;
}

static inline int
cur_be16(struct cursor *c, uint16_t *v)
{
	return cur_peek_be16(c, 0, v) == 0 ? cur_skip(c, 2) : -1;
}

static inline int
cur_be32(struct cursor *c, uint32_t *v)
{
	return cur_peek_be32(c, 0, v) == 0 ? cur_skip(c, 4) : -1;
}

static inline int
cur_bytes(struct cursor *c, void *dst, size_t n)
{
	return cur_peek_bytes(c, 0, dst, n) == 0 ? cur_skip(c, n) : -1;
}

/* Shrink the readable window to at most n bytes from the current position. */
static inline void
cur_limit(struct cursor *c, size_t n)
{
	if (cur_left(c) > n)
		c->end = c->pos + n;
}

#endif /* CURSOR_H */
