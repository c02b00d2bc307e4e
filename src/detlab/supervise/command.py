"""The command line of a restart: the original one with the resume and seed arguments filled in.

Templates are split like a shell would (``'--resume {checkpoint}'`` is two words). When the
original command already carries the template's option (``--seed 0``), its value is replaced
rather than given twice.

>>> restart_command(["python", "train.py", "--seed", "0"], checkpoint=Path("ck/epoch_7.pth"),
...                 seed=28, resume_arg="--resume {checkpoint}", seed_arg="--seed {seed}")
['python', 'train.py', '--resume', 'ck/epoch_7.pth', '--seed', '28']
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from detlab.errors import ConfigError

__all__ = ["check_template", "restart_command"]


def check_template(option: str, template: str | None, placeholder: str) -> None:
    """A template must name its placeholder (``{checkpoint}``, ``{seed}``) exactly once."""
    if template is None or template == "":
        return
    if template.count(placeholder) != 1:
        raise ConfigError(
            f"{option} {template!r} must contain {placeholder} once, "
            f"for example {option} '--resume {placeholder}'"
        )
    try:
        shlex.split(template)
    except ValueError as exc:
        raise ConfigError(f"{option} {template!r} cannot be split into arguments: {exc}") from exc


def restart_command(
    command: Sequence[str],
    *,
    checkpoint: Path | None,
    seed: int | None,
    resume_arg: str | None,
    seed_arg: str | None,
) -> list[str]:
    """``command`` with ``resume_arg`` (when there is a checkpoint) and ``seed_arg`` applied."""
    argv = list(command)
    if checkpoint is not None and resume_arg:
        argv = _apply(argv, resume_arg, "{checkpoint}", str(checkpoint))
    if seed is not None and seed_arg:
        argv = _apply(argv, seed_arg, "{seed}", str(seed))
    return argv


def _apply(argv: list[str], template: str, placeholder: str, value: str) -> list[str]:
    words = [word.replace(placeholder, value) for word in shlex.split(template)]
    flag = shlex.split(template)[0]
    if flag.startswith("-") and placeholder not in flag:
        argv = _without_option(argv, flag, takes_value=len(words) > 1)
    elif flag.startswith("-") and "=" in flag:
        argv = _without_option(argv, flag.split("=", 1)[0], takes_value=False)
    return [*argv, *words]


def _without_option(argv: list[str], flag: str, *, takes_value: bool) -> list[str]:
    out: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
            continue
        if word == flag:
            skip = takes_value
            continue
        if word.startswith(flag + "="):
            continue
        out.append(word)
    return out
