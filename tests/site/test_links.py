"""Every internal link of the built site resolves, offline.

For each HTML page of ``_build/html`` (:func:`sitelib.site_pages`), every ``href``/``src``
that is not an external URL must name a file of the site, and every ``#fragment`` pointing
into an HTML page must name an ``id`` (or ``<a name>``) on that page.  The CSS files'
``url(...)`` references (fonts, icons) must exist too, and each chapter's Binder and Colab
buttons must open that chapter's notebook.  External links are not fetched here: that is
the scheduled ``linkcheck`` workflow's job (.github/workflows/linkcheck.yml).
"""

from __future__ import annotations

import functools
import html.parser
import pathlib
import re
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from sitelib import ROOT, SITE, site_pages

EXTERNAL_SCHEMES = {"http", "https", "mailto", "tel", "javascript", "data", "ftp"}
LINK_ATTRS = {"href", "src", "poster", "data"}
SRCSET = re.compile(r"([^\s,]+)(?:\s+[\d.]+[wx])?")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[int, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (tag == "a" and name == "name"):
                self.ids.add(value)
            elif name in LINK_ATTRS and not (tag == "link" and ("rel", "preconnect") in attrs):
                self.links.append((self.getpos()[0], value))
            elif name == "srcset":
                self.links += [(self.getpos()[0], m.group(1)) for m in SRCSET.finditer(value)]


@functools.lru_cache(maxsize=None)
def parse(path: pathlib.Path) -> _Parser:
    p = _Parser()
    p.feed(path.read_text(encoding="utf-8", errors="replace"))
    return p


def resolve(base: pathlib.Path, ref: str) -> tuple[pathlib.Path | None, str]:
    """The file a site-relative reference names (None if external) and its fragment."""
    parts = urlsplit(ref)
    if parts.scheme in EXTERNAL_SCHEMES or ref.startswith("//") or parts.netloc:
        return None, ""
    if parts.scheme:  # an unknown scheme is a broken link, not an external one
        return SITE / f"<unknown scheme {parts.scheme}>", ""
    target = base if not parts.path else (base.parent / unquote(parts.path))
    if parts.path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def test_there_are_pages(site):
    assert len(site_pages(site)) >= 3, f"too few pages in {site}"


@pytest.mark.parametrize("page", site_pages() or ["(no site built)"])
def test_internal_links_resolve(site, page):
    path = site / page
    broken = []
    for line, ref in parse(path).links:
        target, fragment = resolve(path, ref)
        if target is None:
            continue
        target = target.resolve()
        if not target.is_relative_to(site):
            broken.append(f"line {line}: {ref!r} points outside the site")
        elif not target.is_file():
            broken.append(f"line {line}: {ref!r} -> missing file {target.relative_to(site)}")
        elif fragment and target.suffix == ".html" and fragment not in parse(target).ids:
            broken.append(f"line {line}: {ref!r} -> no id {fragment!r} in {target.relative_to(site)}")
    assert not broken, f"{page}: {len(broken)} broken link(s):\n  " + "\n  ".join(broken[:30])


def test_css_references_resolve(site):
    broken = []
    for css in sorted(site.rglob("*.css")):
        for ref in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            target, _ = resolve(css, ref.strip())
            if target is not None and not target.resolve().is_file():
                broken.append(f"{css.relative_to(site)}: url({ref})")
    assert not broken, "CSS references to missing files:\n  " + "\n  ".join(broken[:30])


@pytest.mark.parametrize("page", [p for p in site_pages() if p.startswith("chapters/")] or ["(no chapters)"])
def test_launch_buttons_open_this_chapters_notebook(site, page):
    """Binder and Colab open the notebook the page was built from (repository, branch, path)."""
    notebook = page.removesuffix(".html") + ".ipynb"
    assert (ROOT / notebook).is_file(), f"{notebook} is not in the repository"
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    slug, branch = urlsplit(repo["url"]).path.strip("/"), repo["branch"]
    hrefs = {ref for _, ref in parse(site / page).links}
    expected = {
        "Binder": f"https://mybinder.org/v2/gh/{slug}/{branch}?urlpath=lab/tree/{notebook}",
        "Colab": f"https://colab.research.google.com/github/{slug}/blob/{branch}/{notebook}",
    }
    missing = [f"{name}: {url}" for name, url in expected.items() if url not in hrefs]
    assert not missing, f"{page}: launch button missing or wrong:\n  " + "\n  ".join(missing)
