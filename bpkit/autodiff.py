r"""A small reverse-mode automatic differentiation engine over numpy arrays.

Backpropagation, generalised: every operation on a :class:`Tensor` records its inputs
and a short closure that knows the operation's *local* derivatives.  ``loss.backward()``
visits the recorded graph from the loss back to the inputs (reverse topological order)
and lets each closure apply the chain rule,

.. math::
    \frac{dL}{dv} \mathrel{+}= \frac{dL}{du}\,\frac{\partial u}{\partial v}
    \qquad\text{for every use } u \text{ of } v,

*adding* into ``v.grad``: where a value is used more than once (a fork), its total
gradient is the sum of what each use sends back.  A gradient always has the shape of the
thing it is the gradient of, so when numpy broadcasts an operand (a bias ``b`` of shape
``(H,)`` added to every row of ``(N, H)``) the backward step sums over the broadcast axes.

Example::

    from bpkit.autodiff import Tensor
    W, b = Tensor(W0), Tensor(b0)
    loss = ((Tensor(X) @ W + b).tanh() ** 2).mean()
    loss.backward()          # W.grad, b.grad: dL/dW, dL/db

Leaf tensors (made by the user) accumulate gradients over several ``backward`` calls,
like PyTorch's; clear them with :meth:`Tensor.zero_grad` or :func:`zero_grad`.  The
intermediate tensors of a graph are reset by each ``backward`` call.  ``x.detach()`` cuts
the graph: a tensor with ``x``'s values that gradients do not flow through (truncated
BPTT).

Adding an operation takes the pattern every operation below follows: compute the value
with numpy, make the node with ``out = Tensor(value, (x, ...))`` (a float64 ndarray and the
input tensors; not validated), and set ``out._backward`` to a closure that adds
``out.grad`` times the local derivative into each input's ``.grad``.

Forward and backward cost: ``backward()`` runs one closure per node, and each closure does
about the work of its operation's forward step (a matrix product's does two products), so
one gradient of a scalar loss costs a small multiple of one forward pass, whatever the
number of parameters.  The graph keeps every node's arrays alive until it is dropped.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any, Iterable, Sequence

import numpy as np

__all__ = ["Tensor", "stack", "zero_grad"]


def _as_data(name: str, value: Any) -> np.ndarray:
    """``value`` as a finite float64 array, or a TypeError/ValueError naming ``name``."""
    if type(value) is float and math.isfinite(value):    # the common case: a number
        return np.array(float(value))
    if isinstance(value, Tensor):
        raise TypeError(f"{name} must be numeric data, got a Tensor (use its .data, or .detach())")
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a number or a numeric array, got {type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a number or a numeric array, got {type(value).__name__} "
                        f"that numpy cannot convert ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers (bool, int or float), got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got an array containing "
                         f"{'NaN' if np.isnan(arr).any() else 'inf'}")
    return arr


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` over the axes numpy broadcast to go from ``shape`` to ``grad.shape``."""
    if grad.shape == shape:
        return grad
    while grad.ndim > len(shape):                # leading axes that numpy prepended
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):             # axes of length 1 that were stretched
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """A node of the graph: an array ``data`` (float64) and its gradient ``grad`` (same shape).

    Parameters
    ----------
    data : float or ndarray, any shape
        A number, a (nested) list or an array of real numbers; converted to a float64
        ndarray; must be finite.

    Attributes
    ----------
    data : ndarray of float64
        The value.
    grad : ndarray of float64, the shape of ``data``
        The gradient dL/d(data) after ``L.backward()``; zeros before.
    """

    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operator

    def __init__(self, data: Any, _parents: tuple = (), _name: str = "data"):
        self.data = data if _parents else _as_data(_name, data)
        self.grad = np.zeros_like(self.data)
        self._parents = _parents            # the tensors this one was computed from
        self._backward = lambda: None       # adds this node's grad into its parents' grads

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)

    def __repr__(self) -> str:
        return f"Tensor({np.array2string(self.data, precision=4)}, shape={self.shape})"

    def item(self) -> float:
        """The value of a one-entry tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one entry, got shape {self.shape}")
        return float(self.data.reshape(()))

    # ------------------------------------------------------------------ binary operators
    @staticmethod
    def _lift(other: Any, op: str) -> "Tensor":
        return other if isinstance(other, Tensor) else Tensor(other, _name=f"the operand of {op}")

    def _apply(self, fn: Any, other: "Tensor", op: str) -> np.ndarray:
        """``fn(self.data, other.data)``, or a ValueError naming the shapes that do not broadcast."""
        try:
            return fn(self.data, other.data)
        except ValueError:
            raise ValueError(f"operands of {op} must have shapes numpy can broadcast, got "
                             f"{self.shape} and {other.shape}") from None

    def __add__(self, other: Any) -> "Tensor":
        other = self._lift(other, "+")
        out = Tensor(self._apply(np.add, other, "+"), (self, other))

        def _backward():                        # d(a + b)/da = d(a + b)/db = 1
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)
        out._backward = _backward
        return out

    def __mul__(self, other: Any) -> "Tensor":
        other = self._lift(other, "*")
        out = Tensor(self._apply(np.multiply, other, "*"), (self, other))

        def _backward():                        # d(ab)/da = b, d(ab)/db = a
            self.grad += _unbroadcast(out.grad * other.data, self.shape)
            other.grad += _unbroadcast(out.grad * self.data, other.shape)
        out._backward = _backward
        return out

    def __truediv__(self, other: Any) -> "Tensor":
        other = self._lift(other, "/")
        if not other.data.all():
            raise ValueError(f"the divisor of / must have no zero entries, got "
                             f"{other.data.size - np.count_nonzero(other.data)} zero(s)")
        out = Tensor(self._apply(np.divide, other, "/"), (self, other))

        def _backward():                        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
            self.grad += _unbroadcast(out.grad / other.data, self.shape)
            other.grad += _unbroadcast(-out.grad * out.data / other.data, other.shape)
        out._backward = _backward
        return out

    def __matmul__(self, other: Any) -> "Tensor":
        other = self._lift(other, "@")
        if self.ndim < 2 or other.ndim < 2 or self.shape[-1] != other.shape[-2]:
            raise ValueError(f"operands of @ must be (..., N, D) @ (..., D, H) with at least 2-D "
                             f"each and matching D, got {self.shape} @ {other.shape}")
        out = Tensor(self.data @ other.data, (self, other))

        def _backward():                        # dA = dOut B^T, dB = A^T dOut
            self.grad += _unbroadcast(out.grad @ np.swapaxes(other.data, -1, -2), self.shape)
            other.grad += _unbroadcast(np.swapaxes(self.data, -1, -2) @ out.grad, other.shape)
        out._backward = _backward
        return out

    def __pow__(self, p: Real) -> "Tensor":
        if isinstance(p, (bool, Tensor)) or not isinstance(p, Real):
            raise TypeError(f"the exponent of ** must be a real number, got {type(p).__name__}")
        if p < 1 and not (self.data != 0).all() or not float(p).is_integer() and (self.data < 0).any():
            raise ValueError(f"x ** {p} needs x > 0 (x != 0 for an integer p < 1), got an entry "
                             f"{self.data[(self.data <= 0) if p % 1 else (self.data == 0)].flat[0]:.6g}")
        out = Tensor(self.data ** p, (self,))

        def _backward():                        # d(x^p)/dx = p x^(p-1)
            self.grad += out.grad * p * self.data ** (p - 1)
        out._backward = _backward
        return out

    def __neg__(self) -> "Tensor":
        return self * -1.0

    def __sub__(self, other: Any) -> "Tensor":
        return self + (-self._lift(other, "-"))

    __radd__, __rmul__ = __add__, __mul__      # a + b = b + a, a * b = b * a
    __rsub__ = lambda self, other: self._lift(other, "-") - self         # noqa: E731
    __rtruediv__ = lambda self, other: self._lift(other, "/") / self     # noqa: E731
    __rmatmul__ = lambda self, other: self._lift(other, "@") @ self      # noqa: E731

    # ------------------------------------------------------------------ elementwise functions
    def _unary(self, value: np.ndarray, local: np.ndarray) -> "Tensor":
        """A node ``out = f(self)`` whose local derivative ``f'(self)`` is ``local``."""
        out = Tensor(value, (self,))

        def _backward():                        # dx = dout * f'(x)
            self.grad += out.grad * local
        out._backward = _backward
        return out

    def tanh(self) -> "Tensor":
        t = np.tanh(self.data)
        return self._unary(t, 1.0 - t * t)

    def sigmoid(self) -> "Tensor":
        s = np.exp(-np.logaddexp(0.0, -self.data))   # 1/(1 + e^-x), never overflows
        return self._unary(s, s * (1.0 - s))

    def relu(self) -> "Tensor":
        return self._unary(np.maximum(self.data, 0.0), (self.data > 0).astype(np.float64))

    def exp(self) -> "Tensor":
        if self.data.size and self.data.max() > 709.0:
            raise ValueError(f"exp() overflows float64 above 709, got an entry {self.data.max():.6g}")
        e = np.exp(self.data)
        return self._unary(e, e)

    def log(self) -> "Tensor":
        if self.data.size and self.data.min() <= 0.0:
            raise ValueError(f"log() needs positive entries, got an entry {self.data.min():.6g}")
        return self._unary(np.log(self.data), 1.0 / self.data)

    # ------------------------------------------------------------------ reductions and shapes
    def _axes(self, axis: Any) -> tuple:
        axes = tuple(range(self.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
        for a in axes:
            if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
                raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
            if not -self.ndim <= a < self.ndim:
                raise ValueError(f"axis must be in [{-self.ndim}, {self.ndim}) for shape {self.shape}, "
                                 f"got {a}")
        axes = tuple(sorted(a % self.ndim for a in axes))
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis must not repeat an axis, got {axis!r}")
        return axes

    def sum(self, axis: int | tuple | None = None) -> "Tensor":
        axes = self._axes(axis)
        out = Tensor(self.data.sum(axis=axes), (self,))

        def _backward():                        # every summed entry receives dout
            self.grad += np.broadcast_to(np.expand_dims(out.grad, axes), self.shape)
        out._backward = _backward
        return out

    def mean(self, axis: int | tuple | None = None) -> "Tensor":
        axes = self._axes(axis)
        return self.sum(axes) * (1.0 / max(1, int(np.prod([self.shape[a] for a in axes]))))

    @property
    def T(self) -> "Tensor":
        out = Tensor(self.data.T, (self,))

        def _backward():
            self.grad += out.grad.T
        out._backward = _backward
        return out

    def __getitem__(self, index: Any) -> "Tensor":
        parts = index if isinstance(index, tuple) else (index,)
        for p in parts:
            if not (p is Ellipsis or p is None or isinstance(p, slice)
                    or (isinstance(p, (int, np.integer)) and not isinstance(p, bool))):
                raise TypeError(f"index must be ints, slices, ... or None (basic indexing), "
                                f"got {type(p).__name__}")
        try:
            out = Tensor(self.data[index], (self,))
        except IndexError as exc:
            raise ValueError(f"index {index!r} does not fit shape {self.shape}: {exc}") from None

        def _backward():                        # the selected entries receive dout, others 0
            self.grad[index] += out.grad
        out._backward = _backward
        return out

    def detach(self) -> "Tensor":
        """A new leaf with the same values: gradients stop here (cut the graph)."""
        return Tensor(self.data.copy())

    # ------------------------------------------------------------------ the backward pass
    def backward(self) -> None:
        r"""Fill ``.grad`` of every tensor this scalar depends on with :math:`dL/dv`.

        Reverse topological order: a node's closure runs only after every use of the node
        has added its share into ``.grad``.
        """
        if self.data.size != 1:
            raise ValueError(f"backward() needs a scalar loss (one entry), got shape {self.shape}; "
                             f"reduce it first, e.g. with .sum() or .mean()")
        order, visited, todo = [], set(), [(self, False)]
        while todo:                             # iterative depth-first search, post-order:
            node, parents_done = todo.pop()     # a node enters `order` after all its inputs
            if parents_done:
                order.append(node)
            elif id(node) not in visited:
                visited.add(id(node))
                todo.append((node, True))
                todo.extend((p, False) for p in node._parents if id(p) not in visited)
        for node in order:                      # intermediate nodes start from zero
            if node._parents:
                node.grad.fill(0.0)
        self.grad += 1.0                        # dL/dL = 1
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``.grad`` to zeros (before reusing a leaf in a new backward pass)."""
        self.grad = np.zeros_like(self.data)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Stack tensors of one shape along a new axis (``np.stack``); e.g. the states h_1..h_T."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"tensors must be a list or tuple of Tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError("tensors must not be empty, got an empty sequence")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"tensors[{i}] must be a Tensor, got {type(t).__name__}")
        if t.shape != tensors[0].shape:
            raise ValueError(f"tensors[{i}] must have the shape of tensors[0] {tensors[0].shape}, "
                             f"got {t.shape}")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int, got {type(axis).__name__}")
    if not -tensors[0].ndim - 1 <= axis <= tensors[0].ndim:
        raise ValueError(f"axis must be in [{-tensors[0].ndim - 1}, {tensors[0].ndim}], got {axis}")
    out = Tensor(np.stack([t.data for t in tensors], axis=axis), tuple(tensors))

    def _backward():                            # slice i of dout goes back to tensor i
        for i, t in enumerate(tensors):
            t.grad += np.take(out.grad, i, axis=axis)
    out._backward = _backward
    return out


def zero_grad(tensors: Iterable[Tensor] | dict) -> None:
    """Call :meth:`Tensor.zero_grad` on every tensor of a list or the values of a dict."""
    items = tensors.values() if isinstance(tensors, dict) else tensors
    if isinstance(items, Tensor) or not hasattr(items, "__iter__"):
        raise TypeError(f"tensors must be a list or dict of Tensors, got {type(tensors).__name__}")
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"tensors[{i}] must be a Tensor, got {type(t).__name__}")
        t.zero_grad()
