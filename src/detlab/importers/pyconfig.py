"""Reading an mmdetection / mmengine Python config **without executing it**.

The file is parsed with :mod:`ast` and only literal structure is evaluated: numbers, strings,
lists, tuples, dicts, ``dict(...)`` calls (with ``**other`` spreads), names assigned earlier in
the file, unary minus, arithmetic on numbers and ``+`` on strings, lists and tuples. Anything
else (a function call, an attribute, a comprehension) is kept as its source text, so nothing
the file says is lost and nothing in it runs. ``_base_`` files are not followed; they are listed in
:attr:`PythonConfig.bases`.

>>> text = "_base_ = ['../a.py']\\nlr = 0.02\\noptimizer = dict(type='SGD', lr=lr)"
>>> cfg = read_python_config(text)
>>> cfg.values["optimizer"], cfg.bases
({'type': 'SGD', 'lr': 0.02}, ['../a.py'])
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from detlab.errors import Problem

__all__ = ["PythonConfig", "read_python_config"]

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Pow: operator.pow,
}


@dataclass
class PythonConfig:
    """What a config file assigns at top level, and the ``_base_`` files it inherits."""

    values: dict[str, Any] = field(default_factory=dict)
    bases: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _UnsupportedError(Exception):
    """An expression that is not literal structure: kept as source text by the caller."""


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.names: dict[str, Any] = {}

    def value(self, node: ast.expr) -> Any:
        """The node's value, or its source text when it is not literal structure."""
        try:
            return self.literal(node)
        except _UnsupportedError:
            return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def literal(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.value(e) for e in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Dict):
            return self.mapping(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.literal(node.operand)
            if isinstance(operand, (int, float)):
                return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self.binary(node)
        raise _UnsupportedError

    def mapping(self, node: ast.Dict) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, val in zip(node.keys, node.values, strict=True):
            if key is None:  # {**other}
                spread = self.literal(val)
                if not isinstance(spread, dict):
                    raise _UnsupportedError
                out.update(spread)
            else:
                out[self.literal(key)] = self.value(val)
        return out

    def call(self, node: ast.Call) -> dict[str, Any]:
        if not (isinstance(node.func, ast.Name) and node.func.id == "dict") or node.args:
            raise _UnsupportedError
        out: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:  # dict(**other)
                spread = self.literal(keyword.value)
                if not isinstance(spread, dict):
                    raise _UnsupportedError
                out.update(spread)
            else:
                out[keyword.arg] = self.value(keyword.value)
        return out

    def binary(self, node: ast.BinOp) -> Any:
        left, right = self.literal(node.left), self.literal(node.right)
        numbers = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right)
        )
        same = type(left) is type(right) and isinstance(left, (list, tuple, str))
        if not (numbers or (same and isinstance(node.op, ast.Add))):
            raise _UnsupportedError
        try:
            return _BINARY[type(node.op)](left, right)
        except (ArithmeticError, ValueError) as exc:
            raise _UnsupportedError from exc


def read_python_config(text: str, filename: str = "<config>") -> PythonConfig:
    """The top-level assignments of a config file, evaluated as literal structure only.

    A file that is not valid Python gives an empty config and one warning naming the line.
    """
    config = PythonConfig()
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else ""
        message = f"not valid Python ({exc.msg}); config not read"
        config.problems.append(Problem("warning", filename, where, "", message))
        return config
    reader = _Reader(text)
    for statement in tree.body:
        _assign(reader, statement, config)
    config.values = dict(reader.names)
    base = config.values.get("_base_")
    listed = [base] if isinstance(base, str) else [str(b) for b in base or ()]
    config.bases = listed + config.bases
    return config


def _assign(reader: _Reader, statement: ast.stmt, config: PythonConfig) -> None:
    if isinstance(statement, ast.Assign):
        value = reader.value(statement.value)
        for target in statement.targets:
            if isinstance(target, ast.Name):
                reader.names[target.id] = value
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        if isinstance(statement.target, ast.Name):
            reader.names[statement.target.id] = reader.value(statement.value)
    elif isinstance(statement, ast.With):  # mmengine's ``with read_base(): from ... import *``
        for inner in statement.body:
            if isinstance(inner, ast.ImportFrom) and inner.module:
                config.bases.append(inner.module)
