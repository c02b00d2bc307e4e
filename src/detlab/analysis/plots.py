"""Plots of a dataset's labels: the views detection people know from Ultralytics' ``labels.jpg``.

:func:`write_label_plots` writes one PNG per view:

- ``classes.png``: boxes per class, the count on each bar;
- ``box_centres.png``: where box centres fall, relative to the image (0..1, y down as in images);
- ``box_sizes.png``: box width against height, relative to the image;
- ``aspect_ratios.png``: width / height on a log axis, with the square (1) and the median marked;
- ``image_sizes.png``: image width against height, one point per distinct size, sized by count.

The box views draw the *measured* boxes (:func:`detlab.data.stats.select_measured`: finite,
positive width and height, not crowd), the ones the size statistics describe. Drawing uses
Matplotlib's object-oriented API on an Agg canvas: no pyplot, no global backend switch, no
display needed. Matplotlib is the optional extra ``plots``, imported on the first call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from detlab._deps import import_optional
from detlab.core.boxes import FloatArray
from detlab.core.dataset import Dataset
from detlab.core.ids import IntArray
from detlab.data.stats import select_measured

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PLOT_FILES", "write_label_plots"]

#: The files :func:`write_label_plots` writes, in order.
PLOT_FILES = (
    "classes.png",
    "box_centres.png",
    "box_sizes.png",
    "aspect_ratios.png",
    "image_sizes.png",
)

_DPI = 120
_BINS = 50
_DENSITY_CMAP = "Blues"
_BAR_COLOR = "#4C72B0"
_WIDE_RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)
_NARROW_RATIO_TICKS = (0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2, 3, 4)
#: Image sizes labelled with their count in the scatter.
_LABELLED_SIZES = 10


@dataclass(frozen=True)
class _Labels:
    """What the views draw, as arrays. Box columns hold the measured boxes only."""

    title: str
    class_names: tuple[str, ...]
    class_counts: IntArray
    centre_x: FloatArray
    centre_y: FloatArray
    width: FloatArray
    height: FloatArray
    aspect_ratio: FloatArray
    image_sizes: IntArray  # (S, 2) distinct width, height
    image_size_counts: IntArray  # (S,)

    @classmethod
    def of(cls, ds: Dataset) -> _Labels:
        measured = select_measured(ds)
        boxes = ds.annotations.boxes[measured]
        image = ds.annotations.image_index[measured]
        image_w = ds.images.widths[image].astype(np.float64)
        image_h = ds.images.heights[image].astype(np.float64)
        sizes, counts = np.unique(
            np.stack([ds.images.widths, ds.images.heights], axis=1), axis=0, return_counts=True
        )
        return cls(
            title=Path(ds.source).name if ds.source else "dataset",
            class_names=ds.category_names,
            class_counts=ds.counts_per_category(),
            centre_x=(boxes[:, 0] + boxes[:, 2] / 2) / image_w,
            centre_y=(boxes[:, 1] + boxes[:, 3] / 2) / image_h,
            width=boxes[:, 2] / image_w,
            height=boxes[:, 3] / image_h,
            aspect_ratio=boxes[:, 2] / boxes[:, 3],
            image_sizes=sizes.reshape(-1, 2),
            image_size_counts=counts,
        )


def write_label_plots(ds: Dataset, out_dir: str | Path) -> list[Path]:
    """Write the five PNGs of :data:`PLOT_FILES` into ``out_dir`` (created if missing).

    Every file is written even when there is nothing to draw (it then says so), so a report
    can link them unconditionally. Raises :class:`~detlab.errors.MissingDependencyError`
    without Matplotlib.
    """
    new_figure = _figure_factory()
    labels = _Labels.of(ds)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (size, draw) in zip(PLOT_FILES, _views(labels), strict=True):
        figure = new_figure(size)
        draw(figure, labels)
        path = out / name
        figure.savefig(path, dpi=_DPI)
        written.append(path)
    return written


def _figure_factory() -> Callable[[tuple[float, float]], Figure]:
    purpose = "to draw dataset plots"
    figure_module = import_optional("matplotlib.figure", extra="plots", purpose=purpose)
    agg = import_optional("matplotlib.backends.backend_agg", extra="plots", purpose=purpose)

    def new_figure(size: tuple[float, float]) -> Figure:
        figure: Figure = figure_module.Figure(figsize=size, layout="constrained")
        agg.FigureCanvasAgg(figure)  # attaches itself to the figure
        return figure

    return new_figure


_View = tuple[tuple[float, float], Callable[["Figure", _Labels], None]]


def _views(labels: _Labels) -> list[_View]:
    class_width = float(np.clip(0.3 * len(labels.class_names) + 2.5, 6.0, 30.0))
    return [
        ((class_width, 4.5), _draw_classes),
        ((6.0, 5.5), _draw_centres),
        ((6.0, 5.5), _draw_sizes),
        ((7.0, 4.5), _draw_aspect_ratios),
        ((6.5, 5.5), _draw_image_sizes),
    ]


def _nothing(ax: Axes, what: str) -> None:
    ax.text(0.5, 0.5, f"no {what}", ha="center", va="center", transform=ax.transAxes)


# --------------------------------------------------------------------------- views


def _draw_classes(figure: Figure, labels: _Labels) -> None:
    ax = figure.subplots()
    total = int(labels.class_counts.sum())
    ax.set_title(f"{labels.title}: boxes per class ({total:,} boxes)")
    ax.set_ylabel("boxes")
    if not labels.class_names:
        _nothing(ax, "classes")
        return
    positions = np.arange(len(labels.class_names))
    bars = ax.bar(positions, labels.class_counts, color=_BAR_COLOR)
    many = len(labels.class_names) > 20
    ax.set_xticks(positions, labels.class_names, rotation=90 if many else 30, ha="center")
    if not many:
        ax.tick_params(axis="x", labelrotation=30)
        for tick in ax.get_xticklabels():
            tick.set_horizontalalignment("right")
    if len(labels.class_names) <= 60:
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=8 if many else 9, padding=2)
    ax.set_xlim(-0.6, len(positions) - 0.4)
    ax.margins(y=0.1)


def _density(figure: Figure, x: FloatArray, y: FloatArray, *, invert_y: bool) -> Axes:
    ax = figure.subplots()
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0) if invert_y else ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    if x.size == 0:
        _nothing(ax, "boxes")
        return ax
    bins = np.linspace(0, 1, _BINS + 1)
    counts, _, _ = np.histogram2d(np.clip(x, 0, 1), np.clip(y, 0, 1), bins=(bins, bins))
    shown = np.ma.masked_equal(counts.T, 0)
    mesh = ax.pcolormesh(bins, bins, shown, cmap=_DENSITY_CMAP, norm="log")
    figure.colorbar(mesh, ax=ax, label="boxes per cell", shrink=0.85)
    return ax


def _draw_centres(figure: Figure, labels: _Labels) -> None:
    ax = _density(figure, labels.centre_x, labels.centre_y, invert_y=True)
    ax.set_title(f"{labels.title}: box centres ({labels.centre_x.size:,} boxes)")
    ax.set_xlabel("centre x / image width")
    ax.set_ylabel("centre y / image height")


def _draw_sizes(figure: Figure, labels: _Labels) -> None:
    ax = _density(figure, labels.width, labels.height, invert_y=False)
    ax.set_title(f"{labels.title}: box sizes ({labels.width.size:,} boxes)")
    ax.set_xlabel("box width / image width")
    ax.set_ylabel("box height / image height")


def _draw_aspect_ratios(figure: Figure, labels: _Labels) -> None:
    ax = figure.subplots()
    ratios = labels.aspect_ratio
    ax.set_title(f"{labels.title}: aspect ratio, width / height ({ratios.size:,} boxes)")
    ax.set_xlabel("width / height (log scale)")
    ax.set_ylabel("boxes")
    ax.set_xscale("log")
    if ratios.size == 0:
        _nothing(ax, "boxes")
        return
    low, high = float(ratios.min()), float(ratios.max())
    if high / low < 1.1:
        low, high = low / 1.1, high * 1.1
    ax.hist(ratios, bins=np.geomspace(low, high, 61).tolist(), color=_BAR_COLOR)
    median = float(np.median(ratios))
    ax.axvline(1.0, color="0.4", linestyle="--", linewidth=1, label="square (1)")
    ax.axvline(median, color="#C44E52", linewidth=1.5, label=f"median {median:.2f}")
    candidates = _WIDE_RATIO_TICKS if high / low > 8 else _NARROW_RATIO_TICKS
    ticks = [t for t in candidates if low <= t <= high]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.tick_params(axis="x", which="minor", labelbottom=False)
    ax.legend(frameon=False)


def _draw_image_sizes(figure: Figure, labels: _Labels) -> None:
    ax = figure.subplots()
    sizes, counts = labels.image_sizes, labels.image_size_counts
    total = int(counts.sum())
    ax.set_title(f"{labels.title}: image sizes ({total:,} images, {counts.size:,} distinct)")
    ax.set_xlabel("width (px)")
    ax.set_ylabel("height (px)")
    if counts.size == 0:
        _nothing(ax, "images")
        return
    area = 15 + 285 * np.sqrt(counts / counts.max())
    ax.scatter(sizes[:, 0], sizes[:, 1], s=area, color=_BAR_COLOR, alpha=0.6, edgecolors="none")
    for i in np.argsort(-counts, kind="stable")[:_LABELLED_SIZES]:
        ax.annotate(
            f"{sizes[i, 0]}x{sizes[i, 1]}: {counts[i]:,}",
            (float(sizes[i, 0]), float(sizes[i, 1])),
            textcoords="offset points",
            xytext=(6, 4),
            fontsize=8,
        )
    ax.set_xlim(0, sizes[:, 0].max() * 1.35)  # room for the labels
    ax.set_ylim(0, sizes[:, 1].max() * 1.15)
    ax.grid(True, alpha=0.3)
