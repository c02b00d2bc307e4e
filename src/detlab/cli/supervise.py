"""``detlab run ... -- COMMAND``: a training command under supervision (``detlab.supervise``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from detlab.cli.options import STORE_OPTION
from detlab.errors import ConfigError

if TYPE_CHECKING:
    from detlab.supervise import SupervisedResult

__all__ = ["parse_duration", "register", "run_command"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([hms])")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds from ``3600``, ``90m``, ``11h30m`` or ``45s``.

    >>> parse_duration("11h30m"), parse_duration("90")
    (41400.0, 90.0)
    """
    raw = text.strip().lower()
    try:
        return float(raw)
    except ValueError:
        pass
    parts = _DURATION.findall(raw)
    if not parts or "".join(n + u for n, u in parts) != raw:
        raise ConfigError(f"--time-limit {text!r}: use seconds or a duration like 90m or 11h30m")
    return sum(float(n) * _UNIT_S[u] for n, u in parts)


def _seeds(text: str | None) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: give whole numbers separated by commas") from None


def run_command(
    command: list[str] = typer.Argument(
        None, metavar="-- COMMAND...", help="The training command, after --."
    ),
    project: str | None = typer.Option(
        None, "--project", "-p", help="Project (default: DETLAB_PROJECT, else 'default')."
    ),
    name: str | None = typer.Option(None, "--name", "-n", help="Run name (default: generated)."),
    max_restarts: int = typer.Option(5, "--max-restarts", help="Give up after N restarts."),
    checkpoints: str | None = typer.Option(
        None, "--checkpoints", help="Glob of checkpoints, e.g. 'work_dir/epoch_*.pth'."
    ),
    resume_arg: str = typer.Option(
        "--resume {checkpoint}", "--resume-arg", help="Arguments added to resume ('' for none)."
    ),
    seed_arg: str = typer.Option(
        "--seed {seed}", "--seed-arg", help="Arguments giving the new seed ('' for none)."
    ),
    seeds: str | None = typer.Option(
        None, "--seeds", help="Seeds of the restarts in order, e.g. 28,31,29 (then random)."
    ),
    on_nan: str = typer.Option("restart", "--on-nan", help="restart, or stop (early stop)."),
    time_limit: str | None = typer.Option(
        None, "--time-limit", help="Stop and restart each attempt after this long (90m, 12h)."
    ),
    log_file: Path | None = typer.Option(
        None, "--log-file", help="Output log (default: .detlab/logs/PROJECT/NAME.log)."
    ),
    store_url: str | None = STORE_OPTION,
) -> None:
    """Run a training command; restart it from its newest checkpoint on failure, recording why."""
    from detlab.supervise import supervise  # noqa: PLC0415

    result = supervise(
        command or [],
        project=project,
        name=name,
        store=store_url,
        max_restarts=max_restarts,
        checkpoints=checkpoints,
        resume_arg=resume_arg,
        seed_arg=seed_arg,
        seeds=_seeds(seeds),
        on_nan=on_nan,
        time_limit=parse_duration(time_limit) if time_limit else None,
        log_file=log_file,
    )
    _print_summary(result)
    if result.exit_code:
        sys.exit(result.exit_code)


def _print_summary(result: SupervisedResult) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    console = Console(stderr=True)
    if result.restarts:
        table = Table(title=f"Restarts of {result.project}/{result.name}")
        for column in ("epoch", "loaded epoch", "seed", "reason", "detail"):
            table.add_column(column)
        for r in result.restarts:
            first = r.detail.splitlines()[0] if r.detail else ""
            table.add_row(*(_cell(v) for v in (r.epoch, r.loaded_epoch, r.seed)), r.reason, first)
        console.print(table)
    why = f" ({result.reason}: {result.detail.splitlines()[0]})" if result.reason else ""
    console.print(
        f"run {result.project}/{result.name}: {result.status} after {result.attempts} "
        f"attempt(s){why if result.status != 'finished' else ''}; log {result.log_file}"
    )


def _cell(value: int | None) -> str:
    return "—" if value is None else str(value)


def register(app: typer.Typer) -> None:
    app.command("run", context_settings={"allow_interspersed_args": False})(run_command)
