"""Per-class AP against class attributes: rows, correlations, p-values and verdicts."""

from __future__ import annotations

import doctest
import json
import math
import sys

import numpy as np
import pytest

from detlab.analysis import per_class as per_class_module
from detlab.analysis.per_class import (
    ATTRIBUTES,
    analyze_per_class,
    correlation_verdict,
    pearson,
    spearman,
)
from detlab.core import Annotations, Category, Dataset, Images
from detlab.errors import ConfigError, MissingDependencyError
from detlab.metrics import COCOParams, COCOResult, evaluate_voc
from detlab.metrics.result import ClassMetrics


def _scipy_missing() -> bool:
    try:
        import scipy.stats  # noqa: F401
    except ImportError:
        return True
    return False


needs_scipy = pytest.mark.skipif(_scipy_missing(), reason="scipy is not installed")

# Five classes: (name, number of boxes, box width, box height) plus one crowd box for "a" and
# one zero-height box for "b", which the medians must leave out (but "b" counts 6 boxes).
CLASSES = [("a", 3, 10, 10), ("b", 5, 30, 10), ("c", 2, 20, 40), ("d", 8, 40, 40), ("e", 4, 8, 16)]


def _dataset() -> Dataset:
    boxes, cats, crowd = [], [], []
    for cid, (_, count, w, h) in enumerate(CLASSES, start=1):
        for i in range(count):
            boxes.append([i, i, w + i, h])  # widths w, w+1, ...: median w + (count-1)/2
            cats.append(cid)
            crowd.append(False)
    boxes += [[0, 0, 500, 500], [0, 0, 50, 0]]
    cats += [1, 2]
    crowd += [True, False]
    m = len(boxes)
    return Dataset(
        images=Images.build([1], ["x.jpg"], [1000], [1000]),
        categories=(
            *(Category(i, n) for i, (n, *_rest) in enumerate(CLASSES, start=1)),
            Category(9, "unseen"),
        ),
        annotations=Annotations.build(
            ids=range(1, m + 1), image_index=[0] * m, category_ids=cats, boxes=boxes, iscrowd=crowd
        ),
    )


def _result(aps: list[float], ap50s: list[float] | None = None) -> COCOResult:
    """A COCOResult carrying only the per-class numbers the analysis reads."""
    ap50s = ap50s or [min(1.0, a + 0.2) for a in aps]
    names = [c[0] for c in CLASSES] + ["unseen"]
    ids = [*range(1, len(CLASSES) + 1), 9]
    counts = [c[1] for c in CLASSES] + [0]
    per_class = tuple(
        ClassMetrics(cid, name, ap, ap50, ap, ap, ap, ap, ap, n, 10)
        for cid, name, ap, ap50, n in zip(
            ids, names, [*aps, -1.0], [*ap50s, -1.0], counts, strict=True
        )
    )
    empty = np.zeros(0)
    return COCOResult(
        params=COCOParams.build(),
        precision=empty,
        recall=empty,
        scores=empty,
        stats=np.zeros(12),
        category_ids=tuple(ids),
        per_class=per_class,
        num_images=1,
    )


APS = [0.31, 0.52, 0.18, 0.66, 0.25]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1-based), the definition Spearman's rho uses for ties."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size)
    ranks[order] = np.arange(1, values.size + 1)
    for v in np.unique(values):
        tie = values == v
        ranks[tie] = ranks[tie].mean()
    return ranks


@needs_scipy
def test_rows_hold_ap_counts_and_medians() -> None:
    analysis = analyze_per_class(_result(APS), _dataset())
    assert [r.name for r in analysis.rows] == ["a", "b", "c", "d", "e"]
    assert analysis.values("ap") == APS
    assert analysis.values("num_gt") == [3, 5, 2, 8, 4]
    # medians over non-crowd boxes: widths w .. w+count-1, heights h
    a, b = analysis.rows[0], analysis.rows[1]
    assert a.area_median == 11 * 10  # crowd box left out
    # class b: five boxes 30..34 x 10 and one 50 x 0, which is not measured (as `detlab stats`)
    assert b.area_median == 320.0
    b_widths = np.array([30, 31, 32, 33, 34])
    assert b.aspect_ratio_median == pytest.approx(float(np.median(b_widths / 10)))
    assert analysis.rows[2].aspect_ratio_median == pytest.approx(20.5 / 40)


@needs_scipy
def test_class_without_ground_truth_is_left_out_with_a_note() -> None:
    analysis = analyze_per_class(_result(APS), _dataset())
    assert [(e.category_id, e.name) for e in analysis.excluded] == [(9, "unseen")]
    assert "no ground truth" in analysis.excluded[0].reason
    assert "unseen" in analysis.summary()


@needs_scipy
@pytest.mark.parametrize("attribute", ATTRIBUTES)
def test_correlations_match_independent_formulas(attribute: str) -> None:
    analysis = analyze_per_class(_result(APS), _dataset())
    c = analysis.correlation(attribute, "ap")
    assert c is not None
    x = np.array(analysis.values(attribute), dtype=float)
    y = np.array(APS)
    assert c.n == 5
    assert c.pearson_r == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert c.spearman_rho == pytest.approx(np.corrcoef(_ranks(x), _ranks(y))[0, 1], abs=1e-12)
    assert c.verdict.split(",")[0] in {
        "no significant correlation",
        "weak positive correlation",
        "moderate positive correlation",
        "strong positive correlation",
        "weak negative correlation",
        "moderate negative correlation",
        "strong negative correlation",
    }


def _t_p_value(r: float, n: int) -> float:
    """Two-sided p-value of r under H0, closed forms of Student's t for 1 and 2 df."""
    df = n - 2
    t = abs(r) * math.sqrt(df / (1 - r * r))
    if df == 1:
        return 1 - 2 / math.pi * math.atan(t)
    if df == 2:
        return 1 - t / math.sqrt(2 + t * t)
    raise ValueError(df)


@needs_scipy
@pytest.mark.parametrize(
    ("x", "y"),
    [
        ([1.0, 2.0, 3.0], [0.2, 0.1, 0.5]),
        ([1.0, 2.0, 3.0, 4.0], [0.3, 0.1, 0.6, 0.7]),
        ([10.0, 3.0, 7.0, 1.0], [0.2, 0.4, 0.1, 0.9]),
    ],
    ids=["n3", "n4", "n4-negative"],
)
def test_p_values_against_closed_forms(x: list[float], y: list[float]) -> None:
    xa, ya = np.array(x), np.array(y)
    r, p = pearson(xa, ya)
    assert r == pytest.approx(np.corrcoef(xa, ya)[0, 1], abs=1e-12)
    assert p == pytest.approx(_t_p_value(r, len(x)), abs=1e-10)
    rho, p_rho = spearman(xa, ya)
    assert p_rho == pytest.approx(_t_p_value(rho, len(x)), abs=1e-10)


@needs_scipy
def test_a_known_p_value() -> None:
    # r = 0.8 on 4 points: t = 0.8 * sqrt(2 / 0.36) = 1.8856, p = 1 - t / sqrt(2 + t^2) = 0.2
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 3.0, 2.0, 4.0])  # r = 0.8 exactly
    r, p = pearson(x, y)
    assert r == pytest.approx(0.8)
    assert p == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize(
    ("coefficient", "p", "expected"),
    [
        (0.9, 0.05, "no significant correlation, p = 0.050"),
        (0.29, 0.01, "weak positive correlation, p = 0.010"),
        (0.3, 0.01, "moderate positive correlation, p = 0.010"),
        (-0.7, 0.02, "moderate negative correlation, p = 0.020"),
        (0.71, 0.0004, "strong positive correlation, p < 0.001"),
        (-0.95, 0.001, "strong negative correlation, p = 0.001"),
    ],
    ids=["not-significant", "weak", "moderate-edge", "moderate-neg", "strong", "strong-neg"],
)
def test_verdict_thresholds(coefficient: float, p: float, expected: str) -> None:
    text = correlation_verdict(coefficient, p, n=12)
    assert text.startswith(expected)
    assert text.endswith(f"(Spearman rho = {coefficient:+.2f}, n = 12)")


def test_verdict_names_the_method() -> None:
    assert "(Pearson r = +0.50, n = 9)" in correlation_verdict(0.5, 0.2, n=9, method="pearson")
    assert correlation_verdict(float("nan"), float("nan"), n=3).startswith("undefined")


def test_fewer_than_three_classes_give_no_correlations() -> None:
    result = _result(APS)
    few = COCOResult(**{**result.__dict__, "per_class": result.per_class[:2]})
    analysis = analyze_per_class(few, _dataset())
    assert analysis.correlations is None
    assert "at least 3 classes" in analysis.note
    assert analysis.note in analysis.summary()
    assert analysis.to_dict()["correlations"] is None


def test_constant_ap_is_undefined_not_an_error() -> None:
    analysis = analyze_per_class(_result([0.4] * 5, [0.6] * 5), _dataset())
    c = analysis.correlation("num_gt")
    assert c is not None
    assert c.pearson_r is None
    assert c.verdict == "undefined: every class has the same AP"


@needs_scipy
def test_to_dict_is_json_and_verdicts_follow_the_method() -> None:
    spearman_run = analyze_per_class(_result(APS), _dataset())
    pearson_run = analyze_per_class(_result(APS), _dataset(), verdict_method="pearson")
    data = json.loads(json.dumps(spearman_run.to_dict(), allow_nan=False))
    assert len(data["correlations"]) == 6  # AP and AP50 against three attributes
    assert data["thresholds"] == {"significance": 0.05, "moderate": 0.3, "strong": 0.7}
    assert data["correlations"][0]["sentence"].startswith("AP vs number of annotations: ")
    assert "Pearson r" in pearson_run.correlations[0].verdict  # type: ignore[index]
    assert "Spearman rho" in spearman_run.correlations[0].verdict  # type: ignore[index]


def test_bad_arguments() -> None:
    with pytest.raises(ConfigError, match="verdict_method"):
        analyze_per_class(_result(APS), _dataset(), verdict_method="kendall")
    with pytest.raises(ConfigError, match="COCOResult or VOCResult"):
        analyze_per_class({"ap": 1}, _dataset())  # type: ignore[arg-type]


@needs_scipy
def test_voc_result() -> None:
    ds = _dataset()
    ann = ds.annotations
    keep = ~ann.iscrowd & (ann.boxes[:, 3] > 0)
    dets = [
        {"image_id": 1, "category_id": int(c), "bbox": b.tolist(), "score": 0.5}
        for c, b in zip(ann.category_ids[keep], ann.boxes[keep], strict=True)
        if c != 3  # class c is never detected
    ]
    r = evaluate_voc(ds, dets, method="area", legacy_coordinates=False)
    analysis = analyze_per_class(r, ds)
    rows = {row.name: row for row in analysis.rows}
    assert rows["c"].ap == 0.0
    assert rows["a"].ap == pytest.approx(1.0)
    assert rows["a"].ap50 == rows["a"].ap  # evaluated at IoU 0.5
    assert rows["b"].num_gt == 6
    assert [e.name for e in analysis.excluded] == ["unseen"]


def test_missing_scipy_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    with pytest.raises(MissingDependencyError, match="pip install scipy"):
        pearson(np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0]))


def test_module_doctests() -> None:
    assert doctest.testmod(per_class_module).failed == 0
