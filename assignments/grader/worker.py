"""The worker: the one process where a student's code runs.

The judge (judge.py) starts it with resource limits, sends it the notebook's read-only cells
and the student's cells, then asks it to call the student's functions.  It answers with
data only (protocol.py).  Nothing here is trusted: the student's code can change anything in
this process, and that can only change the answers this process gives about that student's
own functions, which the judge checks.  The worker also reports, as a courtesy, the
tampering it sees (read-only names rebound, attributes of numpy or bpkit replaced); the judge
finds the same things in the source independently.

Started as ``python worker.py``: requests arrive on stdin, replies leave on the file
descriptor named by ``BPKIT_REPLY_FD``.
"""

from __future__ import annotations

import builtins
import linecache
import operator
import os
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from protocol import BoundedWriter, Channel, Codec, ProtocolError  # noqa: E402

import numpy as np  # noqa: E402

OUTPUT_CHARS = 10_000
WATCHED_MODULES = ("numpy", "bpkit", "builtins", "math", "operator", "functools", "contextlib",
                   "types", "collections", "itertools", "copy")
THIS_FILE = os.path.abspath(__file__)


class Worker:
    def __init__(self, channel):
        self.chan = channel
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.pristine = {}
        self.modules = {}
        self.handles, self.next_handle = {}, 0
        self.reported = set()
        self.codec = Codec(self.to_ref, self.from_ref, {})

    # ------------------------------------------------------------ references
    def to_ref(self, obj):
        for name, value in self.pristine.items():
            if value is obj and callable(obj):
                return {"__trusted__": name}
        if isinstance(obj, Callback):
            return {"__callback__": obj.cid}
        self.next_handle += 1
        self.handles[self.next_handle] = obj
        return {"__handle__": self.next_handle, "type": type(obj).__name__[:100]}

    def from_ref(self, data):
        if "__trusted__" in data:
            return self.pristine[data["__trusted__"]]
        if "__student__" in data:
            return self.ns[data["__student__"]]
        if "__handle__" in data:
            return self.handles[data["__handle__"]]
        if "__callback__" in data:
            return Callback(self, data["__callback__"])
        raise ProtocolError("unknown reference")

    # ------------------------------------------------------------- tampering
    def snapshot(self):
        self.pristine = {k: v for k, v in self.ns.items() if not k.startswith("__")}
        self.codec.classes = {k: v for k, v in self.pristine.items()
                              if isinstance(v, type) and issubclass(v, tuple) and hasattr(v, "_fields")}
        self.modules = {name: (mod, dict(vars(mod))) for name, mod in list(sys.modules.items())
                        if mod is not None and name.split(".")[0] in WATCHED_MODULES}

    def tampering(self):
        found = []
        for name, value in self.pristine.items():
            if name not in self.ns:
                found.append(f"deletes `{name}`, defined by a read-only cell")
            elif self.ns[name] is not value:
                found.append(f"rebinds `{name}`, defined by a read-only cell")
        for name, (mod, attrs) in self.modules.items():
            if sys.modules.get(name) is not mod:
                found.append(f"replaces the module `{name}` in sys.modules")
            now = vars(mod)
            for key, value in list(now.items()):
                if isinstance(value, types.ModuleType):
                    continue  # a submodule imported later
                if key not in attrs:
                    found.append(f"adds `{name}.{key}`")
                elif value is not attrs[key]:
                    found.append(f"replaces `{name}.{key}`")
            for key in attrs:
                if key not in now:
                    found.append(f"deletes `{name}.{key}`")
        new = [f for f in found if f not in self.reported]
        self.reported.update(new)
        return new[:50]

    # ------------------------------------------------------------- execution
    def run(self, fn):
        """Run fn() with the output captured; return (value, reply fields)."""
        out, err = BoundedWriter(OUTPUT_CHARS), BoundedWriter(OUTPUT_CHARS)
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        value, error = None, None
        try:
            value = fn()
        except BaseException as exc:  # noqa: BLE001 - the student's code may raise anything
            error = describe(exc)
        finally:
            sys.stdout, sys.stderr = old
        return value, {"stdout": out.getvalue(), "stderr": err.getvalue(), "error": error}

    def exec_cell(self, name, code):
        filename = f"<cell {name}>"
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        compiled = compile(code, filename, "exec")
        exec(compiled, self.ns)  # noqa: S102 - running the student's code is the point

    def serve(self, msg):
        op = msg.get("op")
        try:
            if op == "init":
                problems = []
                for name, code in msg["trusted"]:
                    _, rep = self.run(lambda: self.exec_cell(name, code))
                    if rep["error"]:
                        problems.append(rep["error"])
                self.snapshot()
                return {"ok": not problems, "errors": problems}
            if op == "cell":
                _, rep = self.run(lambda: self.exec_cell(msg["name"], msg["code"]))
                return {"ok": True, **rep, "tamper": self.tampering()}
            if op == "call":
                return self.call(msg)
            if op == "release":
                for h in msg.get("handles", []):
                    self.handles.pop(h, None)
                return {"ok": True}
        except ProtocolError:
            raise
        except Exception as exc:  # noqa: BLE001
            return {"ok": False, "error": describe(exc), "stdout": "", "stderr": ""}
        return {"ok": False, "error": {"ename": "ProtocolError", "evalue": f"unknown op {op!r}", "tb": []}}

    def call(self, msg):
        decode = self.codec.decode
        saved, missing = {}, []
        for name, ref in msg.get("subs", {}).items():
            if name in self.ns:
                saved[name] = self.ns[name]
            else:
                missing.append(name)
            self.ns[name] = decode(ref)
        try:
            kind = msg["kind"]
            args = decode(msg.get("args", []))
            kwargs = decode(msg.get("kwargs", {}))
            if kind == "call":
                target = decode(msg["target"])
                value, rep = self.run(lambda: target(*args, **kwargs))
            elif kind == "attr":
                obj = decode(msg["target"])
                value, rep = self.run(lambda: getattr(obj, msg["name"]))
            elif kind == "setattr":
                obj = decode(msg["target"])
                value, rep = self.run(lambda: setattr(obj, msg["name"], args[0]))
            elif kind == "op":
                fn = OPS[msg["name"]]
                value, rep = self.run(lambda: fn(*args))
            else:
                raise ProtocolError(f"unknown call kind {kind!r}")
        finally:
            for name in msg.get("subs", {}):
                if name in saved:
                    self.ns[name] = saved[name]
                elif name in missing:
                    self.ns.pop(name, None)
        reply = {"ok": rep["error"] is None, **rep, "tamper": self.tampering()}
        if rep["error"] is None:
            try:
                reply["value"] = self.codec.encode(value)
                reply["after"] = self.codec.encode([args, kwargs])
            except BaseException as exc:  # noqa: BLE001
                reply.update(ok=False, error=describe(exc))
        return reply


def remote_iter(obj):
    return list(obj)


def remote_array(obj):
    return np.asarray(obj)


OPS = {name: getattr(operator, name) for name in (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "pos", "abs",
    "lt", "le", "eq", "ne", "gt", "ge", "getitem", "setitem", "contains", "invert",
    "and_", "or_", "xor", "lshift", "rshift")}
OPS.update({"repr": repr, "str": str, "len": len, "bool": bool, "float": float, "int": int,
            "complex": complex, "hash": hash, "list": remote_iter, "asarray": remote_array,
            "round": round, "index": operator.index})


class Callback:
    """A function of the judge's test code, called back through the wire."""

    def __init__(self, worker, cid):
        self.worker, self.cid = worker, cid

    def __call__(self, *args, **kwargs):
        w = self.worker
        rep = w.chan.request("callback", {"target": self.cid, "args": w.codec.encode(list(args)),
                                          "kwargs": w.codec.encode(kwargs)}, w.serve)
        if not rep.get("ok"):
            err = rep.get("error") or {}
            raise RuntimeError(f"{err.get('ename', 'Error')}: {err.get('evalue', '')}")
        return w.codec.decode(rep.get("value"))


def describe(exc: BaseException) -> dict:
    """ename, evalue and the traceback of an exception, without this file's frames."""
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if os.path.abspath(f.filename) != THIS_FILE]
        tb = traceback.format_list(frames[-20:])
        return {"ename": type(exc).__name__[:100], "evalue": str(exc)[:2000], "tb": [t[:2000] for t in tb]}
    except BaseException:  # noqa: BLE001 - e.g. MemoryError while formatting
        return {"ename": type(exc).__name__[:100], "evalue": "", "tb": []}


def main():
    reply_fd = int(os.environ.pop("BPKIT_REPLY_FD"))
    rfd, wfd = os.dup(0), os.dup(reply_fd)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(reply_fd)
    sys.stdin = open(os.devnull)
    chan = Channel(rfd, wfd)
    worker = Worker(chan)
    while True:
        msg = chan.recv()
        if msg["t"] != "req":
            raise ProtocolError("expected a request")
        if msg.get("op") == "exit":
            return
        chan.send({"t": "rep", "id": msg.get("id"), **worker.serve(msg)})


if __name__ == "__main__":
    main()
