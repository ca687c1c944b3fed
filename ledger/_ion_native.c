/* The compiled twin of ledger/ion.py's `dumps`: the Ion binary of a value, byte for byte
 * what amazon.ion's C writer produces for it (`simpleion.dumps(value, binary=True)`).
 *
 * It covers the values the ledger stores every commit: structs (dict, IonPyDict,
 * IonPyStdDict), lists and tuples, strings, ints within 64 bits, finite floats, decimals
 * of at most 34 digits, bools, None, bytes and timestamps of second precision or coarser.
 * Anything else (annotations, symbols, typed nulls, sexps, clobs, wider ints, NaN, a
 * timestamp with more than six fractional digits, ...) makes `dumps` return None and the
 * caller use amazon.ion: so the twin never has to guess what amazon.ion would write.
 * tests/test_ion_native.py compares the two on generated values and whole blocks.
 *
 * Layout (Ion 1.0 binary): the version marker, a local symbol table
 * `$ion_symbol_table::{symbols:[...]}` holding the field names in order of first use
 * (system symbols such as `name` keep their ids), then the value.  Containers are
 * written body first and their header put in front, with the shortest length form.
 *
 * Also the twin of ion.py's ids (pure_new_id): the same 128 bits (clock, then random)
 * in the same 22 base62 digits; tests/hashing/test_ids.py compares them.  And of
 * query/values.py's copy of a value DML stores (_convert with storage), for plain
 * dicts, lists and scalars; tests/hashing/test_storage_copy.py compares them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include "_ion_c.h"
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <sys/random.h>  /* getentropy */
#endif

#define MAX_DEPTH 1000
#define MIN_EXPONENT -6176 /* decimal128's range, as ion.py's check_decimal */
#define MAX_EXPONENT 6111

static PyTypeObject *T_Decimal, *T_Timestamp, *T_IonPyInt, *T_IonPyFloat, *T_IonPyDecimal,
    *T_IonPyText, *T_IonPyBytes, *T_IonPyTimestamp, *T_IonPyList, *T_IonPyDict,
    *T_IonPyStdDict, *T_IonPyBool;
static PyObject *IT_STRING, *IT_BLOB, *IT_LIST, *S_ion_type, *S_ion_annotations, *S_store,
    *S_precision, *S_fractional_precision, *S_fractional_seconds, *S_utcoffset, *decimal_str,
    *system_symbols;

/* Outcomes of a writer: written, not ours to write (amazon.ion's), or a Python error. */
enum { OK = 0, DECLINE = 1, ERR = -1 };

typedef struct {
    Buf out;
    PyObject *symbols;  /* str -> local symbol id (int) */
    PyObject *order;    /* the local symbols in order of first use */
    int depth, max_depth;
} Writer;

static int varuint_size(size_t n) {
    int size = 1;
    while (n >>= 7) size++;
    return size;
}

static void write_varuint(unsigned char *p, size_t n, int size) {
    for (int i = size - 1; i >= 0; i--) {
        p[i] = n & 0x7F;
        n >>= 7;
    }
    p[size - 1] |= 0x80;
}

static int put_varuint(Buf *b, size_t n) {
    int size = varuint_size(n);
    if (buf_reserve(b, size) < 0) return -1;
    write_varuint(b->data + b->len, n, size);
    b->len += size;
    return 0;
}

/* The type descriptor and length of the body written since `start`, put in front of it
 * (one byte already reserved at start). */
static int close_container(Buf *b, Py_ssize_t start, unsigned char type) {
    size_t length = (size_t)(b->len - start - 1);
    if (length < 14) {
        b->data[start] = (unsigned char)(type | length);
        return 0;
    }
    int size = varuint_size(length);
    if (buf_reserve(b, size) < 0) return -1;
    memmove(b->data + start + 1 + size, b->data + start + 1, length);
    b->data[start] = type | 0x0E;
    write_varuint(b->data + start + 1, length, size);
    b->len += size;
    return 0;
}

/* A scalar's header: T|L, or T|14 and VarUInt(L). */
static int put_header(Buf *b, unsigned char type, size_t length) {
    if (length < 14) return put1(b, (unsigned char)(type | length));
    if (put1(b, type | 0x0E) < 0) return -1;
    return put_varuint(b, length);
}

/* Magnitude bytes, big-endian, fewest; `sign_room` keeps the top bit free for a sign. */
static int magnitude_bytes(unsigned long long m, int sign_room, int negative, unsigned char *out) {
    unsigned char tmp[9];
    int n = 0;
    while (m) {
        tmp[n++] = m & 0xFF;
        m >>= 8;
    }
    if (sign_room && n && (tmp[n - 1] & 0x80)) tmp[n++] = 0;
    if (negative && n) tmp[n - 1] |= 0x80;
    if (negative && !n) tmp[n++] = 0x80;
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    return n;
}

/* --- scalars ------------------------------------------------------------------------- */

static int w_int(Writer *w, PyObject *v) {
    int overflow;
    long long n = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (n == -1 && PyErr_Occurred()) return ERR;
    if (overflow) return DECLINE;  /* wider than 64 bits: amazon.ion's own path */
    unsigned char bytes[9];
    unsigned long long m = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    int size = magnitude_bytes(m, 0, 0, bytes);
    if (put1(&w->out, (unsigned char)((n < 0 ? 0x30 : 0x20) | size)) < 0) return ERR;
    return put(&w->out, bytes, size) < 0 ? ERR : OK;
}

static int w_float(Writer *w, double d) {
    if (d != d) return DECLINE;
    unsigned char packed[8];
    if (PyFloat_Pack8(d, (char *)packed, 0) < 0) return ERR;
    static const unsigned char zero8[8] = {0};
    if (memcmp(packed, zero8, 8) == 0) return put1(&w->out, 0x40) < 0 ? ERR : OK;
    if (put1(&w->out, 0x48) < 0) return ERR;
    return put(&w->out, packed, 8) < 0 ? ERR : OK;
}

/* Decimal: VarInt(exponent) ‖ Int(coefficient), parsed from Decimal.__str__. */
static int w_decimal(Writer *w, PyObject *v) {
    PyObject *text = PyObject_CallOneArg(decimal_str, v);
    if (!text) return ERR;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (!s) { Py_DECREF(text); return ERR; }
    const char *p = s, *end = s + n;
    int negative = 0, seen_point = 0, any = 0, digits = 0;
    unsigned long long coefficient = 0;
    long long fraction = 0, e = 0;
    if (p < end && *p == '-') { negative = 1; p++; }
    for (; p < end && ((*p >= '0' && *p <= '9') || *p == '.'); p++) {
        if (*p == '.') { seen_point = 1; continue; }
        any = 1;
        if (seen_point) fraction++;
        if (!digits && *p == '0') continue;
        if (++digits > 18) break;
        coefficient = coefficient * 10 + (unsigned)(*p - '0');
    }
    int ok = any && digits <= 18;  /* longer coefficients: amazon.ion's path (and its checks) */
    if (ok && p < end) {
        ok = (*p == 'E') && ++p < end;
        int eneg = 0;
        if (ok && (*p == '+' || *p == '-')) eneg = (*p++ == '-');
        ok = ok && p < end;
        for (; ok && p < end; p++) {
            if (*p < '0' || *p > '9' || e > 1000000000LL) ok = 0;
            else e = e * 10 + (*p - '0');
        }
        if (eneg) e = -e;
    }
    Py_DECREF(text);
    if (!ok) return DECLINE;
    long long exponent = e - fraction;
    if (exponent < MIN_EXPONENT || exponent > MAX_EXPONENT) return DECLINE;
    unsigned char body[32];
    int size = 0;
    if (negative || coefficient || exponent) {
        size = varint_bytes(exponent, body);
        size += magnitude_bytes(coefficient, 1, negative, body + size);
    }
    if (put_header(&w->out, 0x50, (size_t)size) < 0) return ERR;
    return put(&w->out, body, size) < 0 ? ERR : OK;
}

static int w_text(Writer *w, PyObject *v) {
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(v, &n);
    if (!s) {  /* a lone surrogate: amazon.ion raises its own error */
        PyErr_Clear();
        return DECLINE;
    }
    if (put_header(&w->out, 0x80, (size_t)n) < 0) return ERR;
    return put(&w->out, s, n) < 0 ? ERR : OK;
}

static int w_bytes(Writer *w, PyObject *v) {
    Py_buffer view;
    if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return DECLINE;
    }
    int rc = put_header(&w->out, 0xA0, (size_t)view.len) < 0 ||
                     put(&w->out, view.buf, view.len) < 0
                 ? ERR
                 : OK;
    PyBuffer_Release(&view);
    return rc;
}

/* An optional int attribute: OK and *out set, DECLINE when None, ERR. */
static int int_attr(PyObject *v, PyObject *name, long long *out, int *none) {
    PyObject *a = PyObject_GetAttr(v, name);
    if (!a) return ERR;
    *none = a == Py_None;
    if (!*none) *out = PyLong_AsLongLong(a);
    Py_DECREF(a);
    return !*none && *out == -1 && PyErr_Occurred() ? ERR : OK;
}

/* Timestamps: VarInt(offset) (0xC0 unknown), UTC year ... second, fraction. */
static int w_timestamp(Writer *w, PyObject *v, int plain) {
    long long precision = 4, digits = 6;
    int unset_precision = 1, no_digits = 0;
    if (!plain) {
        if (int_attr(v, S_precision, &precision, &unset_precision) < 0) return ERR;
        if (int_attr(v, S_fractional_precision, &digits, &no_digits) < 0) return ERR;
        if (unset_precision || no_digits || precision < 0 || precision > 4 || digits < 0 ||
            digits > 6)
            return DECLINE;
        PyObject *seconds = PyObject_GetAttr(v, S_fractional_seconds);
        if (!seconds) return ERR;
        /* A Timestamp keeps fractional_precision == min(-exponent, 6) of its fractional
         * seconds (its constructor checks it), so fewer than 6 digits means an exponent
         * above -6: only 6 digits need the (~7,000-instruction) look at the exponent. */
        int simple = seconds == Py_None || digits < 6;
        if (!simple) {  /* more digits than the microseconds hold: amazon.ion's path */
            PyObject *t = PyObject_CallMethod(seconds, "as_tuple", NULL);
            PyObject *exp = t ? PyObject_GetAttrString(t, "exponent") : NULL;
            simple = exp && PyLong_Check(exp) && PyLong_AsLongLong(exp) >= -6;
            Py_XDECREF(exp);
            Py_XDECREF(t);
            if (PyErr_Occurred()) { Py_DECREF(seconds); return ERR; }
        }
        Py_DECREF(seconds);
        if (!simple) return DECLINE;
    }
    long long year = PyDateTime_GET_YEAR(v);
    long long month = PyDateTime_GET_MONTH(v), day = PyDateTime_GET_DAY(v);
    long long hour = PyDateTime_DATE_GET_HOUR(v), minute = PyDateTime_DATE_GET_MINUTE(v);
    long long second = PyDateTime_DATE_GET_SECOND(v), micro = PyDateTime_DATE_GET_MICROSECOND(v);
    unsigned char body[40];
    int n = 0;
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(v);
    if (tz == PyDateTime_TimeZone_UTC) {
        body[n++] = 0x80;
    } else if (tz == Py_None) {
        body[n++] = 0xC0;
    } else {
        return DECLINE;  /* other offsets: amazon.ion converts the fields to UTC itself */
    }
    if (precision < 4 && tz != Py_None) return DECLINE;
    if (year >= 128) body[n++] = (unsigned char)(year >> 7);
    body[n++] = (unsigned char)((year & 0x7F) | 0x80);
    if (precision >= 1) body[n++] = (unsigned char)(month | 0x80);
    if (precision >= 2) body[n++] = (unsigned char)(day | 0x80);
    if (precision >= 3) {
        body[n++] = (unsigned char)(hour | 0x80);
        body[n++] = (unsigned char)(minute | 0x80);
    }
    if (precision >= 4) {
        body[n++] = (unsigned char)(second | 0x80);
        if (digits > 0) {
            static const long long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
            n += varint_bytes(-digits, body + n);
            n += magnitude_bytes((unsigned long long)(micro / pow10[6 - digits]), 1, 0, body + n);
        }
    }
    if (put_header(&w->out, 0x60, (size_t)n) < 0) return ERR;
    return put(&w->out, body, n) < 0 ? ERR : OK;
}

/* --- containers ------------------------------------------------------------------------ */

static int w_value(Writer *w, PyObject *v);

/* A field name's symbol id: a system symbol's, or the next local one. */
static int w_field_name(Writer *w, PyObject *name) {
    if (!PyUnicode_Check(name)) return DECLINE;
    PyObject *sid = PyDict_GetItemWithError(system_symbols, name);
    if (!sid && !PyErr_Occurred()) sid = PyDict_GetItemWithError(w->symbols, name);
    if (!sid) {
        if (PyErr_Occurred()) return ERR;
        PyObject *next = PyLong_FromSsize_t(10 + PyList_GET_SIZE(w->order));
        if (!next || PyDict_SetItem(w->symbols, name, next) < 0 ||
            PyList_Append(w->order, name) < 0) {
            Py_XDECREF(next);
            return ERR;
        }
        sid = next;
        Py_DECREF(next);  /* the dict holds it */
    }
    return put_varuint(&w->out, PyLong_AsSize_t(sid)) < 0 ? ERR : OK;
}

static int enter(Writer *w) {
    if (++w->depth > w->max_depth) {
        w->depth--;
        return DECLINE;  /* amazon.ion's path raises its own error */
    }
    return OK;
}

static int w_field(Writer *w, PyObject *name, PyObject *value) {
    int rc = w_field_name(w, name);
    return rc != OK ? rc : w_value(w, value);
}

static int w_dict(Writer *w, PyObject *v) {
    int rc = enter(w);
    if (rc != OK) return rc;
    Py_ssize_t start = w->out.len, pos = 0;
    if (put1(&w->out, 0) < 0) return ERR;
    PyObject *name, *value;
    while (rc == OK && PyDict_Next(v, &pos, &name, &value)) {
        Py_INCREF(name);
        Py_INCREF(value);
        rc = w_field(w, name, value);
        Py_DECREF(name);
        Py_DECREF(value);
    }
    w->depth--;
    if (rc == OK && close_container(&w->out, start, 0xD0) < 0) rc = ERR;
    return rc;
}

static int w_ion_dict(Writer *w, PyObject *v) {
    PyObject *store = PyObject_GetAttr(v, S_store);
    if (!store) return ERR;
    int rc = PyDict_Check(store) ? enter(w) : DECLINE;
    if (rc != OK) {
        Py_DECREF(store);
        return rc;
    }
    Py_ssize_t start = w->out.len, pos = 0;
    if (put1(&w->out, 0) < 0) rc = ERR;
    PyObject *name, *values;
    while (rc == OK && PyDict_Next(store, &pos, &name, &values)) {
        if (!PyList_Check(values)) {
            rc = DECLINE;
            break;
        }
        Py_INCREF(name);
        Py_INCREF(values);
        for (Py_ssize_t i = 0; rc == OK && i < PyList_GET_SIZE(values); i++) {
            PyObject *value = PyList_GET_ITEM(values, i);
            Py_INCREF(value);
            rc = w_field(w, name, value);
            Py_DECREF(value);
        }
        Py_DECREF(name);
        Py_DECREF(values);
    }
    Py_DECREF(store);
    w->depth--;
    if (rc == OK && close_container(&w->out, start, 0xD0) < 0) rc = ERR;
    return rc;
}

static int w_list(Writer *w, PyObject *v) {
    int rc = enter(w);
    if (rc != OK) return rc;
    Py_ssize_t start = w->out.len;
    if (put1(&w->out, 0) < 0) return ERR;
    Py_ssize_t n = PyList_Check(v) ? PyList_GET_SIZE(v) : PyTuple_GET_SIZE(v);
    for (Py_ssize_t i = 0; rc == OK && i < n; i++) {
        if (PyList_Check(v) && i >= PyList_GET_SIZE(v)) break;
        PyObject *item = PyList_Check(v) ? PyList_GET_ITEM(v, i) : PyTuple_GET_ITEM(v, i);
        Py_INCREF(item);
        rc = w_value(w, item);
        Py_DECREF(item);
    }
    w->depth--;
    if (rc == OK && close_container(&w->out, start, 0xB0) < 0) rc = ERR;
    return rc;
}

/* An amazon.ion value (or the ledger's answering subclasses): only unannotated ones of
 * the expected Ion type; everything else is amazon.ion's to write. */
static int plain_ion(PyObject *v, PyObject *expected) {
    PyObject *annotations = PyObject_GetAttr(v, S_ion_annotations);
    if (!annotations) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return ERR;
        PyErr_Clear();
        return OK;  /* a plain subclass */
    }
    int annotated = PyObject_IsTrue(annotations);
    Py_DECREF(annotations);
    if (annotated) return annotated < 0 ? ERR : DECLINE;
    if (!expected) return OK;
    PyObject *t = PyObject_GetAttr(v, S_ion_type);
    if (!t) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return ERR;
        PyErr_Clear();
        return OK;
    }
    int same = t == expected;
    Py_DECREF(t);
    return same ? OK : DECLINE;
}

static int w_value(Writer *w, PyObject *v) {
    PyTypeObject *t = Py_TYPE(v);
    if (t == &PyUnicode_Type) return w_text(w, v);
    if (t == &PyDict_Type) return w_dict(w, v);
    if (t == &PyLong_Type) return w_int(w, v);
    if (v == Py_None) return put1(&w->out, 0x0F) < 0 ? ERR : OK;
    if (t == &PyBool_Type) return put1(&w->out, v == Py_True ? 0x11 : 0x10) < 0 ? ERR : OK;
    if (t == &PyList_Type || t == &PyTuple_Type) return w_list(w, v);
    if (t == &PyFloat_Type) return w_float(w, PyFloat_AS_DOUBLE(v));
    if (t == T_Decimal) return w_decimal(w, v);
    if (t == &PyBytes_Type) return w_bytes(w, v);
    if (t == T_Timestamp) return w_timestamp(w, v, 0);
    if (t == PyDateTimeAPI->DateTimeType) return w_timestamp(w, v, 1);
    /* subclasses: amazon.ion's values and the ledger's answering types */
    if (t == T_IonPyDict) {
        int rc = plain_ion(v, NULL);
        return rc != OK ? rc : w_ion_dict(w, v);
    }
    if (t == T_IonPyBool) return DECLINE;
    int rc;
    if (PyUnicode_Check(v)) return (rc = plain_ion(v, IT_STRING)) != OK ? rc : w_text(w, v);
    if (PyLong_Check(v)) return (rc = plain_ion(v, NULL)) != OK ? rc : w_int(w, v);
    if (PyFloat_Check(v))
        return (rc = plain_ion(v, NULL)) != OK ? rc : w_float(w, PyFloat_AS_DOUBLE(v));
    if (PyObject_TypeCheck(v, T_Decimal)) return (rc = plain_ion(v, NULL)) != OK ? rc : w_decimal(w, v);
    if (PyBytes_Check(v)) return (rc = plain_ion(v, IT_BLOB)) != OK ? rc : w_bytes(w, v);
    if (PyList_Check(v)) return (rc = plain_ion(v, IT_LIST)) != OK ? rc : w_list(w, v);
    if (PyDict_Check(v)) return (rc = plain_ion(v, NULL)) != OK ? rc : w_dict(w, v);
    if (t == T_IonPyTimestamp) return (rc = plain_ion(v, NULL)) != OK ? rc : w_timestamp(w, v, 0);
    return DECLINE;
}

/* --- ids: the twin of ion.py's pure_new_id and _id_text ------------------------------------ */

#define ID_LENGTH 22
static const char BASE62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
typedef unsigned __int128 u128;

/* The last id issued and a pool of random bytes (getentropy gives at most 256 a call).
 * Touched with the GIL held only; a forked child forgets both (atfork_child): it must
 * not hand out its parent's next random bytes, nor step from its parent's last id. */
static u128 last_id;
#define POOL_SIZE 250
static unsigned char pool[POOL_SIZE];
static int pool_at = POOL_SIZE;

static void atfork_child(void) {
    last_id = 0;
    pool_at = POOL_SIZE;
}

static int random_bytes(unsigned char *out, int n) {
    if (pool_at + n > POOL_SIZE) {
        if (getentropy(pool, POOL_SIZE) != 0) {
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        pool_at = 0;
    }
    memcpy(out, pool + pool_at, (size_t)n);
    pool_at += n;
    return 0;
}

static u128 big_endian(const unsigned char *p, int n) {
    u128 v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

/* 22 base62 digits of n, most significant first (ion.py's _id_text).  Two 128-bit
 * divisions split n into 64-bit pieces of ten digits (2 + 10 + 10): 128-bit division is
 * a library call, 64-bit division by 62 a multiplication. */
static PyObject *id_text_of(u128 n) {
    const unsigned long long ten_digits = 839299365868340224ULL; /* 62**10 */
    unsigned long long pieces[3];
    pieces[2] = (unsigned long long)(n % ten_digits);
    n /= ten_digits;
    pieces[1] = (unsigned long long)(n % ten_digits);
    pieces[0] = (unsigned long long)(n / ten_digits); /* < 62**2 */
    char text[ID_LENGTH];
    int at = ID_LENGTH;
    for (int p = 2; p >= 0; p--) {
        unsigned long long v = pieces[p];
        for (int i = 0; i < (p ? 10 : 2); i++) {
            text[--at] = BASE62[v % 62];
            v /= 62;
        }
    }
    return PyUnicode_FromStringAndSize(text, ID_LENGTH);
}

/* new_id(): ion.py's pure_new_id, with the GIL as its lock. */
static PyObject *py_new_id(PyObject *self, PyObject *unused) {
    struct timespec now;
    unsigned char r[10];
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return PyErr_SetFromErrno(PyExc_OSError);
    /* time.time_ns() // 1_000_000, floored like Python's // for times before 1970 */
    long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    long long ms = ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
    if (random_bytes(r, 10) < 0) return NULL;
    u128 n = (u128)(unsigned long long)ms << 80 | big_endian(r, 10);
    if (n <= last_id) { /* the same millisecond (or the clock stepped back) */
        if (random_bytes(r, 4) < 0) return NULL;
        n = last_id + 1 + big_endian(r, 4);
    }
    last_id = n;
    return id_text_of(n);
}

/* id_text(n): the id of the 128-bit number n (for the differential tests). */
static PyObject *py_id_text(PyObject *self, PyObject *n) {
    if (!PyLong_Check(n)) return PyErr_Format(PyExc_TypeError, "id_text needs an int");
    PyObject *sixty_four = PyLong_FromLong(64);
    PyObject *high = sixty_four ? PyNumber_Rshift(n, sixty_four) : NULL;
    Py_XDECREF(sixty_four);
    if (!high) return NULL;
    unsigned long long hi = PyLong_AsUnsignedLongLong(high); /* negative or >= 2**128: error */
    Py_DECREF(high);
    if (hi == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return PyErr_Format(PyExc_ValueError, "an id is a number in [0, 2**128)");
    }
    unsigned long long lo = PyLong_AsUnsignedLongLongMask(n);
    if (lo == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    return id_text_of((u128)hi << 64 | lo);
}

/* --- storage copies: the twin of ledger/query/values.py's _convert(value, True, depth) ----- */

/* A copy of v as DML stores it, or DECLINE (*out NULL) for anything but exact dicts with
 * str keys, lists, tuples and the scalar types in `as_is` (kept as they are); also past
 * max_depth levels, where _convert raises its own error. */
static int copy_value(PyObject *v, PyObject *as_is, int depth, int max_depth, PyObject **out);

static int copy_dict(PyObject *v, PyObject *as_is, int depth, int max_depth, PyObject **out) {
    PyObject *copy = PyDict_New();
    if (!copy) return ERR;
    Py_ssize_t pos = 0;
    PyObject *name, *item;
    int rc = OK;
    while (rc == OK && PyDict_Next(v, &pos, &name, &item)) {
        if (!PyUnicode_CheckExact(name)) {
            rc = DECLINE;
            break;
        }
        PyObject *converted;
        Py_INCREF(name);
        Py_INCREF(item);
        rc = copy_value(item, as_is, depth + 1, max_depth, &converted);
        if (rc == OK) {
            if (PyDict_SetItem(copy, name, converted) < 0) rc = ERR;
            Py_DECREF(converted);
        }
        Py_DECREF(name);
        Py_DECREF(item);
    }
    if (rc != OK) {
        Py_DECREF(copy);
        return rc;
    }
    *out = copy;
    return OK;
}

static int copy_sequence(PyObject *v, PyObject *as_is, int depth, int max_depth, PyObject **out) {
    int is_list = PyList_CheckExact(v);
    Py_ssize_t n = is_list ? PyList_GET_SIZE(v) : PyTuple_GET_SIZE(v);
    PyObject *copy = PyList_New(0);
    if (!copy) return ERR;
    int rc = OK;
    for (Py_ssize_t i = 0; rc == OK && i < n; i++) {
        if (is_list && i >= PyList_GET_SIZE(v)) break;  /* shrunk meanwhile */
        PyObject *item = is_list ? PyList_GET_ITEM(v, i) : PyTuple_GET_ITEM(v, i), *converted;
        Py_INCREF(item);
        rc = copy_value(item, as_is, depth + 1, max_depth, &converted);
        Py_DECREF(item);
        if (rc == OK) {
            if (PyList_Append(copy, converted) < 0) rc = ERR;
            Py_DECREF(converted);
        }
    }
    if (rc != OK) {
        Py_DECREF(copy);
        return rc;
    }
    *out = copy;
    return OK;
}

static int copy_value(PyObject *v, PyObject *as_is, int depth, int max_depth, PyObject **out) {
    PyTypeObject *t = Py_TYPE(v);
    *out = NULL;
    if (t == &PyDict_Type || t == &PyList_Type || t == &PyTuple_Type) {
        if (depth >= max_depth) return DECLINE;
        return t == &PyDict_Type ? copy_dict(v, as_is, depth, max_depth, out)
                                 : copy_sequence(v, as_is, depth, max_depth, out);
    }
    int known = PySet_Contains(as_is, (PyObject *)t);
    if (known < 0) return ERR;
    if (!known) return DECLINE;
    Py_INCREF(v);
    *out = v;
    return OK;
}

/* storage_copy(value, as_is, max_depth): values.py's _convert(value, True, 0) for the
 * shapes copy_value takes, else None (the caller runs _convert). */
static PyObject *py_storage_copy(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyFrozenSet_Check(args[1]) || !PyLong_Check(args[2]))
        return PyErr_Format(PyExc_TypeError, "storage_copy(value, as_is: frozenset, max_depth: int)");
    long max_depth = PyLong_AsLong(args[2]);
    if (max_depth == -1 && PyErr_Occurred()) return NULL;
    if (max_depth > MAX_DEPTH) max_depth = MAX_DEPTH;
    PyObject *out;
    int rc = copy_value(args[0], args[1], 0, (int)max_depth, &out);
    if (rc == ERR) return NULL;
    if (rc == DECLINE) Py_RETURN_NONE;
    return out;
}

/* --- public ------------------------------------------------------------------------------ */

static const unsigned char IVM[] = {0xE0, 0x01, 0x00, 0xEA};

/* IVM ‖ $ion_symbol_table::{symbols:[...]} (when any) ‖ value. */
static PyObject *assemble(Writer *w) {
    Buf table = {0};
    Py_ssize_t count = PyList_GET_SIZE(w->order);
    PyObject *out = NULL;
    if (put(&table, IVM, 4) < 0) goto done;
    if (count) {
        Py_ssize_t wrapper = table.len;
        if (put1(&table, 0) < 0 || put1(&table, 0x81) < 0 || put1(&table, 0x83) < 0) goto done;
        Py_ssize_t st = table.len;
        if (put1(&table, 0) < 0 || put1(&table, 0x87) < 0) goto done;
        Py_ssize_t list = table.len;
        if (put1(&table, 0) < 0) goto done;
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t n;
            const char *s = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(w->order, i), &n);
            if (!s || put_header(&table, 0x80, (size_t)n) < 0 || put(&table, s, n) < 0) goto done;
        }
        if (close_container(&table, list, 0xB0) < 0 || close_container(&table, st, 0xD0) < 0 ||
            close_container(&table, wrapper, 0xE0) < 0)
            goto done;
    }
    out = PyBytes_FromStringAndSize(NULL, table.len + w->out.len);
    if (out) {
        memcpy(PyBytes_AS_STRING(out), table.data, (size_t)table.len);
        memcpy(PyBytes_AS_STRING(out) + table.len, w->out.data, (size_t)w->out.len);
    }
done:
    PyMem_Free(table.data);
    return out;
}

/* dumps(value, max_depth=1000): None when a container nests deeper than max_depth (the
 * ledger passes ion.py's MAX_NESTING, so what this writes also passes check_storable). */
static PyObject *py_dumps(PyObject *self, PyObject *args) {
    PyObject *value;
    int max_depth = MAX_DEPTH;
    if (!PyArg_ParseTuple(args, "O|i:dumps", &value, &max_depth)) return NULL;
    if (max_depth > MAX_DEPTH) max_depth = MAX_DEPTH;
    Writer w = {{0}, PyDict_New(), PyList_New(0), 0, max_depth};
    PyObject *out = NULL;
    if (!w.symbols || !w.order) goto done;
    int rc = w_value(&w, value);
    if (rc == ERR) goto done;
    if (rc == DECLINE) {
        Py_INCREF(Py_None);
        out = Py_None;
        goto done;
    }
    out = assemble(&w);
done:
    PyMem_Free(w.out.data);
    Py_XDECREF(w.symbols);
    Py_XDECREF(w.order);
    return out;
}

static PyMethodDef methods[] = {
    {"dumps", py_dumps, METH_VARARGS,
     "Ion binary of a value as amazon.ion writes it, or None when amazon.ion must write it."},
    {"new_id", py_new_id, METH_NOARGS, "A new 22-character id (ledger.ion.pure_new_id's twin)."},
    {"id_text", py_id_text, METH_O, "The 22 base62 digits of a 128-bit number."},
    {"storage_copy", (PyCFunction)(void (*)(void))py_storage_copy, METH_FASTCALL,
     "values.py's _convert(value, storage=True), or None when it must run."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ledger._ion_native",
                                    "The compiled twin of ledger.ion.dumps.", -1, methods};

PyMODINIT_FUNC PyInit__ion_native(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    static int atfork_registered;
    if (!atfork_registered) {
        if (pthread_atfork(NULL, NULL, atfork_child) != 0)
            return PyErr_Format(PyExc_ImportError, "pthread_atfork failed");
        atfork_registered = 1;
    }
    const char *st = "amazon.ion.simple_types";
    if (import_type(&T_Decimal, "decimal", "Decimal") < 0 ||
        import_type(&T_Timestamp, "amazon.ion.core", "Timestamp") < 0 ||
        import_type(&T_IonPyInt, st, "IonPyInt") < 0 || import_type(&T_IonPyBool, st, "IonPyBool") < 0 ||
        import_type(&T_IonPyFloat, st, "IonPyFloat") < 0 ||
        import_type(&T_IonPyDecimal, st, "IonPyDecimal") < 0 ||
        import_type(&T_IonPyText, st, "IonPyText") < 0 ||
        import_type(&T_IonPyBytes, st, "IonPyBytes") < 0 ||
        import_type(&T_IonPyTimestamp, st, "IonPyTimestamp") < 0 ||
        import_type(&T_IonPyList, st, "IonPyList") < 0 ||
        import_type(&T_IonPyDict, st, "IonPyDict") < 0 ||
        import_type(&T_IonPyStdDict, st, "IonPyStdDict") < 0)
        return NULL;
    decimal_str = PyObject_GetAttrString((PyObject *)T_Decimal, "__str__");
    PyObject *core = PyImport_ImportModule("amazon.ion.core");
    PyObject *ion_type = core ? PyObject_GetAttrString(core, "IonType") : NULL;
    Py_XDECREF(core);
    if (!decimal_str || !ion_type) return NULL;
    IT_STRING = PyObject_GetAttrString(ion_type, "STRING");
    IT_BLOB = PyObject_GetAttrString(ion_type, "BLOB");
    IT_LIST = PyObject_GetAttrString(ion_type, "LIST");
    Py_DECREF(ion_type);
    if (!IT_STRING || !IT_BLOB || !IT_LIST) return NULL;
    if (intern(&S_ion_type, "ion_type") < 0 || intern(&S_ion_annotations, "ion_annotations") < 0 ||
        intern(&S_store, "_IonPyDict__store") < 0 || intern(&S_precision, "precision") < 0 ||
        intern(&S_fractional_precision, "fractional_precision") < 0 ||
        intern(&S_fractional_seconds, "fractional_seconds") < 0 ||
        intern(&S_utcoffset, "utcoffset") < 0)
        return NULL;
    static const char *system[] = {"$ion", "$ion_1_0", "$ion_symbol_table", "name", "version",
                                   "imports", "symbols", "max_id", "$ion_shared_symbol_table"};
    system_symbols = PyDict_New();
    if (!system_symbols) return NULL;
    for (int i = 0; i < 9; i++) {
        PyObject *sid = PyLong_FromLong(i + 1);
        int rc = sid ? PyDict_SetItemString(system_symbols, system[i], sid) : -1;
        Py_XDECREF(sid);
        if (rc < 0) return NULL;
    }
    return PyModule_Create(&module);
}
