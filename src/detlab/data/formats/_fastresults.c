/* A COCO results file straight to columns, for the common shape only.
 *
 * parse(data: bytes) -> (image_ids, category_ids, scores, boxes) as raw little buffers
 * (int64, int64, float64, float64 x 4), or None when the file is anything but a JSON list of
 * objects with exactly the keys image_id, category_id (JSON integers), score (a JSON number)
 * and bbox (a list of four JSON numbers). Declining is never an error: the caller then reads
 * the file with the full reader, which names any faulty record and field.
 *
 * Numbers are converted with PyOS_string_to_double, the same correctly rounded conversion as
 * Python's json module (and so pycocotools), after checking the JSON number grammar here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t size, capacity;
} Buffer;

static int buffer_push(Buffer *b, const void *item, size_t n) {
    if (b->size + n > b->capacity) {
        size_t want = b->capacity ? b->capacity * 2 : 1 << 16;
        while (want < b->size + n) want *= 2;
        char *grown = realloc(b->data, want);
        if (grown == NULL) return -1;
        b->data = grown;
        b->capacity = want;
    }
    memcpy(b->data + b->size, item, n);
    b->size += n;
    return 0;
}

typedef struct {
    const char *p, *end;
} Cursor;

static void skip_ws(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t'))
        c->p++;
}

static int expect(Cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* Scan a JSON number; *integer tells whether it had no fraction or exponent. */
static const char *scan_number(const char *p, const char *end, int *integer) {
    *integer = 1;
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
    } else if (is_digit(*p)) {
        while (p < end && is_digit(*p)) p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        *integer = 0;
        p++;
        if (p >= end || !is_digit(*p)) return NULL;
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        *integer = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) return NULL;
        while (p < end && is_digit(*p)) p++;
    }
    return p;
}

/* Clinger's fast path: a decimal with at most 15 significant digits and at most 22 digits
 * after the point is m / 10^k with m and 10^k exact doubles, and one IEEE division rounds
 * correctly, so the result equals the full conversion's. */
static const double POWERS[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                  1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                  1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number as a double, scanned once: Clinger's fast path when it applies (see
 * above), else PyOS_string_to_double on the span. */
static int read_double(Cursor *c, double *out) {
    skip_ws(c);
    const char *p = c->p, *end = c->end;
    int negative = p < end && *p == '-';
    p += negative;
    if (p >= end || !is_digit(*p)) return 0;
    uint64_t mantissa = 0;
    int digits = 0, after_point = 0, integer = 1;
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && is_digit(*p); p++) {
            digits++;
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
        }
    }
    if (p < end && *p == '.') {
        integer = 0;
        p++;
        if (p >= end || !is_digit(*p)) return 0;
        for (; p < end && is_digit(*p); p++) {
            if (digits || *p != '0') digits++;
            mantissa = mantissa * 10 + (uint64_t)(*p - '0');
            after_point++;
        }
    }
    int fast = digits <= 15 && after_point <= 22;
    if (p < end && (*p == 'e' || *p == 'E')) {
        integer = fast = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) return 0;
        while (p < end && is_digit(*p)) p++;
    }
    if (p >= end) return 0; /* a number never ends the file */
    if (fast) {
        double value = (double)mantissa;
        if (after_point > 0) value /= POWERS[after_point];
        /* "-0" is Python's int 0, so +0.0 */
        *out = negative && !(integer && mantissa == 0) ? -value : value;
        c->p = p;
        return 1;
    }
    char *parsed_end = NULL;
    double value = PyOS_string_to_double(c->p, &parsed_end, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (parsed_end != p) return 0;
    *out = value;
    c->p = p;
    return 1;
}

static int read_int(Cursor *c, int64_t *out) {
    int integer;
    skip_ws(c);
    const char *start = c->p;
    const char *stop = scan_number(start, c->end, &integer);
    if (stop == NULL || !integer) return 0;
    int negative = *start == '-';
    if (stop - start - negative > 18) return 0; /* 18 digits always fit in an int64 */
    int64_t value = 0;
    for (const char *q = start + negative; q < stop; q++) value = value * 10 + (*q - '0');
    *out = negative ? -value : value;
    c->p = stop;
    return 1;
}

enum { IMAGE_ID = 1, CATEGORY_ID = 2, SCORE = 4, BBOX = 8, ALL = 15 };

static int read_key(Cursor *c) {
    if (!expect(c, '"')) return 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\') return 0;
        c->p++;
    }
    if (c->p >= c->end) return 0;
    size_t n = (size_t)(c->p - start);
    c->p++;
    if (!expect(c, ':')) return 0;
    if (n == 8 && memcmp(start, "image_id", 8) == 0) return IMAGE_ID;
    if (n == 11 && memcmp(start, "category_id", 11) == 0) return CATEGORY_ID;
    if (n == 5 && memcmp(start, "score", 5) == 0) return SCORE;
    if (n == 4 && memcmp(start, "bbox", 4) == 0) return BBOX;
    return 0;
}

typedef struct {
    Buffer images, categories, scores, boxes;
} Columns;

static int read_record(Cursor *c, Columns *out) {
    int seen = 0;
    int64_t image_id = 0, category_id = 0;
    double score = 0.0, box[4] = {0.0, 0.0, 0.0, 0.0};
    if (!expect(c, '{')) return 0;
    for (;;) {
        int key = read_key(c);
        if (key == 0 || (seen & key)) return 0;
        seen |= key;
        int ok = 1;
        if (key == IMAGE_ID) {
            ok = read_int(c, &image_id);
        } else if (key == CATEGORY_ID) {
            ok = read_int(c, &category_id);
        } else if (key == SCORE) {
            ok = read_double(c, &score);
        } else {
            ok = expect(c, '[');
            for (int k = 0; ok && k < 4; k++) {
                ok = (k == 0 || expect(c, ',')) && read_double(c, &box[k]);
            }
            ok = ok && expect(c, ']');
        }
        if (!ok) return 0;
        if (expect(c, '}')) break;
        if (!expect(c, ',')) return 0;
    }
    if (seen != ALL) return 0;
    return buffer_push(&out->images, &image_id, sizeof image_id) == 0 &&
           buffer_push(&out->categories, &category_id, sizeof category_id) == 0 &&
           buffer_push(&out->scores, &score, sizeof score) == 0 &&
           buffer_push(&out->boxes, box, sizeof box) == 0;
}

static int read_list(Cursor *c, Columns *out) {
    if (!expect(c, '[')) return 0;
    if (!expect(c, ']')) {
        for (;;) {
            if (!read_record(c, out)) return 0;
            if (expect(c, ']')) break;
            if (!expect(c, ',')) return 0;
        }
    }
    skip_ws(c);
    return c->p == c->end;
}

static void free_columns(Columns *cols) {
    free(cols->images.data);
    free(cols->categories.data);
    free(cols->scores.data);
    free(cols->boxes.data);
}

static PyObject *as_bytes(Buffer *b) {
    return PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->size);
}

static PyObject *parse(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "parse() takes bytes");
        return NULL;
    }
    Cursor c = {PyBytes_AS_STRING(arg), PyBytes_AS_STRING(arg) + PyBytes_GET_SIZE(arg)};
    Columns cols;
    memset(&cols, 0, sizeof cols);
    /* The GIL stays held: PyOS_string_to_double may set (and we clear) an exception. */
    if (!read_list(&c, &cols)) {
        free_columns(&cols);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *result = Py_BuildValue("(NNNN)", as_bytes(&cols.images), as_bytes(&cols.categories),
                                     as_bytes(&cols.scores), as_bytes(&cols.boxes));
    free_columns(&cols);
    return result;
}

/* ------------------------------------------------------------------ COCO instances files
 *
 * parse_instances(data: bytes) -> None or (n, ids, image_ids, category_ids, boxes, area,
 * iscrowd, keys, members, segmentations): the top-level object's "annotations" list as columns
 * (int64 ids, image ids, category ids, iscrowd; float64 boxes x 4 and area, NaN where a record
 * has no area), the bit mask of the optional keys any record has (AREA, ISCROWD, SEGMENTATION),
 * the (start, end) byte spans of the other top-level members (to be parsed as JSON, without
 * the annotations) and (record, start, end) spans of each segmentation value. Records may hold
 * only id, image_id, category_id, bbox (required), area, iscrowd and segmentation; ids and
 * iscrowd must be JSON integers of at most 18 digits, bbox four JSON numbers. Anything else
 * declines, and the caller reads the file with the full reader.
 */
enum { A_ID = 1, A_IMAGE = 2, A_CATEGORY = 4, A_BBOX = 8, A_AREA = 16, A_CROWD = 32, A_SEG = 64 };
#define A_REQUIRED (A_ID | A_IMAGE | A_CATEGORY | A_BBOX)

typedef struct {
    Buffer ids, images, categories, boxes, area, crowd, segs, members;
    int64_t count;
    int keys;
} Instances;

static int skip_string(Cursor *c) {
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        char ch = *c->p++;
        if (ch == '\\') {
            if (c->p >= c->end) return 0;
            c->p++;
        } else if (ch == '"') {
            return 1;
        }
    }
    return 0;
}

/* Step over one JSON value (checked later by the JSON parser that reads its span). */
static int skip_value(Cursor *c) {
    skip_ws(c);
    if (c->p >= c->end) return 0;
    char ch = *c->p;
    if (ch == '"') return skip_string(c);
    if (ch == '{' || ch == '[') {
        int depth = 0;
        while (c->p < c->end) {
            ch = *c->p;
            if (ch == '"') {
                if (!skip_string(c)) return 0;
                continue;
            }
            if (ch == '{' || ch == '[') {
                depth++;
            } else if (ch == '}' || ch == ']') {
                if (--depth == 0) {
                    c->p++;
                    return 1;
                }
            }
            c->p++;
        }
        return 0;
    }
    const char *start = c->p;
    while (c->p < c->end && (is_digit(*c->p) || (*c->p >= 'a' && *c->p <= 'z') ||
                             *c->p == '-' || *c->p == '+' || *c->p == '.' || *c->p == 'E'))
        c->p++;
    return c->p > start;
}

/* A number for a float column, as NumPy would hold the parsed value: integers of more than 18
 * digits (an object or uint64 array there) decline. */
static int read_float_field(Cursor *c, double *out) {
    int integer;
    skip_ws(c);
    const char *stop = scan_number(c->p, c->end, &integer);
    if (stop == NULL) return 0;
    if (integer && stop - c->p - (*c->p == '-') > 18) return 0;
    return read_double(c, out);
}

/* A key of a record: its name (no escapes) and the colon after it. */
static int read_name(Cursor *c, const char **name, size_t *n) {
    if (!expect(c, '"')) return 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\') return 0;
        c->p++;
    }
    if (c->p >= c->end) return 0;
    *name = start;
    *n = (size_t)(c->p - start);
    c->p++;
    return expect(c, ':');
}

static int annotation_key(const char *name, size_t n) {
    static const struct {
        const char *name;
        int bit;
    } KEYS[] = {{"id", A_ID},     {"image_id", A_IMAGE}, {"category_id", A_CATEGORY},
                {"bbox", A_BBOX}, {"area", A_AREA},      {"iscrowd", A_CROWD},
                {"segmentation", A_SEG}};
    for (size_t k = 0; k < sizeof KEYS / sizeof KEYS[0]; k++)
        if (strlen(KEYS[k].name) == n && memcmp(KEYS[k].name, name, n) == 0) return KEYS[k].bit;
    return 0;
}

static int read_annotation(Cursor *c, const char *base, Instances *out) {
    int seen = 0;
    int64_t id = 0, image_id = 0, category_id = 0, crowd = 0;
    double box[4] = {0.0, 0.0, 0.0, 0.0}, area = Py_NAN;
    if (!expect(c, '{')) return 0;
    for (;;) {
        const char *name;
        size_t n;
        if (!read_name(c, &name, &n)) return 0;
        int key = annotation_key(name, n);
        if (key == 0 || (seen & key)) return 0;
        seen |= key;
        int ok = 1;
        if (key == A_ID) {
            ok = read_int(c, &id);
        } else if (key == A_IMAGE) {
            ok = read_int(c, &image_id);
        } else if (key == A_CATEGORY) {
            ok = read_int(c, &category_id);
        } else if (key == A_CROWD) {
            ok = read_int(c, &crowd);
        } else if (key == A_AREA) {
            ok = read_float_field(c, &area);
        } else if (key == A_SEG) {
            skip_ws(c);
            int64_t span[3] = {out->count, c->p - base, 0};
            ok = skip_value(c);
            span[2] = c->p - base;
            ok = ok && buffer_push(&out->segs, span, sizeof span) == 0;
        } else {
            ok = expect(c, '[');
            for (int k = 0; ok && k < 4; k++) {
                ok = (k == 0 || expect(c, ',')) && read_float_field(c, &box[k]);
            }
            ok = ok && expect(c, ']');
        }
        if (!ok) return 0;
        if (expect(c, '}')) break;
        if (!expect(c, ',')) return 0;
    }
    if ((seen & A_REQUIRED) != A_REQUIRED) return 0;
    out->keys |= seen;
    out->count++;
    return buffer_push(&out->ids, &id, sizeof id) == 0 &&
           buffer_push(&out->images, &image_id, sizeof image_id) == 0 &&
           buffer_push(&out->categories, &category_id, sizeof category_id) == 0 &&
           buffer_push(&out->boxes, box, sizeof box) == 0 &&
           buffer_push(&out->area, &area, sizeof area) == 0 &&
           buffer_push(&out->crowd, &crowd, sizeof crowd) == 0;
}

static int read_annotations(Cursor *c, const char *base, Instances *out) {
    if (!expect(c, '[')) return 0;
    if (expect(c, ']')) return 1;
    for (;;) {
        if (!read_annotation(c, base, out)) return 0;
        if (expect(c, ']')) return 1;
        if (!expect(c, ',')) return 0;
    }
}

static int read_instances(Cursor *c, Instances *out) {
    const char *base = c->p;
    int found = 0;
    if (!expect(c, '{') || expect(c, '}')) return 0;
    for (;;) {
        skip_ws(c);
        int64_t span[2] = {c->p - base, 0};
        const char *name;
        size_t n;
        if (!read_name(c, &name, &n)) return 0;
        if (n == 11 && memcmp(name, "annotations", 11) == 0) {
            if (found) return 0;
            found = 1;
            if (!read_annotations(c, base, out)) return 0;
        } else {
            if (!skip_value(c)) return 0;
            span[1] = c->p - base;
            if (buffer_push(&out->members, span, sizeof span) != 0) return 0;
        }
        if (expect(c, '}')) break;
        if (!expect(c, ',')) return 0;
    }
    skip_ws(c);
    return found && c->p == c->end;
}

static void free_instances(Instances *x) {
    Buffer *all[] = {&x->ids,  &x->images, &x->categories, &x->boxes,
                     &x->area, &x->crowd,  &x->segs,       &x->members};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) free(all[k]->data);
}

static PyObject *parse_instances(PyObject *self, PyObject *arg) {
    (void)self;
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "parse_instances() takes bytes");
        return NULL;
    }
    Cursor c = {PyBytes_AS_STRING(arg), PyBytes_AS_STRING(arg) + PyBytes_GET_SIZE(arg)};
    Instances x;
    memset(&x, 0, sizeof x);
    if (!read_instances(&c, &x)) {
        free_instances(&x);
        if (PyErr_Occurred()) return NULL;
        Py_RETURN_NONE;
    }
    PyObject *result = Py_BuildValue(
        "(LNNNNNNiNN)", (long long)x.count, as_bytes(&x.ids), as_bytes(&x.images),
        as_bytes(&x.categories), as_bytes(&x.boxes), as_bytes(&x.area), as_bytes(&x.crowd),
        x.keys, as_bytes(&x.members), as_bytes(&x.segs));
    free_instances(&x);
    return result;
}

static PyMethodDef methods[] = {
    {"parse", parse, METH_O, "parse(data) -> (image_ids, category_ids, scores, boxes) or None"},
    {"parse_instances", parse_instances, METH_O,
     "parse_instances(data) -> (n, ids, image_ids, category_ids, boxes, area, iscrowd, keys, "
     "members, segmentations) or None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastresults", "COCO results and instances JSON to columns.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastresults(void) { return PyModule_Create(&module); }
