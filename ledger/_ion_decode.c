/* The compiled twin of ledger/ion.py's `loads_document`: a stored document's Ion binary
 * decoded into the MAY_BE_BARE value model, the same Python objects amazon.ion's C reader
 * returns for it (`simpleion.loads(data, value_model=IonPyValueModel.MAY_BE_BARE)`).
 *
 * It covers what the ledger writes: the version marker, local symbol tables (no imports),
 * structs (IonPyDict, repeated field names kept), lists (list), strings (str), ints of any
 * size (int), floats (float), decimals whose coefficient fits in 64 bits (Decimal), bools,
 * blobs (bytes), unannotated symbols (SymbolToken), null (None) and typed nulls (IonPyNull).
 * Timestamps are decoded by the `leaf` callable given (amazon.ion on that one value), so
 * their objects are amazon.ion's own.  Anything else (annotations, sexps, clobs, NOP
 * padding, shared symbol tables, wider decimals, more than one value, malformed or
 * truncated bytes, nesting deeper than MAX_DEPTH) makes `loads` return NotImplemented and
 * the caller use amazon.ion, which decodes it or raises: the twin never guesses, and bad
 * bytes get exactly the Python path's error.
 * tests/hashing/test_ion_decode.py compares the two on generated values and real blocks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 200

static PyObject *T_Decimal, *T_IonPyDict, *T_IonPyNull, *T_SymbolToken, *ion_types[13],
    *S_store, *empty_tuple;

/* Outcomes: decoded, not ours (amazon.ion's), or a Python error. */
enum { OK = 0, DECLINE = 1, ERR = -1 };

typedef struct {
    const unsigned char *p, *end;
    PyObject *symbols; /* list: sid -> str, or None where the text is unknown */
    PyObject *leaf;    /* bytes -> the value, through amazon.ion */
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

static int d_decimal(const unsigned char *p, size_t n, PyObject **out) {
    if (n == 0) { *out = PyObject_CallFunction(T_Decimal, "s", "0"); return *out ? OK : ERR; }
    const unsigned char *end = p + n;
    long long exponent;
    if (varint(&p, end, &exponent) != OK || exponent < -7000 || exponent > 7000) return DECLINE;
    size_t m = (size_t)(end - p);
    if (m > 8) return DECLINE;
    unsigned long long coefficient = 0;
    int negative = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned char c = p[i];
        if (i == 0) { negative = c & 0x80; c &= 0x7F; }
        coefficient = (coefficient << 8) | c;
    }
    char text[64];
    snprintf(text, sizeof text, "%s%lluE%lld", negative ? "-" : "", coefficient, exponent);
    *out = PyObject_CallFunction(T_Decimal, "s", text);
    return *out ? OK : ERR;
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
    Reader inner = {p, p + n, r->symbols, r->leaf, r->depth + 1};
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

static int d_struct(Reader *r, const unsigned char *p, size_t n, PyObject **out) {
    Reader inner = {p, p + n, r->symbols, r->leaf, r->depth + 1};
    if (inner.depth > MAX_DEPTH) return DECLINE;
    PyObject *dict = PyObject_CallNoArgs(T_IonPyDict);
    if (!dict) return ERR;
    PyObject *store = PyObject_GetAttr(dict, S_store);
    if (!store || !PyDict_CheckExact(store)) { Py_XDECREF(store); Py_DECREF(dict); return store ? DECLINE : ERR; }
    int rc = OK;
    while (rc == OK && inner.p < inner.end) rc = d_field(&inner, store);
    Py_DECREF(store);
    if (rc != OK) { Py_DECREF(dict); return rc; }
    *out = dict;
    return OK;
}

static int d_leaf(Reader *r, const unsigned char *start, PyObject **out) {
    static const unsigned char ivm[] = {0xE0, 0x01, 0x00, 0xEA};
    Py_ssize_t n = (Py_ssize_t)(r->p - start);
    PyObject *data = PyBytes_FromStringAndSize(NULL, n + 4);
    if (!data) return ERR;
    memcpy(PyBytes_AS_STRING(data), ivm, 4);
    memcpy(PyBytes_AS_STRING(data) + 4, start, (size_t)n);
    *out = PyObject_CallOneArg(r->leaf, data);
    Py_DECREF(data);
    return *out ? OK : ERR;
}

static int d_value(Reader *r, PyObject **out) {
    const unsigned char *start = r->p, *body;
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
    case 6: return d_leaf(r, start, out);
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
static int d_symbol_table(Reader *r, const unsigned char *body, size_t n) {
    const unsigned char *p = body, *end = body + n;
    size_t annot_len, sid;
    if (varuint(&p, end, &annot_len) != OK || annot_len > (size_t)(end - p)) return DECLINE;
    const unsigned char *annot_end = p + annot_len;
    if (varuint(&p, annot_end, &sid) != OK || sid != 3 || p != annot_end) return DECLINE;
    Reader wrapped = {p, end, r->symbols, r->leaf, 0};
    int type, low;
    const unsigned char *fields;
    size_t flen;
    if (header(&wrapped, &type, &low, &fields, &flen) != OK || type != 13 || low == 15 ||
        wrapped.p != end)
        return DECLINE;
    PyObject *table = PyList_GetSlice(r->symbols, 0, 10); /* a new table: system symbols */
    if (!table) return ERR;
    Reader in = {fields, fields + flen, table, r->leaf, 0};
    int rc = OK;
    while (rc == OK && in.p < in.end) {
        size_t name;
        const unsigned char *lb;
        size_t ln;
        if (varuint(&in.p, in.end, &name) != OK || name != 7) { rc = DECLINE; break; }
        if (header(&in, &type, &low, &lb, &ln) != OK || type != 11 || low == 15) { rc = DECLINE; break; }
        Reader list = {lb, lb + ln, table, r->leaf, 0};
        while (rc == OK && list.p < list.end) {
            const unsigned char *sb;
            size_t sl;
            if (header(&list, &type, &low, &sb, &sl) != OK || type != 8 || low == 15) { rc = DECLINE; break; }
            PyObject *text = PyUnicode_DecodeUTF8((const char *)sb, (Py_ssize_t)sl, NULL);
            if (!text) { PyErr_Clear(); rc = DECLINE; break; }
            rc = PyList_Append(table, text) < 0 ? ERR : OK;
            Py_DECREF(text);
        }
    }
    if (rc != OK) { Py_DECREF(table); return rc; }
    Py_SETREF(r->symbols, table);
    return OK;
}

static PyObject *system_table(void) {
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
            PyObject *table = system_table();
            if (!table) return ERR;
            Py_SETREF(r->symbols, table);
            r->p += 4;
            continue;
        }
        if (*r->p == 0xE0) return DECLINE; /* another version marker */
        if ((*r->p >> 4) == 14) {
            int type, low;
            const unsigned char *body;
            size_t n;
            if (header(r, &type, &low, &body, &n) != OK) return DECLINE;
            int rc = d_symbol_table(r, body, n);
            if (rc != OK) return rc;
            continue;
        }
        if (*out) return DECLINE; /* a second value: amazon.ion's to refuse */
        int rc = d_value(r, out);
        if (rc != OK) return rc;
    }
    return *out ? OK : DECLINE;
}

static PyObject *py_loads(PyObject *self, PyObject *args) {
    Py_buffer view;
    PyObject *leaf;
    if (!PyArg_ParseTuple(args, "y*O", &view, &leaf)) return NULL;
    Reader r = {view.buf, (const unsigned char *)view.buf + view.len, system_table(), leaf, 0};
    if (!r.symbols) { PyBuffer_Release(&view); return NULL; }
    const unsigned char *start = r.p;
    PyObject *out = NULL;
    int rc = (view.len >= 4 && memcmp(start, "\xE0\x01\x00\xEA", 4) == 0) ? d_stream(&r, &out)
                                                                          : DECLINE;
    Py_DECREF(r.symbols);
    PyBuffer_Release(&view);
    if (rc == OK) return out;
    Py_XDECREF(out);
    if (rc == ERR) return NULL;
    Py_RETURN_NOTIMPLEMENTED;
}

static PyMethodDef methods[] = {
    {"loads", py_loads, METH_VARARGS,
     "loads(data, leaf) -> the document in the MAY_BE_BARE model, or NotImplemented."},
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
    if (!(T_Decimal = attr("decimal", "Decimal")) ||
        !(T_IonPyDict = attr("amazon.ion.simple_types", "IonPyDict")) ||
        !(T_IonPyNull = attr("amazon.ion.simple_types", "IonPyNull")) ||
        !(T_SymbolToken = attr("amazon.ion.symbols", "SymbolToken")) ||
        !(S_store = PyUnicode_InternFromString("_IonPyDict__store")) ||
        !(empty_tuple = PyTuple_New(0)))
        return NULL;
    PyObject *ion_type = attr("amazon.ion.core", "IonType");
    if (!ion_type) return NULL;
    for (int i = 0; i < 13; i++) {
        ion_types[i] = PyObject_CallFunction(ion_type, "i", i);
        if (!ion_types[i]) { Py_DECREF(ion_type); return NULL; }
    }
    Py_DECREF(ion_type);
    return PyModule_Create(&module);
}
