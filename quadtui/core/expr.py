"""A safe evaluator for target functions such as ``x**2`` or ``sin(x)*x``.

The text is parsed with :mod:`ast` and checked against a whitelist; nothing is
ever passed to ``eval`` or ``exec``.  The checked tree is turned into a small
closure over numpy, evaluated in float64 on whole arrays.

Hostile text is refused cheaply and in a fixed order, so nothing can make the
check slow or crash it: the length first (so ``(((...)))`` ten thousand levels
deep never reaches the parser), then the characters (ASCII letters, digits,
spaces and ``+ - * / ^ ( ) . _``), then the parse, then the size of the tree,
then each node against the whitelist.  Numbers become float64 before any
arithmetic, so ``9**9**9`` or ``10**400`` is ``inf``, never a giant Python int.
"""

from __future__ import annotations

import ast
import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MAX_LENGTH = 200
MAX_NODES = 120

FUNCTIONS: dict[str, np.ufunc] = {
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
# ufuncs, not operators: a constant part such as pi**e then gives exactly the bits the same
# operation gives element-wise on an array (numpy's scalar ** may differ in the last bit).
_BINARY: dict[type[ast.operator], np.ufunc] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.divide,
    ast.Pow: np.power,
}
_UNARY: dict[type[ast.unaryop], np.ufunc] = {ast.USub: np.negative, ast.UAdd: np.positive}
_CHARACTERS = frozenset(string.ascii_letters + string.digits + " +-*/^().")  # "_" as in 1_000 and names

#: What a target may contain, short enough to sit in a one-line error message.
ALLOWED_TEXT = f"a formula in x with numbers, + - * / ^ ( ), {' '.join(FUNCTIONS)}, pi, e"

#: Named targets offered in the form; each maps to an expression.
PRESETS: dict[str, str] = {
    "x**2": "x**2",
    "abs(x)": "abs(x)",
    "x**3": "x**3",
    "sin(x)": "sin(x)",
    "step": "(sign(x)+1)/2",
}

#: Friendly names for the syntax people try most often.
_SYNTAX_NAMES = {
    ast.Attribute: "attribute access (.)",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.Lambda: "lambda",
    ast.Subscript: "indexing",
    ast.NamedExpr: ":=",
    ast.Tuple: "commas",
    ast.UnaryOp: "'not'",
}


class ExpressionError(ValueError):
    """The text is not an allowed target expression.  The message is a short reason."""


#: a compiled part of a formula: an array of x in, an array (or, for a constant part, a scalar) out
Evaluator = Callable[[np.ndarray], "np.ndarray | np.float64"]


@dataclass(frozen=True)
class Expression:
    text: str
    _fn: Evaluator = field(repr=False, compare=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The function on ``x`` in float64; NaN/inf where it is undefined (never raises)."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = self._fn(x)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), x.shape).copy()


def normalize(text: str) -> str:
    """Map a preset name to its expression and ``^`` to ``**``."""
    text = text.strip()
    return PRESETS.get(text, text).replace("^", "**")


def _snippet(text: str, limit: int = 12) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def parse(text: str) -> Expression:
    """Parse ``text`` into an :class:`Expression` or raise :class:`ExpressionError`."""
    if not isinstance(text, str):
        raise ExpressionError("must be text")
    if len(text) > 4 * MAX_LENGTH:  # do not even strip a megabyte of text
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    source = normalize(text)
    if not source:
        raise ExpressionError("empty")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters")
    bad = next((c for c in source if c not in _CHARACTERS and c != "_"), None)
    if bad is not None:
        raise ExpressionError(f"{bad!r} is not allowed" if bad.isprintable() else f"control character {bad!r}")
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ExpressionError("not a valid formula; check the brackets") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise ExpressionError(f"more than {MAX_NODES} parts")
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
        number = _number(node.value)
        return lambda x: number
    if isinstance(node, ast.Name):
        if node.id == "x":
            return lambda x: x
        if node.id in CONSTANTS:
            constant = np.float64(CONSTANTS[node.id])
            return lambda x: constant
        if node.id in FUNCTIONS:
            raise ExpressionError(f"{node.id} needs brackets: {node.id}(x)")
        raise ExpressionError(f"unknown name {_snippet(node.id)}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExpressionError("only abs, sin, ... may be called")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {_snippet(name)}")
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ExpressionError(f"{name}() takes one argument")
        fn, arg = FUNCTIONS[name], _compile(node.args[0])
        return lambda x: fn(arg(x))
    if isinstance(node, ast.BinOp):
        return _refuse_operator(node)
    name = _SYNTAX_NAMES.get(type(node), type(node).__name__.lower())
    raise ExpressionError(f"{name} not allowed")


def _number(value: object) -> np.float64:
    """A literal as float64: huge integers become inf, never a giant Python int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"{_snippet(repr(value))} is not a real number")
    if isinstance(value, int) and value.bit_length() > 1024:
        return np.float64(np.inf)
    return np.float64(float(value))


def _refuse_operator(node: ast.BinOp) -> Evaluator:
    symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@"}.get(type(node.op), "this operator")
    raise ExpressionError(f"{symbol} not allowed")
