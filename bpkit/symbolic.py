r"""SymPy helpers for the chapters: symbols, matrices of symbols, and checks against bpkit.

This is the only bpkit module that imports SymPy; ``import bpkit`` does not load it.

The chapters derive each chain-rule step with SymPy, turn the result into a numpy
function with :func:`sympy.lambdify`, and assert it equals the matching bpkit
function on concrete numbers.  The helpers here keep those cells short.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy as sp

__all__ = ["sigmoid", "matrix", "row_vector", "broadcast_rows", "derivative_matrix", "evaluate",
           "equation"]


def sigmoid(x: sp.Expr) -> sp.Expr:
    r"""The logistic function :math:`1/(1 + e^{-x})` as a SymPy expression."""
    return 1 / (1 + sp.exp(-x))


def matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    r"""A ``rows x cols`` matrix of real symbols ``name_{ij}`` (1-based indices).

    Parameters
    ----------
    name : str
        Base name, e.g. ``"x"`` gives ``x_{11}, x_{12}, ...``.
    rows, cols : int
        Shape, both >= 1.

    Returns
    -------
    sympy.ImmutableMatrix, shape (rows, cols)
        Immutable, so it can be a key of the ``values`` dict of :func:`evaluate`.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    for arg, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{arg} must be an int, got {type(v).__name__}")
        if v < 1:
            raise ValueError(f"{arg} must be >= 1, got {v}")
    return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{{{i + 1}{j + 1}}}", real=True))


def row_vector(name: str, n: int) -> sp.Matrix:
    r"""A ``1 x n`` row of real symbols ``name_{j}`` (1-based), e.g. a bias vector.

    A bias has one index, so its symbols read :math:`b_1, b_2, \dots` rather than the
    :math:`b_{11}, b_{12}, \dots` that :func:`matrix` would give a ``1 x n`` matrix.

    Parameters
    ----------
    name : str
        Base name, e.g. ``"b^{(1)}"`` gives ``b^{(1)}_{1}, b^{(1)}_{2}, ...``.
    n : int
        Length, >= 1.

    Returns
    -------
    sympy.ImmutableMatrix, shape (1, n)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    return sp.ImmutableMatrix(1, n, lambda i, j: sp.Symbol(f"{name}_{{{j + 1}}}", real=True))


def broadcast_rows(v: sp.Matrix, rows: int) -> sp.Matrix:
    r"""Repeat a ``1 x n`` row ``rows`` times: :math:`\mathbf{1}_{\text{rows}}\, v`.

    This is what numpy's broadcasting does to a bias in ``X @ W + b``; written as the
    product with a column of ones, SymPy can differentiate through it.

    Parameters
    ----------
    v : sympy.Matrix, shape (1, n)
    rows : int
        Number of rows of the result (the batch size N), >= 1.

    Returns
    -------
    sympy.ImmutableMatrix, shape (rows, n)
    """
    if not isinstance(v, sp.MatrixBase) or v.shape[0] != 1:
        raise ValueError(f"v must be a 1 x n SymPy matrix, got {getattr(v, 'shape', type(v).__name__)}")
    if isinstance(rows, bool) or not isinstance(rows, int):
        raise TypeError(f"rows must be an int, got {type(rows).__name__}")
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    return sp.ImmutableMatrix(sp.ones(rows, 1) * v)


def derivative_matrix(expr: sp.Expr, M: sp.Matrix) -> sp.Matrix:
    r"""Entrywise derivative :math:`[\partial\,\text{expr}/\partial M_{ij}]`, the shape of ``M``.

    Parameters
    ----------
    expr : sympy.Expr
        A scalar expression (e.g. a loss).
    M : sympy.Matrix
        Matrix of symbols.

    Returns
    -------
    sympy.Matrix, the shape of M
    """
    return M.applyfunc(lambda s: sp.diff(expr, s))


def evaluate(expr: Any, values: dict) -> np.ndarray:
    r"""Substitute numbers for symbols and return a float64 array.

    ``values`` maps a symbol to a number, or a SymPy matrix of symbols to an array
    of the same shape.  Matrices evaluate to 2-D arrays, scalars to 0-D arrays.

    Parameters
    ----------
    expr : sympy.Expr or sympy.Matrix
    values : dict
        ``{symbol: number}`` or ``{Matrix: ndarray}``.

    Returns
    -------
    ndarray of float64
    """
    subs = {}
    for key, val in values.items():
        if isinstance(key, sp.MatrixBase):
            arr = np.asarray(val, dtype=float)
            if arr.shape != key.shape:
                raise ValueError(f"values for a {key.shape} matrix must have that shape, got {arr.shape}")
            subs.update({s: float(v) for s, v in zip(key, arr.ravel())})
        else:
            subs[key] = float(val)
    out = sp.N(sp.sympify(expr).xreplace(subs)) if not isinstance(expr, sp.MatrixBase) \
        else expr.xreplace(subs).evalf()
    try:
        return np.array(out.tolist() if isinstance(out, sp.MatrixBase) else out, dtype=np.float64)
    except TypeError:
        free = sorted(str(s) for s in sp.sympify(out).free_symbols)
        raise ValueError(f"values leave symbols without a number: {free}") from None


def equation(lhs: Any, rhs: Any) -> sp.Eq:
    """An unevaluated equation ``lhs = rhs`` for display (renders as LaTeX in a notebook)."""
    return sp.Eq(lhs, rhs, evaluate=False)


def compose(expr: Any, steps: list) -> Any:
    r"""Put the forward pass back into ``expr``: replace intermediate symbols by their definitions.

    A chain-rule factor is written with symbols for the values the forward pass keeps
    (:math:`a`, :math:`z`, ...).  ``compose`` substitutes each step's definition, **last step
    first**, so the result depends on the inputs and parameters only and can be compared with
    SymPy's derivative of the fully composed loss.

    Parameters
    ----------
    expr : sympy.Expr or sympy.Matrix
        An expression in the intermediate symbols.
    steps : list of (symbol, definition) pairs, in forward order
        ``symbol`` is a SymPy symbol or a matrix of symbols; ``definition`` an expression (or a
        matrix of the same shape) in the symbols of earlier steps, e.g.
        ``[(z, w*x + b), (a, sigmoid(z))]``.

    Returns
    -------
    sympy.Expr or sympy.Matrix
        ``expr`` with every intermediate symbol replaced.
    """
    if not isinstance(steps, (list, tuple)):
        raise TypeError(f"steps must be a list of (symbol, definition) pairs, got {type(steps).__name__}")
    out = sp.sympify(expr) if not isinstance(expr, sp.MatrixBase) else expr
    for k, step in enumerate(reversed(steps)):
        if not isinstance(step, (list, tuple)) or len(step) != 2:
            raise ValueError(f"steps[{len(steps) - 1 - k}] must be a (symbol, definition) pair, got {step!r}")
        symbol, definition = step
        if isinstance(symbol, sp.MatrixBase):
            definition = sp.Matrix(definition)
            if definition.shape != symbol.shape:
                raise ValueError(f"steps[{len(steps) - 1 - k}]: the definition of a {symbol.shape} matrix "
                                 f"must have that shape, got {definition.shape}")
            mapping = dict(zip(symbol, definition))
        else:
            mapping = {symbol: definition}
        out = out.xreplace(mapping)
    return out


__all__ += ["compose"]


# ---------------------------------------------------------------- recurrent networks (BPTT)
def unroll_rnn(xs: list, h0: sp.Matrix, Wx: sp.Matrix, Wh: sp.Matrix, b: sp.Matrix) -> list:
    r"""The states of :math:`h_t = \tanh(x_t W_x + h_{t-1} W_h + \mathbf 1 b)` as SymPy
    matrices, :math:`t = 1, \dots, T`: the RNN unrolled into one nested expression per step.

    Parameters
    ----------
    xs : list of sympy.Matrix, each (N, D)
        The inputs :math:`x_1, \dots, x_T` (``xs[t - 1]`` is :math:`x_t`).
    h0 : sympy.Matrix, shape (N, H)
    Wx : sympy.Matrix, shape (D, H)
    Wh : sympy.Matrix, shape (H, H)
    b : sympy.Matrix, shape (1, H)
        The bias as a row, added to every row of the batch.

    Returns
    -------
    list of sympy.Matrix, each (N, H)
        ``[h_1, ..., h_T]``; each contains the one before it.
    """
    if not xs:
        raise ValueError("xs must hold at least one input x_1, got an empty list")
    ones = sp.ones(h0.shape[0], 1)
    states, h = [], h0
    for x in xs:
        h = (x * Wx + h * Wh + ones * b).applyfunc(sp.tanh)
        states.append(h)
    return states


__all__ += ["unroll_rnn"]
