"""Paths and helpers shared by the built-site tests (see conftest.py)."""

from __future__ import annotations

import os
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parents[2]
SITE = pathlib.Path(os.environ.get("BPKIT_SITE_DIR") or ROOT / "_build" / "html").resolve()
ARTIFACTS = SITE.parent / "test-artifacts"  # _build/test-artifacts (gitignored)
# axe-core, from npm (tests/site/package.json + package-lock.json; `make axe` runs npm ci)
AXE_JS = pathlib.Path(os.environ.get("BPKIT_AXE_JS")
                      or pathlib.Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js")

# Folders of the built site that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "_panels_static"}


def site_pages(site: pathlib.Path = SITE) -> list[str]:
    """Every HTML page of the site, as paths relative to it (posix), sorted.

    That is every ``*.html`` outside the asset folders: the chapters, the landing page
    (``index.html``, a redirect to the root document), the API reference, the bibliography,
    and Sphinx's generated ``genindex.html``, ``py-modindex.html`` and ``search.html``,
    which readers reach from the navigation too.
    """
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not (set(p.relative_to(site).parts[:-1]) & ASSET_DIRS))


def find_chromium() -> str | None:
    env = os.environ.get("BPKIT_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None
