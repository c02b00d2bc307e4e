"""Turning what training scripts hold their configuration in into a plain dict.

Accepted: mappings, ``argparse.Namespace``, dataclass instances, and objects with ``to_dict()``
or ``dict()`` (OmegaConf-like, pydantic-like); ``None`` is no parameters.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from typing import Any

from detlab.errors import InvalidInputError

__all__ = ["params_to_dict"]


def params_to_dict(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return {str(k): _plain(v) for k, v in params.items()}
    if isinstance(params, argparse.Namespace):
        return params_to_dict(vars(params))
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return params_to_dict(dataclasses.asdict(params))
    for method in ("to_dict", "model_dump", "dict"):
        convert = getattr(params, method, None)
        if callable(convert):
            converted = convert()
            if isinstance(converted, Mapping):
                return params_to_dict(converted)
    raise InvalidInputError(
        f"params must be a dict, an argparse.Namespace or a dataclass, got {type(params).__name__}"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, argparse.Namespace) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        return params_to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
