/* The compiled twin of ledger/hashing/ion_hash.py, dot.py and merkle.py.
 *
 * The Python modules are the specification; each function here is named after the one
 * it mirrors (ion_hash.py's `_int` is `s_int`, `_dict` is `s_dict`, ...) and must give
 * the same bytes, or the same DataError, for every input: tests/hashing/
 * test_hashing_native.py runs both on generated values, the conformance suite and QLDB's
 * vectors.  SHA-256 is OpenSSL's block function (SHA256_Transform) on a stack context
 * (no allocation, no per-call EVP set-up, thread-safe).
 *
 * Safety: a value nested more than MAX_DEPTH levels (or containing itself) raises
 * DataError instead of exhausting the C stack; every buffer grows through one checked
 * function; the GIL is released around hashing that reads no Python object.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <Python.h>
#include <datetime.h>
#include "../_ion_c.h"
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HASH_SIZE 32
#define MAX_DEPTH 1000          /* levels of containers; Python's own limit is ~500 */
#define RELEASE_GIL_BYTES 8192  /* below this, releasing the GIL costs more than it frees */

/* --- what the module holds --------------------------------------------------------- */

static PyObject *DataError;
static PyTypeObject *T_Decimal, *T_Timestamp, *T_SymbolToken;
static PyTypeObject *T_IonPyNull, *T_IonPyBool, *T_IonPyInt, *T_IonPyFloat, *T_IonPyDecimal,
    *T_IonPyText, *T_IonPySymbol, *T_IonPyBytes, *T_IonPyTimestamp, *T_IonPyList,
    *T_IonPyDict, *T_IonPyStdDict;
static PyObject *IT_STRING, *IT_SYMBOL, *IT_SEXP, *IT_CLOB; /* IonType members */
static PyObject *S_ion_type, *S_ion_annotations, *S_store, *S_text, *S_sid, *S_precision,
    *S_fractional_precision, *S_fractional_seconds, *S_utcoffset, *S_to_bytes, *S_big,
    *S_items, *S_value;

/* v.name: PyObject_GetAttr without its wrapper (the name is always an interned str). */
static inline PyObject *get_attr(PyObject *v, PyObject *name) {
    getattrofunc get = Py_TYPE(v)->tp_getattro;
    return get ? get(v, name) : PyObject_GetAttr(v, name);
}

/* put and put1 with the usual case (room left) inline: they run for every byte string. */
static inline int put_fast(Buf *b, const void *p, Py_ssize_t n) {
    if (b->len + n > b->cap || !n) return put(b, p, n);
    memcpy(b->data + b->len, p, (size_t)n);
    b->len += n;
    return 0;
}

static inline int put1_fast(Buf *b, unsigned char c) {
    if (b->len >= b->cap) return put1(b, c);
    b->data[b->len++] = c;
    return 0;
}

/* 0x0B, 0x0C and 0x0E are bits 11, 12 and 14 of 0x5800. */
static inline int is_marker(unsigned char c) { return c < 16 ? (0x5800 >> c) & 1 : 0; }

/* A bit for each marker byte among the 16 at p (SSE2: three compares of 16 bytes). */
#if defined(__SSE2__)
static inline unsigned markers16(const unsigned char *p) {
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x0B)),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8(0x0C))),
                             _mm_cmpeq_epi8(x, _mm_set1_epi8(0x0E)));
    return (unsigned)_mm_movemask_epi8(m);
}
#else
static inline unsigned markers16(const unsigned char *p) {
    unsigned mask = 0;
    for (int i = 0; i < 16; i++) mask |= (unsigned)is_marker(p[i]) << i;
    return mask;
}
#endif

static inline int popcount16(unsigned mask) {
    int n = 0;
    for (; mask; mask &= mask - 1) n++;
    return n;
}

/* Whether any byte of the eight is a marker: the zero-byte test of each XOR. */
static inline int marker_in64(uint64_t v) {
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t b = v ^ (ones * 0x0B), c = v ^ (ones * 0x0C), e = v ^ (ones * 0x0E);
    return ((((b - ones) & ~b) | ((c - ones) & ~c) | ((e - ones) & ~e)) & highs) != 0;
}

/* For n < 16: false when p[0:n] has no marker (two overlapping loads, none past the end). */
static inline int maybe_marker_short(const unsigned char *p, Py_ssize_t n) {
    uint64_t lo = 0, hi = 0;
    if (n >= 8) {
        memcpy(&lo, p, 8);
        memcpy(&hi, p + n - 8, 8);
        return marker_in64(lo) || marker_in64(hi);
    }
    if (n >= 4) {
        uint32_t a, z;
        memcpy(&a, p, 4);
        memcpy(&z, p + n - 4, 4);
        return marker_in64((uint64_t)a | (uint64_t)z << 32);
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (is_marker(p[i])) return 1;
    return 0;
}

/* _escape's test: how many of p[0:n] are markers.  16 bytes at a time; a tail of a
 * longer run as the last 16 bytes (those already counted masked off); a short run (field
 * names, most strings) a byte at a time, never read past its end. */
static Py_ssize_t count_markers(const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t markers = 0, i = 0;
    if (n < 16) {
        if (!maybe_marker_short(p, n)) return 0;
        for (; i < n; i++) markers += is_marker(p[i]);
        return markers;
    }
    for (; i + 16 <= n; i += 16) {
        unsigned mask = markers16(p + i);
        if (mask) markers += popcount16(mask);
    }
    if (i < n) {
        unsigned mask = markers16(p + n - 16) >> (16 - (n - i));
        if (mask) markers += popcount16(mask);
    }
    return markers;
}

/* _escape_all into out (room for n + the markers): unmarked 16-byte runs copied whole,
 * the others byte by byte as their mask says. */
/* Returns the end of what it wrote. */
static unsigned char *write_escaped(unsigned char *out, const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    for (; i + 16 <= n; i += 16) {
        unsigned mask = markers16(p + i);
        if (!mask) {
            memcpy(out, p + i, 16);
            out += 16;
            continue;
        }
        for (int j = 0; j < 16; j++, mask >>= 1) {  /* branchless: 0x0C kept where marked */
            *out = 0x0C;
            out += mask & 1;
            *out++ = p[i + j];
        }
    }
    for (; i < n; i++) {
        if (is_marker(p[i])) *out++ = 0x0C;
        *out++ = p[i];
    }
    return out;
}

/* _escape: 0x0C before every 0x0B, 0x0C or 0x0E. */
static int put_escaped(Buf *b, const unsigned char *p, Py_ssize_t n) {
    Py_ssize_t markers = count_markers(p, n);
    if (!markers) return put_fast(b, p, n);
    if (buf_reserve(b, n + markers) < 0) return -1;
    write_escaped(b->data + b->len, p, n);
    b->len += n + markers;
    return 0;
}

/* Escape b->data[from:] where it lies (the scalar bodies built in place). */
static int escape_from(Buf *b, Py_ssize_t from) {
    Py_ssize_t n = b->len - from, markers = count_markers(b->data + from, n);
    if (!markers) return 0;
    if (buf_reserve(b, markers) < 0) return -1;
    unsigned char *src = b->data + from + n - 1, *dst = b->data + from + n + markers - 1;
    while (src >= b->data + from) {
        *dst-- = *src;
        if (is_marker(*src)) *dst-- = 0x0C;
        src--;
    }
    b->len += markers;
    return 0;
}

/* SHA-256 by whole blocks through SHA256_Transform (OpenSSL's block function: SHA-NI
 * where the CPU has it), the padding built here: a field hash is one or two blocks, and
 * the streaming calls' buffering, padding and cleansing cost as much as the blocks.
 * Long inputs (a big document, hashed with the GIL released) stream. */
#define SHA256_BY_BLOCKS 4096
static SHA256_CTX sha256_start; /* SHA256_Init's state, copied for each hash */

static inline uint32_t be32(uint32_t x) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap32(x);
#else
    return x;
#endif
}

static void sha256_out(const SHA256_CTX *ctx, unsigned char out[HASH_SIZE]) {
    for (int i = 0; i < 8; i++) {
        uint32_t h = be32((uint32_t)ctx->h[i]);
        memcpy(out + 4 * i, &h, 4);
    }
}

/* A context at SHA256_Init's state: only the chaining value is read by the block function. */
static inline void sha256_begin(SHA256_CTX *ctx) {
    memcpy(ctx->h, sha256_start.h, sizeof ctx->h);
}

static void sha256(const unsigned char *p, Py_ssize_t n, unsigned char out[HASH_SIZE]) {
    SHA256_CTX ctx;
    if (n > SHA256_BY_BLOCKS) {
        SHA256_Init(&ctx);
        SHA256_Update(&ctx, p, (size_t)n);
        SHA256_Final(out, &ctx);
        return;
    }
    sha256_begin(&ctx);
    size_t full = (size_t)n / 64, rest = (size_t)n % 64;
    for (size_t i = 0; i < full; i++) SHA256_Transform(&ctx, p + 64 * i);
    unsigned char last[128];  /* the rest, 0x80, zeros, the length in bits (big-endian) */
    size_t size = rest < 56 ? 64 : 128;
    memcpy(last, p + 64 * full, rest);
    last[rest] = 0x80;
    memset(last + rest + 1, 0, size - 8 - rest - 1);
    uint64_t bits = (uint64_t)n * 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    bits = __builtin_bswap64(bits);
#endif
    memcpy(last + size - 8, &bits, 8);
    SHA256_Transform(&ctx, last);
    if (size == 128) SHA256_Transform(&ctx, last + 64);
    sha256_out(&ctx, out);
}

/* sha256 of p[0:n] (n <= SHA256_BY_BLOCKS) padded where it lies: the SHA256_PADDING
 * bytes after it are the caller's room (a field's bytes at the end of the buffer, cut
 * back after), so nothing is copied. */
#define SHA256_PADDING 72 /* 0x80, zeros, the 8-byte length: at most 72 past the data */

static void sha256_in_place(unsigned char *p, Py_ssize_t n, unsigned char out[HASH_SIZE]) {
    size_t rest = (size_t)n % 64, end = (size_t)n - rest + (rest < 56 ? 64 : 128);
    p[n] = 0x80;
    memset(p + n + 1, 0, end - 8 - (size_t)n - 1);
    uint64_t bits = (uint64_t)n * 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    bits = __builtin_bswap64(bits);
#endif
    memcpy(p + end - 8, &bits, 8);
    SHA256_CTX ctx;
    sha256_begin(&ctx);
    for (size_t i = 0; i < end; i += 64) SHA256_Transform(&ctx, p + i);
    sha256_out(&ctx, out);
}

/* SHA256(a ‖ b) of two hashes: one block of data, then the same padding block always. */
static void sha256_pair(const unsigned char *a, const unsigned char *b,
                        unsigned char out[HASH_SIZE]) {
    static const unsigned char padding[64] = {[0] = 0x80, [62] = 0x02}; /* 512 bits */
    unsigned char block[64];
    memcpy(block, a, HASH_SIZE);
    memcpy(block + HASH_SIZE, b, HASH_SIZE);
    SHA256_CTX ctx;
    sha256_begin(&ctx);
    SHA256_Transform(&ctx, block);
    SHA256_Transform(&ctx, padding);
    sha256_out(&ctx, out);
}

static PyObject *data_error(const char *fmt, ...) {
    va_list va;
    va_start(va, fmt);
    PyObject *msg = PyUnicode_FromFormatV(fmt, va);
    va_end(va);
    if (msg) {
        PyErr_SetObject(DataError, msg);
        Py_DECREF(msg);
    }
    return NULL;
}

/* --- byte-level helpers -------------------------------------------------------------- */

/* _compute_varint: 7 bits a byte, big-endian, sign 0x40 in the first, end 0x80 on the last. */
static int put_varint(Buf *b, long long n) {
    unsigned char bytes[12];
    return put_fast(b, bytes, varint_bytes(n, bytes));
}

/* Big-endian bytes of a magnitude, fewest bytes; `sign_room` keeps the top bit free
 * (_signed_magnitude) and `negative` then sets it. */
static int put_magnitude_u64(Buf *b, unsigned long long m, int sign_room, int negative) {
    unsigned char tmp[9];
    int n = 0;
    while (m) {
        tmp[n++] = m & 0xFF;
        m >>= 8;
    }
    if (sign_room && (n == 0 || (tmp[n - 1] & 0x80))) tmp[n++] = 0;
    if (negative) tmp[n - 1] |= 0x80;
    if (buf_reserve(b, n) < 0) return -1;
    for (int i = n - 1; i >= 0; i--) b->data[b->len++] = tmp[i];
    return 0;
}

/* The same for a Python int of any size (non-negative `m`), through int.to_bytes. */
static int put_magnitude_long(Buf *b, PyObject *m, int sign_room, int negative) {
    size_t bits = _PyLong_NumBits(m);
    if (bits == (size_t)-1 && PyErr_Occurred()) return -1;
    Py_ssize_t size = sign_room ? (Py_ssize_t)(bits / 8 + 1) : (Py_ssize_t)((bits + 7) / 8);
    PyObject *size_obj = PyLong_FromSsize_t(size);
    if (!size_obj) return -1;
    PyObject *bytes = PyObject_CallMethodObjArgs(m, S_to_bytes, size_obj, S_big, NULL);
    Py_DECREF(size_obj);
    if (!bytes) return -1;
    Py_ssize_t start = b->len;
    int rc = put_fast(b, PyBytes_AS_STRING(bytes), PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
    if (rc == 0 && negative && size) b->data[start] |= 0x80;
    return rc;
}

/* --- serializers: one per Python function of ion_hash.py ----------------------------- */

typedef struct {
    Buf *b;
    int depth;
} Ctx;

static int s_value(Ctx *c, PyObject *v);

static const unsigned char NULL_S[] = {0x0B, 0x0F, 0x0E}, SID0[] = {0x0B, 0x71, 0x0E};

/* _int (and _compute_int): TQ 0x20 / 0x30, the magnitude's bytes, none for 0. */
static int s_int(Ctx *c, PyObject *v) {
    int overflow;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred()) return -1;
    Buf *b = c->b;
    if (!overflow) {
        if (put1_fast(b, 0x0B) < 0 || put1_fast(b, n < 0 ? 0x30 : 0x20) < 0) return -1;
        Py_ssize_t from = b->len;
        unsigned long long m = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
        if (put_magnitude_u64(b, m, 0, 0) < 0 || escape_from(b, from) < 0) return -1;
        return put1_fast(b, 0x0E);
    }
    PyObject *m = PyNumber_Absolute(v);
    if (!m) return -1;
    if (put1_fast(b, 0x0B) < 0 || put1_fast(b, overflow < 0 ? 0x30 : 0x20) < 0) {
        Py_DECREF(m);
        return -1;
    }
    Py_ssize_t from = b->len;
    int rc = put_magnitude_long(b, m, 0, 0);
    Py_DECREF(m);
    if (rc < 0 || escape_from(b, from) < 0) return -1;
    return put1_fast(b, 0x0E);
}

/* _float: 8 big-endian bytes; +0e0 empty; one NaN. */
static int s_float(Ctx *c, double d) {
    static const unsigned char nan_s[] = {0x0B, 0x40, 0x7F, 0xF8, 0, 0, 0, 0, 0, 0, 0x0E};
    if (d != d) return put_fast(c->b, nan_s, sizeof nan_s);
    unsigned char packed[8];
    if (PyFloat_Pack8(d, (char *)packed, 0) < 0) return -1;
    static const unsigned char zero8[8] = {0};
    if (put1_fast(c->b, 0x0B) < 0 || put1_fast(c->b, 0x40) < 0) return -1;
    if (memcmp(packed, zero8, 8) != 0 && put_escaped(c->b, packed, 8) < 0) return -1;
    return put1_fast(c->b, 0x0E);
}

/* Parse Decimal's str(): sign, coefficient digits, exponent (_decimal_parts).  Returns 0,
 * or -1 with DataError for NaN and infinities (Ion has none). */
typedef struct {
    int negative;
    char digits[128];
    char *big;  /* the digits when longer than `digits` (PyMem) */
    Py_ssize_t ndigits;
    long long exponent;
} DecimalParts;

static int decimal_parts(PyObject *v, DecimalParts *d) {
    d->big = NULL;
    PyObject *text = T_Decimal->tp_str(v); /* Decimal.__str__, as _decimal_text */
    if (!text) return -1;
    if (!PyUnicode_Check(text)) {
        Py_DECREF(text);
        data_error("Decimal.__str__ gave no str");
        return -1;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (!s) { Py_DECREF(text); return -1; }
    const char *end = s + n, *p = s;
    d->negative = 0;
    if (p < end && (*p == '-' || *p == '+')) d->negative = (*p++ == '-');
    char *out = d->digits;
    if (n > (Py_ssize_t)sizeof d->digits) {
        out = d->big = PyMem_Malloc((size_t)n);
        if (!out) { Py_DECREF(text); PyErr_NoMemory(); return -1; }
    }
    Py_ssize_t count = 0, fraction = 0;
    int seen_point = 0, any = 0;
    for (; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
        if (*p == '.') { seen_point = 1; continue; }
        any = 1;
        if (seen_point) fraction++;
        if (count == 0 && *p == '0') continue; /* leading zeros: the coefficient is a number */
        out[count++] = *p;
    }
    long long e = 0;
    int ok = any;
    if (ok && p < end) {
        ok = (*p == 'E' || *p == 'e') && ++p < end;
        int eneg = 0;
        if (ok && (*p == '+' || *p == '-')) eneg = (*p++ == '-');
        ok = ok && p < end;
        for (; ok && p < end; p++) {
            if (*p < '0' || *p > '9' || e > 100000000000LL) { ok = 0; break; }
            e = e * 10 + (*p - '0');
        }
        if (eneg) e = -e;
    }
    if (!ok) {
        data_error("cannot hash the decimal %U: Ion has no NaN or infinite decimals", text);
        Py_DECREF(text);
        PyMem_Free(d->big);
        d->big = NULL;
        return -1;
    }
    Py_DECREF(text);
    d->ndigits = count;
    d->exponent = e - fraction;
    return 0;
}

/* Int(coefficient, sign-magnitude) of the parsed digits: none when zero. */
static int put_coefficient(Buf *b, DecimalParts *d) {
    const char *digits = d->big ? d->big : d->digits;
    if (d->ndigits <= 18) {
        unsigned long long m = 0;
        for (Py_ssize_t i = 0; i < d->ndigits; i++) m = m * 10 + (unsigned)(digits[i] - '0');
        return m ? put_magnitude_u64(b, m, 1, d->negative) : 0;
    }
    PyObject *text = PyUnicode_FromStringAndSize(digits, d->ndigits);
    if (!text) return -1;
    PyObject *m = PyLong_FromUnicodeObject(text, 10);
    Py_DECREF(text);
    if (!m) return -1;
    int rc = put_magnitude_long(b, m, 1, d->negative);
    Py_DECREF(m);
    return rc;
}

/* _decimal_body: VarInt(exponent) ‖ Int(coefficient); a zero coefficient is omitted unless -0. */
static int put_decimal_body(Buf *b, DecimalParts *d) {
    if (put_varint(b, d->exponent) < 0) return -1;
    if (d->ndigits) return put_coefficient(b, d);
    return d->negative ? put1_fast(b, 0x80) : 0;
}

/* _decimal and _decimal_slow: 0d0 alone is empty. */
static int s_decimal(Ctx *c, PyObject *v) {
    DecimalParts d;
    if (decimal_parts(v, &d) < 0) return -1;
    Buf *b = c->b;
    int rc = put1_fast(b, 0x0B) < 0 || put1_fast(b, 0x50) < 0 ? -1 : 0;
    if (rc == 0 && (d.negative || d.ndigits || d.exponent)) {
        Py_ssize_t from = b->len;
        rc = put_decimal_body(b, &d) < 0 || escape_from(b, from) < 0 ? -1 : 0;
    }
    PyMem_Free(d.big);
    return rc < 0 ? -1 : put1_fast(b, 0x0E);
}

/* _string / _symbol_text: TQ, escaped UTF-8. */
static int s_text(Ctx *c, PyObject *v, unsigned char tq) {
    Py_ssize_t n;
    const char *s;
    if (PyUnicode_IS_ASCII(v)) { /* its characters are its UTF-8 */
        s = (const char *)PyUnicode_DATA(v);
        n = PyUnicode_GET_LENGTH(v);
    } else if (!(s = PyUnicode_AsUTF8AndSize(v, &n))) {
        return -1;
    }
    if (put1_fast(c->b, 0x0B) < 0 || put1_fast(c->b, tq) < 0) return -1;
    if (put_escaped(c->b, (const unsigned char *)s, n) < 0) return -1;
    return put1_fast(c->b, 0x0E);
}

/* _symbol_token: by text; $0 hashes as an empty symbol; other unknown text is an error. */
static int s_symbol_token(Ctx *c, PyObject *token) {
    PyObject *text = get_attr(token, S_text);
    if (!text) return -1;
    if (text != Py_None) {
        int rc = PyUnicode_Check(text) ? s_text(c, text, 0x70) : -1;
        if (rc < 0 && !PyErr_Occurred()) data_error("a symbol's text is not a str");
        Py_DECREF(text);
        return rc;
    }
    Py_DECREF(text);
    PyObject *sid = get_attr(token, S_sid);
    if (!sid) return -1;
    int zero = PyLong_Check(sid) && PyLong_AsLong(sid) == 0 && !PyErr_Occurred();
    if (zero) {
        Py_DECREF(sid);
        return put_fast(c->b, SID0, sizeof SID0);
    }
    PyErr_Clear();
    data_error("cannot hash symbol $%S: its text is unknown", sid);
    Py_DECREF(sid);
    return -1;
}

/* _blob (and _ion_bytes' body): TQ, escaped raw bytes. */
static int s_bytes(Ctx *c, PyObject *v, unsigned char tq) {
    Py_buffer view;
    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();  /* a strided memoryview: bytes(v) copies it contiguous */
        PyObject *copy = PyBytes_FromObject(v);
        if (!copy) return -1;
        int rc = s_bytes(c, copy, tq);
        Py_DECREF(copy);
        return rc;
    }
    int rc = put1_fast(c->b, 0x0B) < 0 || put1_fast(c->b, tq) < 0 ||
                     put_escaped(c->b, view.buf, view.len) < 0 || put1_fast(c->b, 0x0E) < 0
                 ? -1
                 : 0;
    PyBuffer_Release(&view);
    return rc;
}

/* --- timestamps ---------------------------------------------------------------------- */

/* Days since 0001-01-01 and back (proleptic Gregorian), for shifting fields to UTC. */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe;
}

static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d) {
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

/* _seconds_body: VarInt(offset minutes) (0xC0 unknown), then UTC year ... second. */
static int put_seconds_body(Buf *b, PyObject *v) {
    long long year = PyDateTime_GET_YEAR(v);
    unsigned month = PyDateTime_GET_MONTH(v), day = PyDateTime_GET_DAY(v);
    long long hour = PyDateTime_DATE_GET_HOUR(v), minute = PyDateTime_DATE_GET_MINUTE(v);
    int second = PyDateTime_DATE_GET_SECOND(v);
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(v);
    if (tz == PyDateTime_TimeZone_UTC) {
        if (put1_fast(b, 0x80) < 0) return -1;
    } else {
        PyObject *offset = PyObject_CallMethodNoArgs(v, S_utcoffset);
        if (!offset) return -1;
        if (offset == Py_None) {
            Py_DECREF(offset);
            if (put1_fast(b, 0xC0) < 0) return -1;
        } else if (!PyDelta_Check(offset)) {
            Py_DECREF(offset);
            data_error("a timestamp's utcoffset() is not a timedelta");
            return -1;
        } else {
            long long micro = (long long)PyDateTime_DELTA_GET_DAYS(offset) * 86400000000LL +
                              (long long)PyDateTime_DELTA_GET_SECONDS(offset) * 1000000LL +
                              PyDateTime_DELTA_GET_MICROSECONDS(offset);
            if (micro % 60000000LL) {
                data_error("an Ion timestamp offset is whole minutes, not %S", offset);
                Py_DECREF(offset);
                return -1;
            }
            Py_DECREF(offset);
            long long offset_minutes = micro / 60000000LL;
            if (put_varint(b, offset_minutes) < 0) return -1;
            if (offset_minutes) {
                long long total = days_from_civil(year, month, day) * 1440 + hour * 60 + minute -
                                  offset_minutes;
                long long days = total >= 0 ? total / 1440 : -((-total + 1439) / 1440);
                long long rest = total - days * 1440;
                civil_from_days(days, &year, &month, &day);
                hour = rest / 60;
                minute = rest % 60;
                if (year < 1 || year > 9999) {
                    data_error("cannot hash %s as Ion: date value out of range",
                               Py_TYPE(v)->tp_name);
                    return -1;
                }
            }
        }
    }
    unsigned char fields[7];
    int n = 0;
    if (year >= 128) {
        fields[n++] = (unsigned char)(year >> 7);
        fields[n++] = (unsigned char)((year & 0x7F) | 0x80);
    } else {
        fields[n++] = (unsigned char)(year | 0x80);
    }
    fields[n++] = (unsigned char)(month | 0x80);
    fields[n++] = (unsigned char)(day | 0x80);
    fields[n++] = (unsigned char)(hour | 0x80);
    fields[n++] = (unsigned char)(minute | 0x80);
    fields[n++] = (unsigned char)(second | 0x80);
    return put_fast(b, fields, n);
}

/* _datetime_fraction: six digits, always. */
static int put_datetime_fraction(Buf *b, PyObject *v) {
    int micro = PyDateTime_DATE_GET_MICROSECOND(v);
    if (put1_fast(b, 0xC6) < 0) return -1;
    return micro ? put_magnitude_u64(b, (unsigned long long)micro, 1, 0) : 0;
}

/* An optional int attribute: 0 and *out set, 1 when None, -1 on error. */
static int int_attr(PyObject *v, PyObject *name, long long *out) {
    PyObject *a = get_attr(v, name);
    if (!a) return -1;
    if (a == Py_None) {
        Py_DECREF(a);
        return 1;
    }
    *out = PyLong_AsLongLong(a);
    Py_DECREF(a);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* _fraction: fractional seconds as VarInt(exponent) ‖ Int(coefficient). */
static int put_fraction(Buf *b, PyObject *v, int has_digits, long long digits) {
    static const long long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    if (has_digits && digits < 6) {
        if (digits == 0) return 0;
        if (digits < 0) { data_error("a timestamp's fractional_precision is negative"); return -1; }
        long long coefficient = PyDateTime_DATE_GET_MICROSECOND(v) / pow10[6 - digits];
        if (put_varint(b, -digits) < 0) return -1;
        return coefficient ? put_magnitude_u64(b, (unsigned long long)coefficient, 1, 0) : 0;
    }
    PyObject *seconds = get_attr(v, S_fractional_seconds);
    if (!seconds) return -1;
    if (seconds == Py_None) {
        Py_DECREF(seconds);
        return put_datetime_fraction(b, v);
    }
    PyObject *decimal = PyObject_CallOneArg((PyObject *)T_Decimal, seconds);
    Py_DECREF(seconds);
    if (!decimal) return -1;
    DecimalParts d;
    int rc = decimal_parts(decimal, &d);
    Py_DECREF(decimal);
    if (rc < 0) return -1;
    if (!d.ndigits && d.exponent >= 0) rc = 0;
    else rc = put_decimal_body(b, &d);
    PyMem_Free(d.big);
    return rc;
}

/* _timestamp: the fields up to the value's precision. */
static int s_timestamp(Ctx *c, PyObject *v) {
    static const int fields_by_precision[] = {0, 1, 2, 4, 5};
    Buf *b = c->b;
    long long precision = 4;
    int unset = int_attr(v, S_precision, &precision);
    if (unset < 0) return -1;
    if (put1_fast(b, 0x0B) < 0 || put1_fast(b, 0x60) < 0) return -1;
    Py_ssize_t from = b->len;
    if (unset || precision >= 4) {
        long long digits = 0;
        int no_digits = int_attr(v, S_fractional_precision, &digits);
        if (no_digits < 0 || put_seconds_body(b, v) < 0) return -1;
        if (no_digits || digits != 0) {
            if (!no_digits && digits == 3) {
                int ms = PyDateTime_DATE_GET_MICROSECOND(v) / 1000;
                if (put1_fast(b, 0xC3) < 0 || (ms && put_magnitude_u64(b, (unsigned)ms, 1, 0) < 0))
                    return -1;
            } else if (put_fraction(b, v, !no_digits, digits) < 0) {
                return -1;
            }
        }
    } else {
        if (precision < 0) { data_error("a timestamp's precision is negative"); return -1; }
        if (put_seconds_body(b, v) < 0) return -1;
        b->len -= 5 - fields_by_precision[precision];
    }
    if (escape_from(b, from) < 0) return -1;
    return put1_fast(b, 0x0E);
}

/* _datetime: a plain datetime has microsecond precision, always. */
static int s_datetime(Ctx *c, PyObject *v) {
    Buf *b = c->b;
    if (put1_fast(b, 0x0B) < 0 || put1_fast(b, 0x60) < 0) return -1;
    Py_ssize_t from = b->len;
    if (put_seconds_body(b, v) < 0 || put_datetime_fraction(b, v) < 0) return -1;
    if (escape_from(b, from) < 0) return -1;
    return put1_fast(b, 0x0E);
}

/* --- containers ---------------------------------------------------------------------- */

/* _field_name: s(name as symbol). */
static int s_field_name(Ctx *c, PyObject *name) {
    if (PyUnicode_Check(name)) return s_text(c, name, 0x70);
    if (name == Py_None) return put_fast(c->b, SID0, sizeof SID0);
    if (PyObject_TypeCheck(name, T_SymbolToken)) return s_symbol_token(c, name);
    data_error("cannot hash a struct field named by a %s", Py_TYPE(name)->tp_name);
    return -1;
}

typedef struct {
    unsigned char (*h)[HASH_SIZE];
    Py_ssize_t len, cap;
    unsigned char inline_[8][HASH_SIZE];
} Fields;

static int field_hash(Ctx *c, Fields *f, PyObject *name, PyObject *value) {
    Buf *b = c->b;
    Py_ssize_t mark = b->len;
    if (s_field_name(c, name) < 0 || s_value(c, value) < 0) return -1;
    if (f->len == f->cap) {
        Py_ssize_t cap = f->cap * 2;
        unsigned char(*h)[HASH_SIZE] = PyMem_Malloc((size_t)cap * HASH_SIZE);
        if (!h) { PyErr_NoMemory(); return -1; }
        memcpy(h, f->h, (size_t)f->len * HASH_SIZE);
        if (f->h != f->inline_) PyMem_Free(f->h);
        f->h = h;
        f->cap = cap;
    }
    Py_ssize_t n = b->len - mark;
    if (n > SHA256_BY_BLOCKS) sha256(b->data + mark, n, f->h[f->len++]);
    else if (buf_reserve(b, SHA256_PADDING) < 0) return -1;
    else sha256_in_place(b->data + mark, n, f->h[f->len++]);
    b->len = mark;  /* the field's bytes are hashed, not kept */
    return 0;
}

static int compare_hashes(const void *a, const void *b) { return memcmp(a, b, HASH_SIZE); }

/* Eight bytes as a big-endian number: comparing two is memcmp of the eight. */
static inline uint64_t load_be64(const unsigned char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* memcmp(a, b, HASH_SIZE) < 0, eight bytes at a time. */
static inline int hash_less(const unsigned char *a, const unsigned char *b) {
    for (int i = 0; i < HASH_SIZE; i += 8) {
        uint64_t x = load_be64(a + i), y = load_be64(b + i);
        if (x != y) return x < y;
    }
    return 0;
}

/* field_hashes.sort(): unsigned lexicographic; insertion sort for the usual few fields. */
static void sort_hashes(unsigned char (*h)[HASH_SIZE], Py_ssize_t n) {
    if (n > 16) {
        qsort(h, (size_t)n, HASH_SIZE, compare_hashes);
        return;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        if (!hash_less(h[i], h[i - 1])) continue;
        unsigned char key[HASH_SIZE];
        memcpy(key, h[i], HASH_SIZE);
        Py_ssize_t j = i;
        for (; j > 0 && hash_less(key, h[j - 1]); j--) memcpy(h[j], h[j - 1], HASH_SIZE);
        memcpy(h[j], key, HASH_SIZE);
    }
}

/* _struct_body: B ‖ 0xD0 ‖ escape(sorted field hashes) ‖ E. */
static int put_struct_body(Ctx *c, Fields *f) {
    sort_hashes(f->h, f->len);
    Buf *b = c->b;
    Py_ssize_t n = f->len * HASH_SIZE;
    if (buf_reserve(b, 2 * n + 3) < 0) return -1; /* every byte escaped, at worst: one pass */
    b->data[b->len++] = 0x0B;
    b->data[b->len++] = 0xD0;
    unsigned char *out = b->data + b->len;
    b->len += write_escaped(out, (const unsigned char *)f->h, n) - out;
    b->data[b->len++] = 0x0E;
    return 0;
}

static int enter(Ctx *c) {
    if (++c->depth > MAX_DEPTH) {
        data_error("cannot hash a value nested more than %d levels deep (or containing itself)",
                   MAX_DEPTH);
        return -1;
    }
    return 0;
}

/* _dict: a dict's items (any dict subclass through its own items()). */
static int s_dict(Ctx *c, PyObject *v) {
    if (enter(c) < 0) return -1;
    Fields f = {.len = 0, .cap = 8};
    f.h = f.inline_;
    int rc = 0;
    if (PyDict_CheckExact(v) || Py_TYPE(v) == T_IonPyStdDict) {
        Py_ssize_t pos = 0;
        PyObject *name, *value;
        while (rc == 0 && PyDict_Next(v, &pos, &name, &value)) {
            Py_INCREF(name);
            Py_INCREF(value);
            rc = field_hash(c, &f, name, value);
            Py_DECREF(name);
            Py_DECREF(value);
        }
    } else {
        PyObject *items = PyObject_CallMethodNoArgs(v, S_items);
        PyObject *it = items ? PyObject_GetIter(items) : NULL;
        Py_XDECREF(items);
        if (!it) rc = -1;
        PyObject *pair;
        while (rc == 0 && (pair = PyIter_Next(it))) {
            if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
                data_error("a mapping's items() did not give pairs");
                rc = -1;
            } else {
                rc = field_hash(c, &f, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1));
            }
            Py_DECREF(pair);
        }
        if (rc == 0 && PyErr_Occurred()) rc = -1;
        Py_XDECREF(it);
    }
    if (rc == 0) rc = put_struct_body(c, &f);
    if (f.h != f.inline_) PyMem_Free(f.h);
    c->depth--;
    return rc;
}

/* _ion_struct: IonPyDict's {name: [values]} store, repeated names kept. */
static int s_ion_dict(Ctx *c, PyObject *v) {
    PyObject *store = get_attr(v, S_store);
    if (!store) return -1;
    if (!PyDict_Check(store)) {
        Py_DECREF(store);
        data_error("an IonPyDict without its store");
        return -1;
    }
    if (enter(c) < 0) { Py_DECREF(store); return -1; }
    Fields f = {.len = 0, .cap = 8};
    f.h = f.inline_;
    int rc = 0;
    Py_ssize_t pos = 0;
    PyObject *name, *values;
    while (rc == 0 && PyDict_Next(store, &pos, &name, &values)) {
        Py_INCREF(name);
        Py_INCREF(values);
        PyObject *seq = PySequence_Fast(values, "an IonPyDict's values are not a list");
        if (!seq) rc = -1;
        for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *value = PySequence_Fast_GET_ITEM(seq, i);
            Py_INCREF(value);
            rc = field_hash(c, &f, name, value);
            Py_DECREF(value);
        }
        Py_XDECREF(seq);
        Py_DECREF(name);
        Py_DECREF(values);
    }
    Py_DECREF(store);
    if (rc == 0) rc = put_struct_body(c, &f);
    if (f.h != f.inline_) PyMem_Free(f.h);
    c->depth--;
    return rc;
}

/* _list / _items: TQ, each item's s(), E. */
static int s_list(Ctx *c, PyObject *v, unsigned char tq) {
    if (enter(c) < 0) return -1;
    /* IonPyList iterates as the list it is (PySequence_Fast would copy a subclass). */
    PyObject *seq = Py_TYPE(v) == T_IonPyList ? Py_NewRef(v) : PySequence_Fast(v, "not a sequence");
    if (!seq) { c->depth--; return -1; }
    int rc = put1_fast(c->b, 0x0B) < 0 || put1_fast(c->b, tq) < 0 ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        Py_INCREF(item);  /* a list may shrink under a __hash__ or __str__ */
        rc = s_value(c, item);
        Py_DECREF(item);
    }
    Py_DECREF(seq);
    c->depth--;
    return rc < 0 ? -1 : put1_fast(c->b, 0x0E);
}

/* --- amazon.ion values: the same, plus annotations ------------------------------------ */

enum Kind {
    K_UNKNOWN, K_NULL, K_BOOL, K_INT, K_FLOAT, K_DECIMAL, K_STRING, K_BLOB, K_DICT, K_LIST,
    K_DATETIME, K_TIMESTAMP, K_SYMBOL, K_ION_NULL, K_ION_BOOL, K_ION_INT, K_ION_FLOAT,
    K_ION_DECIMAL, K_ION_TEXT, K_ION_SYMBOL, K_ION_BYTES, K_ION_TIMESTAMP, K_ION_LIST,
    K_ION_STRUCT, K_ION_STD_STRUCT
};

/* _DISPATCH: the serializer of an exact type. */
static enum Kind exact_kind(PyTypeObject *t) {
    if (t == &PyUnicode_Type) return K_STRING;
    if (t == &PyDict_Type) return K_DICT;
    if (t == &PyLong_Type) return K_INT;
    if (t == T_IonPyText) return K_ION_TEXT;
    if (t == T_IonPyDict) return K_ION_STRUCT;
    if (t == T_IonPyInt) return K_ION_INT;
    if (t == T_IonPyDecimal) return K_ION_DECIMAL;
    if (t == T_IonPyTimestamp) return K_ION_TIMESTAMP;
    if (t == T_IonPyList) return K_ION_LIST;
    if (t == T_Decimal) return K_DECIMAL;
    if (t == &PyList_Type || t == &PyTuple_Type) return K_LIST;
    if (t == T_Timestamp) return K_TIMESTAMP;
    if (t == Py_TYPE(Py_None)) return K_NULL;
    if (t == &PyBool_Type) return K_BOOL;
    if (t == &PyFloat_Type) return K_FLOAT;
    if (t == &PyBytes_Type || t == &PyByteArray_Type || t == &PyMemoryView_Type) return K_BLOB;
    if (t == PyDateTimeAPI->DateTimeType) return K_DATETIME;
    if (t == T_SymbolToken) return K_SYMBOL;
    if (t == T_IonPyNull) return K_ION_NULL;
    if (t == T_IonPyBool) return K_ION_BOOL;
    if (t == T_IonPyFloat) return K_ION_FLOAT;
    if (t == T_IonPySymbol) return K_ION_SYMBOL;
    if (t == T_IonPyBytes) return K_ION_BYTES;
    if (t == T_IonPyStdDict) return K_ION_STD_STRUCT;
    return K_UNKNOWN;
}

/* _resolve: the first base in the MRO that has a serializer. */
static enum Kind kind_of(PyTypeObject *t) {
    enum Kind k = exact_kind(t);
    if (k != K_UNKNOWN) return k;
    PyObject *mro = t->tp_mro;
    if (mro && PyTuple_Check(mro)) {
        for (Py_ssize_t i = 1; i < PyTuple_GET_SIZE(mro); i++) {
            k = exact_kind((PyTypeObject *)PyTuple_GET_ITEM(mro, i));
            if (k != K_UNKNOWN) return k;
        }
    }
    data_error("cannot hash a %s as Ion", t->tp_name);
    return K_UNKNOWN;
}

/* _annotated: B ‖ 0xE0 ‖ s(annotation)… ‖ body ‖ E; the body follows, then put_end. */
static int put_annotations(Ctx *c, PyObject *annotations) {
    PyObject *seq = PySequence_Fast(annotations, "ion_annotations is not a sequence");
    if (!seq) return -1;
    int rc = put1_fast(c->b, 0x0B) < 0 || put1_fast(c->b, 0xE0) < 0 ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *a = PySequence_Fast_GET_ITEM(seq, i);
        if (PyUnicode_Check(a)) rc = s_text(c, a, 0x70);
        else if (PyObject_TypeCheck(a, T_SymbolToken)) rc = s_symbol_token(c, a);
        else rc = (data_error("cannot hash an annotation that is a %s", Py_TYPE(a)->tp_name), -1);
    }
    Py_DECREF(seq);
    return rc;
}

/* The IonType of an amazon.ion value (a borrowed-like new reference). */
static PyObject *ion_type(PyObject *v) { return get_attr(v, S_ion_type); }

/* The IonType member's int value (IonType is an IntEnum). */
static long ion_type_code(PyObject *t) {
    long n = PyLong_Check(t) ? PyLong_AsLong(t) : -1;
    if (n == -1) PyErr_Clear();
    return n;
}

static int s_ion_body(Ctx *c, PyObject *v, enum Kind k) {
    switch (k) {
    case K_ION_NULL: {
        PyObject *t = ion_type(v);
        if (!t) return -1;
        long code = ion_type_code(t);
        Py_DECREF(t);
        /* _TYPE_NIBBLE by IonType value: NULL, BOOL, INT, FLOAT, DECIMAL, ... STRUCT */
        static const unsigned char nibble[] = {0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70,
                                               0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0};
        if (code < 0 || code > 12) {
            data_error("cannot hash a typed null of no Ion type");
            return -1;
        }
        unsigned char s[] = {0x0B, (unsigned char)(nibble[code] | 0x0F), 0x0E};
        return put_fast(c->b, s, 3);
    }
    case K_ION_BOOL: {
        int truth = PyObject_IsTrue(v);
        if (truth < 0) return -1;
        unsigned char s[] = {0x0B, truth ? 0x11 : 0x10, 0x0E};
        return put_fast(c->b, s, 3);
    }
    case K_ION_INT: return s_int(c, v);
    case K_ION_FLOAT: return s_float(c, PyFloat_AsDouble(v));
    case K_ION_DECIMAL: return s_decimal(c, v);
    case K_ION_TEXT: {
        PyObject *t = ion_type(v);
        if (!t) return -1;
        int symbol = t == IT_SYMBOL;
        Py_DECREF(t);
        return s_text(c, v, symbol ? 0x70 : 0x80);
    }
    case K_ION_SYMBOL: return s_symbol_token(c, v);
    case K_ION_BYTES: {
        PyObject *t = ion_type(v);
        if (!t) return -1;
        int clob = t == IT_CLOB;
        Py_DECREF(t);
        return s_bytes(c, v, clob ? 0x90 : 0xA0);
    }
    case K_ION_TIMESTAMP: return s_timestamp(c, v);
    case K_ION_LIST: {
        PyObject *t = ion_type(v);
        if (!t) return -1;
        int sexp = t == IT_SEXP;
        Py_DECREF(t);
        return s_list(c, v, sexp ? 0xC0 : 0xB0);
    }
    case K_ION_STRUCT: return s_ion_dict(c, v);
    case K_ION_STD_STRUCT: return s_dict(c, v);
    default: return -1;
    }
}

/* The _ion_* functions: the body, annotated when the value has annotations. */
static int s_ion(Ctx *c, PyObject *v, enum Kind k) {
    PyObject *annotations = get_attr(v, S_ion_annotations);
    if (!annotations) return -1;
    /* `if v.ion_annotations`: amazon.ion's usual () without a call */
    int annotated = PyTuple_CheckExact(annotations) ? PyTuple_GET_SIZE(annotations) != 0
                                                    : PyObject_IsTrue(annotations);
    int rc = annotated < 0 ? -1 : 0;
    if (rc == 0 && annotated) rc = put_annotations(c, annotations);
    Py_DECREF(annotations);
    if (rc == 0) rc = s_ion_body(c, v, k);
    if (rc == 0 && annotated) rc = put1_fast(c->b, 0x0E);
    return rc;
}

static int s_value(Ctx *c, PyObject *v) {
    PyTypeObject *t = Py_TYPE(v);
    enum Kind k = exact_kind(t);
    if (k == K_UNKNOWN && (k = kind_of(t)) == K_UNKNOWN) return -1;
    switch (k) {
    case K_STRING: return s_text(c, v, 0x80);
    case K_DICT: return s_dict(c, v);
    case K_INT: return s_int(c, v);
    case K_DECIMAL: return s_decimal(c, v);
    case K_LIST: return s_list(c, v, 0xB0);
    case K_TIMESTAMP: return s_timestamp(c, v);
    case K_NULL: return put_fast(c->b, NULL_S, sizeof NULL_S);
    case K_BOOL: {
        int truth = PyObject_IsTrue(v);
        if (truth < 0) return -1;
        unsigned char s[] = {0x0B, truth ? 0x11 : 0x10, 0x0E};
        return put_fast(c->b, s, 3);
    }
    case K_FLOAT: {
        double d = PyFloat_AsDouble(v);
        return d == -1.0 && PyErr_Occurred() ? -1 : s_float(c, d);
    }
    case K_BLOB: return s_bytes(c, v, 0xA0);
    case K_DATETIME: return s_datetime(c, v);
    case K_SYMBOL: return s_symbol_token(c, v);
    default: return s_ion(c, v, k);
    }
}

/* ion_hash_serialization's error wrapping: ValueError, OverflowError, RecursionError -> DataError. */
static void wrap_error(PyObject *value) {
    if (!PyErr_ExceptionMatches(PyExc_ValueError) && !PyErr_ExceptionMatches(PyExc_OverflowError) &&
        !PyErr_ExceptionMatches(PyExc_RecursionError))
        return;
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    data_error("cannot hash %s as Ion: %S", Py_TYPE(value)->tp_name, exc ? exc : Py_None);
    PyObject *type2, *exc2, *tb2;
    PyErr_Fetch(&type2, &exc2, &tb2);
    PyErr_NormalizeException(&type2, &exc2, &tb2);
    if (exc2 && exc) {
        Py_INCREF(exc);
        PyException_SetCause(exc2, exc);
    }
    PyErr_Restore(type2, exc2, tb2);
    Py_XDECREF(type);
    Py_XDECREF(exc);
    Py_XDECREF(tb);
}

/* One buffer kept between calls, so a document costs no allocation.  Taking it empties
 * the slot: a nested call (Python code run by a value, e.g. a tzinfo's utcoffset() that
 * hashes) finds it empty and allocates its own.  The GIL guards it. */
#define SPARE_LIMIT (64 * 1024)
static Buf spare;

static Buf take_buf(void) {
    Buf b = spare;
    spare = (Buf){0};
    b.len = 0;
    return b;
}

static void give_buf(Buf *b) {
    if (!spare.data && b->cap <= SPARE_LIMIT) spare = *b;
    else PyMem_Free(b->data);
    *b = (Buf){0};
}

static int serialize(PyObject *value, Buf *b) {
    Ctx c = {b, 0};
    if (s_value(&c, value) < 0) {
        give_buf(b);
        wrap_error(value);
        return -1;
    }
    return 0;
}

/* --- public: the functions ion_hash.py, dot.py and merkle.py export ------------------- */

static PyObject *py_ion_hash_serialization(PyObject *self, PyObject *value) {
    Buf b = take_buf();
    if (serialize(value, &b) < 0) return NULL;
    PyObject *out = PyBytes_FromStringAndSize((const char *)b.data, b.len);
    give_buf(&b);
    return out;
}

static PyObject *py_ion_hash(PyObject *self, PyObject *value) {
    Buf b = take_buf();
    if (serialize(value, &b) < 0) return NULL;
    unsigned char digest[HASH_SIZE];
    if (b.len >= RELEASE_GIL_BYTES) {
        Py_BEGIN_ALLOW_THREADS
        sha256(b.data, b.len, digest);
        Py_END_ALLOW_THREADS
    } else if (b.len <= SHA256_BY_BLOCKS && buf_reserve(&b, SHA256_PADDING) == 0) {
        sha256_in_place(b.data, b.len, digest);
    } else {
        PyErr_Clear(); /* no room for the padding: hash it by copying */
        sha256(b.data, b.len, digest);
    }
    give_buf(&b);
    return PyBytes_FromStringAndSize((const char *)digest, HASH_SIZE);
}

/* list_hash: H of an unannotated list from its items' serializations. */
static PyObject *py_list_hash(PyObject *self, PyObject *serializations) {
    PyObject *seq = PySequence_Fast(serializations, "list_hash takes an iterable of bytes");
    if (!seq) return NULL;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    static const unsigned char head[] = {0x0B, 0xB0}, tail[] = {0x0E};
    SHA256_Update(&ctx, head, 2);
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {
            Py_DECREF(seq);
            PyErr_SetString(PyExc_TypeError, "list_hash takes bytes");
            return NULL;
        }
        SHA256_Update(&ctx, PyBytes_AS_STRING(item), (size_t)PyBytes_GET_SIZE(item));
    }
    Py_DECREF(seq);
    SHA256_Update(&ctx, tail, 1);
    unsigned char digest[HASH_SIZE];
    SHA256_Final(digest, &ctx);
    return PyBytes_FromStringAndSize((const char *)digest, HASH_SIZE);
}

/* dot.py's _check message. */
static int check_size(Py_buffer *h) {
    if (h->len == HASH_SIZE) return 0;
    PyObject *hex = PyBytes_FromStringAndSize(h->buf, h->len);
    PyObject *text = hex ? PyObject_CallMethod(hex, "hex", NULL) : NULL;
    if (text) data_error("a ledger hash has %d bytes, got %zd: %U", HASH_SIZE, h->len, text);
    Py_XDECREF(text);
    Py_XDECREF(hex);
    return -1;
}

/* dot's order: from the last byte down, each a signed int8; then SHA256(smaller ‖ larger). */
static void dot_bytes(const unsigned char *a, const unsigned char *b, unsigned char out[HASH_SIZE]) {
    int i = HASH_SIZE - 1;
    while (i >= 0 && a[i] == b[i]) i--;
    if (i < 0 || (a[i] ^ 0x80) < (b[i] ^ 0x80)) sha256_pair(a, b, out);
    else sha256_pair(b, a, out);
}

/* One operand of dot: an object and its bytes (its buffer) or a computed hash. */
typedef struct {
    PyObject *obj;  /* borrowed; NULL for a computed hash */
    const unsigned char *p;
    Py_ssize_t n;
    unsigned char h[HASH_SIZE];
} Node;

static const unsigned char *node_data(const Node *x) { return x->obj ? x->p : x->h; }

/* dot on nodes: `out` may alias `a`. */
static int dot_nodes(const Node *a, const Node *b, Node *out) {
    if (!a->n) { if (out != b) *out = *b; return 0; }
    if (!b->n) { if (out != a) *out = *a; return 0; }
    if (a->n != HASH_SIZE || b->n != HASH_SIZE) {
        Py_buffer x = {.buf = (void *)node_data(a->n != HASH_SIZE ? a : b),
                       .len = a->n != HASH_SIZE ? a->n : b->n};
        return check_size(&x);
    }
    unsigned char h[HASH_SIZE];
    dot_bytes(node_data(a), node_data(b), h);
    out->obj = NULL;
    out->n = HASH_SIZE;
    memcpy(out->h, h, HASH_SIZE);
    return 0;
}

static PyObject *node_result(const Node *x) {
    if (x->obj) {
        Py_INCREF(x->obj);
        return x->obj;
    }
    return PyBytes_FromStringAndSize((const char *)x->h, x->n);
}

/* Nodes from a sequence of bytes-like objects: borrowed, alive while `seq` is. */
static Node *nodes_of(PyObject *seq, Py_ssize_t n, int *all_bytes) {
    Node *nodes = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Node));
    if (!nodes) { PyErr_NoMemory(); return NULL; }
    *all_bytes = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyBytes_Check(item)) {  /* bytearray and friends: copied to a bytes object */
            *all_bytes = 0;
            PyErr_SetString(PyExc_TypeError, "hashes must be bytes");
            PyMem_Free(nodes);
            return NULL;
        }
        nodes[i].obj = item;
        nodes[i].p = (const unsigned char *)PyBytes_AS_STRING(item);
        nodes[i].n = PyBytes_GET_SIZE(item);
    }
    return nodes;
}

static PyObject *py_dot(PyObject *self, PyObject *args) {
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, "OO:dot", &a, &b)) return NULL;
    Py_buffer x, y;
    if (PyObject_GetBuffer(a, &x, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(b, &y, PyBUF_SIMPLE) < 0) { PyBuffer_Release(&x); return NULL; }
    PyObject *out = NULL;
    if (!x.len) { Py_INCREF(b); out = b; }
    else if (!y.len) { Py_INCREF(a); out = a; }
    else if (x.len != HASH_SIZE || y.len != HASH_SIZE) {
        if (check_size(&x) == 0) check_size(&y);
    } else {
        unsigned char h[HASH_SIZE];
        dot_bytes(x.buf, y.buf, h);
        out = PyBytes_FromStringAndSize((const char *)h, HASH_SIZE);
    }
    PyBuffer_Release(&x);
    PyBuffer_Release(&y);
    return out;
}

/* merkle_root: pairs combined level by level; an unpaired last node carried up. */
static int merkle_fold(Node *level, Py_ssize_t n) {
    while (n > 1) {
        Py_ssize_t m = 0;
        for (Py_ssize_t i = 0; i + 1 < n; i += 2)
            if (dot_nodes(&level[i], &level[i + 1], &level[m++]) < 0) return -1;
        if (n % 2) level[m++] = level[n - 1];
        n = m;
    }
    return 0;
}

/* Only 32-byte and empty nodes: folding needs no Python error, so no GIL. */
static int plain_hashes(const Node *nodes, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (nodes[i].n != 0 && nodes[i].n != HASH_SIZE) return 0;
    return 1;
}

static PyObject *py_merkle_root(PyObject *self, PyObject *hashes) {
    PyObject *seq = PySequence_Fast(hashes, "merkle_root takes a sequence of hashes");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n == 0) { Py_DECREF(seq); return PyBytes_FromStringAndSize("", 0); }
    int all_bytes;
    Node *nodes = nodes_of(seq, n, &all_bytes);
    if (!nodes) { Py_DECREF(seq); return NULL; }
    int rc;
    if (n >= 64 && plain_hashes(nodes, n)) {
        Py_BEGIN_ALLOW_THREADS
        rc = merkle_fold(nodes, n);
        Py_END_ALLOW_THREADS
    } else {
        rc = merkle_fold(nodes, n);
    }
    PyObject *out = rc < 0 ? NULL : node_result(&nodes[0]);
    PyMem_Free(nodes);
    Py_DECREF(seq);
    return out;
}

/* fold: dot the leaf with each proof hash in turn. */
static PyObject *py_fold(PyObject *self, PyObject *args) {
    PyObject *proof, *leaf;
    if (!PyArg_ParseTuple(args, "OO:fold", &proof, &leaf)) return NULL;
    PyObject *seq = PySequence_Fast(proof, "fold takes a sequence of hashes");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *leaf_bytes = PyBytes_Check(leaf) ? (Py_INCREF(leaf), leaf) : NULL;
    if (!leaf_bytes) {  /* a proof step returns its operand itself: keep a bytes-like leaf */
        PyObject *out = leaf;
        Py_INCREF(out);
        for (Py_ssize_t i = 0; out && i < n; i++) {
            PyObject *pair = PyTuple_Pack(2, out, PySequence_Fast_GET_ITEM(seq, i));
            Py_DECREF(out);
            out = pair ? py_dot(self, pair) : NULL;
            Py_XDECREF(pair);
        }
        Py_DECREF(seq);
        return out;
    }
    int all_bytes;
    Node *nodes = nodes_of(seq, n, &all_bytes);
    if (!nodes) {
        Py_DECREF(seq);
        Py_DECREF(leaf_bytes);
        return NULL;
    }
    Node acc = {.obj = leaf_bytes, .p = (const unsigned char *)PyBytes_AS_STRING(leaf_bytes),
                .n = PyBytes_GET_SIZE(leaf_bytes)};
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) rc = dot_nodes(&acc, &nodes[i], &acc);
    PyObject *out = rc < 0 ? NULL : node_result(&acc);
    PyMem_Free(nodes);
    Py_DECREF(seq);
    Py_DECREF(leaf_bytes);
    return out;
}

/* --- the module ------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"ion_hash", py_ion_hash, METH_O, "H(value): the Amazon Ion Hash (SHA-256) of a value."},
    {"ion_hash_serialization", py_ion_hash_serialization, METH_O,
     "s(value): the bytes Ion Hash feeds to SHA-256."},
    {"list_hash", py_list_hash, METH_O, "H of a list from its items' serializations."},
    {"dot", py_dot, METH_VARARGS, "QLDB's dot(a, b)."},
    {"fold", py_fold, METH_VARARGS, "fold(proof, leaf): dot the leaf with each proof hash."},
    {"merkle_root", py_merkle_root, METH_O, "Root of a list of hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ledger.hashing._native",
                                    "The compiled core of ledger.hashing.", -1, methods};

static int import_member(PyObject **out, PyObject *cls, const char *name) {
    *out = PyObject_GetAttrString(cls, name);
    return *out ? 0 : -1;
}

PyMODINIT_FUNC PyInit__native(void) {
    SHA256_Init(&sha256_start);
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    PyObject *errors = PyImport_ImportModule("ledger.errors");
    if (!errors) return NULL;
    DataError = PyObject_GetAttrString(errors, "DataError");
    Py_DECREF(errors);
    if (!DataError) return NULL;
    const char *st = "amazon.ion.simple_types";
    if (import_type(&T_Decimal, "decimal", "Decimal") < 0 ||
        import_type(&T_Timestamp, "amazon.ion.core", "Timestamp") < 0 ||
        import_type(&T_SymbolToken, "amazon.ion.symbols", "SymbolToken") < 0 ||
        import_type(&T_IonPyNull, st, "IonPyNull") < 0 ||
        import_type(&T_IonPyBool, st, "IonPyBool") < 0 ||
        import_type(&T_IonPyInt, st, "IonPyInt") < 0 ||
        import_type(&T_IonPyFloat, st, "IonPyFloat") < 0 ||
        import_type(&T_IonPyDecimal, st, "IonPyDecimal") < 0 ||
        import_type(&T_IonPyText, st, "IonPyText") < 0 ||
        import_type(&T_IonPySymbol, st, "IonPySymbol") < 0 ||
        import_type(&T_IonPyBytes, st, "IonPyBytes") < 0 ||
        import_type(&T_IonPyTimestamp, st, "IonPyTimestamp") < 0 ||
        import_type(&T_IonPyList, st, "IonPyList") < 0 ||
        import_type(&T_IonPyDict, st, "IonPyDict") < 0 ||
        import_type(&T_IonPyStdDict, st, "IonPyStdDict") < 0)
        return NULL;
    if (!T_Decimal->tp_str) {
        PyErr_SetString(PyExc_ImportError, "decimal.Decimal has no __str__ slot");
        return NULL;
    }
    PyObject *core = PyImport_ImportModule("amazon.ion.core");
    if (!core) return NULL;
    PyObject *ion_type_cls = PyObject_GetAttrString(core, "IonType");
    Py_DECREF(core);
    if (!ion_type_cls) return NULL;
    int rc = import_member(&IT_STRING, ion_type_cls, "STRING") |
             import_member(&IT_SYMBOL, ion_type_cls, "SYMBOL") |
             import_member(&IT_SEXP, ion_type_cls, "SEXP") |
             import_member(&IT_CLOB, ion_type_cls, "CLOB");
    Py_DECREF(ion_type_cls);
    if (rc < 0) return NULL;
    if (intern(&S_ion_type, "ion_type") < 0 || intern(&S_ion_annotations, "ion_annotations") < 0 ||
        intern(&S_store, "_IonPyDict__store") < 0 || intern(&S_text, "text") < 0 ||
        intern(&S_sid, "sid") < 0 || intern(&S_precision, "precision") < 0 ||
        intern(&S_fractional_precision, "fractional_precision") < 0 ||
        intern(&S_fractional_seconds, "fractional_seconds") < 0 ||
        intern(&S_utcoffset, "utcoffset") < 0 || intern(&S_to_bytes, "to_bytes") < 0 ||
        intern(&S_big, "big") < 0 || intern(&S_items, "items") < 0 || intern(&S_value, "value") < 0)
        return NULL;
    return PyModule_Create(&module);
}
