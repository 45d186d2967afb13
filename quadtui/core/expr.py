"""A safe evaluator for target functions such as ``x**2`` or ``sin(x)*x``.

The text is parsed with :mod:`ast` and checked against a whitelist; nothing is
ever passed to ``eval`` or ``exec``.  The checked tree is turned into a small
closure over numpy, evaluated in float64 on whole arrays.
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

MAX_LENGTH = 200
MAX_NODES = 120

FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "tanh": np.tanh,
    "sign": np.sign,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}

ALLOWED_TEXT = (
    "an expression in x using numbers, + - * / ** (or ^), parentheses, "
    f"{', '.join(FUNCTIONS)}, pi and e"
)

#: Named targets offered in the form; each maps to an expression.
PRESETS: dict[str, str] = {
    "x**2": "x**2",
    "abs(x)": "abs(x)",
    "x**3": "x**3",
    "sin(x)": "sin(x)",
    "step": "(sign(x)+1)/2",
}


class ExpressionError(ValueError):
    """The text is not an allowed target expression."""


Evaluator = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Expression:
    text: str
    _fn: Evaluator = field(repr=False, compare=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = self._fn(x)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy()


def normalize(text: str) -> str:
    """Map a preset name to its expression and ``^`` to ``**``."""
    text = text.strip()
    return PRESETS.get(text, text).replace("^", "**")


def parse(text: str) -> Expression:
    """Parse ``text`` into an :class:`Expression` or raise :class:`ExpressionError`."""
    if not isinstance(text, str):
        raise ExpressionError("must be text")
    source = normalize(text)
    if not source:
        raise ExpressionError("is empty")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError("is not a valid expression") from None
    nodes = sum(1 for _ in ast.walk(tree))
    if nodes > MAX_NODES:
        raise ExpressionError(f"has more than {MAX_NODES} parts")
    return Expression(source, _compile(tree.body))


def _compile(node: ast.AST) -> Evaluator:
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left, right = _compile(node.left), _compile(node.right)
        return lambda x: op(left(x), right(x))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        op, operand = _UNARY[type(node.op)], _compile(node.operand)
        return lambda x: op(operand(x))
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ExpressionError(f"may not contain {value!r}")
        number = np.float64(float(value)) if abs(value) < 1e308 else np.float64(np.inf)
        return lambda x: number
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x: x
        if node.id in CONSTANTS:
            number = np.float64(CONSTANTS[node.id])
            return lambda x: number
        raise ExpressionError(f"uses unknown name {node.id!r}")
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name not in FUNCTIONS:
            raise ExpressionError("may only call " + ", ".join(FUNCTIONS))
        if len(node.args) != 1 or node.keywords:
            raise ExpressionError(f"{name}() takes exactly one argument")
        fn, arg = FUNCTIONS[name], _compile(node.args[0])
        return lambda x: fn(arg(x))
    raise ExpressionError(f"may not contain {type(node).__name__.lower()} syntax")
