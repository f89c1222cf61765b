"""Sphinx fixes for the bpkit site (loaded through ``sphinx: local_extensions`` in _config.yml).

Inline scripts registered after the builder starts (sphinx-thebe's ``const THEBE_JS_URL =
...``, sphinx-togglebutton's selector) end up twice in every page with Sphinx 7.4: the
builder gets them once as ``_JavaScript(None, ...)`` and once, from the registry, as
``_JavaScript('', ...)``, which do not compare equal.  The second ``const`` declaration
throws "Identifier 'THEBE_JS_URL' has already been declared" in every reader's console.
This drops the repeats from each page's script list (tests/site/test_browser.py checks that
no page logs an error).
"""

from __future__ import annotations


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


def setup(app):
    # after every other html-page-context handler (Sphinx's MathJax one adds its script there)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
