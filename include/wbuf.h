/*
 * Length-checked writer for export datagrams.  Writes past the capacity set
 * a sticky error flag instead of overflowing, so an encoder checks once at
 * the end.  Offsets returned by wbuf_reserve() are back-patched when a
 * header's length or count is known.
 */
#ifndef WBUF_H
#define WBUF_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wbuf {
	uint8_t	*buf;
	size_t	 len;
	size_t	 cap;
	int	 overflow;
};

static inline void
wbuf_init(struct wbuf *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->len = 0;
	w->cap = cap;
	w->overflow = 0;
}

static inline size_t
wbuf_room(const struct wbuf *w)
{
	return w->cap - w->len;
}

/* Returns the offset of n zeroed bytes, or (size_t)-1 on overflow. */
static inline size_t
wbuf_reserve(struct wbuf *w, size_t n)
{
	size_t off = w->len;

	if (w->overflow || wbuf_room(w) < n) {
		w->overflow = 1;
		return (size_t)-1;
	}
	memset(w->buf + off, 0, n);
	w->len += n;
	return off;
}

static inline void
wbuf_put_be16_at(struct wbuf *w, size_t off, uint16_t v)
{
	if (off == (size_t)-1 || off + 2 > w->len)
		return;
	w->buf[off] = (uint8_t)(v >> 8);
	w->buf[off + 1] = (uint8_t)v;
}

static inline void
wbuf_put_be32_at(struct wbuf *w, size_t off, uint32_t v)
{
	if (off == (size_t)-1 || off + 4 > w->len)
		return;
	w->buf[off] = (uint8_t)(v >> 24);
	w->buf[off + 1] = (uint8_t)(v >> 16);
	w->buf[off + 2] = (uint8_t)(v >> 8);
	w->buf[off + 3] = (uint8_t)v;
}

static inline void
wbuf_bytes(struct wbuf *w, const void *src, size_t n)
{
	size_t off = wbuf_reserve(w, n);

	if (off != (size_t)-1)
		memcpy(w->buf + off, src, n);
}

/*
 * Big-endian unsigned integer of 1..8 bytes (network order, truncating).
 * Encoders write every field of every record through this, so it stores
 * without zeroing first and swaps whole words for the common sizes.
 */
static inline void
wbuf_be(struct wbuf *w, uint64_t v, size_t n)
{
	uint8_t *p;
	uint32_t v32;
	uint64_t v64;
	size_t i;

	if (w->overflow || wbuf_room(w) < n) {
		w->overflow = 1;
		return;
	}
	p = w->buf + w->len;
	w->len += n;
	switch (n) {
	case 1:
		p[0] = (uint8_t)v;
		return;
	case 2:
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
		return;
	case 4:
		v32 = htobe32((uint32_t)v);
		memcpy(p, &v32, 4);
		return;
	case 8:
		v64 = htobe64(v);
		memcpy(p, &v64, 8);
		return;
	}
	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static inline void wbuf_u8(struct wbuf *w, uint8_t v) { wbuf_be(w, v, 1); }
static inline void wbuf_be16(struct wbuf *w, uint16_t v) { wbuf_be(w, v, 2); }
static inline void wbuf_be32(struct wbuf *w, uint32_t v) { wbuf_be(w, v, 4); }
static inline void wbuf_be64(struct wbuf *w, uint64_t v) { wbuf_be(w, v, 8); }

#endif /* WBUF_H */
