"""The wire between the judge (trusted) and the worker (the student's code).

Messages are length-prefixed JSON.  Values cross as *data*, never as pickles: ``encode``
turns numbers, strings, tuples (and namedtuples), lists, dicts and numeric NumPy arrays into
JSON, and ``decode`` rebuilds them, checking every field, so that nothing a student's process
sends can run code in the judge.  Anything else that the worker sends back (an instance of a
student's class, a generator, ...) stays in the worker and crosses as a *handle*; the judge
reaches it through ``RemoteObject`` (attribute access, calls, operators).  A trusted function
crosses by its name in the read-only cells (the other side has its own copy); a function of
the judge's test code crosses as a *callback* that the worker calls back through the wire.

Both sides use ``Channel.request``: send a request, then serve the other side's requests
(callbacks, nested calls) until the reply comes, or the deadline passes.
"""

from __future__ import annotations

import base64
import json
import os
import select
import struct
import time

import numpy as np

MAX_MESSAGE = 256 * 2**20           # bytes; a longer message from the worker is an error
MAX_ARRAY = 64 * 2**20              # bytes per array
DTYPE_KINDS = "biufc"               # bool, int, uint, float, complex


class ChannelClosed(Exception):
    """The other side closed the wire (its process ended)."""


class ChannelTimeout(Exception):
    """No reply before the deadline."""


class ProtocolError(Exception):
    """The other side sent something that is not a well-formed message."""


class Channel:
    def __init__(self, rfd: int, wfd: int, limit: int = MAX_MESSAGE):
        self.rfd, self.wfd, self.limit = rfd, wfd, limit
        self.next_id = 0

    # ---------------------------------------------------------------- framing
    def send(self, msg: dict) -> None:
        data = json.dumps(msg, separators=(",", ":")).encode()
        buf = struct.pack(">Q", len(data)) + data
        view = memoryview(buf)
        while view:
            try:
                n = os.write(self.wfd, view)
            except (BrokenPipeError, OSError) as exc:
                raise ChannelClosed(str(exc)) from None
            view = view[n:]

    def _read(self, n: int, deadline: float | None) -> bytes:
        chunks, got = [], 0
        while got < n:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ChannelTimeout()
                ready, _, _ = select.select([self.rfd], [], [], left)
                if not ready:
                    raise ChannelTimeout()
            try:
                chunk = os.read(self.rfd, min(n - got, 1 << 20))
            except OSError as exc:
                raise ChannelClosed(str(exc)) from None
            if not chunk:
                raise ChannelClosed("end of stream")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self, deadline: float | None = None) -> dict:
        (size,) = struct.unpack(">Q", self._read(8, deadline))
        if size > self.limit:
            raise ProtocolError(f"message of {size} bytes (limit {self.limit})")
        try:
            msg = json.loads(self._read(size, deadline))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"not JSON: {exc}") from None
        if not isinstance(msg, dict) or msg.get("t") not in ("req", "rep"):
            raise ProtocolError("not a message")
        return msg

    # -------------------------------------------------------------------- RPC
    def request(self, op: str, payload: dict, serve, deadline: float | None = None) -> dict:
        """Send request `op`; serve incoming requests with `serve(msg) -> reply dict` until
        the reply to ours arrives; return that reply."""
        self.next_id += 1
        rid = self.next_id
        self.send({"t": "req", "id": rid, "op": op, **payload})
        while True:
            msg = self.recv(deadline)
            if msg["t"] == "rep":
                if msg.get("id") != rid:
                    raise ProtocolError("reply to an unknown request")
                return msg
            reply = serve(msg)
            self.send({"t": "rep", "id": msg.get("id"), **reply})


# ------------------------------------------------------------------------- values
def is_namedtuple(obj) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


class Codec:
    """encode/decode with hooks for what cannot cross as data.

    ``to_ref(obj) -> dict | None`` names an object the other side has or can reach
    (a trusted function, a handle, a callback); ``from_ref(dict)`` turns such a reference
    back into an object; ``classes`` maps namedtuple class names to this side's classes.
    """

    def __init__(self, to_ref, from_ref, classes):
        self.to_ref, self.from_ref, self.classes = to_ref, from_ref, classes

    def encode(self, obj, memo=None, depth=0):
        memo = {} if memo is None else memo
        if depth > 60:
            raise ValueError("value nested too deeply")
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and not isinstance(obj, bool):
            return obj if abs(obj) < 2**63 else {"__bigint__": str(obj)}
        if isinstance(obj, float):
            return obj if np.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, np.ndarray) and obj.dtype.kind in DTYPE_KINDS:
            if id(obj) in memo:
                return {"__same__": memo[id(obj)][0]}
            memo[id(obj)] = (len(memo), obj)
            arr = np.ascontiguousarray(obj)
            return {"__nd__": len(memo) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape),
                    "data": base64.b64encode(arr.tobytes()).decode()}
        if isinstance(obj, np.generic) and obj.dtype.kind in DTYPE_KINDS:
            return {"__np__": obj.dtype.str, "data": base64.b64encode(obj.tobytes()).decode()}
        if type(obj) is list:
            return [self.encode(v, memo, depth + 1) for v in obj]
        if type(obj) is tuple:
            return {"__tuple__": [self.encode(v, memo, depth + 1) for v in obj]}
        if is_namedtuple(obj) and type(obj).__name__ in self.classes:
            return {"__nt__": type(obj).__name__, "fields": list(type(obj)._fields),
                    "v": [self.encode(v, memo, depth + 1) for v in obj]}
        if type(obj) is dict:
            return {"__dict__": [[self.encode(k, memo, depth + 1), self.encode(v, memo, depth + 1)]
                                 for k, v in obj.items()]}
        ref = self.to_ref(obj)
        if ref is not None:
            return ref
        if isinstance(obj, tuple):  # a namedtuple this side does not know: a tuple
            return {"__tuple__": [self.encode(v, memo, depth + 1) for v in obj]}
        raise TypeError(f"cannot send a {type(obj).__name__}")

    def decode(self, data, memo=None, depth=0):
        memo = {} if memo is None else memo
        if depth > 60:
            raise ProtocolError("value nested too deeply")
        if data is None or isinstance(data, (bool, str, int, float)):
            return data
        if isinstance(data, list):
            return [self.decode(v, memo, depth + 1) for v in data]
        if not isinstance(data, dict) or len(data) == 0:
            raise ProtocolError("malformed value")
        if "__nd__" in data:
            dtype = np.dtype(_checked_dtype(data.get("dtype")))
            shape = data.get("shape")
            if not (isinstance(shape, list) and all(isinstance(s, int) and 0 <= s for s in shape)):
                raise ProtocolError("malformed array shape")
            raw = base64.b64decode(_checked_str(data.get("data")), validate=True)
            if len(raw) > MAX_ARRAY or len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
                raise ProtocolError("array size does not match its shape")
            arr = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
            memo[data["__nd__"]] = arr
            return arr
        if "__same__" in data:
            if data["__same__"] not in memo:
                raise ProtocolError("reference to an unknown array")
            return memo[data["__same__"]]
        if "__np__" in data:
            dtype = np.dtype(_checked_dtype(data["__np__"]))
            raw = base64.b64decode(_checked_str(data.get("data")), validate=True)
            if len(raw) != dtype.itemsize:
                raise ProtocolError("malformed scalar")
            return np.frombuffer(raw, dtype=dtype)[0]
        if "__float__" in data:
            text = data["__float__"]
            if text not in ("nan", "inf", "-inf"):
                raise ProtocolError("malformed float")
            return float(text)
        if "__bigint__" in data:
            text = _checked_str(data["__bigint__"])
            if len(text) > 5000:
                raise ProtocolError("integer too long")
            return int(text)
        if "__tuple__" in data:
            return tuple(self.decode(data["__tuple__"], memo, depth + 1))
        if "__nt__" in data:
            values = [self.decode(v, memo, depth + 1) for v in data.get("v", [])]
            cls = self.classes.get(data["__nt__"])
            if cls is not None and list(cls._fields) == data.get("fields") and len(values) == len(cls._fields):
                return cls(*values)
            return tuple(values)
        if "__dict__" in data:
            out = {}
            for pair in data["__dict__"]:
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise ProtocolError("malformed dict")
                key = self.decode(pair[0], memo, depth + 1)
                try:
                    out[key] = self.decode(pair[1], memo, depth + 1)
                except TypeError:
                    raise ProtocolError("unhashable dict key") from None
            return out
        return self.from_ref(data)


def _checked_dtype(text):
    if not isinstance(text, str) or len(text) > 8:
        raise ProtocolError("malformed dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise ProtocolError("malformed dtype") from None
    if dtype.kind not in DTYPE_KINDS or dtype.itemsize > 16 or dtype.fields is not None:
        raise ProtocolError(f"dtype {text} not allowed")
    return dtype


def _checked_str(text):
    if not isinstance(text, str):
        raise ProtocolError("expected a string")
    return text


class BoundedWriter:
    """A text stream that keeps the first `limit` characters and counts the rest (the judge's
    and the worker's captured output)."""

    def __init__(self, limit):
        self.limit, self.parts, self.kept, self.cut = limit, [], 0, 0

    def write(self, s):
        s = str(s)
        room = self.limit - self.kept
        if room > 0:
            self.parts.append(s[:room])
            self.kept += min(room, len(s))
        self.cut += max(0, len(s) - max(room, 0))
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def getvalue(self):
        text = "".join(self.parts)
        if self.cut:
            text += f"\n... [output cut: {self.cut} more characters]\n"
        return text
