/* The compiled twin of ledger/hashing/ion_binary.py: the Ion Hash of a value read
 * straight from its Ion binary, without building amazon.ion values.
 *
 * ion_binary.py is the specification: `hash_binary` and `loads_hashed` there decode with
 * amazon.ion and hash the decoded value.  The functions here walk the bytes once,
 * feeding each scalar's bytes to the Ion Hash serialization as they stand, so they only
 * accept bytes in the canonical form, where the stored bytes *are* the representation
 * Ion Hash defines (ints, decimals, floats and timestamps without padding or negative
 * zeros it would not write, UTF-8 that decodes, dates that exist).  Anything else --
 * including every malformed input -- returns None ("cannot say: decode and hash"), never
 * a different hash: tests/hashing/test_ion_binary.py checks that the two agree wherever
 * this one answers, on generated values, the conformance values and mutated bytes.
 *
 * Safety: every read is bounds-checked; nesting deeper than MAX_DEPTH returns None.
 */
#define PY_SSIZE_T_CLEAN
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <Python.h>
#include <datetime.h>
#include "../_ion_c.h"
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#define HASH_SIZE 32
#define MAX_DEPTH 200

typedef const unsigned char *Ptr;

enum { OK = 0, UNUSUAL = 1, FAIL = -1 }; /* FAIL: a Python error is set */

static PyObject *UTC;

/* --- the Ion Hash serialization (as ion_hash.py's, escaped bodies between B and E) -------- */

static inline int is_marker(unsigned char c) { return c == 0x0B || c == 0x0C || c == 0x0E; }

static int put_escaped(Buf *b, Ptr p, Py_ssize_t n) {
    if (buf_reserve(b, 2 * n) < 0) return -1;
    unsigned char *out = b->data + b->len;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (is_marker(p[i])) *out++ = 0x0C;
        *out++ = p[i];
    }
    b->len = out - b->data;
    return 0;
}

static int put_scalar(Buf *b, unsigned char tq, Ptr body, Py_ssize_t n) {
    if (put1(b, 0x0B) < 0 || put1(b, tq) < 0 || put_escaped(b, body, n) < 0) return -1;
    return put1(b, 0x0E);
}

static void sha256(Ptr p, Py_ssize_t n, unsigned char out[HASH_SIZE]) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, p, (size_t)n);
    SHA256_Final(out, &ctx);
}

static int compare_hashes(const void *a, const void *b) { return memcmp(a, b, HASH_SIZE); }

/* --- the reader's state --------------------------------------------------------------- */

typedef struct {
    Ptr text;         /* NULL: unknown text */
    Py_ssize_t len;
    PyObject *name;   /* the text as a str, made on first use */
} Symbol;

#define SYSTEM_SYMBOLS 10 /* $0 and the nine system symbols */

typedef struct {
    Symbol *syms;
    Py_ssize_t n, cap;
    Buf out;          /* the serialization being built */
    int depth;
    int unbuildable;  /* a value was hashed that has no plain Python form */
    PyObject *hashes; /* {id(dict): its Ion Hash}, or NULL */
} Reader;

static const char *SYSTEM_TEXT[SYSTEM_SYMBOLS] = {
    NULL, "$ion", "$ion_1_0", "$ion_symbol_table", "name", "version", "imports", "symbols",
    "max_id", "$ion_shared_symbol_table"};

static void clear_symbols(Reader *r, Py_ssize_t from) {
    for (Py_ssize_t i = from; i < r->n; i++) Py_CLEAR(r->syms[i].name);
    r->n = from;
}

static int reset_symbols(Reader *r) {
    clear_symbols(r, SYSTEM_SYMBOLS);
    if (r->cap < SYSTEM_SYMBOLS) {
        r->syms = PyMem_Calloc(64, sizeof(Symbol));
        if (!r->syms) { PyErr_NoMemory(); return -1; }
        r->cap = 64;
        for (int i = 0; i < SYSTEM_SYMBOLS; i++) {
            r->syms[i].text = (Ptr)SYSTEM_TEXT[i];
            r->syms[i].len = SYSTEM_TEXT[i] ? (Py_ssize_t)strlen(SYSTEM_TEXT[i]) : 0;
        }
    }
    r->n = SYSTEM_SYMBOLS;
    return 0;
}

static int add_symbol(Reader *r, Ptr text, Py_ssize_t len) {
    if (r->n == r->cap) {
        Py_ssize_t cap = r->cap * 2;
        Symbol *s = PyMem_Realloc(r->syms, (size_t)cap * sizeof(Symbol));
        if (!s) { PyErr_NoMemory(); return -1; }
        r->syms = s;
        r->cap = cap;
    }
    r->syms[r->n++] = (Symbol){text, len, NULL};
    return 0;
}

static void free_reader(Reader *r) {
    clear_symbols(r, 0);
    PyMem_Free(r->syms);
    PyMem_Free(r->out.data);
}

/* --- primitives -------------------------------------------------------------------------- */

/* A VarUInt; `canonical` rejects leading zero groups.  OK, or UNUSUAL. */
static int var_uint(Ptr *p, Ptr end, int canonical, Py_ssize_t *out) {
    uint64_t v = 0;
    Ptr start = *p;
    for (int i = 0; i < 9; i++) {
        if (*p >= end) return UNUSUAL;
        unsigned char c = *(*p)++;
        if (canonical && *p - 1 == start && c == 0x00) return UNUSUAL;
        v = (v << 7) | (c & 0x7F);
        if (c & 0x80) {
            if (v > (uint64_t)PY_SSIZE_T_MAX) return UNUSUAL;
            *out = (Py_ssize_t)v;
            return OK;
        }
    }
    return UNUSUAL;
}

/* A canonical VarInt (no leading zero groups, no negative zero); at most 4 bytes. */
static int var_int(Ptr *p, Ptr end, long long *out) {
    if (*p >= end) return UNUSUAL;
    unsigned char c = *(*p)++;
    int negative = (c & 0x40) != 0;
    long long v = c & 0x3F;
    int first_empty = v == 0;
    int count = 1;
    while (!(c & 0x80)) {
        if (*p >= end || ++count > 4) return UNUSUAL;
        c = *(*p)++;
        v = (v << 7) | (c & 0x7F);
    }
    if (count > 1 && first_empty) return UNUSUAL;  /* padding */
    if (negative && v == 0) return UNUSUAL;        /* -0 (except a timestamp's offset) */
    *out = negative ? -v : v;
    return OK;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static int valid_utf8(Ptr s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        int more;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { more = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { more = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { more = 3; cp = c & 0x07; }
        else return 0;
        if (i + more >= n) return 0;
        for (int k = 1; k <= more; k++) {
            unsigned char d = s[i + k];
            if ((d & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (d & 0x3F);
        }
        if ((more == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += more + 1;
    }
    return 1;
}

/* The text of symbol `sid`, or UNUSUAL when it has none (or is out of the table). */
static int symbol(Reader *r, Py_ssize_t sid, Symbol **out) {
    if (sid <= 0 || sid >= r->n || !r->syms[sid].text) return UNUSUAL;
    *out = &r->syms[sid];
    return OK;
}

static PyObject *symbol_name(Symbol *s) {
    if (!s->name) {
        s->name = PyUnicode_DecodeUTF8((const char *)s->text, s->len, "strict");
        if (!s->name) return NULL;
    }
    Py_INCREF(s->name);
    return s->name;
}

static int put_symbol(Reader *r, Symbol *s) { return put_scalar(&r->out, 0x70, s->text, s->len); }

/* One value's type descriptor and body: [body, body + len). */
typedef struct {
    int t, l;
    Ptr body;
    Py_ssize_t len;
} Value;

static int read_header(Ptr *p, Ptr end, Value *v) {
    if (*p >= end) return UNUSUAL;
    unsigned char td = *(*p)++;
    v->t = td >> 4;
    v->l = td & 0x0F;
    Py_ssize_t len = v->l;
    if (v->t == 0x1 || v->l == 0x0F) len = 0;  /* bool and nulls: no body */
    else if (v->l == 0x0E && var_uint(p, end, 0, &len) != OK) return UNUSUAL;
    if (len > end - *p) return UNUSUAL;
    v->body = *p;
    v->len = len;
    *p += len;
    return OK;
}

/* --- scalars ----------------------------------------------------------------------------- */

/* An Int body (sign-magnitude, `signed_` with its sign bit) in canonical form. */
static int canonical_int_body(Ptr b, Py_ssize_t n) {
    if (n == 0) return 1;
    if ((b[0] & 0x7F) == 0) {
        if (n == 1) return b[0] == 0x80;  /* -0, a decimal's negative zero coefficient */
        return (b[1] & 0x80) != 0;        /* a zero byte only to keep the sign bit free */
    }
    return 1;
}

static PyObject *magnitude(Ptr b, Py_ssize_t n, int negative) {
    PyObject *m;
    if (n <= 8) {
        unsigned long long v = 0;
        for (Py_ssize_t i = 0; i < n; i++) v = (v << 8) | b[i];
        if (!negative) return PyLong_FromUnsignedLongLong(v);
        if (v <= (unsigned long long)LLONG_MAX) return PyLong_FromLongLong(-(long long)v);
        m = PyLong_FromUnsignedLongLong(v);
    } else {
        m = _PyLong_FromByteArray(b, (size_t)n, 0, 0);
        if (!negative) return m;
    }
    if (!m) return NULL;
    PyObject *out = PyNumber_Negative(m);
    Py_DECREF(m);
    return out;
}

static int is_leap(long long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(long long y, long long m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe;
}

/* A timestamp in canonical form, the fields in range, the date existing in UTC and at
 * its offset.  Builds a datetime only for UTC with millisecond precision (what QLDB
 * writes); anything else hashes but marks the value unbuildable. */
static int timestamp(Reader *r, Value *v, PyObject **obj) {
    Ptr p = v->body, end = v->body + v->len;
    long long offset = 0;
    int unknown_offset = p < end && *p == 0xC0;
    if (unknown_offset) p++;
    else if (var_int(&p, end, &offset) != OK || offset <= -1440 || offset >= 1440) return UNUSUAL;
    Py_ssize_t f[6] = {0, 1, 1, 0, 0, 0}; /* year month day hour minute second */
    int fields = 0;
    while (p < end && fields < 6) {
        if (var_uint(&p, end, 1, &f[fields]) != OK) return UNUSUAL;
        fields++;
    }
    if (fields == 0 || fields == 4) return UNUSUAL;  /* hour needs its minute */
    if (fields < 4 && !unknown_offset) return UNUSUAL;  /* a date has no offset */
    if (f[0] < 1 || f[0] > 9999 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
        f[2] > days_in_month(f[0], f[1]) || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return UNUSUAL;
    long long micro = 0, exponent = 0;
    if (p < end) {
        if (fields != 6 || var_int(&p, end, &exponent) != OK || exponent < -6 || exponent > -1)
            return UNUSUAL;
        Py_ssize_t n = end - p;
        if (n > 3 || !canonical_int_body(p, n) || (n && (p[0] & 0x80))) return UNUSUAL;
        long long c = 0, limit = 1;
        for (Py_ssize_t i = 0; i < n; i++) c = (c << 8) | p[i];
        for (long long e = exponent; e < 0; e++) limit *= 10;
        if (c >= limit) return UNUSUAL;
        micro = c * (1000000 / limit);
    }
    if (offset) { /* the local date must exist too (Python's datetime range) */
        long long minutes = days_from_civil(f[0], (unsigned)f[1], (unsigned)f[2]) * 1440 +
                            f[3] * 60 + f[4] + offset;
        if (minutes < days_from_civil(1, 1, 1) * 1440 ||
            minutes >= days_from_civil(10000, 1, 1) * 1440)
            return UNUSUAL;
    }
    if (put_scalar(&r->out, 0x60, v->body, v->len) < 0) return FAIL;
    if (!obj) return OK;
    if (unknown_offset || offset || fields != 6 || exponent != -3) {
        r->unbuildable = 1;
        return OK;
    }
    *obj = PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)f[0], (int)f[1], (int)f[2], (int)f[3], (int)f[4], (int)f[5], (int)micro, UTC,
        PyDateTimeAPI->DateTimeType);
    return *obj ? OK : FAIL;
}

static int decimal(Reader *r, Value *v) {
    if (v->len) {
        Ptr p = v->body, end = v->body + v->len;
        long long exponent;
        if (var_int(&p, end, &exponent) != OK || !canonical_int_body(p, end - p)) return UNUSUAL;
        if (p == end && exponent == 0) return UNUSUAL; /* 0d0 has an empty body */
    }
    r->unbuildable = 1;  /* no plain form: Decimal is left to amazon.ion */
    return put_scalar(&r->out, 0x50, v->body, v->len) < 0 ? FAIL : OK;
}

static int scalar(Reader *r, Value *v, PyObject **obj) {
    Buf *b = &r->out;
    if (v->l == 0x0F) {  /* typed nulls */
        if (v->t == 0x3 || v->t > 0xD) return UNUSUAL;
        unsigned char s[] = {0x0B, (unsigned char)((v->t << 4) | 0x0F), 0x0E};
        r->unbuildable |= obj != NULL;
        return put(b, s, 3) < 0 ? FAIL : OK;
    }
    switch (v->t) {
    case 0x1: {
        if (v->l > 1) return UNUSUAL;
        unsigned char s[] = {0x0B, (unsigned char)(0x10 | v->l), 0x0E};
        if (put(b, s, 3) < 0) return FAIL;
        if (obj) *obj = PyBool_FromLong(v->l);
        return OK;
    }
    case 0x2:
    case 0x3:
        if ((v->len && v->body[0] == 0) || (v->t == 0x3 && !v->len)) return UNUSUAL;
        if (put_scalar(b, v->t == 0x2 ? 0x20 : 0x30, v->body, v->len) < 0) return FAIL;
        if (obj && !(*obj = magnitude(v->body, v->len, v->t == 0x3))) return FAIL;
        return OK;
    case 0x4: {
        static const unsigned char nan[8] = {0x7F, 0xF8, 0, 0, 0, 0, 0, 0}, zero[8] = {0};
        if (v->len != 0 && v->len != 8) return UNUSUAL;
        double d = 0.0;
        if (v->len) {
            d = PyFloat_Unpack8((const char *)v->body, 0);
            if (d == -1.0 && PyErr_Occurred()) return FAIL;
            if (!memcmp(v->body, zero, 8)) return UNUSUAL; /* +0e0 is written empty */
        }
        /* every NaN hashes as the one NaN Ion Hash defines, whatever its payload */
        if (put_scalar(b, 0x40, d != d ? nan : v->body, v->len) < 0) return FAIL;
        if (obj && !(*obj = PyFloat_FromDouble(d))) return FAIL;
        return OK;
    }
    case 0x5: return decimal(r, v);
    case 0x6: return timestamp(r, v, obj);
    case 0x7: {
        Py_ssize_t sid = 0;
        Symbol *s;
        for (Py_ssize_t i = 0; i < v->len; i++) {
            if (i == 0 && v->body[0] == 0) return UNUSUAL;
            if (sid > (PY_SSIZE_T_MAX >> 8)) return UNUSUAL;
            sid = (sid << 8) | v->body[i];
        }
        if (symbol(r, sid, &s) != OK) return UNUSUAL;
        r->unbuildable |= obj != NULL;  /* a symbol's plain form would be a str */
        return put_symbol(r, s) < 0 ? FAIL : OK;
    }
    case 0x8:
        if (!valid_utf8(v->body, v->len)) return UNUSUAL;
        if (put_scalar(b, 0x80, v->body, v->len) < 0) return FAIL;
        if (obj && !(*obj = PyUnicode_DecodeUTF8((const char *)v->body, v->len, "strict")))
            return FAIL;
        return OK;
    case 0x9:
    case 0xA:
        if (put_scalar(b, (unsigned char)(v->t << 4), v->body, v->len) < 0) return FAIL;
        if (obj && v->t == 0x9) r->unbuildable = 1;
        else if (obj && !(*obj = PyBytes_FromStringAndSize((const char *)v->body, v->len)))
            return FAIL;
        return OK;
    default: return UNUSUAL;
    }
}

/* --- containers -------------------------------------------------------------------------- */

static int value(Reader *r, Value *v, PyObject **obj);

static int list(Reader *r, Value *v, PyObject **obj) {
    Buf *b = &r->out;
    if (put1(b, 0x0B) < 0 || put1(b, (unsigned char)(v->t << 4)) < 0) return FAIL;
    PyObject *items = NULL;
    if (obj && v->t == 0xB) {
        if (!(items = PyList_New(0))) return FAIL;
    } else if (obj) {
        r->unbuildable = 1;  /* a sexp */
    }
    Ptr p = v->body, end = v->body + v->len;
    int rc = OK;
    while (rc == OK && p < end) {
        Value item;
        PyObject *o = NULL;
        rc = read_header(&p, end, &item);
        if (rc == OK) rc = item.t == 0x0 && item.l != 0x0F ? UNUSUAL : value(r, &item, items ? &o : NULL);
        if (rc == OK && items && o && PyList_Append(items, o) < 0) rc = FAIL;
        Py_XDECREF(o);
    }
    if (rc == OK && put1(b, 0x0E) < 0) rc = FAIL;
    if (rc != OK) { Py_XDECREF(items); return rc; }
    if (items) *obj = items;
    return OK;
}

typedef struct {
    unsigned char (*h)[HASH_SIZE];
    Py_ssize_t len, cap;
} Hashes;

static int add_hash(Hashes *f, Ptr p, Py_ssize_t n) {
    if (f->len == f->cap) {
        Py_ssize_t cap = f->cap ? f->cap * 2 : 16;
        void *h = PyMem_Realloc(f->h, (size_t)cap * HASH_SIZE);
        if (!h) { PyErr_NoMemory(); return FAIL; }
        f->h = h;
        f->cap = cap;
    }
    sha256(p, n, f->h[f->len++]);
    return OK;
}

static int record_hash(Reader *r, PyObject *dict, Py_ssize_t mark) {
    unsigned char h[HASH_SIZE];
    sha256(r->out.data + mark, r->out.len - mark, h);
    PyObject *key = PyLong_FromVoidPtr(dict);
    PyObject *hash = PyBytes_FromStringAndSize((const char *)h, HASH_SIZE);
    int rc = key && hash ? PyDict_SetItem(r->hashes, key, hash) : -1;
    Py_XDECREF(key);
    Py_XDECREF(hash);
    return rc < 0 ? FAIL : OK;
}

/* A struct: each field H(s(name) || s(value)), sorted.  With `wanted` (top-level only),
 * the plain values of the fields named there, in `found` (None where absent). */
static int structure(Reader *r, Value *v, PyObject **obj, PyObject *wanted, PyObject *found) {
    if (v->l == 1) return UNUSUAL;  /* the sorted-struct form: not what writers use */
    Buf *b = &r->out;
    Py_ssize_t mark = b->len;
    PyObject *dict = NULL;
    if (obj && !(dict = PyDict_New())) return FAIL;
    Hashes f = {0};
    Ptr p = v->body, end = v->body + v->len;
    int rc = OK;
    while (rc == OK && p < end) {
        Py_ssize_t sid;
        Symbol *name;
        Value field;
        rc = var_uint(&p, end, 0, &sid);
        if (rc == OK) rc = symbol(r, sid, &name);
        if (rc == OK) rc = read_header(&p, end, &field);
        if (rc == OK && field.t == 0x0 && field.l != 0x0F) rc = UNUSUAL; /* padding */
        if (rc != OK) break;
        Py_ssize_t at = b->len;
        if (put_symbol(r, name) < 0) { rc = FAIL; break; }
        PyObject *o = NULL, *key = NULL;
        Py_ssize_t slot = -1;
        for (Py_ssize_t i = 0; wanted && i < PyTuple_GET_SIZE(wanted); i++) {
            Py_ssize_t n;
            const char *text = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(wanted, i), &n);
            if (!text) { rc = FAIL; break; }
            if (n == name->len && memcmp(text, name->text, (size_t)n) == 0) slot = i;
        }
        if (rc != OK) break;
        int before = r->unbuildable;
        r->unbuildable = 0;
        rc = value(r, &field, dict || slot >= 0 ? &o : NULL);
        int spoiled = r->unbuildable;
        r->unbuildable = before || (dict && spoiled);
        if (rc == OK && slot >= 0) {
            PyObject *was = PyTuple_GET_ITEM(found, slot);
            /* a repeated or unbuildable wanted field: its values come from decoding */
            PyObject *put_ = was != Py_None || !o || spoiled ? Py_Ellipsis : o;
            Py_INCREF(put_);
            PyTuple_SET_ITEM(found, slot, put_);
            Py_DECREF(was);
        }
        if (rc == OK && dict) {
            if (!key && !(key = symbol_name(name))) rc = FAIL;
            else if (PyDict_Contains(dict, key)) r->unbuildable = 1;  /* repeated name */
            else if (o && PyDict_SetItem(dict, key, o) < 0) rc = FAIL;
        }
        Py_XDECREF(key);
        Py_XDECREF(o);
        if (rc == OK) rc = add_hash(&f, b->data + at, b->len - at);
        b->len = at;
    }
    if (rc == OK) {
        if (f.len > 1) qsort(f.h, (size_t)f.len, HASH_SIZE, compare_hashes);
        if (put1(b, 0x0B) < 0 || put1(b, 0xD0) < 0 ||
            put_escaped(b, (Ptr)f.h, f.len * HASH_SIZE) < 0 || put1(b, 0x0E) < 0)
            rc = FAIL;
    }
    PyMem_Free(f.h);
    if (rc == OK && dict && r->hashes) rc = record_hash(r, dict, mark);
    if (rc != OK) { Py_XDECREF(dict); return rc; }
    if (dict) *obj = dict;
    return OK;
}

/* An annotation wrapper: B E0 s(annotation)... s(value) E; no plain form. */
static int annotated(Reader *r, Value *v, PyObject **obj) {
    Ptr p = v->body, end = v->body + v->len;
    Py_ssize_t n;
    if (var_uint(&p, end, 0, &n) != OK || n == 0 || n > end - p) return UNUSUAL;
    Ptr annotations_end = p + n;
    if (put1(&r->out, 0x0B) < 0 || put1(&r->out, 0xE0) < 0) return FAIL;
    while (p < annotations_end) {
        Py_ssize_t sid;
        Symbol *s;
        if (var_uint(&p, annotations_end, 0, &sid) != OK || symbol(r, sid, &s) != OK)
            return UNUSUAL;
        if (put_symbol(r, s) < 0) return FAIL;
    }
    Value inner;
    if (read_header(&p, end, &inner) != OK || p != end || inner.t == 0xE ||
        (inner.t == 0x0 && inner.l != 0x0F))
        return UNUSUAL;
    r->unbuildable |= obj != NULL;
    int rc = value(r, &inner, NULL);
    if (rc != OK) return rc;
    return put1(&r->out, 0x0E) < 0 ? FAIL : OK;
}

static int value(Reader *r, Value *v, PyObject **obj) {
    if (v->l == 0x0F || v->t < 0xB) return scalar(r, v, obj);
    if (++r->depth > MAX_DEPTH) return UNUSUAL;
    int rc;
    switch (v->t) {
    case 0xB:
    case 0xC: rc = list(r, v, obj); break;
    case 0xD: rc = structure(r, v, obj, NULL, NULL); break;
    case 0xE: rc = annotated(r, v, obj); break;
    default: rc = UNUSUAL;
    }
    r->depth--;
    return rc;
}

/* --- the stream: version markers, local symbol tables, one value -------------------------- */

/* $ion_symbol_table::{imports: $ion_symbol_table?, symbols: [strings]}: appended to the
 * current table (imports of the table itself) or replacing it; shared imports: UNUSUAL. */
static int symbol_table(Reader *r, Value *st) {
    Ptr p = st->body, end = st->body + st->len;
    int append = 0, seen_imports = 0, seen_symbols = 0;
    Value symbols = {0};
    while (p < end) {
        Py_ssize_t sid;
        Value field;
        if (var_uint(&p, end, 0, &sid) != OK || read_header(&p, end, &field) != OK) return UNUSUAL;
        if (field.t == 0x0 && field.l != 0x0F) return UNUSUAL;
        if (sid == 6) {
            if (seen_imports++ || field.t != 0x7 || field.len != 1 || field.body[0] != 3)
                return UNUSUAL;
            append = 1;
        } else if (sid == 7) {
            if (seen_symbols++ || field.t != 0xB || field.l == 0x0F) return UNUSUAL;
            symbols = field;
        } else if (sid <= 0) {
            return UNUSUAL;
        }
    }
    if (!append) clear_symbols(r, SYSTEM_SYMBOLS);
    Ptr q = symbols.body, qend = symbols.body + symbols.len;
    while (seen_symbols && q < qend) {
        Value s;
        if (read_header(&q, qend, &s) != OK) return UNUSUAL;
        if (s.t == 0x8 && s.l != 0x0F) {
            if (!valid_utf8(s.body, s.len)) return UNUSUAL;
            if (add_symbol(r, s.body, s.len) < 0) return FAIL;
        } else if (s.t == 0x0 && s.l != 0x0F) {
            return UNUSUAL;
        } else if (add_symbol(r, NULL, 0) < 0) { /* not a string: a symbol without text */
            return FAIL;
        }
    }
    return OK;
}

/* Is this top-level value a local symbol table?  Then read it (1), else 0. */
static int is_symbol_table(Reader *r, Value *v, int *rc) {
    if (v->t != 0xE || v->l == 0x0F) return 0;
    Ptr p = v->body, end = v->body + v->len;
    Py_ssize_t n, sid;
    if (var_uint(&p, end, 0, &n) != OK || n == 0 || n > end - p) return 0;
    Ptr annotations_end = p + n;
    if (var_uint(&p, annotations_end, 0, &sid) != OK || sid != 3) return 0;
    p = annotations_end;
    Value inner;
    if (read_header(&p, end, &inner) != OK || p != end || inner.t != 0xD || inner.l == 0x0F ||
        inner.l == 1)
        return 0;
    *rc = symbol_table(r, &inner);
    return 1;
}

static const unsigned char IVM[4] = {0xE0, 0x01, 0x00, 0xEA};

/* The one user value of a binary Ion stream, through `visit`. */
static int stream(Reader *r, Ptr p, Ptr end, PyObject **obj, PyObject *wanted, PyObject *found) {
    if (end - p < 4 || memcmp(p, IVM, 4) != 0) return UNUSUAL;
    if (reset_symbols(r) < 0) return FAIL;
    p += 4;
    int seen = 0;
    while (p < end) {
        if (*p == 0xE0) {
            if (end - p < 4 || memcmp(p, IVM, 4) != 0) return UNUSUAL;
            clear_symbols(r, SYSTEM_SYMBOLS);
            p += 4;
            continue;
        }
        Value v;
        int rc = OK;
        if (read_header(&p, end, &v) != OK || (v.t == 0x0 && v.l != 0x0F)) return UNUSUAL;
        if (is_symbol_table(r, &v, &rc)) {
            if (rc != OK) return rc;
            continue;
        }
        if (seen++) return UNUSUAL;  /* one value only */
        if (wanted && v.t == 0xD && v.l != 0x0F) {
            r->depth++;
            rc = structure(r, &v, obj, wanted, found);
        } else {
            for (Py_ssize_t i = 0; wanted && i < PyTuple_GET_SIZE(found); i++) {
                PyObject *was = PyTuple_GET_ITEM(found, i);  /* not a plain struct: */
                Py_INCREF(Py_Ellipsis);                      /* the fields come from decoding */
                PyTuple_SET_ITEM(found, i, Py_Ellipsis);
                Py_DECREF(was);
            }
            rc = value(r, &v, obj);
        }
        if (rc != OK) return rc;
    }
    return seen ? OK : UNUSUAL;
}

/* --- public -------------------------------------------------------------------------------- */

static int bytes_of(PyObject *data, Py_buffer *view) {
    return PyObject_GetBuffer(data, view, PyBUF_SIMPLE);
}

/* hash_binary(data, fields=()): (H(value), plain values of the top-level fields named),
 * or None. */
static PyObject *py_hash_binary(PyObject *self, PyObject *args) {
    PyObject *data, *wanted = NULL;
    if (!PyArg_ParseTuple(args, "O|O!:hash_binary", &data, &PyTuple_Type, &wanted)) return NULL;
    Py_ssize_t k = wanted ? PyTuple_GET_SIZE(wanted) : 0;
    for (Py_ssize_t i = 0; i < k; i++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(wanted, i)))
            return PyErr_Format(PyExc_TypeError, "hash_binary's fields are str");
    Py_buffer view;
    if (bytes_of(data, &view) < 0) return NULL;
    PyObject *found = PyTuple_New(k);
    if (!found) { PyBuffer_Release(&view); return NULL; }
    for (Py_ssize_t i = 0; i < k; i++) { Py_INCREF(Py_None); PyTuple_SET_ITEM(found, i, Py_None); }
    Reader r = {0};
    Ptr p = view.buf;
    int rc = stream(&r, p, p + view.len, NULL, k ? wanted : NULL, found);
    PyObject *out = NULL;
    if (rc == OK) {
        unsigned char h[HASH_SIZE];
        sha256(r.out.data, r.out.len, h);
        out = Py_BuildValue("(y#O)", (const char *)h, (Py_ssize_t)HASH_SIZE, found);
    } else if (rc == UNUSUAL) {
        Py_INCREF(Py_None);
        out = Py_None;
    }
    Py_DECREF(found);
    free_reader(&r);
    PyBuffer_Release(&view);
    return out;
}

/* loads_hashed(data): (plain value, {id(dict): H(dict)} for every struct in it), or None. */
static PyObject *py_loads_hashed(PyObject *self, PyObject *data) {
    Py_buffer view;
    if (bytes_of(data, &view) < 0) return NULL;
    Reader r = {0};
    r.hashes = PyDict_New();
    PyObject *value_ = NULL, *out = NULL;
    Ptr p = view.buf;
    int rc = r.hashes ? stream(&r, p, p + view.len, &value_, NULL, NULL) : FAIL;
    if (rc == OK && !r.unbuildable && value_) {
        out = PyTuple_Pack(2, value_, r.hashes);
    } else if (rc != FAIL) {
        Py_INCREF(Py_None);
        out = Py_None;
    }
    Py_XDECREF(value_);
    Py_XDECREF(r.hashes);
    free_reader(&r);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"hash_binary", py_hash_binary, METH_VARARGS,
     "hash_binary(data, fields=()): (Ion Hash, top-level field values) of one binary Ion "
     "value in canonical form, or None."},
    {"loads_hashed", py_loads_hashed, METH_O,
     "loads_hashed(data): (plain value, {id(dict): Ion Hash}) of one binary Ion value, or "
     "None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ledger.hashing._binary",
                                    "The compiled twin of ledger.hashing.ion_binary.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__binary(void) {
    (void)intern, (void)import_type, (void)varint_bytes; /* _ion_c.h's, used by the others */
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    UTC = PyDateTime_TimeZone_UTC;
    Py_INCREF(UTC);
    return PyModule_Create(&module);
}
