// SPDX-License-Identifier: GPL-2.0
/*
 * Small formatting helpers shared by the renderers: sizes, bars, and the
 * handling of strings that come from the kernel (comm, arch), which are
 * bytes, not necessarily UTF-8.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "smi.h"

char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", b);
		return buf;
	}
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* buf needs width + 3 bytes. */
void fmt_bar(char *buf, size_t width, uint64_t used, uint64_t cap)
{
	size_t i, fill;

	buf[0] = '[';
	if (!cap) {
		static const char na[] = "no capacity";
		size_t pad = width > sizeof(na) - 1 ? (width - (sizeof(na) - 1)) / 2 : 0;

		for (i = 0; i < width; i++)
			buf[1 + i] = ' ';
		if (width >= sizeof(na) - 1)
			memcpy(buf + 1 + pad, na, sizeof(na) - 1);
	} else {
		double frac = (double)used / (double)cap;

		if (frac > 1.0)
			frac = 1.0;
		fill = (size_t)(frac * (double)width + 0.5);
		if (used && !fill)
			fill = 1;
		for (i = 0; i < width; i++)
			buf[1 + i] = i < fill ? '#' : '.';
	}
	buf[1 + width] = ']';
	buf[2 + width] = '\0';
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if there is none.
 */
size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

size_t bounded_len(const char *s, size_t max)
{
	const char *z = memchr(s, '\0', max);

	return z ? (size_t)(z - s) : max;
}

/*
 * Copy src as valid UTF-8: each byte that is not part of a well-formed
 * sequence becomes U+FFFD, so a comm with stray Latin-1 bytes still shows
 * (and validates) as text. With printable, C0/C1 controls and DEL become
 * '?' so nothing can move the cursor of the terminal showing it.
 * dst needs 3 * srclen + 1 bytes to never truncate. Returns strlen(dst).
 */
size_t utf8_clean(char *dst, size_t dstlen, const char *src, size_t srclen,
		  int printable)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t n = bounded_len(src, srclen), i = 0, o = 0;

	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		const char *rep = NULL;

		if (!l) {
			rep = "\xef\xbf\xbd";
			l = 1;
		} else if (printable && (p[i] < 0x20 || p[i] == 0x7f ||
					 (p[i] == 0xc2 && p[i + 1] < 0xa0))) {
			rep = "?";
		}
		if (rep) {
			size_t rl = strlen(rep);

			if (o + rl >= dstlen)
				break;
			memcpy(dst + o, rep, rl);
			o += rl;
		} else {
			if (o + l >= dstlen)
				break;
			memcpy(dst + o, p + i, l);
			o += l;
		}
		i += l;
	}
	if (dstlen)
		dst[o] = '\0';
	return o;
}

void print_not_loaded(FILE *f)
{
	fprintf(f, "tt_alloc module is not loaded; load it with: %s\n", LOAD_HINT);
}
