/*
 * Unit tests of the bounds-checked reader (cursor.h) and the length-checked
 * writer (wbuf.h): every read past the end fails and leaves the cursor
 * where it was; every write past the capacity sets a sticky error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cursor.h"
#include "wbuf.h"

static const uint8_t sample[8] = {
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08
};

/* One read of each width at a given offset of sample[0..len). */
struct read_case {
	size_t		 len;	/* bytes the cursor may read */
	size_t		 off;
	int		 width;	/* 1, 2, 4 (be), -4 (le) */
	int		 ok;
	uint32_t	 value;
};

static const struct read_case read_cases[] = {
	{ 8, 0, 1, 1, 0x01 },
	{ 8, 7, 1, 1, 0x08 },
	{ 8, 8, 1, 0, 0 },
	{ 0, 0, 1, 0, 0 },
	{ 8, 0, 2, 1, 0x0102 },
	{ 8, 6, 2, 1, 0x0708 },
	{ 8, 7, 2, 0, 0 },
	{ 1, 0, 2, 0, 0 },
	{ 8, 0, 4, 1, 0x01020304 },
	{ 8, 4, 4, 1, 0x05060708 },
	{ 8, 5, 4, 0, 0 },
	{ 3, 0, 4, 0, 0 },
	{ 8, 0, -4, 1, 0x04030201 },
	{ 8, 4, -4, 1, 0x08070605 },
	{ 7, 4, -4, 0, 0 },
	/* An offset near SIZE_MAX must not wrap around the bounds check. */
	{ 8, SIZE_MAX - 1, 1, 0, 0 },
	{ 8, SIZE_MAX, 1, 0, 0 },
	{ 8, SIZE_MAX - 1, 2, 0, 0 },
	{ 8, SIZE_MAX - 3, 4, 0, 0 },
	{ 8, SIZE_MAX - 2, -4, 0, 0 },
};

static int
peek(const struct cursor *c, const struct read_case *rc, uint32_t *v)
{
	uint8_t b = 0;
	uint16_t h = 0;
	int r;

	switch (rc->width) {
	case 1:
		r = cur_peek_u8(c, rc->off, &b);
		*v = b;
		return r;
	case 2:
		r = cur_peek_be16(c, rc->off, &h);
		*v = h;
		return r;
	case 4:
		return cur_peek_be32(c, rc->off, v);
	default:
		return cur_peek_le32(c, rc->off, v);
	}
}

static void
test_cursor_peek_table(void **state)
{
	const struct read_case *rc;
	struct cursor c;
	uint32_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
		rc = &read_cases[i];
		cur_init(&c, sample, rc->len);
		v = 0xdeadbeef;
		if (rc->ok) {
			assert_int_equal(peek(&c, rc, &v), 0);
			assert_int_equal(v, rc->value);
		} else {
			assert_int_equal(peek(&c, rc, &v), -1);
		}
		/* A peek never moves the cursor. */
		assert_ptr_equal(c.pos, sample);
		assert_int_equal(cur_left(&c), rc->len);
	}
}

static void
test_cursor_take_advances(void **state)
{
	struct cursor c;
	uint8_t b, buf[3];
	uint16_t h;
	uint32_t w;

	(void)state;
	cur_init(&c, sample, sizeof(sample));
	assert_int_equal(cur_u8(&c, &b), 0);
	assert_int_equal(b, 0x01);
	assert_int_equal(cur_left(&c), 7);
	assert_int_equal(cur_be16(&c, &h), 0);
	assert_int_equal(h, 0x0203);
	assert_int_equal(cur_be32(&c, &w), 0);
	assert_int_equal(w, 0x04050607);
	assert_int_equal(cur_left(&c), 1);

	/* Each failing take leaves the cursor unchanged. */
	assert_int_equal(cur_be16(&c, &h), -1);
	assert_int_equal(cur_be32(&c, &w), -1);
	assert_int_equal(cur_bytes(&c, buf, 2), -1);
	assert_int_equal(cur_skip(&c, 2), -1);
	assert_int_equal(cur_left(&c), 1);
	assert_ptr_equal(c.pos, sample + 7);

	assert_int_equal(cur_bytes(&c, buf, 1), 0);
	assert_int_equal(buf[0], 0x08);
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(cur_u8(&c, &b), -1);
	/* Zero bytes are always there, even at the end. */
	assert_int_equal(cur_skip(&c, 0), 0);
	assert_int_equal(cur_bytes(&c, buf, 0), 0);
}

static void
test_cursor_bytes_and_skip(void **state)
{
	struct cursor c;
	uint8_t buf[8];

	(void)state;
	cur_init(&c, sample, sizeof(sample));
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(cur_peek_bytes(&c, 2, buf, 6), 0);
	assert_memory_equal(buf, sample + 2, 6);
	assert_int_equal(cur_peek_bytes(&c, 3, buf, 6), -1);
	/* Neither offset nor length may wrap the bounds check. */
	assert_int_equal(cur_peek_bytes(&c, SIZE_MAX, buf, 2), -1);
	assert_int_equal(cur_peek_bytes(&c, 2, buf, SIZE_MAX - 1), -1);
	assert_int_equal(cur_skip(&c, 8), 0);
	assert_int_equal(cur_left(&c), 0);
	cur_init(&c, sample, sizeof(sample));
	assert_int_equal(cur_skip(&c, 9), -1);
	assert_int_equal(cur_left(&c), 8);
	assert_int_equal(cur_skip(&c, SIZE_MAX), -1);
	assert_int_equal(cur_left(&c), 8);
}

static void
test_cursor_limit(void **state)
{
	struct cursor c;
	uint8_t b;

	(void)state;
	cur_init(&c, sample, sizeof(sample));
	assert_int_equal(cur_skip(&c, 2), 0);
	cur_limit(&c, 3);
	assert_int_equal(cur_left(&c), 3);
	assert_int_equal(cur_peek_u8(&c, 2, &b), 0);
	assert_int_equal(b, 0x05);
	assert_int_equal(cur_peek_u8(&c, 3, &b), -1);
	/* A limit never widens the window. */
	cur_limit(&c, 100);
	assert_int_equal(cur_left(&c), 3);
	cur_limit(&c, 0);
	assert_int_equal(cur_left(&c), 0);
	assert_int_equal(cur_u8(&c, &b), -1);
}

/* wbuf_be for each width writes the low n bytes, most significant first. */
static void
test_wbuf_be_widths(void **state)
{
	static const struct {
		uint64_t	 v;
		size_t		 n;
		uint8_t		 out[8];
	} cases[] = {
		{ 0xab, 1, { 0xab } },
		{ 0x1234, 2, { 0x12, 0x34 } },
		{ 0x123456, 3, { 0x12, 0x34, 0x56 } },
		{ 0xdeadbeef, 4, { 0xde, 0xad, 0xbe, 0xef } },
		{ 0xfedcba9876ULL, 5, { 0xfe, 0xdc, 0xba, 0x98, 0x76 } },
		{ 0x0102030405060708ULL, 8,
		    { 1, 2, 3, 4, 5, 6, 7, 8 } },
		/* Truncation keeps the low-order bytes. */
		{ 0x0102030405060708ULL, 2, { 0x07, 0x08 } },
		{ 0x1ffff, 2, { 0xff, 0xff } },
	};
	uint8_t buf[16];
	struct wbuf w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wbuf_init(&w, buf, sizeof(buf));
		wbuf_be(&w, cases[i].v, cases[i].n);
		assert_false(w.overflow);
		assert_int_equal(w.len, cases[i].n);
		assert_memory_equal(buf, cases[i].out, cases[i].n);
	}
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_u8(&w, 0x11);
	wbuf_be16(&w, 0x2233);
	wbuf_be32(&w, 0x44556677);
	wbuf_be64(&w, 0x8899aabbccddeeffULL);
	assert_int_equal(w.len, 15);
	assert_memory_equal(buf, "\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa"
	    "\xbb\xcc\xdd\xee\xff", 15);
	assert_int_equal(wbuf_room(&w), 1);
}

static void
test_wbuf_exact_fit(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_be32(&w, 1);
	wbuf_be32(&w, 2);
	assert_false(w.overflow);
	assert_int_equal(w.len, 8);
	assert_int_equal(wbuf_room(&w), 0);
	/* Zero bytes still fit in a full buffer. */
	assert_int_equal(wbuf_reserve(&w, 0), 8);
	assert_false(w.overflow);
}

/* Once a write has not fitted, nothing more is written, however small. */
static void
test_wbuf_sticky_overflow(void **state)
{
	uint8_t buf[16];
	struct wbuf w;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	wbuf_init(&w, buf, 6);
	wbuf_be32(&w, 0x01020304);
	wbuf_be32(&w, 0x05060708);	/* does not fit: 2 bytes left */
	assert_true(w.overflow);
	assert_int_equal(w.len, 4);
	/* The failed write left the bytes after len untouched. */
	assert_int_equal(buf[4], 0xee);
	assert_int_equal(buf[5], 0xee);
	wbuf_u8(&w, 0x99);		/* would fit, but the error sticks */
	wbuf_bytes(&w, "x", 1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 4);
	assert_int_equal(buf[4], 0xee);
	assert_int_equal(wbuf_reserve(&w, 0), (size_t)-1);
	assert_int_equal(wbuf_reserve(&w, 1), (size_t)-1);
	/* Re-initialising clears it. */
	wbuf_init(&w, buf, 6);
	assert_false(w.overflow);
	assert_int_equal(w.len, 0);
}

static void
test_wbuf_reserve_zeroes(void **state)
{
	uint8_t buf[8];
	struct wbuf w;
	size_t off;

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_u8(&w, 7);
	off = wbuf_reserve(&w, 5);
	assert_int_equal(off, 1);
	assert_memory_equal(buf + 1, "\0\0\0\0\0", 5);
	assert_int_equal(buf[6], 0xff);
	assert_int_equal(w.len, 6);
	assert_int_equal(wbuf_reserve(&w, 3), (size_t)-1);
	assert_true(w.overflow);
	assert_int_equal(w.len, 6);
}

/* A header reserved first is patched once the body's length is known. */
static void
test_wbuf_backpatch(void **state)
{
	uint8_t buf[32];
	struct wbuf w;
	size_t hdr;

	(void)state;
	wbuf_init(&w, buf, sizeof(buf));
	hdr = wbuf_reserve(&w, 6);
	wbuf_bytes(&w, "payload", 7);
	wbuf_put_be16_at(&w, hdr, (uint16_t)w.len);
	wbuf_put_be32_at(&w, hdr + 2, 0xa1b2c3d4);
	assert_false(w.overflow);
	assert_int_equal(w.len, 13);
	assert_memory_equal(buf, "\x00\x0d\xa1\xb2\xc3\xd4payload", 13);

	/* Patching beyond what was written, or a failed offset, is ignored. */
	memset(buf + 13, 0x55, sizeof(buf) - 13);
	wbuf_put_be16_at(&w, 12, 0xffff);
	wbuf_put_be32_at(&w, 10, 0xffffffff);
	wbuf_put_be16_at(&w, (size_t)-1, 0xffff);
	wbuf_put_be32_at(&w, (size_t)-1, 0xffffffff);
	assert_memory_equal(buf, "\x00\x0d\xa1\xb2\xc3\xd4payload", 13);
	assert_int_equal(buf[13], 0x55);
	/* The last two and four bytes written can be patched. */
	wbuf_put_be16_at(&w, 11, 0x4142);
	wbuf_put_be32_at(&w, 9, 0x61626364);
	assert_memory_equal(buf + 6, "payabcd", 7);
}

/* A header reserved after an overflow yields the failed offset. */
static void
test_wbuf_backpatch_after_overflow(void **state)
{
	uint8_t buf[4];
	struct wbuf w;
	size_t hdr;

	(void)state;
	memset(buf, 0, sizeof(buf));
	wbuf_init(&w, buf, sizeof(buf));
	wbuf_be16(&w, 0x0102);
	hdr = wbuf_reserve(&w, 4);
	assert_int_equal(hdr, (size_t)-1);
	wbuf_put_be16_at(&w, hdr, 0xffff);
	assert_memory_equal(buf, "\x01\x02\x00\x00", 4);
	assert_int_equal(w.len, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cursor_peek_table),
		cmocka_unit_test(test_cursor_take_advances),
		cmocka_unit_test(test_cursor_bytes_and_skip),
		cmocka_unit_test(test_cursor_limit),
		cmocka_unit_test(test_wbuf_be_widths),
		cmocka_unit_test(test_wbuf_exact_fit),
		cmocka_unit_test(test_wbuf_sticky_overflow),
		cmocka_unit_test(test_wbuf_reserve_zeroes),
		cmocka_unit_test(test_wbuf_backpatch),
		cmocka_unit_test(test_wbuf_backpatch_after_overflow),
	};

	/* Code that loops forever fails the suite instead of hanging it. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
