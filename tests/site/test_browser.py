"""Open every page of the built site in a real browser, as a reader would.

The site (``_build/html``) is served on 127.0.0.1 from a thread; headless Chromium
(Debian's ``chromium``, driven by Playwright; no browser download) opens each page of
:func:`sitelib.site_pages`.  Every page must:

* load (HTTP 200) with no console error and no uncaught JavaScript exception;
* make no request that leaves 127.0.0.1 (all requests are routed; others are aborted and
  reported) and no local request that fails or answers >= 400;
* show every ``<img>`` (loaded, ``naturalWidth > 0``);
* have its math rendered: if it has math, MathJax was loaded from the site itself, every
  math element holds an ``mjx-container``, there is no MathJax error, and no raw TeX
  (``$$``, ``\\[``, ``\\(``, ``\\begin{``, ``$...\\cmd...$``) is left in the visible text;
* have working exercise solutions: each dropdown solution starts hidden, opens from the
  keyboard (Tab to its toggle, Enter), closes again with Space, and opens with a click;
* pass axe-core (the npm package, pinned in tests/site/package-lock.json, installed by
  ``make axe`` into tests/site/node_modules and injected from that file: no CDN) with no
  violation of impact "serious" or "critical".  Every violation, of any impact, is written
  to ``_build/test-artifacts/axe.json`` and summed up at the end of the run.

Site-wide: the API page documents every public function of every module it includes, at
least one page has a dropdown solution (so that check cannot pass vacuously), and
screenshots of the landing page and the first chapter go to ``_build/test-artifacts/``.

No browser?  The test FAILS with a banner saying so, unless ``BPKIT_SKIP_BROWSER=1`` is
set, in which case it is skipped and the skip is reported in pytest's summary.
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import json
import os
import posixpath
import re
import threading
from urllib.parse import urlsplit

import pytest

from sitelib import ARTIFACTS, AXE_JS, ROOT, SITE, find_chromium, site_pages

# Every page, except that of sphinx.ext.viewcode's source pages (_modules/, one per bpkit
# module, all made from the same template) only the index and the first module are opened:
# each page costs seconds in the browser.  test_links.py still checks all of them.
_SOURCE_PAGES = [p for p in site_pages() if p.startswith("_modules/") and p != "_modules/index.html"]
PAGES = [p for p in site_pages() if p not in _SOURCE_PAGES[1:]]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1"}

NO_BROWSER = """
==========================================================================================
  NO BROWSER: the site's real-browser test (tests/site/test_browser.py) cannot run.
  It needs Chromium: `make browser` installs Debian's `chromium` when run as root with
  apt-get (CI does), or point BPKIT_CHROMIUM at a Chromium/Chrome executable.
  To skip this test knowingly, set BPKIT_SKIP_BROWSER=1 (the skip is then reported).
  Reason: {reason}
==========================================================================================
"""


# ----------------------------------------------------------------------------- fixtures
class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass


@pytest.fixture(scope="module")
def base_url(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _no_browser(reason: str):
    message = NO_BROWSER.format(reason=reason)
    if os.environ.get("BPKIT_SKIP_BROWSER") == "1":
        pytest.skip("BPKIT_SKIP_BROWSER=1: the real-browser site test did NOT run. " + reason)
    pytest.fail(message, pytrace=False)


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        _no_browser("no Chromium found (BPKIT_CHROMIUM, /usr/bin/chromium, chromium on PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _no_browser(f"Playwright is not installed ({exc}); `make setup` installs it")
    pw = sync_playwright().start()
    try:
        # Playwright gives every launch a fresh temporary profile (user data dir).
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
    except Exception as exc:  # noqa: BLE001 - report any launch failure plainly
        pw.stop()
        _no_browser(f"{executable} did not start: {exc}")
    yield browser
    browser.close()
    pw.stop()


REFRESH = re.compile(r'<meta http-equiv="refresh" content="\d+;\s*url=([^"]+)"', re.I)


def redirect_target(path: str) -> str | None:
    """Where a redirect page (meta refresh, like the landing ``index.html``) forwards to."""
    m = REFRESH.search((SITE / path).read_text(encoding="utf-8", errors="replace"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), m.group(1))) if m else None


class PageVisit:
    """A page opened in a fresh browser context, with everything it did recorded."""

    def __init__(self, browser, base_url: str, path: str):
        self.path = path
        self.redirect = redirect_target(path)
        self.console_errors: list[str] = []
        self.external: list[str] = []
        self.failed: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(
            f"console.error: {m.text} ({m.location.get('url', '')})"))
        self.page.on("pageerror", lambda e: self.console_errors.append(f"uncaught exception: {e}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        self.response = self.page.goto(base_url + path, wait_until="load")
        if self.redirect:  # the landing page forwards to the root document
            self.page.wait_for_url(base_url + self.redirect, wait_until="load", timeout=10_000)
        self.wait_for_math()

    def _route(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            self.external.append(url)
            route.abort()
        else:
            route.continue_()

    def _request_failed(self, request):
        if request.url not in self.external:
            self.failed.append(f"{request.failure} {request.url}")

    def wait_for_math(self):
        if self.page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                        timeout=20_000)
            self.page.evaluate("() => MathJax.startup.promise.then(() => true)")

    def close(self):
        self.context.close()


CHAPTERS = [p for p in PAGES if p.startswith("chapters/")]
# Screenshots (_build/test-artifacts/), taken as a page has loaded, before any click.
SCREENSHOTS = {"index.html": "landing.png", **{c: "chapter.png" for c in CHAPTERS[:1]}}
TAKEN: set[str] = set()
# Pages the site-wide tests look at again: kept open after their per-page test.
KEEP = {"api.html"}


class Visits:
    """Each page is loaded once; the ones in KEEP stay open for the site-wide tests."""

    def __init__(self, browser, base_url):
        self.browser, self.base_url, self.open = browser, base_url, {}

    def __call__(self, path: str) -> PageVisit:
        if path not in self.open:
            self.open[path] = v = PageVisit(self.browser, self.base_url, path)
            if path in SCREENSHOTS:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                v.page.screenshot(path=str(ARTIFACTS / SCREENSHOTS[path]))
                TAKEN.add(SCREENSHOTS[path])
        return self.open[path]

    def done(self, path: str):
        if path not in KEEP and path in self.open:
            self.open.pop(path).close()


@pytest.fixture(scope="module")
def visit(browser, base_url):
    visits = Visits(browser, base_url)
    yield visits
    for v in visits.open.values():
        v.close()


# ----------------------------------------------------------------------------- per page
JS_IMAGES = """() => Array.from(document.images).map(i => ({
    src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}))"""

JS_MATH = r"""() => {
  const math = Array.from(document.querySelectorAll('.math'));
  const visible = document.body.cloneNode(true);
  visible.querySelectorAll('pre, code, script, style, textarea, mjx-container, .highlight')
         .forEach(e => e.remove());
  return {
    n_math: math.length,
    n_rendered: math.filter(e => e.querySelector('mjx-container')).length,
    unrendered: math.filter(e => !e.querySelector('mjx-container')).slice(0, 3)
                    .map(e => e.textContent.slice(0, 80)),
    errors: Array.from(document.querySelectorAll('mjx-merror, [data-mjx-error]'))
                 .slice(0, 3).map(e => e.getAttribute('data-mjx-error') || e.textContent),
    mathjax: Array.from(document.querySelectorAll('script[src*="mathjax"]')).map(s => s.src),
    text: visible.textContent,
  };
}"""

RAW_TEX = re.compile(r"\$\$|\\\[|\\\(|\\begin\{|\$[^$\n]{0,80}\\[A-Za-z]+[^$\n]{0,80}\$")


@pytest.mark.parametrize("path", PAGES or ["(no site built)"])
def test_page(site, visit, path):
    v = visit(path)
    problems = []
    if v.response is None or v.response.status != 200:
        problems.append(f"page answered {v.response and v.response.status}")
    problems += v.console_errors
    problems += [f"request left 127.0.0.1 (blocked): {u}" for u in v.external]
    problems += [f"local request failed: {f}" for f in v.failed]

    v.page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    try:
        v.page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=10_000)
    except Exception:  # noqa: BLE001 - reported below, image by image
        pass
    problems += [f"image not shown: {img['src']}" for img in v.page.evaluate(JS_IMAGES) if not img["ok"]]

    m = v.page.evaluate(JS_MATH)
    if m["n_math"]:
        if not m["mathjax"]:
            problems.append(f"{m['n_math']} math elements but no MathJax script")
        problems += [f"MathJax not served by the site: {src}" for src in m["mathjax"]
                     if urlsplit(src).hostname not in LOCAL_HOSTS]
        if m["n_rendered"] != m["n_math"]:
            problems.append(f"math not rendered: {m['n_rendered']}/{m['n_math']} have an mjx-container; "
                            f"e.g. {m['unrendered']}")
    problems += [f"MathJax error: {e}" for e in m["errors"]]
    problems += [f"raw TeX in the visible text: ...{m['text'][max(0, r.start() - 40):r.end() + 40]!r}..."
                 for r in list(RAW_TEX.finditer(m["text"]))[:3]]

    problems += check_solutions(v.page)
    problems += check_axe(v.page, path)
    visit.done(path)
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


# axe-core: which impacts fail the test.  "moderate" and "minor" ones are reported only.
AXE_FAIL = {"serious", "critical"}
AXE_RESULTS: dict[str, list[dict]] = {}
NO_AXE = ("axe-core is not installed at {path}: run `make axe` (npm ci in tests/site, from "
          "package-lock.json); `make site-test` does it for you")


def check_axe(page, path: str) -> list[str]:
    """Run axe-core on the page as loaded (light mode, solutions as the reader left them)."""
    if not AXE_JS.is_file():
        return [NO_AXE.format(path=AXE_JS)]
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))  # the file's text, inlined: nothing is fetched
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 200),
                                      summary: n.failureSummary}))}));
    }""")
    AXE_RESULTS[path] = result
    return [f"axe {v['impact']}: {v['id']} ({v['help']}) on {len(v['nodes'])} element(s), e.g. "
            f"{v['nodes'][0]['target']}: {v['nodes'][0]['html']!r}"
            for v in result if v["impact"] in AXE_FAIL]


def test_axe_report(site, visit):
    """Write every axe violation found by test_page to _build/test-artifacts/axe.json."""
    if not AXE_RESULTS:
        pytest.skip("no page was checked with axe in this run")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "axe.json").write_text(json.dumps(AXE_RESULTS, indent=1, sort_keys=True))
    counts: dict[tuple[str, str], int] = {}
    for violations in AXE_RESULTS.values():
        for v in violations:
            counts[v["impact"], v["id"]] = counts.get((v["impact"], v["id"]), 0) + len(v["nodes"])
    print(f"\naxe-core on {len(AXE_RESULTS)} pages: " + (", ".join(
        f"{impact} {rule}: {n} element(s)" for (impact, rule), n in sorted(counts.items())) or "no violations"))


def _wait(locator, state: str) -> bool:
    try:
        locator.wait_for(state=state, timeout=5_000)
        return True
    except Exception:  # noqa: BLE001 - reported by the caller
        return False


def check_solutions(page) -> list[str]:
    """Each dropdown solution starts hidden; a keyboard user can Tab to its toggle and open it
    with Enter and close it with Space; a mouse user can open it with a click."""
    problems = []
    solutions = page.locator(".solution.dropdown")
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        sol_id = sol.get_attribute("id")
        body = sol.locator(":scope > :not(.admonition-title)").first
        if body.count() == 0:
            problems.append(f"solution {sol_id}: empty")
            continue
        if body.is_visible():
            problems.append(f"solution {sol_id}: visible before it is toggled (should start hidden)")
        button = sol.locator(".admonition-title button.toggle-button")
        if button.count() != 1:
            problems.append(f"solution {sol_id}: no toggle button (sphinx-togglebutton did not run)")
            continue
        # Reachable with Tab: a focusable element in the tab order, with an accessible name
        # that says what it does and whether it is open.
        info = button.evaluate("""b => ({tabindex: b.tabIndex, name: b.getAttribute('aria-label') || b.textContent.trim(),
                                         expanded: b.getAttribute('aria-expanded')})""")
        if info["tabindex"] < 0:
            problems.append(f"solution {sol_id}: its toggle is not in the tab order (tabindex {info['tabindex']})")
        if not info["name"]:
            problems.append(f"solution {sol_id}: its toggle has no accessible name")
        # Tab onto the toggle from the element just before it, then Enter: it opens.
        button.evaluate("b => { const t = document.createElement('span'); t.tabIndex = 0; t.id = 'bpkit-tab-start';"
                        " b.before(t); t.focus(); }")
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement && document.activeElement.matches('button.toggle-button')")
        page.evaluate("() => document.getElementById('bpkit-tab-start').remove()")
        if not focused:
            problems.append(f"solution {sol_id}: Tab does not reach its toggle")
            button.focus()
        page.keyboard.press("Enter")
        if not _wait(body, "visible"):
            problems.append(f"solution {sol_id}: content not visible after Enter on its toggle")
            continue
        page.keyboard.press("Space")
        if not _wait(body, "hidden"):
            problems.append(f"solution {sol_id}: content still visible after Space on its toggle")
        button.click()
        if not _wait(body, "visible"):
            problems.append(f"solution {sol_id}: content not visible after clicking its toggle")
    return problems


# ----------------------------------------------------------------------------- site-wide
def api_modules() -> list[str]:
    return re.findall(r"^\.\. automodule:: (\S+)", (ROOT / "api.md").read_text(), flags=re.M)


def test_api_page_documents_every_public_function(site, visit):
    modules = api_modules()
    assert "bpkit.layers" in modules and "bpkit.mlp" in modules, modules
    v = visit("api.html")
    documented = set(v.page.evaluate(
        "() => Array.from(document.querySelectorAll('dl.py > dt[id]')).map(d => d.id)"))
    missing = []
    for name in modules:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if inspect.isfunction(obj) and f"{name}.{attr}" not in documented:
                missing.append(f"{name}.{attr}")
    assert not missing, f"public functions missing from the API page: {missing}"
    for target in ("bpkit.layers.dense_backward", "bpkit.mlp.mlp_backward", "bpkit.gradcheck.check_gradients"):
        dt = v.page.locator(f"dt[id='{target}']")
        assert dt.is_visible(), f"{target} is not shown on the API page"
        assert target.rsplit(".", 1)[1] in dt.inner_text()
    # sphinx.ext.viewcode: every documented function links to its source, and back
    no_source = v.page.evaluate("""() => Array.from(document.querySelectorAll('dl.py.function > dt[id]'))
        .filter(d => !d.querySelector('a[href*="_modules/"] .viewcode-link')).map(d => d.id)""")
    # A re-export (bpkit.rnn.rnn_backward is bpkit.recurrence.rnn_backward) links to the
    # function where it is defined, and that entry carries the [source] link.
    def defined_elsewhere(dt_id):
        module, _, attr = dt_id.rpartition(".")
        obj = getattr(importlib.import_module(module), attr, None)
        home = f"{getattr(obj, '__module__', module)}.{attr}"
        return home != dt_id and home in documented and home not in no_source
    no_source = [d for d in no_source if not defined_elsewhere(d)]
    assert not no_source, f"functions without a [source] link on the API page: {no_source}"


def test_api_page_covers_every_module(site):
    """A new public bpkit module must get its section in api.md."""
    public = sorted(f"bpkit.{p.stem}" for p in (ROOT / "bpkit").glob("*.py") if not p.stem.startswith("_"))
    # a module whose names are re-exports may be declared with `.. py:module::` (bpkit.sweep)
    declared = set(api_modules()) | set(re.findall(r"^\.\. py:module:: (\S+)", (ROOT / "api.md").read_text(), flags=re.M))
    missing = set(public) - declared
    assert not missing, f"add these modules to api.md: {sorted(missing)}"


def test_some_page_has_a_dropdown_solution(site):
    pages = [p for p in PAGES if 'class="solution dropdown' in (site / p).read_text(encoding="utf-8")]
    assert pages, "no page has a dropdown exercise solution, so the toggle check never ran"


def test_screenshots(site, visit):
    """The landing page and the first chapter, as a reader first sees them."""
    assert CHAPTERS, "no chapter pages in the built site"
    for path, name in SCREENSHOTS.items():
        if name not in TAKEN:  # test_page did not open it in this run (e.g. -k)
            visit(path)
            visit.done(path)
        assert (ARTIFACTS / name).stat().st_size > 10_000, f"{name} looks empty"
