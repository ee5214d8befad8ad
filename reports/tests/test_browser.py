"""The rendered report in a real browser (headless Chromium through Playwright).

Loads ``reports/index.html`` from disk, fails on any console error or page error, checks that
every claim of docs/claims.md has its summary row and its section, that every figure is a
rendered, non-empty SVG (with its <details> opened), and saves a screenshot of the top of the
page to ``reports/screenshot.png``.

Without Chromium or Playwright the test is skipped with the reason; with
``IMPLICIT_REQUIRE_BROWSER=1`` (as in ``.ci/run``) a missing browser is a failure instead.
Run: ``nox -s browser`` (renders the page from ``reports/verification.json`` first).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPORTS = Path(__file__).resolve().parent.parent
INDEX = REPORTS / "index.html"
SCREENSHOT = REPORTS / "screenshot.png"
def _claim_ids() -> list[str]:
    """The claims of the claims document (docs/claims.md), the report's rows."""
    import sys

    sys.path.insert(0, str(REPORTS.parent))
    from checks.engine.declarations import CLAIMS as declared

    return [c.id for c in declared]


CLAIMS = _claim_ids()
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser_or_skip() -> str:
    required = os.environ.get("IMPLICIT_REQUIRE_BROWSER") == "1"
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the Python package 'playwright' is not installed (pip install -e '.[browser]')"
    exe = next((p for p in map(shutil.which, CANDIDATES) if p), None)
    if missing is None and exe is None:
        missing = "no Chromium executable on PATH (Debian: apt-get install chromium)"
    if missing:
        if required:
            pytest.fail(f"browser test required (IMPLICIT_REQUIRE_BROWSER=1) but {missing}")
        pytest.skip(f"browser test skipped: {missing}")
    return exe


@pytest.fixture(scope="module")
def page():
    exe = _browser_or_skip()
    if not INDEX.exists():
        pytest.fail(f"{INDEX} does not exist: render it first (python -m reports.render)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
        pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        # Any request that leaves the file (a CDN font, a script) is a defect of a self-contained page.
        pg.on("request", lambda req: errors.append(f"external request: {req.url}")
              if not req.url.startswith(("file:", "data:", "about:")) else None)
        pg.goto(INDEX.as_uri(), wait_until="load")
        pg.screenshot(path=str(SCREENSHOT))  # top of the page, as a reader first sees it
        yield pg, errors
        browser.close()


def test_no_console_errors(page):
    _, errors = page
    assert not errors, "the report page logged errors:\n" + "\n".join(errors)


def test_every_claim_has_a_row_and_a_section(page):
    pg, _ = page
    missing_rows = [c for c in CLAIMS if pg.locator(f"#row-{c}").count() != 1]
    missing_sections = [c for c in CLAIMS if pg.locator(f"section#{c}").count() != 1]
    assert not missing_rows, f"summary rows missing for {missing_rows}"
    assert not missing_sections, f"claim sections missing for {missing_sections}"
    badges = pg.eval_on_selector_all("tr[id^='row-C']", "rows => rows.map(r => r.innerText)")
    for c, text in zip(CLAIMS, badges):
        assert any(v in text for v in ("VERIFIED", "REFUTED", "INCONCLUSIVE", "VACUOUS")), f"{c}: no verdict badge in {text!r}"


def test_every_figure_is_a_rendered_svg(page):
    pg, _ = page
    pg.eval_on_selector_all("details", "ds => ds.forEach(d => d.open = true)")
    figs = pg.eval_on_selector_all(
        ".figure",
        """fs => fs.map(f => {
            const s = f.querySelector('svg');
            if (!s) return {name: f.dataset.figure, svg: false};
            const b = s.getBoundingClientRect();
            return {name: f.dataset.figure, svg: true, w: b.width, h: b.height,
                    marks: s.querySelectorAll('path, line, polyline, rect, circle, use, text').length};
        })""",
    )
    assert figs, "the report has no figures"
    bad = [f for f in figs if not f["svg"] or f["w"] < 50 or f["h"] < 50 or f["marks"] < 5]
    assert not bad, f"figures that are not rendered, non-empty SVG: {bad}"


def test_screenshot_written(page):
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 10_000, "screenshot missing or blank"
