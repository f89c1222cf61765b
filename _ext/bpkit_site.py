"""Sphinx fixes for the bpkit site (loaded through ``sphinx: local_extensions`` in _config.yml).

Inline scripts registered after the builder starts (sphinx-thebe's ``const THEBE_JS_URL =
...``, sphinx-togglebutton's selector) end up twice in every page with Sphinx 7.4: the
builder gets them once as ``_JavaScript(None, ...)`` and once, from the registry, as
``_JavaScript('', ...)``, which do not compare equal.  The second ``const`` declaration
throws "Identifier 'THEBE_JS_URL' has already been declared" in every reader's console.
This drops the repeats from each page's script list (tests/site/test_browser.py checks that
no page logs an error).

It also repairs, in every written page, what axe-core (tests/site/test_browser.py) reports
as serious or critical in the theme's and the extensions' own markup (Sphinx 7.4,
pydata-sphinx-theme 0.17, myst-nb 1.4, sphinxcontrib-bibtex 2.7):

* the search field's ``aria-label="Search"`` hides its visible text "Search Ctrl+K" from
  speech-input users (label-content-name-mismatch): the label is dropped, so the visible
  text is the name;
* the colour-mode button's icons carry ``title``s ("Light", "Dark", ...) that do not match
  its name "Color mode": they become ``aria-hidden`` (the button keeps its name and tooltip);
* myst-nb's hidden-input toggles are named "Toggle hidden content" while they show "Show code
  cell source": the label is dropped, so the visible text is the name;
* the bibliography's entries use the deprecated ``role="doc-biblioentry"`` inside a
  ``role="list"`` (aria-required-children, critical): they become ``role="listitem"``.
"""

from __future__ import annotations

import pathlib
import re


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        key = (getattr(js, "filename", js) or "", getattr(js, "priority", None),
               tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


# (pattern, replacement): each must be exact for the pinned versions; a theme update that
# changes the markup makes the axe check in tests/site/test_browser.py fail loudly.
A11Y_FIXES = [
    (re.compile(r'(<button class="btn search-button-field search-button__button[^"]*"[^>]*?) aria-label="Search"'),
     r"\1"),
    (re.compile(r'(<i class="theme-switch [^"]*"\s+data-mode="\w+")\s+title="[^"]*"'), r'\1 aria-hidden="true"'),
    (re.compile(r'<summary aria-label="Toggle hidden content">'), "<summary>"),
    (re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"'), r'\1 role="listitem"'),
]


def _accessible_markup(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for page in pathlib.Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        fixed = text
        for pattern, replacement in A11Y_FIXES:
            fixed = pattern.sub(replacement, fixed)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    # after every other html-page-context handler (Sphinx's MathJax one adds its script there)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    app.connect("build-finished", _accessible_markup)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
