"""Open every page of the built book in headless Chromium.

A page fails if it shows raw TeX instead of typeset math, if an image did not load,
or if the browser console logged an error. One screenshot per page is saved under
``_build/screenshots/`` for a human look.

Run after ``jupyter-book build .`` (``make test`` does both). Outside CI, a machine
without Chromium skips these tests loudly; with ``CI=true`` it fails instead.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
SKIPPED_PAGES = {"genindex.html", "search.html", "index.html"}  # index.html only redirects

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]

# JavaScript run in each page once MathJax (if any) has finished.
PAGE_REPORT_JS = """
const done = arguments[arguments.length - 1];
const report = () => {
  const maths = Array.from(document.querySelectorAll('.math'));
  const untypeset = maths.filter(m => !m.querySelector('mjx-container'))
                         .map(m => m.textContent.slice(0, 80));
  const texts = document.body ? document.body.innerText : '';
  const rawTex = [];
  for (const pattern of ['$$', '\\\\(', '\\\\[', '\\\\begin{', '\\\\frac', '\\\\sum']) {
    if (texts.includes(pattern)) rawTex.push(pattern);
  }
  const brokenImages = Array.from(document.images)
      .filter(img => !(img.complete && img.naturalWidth > 0))
      .map(img => img.getAttribute('src'));
  done({maths: maths.length, untypeset, rawTex, brokenImages, images: document.images.length});
};
if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
  MathJax.startup.promise.then(report, report);
} else {
  report();
}
"""


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def driver():
    chromium = _find("chromium", "chromium-browser", "google-chrome")
    chromedriver = _find("chromedriver")
    if chromium is None or chromedriver is None:
        message = (
            "Chromium or chromedriver not found: the browser test of the built book did NOT run. "
            "Install them with `apt-get install -y chromium chromium-driver`."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        warnings.warn(message)
        print("\n" + "!" * 78 + "\n" + message + "\n" + "!" * 78)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="memcomp-chromium-")
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    browser.set_script_timeout(60)
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _serve(directory: Path):
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output readable
        pass


def page_problems(browser, url: str, screenshot: Path | None = None) -> list[str]:
    """Load ``url`` and list what is wrong with it (empty list: page is fine)."""
    browser.get_log("browser")  # drop anything logged before this page
    browser.get(url)
    report = browser.execute_async_script(PAGE_REPORT_JS)
    problems = []
    if report["untypeset"]:
        problems.append(f"{len(report['untypeset'])} math elements not typeset, e.g. {report['untypeset'][0]!r}")
    if report["rawTex"]:
        problems.append(f"raw TeX visible in the page text: {report['rawTex']}")
    if report["brokenImages"]:
        problems.append(f"images failed to load: {report['brokenImages']}")
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    if errors:
        problems.append(f"console errors: {errors}")
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1280, min(max(height, 800), 12000))
        browser.save_screenshot(str(screenshot))
        browser.set_window_size(1280, 1600)
    return problems


def built_pages() -> list[Path]:
    if not (HTML / "book").is_dir():
        pytest.fail(f"no built book under {HTML}: run `jupyter-book build .` first (make test does)")
    return sorted(p for p in HTML.rglob("*.html") if p.name not in SKIPPED_PAGES and "_static" not in p.parts and "_sources" not in p.parts)


def test_the_checker_catches_broken_pages(driver, tmp_path):
    """Control: a page with raw TeX, a missing image and a script error must be flagged."""
    (tmp_path / "bad.html").write_text(
        "<html><body><p>Raw math: $$x^2$$ and \\(a+b\\)</p>"
        "<img src='missing.png'><script>throw new Error('boom')</script></body></html>"
    )
    (tmp_path / "good.html").write_text("<html><body><p>Nothing to see.</p></body></html>")
    server, base = _serve(tmp_path)
    try:
        bad = page_problems(driver, f"{base}/bad.html")
        good = page_problems(driver, f"{base}/good.html")
    finally:
        server.shutdown()
    joined = " | ".join(bad)
    assert "raw TeX" in joined and "images failed" in joined and "console errors" in joined, bad
    assert good == []


def test_every_page_renders(driver):
    pages = built_pages()
    assert len(pages) >= 2, f"expected the book's pages under {HTML}, found {pages}"
    server, base = _serve(HTML)
    failures = {}
    maths_seen = 0
    try:
        for page in pages:
            rel = page.relative_to(HTML).as_posix()
            shot = SHOTS / (rel.replace("/", "__").removesuffix(".html") + ".png")
            problems = page_problems(driver, f"{base}/{rel}", screenshot=shot)
            maths_seen += driver.execute_script("return document.querySelectorAll('mjx-container').length")
            if problems:
                failures[rel] = problems
    finally:
        server.shutdown()
    assert not failures, "pages with problems:\n" + "\n".join(f"{k}: {v}" for k, v in failures.items())
    assert maths_seen > 0, "no typeset math found anywhere in the book"


# --------------------------------------------------------------------------- the two editions
# The public book (`_build/html`) shows each exercise's solution folded; the student edition
# (`make book-student` -> `_build/student-html`) must hold no solution text anywhere.

STUDENT_HTML = ROOT / "_build" / "student-html"
EXERCISES_PAGE = "book/part2/recovery_to_composition_exercises.html"
# Text that only solutions carry: sphinx-exercise's solution title, the rubrics, one solution's sentence.
SOLUTION_TEXTS = ("Solution to", "Rubric (2 points)", "more than 20 times the in-distribution loss")


def test_public_book_shows_solutions_folded(driver):
    from selenium.webdriver.common.by import By

    page = HTML / EXERCISES_PAGE
    if not page.is_file():
        pytest.fail(f"{page} not built: run `jupyter-book build .` first (make test does)")
    source = page.read_text(encoding="utf-8")
    assert all(text in source for text in SOLUTION_TEXTS), "a solution's text is missing from the public book"
    server, base = _serve(HTML)
    try:
        assert page_problems(driver, f"{base}/{EXERCISES_PAGE}") == []
        solutions = driver.find_elements(By.CSS_SELECTOR, "div.solution.dropdown")
        visible = driver.find_element(By.TAG_NAME, "body").text
    finally:
        server.shutdown()
    assert len(solutions) == 5, "one folded solution per exercise"
    assert "Rows with exactly one tail feature" in visible
    assert "more than 20 times the in-distribution loss" not in visible, "solutions must start folded"


def test_student_edition_has_no_solution_text(driver):
    if not (STUDENT_HTML / "book").is_dir():
        pytest.fail(f"no student edition under {STUDENT_HTML}: run `make book-student` first (make test does)")
    assert not (STUDENT_HTML / "_sources").exists(), "the student edition must not copy the sources"
    leaks = {}
    for path in STUDENT_HTML.rglob("*"):
        if path.suffix not in {".html", ".js", ".txt", ".ipynb", ".md", ".json"} or "_static" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        found = [t for t in SOLUTION_TEXTS if t in text]
        if found:
            leaks[path.relative_to(STUDENT_HTML).as_posix()] = found
    assert not leaks, f"solution text in the student edition: {leaks}"
    page = (STUDENT_HTML / EXERCISES_PAGE).read_text(encoding="utf-8")
    assert "Rows with exactly one tail feature" in page, "the exercises themselves must stay"
    assert "btn-download" not in page, "no download button (it would serve the .ipynb with its solutions)"
    assert "launch-buttons" not in page, "no Binder/Colab button (it would open the master notebook)"
    server, base = _serve(STUDENT_HTML)
    try:
        problems = page_problems(driver, f"{base}/{EXERCISES_PAGE}", screenshot=SHOTS / "student__exercises.png")
    finally:
        server.shutdown()
    assert problems == []
