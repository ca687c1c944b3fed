/* What both halves of the compiled core share (ledger/hashing/_native.c, the Ion Hash;
 * ledger/_ion_native.c, the Ion encoder): a growable byte buffer and the module-init
 * helpers that look up amazon.ion's types.  Included, not linked: each module keeps
 * its own static copy, so the two extensions stay independent of each other. */
#ifndef LEDGER_ION_C_H
#define LEDGER_ION_C_H

#include <Python.h>
#include <string.h>

/* --- a growable byte buffer ---------------------------------------------------------- */

typedef struct {
    unsigned char *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra) {
        if (cap > PY_SSIZE_T_MAX / 2) { PyErr_NoMemory(); return -1; }
        cap *= 2;
    }
    unsigned char *p = PyMem_Realloc(b->data, (size_t)cap);
    if (!p) { PyErr_NoMemory(); return -1; }
    b->data = p;
    b->cap = cap;
    return 0;
}

static int put(Buf *b, const void *p, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->data + b->len, p, (size_t)n);
    b->len += n;
    return 0;
}

static inline int put1(Buf *b, unsigned char c) { return put(b, &c, 1); }

/* --- Ion binary primitives ------------------------------------------------------------ */

/* A VarInt (amazon.ion's _compute_varint): 7 bits a byte, big-endian, the sign 0x40 in
 * the first byte, the end mark 0x80 on the last; writes at most 12 bytes to `out`. */
static int varint_bytes(long long v, unsigned char *out) {
    unsigned long long m = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    unsigned char groups[12];
    int count = 0;
    groups[count++] = m & 0x7F;
    m >>= 7;
    while (m) {
        groups[count++] = m & 0x7F;
        m >>= 7;
    }
    if (groups[count - 1] & 0x40) groups[count++] = 0;
    if (v < 0) groups[count - 1] |= 0x40;
    groups[0] |= 0x80;
    for (int i = 0; i < count; i++) out[i] = groups[count - 1 - i];
    return count;
}

/* --- module initialisation -------------------------------------------------------------- */

/* *out = module_name.name, which must be a type; kept for the life of the process. */
static int import_type(PyTypeObject **out, const char *module_name, const char *name) {
    PyObject *m = PyImport_ImportModule(module_name);
    if (!m) return -1;
    PyObject *t = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    if (!t) return -1;
    if (!PyType_Check(t)) {
        Py_DECREF(t);
        PyErr_Format(PyExc_ImportError, "%s.%s is not a type", module_name, name);
        return -1;
    }
    *out = (PyTypeObject *)t;
    return 0;
}

static int intern(PyObject **out, const char *s) {
    *out = PyUnicode_InternFromString(s);
    return *out ? 0 : -1;
}

#endif
