"""The site's publishing set-up: GitHub workflows, Binder environment, launch buttons.

These files only run on GitHub and mybinder.org, never in `make test`, so their key
structure is checked here: a typo would otherwise surface only after a merge.
"""

from __future__ import annotations

import json
import os
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    wf = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(wf, dict), f"{name} is not a YAML mapping"
    # YAML 1.1 reads the key `on` as True
    wf["on"] = wf.pop(True, wf.get("on"))
    return wf


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def uses(job: dict, action: str) -> list[dict]:
    return [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]


def runs(job: dict) -> str:
    return "\n".join(s.get("run", "") for s in steps(job))


@pytest.fixture(scope="module")
def book():
    return load("book.yml")


def test_book_workflow_tests_every_push_and_pull_request(book):
    assert "main" in book["on"]["push"]["branches"]
    assert "pull_request" in book["on"]
    test = book["jobs"]["test"]
    assert "make test" in runs(test), "CI must run exactly what developers run"
    image = test.get("container", "")
    image = image.get("image", "") if isinstance(image, dict) else image
    python = [s.get("with", {}).get("python-version") for s in uses(test, "actions/setup-python")]
    assert re.search(r"python:3\.11\b", image) or "3.11" in python, "Python 3.11"
    assert uses(test, "actions/checkout")


def test_book_workflow_publishes_the_tested_site_from_main_only(book):
    test, deploy = book["jobs"]["test"], book["jobs"]["deploy"]
    upload = uses(test, "actions/upload-pages-artifact")
    assert len(upload) == 1
    assert upload[0]["with"]["path"] == "_build/html"
    assert "refs/heads/main" in upload[0]["if"] and "push" in upload[0]["if"]

    assert deploy["needs"] == "test" or "test" in deploy["needs"]
    assert "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    dep = uses(deploy, "actions/deploy-pages")
    assert len(dep) == 1
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % dep[0]["id"]
    assert uses(deploy, "actions/configure-pages")
    # the pages token is not handed to the job that runs the repository's code
    assert book["permissions"] == {"contents": "read"}


def test_linkcheck_workflow_is_scheduled_and_checks_external_links():
    wf = load("linkcheck.yml")
    assert wf["on"]["schedule"] and all("cron" in s for s in wf["on"]["schedule"])
    assert "workflow_dispatch" in wf["on"]
    commands = "\n".join(runs(job) for job in wf["jobs"].values())
    assert "make linkcheck" in commands
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^linkcheck:.*\n(\t.*\n)*\t.*--builder linkcheck", makefile, flags=re.M)


def test_external_links_are_checked_only_by_the_linkcheck_workflow(book):
    for job in book["jobs"].values():
        assert "linkcheck" not in runs(job)


# Which actions the workflows may use, and nothing else (a new one is a conscious choice).
# Their versions are NOT checked here: Dependabot (.github/dependabot.yml) proposes new
# majors, and a test pinning a major would fail every such update.
KNOWN_ACTIONS = {"actions/checkout", "actions/upload-artifact", "actions/upload-pages-artifact",
                 "actions/configure-pages", "actions/deploy-pages", "actions/setup-python"}


@pytest.mark.parametrize("name", sorted(p.name for p in WORKFLOWS.glob("*.yml")))
def test_workflows_use_known_actions_each_pinned_to_a_version(name):
    wf = load(name)
    for job_name, job in wf["jobs"].items():
        for step in steps(job):
            if "uses" not in step:
                continue
            action, _, ref = step["uses"].partition("@")
            assert action in KNOWN_ACTIONS, f"{name}: job {job_name} uses an unexpected action {action}"
            # a major tag (v6), a full version (v6.0.2) or a commit SHA; never a branch like main
            assert re.fullmatch(r"v\d+(\.\d+){0,2}|[0-9a-f]{40}", ref), (
                f"{name}: {step['uses']} must name a release tag or a commit, not {ref!r}")


def test_dependabot_updates_the_actions_weekly():
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    assert config["version"] == 2
    actions = [u for u in config["updates"] if u["package-ecosystem"] == "github-actions"]
    assert len(actions) == 1 and actions[0]["directory"] == "/"
    assert actions[0]["schedule"]["interval"] in ("daily", "weekly")


def test_readme_documents_the_pages_setting_and_the_disabled_schedule():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"Source.{0,40}GitHub Actions", readme), "README: the one-time Pages setting"
    assert "60 days" in readme and "Enable workflow" in readme, "README: the link check's 60-day disable"


def test_binder_installs_a_slim_pinned_environment_and_bpkit():
    """Binder gets what the notebooks import plus JupyterLab, not the book/test toolchain."""
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    lines = [ln for ln in lines if ln]
    assert "-c ../constraints.txt" in lines, "Binder uses the same exact versions as make (Python 3.11)"
    names = {re.split(r"[=<>;\[ ]", ln)[0].lower() for ln in lines if not ln.startswith("-")}
    assert {"numpy", "sympy", "matplotlib", "jupyterlab"} <= names
    for heavy in ("jupyter-book", "pytest", "playwright", "nbval", "hypothesis", "sphinx-exercise"):
        assert heavy not in names, f"binder/requirements.txt should not install {heavy}"
    assert not any(ln.startswith("-r") for ln in lines), "Binder must not pull the whole requirements.txt"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    text = post.read_text()
    assert text.startswith("#!/bin/bash") and "set -e" in text
    assert re.search(r"pip install .*-e \.", text)


def test_launch_buttons_and_repository_buttons():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == "https://github.com/bpkit-book/bpkit"
    assert config["repository"]["branch"] == "main"
    launch = config["launch_buttons"]
    assert launch["colab_url"] == "https://colab.research.google.com"
    assert launch["binderhub_url"] == "https://mybinder.org"
    assert launch["notebook_interface"] == "jupyterlab"
    html = config["html"]
    assert html["use_repository_button"] and html["use_issues_button"] and html["use_edit_page_button"]


# ----------------------------------------------------------------------------- packaging
def _pyproject() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_licences_and_pep639_metadata():
    project = _pyproject()["project"]
    assert project["license"] == "MIT", "PEP 639: an SPDX expression, not a table"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in content
    assert "Section 8" in content, "the full CC BY 4.0 text"
    assert not any(c.startswith("License ::") for c in project.get("classifiers", [])), \
        "PEP 639: no licence classifiers beside `license`"
    # the licence fields need setuptools 77+; an upper bound keeps a future major from
    # breaking make setup, Binder and Colab at once
    requires = _pyproject()["build-system"]["requires"]
    setuptools = [r for r in requires if r.startswith("setuptools")]
    assert len(setuptools) == 1 and re.fullmatch(r"setuptools>=77\.0\.3,<\d+", setuptools[0].replace(" ", ""))


def test_one_version_in_one_place():
    pyproject = _pyproject()
    assert "version" not in pyproject["project"] and "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bpkit.__version__"}
    init = (ROOT / "bpkit" / "__init__.py").read_text()
    assert len(re.findall(r"^__version__ = \"\d+\.\d+\.\d+\"$", init, flags=re.M)) == 1
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert "version" not in citation, "CITATION.cff must not repeat the version"


def test_distribution_name_typed_package_and_citation():
    project = _pyproject()["project"]
    assert project["name"] == "bpkit-book", "`bpkit` on PyPI is an unrelated project"
    assert (ROOT / "bpkit" / "py.typed").exists()
    assert "py.typed" in _pyproject()["tool"]["setuptools"]["package-data"]["bpkit"]
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0"
    assert citation["title"] and citation["authors"] and citation["message"]
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}


def test_site_footer_states_both_licences():
    footer = yaml.safe_load((ROOT / "_config.yml").read_text())["html"]["extra_footer"]
    assert "creativecommons.org/licenses/by/4.0" in footer and "CC BY 4.0" in footer
    assert "LICENSE" in footer and "MIT" in footer


def test_ruff_is_pinned_once_and_run_by_make_test_and_pre_commit():
    pins = re.findall(r"^ruff==(\S+)", (ROOT / "requirements.txt").read_text(), flags=re.M)
    assert len(pins) == 1
    for constraints in ("constraints.txt", "constraints-py310.txt"):
        assert f"ruff=={pins[0]}" in (ROOT / constraints).read_text().split()
    hooks = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    ruff = [r for r in hooks if r["repo"].endswith("/ruff-pre-commit")]
    assert len(ruff) == 1 and ruff[0]["rev"] == f"v{pins[0]}", "pre-commit's ruff = requirements.txt's"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\bruff\b", makefile, flags=re.M)
    assert re.search(r"^ruff:.*\n\t.*ruff check bpkit tests tools chapters", makefile, flags=re.M)
    assert "*.ipynb" in _pyproject()["tool"]["ruff"]["extend-include"]


def test_axe_core_is_locked():
    lock = json.loads((ROOT / "tests" / "site" / "package-lock.json").read_text())
    axe = lock["packages"]["node_modules/axe-core"]
    package = json.loads((ROOT / "tests" / "site" / "package.json").read_text())
    assert package["dependencies"]["axe-core"] == axe["version"], "an exact version, as locked"
    assert axe["integrity"].startswith("sha512-")
