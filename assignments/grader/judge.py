"""The judge: runs the instructor's test cells, trusted, against a student's functions that
run in another process.

The judge executes the notebook's read-only cells (setup, test helpers) and its test cells,
hidden tests included, exactly as written, in its own clean namespace.  The student's code
never runs here.  Each function a task asks for (``dense_backward``, ...) is, in the judge, a
*stand-in* that sends its arguments to the worker (worker.py), where the student's code ran,
and brings back the result as data (protocol.py).  ``check_close``, ``rel_error``, numpy and
bpkit are therefore the judge's own: whatever the student's code rebinds or patches, it does
so in the worker, where it can only change what the student's own functions return.  A test
cell passes when it raises nothing, as in nbgrader.

Failures stay in their test cell: a call that runs past the cell's time limit is stopped
(the worker is killed and a fresh one started for the next cell), a process that dies
(``os._exit``, a crash) fails the cell it was serving, memory is capped per worker
(MemoryError), and output is cut to a few thousand characters.

Feedback shows what a test cell printed and its error, with a traceback in which every
hidden-test line is replaced by ``(hidden test)``.

``python judge.py`` reads a job (job.py) on stdin and writes the result as JSON to stdout.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from job import bound_names, parse, split_hidden  # noqa: E402
from protocol import BoundedWriter, Channel, ChannelClosed, ChannelTimeout, Codec, ProtocolError  # noqa: E402

import numpy as np  # noqa: E402

VERSION = "1"
DEFAULT_LIMITS = {"timeout": 30.0, "memory_mb": 2048, "output_chars": 10_000, "startup": 120.0}
GRADER_FILES = {os.path.join(HERE, f) for f in ("judge.py", "protocol.py", "job.py")}


class DeadKernelError(RuntimeError):
    """The process running the student's code stopped."""


class GradingTimeout(TimeoutError):
    pass


TimeoutName = "TimeoutError"
GradingTimeout.__name__ = GradingTimeout.__qualname__ = TimeoutName


class RemoteError(Exception):
    """Base of the exceptions re-raised from the student's process."""

    remote_tb: list = []


_remote_classes: dict = {}


def remote_exception(err: dict) -> BaseException:
    ename = str(err.get("ename", "Error"))[:100] or "Error"
    base = getattr(builtins, ename, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(base, (OSError, UnicodeError)):
        base = Exception
    cls = _remote_classes.get(ename)
    if cls is None:
        try:
            cls = type(ename, (RemoteError, base), {"__module__": "student"})
        except TypeError:
            cls = type(ename, (RemoteError, Exception), {"__module__": "student"})
        _remote_classes[ename] = cls
    exc = cls(str(err.get("evalue", ""))[:2000])
    exc.remote_tb = [str(t)[:2000] for t in err.get("tb", [])][:20]
    return exc


class StudentFunction:
    """In the judge, the stand-in for a function (or class) the student defines."""

    def __init__(self, judge, name, code, namespace):
        self._judge, self.__name__, self.__qualname__ = judge, name, name
        self.__code__, self.__globals__ = code, namespace
        self.__doc__ = f"the student's {name} (runs in the student's process)"

    def __call__(self, *args, **kwargs):
        return self._judge.remote("call", self, args=args, kwargs=kwargs)

    def __repr__(self):
        return f"<student's {self.__name__}>"


class RemoteObject:
    """An object that lives in the student's process (an instance of a student's class, ...)."""

    __slots__ = ("_judge", "_hid", "_gen", "_type")

    def __init__(self, judge, hid, gen, typename):
        object.__setattr__(self, "_judge", judge)
        object.__setattr__(self, "_hid", hid)
        object.__setattr__(self, "_gen", gen)
        object.__setattr__(self, "_type", typename)

    def _op(self, name, *args):
        return self._judge.remote("op", None, name=name, args=args)

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._judge.remote("attr", self, name=name)

    def __setattr__(self, name, value):
        self._judge.remote("setattr", self, name=name, args=(value,))

    def __call__(self, *args, **kwargs):
        return self._judge.remote("call", self, args=args, kwargs=kwargs)

    def __repr__(self):
        return str(self._op("repr", self))

    def __str__(self):
        return str(self._op("str", self))

    def __len__(self):
        return int(self._op("len", self))

    def __bool__(self):
        return bool(self._op("bool", self))

    def __float__(self):
        return float(self._op("float", self))

    def __int__(self):
        return int(self._op("int", self))

    def __index__(self):
        return int(self._op("index", self))

    def __hash__(self):
        return int(self._op("hash", self))

    def __iter__(self):
        return iter(self._op("list", self))

    def __contains__(self, item):
        return bool(self._op("contains", self, item))

    def __getitem__(self, key):
        return self._op("getitem", self, key)

    def __setitem__(self, key, value):
        self._op("setitem", self, key, value)

    def __array__(self, dtype=None, copy=None):
        arr = np.asarray(self._op("asarray", self))
        return arr.astype(dtype) if dtype is not None else arr


def _binary(name, reflected=False):
    if reflected:
        return lambda self, other: self._op(name, other, self)
    return lambda self, other: self._op(name, self, other)


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_", "xor",
              "lshift", "rshift"):
    _dunder = _name.rstrip("_")
    setattr(RemoteObject, f"__{_dunder}__", _binary(_name))
    setattr(RemoteObject, f"__r{_dunder}__", _binary(_name, reflected=True))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(RemoteObject, f"__{_name}__", _binary(_name))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(RemoteObject, f"__{_name}__", (lambda n: lambda self: self._op(n, self))(_name))


_SANDBOX = None


def sandbox_prefix() -> list[str]:
    """``unshare`` into a new PID namespace, where the system allows it (root, or unprivileged
    user namespaces): every process the student's code starts then dies with the worker, and
    none of them can see or signal a process outside (the grader, other students' workers)."""
    global _SANDBOX
    if _SANDBOX is None:
        _SANDBOX = []
        if os.environ.get("BPKIT_GRADER_NO_PIDNS") != "1" and shutil.which("unshare"):
            for prefix in (["unshare", "--pid", "--fork", "--kill-child"],
                           ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--kill-child"]):
                try:
                    ok = subprocess.run([*prefix, "true"], capture_output=True, timeout=20).returncode == 0
                except (OSError, subprocess.TimeoutExpired):
                    ok = False
                if ok:
                    _SANDBOX = prefix
                    break
    return _SANDBOX


def _limits(memory_mb):
    def apply():
        limit = int(memory_mb) * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 2**20, 64 * 2**20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


class Judge:
    def __init__(self, job):
        self.job = job
        self.limits = {**DEFAULT_LIMITS, **(job.get("limits") or {})}
        self.proc = self.chan = None
        self.gen = 0
        self.skip = set()
        self.cell_outputs = {}
        self.tamper = []
        self.notes = []
        self.restarts = -1
        self.deadline = None
        self.callbacks, self.callback_ids = {}, {}
        self.tmp = tempfile.mkdtemp(prefix="bpkit-worker-")

    # ---------------------------------------------------------------- worker
    def start(self):
        self.stop()
        self.restarts += 1
        self.gen += 1
        r, w = os.pipe()
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONDONTWRITEBYTECODE="1", PYTHONHASHSEED="0", MPLBACKEND="Agg")
        env["BPKIT_REPLY_FD"] = str(w)
        self.proc = subprocess.Popen(
            [*sandbox_prefix(), sys.executable, os.path.join(HERE, "worker.py")], stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(w,), cwd=self.tmp, env=env,
            preexec_fn=_limits(self.limits["memory_mb"]), start_new_session=True)
        os.close(w)
        self.chan = Channel(r, self.proc.stdin.fileno(), limit=256 * 2**20)
        rep = self.chan.request("init", {"trusted": [[c["id"], c["code"]] for c in self.job["trusted"]]},
                                self.serve, time.monotonic() + self.limits["startup"])
        if not rep.get("ok"):
            raise RuntimeError(f"the read-only cells fail in the worker: {rep.get('errors')}")
        for cell in self.job["student"]:
            if cell["key"] in self.skip:
                continue
            deadline = time.monotonic() + self.limits["timeout"]
            try:
                rep = self.chan.request("cell", {"name": cell["label"], "code": cell["code"]}, self.serve, deadline)
            except (ChannelTimeout, ChannelClosed, ProtocolError) as exc:
                code = self.kill()
                self.skip.add(cell["key"])
                err = self._failure(exc, code)
                self.cell_outputs.setdefault(cell["key"], error_outputs(err, [], {}))
                self.notes.append(f"{cell['label']}: {err.__class__.__name__}: {err}; the cell was skipped")
                return self.start()
            self._tamper(rep.get("tamper", []))
            if cell["key"] not in self.cell_outputs:
                outs = stream_outputs(str(rep.get("stdout", "")), str(rep.get("stderr", "")))
                if rep.get("error"):
                    e = rep["error"]
                    outs.append({"output_type": "error", "ename": str(e.get("ename")), "evalue": str(e.get("evalue")),
                                 "traceback": [str(t) for t in e.get("tb", [])] +
                                              [f"{e.get('ename')}: {e.get('evalue')}"]})
                self.cell_outputs[cell["key"]] = outs

    def kill(self):
        """Stop the worker and its children; return its exit status."""
        if self.proc is None:
            return None
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        self._close()
        return code

    def _close(self):
        if self.chan is not None:
            with contextlib.suppress(OSError):
                os.close(self.chan.rfd)
        if self.proc is not None and self.proc.stdin:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        self.proc = self.chan = None

    def stop(self):
        if self.proc is not None:
            self.kill()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _failure(self, exc, code):
        if isinstance(exc, ChannelTimeout):
            return GradingTimeout(f"your code ran for more than {self.limits['timeout']:g} s and was stopped "
                                  f"(an endless loop? a very slow computation?)")
        if isinstance(exc, ProtocolError):
            return DeadKernelError(f"the process running your code sent garbage ({exc}) and was stopped")
        why = (f"killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exit status {code}")
        return DeadKernelError(f"the Python process running your code stopped ({why}): os._exit, sys.exit "
                               f"from C code, a crash, or too much memory")

    def _tamper(self, found):
        for f in found:
            text = f"at run time: {str(f)[:300]}"
            if text not in self.tamper:
                self.tamper.append(text)

    # ------------------------------------------------------------------ RPC
    def to_ref(self, obj):
        if isinstance(obj, StudentFunction):
            return {"__student__": obj.__name__}
        if isinstance(obj, RemoteObject):
            if obj._gen != self.gen:
                raise DeadKernelError("this object lived in a process that has been stopped")
            return {"__handle__": obj._hid}
        for name, value in self.pristine.items():
            if value is obj and callable(obj):
                return {"__trusted__": name}
        if callable(obj):
            cid = self.callback_ids.get(id(obj))
            if cid is None:
                cid = len(self.callbacks) + 1
                self.callbacks[cid] = obj
                self.callback_ids[id(obj)] = cid
            return {"__callback__": cid}
        return None

    def from_ref(self, data):
        if "__handle__" in data:
            hid = data["__handle__"]
            if not isinstance(hid, int):
                raise ProtocolError("malformed handle")
            return RemoteObject(self, hid, self.gen, str(data.get("type", "object"))[:100])
        if "__trusted__" in data:
            name = data["__trusted__"]
            if name not in self.pristine:
                raise ProtocolError("unknown trusted name")
            return self.pristine[name]
        if "__callback__" in data:
            if data["__callback__"] not in self.callbacks:
                raise ProtocolError("unknown callback")
            return self.callbacks[data["__callback__"]]
        raise ProtocolError("unknown reference")

    def serve(self, msg):
        """A request from the worker: only calls of the test code's own functions (callbacks)."""
        if msg.get("op") != "callback" or msg.get("target") not in self.callbacks:
            raise ProtocolError("the worker may only call back functions it was given")
        fn = self.callbacks[msg["target"]]
        try:
            value = fn(*self.codec.decode(msg.get("args", [])), **self.codec.decode(msg.get("kwargs", {})))
            return {"ok": True, "value": self.codec.encode(value)}
        except (GradingTimeout, DeadKernelError):
            raise
        except Exception as exc:  # noqa: BLE001 - reported to the student's code as an error
            return {"ok": False, "error": {"ename": type(exc).__name__, "evalue": str(exc)[:500], "tb": []}}

    def substitutions(self):
        """Names the test code has swapped (``substituted(...)``) -> references for the worker."""
        subs = {}
        for name, orig in self.watch.items():
            cur = self.ns.get(name, orig)
            if cur is not orig:
                ref = self.codec.encode(cur)
                subs[name] = ref
        return subs

    def remote(self, kind, target, name=None, args=(), kwargs=None):
        kwargs = kwargs or {}
        for attempt in (1, 2):
            if not self.alive():
                try:
                    self.start()
                except (ChannelTimeout, ChannelClosed, ProtocolError, RuntimeError, OSError) as exc:
                    self.kill()
                    raise DeadKernelError(f"the process for your code could not be started: {exc}") from None
            payload = {"kind": kind, "target": self.codec.encode(target) if target is not None else None,
                       "name": name, "args": self.codec.encode(list(args)), "kwargs": self.codec.encode(kwargs),
                       "subs": self.substitutions() if kind == "call" else {}}
            try:
                rep = self.chan.request("call", payload, self.serve, self.deadline)
                break
            except ChannelTimeout as exc:
                raise self._failure(exc, self.kill()) from None
            except (ChannelClosed, ProtocolError) as exc:
                err = self._failure(exc, self.kill())
                if attempt == 2 or isinstance(exc, ProtocolError):
                    raise err from None
                self.notes.append(f"the student's process stopped and was restarted once: {err}")
        sys.stdout.write(str(rep.get("stdout", "")))
        sys.stderr.write(str(rep.get("stderr", "")))
        self._tamper(rep.get("tamper", []))
        if not rep.get("ok"):
            raise remote_exception(rep.get("error") or {})
        value = self.codec.decode(rep.get("value"))
        after = self.codec.decode(rep.get("after"))
        if isinstance(after, list) and len(after) == 2:
            writeback(list(args), after[0])
            writeback(kwargs, after[1])
        return value

    # ------------------------------------------------------------------ run
    def run(self):
        start = time.monotonic()
        self.ns = {"__name__": "__main__", "__builtins__": builtins}
        self.codec = Codec(self.to_ref, self.from_ref, {})
        hidden_files = {}
        for cell in self.job["trusted"]:
            filename = f"<cell {cell['id']}>"
            hidden_files[filename] = (split_hidden(cell["judge_code"])[1], cell["judge_code"].split("\n"))
            exec(compile(cell["judge_code"], filename, "exec"), self.ns)  # noqa: S102 - trusted
        self.pristine = {k: v for k, v in self.ns.items() if not k.startswith("__")}
        self.codec.classes = {k: v for k, v in self.pristine.items()
                              if isinstance(v, type) and issubclass(v, tuple) and hasattr(v, "_fields")}
        code_of = student_code_objects(self.job["student"])
        aliases = resolve_aliases(self.job["student"])
        view = {**self.pristine, **aliases}
        for name in self.job["proxied"]:
            self.ns[name] = StudentFunction(self, name, code_of.get(name, compile("", "<empty>", "exec")), view)
        self.watch = {k: v for k, v in self.ns.items()
                      if not k.startswith("__") and (callable(v) or isinstance(v, StudentFunction))}
        try:
            self.start()
        except Exception as exc:  # noqa: BLE001 - every test then fails with this
            self.notes.append(f"could not start the student's process: {exc}")
        tests = {}
        for cell in self.job["tests"]:
            filename = f"<test {cell['id']}>"
            hidden_files[filename] = (set(cell["hidden"]), cell["code"].split("\n"))
            out, err = BoundedWriter(self.limits["output_chars"]), BoundedWriter(self.limits["output_chars"])
            self.deadline = time.monotonic() + self.limits["timeout"]
            error = None
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    exec(compile(cell["code"], filename, "exec"), self.ns)  # noqa: S102 - trusted test code
                except BaseException as exc:  # noqa: BLE001
                    if isinstance(exc, KeyboardInterrupt):
                        raise
                    error = exc
            self.deadline = None
            outputs = stream_outputs(out.getvalue(), err.getvalue())
            failure = None
            if error is not None:
                outputs += error_outputs(error, error.__traceback__.tb_next if error.__traceback__ else None,
                                         hidden_files)
                failure = {"kind": classify(error), "ename": type(error).__name__, "message": str(error)[:300]}
            elif err.getvalue():
                failure = {"kind": "wrote to stderr", "ename": "", "message": err.getvalue()[:300]}
            tests[cell["id"]] = {"outputs": outputs, "ok": failure is None, "failure": failure,
                                 "points": cell["points"]}
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return {"version": VERSION, "key": self.job.get("key"), "tests": tests, "pid_namespace": bool(sandbox_prefix()),
                "student_cells": self.cell_outputs, "tamper": list(self.job.get("findings", [])) + self.tamper,
                "notes": self.notes, "restarts": max(self.restarts, 0), "seconds": round(time.monotonic() - start, 3)}


def classify(exc):
    if isinstance(exc, GradingTimeout):
        return "timed out"
    if isinstance(exc, DeadKernelError):
        return "process died"
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, NotImplementedError):
        return "not implemented"
    if isinstance(exc, AssertionError):
        return "wrong answer"
    return "error"


def stream_outputs(stdout, stderr):
    outs = []
    if stdout:
        outs.append({"output_type": "stream", "name": "stdout", "text": stdout})
    if stderr:
        outs.append({"output_type": "stream", "name": "stderr", "text": stderr})
    return outs


def error_outputs(exc, tb, hidden_files):
    """An nbformat error output for `exc` that shows no hidden-test line and no grader frame."""
    lines = ["Traceback (most recent call last):"]
    for frame in traceback.extract_tb(tb) if tb is not None else []:
        if frame.filename in GRADER_FILES:
            continue
        if frame.filename in hidden_files:
            hidden, code = hidden_files[frame.filename]
            where = frame.filename[1:-1].replace("test ", "test cell ", 1).replace("cell ", "read-only cell ", 1) \
                if frame.filename.startswith("<cell ") else frame.filename[1:-1].replace("test ", "test cell ", 1)
            if frame.lineno in hidden:
                lines.append(f"  {where}: a hidden test")
                continue
            text = code[frame.lineno - 1].strip() if 0 < frame.lineno <= len(code) else ""
            lines.append(f"  {where}, line {frame.lineno}\n    {text}")
        else:
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
                         + (f"\n    {frame.line}" if frame.line else ""))
    remote = getattr(exc, "remote_tb", None)
    if remote:
        lines.append("In your code:")
        lines.extend(t.rstrip("\n") for t in remote)
    lines.append(f"{type(exc).__name__}: {exc}")
    return [{"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc)[:2000], "traceback": lines}]


def writeback(orig, new):
    """Copy in-place changes the student's function made to its arguments back to the judge's."""
    if isinstance(orig, np.ndarray) and isinstance(new, np.ndarray):
        if orig.shape == new.shape and orig.flags.writeable and not np.array_equal(orig, new):
            np.copyto(orig, new, casting="unsafe")
    elif isinstance(orig, (list, tuple)) and isinstance(new, (list, tuple)):
        for i, (o, n) in enumerate(zip(orig, new)):
            if isinstance(o, (np.ndarray, list, tuple, dict)):
                writeback(o, n)
            elif isinstance(orig, list) and not isinstance(o, (StudentFunction, RemoteObject)) and type(o) is type(n):
                orig[i] = n
        if isinstance(orig, list) and len(orig) != len(new):
            orig[:] = new
    elif isinstance(orig, dict) and isinstance(new, dict):
        for k in list(orig):
            if k not in new:
                del orig[k]
        for k, n in new.items():
            o = orig.get(k)
            if isinstance(o, (np.ndarray, list, tuple, dict)):
                writeback(o, n)
            if k not in orig or not isinstance(o, (np.ndarray, list, tuple, dict, StudentFunction, RemoteObject)):
                orig[k] = n


def student_code_objects(cells):
    """name -> the code object of the student's last top-level definition of it (never run)."""
    out = {}
    for cell in cells:
        tree = parse(cell["code"])
        if tree is None:
            continue
        try:
            module = compile(tree, f"<cell {cell['label']}>", "exec")
        except (SyntaxError, ValueError):
            continue
        defs = {c.co_name: c for c in module.co_consts if isinstance(c, types.CodeType)}
        for name, how in bound_names(tree).items():
            out[name] = defs.get(name, module) if how[0] == "other" else module
    return out


def resolve_aliases(cells):
    """Names the student's imports bind to parts of bpkit or numpy, resolved here (trusted
    imports of installed packages), so that the own-work check sees through `import ... as`."""
    import importlib
    out = {}
    for cell in cells:
        tree = parse(cell["code"])
        if tree is None:
            continue
        for name, how in bound_names(tree).items():
            if how[0] != "import" or how[1].split(".")[0] not in ("bpkit", "numpy"):
                continue
            try:
                mod = importlib.import_module(how[1])
                out[name] = getattr(mod, how[2]) if how[2] else mod
            except Exception:  # noqa: BLE001
                continue
    return out


def main():
    job = json.load(sys.stdin)
    result = Judge(job).run()
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
