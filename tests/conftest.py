import subprocess
import sys
from pathlib import Path

import hypothesis
import pytest
from filelock import FileLock

# Property tests draw the same examples on every run, so a failure in CI
# reproduces locally; deadlines are off because a loaded 2-core machine is slow.
hypothesis.settings.register_profile("xentref", derandomize=True, deadline=None)
hypothesis.settings.load_profile("xentref")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id):
    """The book built strictly, as `make book` builds it, into a fresh folder.

    Built once per run: the pytest-xdist workers share the first one's build.
    """
    run = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        run = run.parent  # the run's folder, above each worker's own
    output = run / "book"
    failure = run / "book-failure.txt"
    with FileLock(f"{output}.lock"):
        if not output.exists() and not failure.exists():
            command = [sys.executable, str(ROOT / "tools" / "build_book.py"), "--path-output", str(output)]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                failure.write_text(f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    assert not failure.exists(), f"the book does not build:\n{failure.read_text()}"
    return output / "_build" / "html"


# Framework findings: a framework that is less accurate than xentref.exact
# says it could be, measured by a passing test and listed after the run.
_FINDINGS = []


@pytest.fixture
def finding(request):
    """Record a note, with its inputs, for the summary at the end of the run."""

    def record(note):
        # Carried in the test's report, so that it reaches the summary from
        # a pytest-xdist worker too.
        request.node.user_properties.append(("finding", note))

    return record


def pytest_runtest_logreport(report):
    if report.when == "call":
        _FINDINGS.extend(f"{report.nodeid}: {note}" for key, note in report.user_properties if key == "finding")


def pytest_terminal_summary(terminalreporter):
    if _FINDINGS:
        terminalreporter.section("framework findings (measured, not failures)")
        for note in _FINDINGS:
            terminalreporter.write_line(note)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium with no network, for the modules that import tests/browsing.py (which skips them without it)."""
    from browsing import CHROMEDRIVER, CHROMIUM
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        # Any request that leaves the machine fails, and shows in the console.
        "--proxy-server=127.0.0.1:9",
    ]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
