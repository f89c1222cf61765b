"""Tests of the BUILT website (``_build/html``): run after ``jupyter-book build``.

``make test`` runs them in a second pytest invocation after the book build (the first one
passes ``--ignore=tests/site``).  Run them by hand with ``make site-test`` (after ``make book``).

Environment variables:

``BPKIT_SITE_DIR``
    the built site to test (default: ``_build/html`` in the repository).
``BPKIT_CHROMIUM``
    the Chromium/Chrome executable the browser test drives (default: Debian's
    ``/usr/bin/chromium``, else ``chromium``/``chromium-browser`` on PATH).
``BPKIT_SKIP_BROWSER=1``
    skip the browser test when no browser can be had; the skip is reported, loudly.
    Without it a missing browser FAILS the test run.
"""

from __future__ import annotations

import pytest

from sitelib import SITE


@pytest.fixture(scope="session")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site at {SITE}: build it first (`make book`), or point "
                    f"BPKIT_SITE_DIR at one", pytrace=False)
    return SITE


def pytest_terminal_summary(terminalreporter):
    """Say it plainly when the browser test was skipped (BPKIT_SKIP_BROWSER=1)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if "BPKIT_SKIP_BROWSER" in str(getattr(r, "longrepr", ""))]
    if skipped:
        terminalreporter.write_sep("=", "THE SITE WAS NOT TESTED IN A BROWSER", red=True, bold=True)
        terminalreporter.write_line(
            f"{len(skipped)} browser test(s) skipped because BPKIT_SKIP_BROWSER=1: no page was "
            f"opened, so console errors, external requests, images, math and exercise toggles "
            f"are unchecked.  Install Chromium (`make browser` as root) and run `make site-test`.",
            red=True)
