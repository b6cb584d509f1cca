"""``nas dashboard`` in a real headless Chromium (Debian's chromium + chromium-driver, installed by
tools/system-deps.sh): on a finished quick-start run (the README's command, trained on real
CIFAR-10 JPEGs, made small), on a finished NAS-Bench-201 run and on a run whose driver is still
writing, the page loads, the trials table has one row per distinct architecture, a click draws the trial's
cell and plots its curve, and new trials appear without a reload. Screenshots go to a temporary
folder (its path is printed; ``-s`` shows it)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nas import runs

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install .[test])")
if not (CHROMIUM and DRIVER):
    pytest.skip("chromium / chromedriver not installed (tools/system-deps.sh installs them; CI has them)",
                allow_module_level=True)


def env() -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS), os.environ.get("PYTHONPATH", "")])}


def nas(*args: str) -> list[str]:
    return [sys.executable, "-m", "nas.cli", *args]


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,2600",
                "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def dashboard():
    procs = []

    def start(*run_dirs: Path) -> str:
        proc = subprocess.Popen(nas("dashboard", *map(str, run_dirs), "--port", "0"), cwd=ROOT, env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, line + proc.stderr.read()
        return match.group(0)
    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def wait(predicate, timeout: float = 30.0, what: str = ""):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def text(driver, element_id: str) -> str:
    """An element's text read in the page (the summary is redrawn as the store changes)."""
    return driver.execute_script(f"const e = document.getElementById('{element_id}'); return e ? e.textContent : ''")


def rows(driver) -> int:
    return driver.execute_script("return document.querySelectorAll('#trials-table tbody tr').length")


def click_row_and_check(driver, shots: Path, name: str) -> None:
    driver.execute_script("document.querySelector('#trials-table tbody tr').click()")
    wait(lambda: driver.execute_script("return !!document.querySelector('#drawing svg')"), what="cell drawing")
    wait(lambda: driver.execute_script(
        "const p = document.getElementById('plot-curve'); return p.data && p.data.length > 0 && "
        "p.data.some(t => t.y.length > 0)"), what="the trial's curve")
    driver.execute_script("document.getElementById('detail').scrollIntoView()")
    driver.save_screenshot(str(shots / f"{name}-detail.png"))


def test_finished_quickstart_run(browser, dashboard, tmp_path, shared_data):
    """The README's main command (experiments/quickstart.yaml on the shared CIFAR-10 JPEGs, on Ray)
    at 4 trials of 1 epoch on 100 images; a click on a trial draws its cell and plots the
    validation accuracy its epoch recorded in the store."""
    run_dir = tmp_path / "quickstart"
    done = subprocess.run(nas("search", str(ROOT / "experiments/quickstart.yaml"), "--run-dir", str(run_dir),
                              "--quiet", f"data.dataset={shared_data / 'cifar10-jpeg.tar.gz'}",
                              f"data.cache_dir={tmp_path / 'cache'}", "data.per_class=10", "budget.trials=4",
                              "evaluation.train.epochs=1"),
                          cwd=ROOT, env=env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "finished 4 trials (0 failed)" in done.stdout
    trials = runs.trials_frame(run_dir, distinct=True)
    epochs = runs.epochs_frame(run_dir)
    assert len(epochs) == 4 and set(epochs["epoch"]) == {1}  # one real epoch per trial, recorded
    browser.get(dashboard(run_dir))
    wait(lambda: rows(browser) == len(trials), what=f"{len(trials)} table rows")
    assert "finished" in text(browser, "status")
    assert text(browser, "finished") == "4 / 4"
    assert f"{len(trials)} architectures" in text(browser, "trial-count")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser.save_screenshot(str(shots / "quickstart-overview.png"))
    click_row_and_check(browser, shots, "quickstart")
    clicked = int(browser.execute_script("return document.querySelector('#trials-table tbody tr').dataset.id"))
    spec = trials.loc[trials["candidate_id"] == clicked, "spec"].item()
    assert text(browser, "detail-title").endswith(f": {spec}")
    drawn = browser.execute_script("return document.querySelector('#drawing svg').textContent")
    assert spec.startswith("cell:") and "normal cell" in drawn and "reduce cell" in drawn, drawn
    curve = browser.execute_script("return document.getElementById('plot-curve').data"
                                   ".filter(t => t.name === 'val_acc').map(t => [t.x, t.y])")
    recorded = epochs[epochs["candidate_id"] == clicked]
    assert curve == [[[1], [pytest.approx(recorded["val_acc"].item())]]]
    assert (shots / "quickstart-detail.png").stat().st_size > 10_000
    print(f"screenshots in {shots}")


def test_finished_run(browser, dashboard, tmp_path, shared_data):
    run_dir = tmp_path / "nb201"
    subprocess.run(nas("search", str(ROOT / "experiments/nasbench201_tpe.yaml"), "--run-dir", str(run_dir),
                       "--quiet", "strategy.name=random", "budget.trials=24"),
                   cwd=ROOT, env=env(), check=True, capture_output=True, timeout=120)
    distinct = len(runs.trials_frame(run_dir, distinct=True))
    browser.get(dashboard(run_dir))
    wait(lambda: rows(browser) == distinct, what=f"{distinct} table rows")
    assert "finished" in text(browser, "status")
    assert text(browser, "finished") == "24 / 24"
    assert f"{distinct} architectures" in text(browser, "trial-count")
    wait(lambda: browser.execute_script("const p = document.getElementById('plot-parcoords');"
                                        "return p.data && p.data[0].dimensions.length === 7"), what="parcoords")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser.save_screenshot(str(shots / "finished-overview.png"))
    click_row_and_check(browser, shots, "finished")
    print(f"screenshots in {shots}")


def test_running_run_updates_without_reload(browser, dashboard, tmp_path):
    run_dir = tmp_path / "live"
    search = subprocess.Popen(nas("search", str(ROOT / "experiments/nasbench201_tpe.yaml"), "--allow-code",
                                  "--run-dir", str(run_dir), "--quiet", "strategy.name=random", "budget.trials=10",
                                  "evaluation.kind=function", "evaluation.function=dashboard_toys:slow_cell",
                                  "evaluation.options.sleep=1.2"),
                              cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait(lambda: (run_dir / "trials.sqlite").is_file(), what="the run store")
        browser.get(dashboard(run_dir))
        wait(lambda: rows(browser) >= 1, what="a first row")
        wait(lambda: "running" in text(browser, "status"), what="status running")
        browser.execute_script("window.__sameDocument = true")
        before = rows(browser)
        shots = tmp_path / "screenshots"
        shots.mkdir()
        click_row_and_check(browser, shots, "running")
        wait(lambda: rows(browser) > before, timeout=30, what="a new trial without a reload")
        assert browser.execute_script("return window.__sameDocument === true")  # no reload happened
        browser.execute_script("window.scrollTo(0, 0)")
        browser.save_screenshot(str(shots / "running-overview.png"))
        print(f"screenshots in {shots}")
        assert search.wait(timeout=60) == 0, search.stderr.read()
        wait(lambda: "finished" in text(browser, "status"), what="status finished")
        assert rows(browser) == len(runs.trials_frame(run_dir, distinct=True))
        assert text(browser, "finished") == "10 / 10"
    finally:
        if search.poll() is None:
            search.terminate()
            search.wait(timeout=30)
