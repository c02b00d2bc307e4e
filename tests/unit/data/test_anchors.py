"""Anchor fitting and its figures, against known answers and independent NumPy computations.

Known answers: datasets generated from a few exact box shapes (or aspect ratios), which k-means
must give back with recall 1 and mean best IoU 1. Independent computations: IoU of centred boxes
from their corner coordinates, YOLOv5's ratio metric as a full ``(B, K, 2)`` array, the shape
IoU bound by sweeping the anchor's scale, and Python loops over boxes and anchors.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pytest

from detlab.core.dataset import Annotations, Category, Dataset, Images
from detlab.data.anchor_fit import unique_shapes
from detlab.data.anchor_ratios import shape_iou_bound
from detlab.data.anchors import (
    ASPECT_QUANTILES,
    anchor_fitness,
    assign_boxes,
    compute_anchors,
    format_anchor_levels,
    format_anchors,
    parse_anchor_ratios,
    parse_anchors,
    ratio_fitness,
    scale_box_sizes,
    suggest_anchor_ratios,
    wh_iou,
)
from detlab.data.synthetic import make_sequential_dataset
from detlab.errors import ConfigError, InvalidInputError

SHAPES = [(10.0, 13.0), (62.0, 45.0), (156.0, 198.0)]  # YOLOv3's P3, P4 and P5 examples
YOLO_DEFAULT = "10,13, 16,30, 33,23, 30,61, 62,45, 59,119, 116,90, 156,198, 373,326"


def make_dataset(
    sizes: Sequence[tuple[float, float]],
    *,
    image_size: tuple[int, int] = (640, 480),
    iscrowd: Sequence[bool] | None = None,
) -> Dataset:
    """One image holding boxes of the given widths and heights."""
    m = len(sizes)
    images = Images.build([1], ["a.jpg"], [image_size[0]], [image_size[1]])
    annotations = Annotations.build(
        ids=np.arange(1, m + 1),
        image_index=np.zeros(m, dtype=np.int64),
        category_ids=np.ones(m, dtype=np.int64),
        boxes=[[0.0, 0.0, w, h] for w, h in sizes] if m else np.zeros((0, 4)),
        iscrowd=iscrowd,
    )
    return Dataset(images, (Category(1, "object"),), annotations, source="gen.json")


def repeated(
    shapes: Sequence[tuple[float, float]], counts: Sequence[int]
) -> list[tuple[float, float]]:
    return [s for s, c in zip(shapes, counts, strict=True) for _ in range(c)]


def random_wh(n: int, seed: int, scale: float = 60.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(rng.lognormal(np.log(scale), 0.8, size=(n, 2)), 1) + 0.5


# --------------------------------------------------------------------------- independent references


def reference_iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """IoU of boxes and anchors centred at the origin, from their corners."""
    b = np.concatenate([-wh / 2, wh / 2], axis=1)[:, None, :]
    a = np.concatenate([-anchors / 2, anchors / 2], axis=1)[None, :, :]
    iw = np.clip(np.minimum(b[..., 2], a[..., 2]) - np.maximum(b[..., 0], a[..., 0]), 0, None)
    ih = np.clip(np.minimum(b[..., 3], a[..., 3]) - np.maximum(b[..., 1], a[..., 1]), 0, None)
    inter = iw * ih
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    return inter / (area_b + area_a - inter)


def reference_ratio(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """YOLOv5's ratio metric as written there: r = wh / k, min(r, 1 / r) over w and h."""
    r = wh[:, None, :] / anchors[None, :, :]
    return np.minimum(r, 1.0 / r).min(axis=2)


def reference_metrics(wh: np.ndarray, anchors: np.ndarray, thr: float, iou_thr: float) -> dict:
    x, iou = reference_ratio(wh, anchors), reference_iou(wh, anchors)
    return {
        "bpr": float((x.max(1) > 1 / thr).mean()),
        "anchors_above_threshold": float((x > 1 / thr).sum(1).mean()),
        "mean_best_ratio": float(x.max(1).mean()),
        "iou_recall": float((iou.max(1) >= iou_thr).mean()),
        "mean_best_iou": float(iou.max(1).mean()),
    }


def brute_shape_iou(aspect: float, ratio: float) -> float:
    """Best IoU of a (1, aspect) box and a centred anchor of ``ratio``, sweeping its size."""
    sizes = np.exp(np.linspace(np.log(0.05), np.log(20.0), 100_001))
    aw, ah = sizes / math.sqrt(ratio), sizes * math.sqrt(ratio)
    inter = np.minimum(1.0, aw) * np.minimum(aspect, ah)
    return float((inter / (aspect + aw * ah - inter)).max())


# --------------------------------------------------------------------------- known answers


@pytest.mark.parametrize("evolve", [0, 300], ids=["kmeans", "evolved"])
@pytest.mark.parametrize("fitness", ["iou", "ratio"])
def test_three_exact_shapes_come_back(evolve: int, fitness: str) -> None:
    ds = make_dataset(repeated(SHAPES, [50, 30, 20]))
    result = compute_anchors(ds, n=3, img_size=640, evolve=evolve, fitness=fitness)  # type: ignore[arg-type]
    assert result.anchors.tolist() == [list(s) for s in SHAPES]
    assert result.counts.tolist() == [50, 30, 20]
    assert result.mean_iou.tolist() == [1.0, 1.0, 1.0]
    m = result.metrics
    assert (m.bpr, m.iou_recall, m.mean_best_iou, m.mean_best_ratio) == (1.0, 1.0, 1.0, 1.0)
    assert m.num_boxes == 100
    assert result.fitness == result.fitness_kmeans == 1.0
    assert format_anchors(result.anchors) == "10,13,  62,45,  156,198"


def test_boxes_are_scaled_so_the_longer_image_side_is_img_size() -> None:
    # 1280x720 and 720x1280 images: scale 0.5 at 640 whichever side is longer
    images = Images.build([1, 2], ["a.jpg", "b.jpg"], [1280, 720], [720, 1280])
    doubled = [(2 * w, 2 * h) for w, h in SHAPES]
    boxes = [[0, 0, w, h] for w, h in doubled] * 2
    annotations = Annotations.build(
        ids=np.arange(6), image_index=[0, 0, 0, 1, 1, 1], category_ids=[1] * 6, boxes=boxes
    )
    ds = Dataset(images, (Category(1, "object"),), annotations)
    assert scale_box_sizes(ds, 640).tolist() == [list(s) for s in SHAPES] * 2
    assert compute_anchors(ds, n=3, img_size=640).anchors.tolist() == [list(s) for s in SHAPES]
    assert compute_anchors(ds, n=3, img_size=1280).anchors.tolist() == [list(s) for s in doubled]


def test_one_anchor_for_one_shape() -> None:
    result = compute_anchors(make_dataset([(30.0, 20.0)] * 5), n=1)
    assert result.anchors.tolist() == [[30.0, 20.0]]
    assert result.counts.tolist() == [5]


def test_the_same_seed_gives_the_same_anchors() -> None:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=2)
    first = compute_anchors(ds, n=6, img_size=416, seed=5, evolve=200)
    again = compute_anchors(ds, n=6, img_size=416, seed=5, evolve=200)
    assert np.array_equal(first.unrounded, again.unrounded)
    assert first.to_dict() == again.to_dict()


def test_anchors_are_whole_pixels_sorted_by_area_and_evolution_never_hurts() -> None:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=2)
    for fitness in ("iou", "ratio"):
        result = compute_anchors(ds, n=9, evolve=300, fitness=fitness)  # type: ignore[arg-type]
        area = result.anchors.prod(axis=1)
        assert np.all(np.diff(area) >= 0)
        assert np.array_equal(result.anchors, np.round(result.anchors))
        assert np.abs(result.anchors - result.unrounded).max() <= 0.5
        assert result.fitness >= result.fitness_kmeans
        assert int(result.counts.sum()) == result.metrics.num_boxes


def test_kmeans_beats_yolo_default_anchors_on_its_own_data() -> None:
    ds = make_sequential_dataset(num_sequences=3, frames_per_sequence=20, seed=2)
    result = compute_anchors(ds, current=parse_anchors(YOLO_DEFAULT), evolve=0)
    assert result.current is not None
    assert result.metrics.mean_best_iou > result.current.mean_best_iou


# --------------------------------------------------------------------------- figures


def test_wh_iou_matches_iou_from_corners() -> None:
    wh, anchors = random_wh(300, seed=1), random_wh(7, seed=2)
    np.testing.assert_allclose(wh_iou(wh, anchors), reference_iou(wh, anchors), rtol=1e-12)


@pytest.mark.parametrize(("thr", "iou_thr"), [(4.0, 0.5), (2.0, 0.7), (3.0, 0.3)])
def test_figures_match_an_independent_computation(thr: float, iou_thr: float) -> None:
    wh, anchors = random_wh(2000, seed=3), parse_anchors(YOLO_DEFAULT)
    metrics = anchor_fitness(wh, anchors, ratio_threshold=thr, iou_threshold=iou_thr)
    expected = reference_metrics(wh, anchors, thr, iou_thr)
    for name, value in expected.items():
        assert getattr(metrics, name) == pytest.approx(value, abs=1e-12), name
    assert (metrics.num_boxes, metrics.num_anchors) == (2000, 9)


def test_compute_anchors_reports_the_figures_of_its_rounded_anchors_and_of_current() -> None:
    ds = make_sequential_dataset(num_sequences=2, frames_per_sequence=10, seed=7)
    current = parse_anchors(YOLO_DEFAULT)
    result = compute_anchors(ds, n=5, img_size=512, current=current, evolve=50)
    wh = scale_box_sizes(ds, 512)
    assert result.metrics == anchor_fitness(wh, result.anchors)
    assert result.current == anchor_fitness(wh, current)
    iou = reference_iou(wh, result.anchors)
    labels = iou.argmax(axis=1)
    assert result.counts.tolist() == np.bincount(labels, minlength=5).tolist()
    for j in range(5):
        assert result.mean_iou[j] == pytest.approx(iou[labels == j, j].mean(), abs=1e-12)


def test_ratio_criterion_is_strict_as_in_yolov5() -> None:
    anchors = [[10.0, 10.0]]
    exactly_4x = anchor_fitness([[40.0, 10.0]], anchors)
    assert (exactly_4x.bpr, exactly_4x.mean_best_ratio, exactly_4x.anchors_above_threshold) == (
        0.0,
        0.25,
        0.0,
    )
    assert anchor_fitness([[39.0, 10.0]], anchors).bpr == 1.0
    # IoU recall counts a best IoU equal to the threshold: 50x10 vs 100x10 is exactly 0.5
    assert anchor_fitness([[50.0, 10.0]], [[100.0, 10.0]]).iou_recall == 1.0


def test_assign_boxes_takes_the_best_iou_and_the_first_anchor_on_ties() -> None:
    wh = random_wh(500, seed=4)
    anchors = np.array([[20.0, 20.0], [20.0, 20.0], [60.0, 40.0], [150.0, 150.0]])
    labels, best = assign_boxes(wh, anchors)
    iou = reference_iou(wh, anchors)
    assert labels.tolist() == [int(np.argmax(row)) for row in iou]
    assert 1 not in labels.tolist()
    np.testing.assert_allclose(best, iou.max(axis=1), rtol=1e-12)


def test_unique_shapes_matches_numpy_unique_rows() -> None:
    wh = np.round(random_wh(5000, seed=5) / 10) * 10 + 0.5
    shapes, counts = unique_shapes(wh)
    expected, expected_counts = np.unique(wh, axis=0, return_counts=True)
    assert shapes.tolist() == expected.tolist()
    assert counts.tolist() == expected_counts.tolist()


# --------------------------------------------------------------------------- which boxes


def test_crowd_zero_size_and_nan_boxes_are_left_out() -> None:
    sizes = [*repeated(SHAPES, [4, 4, 4]), (500.0, 500.0), (0.0, 10.0), (math.nan, 5.0)]
    crowd = [False] * 12 + [True, False, False]
    result = compute_anchors(make_dataset(sizes, iscrowd=crowd), n=3, evolve=0)
    assert result.metrics.num_boxes == 12
    assert result.anchors.tolist() == [list(s) for s in SHAPES]


def test_boxes_under_min_size_are_counted_but_not_fitted() -> None:
    sizes = [*repeated(SHAPES, [10, 10, 10]), (1.0, 1.5), (1.5, 1.0)]
    result = compute_anchors(make_dataset(sizes), n=3, evolve=0)
    assert (result.num_fitted, result.num_small, result.metrics.num_boxes) == (30, 2, 32)
    assert result.anchors.tolist() == [list(s) for s in SHAPES]
    assert result.counts.tolist() == [12, 10, 10]


def test_many_distinct_shapes_are_sampled_and_figures_still_cover_every_box() -> None:
    wh = random_wh(3000, seed=6)
    ds = make_dataset([tuple(row) for row in wh.tolist()])
    result = compute_anchors(ds, n=4, evolve=20, max_samples=500, seed=1)
    assert result.sampled
    distinct = np.unique(wh, axis=0).shape[0]
    assert (result.sample_size, result.num_fitted, result.num_distinct) == (500, 3000, distinct)
    assert result.metrics.num_boxes == 3000
    assert result.metrics == anchor_fitness(wh, result.anchors)
    exact = compute_anchors(ds, n=4, evolve=20, seed=1)
    assert not exact.sampled
    assert result.metrics.mean_best_iou == pytest.approx(exact.metrics.mean_best_iou, abs=0.02)


# --------------------------------------------------------------------------- errors


def test_a_dataset_without_boxes_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"gen\.json has no boxes to fit anchors to"):
        compute_anchors(make_dataset([]))
    with pytest.raises(InvalidInputError, match="1 of them crowd"):
        compute_anchors(make_dataset([(10.0, 10.0)], iscrowd=[True]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "number of anchors 0 must be at least 1"),
        ({"n": 4}, "cannot fit 4 anchors to 3 distinct box shapes"),
        ({"img_size": 0}, "image size 0 must be above zero"),
        ({"img_size": -640}, "image size -640 must be above zero"),
        ({"evolve": -1}, "evolve -1"),
        ({"fitness": "map"}, "unknown fitness 'map'"),
        ({"ratio_threshold": 1.0}, "ratio threshold 1.0 must be a finite number above 1"),
        ({"iou_threshold": 0.0}, r"IoU threshold 0.0 must be in \(0, 1\]"),
    ],
    ids=["n0", "n-too-big", "img0", "img-negative", "evolve", "fitness", "ratio", "iou"],
)
def test_bad_options_are_config_errors(kwargs: dict, message: str) -> None:
    ds = make_dataset(repeated(SHAPES, [3, 3, 3]))
    with pytest.raises(ConfigError, match=message):
        compute_anchors(ds, **kwargs)


def test_tiny_boxes_only_and_unsized_images_are_input_errors() -> None:
    with pytest.raises(InvalidInputError, match="all 2 boxes are under 2 px at image size 640"):
        compute_anchors(make_dataset([(1.0, 1.0), (1.5, 1.5)]), n=1)
    with pytest.raises(InvalidInputError, match=r"image id 1 \(a.jpg\) has size 0x480"):
        compute_anchors(make_dataset([(10.0, 10.0)], image_size=(0, 480)), n=1)


def test_bad_current_anchors_are_refused() -> None:
    ds = make_dataset(repeated(SHAPES, [3, 3, 3]))
    with pytest.raises(InvalidInputError, match=r"current anchors: expected shape \(K, 2\)"):
        compute_anchors(ds, n=3, current=[1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError, match="positive finite"):
        compute_anchors(ds, n=3, current=[[10.0, 0.0]])


# --------------------------------------------------------------------------- text


@pytest.mark.parametrize(
    "text",
    [
        "10,13, 16,30, 33,23",
        "10,13,  16,30,  33,23",
        "[[10,13, 16,30, 33,23]]",
        "10 13 16 30 33 23",
        "10,13; 16,30; 33,23",
    ],
)
def test_parse_anchors_reads_darknet_and_yolov5_forms(text: str) -> None:
    assert parse_anchors(text).tolist() == [[10, 13], [16, 30], [33, 23]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "hold no numbers"),
        (" , [] ", "hold no numbers"),
        ("10,13, 16", "hold 3 numbers; anchors are width,height pairs"),
        ("10,13, a,30", "'a' in anchors '10,13, a,30' is not a number"),
        ("10,-13", "'-13' in anchors '10,-13' is not a positive number"),
        ("10,0", "'0' in anchors '10,0' is not a positive number"),
        ("10,nan", "'nan' in anchors '10,nan' is not a positive number"),
    ],
)
def test_parse_anchors_names_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_anchors(text)


def test_format_round_trips_and_levels_follow_yolov5() -> None:
    anchors = parse_anchors(YOLO_DEFAULT)
    assert np.array_equal(parse_anchors(format_anchors(anchors)), anchors)
    assert format_anchor_levels(anchors) == (
        "- [10,13, 16,30, 33,23]  # P3/8",
        "- [30,61, 62,45, 59,119]  # P4/16",
        "- [116,90, 156,198, 373,326]  # P5/32",
    )
    assert format_anchors([[10.5, 13.0]]) == "10.5,13"
    with pytest.raises(ConfigError, match="4 anchors do not split into levels of 3"):
        format_anchor_levels(anchors[:4])


# --------------------------------------------------------------------------- anchor ratios


@pytest.mark.parametrize(
    ("aspect", "ratio"), [(1.0, 1.0), (4.0, 1.0), (0.25, 1.0), (3.0, 0.5), (0.2, 5.0), (1.3, 0.9)]
)
def test_shape_iou_bound_matches_a_sweep_over_anchor_sizes(aspect: float, ratio: float) -> None:
    assert float(shape_iou_bound(aspect, ratio)) == pytest.approx(
        brute_shape_iou(aspect, ratio), abs=1e-6
    )


def test_ratio_fitness_matches_a_loop() -> None:
    rng = np.random.default_rng(8)
    aspect = np.exp(rng.normal(0.0, 0.8, size=400))
    ratios = (0.2, 0.5, 1.0, 2.0, 5.0)
    best = [max(brute_shape_iou(a, r) for r in ratios) for a in aspect[:10]]
    fit = ratio_fitness(aspect[:10], ratios, iou_threshold=0.7)
    assert fit.mean_best_iou == pytest.approx(float(np.mean(best)), abs=1e-6)
    assert fit.coverage == float(np.mean(np.array(best) >= 0.7))
    bounds = np.array([[float(shape_iou_bound(a, r)) for r in ratios] for a in aspect])
    full = ratio_fitness(aspect, ratios, iou_threshold=0.6)
    assert full.mean_best_iou == pytest.approx(bounds.max(1).mean(), abs=1e-12)
    assert full.coverage == float((bounds.max(1) >= 0.6).mean())


@pytest.mark.parametrize(
    ("ratios", "counts"),
    [((0.5, 1.0, 2.0), (10, 70, 20)), ((0.2, 1.0, 5.0), (5, 90, 5)), ((0.33, 0.75), (40, 1))],
    ids=["mmdet-default", "underwater-extremes", "two"],
)
def test_exact_aspect_ratios_come_back(ratios: tuple[float, ...], counts: tuple[int, ...]) -> None:
    sizes = [(20.0, 20.0 * r) for r, c in zip(ratios, counts, strict=True) for _ in range(c)]
    suggestion = suggest_anchor_ratios(make_dataset(sizes), len(ratios))
    assert suggestion.ratios == ratios
    assert (suggestion.suggested.coverage, suggestion.suggested.mean_best_iou) == (1.0, 1.0)


def test_ratios_are_height_over_width() -> None:
    tall = make_dataset([(10.0, 20.0)] * 3)  # h / w = 2: mmdetection's ratio 2.0
    suggestion = suggest_anchor_ratios(tall, 1)
    assert suggestion.ratios == (2.0,)
    assert dict(suggestion.aspect_quantiles)[0.5] == 2.0


def test_a_rare_tall_class_gets_a_ratio_before_the_crowded_middle_gets_another() -> None:
    rng = np.random.default_rng(9)
    middle = np.exp(rng.normal(0.0, 0.12, size=970))
    sizes = [(20.0, 20.0 * r) for r in middle] + [(10.0, 30.0)] * 30  # 3 % at h / w = 3
    suggestion = suggest_anchor_ratios(make_dataset(sizes), 2, current=None)
    assert suggestion.suggested.coverage == 1.0
    assert max(suggestion.ratios) == pytest.approx(3.0, rel=0.25)
    assert suggestion.current is None


def test_suggested_ratios_cover_the_synthetic_set_at_least_as_well_as_the_defaults() -> None:
    ds = make_sequential_dataset(seed=3)
    suggestion = suggest_anchor_ratios(ds, 3)
    assert suggestion.current is not None
    assert suggestion.current.ratios == (0.5, 1.0, 2.0)
    assert suggestion.suggested.coverage >= suggestion.current.coverage
    assert suggestion.ratios == tuple(sorted(suggestion.ratios))
    boxes = ds.annotations.boxes[~ds.annotations.iscrowd]
    expected = np.quantile(boxes[:, 3] / boxes[:, 2], ASPECT_QUANTILES)
    assert [v for _, v in suggestion.aspect_quantiles] == pytest.approx(expected.tolist())
    assert suggestion.num_boxes == boxes.shape[0]


def test_ratio_errors() -> None:
    ds = make_dataset([(10.0, 20.0), (20.0, 10.0)])
    with pytest.raises(ConfigError, match="number of ratios 0 must be at least 1"):
        suggest_anchor_ratios(ds, 0)
    with pytest.raises(ConfigError, match="cannot suggest 3 ratios from 2 distinct"):
        suggest_anchor_ratios(ds, 3)
    with pytest.raises(ConfigError, match=r"IoU threshold 1.5 must be in \(0, 1\]"):
        suggest_anchor_ratios(ds, 2, iou_threshold=1.5)
    with pytest.raises(ConfigError, match="must be positive numbers"):
        suggest_anchor_ratios(ds, 2, current=(0.5, -1.0))
    with pytest.raises(InvalidInputError, match="no boxes"):
        suggest_anchor_ratios(make_dataset([]), 1)


def test_parse_anchor_ratios_reads_the_config_form() -> None:
    assert parse_anchor_ratios("[0.2, 0.5, 1.0, 2.0, 5.0]") == (0.2, 0.5, 1.0, 2.0, 5.0)
    assert parse_anchor_ratios("0.5 1 2") == (0.5, 1.0, 2.0)
    with pytest.raises(ConfigError, match="'x' in anchor ratios"):
        parse_anchor_ratios("0.5, x")
