/* The inner loop of COCO accumulation for one area range, with pycocotools' float64 operations.
 *
 * fill_area(status, n_thr, keep, n_max, segments, scores, npig, counts,
 *           precision, score_out, recall) -> None
 *
 * Inputs are C-contiguous buffers (NumPy arrays), detections in accumulation order (by
 * category, descending score, image, rank):
 *   status    int8    (T, D)  0 ignored, 1 false positive, 2 true positive (every detection kept)
 *   keep      uint8   (D,)    bit m set when the detection's rank inside its (image, category)
 *                             group is below the m-th maxDets (n_max values, at most 8)
 *   segments  int64   (K + 1) category k at positions segments[k]:segments[k + 1]
 *   scores    float64 (D,)
 *   npig      int64   (K,)    non-ignored ground truth of this area range
 *   counts    int64   (K, R)  the fewest true positives c with c / npig >= r, per threshold r
 * Outputs, written whole: precision and score_out float64 (M, T, K, R), recall (M, T, K).
 *
 * Per cell (maxDets, threshold, category) the kept detections (rank < maxDets) are walked once:
 * at each true positive, pr = tp / (fp + tp + eps) with tp, fp the exact counts so far, the
 * very float pycocotools computes there (its cumulative sums are exact integers as floats).
 * The right-to-left maximum of pr over the true positives equals pycocotools' maximum over all
 * positions (pr falls at a false positive and stays at an ignored detection). Recall threshold
 * r reads the c-th true positive (c = counts[k, r], at least 1): precision, and the score there,
 * or the first kept detection's score when c = 0; 0 past the last true positive. Recall is
 * tp / npig when the category has kept detections, else 0. Cells whose npig is 0 are set to -1
 * by the caller, as the pure NumPy path (accumulate.py) does; both give identical arrays.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    Py_ssize_t n_thr, n_det, n_cat, n_rec, n_max;
    const int8_t *status;
    const uint8_t *keep;
    const int64_t *segments, *npig, *counts;
    const double *scores;
    double *precision, *score_out, *recall;
} Area;

/* At most this many maxDets values: one bit each in the keep mask. */
#define MAX_DETS_VALUES 8

/* Work space: per maxDets, the true positives' pr and positions (stride apart), the first kept
 * detection per category. */
typedef struct {
    double *pr;
    int64_t *tp_at, *first;
    const uint8_t *keep;
    Py_ssize_t stride;
} Work;

/* Read one cell's recall thresholds from its true positives (pr already suffix-maximised). */
static void read_cell(const Area *a, Py_ssize_t m, Py_ssize_t t, Py_ssize_t k, const double *pr,
                      const int64_t *tp_at, int64_t tp, int64_t first) {
    Py_ssize_t cell = (m * a->n_thr + t) * a->n_cat + k;
    double *prec = a->precision + cell * a->n_rec, *sc = a->score_out + cell * a->n_rec;
    const int64_t *count = a->counts + k * a->n_rec;
    for (Py_ssize_t r = 0; r < a->n_rec; r++) {
        int64_t c = count[r] > 1 ? count[r] : 1;
        int found = c <= tp;
        prec[r] = found ? pr[c - 1] : 0.0;
        if (count[r] == 0 && first >= 0) {
            sc[r] = a->scores[first];
        } else {
            sc[r] = found ? a->scores[tp_at[c - 1]] : 0.0;
        }
    }
    int64_t npig = a->npig[k] > 1 ? a->npig[k] : 1;
    a->recall[cell] = first >= 0 ? (double)tp / (double)npig : 0.0;
}

/* Walk positions lo..hi of one status row once for every maxDets: counting false positives is
 * branch-free; only a true positive (the rarer case) branches. Inlined with n_max a constant,
 * so that the counters live in registers. */
static inline __attribute__((always_inline)) void walk(const int8_t *restrict status,
                                                       const uint8_t *restrict keep, int64_t lo,
                                                       int64_t hi, const int n_max,
                                                       double *restrict pr,
                                                       int64_t *restrict tp_at,
                                                       Py_ssize_t stride, int64_t *tp_out) {
    int64_t tp[MAX_DETS_VALUES] = {0}, fp[MAX_DETS_VALUES] = {0};
    for (int64_t p = lo; p < hi; p++) {
        const int8_t s = status[p];
        const uint8_t bits = keep[p];
        const uint8_t fp_bits = bits & (uint8_t)-(uint8_t)(s == 1);
        for (int m = 0; m < n_max; m++) fp[m] += (fp_bits >> m) & 1;
        if (s == 2) {
            for (int m = 0; m < n_max; m++) {
                if (!((bits >> m) & 1)) continue;
                double tpf = (double)(tp[m] + 1);
                pr[m * stride + tp[m]] = tpf / ((double)fp[m] + tpf + DBL_EPSILON);
                tp_at[m * stride + tp[m]] = p;
                tp[m]++;
            }
        }
    }
    for (int m = 0; m < n_max; m++) tp_out[m] = tp[m];
}

/* One (threshold, category): its cells for every maxDets. */
static void fill_group(const Area *a, Work *w, Py_ssize_t t, Py_ssize_t k) {
    const int8_t *status = a->status + t * a->n_det;
    const int64_t lo = a->segments[k], hi = a->segments[k + 1];
    int64_t tp[MAX_DETS_VALUES];
    switch (a->n_max) { /* constant n_max: unrolled loops */
    case 1: walk(status, w->keep, lo, hi, 1, w->pr, w->tp_at, w->stride, tp); break;
    case 2: walk(status, w->keep, lo, hi, 2, w->pr, w->tp_at, w->stride, tp); break;
    case 3: walk(status, w->keep, lo, hi, 3, w->pr, w->tp_at, w->stride, tp); break;
    default: walk(status, w->keep, lo, hi, (int)a->n_max, w->pr, w->tp_at, w->stride, tp);
    }
    for (Py_ssize_t m = 0; m < a->n_max; m++) {
        double *pr = w->pr + m * w->stride;
        for (int64_t i = tp[m] - 2; i >= 0; i--) {
            if (pr[i + 1] > pr[i]) pr[i] = pr[i + 1];
        }
        read_cell(a, m, t, k, pr, w->tp_at + m * w->stride, tp[m], w->first[m * a->n_cat + k]);
    }
}

static int fill(const Area *a) {
    int64_t longest = 1;
    for (Py_ssize_t k = 0; k < a->n_cat; k++) {
        int64_t n = a->segments[k + 1] - a->segments[k];
        if (n > longest) longest = n;
    }
    Py_ssize_t n_max = a->n_max > 0 ? a->n_max : 1;
    Work w = {
        .pr = malloc((size_t)(n_max * longest) * sizeof(double)),
        .tp_at = malloc((size_t)(n_max * longest) * sizeof(int64_t)),
        .first = malloc((size_t)(n_max * (a->n_cat + 1)) * sizeof(int64_t)),
        .keep = a->keep,
        .stride = longest,
    };
    int ok = w.pr && w.tp_at && w.first;
    if (ok) {
        for (Py_ssize_t m = 0; m < a->n_max; m++) {
            for (Py_ssize_t k = 0; k < a->n_cat; k++) {
                int64_t p = a->segments[k];
                while (p < a->segments[k + 1] && !((w.keep[p] >> m) & 1)) p++;
                w.first[m * a->n_cat + k] = p < a->segments[k + 1] ? p : -1;
            }
        }
        for (Py_ssize_t t = 0; t < a->n_thr; t++)
            for (Py_ssize_t k = 0; k < a->n_cat; k++) fill_group(a, &w, t, k);
    }
    free(w.pr);
    free(w.tp_at);
    free(w.first);
    return ok ? 0 : -1;
}

/* Sizes agree, segments are non-decreasing and within the detections. */
static int check(const Area *a, Py_ssize_t status_len, Py_ssize_t seg_len, Py_ssize_t npig_len,
                 Py_ssize_t prec_len, Py_ssize_t score_len, Py_ssize_t recall_len) {
    if (a->n_thr < 0 || a->n_max > MAX_DETS_VALUES || status_len != a->n_thr * a->n_det || seg_len != a->n_cat + 1 ||
        npig_len != a->n_cat || prec_len != a->n_max * a->n_thr * a->n_cat * a->n_rec ||
        score_len != prec_len || recall_len != a->n_max * a->n_thr * a->n_cat)
        return 0;
    if (a->segments[0] < 0 || a->segments[a->n_cat] > a->n_det) return 0;
    for (Py_ssize_t k = 0; k < a->n_cat; k++)
        if (a->segments[k + 1] < a->segments[k]) return 0;
    return 1;
}

static PyObject *fill_area(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer b[9];
    Py_ssize_t n_thr, n_max;
    memset(b, 0, sizeof b);
    if (!PyArg_ParseTuple(args, "y*ny*ny*y*y*y*w*w*w*:fill_area", &b[0], &n_thr, &b[1], &n_max,
                          &b[2], &b[3], &b[4], &b[5], &b[6], &b[7], &b[8]))
        return NULL;
    Area a = {
        .n_thr = n_thr,
        .n_det = b[1].len,
        .n_cat = b[4].len / 8,
        .n_max = n_max,
        .status = b[0].buf,
        .keep = b[1].buf,
        .segments = b[2].buf,
        .scores = b[3].buf,
        .npig = b[4].buf,
        .counts = b[5].buf,
        .precision = b[6].buf,
        .score_out = b[7].buf,
        .recall = b[8].buf,
    };
    a.n_rec = a.n_cat ? b[5].len / 8 / a.n_cat : 0;
    int ok = n_max >= 0 && b[3].len == 8 * a.n_det && b[5].len == 8 * a.n_cat * a.n_rec &&
             check(&a, b[0].len, b[2].len / 8, a.n_cat, b[6].len / 8, b[7].len / 8,
                   b[8].len / 8);
    int status = 0;
    if (ok) {
        Py_BEGIN_ALLOW_THREADS
        status = fill(&a);
        Py_END_ALLOW_THREADS
    }
    for (int i = 0; i < 9; i++) PyBuffer_Release(&b[i]);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "fill_area(): array sizes do not agree");
        return NULL;
    }
    if (status < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"fill_area", fill_area, METH_VARARGS,
     "fill_area(status, n_thr, keep, n_max, segments, scores, npig, counts, precision, "
     "score_out, recall) -> None"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_accumulate", "COCO accumulation, one area range at a time.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__accumulate(void) { return PyModule_Create(&module); }
