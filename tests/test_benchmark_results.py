"""The stored benchmark results (benchmarks/results/peers.json) are complete and well formed.

The book's Performance page draws everything from this file, so its schema is checked
here.  Timings themselves never decide pass/fail: only that they are there and positive.
"""

from __future__ import annotations

import json
import math
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "peers.json"


@pytest.fixture(scope="module")
def results():
    assert RESULTS.exists(), "benchmarks/results/peers.json is missing: run `make bench-peers`"
    return json.loads(RESULTS.read_text())


def positive(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def check_quartiles(q, what):
    assert set(q) >= {"median", "q25", "q75"}, what
    assert all(positive(q[k]) for k in ("median", "q25", "q75")), f"{what}: {q}"
    assert q["q25"] <= q["median"] <= q["q75"], f"{what}: {q}"


def check_point(point, what, expected):
    assert positive(point["rounds"]), what
    cs = point["contenders"]
    assert set(cs) >= expected, f"{what}: contenders {sorted(cs)}"
    for k, c in cs.items():
        check_quartiles(c["us_per_step"], f"{what} {k}")
        assert 0 < c["us_per_step"]["min"] <= c["us_per_step"]["q25"], f"{what} {k}"
        assert 0.0 <= c["max_rel_error"] <= 1e-10, f"{what} {k}: gradients disagreed"
    for k, r in point["ratios"].items():
        a, b = k.split("/")
        assert a in cs and b in cs, f"{what}: ratio {k}"
        check_quartiles(r, f"{what} ratio {k}")
        assert positive(r["ratio_of_min"]), f"{what} ratio {k}"


def test_metadata(results):
    for key in ("schema_version", "created", "runtime_s", "machine", "versions", "targets",
                "method", "labels", "tasks", "scaling", "sweeps"):
        assert key in results, key
    assert positive(results["runtime_s"])
    assert results["quick"] is False, "the stored results must come from a full run, not --quick"
    m = results["machine"]
    for key in ("platform", "machine", "python", "cpu_count", "cpu_model", "torch_default_threads"):
        assert key in m, key
    assert positive(m["cpu_count"])
    for lib in ("bpkit", "numpy", "torch", "micrograd"):
        assert results["versions"][lib], lib
    assert positive(results["targets"]["bpkit_over_numpy_max"])
    assert positive(results["targets"]["torch_over_bpkit_min"])


def test_tasks(results):
    common = {"bpkit", "numpy", "numpy_same", "torch_1t", "torch_default", "autodiff"}
    check_point(results["tasks"]["xor"], "xor", common | {"bpkit_train_step", "micrograd"})
    check_point(results["tasks"]["rnn"], "rnn", common | {"torch_rnn_1t", "torch_rnn_default"})
    for task in ("xor", "rnn"):
        ratios = results["tasks"][task]["ratios"]
        for key in ("bpkit/numpy", "bpkit/numpy_same", "torch_1t/bpkit", "torch_default/bpkit"):
            assert key in ratios, (task, key)
    assert "micrograd/bpkit" in results["tasks"]["xor"]["ratios"]
    for task in ("xor", "rnn"):
        for key in ("autodiff/bpkit", "autodiff/numpy_same"):
            assert key in results["tasks"][task]["ratios"], (task, key)


@pytest.mark.parametrize("family", ["mlp_width", "rnn_length", "rnn_width"])
def test_scaling(results, family):
    s = results["scaling"][family]
    assert len(s["sizes"]) >= 3 and s["sizes"] == sorted(s["sizes"])
    assert [p["size"] for p in s["points"]] == s["sizes"]
    for p in s["points"]:
        check_point(p, f"{family} {s['param']}={p['size']}", {"bpkit", "numpy", "torch_1t"})
    assert s["crossover"], family
    for key, c in s["crossover"].items():
        assert c["status"] in ("none", "at_or_below_smallest", "between"), key
        if c["status"] == "between":
            assert c["first_size"] in s["sizes"] and positive(c["estimate"]), key
    for k, fit in s["linear_fit"].items():
        assert math.isfinite(fit["intercept_us"]) and math.isfinite(fit["slope_us_per_unit"]), k


def check_sweep(s, what):
    assert positive(s["n"]) and 0 <= s["n_solved"] <= s["n"], what
    assert s["success_rate"] == pytest.approx(s["n_solved"] / s["n"]), what
    assert len(s["epochs_to_solve"]) == s["n"], what
    assert sum(e >= 0 for e in s["epochs_to_solve"]) == s["n_solved"], what
    if s["n_solved"]:
        assert s["epochs_quartiles"]["q25"] <= s["epochs_quartiles"]["median"] <= s["epochs_quartiles"]["q75"]


def test_sweeps(results):
    xor = results["sweeps"]["xor"]
    assert set(xor) == {"article", "book"}
    for name, s in xor.items():
        check_sweep(s, f"xor {name}")
        assert s["seeds"] == [0, 99] and s["n"] == 100
    d = results["sweeps"]["delayed_xor"]
    assert set(d["delays"]) == {"1", "2", "3"}
    for delay, s in d["delays"].items():
        check_sweep(s, f"delayed xor, delay {delay}")
        assert len(s["heldout_accuracy"]) == s["n"]
        assert all(0.0 <= a <= 1.0 for a in s["heldout_accuracy"])


def test_performance_page_falls_back_to_the_repository_copy():
    """Opened alone (Colab), the Performance page downloads peers.json from the repository
    named in _config.yml, at a pinned tag; the URL must follow the config."""
    import re

    config = (ROOT / "_config.yml").read_text()
    repo = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", config, re.M).group(1)
    nb = json.loads((ROOT / "chapters" / "11_performance.ipynb").read_text())
    loader = next("".join(c["source"]) for c in nb["cells"]
                  if c["cell_type"] == "code" and "RESULTS_URL" in "".join(c["source"]))
    assert f'REPOSITORY = "{repo}"' in loader
    import bpkit

    # the same release tag as the chapters' Colab install cells (tools/colab_cell.py)
    assert f'TAG = "v{bpkit.__version__}"' in loader
    assert "remove-cell" in next(c for c in nb["cells"] if "RESULTS_URL" in "".join(c["source"]))[
        "metadata"].get("tags", [])
