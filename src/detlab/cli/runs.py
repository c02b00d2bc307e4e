"""``detlab runs``: list, show, diff, compare, tag and delete the runs in the store.

Every command takes ``--store`` and ``--project`` (see :mod:`detlab.cli.options`) and
``--json`` for scripts. Differences between metric values are in percentage points.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import orjson
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from detlab.cli.options import (
    ABSENT,
    JSON_OPTION,
    MODE_OPTION,
    PROJECT_OPTION,
    STORE_OPTION,
    check_mode,
    format_number,
    format_time,
    format_value,
    opened_project,
    print_json,
)
from detlab.cli.run_show import details_json, duration, load_details, record_json, render
from detlab.cli.run_show import status_text as _status_text
from detlab.core.runs import MISSING, RUN_STATUSES, BestValue, RunRecord, percentage_points
from detlab.errors import NotFoundError

if TYPE_CHECKING:
    from detlab.store.sql.store import SQLStore

__all__ = ["app", "register"]

console = Console(highlight=False, markup=False)

app = typer.Typer(
    name="runs",
    help="List, inspect, compare, tag and delete recorded runs.",
    no_args_is_help=True,
)

_WHERE = re.compile(r"^\s*(?P<key>.+?)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<value>\S+)\s*$")


# ---------------------------------------------------------------------- option values


def parse_value(text: str) -> Any:
    """A value from the command line: JSON when it parses (``0.01``, ``true``), else the text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _parse_params(items: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--param")
        out[key.strip()] = parse_value(value)
    return out


def _parse_where(items: Sequence[str]) -> list[dict[str, tuple[str, float]]]:
    """Conditions grouped so that no group holds a key twice (the store takes one per key)."""
    groups: list[dict[str, tuple[str, float]]] = []
    for item in items:
        found = _WHERE.match(item)
        if found is None:
            raise typer.BadParameter(
                f"{item!r} is not KEY OP NUMBER (OP one of >=, <=, ==, !=, >, <)",
                param_hint="--where",
            )
        try:
            threshold = float(found["value"])
        except ValueError:
            raise typer.BadParameter(
                f"{item!r}: {found['value']!r} is not a number", param_hint="--where"
            ) from None
        group = next((g for g in groups if found["key"] not in g), None)
        if group is None:
            group = {}
            groups.append(group)
        group[found["key"]] = (found["op"], threshold)
    return groups


def _check_status(status: str | None) -> None:
    if status is not None and status not in RUN_STATUSES:
        raise typer.BadParameter(
            f"{status!r} is not one of {', '.join(RUN_STATUSES)}", param_hint="--status"
        )


def _same(a: Any, b: Any) -> bool:
    return a is not MISSING and b is not MISSING and type(a) is type(b) and a == b


# ---------------------------------------------------------------------- ls


def _list_runs(
    store: SQLStore,
    project: str,
    *,
    tags: Sequence[str],
    status: str | None,
    params: Mapping[str, Any],
    where: list[dict[str, tuple[str, float]]],
    metric: str | None,
    mode: str,
) -> list[RunRecord]:
    records = store.runs(
        project,
        tags=tags,
        status=status,
        params=params,
        where=where[0] if where else None,
        metric=metric,
        mode=mode,
    )
    for group in where[1:]:
        keep = {r.name for r in store.runs(project, where=group, mode=mode)}
        records = [r for r in records if r.name in keep]
    return records


def _best_cell(best: BestValue | None) -> str:
    return ABSENT if best is None else f"{format_number(best.value)}@{best.step}"


def _print_runs(project: str, records: list[RunRecord], metric: str | None, mode: str) -> None:
    title = f"runs in {project}" + (f"; best {metric} ({mode})" if metric else "")
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    # On a narrow terminal the name and best value keep to one line; the rest wrap.
    table.add_column("name", no_wrap=True)
    widths = {"status": 8, "created": 10, "took": 4, "tags": 6, "parent": 6, "restarts": 3}
    for header, width in widths.items():
        table.add_column(header, overflow="fold", min_width=width)
    if metric:
        table.add_column(metric, justify="right", no_wrap=True)
    for r in records:
        cells: list[str | Text] = [
            Text(r.name),
            _status_text(r.status),
            format_time(r.created),
            duration(r.duration_s),
            ", ".join(r.tags),
            r.parent or "",
            str(r.segment) if r.segment else "",
        ]
        if metric:
            cells.append(_best_cell(r.best))
        table.add_row(*cells)
    table.caption = f"{len(records)} run(s)"
    console.print(table)


@app.command("ls")
def ls_command(
    tag: list[str] = typer.Option([], "--tag", "-t", help="Only runs with this tag (repeat: all)."),
    status: str | None = typer.Option(
        None, "--status", help=f"Only runs with this status ({', '.join(RUN_STATUSES)})."
    ),
    param: list[str] = typer.Option(
        [], "--param", help="Only runs with this parameter value, key=value (repeatable)."
    ),
    where: list[str] = typer.Option(
        [],
        "--where",
        help="Only runs whose best metric passes, e.g. 'val/AP50>=0.5' (repeatable; "
        "< and <= test the lowest value, other operators the highest).",
    ),
    metric: str | None = typer.Option(
        None, "--metric", "-m", help="Show each run's best value of this metric and its step."
    ),
    mode: str = MODE_OPTION,
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """List the runs of a project, oldest first."""
    check_mode(mode)
    _check_status(status)
    params, conditions = _parse_params(param), _parse_where(where)
    with opened_project(store_url, project) as (store, name):
        records = _list_runs(
            store,
            name,
            tags=tag,
            status=status,
            params=params,
            where=conditions,
            metric=metric,
            mode=mode,
        )
    if json_out:
        runs = [record_json(r) for r in records]
        print_json({"project": name, "metric": metric, "mode": mode, "runs": runs})
    else:
        _print_runs(name, records, metric, mode)


# ---------------------------------------------------------------------- show


@app.command("show")
def show_command(
    run: str = typer.Argument(..., metavar="RUN", help="The run's name."),
    mode: str = MODE_OPTION,
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """Everything recorded about one run.

    Status, times, environment, notes, params, metrics (last and best values), restarts,
    evaluations (COCO's twelve summary lines), submissions, artifacts and datasets.
    """
    check_mode(mode)
    with opened_project(store_url, project) as (store, name):
        details = load_details(store, name, run, mode)
    if json_out:
        print_json(details_json(details))
    else:
        render(console, details)


# ---------------------------------------------------------------------- diff


def _best_or_none(store: SQLStore, project: str, run: str, key: str, mode: str) -> BestValue | None:
    try:
        return store.best(project, run, key, mode)
    except NotFoundError:  # callers checked that the run exists: no finite value of key
        return None


def _points(value: BestValue | None, baseline: BestValue | None) -> float | None:
    if value is None or baseline is None:
        return None
    return percentage_points(value.value, baseline.value)


def _format_points(points: float | None) -> str:
    return ABSENT if points is None else f"{points:+.2f}"


def _best_json(best: BestValue | None) -> dict[str, Any] | None:
    return None if best is None else {"value": best.value, "step": best.step}


def _missing(names: Sequence[str], values: Sequence[Any]) -> list[str]:
    return [n for n, v in zip(names, values, strict=True) if v is MISSING]


@app.command("diff")
def diff_command(
    a: str = typer.Argument(..., metavar="A", help="The first run."),
    b: str = typer.Argument(..., metavar="B", help="The second run."),
    mode: str = MODE_OPTION,
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """Two runs: the params that differ, and best values of the metrics both logged.

    The difference of best values is B - A, in percentage points.
    """
    check_mode(mode)
    with opened_project(store_url, project) as (store, name):
        changes = store.param_diff(name, a, b)
        keys = sorted(set(store.metric_keys(name, a)) & set(store.metric_keys(name, b)))
        bests = {
            k: (_best_or_none(store, name, a, k, mode), _best_or_none(store, name, b, k, mode))
            for k in keys
        }
    if json_out:
        print_json(
            {
                "project": name,
                "a": a,
                "b": b,
                "mode": mode,
                "params": [
                    {"key": k, "a": va, "b": vb, "missing": _missing(("a", "b"), (va, vb))}
                    for k, (va, vb) in changes.items()
                ],
                "metrics": [
                    {"key": k, "a": _best_json(ba), "b": _best_json(bb), "points": _points(bb, ba)}
                    for k, (ba, bb) in bests.items()
                ],
            }
        )
        return
    _print_diff(a, b, changes, bests, mode)


def _print_diff(
    a: str,
    b: str,
    changes: Mapping[str, tuple[Any, Any]],
    bests: Mapping[str, tuple[BestValue | None, BestValue | None]],
    mode: str,
) -> None:
    if changes:
        table = Table(title=f"params: A = {a}, B = {b}", title_justify="left")
        for header in ("key", "A", "B"):
            table.add_column(header, overflow="fold")
        for key, (va, vb) in changes.items():
            table.add_row(Text(key), Text(format_value(va)), Text(format_value(vb)))
        console.print(table)
    else:
        console.print(f"{a} and {b} have the same params")
    if not bests:
        console.print(f"{a} and {b} have no metric in common")
        return
    table = Table(title=f"best values ({mode}); Δ = B - A", title_justify="left")
    for header in ("metric", "A", "B", "Δ (pp)"):
        table.add_column(header, justify="left" if header == "metric" else "right")
    for key, (ba, bb) in bests.items():
        table.add_row(Text(key), _best_cell(ba), _best_cell(bb), _format_points(_points(bb, ba)))
    console.print(table)


# ---------------------------------------------------------------------- compare


def _differing(records: Sequence[RunRecord]) -> dict[str, list[Any]]:
    keys = sorted({k for r in records for k in r.params})
    out: dict[str, list[Any]] = {}
    for key in keys:
        values = [r.params.get(key, MISSING) for r in records]
        if not all(_same(values[0], v) for v in values[1:]):
            out[key] = values
    return out


@app.command("compare")
def compare_command(
    runs: list[str] = typer.Argument(
        ..., metavar="RUN", help="Two or more runs; the first is the reference."
    ),
    metric: str = typer.Option(..., "--metric", "-m", help="The metric to compare, e.g. val/AP50."),
    mode: str = MODE_OPTION,
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """Runs side by side on one metric, and the params that are not the same in all of them.

    For each run: the best value and its step, and the difference from the first run's in
    percentage points.
    """
    check_mode(mode)
    if len(runs) < 2:
        raise typer.BadParameter("give at least two runs", param_hint="RUN")
    if len(set(runs)) < len(runs):
        raise typer.BadParameter("a run is named twice", param_hint="RUN")
    with opened_project(store_url, project) as (store, name):
        records = [store.run(name, run) for run in runs]
        bests = [_best_or_none(store, name, run, metric, mode) for run in runs]
    differing = _differing(records)
    points = [_points(best, bests[0]) for best in bests]
    if json_out:
        results = [
            {"name": run, "best": _best_json(best), "points": p}
            for run, best, p in zip(runs, bests, points, strict=True)
        ]
        params = [
            {"key": k, "values": dict(zip(runs, v, strict=True)), "missing": _missing(runs, v)}
            for k, v in differing.items()
        ]
        print_json(
            {"project": name, "metric": metric, "mode": mode, "runs": results, "params": params}
        )
        return
    table = Table(title=f"{metric} ({mode}); Δ against {runs[0]}", title_justify="left")
    table.add_column("", style="bold")
    for run in runs:
        table.add_column(Text(run), justify="right", overflow="fold")
    table.add_row("best", *(ABSENT if b is None else format_number(b.value) for b in bests))
    table.add_row("step", *(ABSENT if b is None else str(b.step) for b in bests))
    table.add_row("Δ (pp)", "ref", *(_format_points(p) for p in points[1:]))
    if differing:
        table.add_section()
        for key, values in differing.items():
            table.add_row(Text(key), *(Text(format_value(v)) for v in values))
    table.caption = f"{len(differing)} param(s) differ"
    console.print(table)


# ---------------------------------------------------------------------- tag, rm


@app.command("tag")
def tag_command(
    run: str = typer.Argument(..., metavar="RUN", help="The run's name."),
    tags: list[str] = typer.Argument(..., metavar="TAG", help="Tags to add (or remove)."),
    remove: bool = typer.Option(False, "--remove", help="Remove the tags instead of adding them."),
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """Add tags to a run, or remove them with --remove."""
    with opened_project(store_url, project) as (store, name):
        store.set_tags(name, run, tags, remove=remove)
        now = store.run(name, run).tags
    if json_out:
        print_json({"project": name, "run": run, "tags": list(now)})
    else:
        console.print(f"{run}: tags {', '.join(now) if now else '(none)'}")


def _confirm_delete(project: str, runs: Sequence[str]) -> None:
    listed = ", ".join(runs)
    if not sys.stdin.isatty():
        typer.echo(
            f"detlab: error: not deleting {listed} from {project}: there is no terminal to "
            "confirm on; pass --yes to delete without asking",
            err=True,
        )
        raise typer.Exit(1)
    question = f"Delete {len(runs)} run(s) from {project} ({listed}) and all they recorded?"
    if not typer.confirm(question, err=True):
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(1)


@app.command("rm")
def rm_command(
    runs: list[str] = typer.Argument(..., metavar="RUN", help="The runs to delete."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Delete without asking."),
    json_out: bool = JSON_OPTION,
    store_url: str | None = STORE_OPTION,
    project: str | None = PROJECT_OPTION,
) -> None:
    """Delete runs and everything recorded for them (asks first unless --yes)."""
    unique = list(dict.fromkeys(runs))
    with opened_project(store_url, project) as (store, name):
        for run in unique:  # all of them must exist before any is deleted
            store.run(name, run)
        if not yes:
            _confirm_delete(name, unique)
        for run in unique:
            store.delete_run(name, run)
    if json_out:
        print_json({"project": name, "deleted": unique})
    else:
        for run in unique:
            console.print(f"deleted {run}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="runs")
