/* The compiled twin of ledger/ion.py's `loads_document`: a stored document's Ion binary
 * decoded into the MAY_BE_BARE value model, the same Python objects amazon.ion's C reader
 * returns for it (`simpleion.loads(data, value_model=IonPyValueModel.MAY_BE_BARE)`).
 *
 * It covers what the ledger writes: the version marker, local symbol tables (no imports),
 * structs (IonPyDict, repeated field names kept), lists (list), strings (str), ints of any
 * size (int), floats (float), decimals (Decimal) whose exponent decQuad holds exactly
 * (-6176..6111), bools, blobs (bytes), unannotated symbols (SymbolToken), null (None),
 * typed nulls (IonPyNull) and timestamps (amazon.ion's Timestamp: precision, fractional
 * precision and seconds, the offset as datetime.timezone, local time = UTC + offset, as
 * amazon.ion's reader builds them; up to nine fractional digits).  Anything else
 * (annotations, sexps, clobs, NOP padding, shared symbol tables, out-of-range fields and the
 * corners where amazon.ion's reader behaves oddly: hour 24, a tenth fractional digit, ...,
 * more than one value, malformed or truncated bytes, nesting deeper than MAX_DEPTH) makes
 * `loads` return NotImplemented and the caller use amazon.ion, which decodes it or raises:
 * the twin never guesses, and bad bytes get exactly the Python path's error.
 * `leaf` (amazon.ion on one value) is kept in the signature for what may still need it.
 * tests/hashing/test_ion_decode.py compares the two on generated values and real blocks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 200

static PyObject *T_Decimal, *T_IonPyDict, *T_IonPyNull, *T_SymbolToken, *T_Timestamp,
    *ion_types[13], *precisions[5], *S_store, *S_annotations, *S_precision, *S_frac_precision,
    *S_frac_seconds, *empty_tuple, *decimal_zero;

/* datetime.timezone of each offset in minutes (-1439..1439), made on first use */
#define MAX_OFFSET 1439
static PyObject *zones[2 * MAX_OFFSET + 1];

/* The last local symbol tables seen (their bytes and the symbol list they give): a ledger's
 * documents of one table repeat theirs, and a repeat reuses the interned field names. */
#define TABLE_CACHE 8
static struct { PyObject *bytes, *table; } table_cache[TABLE_CACHE];
static int table_cache_next;

/* Outcomes: decoded, not ours (amazon.ion's), or a Python error. */
enum { OK = 0, DECLINE = 1, ERR = -1 };

typedef struct {
    const unsigned char *p, *end;
    PyObject *symbols; /* list: sid -> str, or None where the text is unknown */
    int depth;
} Reader;

static int varuint(const unsigned char **p, const unsigned char *end, size_t *out) {
    size_t n = 0;
    for (int i = 0; i < 9; i++) {
        if (*p >= end) return DECLINE;
        unsigned char c = *(*p)++;
        n = (n << 7) | (c & 0x7F);
        if (c & 0x80) { *out = n; return OK; }
    }
    return DECLINE;
}

static int varint(const unsigned char **p, const unsigned char *end, long long *out) {
    if (*p >= end) return DECLINE;
    unsigned char c = *(*p)++;
    int negative = c & 0x40;
    unsigned long long n = c & 0x3F;
    int i = 0;
    while (!(c & 0x80)) {
        if (*p >= end || ++i > 8) return DECLINE;
        c = *(*p)++;
        n = (n << 7) | (c & 0x7F);
    }
    if (n > (1ULL << 62)) return DECLINE;
    *out = negative ? -(long long)n : (long long)n;
    return OK;
}

/* The header at r->p: type nibble, length nibble, and the body's [start, end). */
static int header(Reader *r, int *type, int *low, const unsigned char **body, size_t *len) {
    if (r->p >= r->end) return DECLINE;
    unsigned char td = *r->p++;
    *type = td >> 4;
    *low = td & 0x0F;
    size_t n = (size_t)*low;
    if (*low == 15) n = 0;
    else if (*low == 14 || (*type == 13 && *low == 1)) {
        if (*type == 1 || varuint(&r->p, r->end, &n) != OK) return DECLINE;
    }
    if (*type == 1) n = 0; /* bool: the length nibble is the value */
    if (n > (size_t)(r->end - r->p)) return DECLINE;
    *body = r->p;
    *len = n;
    r->p += n;
    return OK;
}

static PyObject *magnitude(const unsigned char *p, size_t n, int negative) {
    if (n <= 8) {
        unsigned long long m = 0;
        for (size_t i = 0; i < n; i++) m = (m << 8) | p[i];
        PyObject *v = PyLong_FromUnsignedLongLong(m);
        if (!v || !negative) return v;
        PyObject *neg = PyNumber_Negative(v);
        Py_DECREF(v);
        return neg;
    }
    PyObject *v = _PyLong_FromByteArray(p, n, 0, 0);
    if (!v || !negative) return v;
    PyObject *neg = PyNumber_Negative(v);
    Py_DECREF(v);
    return neg;
}

static int d_value(Reader *r, PyObject **out);

static int d_symbol_text(Reader *r, size_t sid, PyObject **out) {
    if (sid >= (size_t)PyList_GET_SIZE(r->symbols)) return DECLINE;
    PyObject *text = PyList_GET_ITEM(r->symbols, sid);
    if (text == Py_None) return DECLINE;
    Py_INCREF(text);
    *out = text;
    return OK;
}

static const unsigned long long POW10[] = {1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL,
                                           1000000ULL, 10000000ULL, 100000000ULL, 1000000000ULL};

/* A signed-magnitude Int of n bytes (the sign is the first bit) that fits in 63 bits. */
static int small_magnitude(const unsigned char *p, size_t n, unsigned long long *out, int *negative) {
    unsigned long long m = 0;
    *negative = n && (p[0] & 0x80);
    if (n > 8) return DECLINE;
    for (size_t i = 0; i < n; i++) m = (m << 8) | (i == 0 ? (p[i] & 0x7F) : p[i]);
    *out = m;
    return OK;
}

/* Decimal(text): the type object looked up once, at init. */
static int decimal_of(PyObject *text, PyObject **out) {
    if (!text) return ERR;
    *out = PyObject_CallOneArg(T_Decimal, text);
    Py_DECREF(text);
    return *out ? OK : ERR;
}

/* Decimals: VarInt exponent, then a signed-magnitude coefficient of any length.  amazon.ion
 * gives the exact value where decQuad holds the exponent (-6176..6111); beyond, it rounds,
 * pads or refuses, so those are left to it. */
static int d_decimal(const unsigned char *p, size_t n, PyObject **out) {
    if (n == 0) { Py_INCREF(decimal_zero); *out = decimal_zero; return OK; }
    const unsigned char *end = p + n;
    long long exponent;
    if (varint(&p, end, &exponent) != OK || exponent < -6176 || exponent > 6111) return DECLINE;
    size_t m = (size_t)(end - p);
    unsigned long long coefficient;
    int negative;
    if (small_magnitude(p, m, &coefficient, &negative) == OK) {
        char text[64];
        snprintf(text, sizeof text, "%s%lluE%lld", negative ? "-" : "", coefficient, exponent);
        return decimal_of(PyUnicode_FromString(text), out);
    }
    unsigned char *copy = PyMem_Malloc(m);
    if (!copy) { PyErr_NoMemory(); return ERR; }
    memcpy(copy, p, m);
    copy[0] &= 0x7F;
    PyObject *big = _PyLong_FromByteArray(copy, m, 0, 0);
    PyMem_Free(copy);
    if (!big) return ERR;
    PyObject *text = PyUnicode_FromFormat("%s%SE%lld", negative ? "-" : "", big, exponent);
    Py_DECREF(big);
    return decimal_of(text, out);
}

/* --- timestamps ------------------------------------------------------------------------- */

static long days_from_civil(long y, long m, long d) { /* days since 1970-01-01 */
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, long *m, long *d) {
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(long y, long m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* The tzinfo amazon.ion's reader gives an offset: timezone.utc, or timezone(timedelta). */
static PyObject *zone(long minutes) {
    if (minutes == 0) return PyDateTime_TimeZone_UTC;
    PyObject **slot = &zones[minutes + MAX_OFFSET];
    if (!*slot) {
        PyObject *delta = PyDelta_FromDSU(0, (int)(minutes * 60), 0);
        if (!delta) return NULL;
        *slot = PyTimeZone_FromOffset(delta);
        Py_DECREF(delta);
    }
    return *slot;
}

/* Timestamps: VarInt offset (negative zero: unknown), VarUInt year [month [day [hour minute
 * [second [VarInt fraction exponent, Int fraction coefficient]]]]], the time fields in UTC.
 * Built as amazon.ion's reader builds them: local time = UTC + offset, tzinfo from the
 * offset from minute precision on (none coarser), Timestamp's three extra slots set. */
static int d_timestamp(const unsigned char *p, size_t n, PyObject **out) {
    const unsigned char *end = p + n;
    if (n == 0) return DECLINE;
    int unknown_offset = (*p & 0x40) != 0;
    long long offset;
    if (varint(&p, end, &offset) != OK) return DECLINE;
    unknown_offset = unknown_offset && offset == 0;
    if (offset < -MAX_OFFSET || offset > MAX_OFFSET) return DECLINE;
    size_t f[6] = {0, 1, 1, 0, 0, 0};
    int count = 0;
    while (p < end && count < 6)
        if (varuint(&p, end, &f[count++]) != OK) return DECLINE;
    if (count == 0 || count == 4) return DECLINE;
    if (f[0] < 1 || f[0] > 9999 || f[1] < 1 || f[1] > 12 || f[2] < 1 ||
        f[2] > (size_t)days_in_month((long)f[0], (long)f[1]) || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return DECLINE;
    long fractional_precision = 0;
    unsigned long long micro = 0;
    PyObject *seconds = NULL;
    if (p < end) { /* the fraction */
        int zero_exponent_sign = (*p == 0xC0);
        long long exponent;
        unsigned long long c;
        int negative;
        if (varint(&p, end, &exponent) != OK || zero_exponent_sign ||
            small_magnitude(p, (size_t)(end - p), &c, &negative) != OK || (negative && c))
            return DECLINE;
        if (exponent >= 0) {
            if (c) return DECLINE; /* a whole second or more: amazon.ion refuses it */
        } else {
            long digits = (long)-exponent;
            if (digits > 9 || c >= POW10[digits]) return DECLINE;
            micro = digits <= 6 ? c * POW10[6 - digits] : c / POW10[digits - 6];
            fractional_precision = digits <= 6 ? digits : 6;
            char text[48];
            snprintf(text, sizeof text, "%lluE%lld", c, exponent);
            if (decimal_of(PyUnicode_FromString(text), &seconds) != OK) return ERR;
        }
    }
    long y = (long)f[0], mo = (long)f[1], d = (long)f[2], h = (long)f[3], mi = (long)f[4];
    PyObject *tz = Py_None;
    if (count >= 5 && !unknown_offset) {
        long minutes = days_from_civil(y, mo, d) * 1440 + h * 60 + mi + (long)offset;
        long days = minutes >= 0 ? minutes / 1440 : -((-minutes + 1439) / 1440);
        minutes -= days * 1440;
        civil_from_days(days, &y, &mo, &d);
        h = minutes / 60;
        mi = minutes % 60;
        if (y < 1 || y > 9999) { Py_XDECREF(seconds); return DECLINE; }
        tz = zone((long)offset);
        if (!tz) { Py_XDECREF(seconds); return ERR; }
    }
    PyObject *ts = PyDateTimeAPI->DateTime_FromDateAndTime(
        (int)y, (int)mo, (int)d, (int)h, (int)mi, (int)f[5], (int)micro, tz, (PyTypeObject *)T_Timestamp);
    if (!ts) { Py_XDECREF(seconds); return ERR; }
    static const int precision_of[] = {0, 0, 1, 2, 0, 3, 4};
    PyObject *fp = PyLong_FromLong(fractional_precision);
    int rc = fp && PyObject_SetAttr(ts, S_precision, precisions[precision_of[count]]) == 0 &&
             PyObject_SetAttr(ts, S_frac_precision, fp) == 0 &&
             PyObject_SetAttr(ts, S_frac_seconds, seconds ? seconds : decimal_zero) == 0;
    Py_XDECREF(fp);
    Py_XDECREF(seconds);
    if (!rc) { Py_DECREF(ts); return ERR; }
    *out = ts;
    return OK;
}

static int d_float(const unsigned char *p, size_t n, PyObject **out) {
    double d;
    if (n == 0) d = 0.0;
    else if (n == 4) d = PyFloat_Unpack4((const char *)p, 0);
    else if (n == 8) d = PyFloat_Unpack8((const char *)p, 0);
    else return DECLINE;
    if (d == -1.0 && PyErr_Occurred()) return ERR;
    *out = PyFloat_FromDouble(d);
    return *out ? OK : ERR;
}

static int d_list(Reader *r, const unsigned char *p, size_t n, PyObject **out) {
    Reader inner = {p, p + n, r->symbols, r->depth + 1};
    if (inner.depth > MAX_DEPTH) return DECLINE;
    PyObject *list = PyList_New(0);
    if (!list) return ERR;
    while (inner.p < inner.end) {
        PyObject *item;
        int rc = d_value(&inner, &item);
        if (rc == OK) { rc = PyList_Append(list, item) < 0 ? ERR : OK; Py_DECREF(item); }
        if (rc != OK) { Py_DECREF(list); return rc; }
    }
    *out = list;
    return OK;
}

static int d_field(Reader *inner, PyObject *store) {
    size_t sid;
    PyObject *name, *item;
    if (varuint(&inner->p, inner->end, &sid) != OK) return DECLINE;
    int rc = d_symbol_text(inner, sid, &name);
    if (rc != OK) return rc;
    rc = d_value(inner, &item);
    if (rc != OK) { Py_DECREF(name); return rc; }
    PyObject *values = PyDict_GetItemWithError(store, name);
    if (values) rc = PyList_Append(values, item) < 0 ? ERR : OK;
    else if (PyErr_Occurred()) rc = ERR;
    else {
        values = PyList_New(1);
        if (!values) rc = ERR;
        else {
            Py_INCREF(item);
            PyList_SET_ITEM(values, 0, item);
            rc = PyDict_SetItem(store, name, values) < 0 ? ERR : OK;
            Py_DECREF(values);
        }
    }
    Py_DECREF(name);
    Py_DECREF(item);
    return rc;
}

/* An IonPyDict as amazon.ion's reader makes one (IonPyDict._factory): object.__new__, then
 * its store of field name -> [values], then its annotations. */
static int d_struct(Reader *r, const unsigned char *p, size_t n, PyObject **out) {
    Reader inner = {p, p + n, r->symbols, r->depth + 1};
    if (inner.depth > MAX_DEPTH) return DECLINE;
    PyObject *store = PyDict_New();
    if (!store) return ERR;
    int rc = OK;
    while (rc == OK && inner.p < inner.end) rc = d_field(&inner, store);
    if (rc != OK) { Py_DECREF(store); return rc; }
    PyObject *dict = PyBaseObject_Type.tp_new((PyTypeObject *)T_IonPyDict, empty_tuple, NULL);
    if (!dict || PyObject_SetAttr(dict, S_store, store) < 0 ||
        PyObject_SetAttr(dict, S_annotations, empty_tuple) < 0) {
        Py_XDECREF(dict);
        Py_DECREF(store);
        return ERR;
    }
    Py_DECREF(store);
    *out = dict;
    return OK;
}

static int d_value(Reader *r, PyObject **out) {
    const unsigned char *body;
    int type, low;
    size_t n;
    if (header(r, &type, &low, &body, &n) != OK) return DECLINE;
    if (low == 15 && type != 14 && type != 15 && type != 0) {
        if (type == 3) return DECLINE; /* negative-int null: not the ledger's */
        static const int ion_type_of[] = {0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        *out = PyObject_CallFunctionObjArgs(T_IonPyNull, ion_types[ion_type_of[type]], Py_None,
                                            empty_tuple, NULL);
        return *out ? OK : ERR;
    }
    switch (type) {
    case 0:
        if (low != 15) return DECLINE; /* NOP padding */
        Py_INCREF(Py_None);
        *out = Py_None;
        return OK;
    case 1:
        if (low > 1) return DECLINE;
        *out = PyBool_FromLong(low);
        return OK;
    case 2:
    case 3:
        if (type == 3 && (n == 0 || body[0] == 0)) return DECLINE; /* -0 or padded */
        *out = magnitude(body, n, type == 3);
        return *out ? OK : ERR;
    case 4: return d_float(body, n, out);
    case 5: return d_decimal(body, n, out);
    case 6: return d_timestamp(body, n, out);
    case 7: {
        unsigned long long sid = 0;
        if (n > 8) return DECLINE;
        for (size_t i = 0; i < n; i++) sid = (sid << 8) | body[i];
        PyObject *text = NULL;
        if (sid != 0) {
            int rc = d_symbol_text(r, (size_t)sid, &text);
            if (rc != OK) return rc;
            *out = PyObject_CallFunctionObjArgs(T_SymbolToken, text, Py_None, Py_None, NULL);
            Py_DECREF(text);
        } else {
            PyObject *zero = PyLong_FromLong(0);
            if (!zero) return ERR;
            *out = PyObject_CallFunctionObjArgs(T_SymbolToken, Py_None, zero, Py_None, NULL);
            Py_DECREF(zero);
        }
        return *out ? OK : ERR;
    }
    case 8:
        *out = PyUnicode_DecodeUTF8((const char *)body, (Py_ssize_t)n, NULL);
        if (!*out) { PyErr_Clear(); return DECLINE; }
        return OK;
    case 10:
        *out = PyBytes_FromStringAndSize((const char *)body, (Py_ssize_t)n);
        return *out ? OK : ERR;
    case 11: return d_list(r, body, n, out);
    case 13: return d_struct(r, body, n, out);
    default: return DECLINE; /* clob, sexp, annotations, reserved */
    }
}

/* `$ion_symbol_table::{symbols:[...]}` at r->p, whose annotation wrapper starts at `body`. */
static PyObject *system_symbols; /* [None, "$ion", "$ion_1_0", ...]: never changed */

/* The symbol list of `$ion_symbol_table::{symbols:[...]}` whose annotation wrapper's body
 * is [body, body + n): the system symbols, then the table's strings, interned. */
static int new_symbol_table(const unsigned char *body, size_t n, PyObject **out) {
    const unsigned char *p = body, *end = body + n;
    size_t annot_len, sid;
    if (varuint(&p, end, &annot_len) != OK || annot_len > (size_t)(end - p)) return DECLINE;
    const unsigned char *annot_end = p + annot_len;
    if (varuint(&p, annot_end, &sid) != OK || sid != 3 || p != annot_end) return DECLINE;
    Reader wrapped = {p, end, system_symbols, 0};
    int type, low;
    const unsigned char *fields;
    size_t flen;
    if (header(&wrapped, &type, &low, &fields, &flen) != OK || type != 13 || low == 15 ||
        wrapped.p != end)
        return DECLINE;
    PyObject *table = PyList_GetSlice(system_symbols, 0, 10);
    if (!table) return ERR;
    Reader in = {fields, fields + flen, table, 0};
    int rc = OK;
    while (rc == OK && in.p < in.end) {
        size_t name;
        const unsigned char *lb;
        size_t ln;
        if (varuint(&in.p, in.end, &name) != OK || name != 7) { rc = DECLINE; break; }
        if (header(&in, &type, &low, &lb, &ln) != OK || type != 11 || low == 15) { rc = DECLINE; break; }
        Reader list = {lb, lb + ln, table, 0};
        while (rc == OK && list.p < list.end) {
            const unsigned char *sb;
            size_t sl;
            if (header(&list, &type, &low, &sb, &sl) != OK || type != 8 || low == 15) { rc = DECLINE; break; }
            PyObject *text = PyUnicode_DecodeUTF8((const char *)sb, (Py_ssize_t)sl, NULL);
            if (!text) { PyErr_Clear(); rc = DECLINE; break; }
            PyUnicode_InternInPlace(&text);
            rc = PyList_Append(table, text) < 0 ? ERR : OK;
            Py_DECREF(text);
        }
    }
    if (rc != OK) { Py_DECREF(table); return rc; }
    *out = table;
    return OK;
}

/* r->symbols becomes the table of the wrapper [start, start + len) (body: its body, n long),
 * from the cache when these bytes were seen lately. */
static int d_symbol_table(Reader *r, const unsigned char *start, size_t len,
                          const unsigned char *body, size_t n) {
    for (int i = 0; i < TABLE_CACHE; i++) {
        PyObject *seen = table_cache[i].bytes;
        if (seen && (size_t)PyBytes_GET_SIZE(seen) == len &&
            memcmp(PyBytes_AS_STRING(seen), start, len) == 0) {
            Py_INCREF(table_cache[i].table);
            Py_SETREF(r->symbols, table_cache[i].table);
            return OK;
        }
    }
    PyObject *table;
    int rc = new_symbol_table(body, n, &table);
    if (rc != OK) return rc;
    PyObject *key = PyBytes_FromStringAndSize((const char *)start, (Py_ssize_t)len);
    if (!key) { Py_DECREF(table); return ERR; }
    int slot = table_cache_next;
    table_cache_next = (slot + 1) % TABLE_CACHE;
    Py_XSETREF(table_cache[slot].bytes, key);
    Py_INCREF(table);
    Py_XSETREF(table_cache[slot].table, table);
    Py_SETREF(r->symbols, table);
    return OK;
}

static PyObject *make_system_symbols(void) {
    static const char *system[] = {"$ion", "$ion_1_0", "$ion_symbol_table", "name", "version",
                                   "imports", "symbols", "max_id", "$ion_shared_symbol_table"};
    PyObject *table = PyList_New(10);
    if (!table) return NULL;
    Py_INCREF(Py_None);
    PyList_SET_ITEM(table, 0, Py_None);
    for (int i = 0; i < 9; i++) {
        PyObject *s = PyUnicode_InternFromString(system[i]);
        if (!s) { Py_DECREF(table); return NULL; }
        PyList_SET_ITEM(table, i + 1, s);
    }
    return table;
}

static int d_stream(Reader *r, PyObject **out) {
    static const unsigned char ivm[] = {0xE0, 0x01, 0x00, 0xEA};
    *out = NULL;
    while (r->p < r->end) {
        if (r->end - r->p >= 4 && memcmp(r->p, ivm, 4) == 0) {
            Py_INCREF(system_symbols);
            Py_SETREF(r->symbols, system_symbols);
            r->p += 4;
            continue;
        }
        if (*r->p == 0xE0) return DECLINE; /* another version marker */
        if ((*r->p >> 4) == 14) {
            const unsigned char *start = r->p, *body;
            int type, low;
            size_t n;
            if (header(r, &type, &low, &body, &n) != OK) return DECLINE;
            int rc = d_symbol_table(r, start, (size_t)(r->p - start), body, n);
            if (rc != OK) return rc;
            continue;
        }
        if (*out) return DECLINE; /* a second value: amazon.ion's to refuse */
        int rc = d_value(r, out);
        if (rc != OK) return rc;
    }
    return *out ? OK : DECLINE;
}

/* loads(data[, leaf]): `leaf` is accepted and unused (the decoder needs no help now). */
static PyObject *py_loads(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "loads(data[, leaf]) takes one or two arguments");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    Py_INCREF(system_symbols);
    Reader r = {view.buf, (const unsigned char *)view.buf + view.len, system_symbols, 0};
    PyObject *out = NULL;
    int rc = (view.len >= 4 && memcmp(view.buf, "\xE0\x01\x00\xEA", 4) == 0) ? d_stream(&r, &out)
                                                                             : DECLINE;
    Py_DECREF(r.symbols);
    PyBuffer_Release(&view);
    if (rc == OK) return out;
    Py_XDECREF(out);
    if (rc == ERR) return NULL;
    Py_RETURN_NOTIMPLEMENTED;
}

static PyMethodDef methods[] = {
    {"loads", (PyCFunction)(void (*)(void))py_loads, METH_FASTCALL,
     "loads(data) -> the document in the MAY_BE_BARE model, or NotImplemented."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ledger._ion_decode",
                                    "The compiled twin of ledger.ion.loads_document.", -1, methods};

static PyObject *attr(const char *module_name, const char *name) {
    PyObject *m = PyImport_ImportModule(module_name);
    if (!m) return NULL;
    PyObject *v = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return v;
}

PyMODINIT_FUNC PyInit__ion_decode(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    if (!(T_Decimal = attr("decimal", "Decimal")) ||
        !(T_IonPyDict = attr("amazon.ion.simple_types", "IonPyDict")) ||
        !(T_IonPyNull = attr("amazon.ion.simple_types", "IonPyNull")) ||
        !(T_SymbolToken = attr("amazon.ion.symbols", "SymbolToken")) ||
        !(T_Timestamp = attr("amazon.ion.core", "Timestamp")) ||
        !(S_store = PyUnicode_InternFromString("_IonPyDict__store")) ||
        !(S_annotations = PyUnicode_InternFromString("ion_annotations")) ||
        !(S_precision = PyUnicode_InternFromString("precision")) ||
        !(S_frac_precision = PyUnicode_InternFromString("fractional_precision")) ||
        !(S_frac_seconds = PyUnicode_InternFromString("fractional_seconds")) ||
        !(empty_tuple = PyTuple_New(0)) || !(system_symbols = make_system_symbols()))
        return NULL;
    if (!PyType_Check(T_Timestamp) ||
        !PyType_IsSubtype((PyTypeObject *)T_Timestamp, PyDateTimeAPI->DateTimeType) ||
        !PyType_Check(T_IonPyDict)) {
        PyErr_SetString(PyExc_ImportError, "amazon.ion's Timestamp or IonPyDict is not the expected type");
        return NULL;
    }
    PyObject *zero = PyUnicode_FromString("0");
    if (!zero || decimal_of(zero, &decimal_zero) != OK) return NULL;
    PyObject *ion_type = attr("amazon.ion.core", "IonType");
    if (!ion_type) return NULL;
    for (int i = 0; i < 13; i++) {
        ion_types[i] = PyObject_CallFunction(ion_type, "i", i);
        if (!ion_types[i]) { Py_DECREF(ion_type); return NULL; }
    }
    Py_DECREF(ion_type);
    PyObject *precision = attr("amazon.ion.core", "TimestampPrecision");
    if (!precision) return NULL;
    for (int i = 0; i < 5; i++) {
        precisions[i] = PyObject_CallFunction(precision, "i", i);
        if (!precisions[i]) { Py_DECREF(precision); return NULL; }
    }
    Py_DECREF(precision);
    return PyModule_Create(&module);
}
