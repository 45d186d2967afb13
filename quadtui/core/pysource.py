"""Python source for the printed script: numpy expressions, templates, lines that fit.

Kept apart from :mod:`quadtui.core.codegen` (what the script says) because these are
about how code is written down: a checked target expression as numpy code, a
template with blocks put in at their indentation, and long lines broken where a
reader would break them (the script's lines stay within :data:`WIDTH` characters).
"""

from __future__ import annotations

import ast
import io
import shlex
import tokenize
from textwrap import dedent, indent
from typing import cast

from quadtui.core import expr

#: the longest line the script has
WIDTH = 100
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}
_UNARY_PRECEDENCE = 3


def numpy_expression(text: str) -> str:
    """The target expression as numpy code: ``sin(x)*x`` -> ``np.sin(x) * x``.

    Only the whitelisted syntax of :mod:`quadtui.core.expr` is accepted (the text
    is checked by :func:`expr.parse` first), so the result is safe to paste.
    """
    source = expr.parse(text).text
    return _np(ast.parse(source, mode="eval").body)[0]


def _np(node: ast.AST) -> tuple[str, int]:
    """(code, precedence) of one checked expression node."""
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        prec = _PRECEDENCE[op]
        left, lp = _np(node.left)
        right, rp = _np(node.right)
        right_assoc = op is ast.Pow
        if lp < prec or (right_assoc and lp == prec):
            left = f"({left})"
        if rp < prec or (not right_assoc and rp == prec):
            right = f"({right})"
        return f"{left} {_OPS[op]} {right}" if prec < 4 else f"{left}**{right}", prec
    if isinstance(node, ast.UnaryOp):
        operand, p = _np(node.operand)
        if p < _UNARY_PRECEDENCE:
            operand = f"({operand})"
        return ("-" if isinstance(node.op, ast.USub) else "+") + operand, _UNARY_PRECEDENCE
    if isinstance(node, ast.Constant):
        value = float(cast("int | float", node.value))  # expr.parse lets only real numbers through
        text = repr(node.value) if abs(value) < 1e308 else "np.inf"
        return text, 5 if value >= 0 else 1
    if isinstance(node, ast.Name):
        return ("x" if node.id == "x" else f"np.{node.id}"), 5
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        return f"np.{node.func.id}({_np(node.args[0])[0]})", 5
    raise expr.ExpressionError(f"may not contain {type(node).__name__.lower()} syntax")


def uses_x(text: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(ast.parse(text, mode="eval")))


def from_template(template: str, **inserts: str) -> str:
    """``template`` dedented; a line that is only ``@name@`` becomes ``inserts[name]``, indented alike.

    (An empty insert drops its line.)
    """
    out = []
    for line in dedent(template).strip("\n").split("\n"):
        name = line.strip()
        if name.startswith("@") and name.endswith("@") and name[1:-1] in inserts:
            if inserts[name[1:-1]]:
                out.append(indent(inserts[name[1:-1]], line[: len(line) - len(line.lstrip())]))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def shell_lines(command: str) -> str:
    """A shell command as comment lines of at most WIDTH characters, continued with backslashes.

    (Only a quoted target of some 90 characters or more is left longer: a word cannot be split.)
    """
    lines, current = [], "#  "
    for word in (shlex.quote(word) for word in shlex.split(command)):
        if current.strip("# ") and len(f"{current} {word} \\") > WIDTH:
            lines.append(current + " \\")
            current = "#      "
        current += " " + word
    return "\n".join(lines + [current])


def return_line(source: str) -> str:
    """``return source``, broken inside brackets when longer than a line.

    Lines break before a binary operator (the tokens with a space before them) or after
    an opening bracket.
    """
    if len(f"    return {source}") <= WIDTH:
        return f"return {source}"
    tokens = [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.string]
    breaks = [0] + [
        tok.start[1]
        for before, tok in zip(tokens, tokens[1:])
        if before.string == "(" or (tok.type == tokenize.OP and source[tok.start[1] - 1] == " ")
    ]
    lines, current = [], ""
    for a, b in zip(breaks, breaks[1:] + [len(source)]):
        piece = source[a:b]
        if current and len("        " + current + piece.rstrip()) > WIDTH:
            lines.append("    " + current.rstrip())
            current = ""
        current += piece
    lines.append("    " + current.rstrip())
    return "\n".join(["return (", *lines, ")"])
