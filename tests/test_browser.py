"""JupyterLab in a real browser: while a cell runs, the kernel status says Busy (run by `make test-browser`).

The course's JupyterLab (its pinned packages and the settings `make prepare` writes) is started on a scratch
notebook and driven in headless Chromium with selenium. The cell runs a tqdm.auto loop after "Restart Kernel and
Run All Cells": with ipykernel 7's subshells, JupyterLab 4.6 used to show "Idle" there (its widget manager's
subshell requests were answered with idle status messages); `commsOverSubshells: disabled` fixes it.
Needs Chromium and chromedriver (Debian/Ubuntu: `apt-get install -y chromium chromium-driver`; or set CHROMIUM
and CHROMEDRIVER) and selenium (`make test-browser` installs it).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
LOOP = "from tqdm.auto import tqdm; import time; steps = [time.sleep(0.5) for _ in tqdm(range(30), desc='steps')]"
LOOP_SECONDS = 15

# The status bar's kernel item ("<kernel> | Busy") and the prompts of the notebook's code cells, in one round trip.
PROBE = r"""
const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
const items = [...document.querySelectorAll('#jp-main-statusbar span')].map(e => e.textContent.trim())
  .filter(t => / \| /.test(t));
const prompts = nb ? [...nb.querySelectorAll('.jp-Cell.jp-CodeCell .jp-InputArea-prompt')]
  .map(p => p.textContent.trim()) : [];
return {status: items.length ? items[0].split('|').pop().trim() : null, prompts: prompts};
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The course's JupyterLab on a scratch folder (its own settings and workspaces); stopped by its PID."""
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "chromedriver")):
        assert Path(path).is_file(), (f"{what} not found at {path}: install it (apt-get install -y chromium "
                                      "chromium-driver) or set CHROMIUM / CHROMEDRIVER")
    root = tmp_path_factory.mktemp("lab")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('scratch')")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "scratch.ipynb")
    port, token = _free_port(), "course-browser-test"
    env = dict(os.environ, JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={root / '.settings'}", f"--LabApp.workspaces_dir={root / '.workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(root / "lab.log", "w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, f"JupyterLab exited: {(root / 'lab.log').read_text()[-2000:]}"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 120 s"
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/scratch.ipynb?reset&token={token}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _click(driver, by, selector, timeout=60):
    """Click once JupyterLab lets us (it may still be laying the element out)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d):
        try:
            d.find_element(by, selector).click()
            return True
        except WebDriverException:
            return False
    WebDriverWait(driver, timeout).until(attempt)


def _numbered(prompt: str | None) -> bool:
    return bool(prompt) and prompt.startswith("[") and prompt.rstrip(":").strip("[]").isdigit()


def test_kernel_status_says_busy_while_a_cell_with_a_progress_bar_runs(lab, browser):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    probe = lambda: browser.execute_script(PROBE)  # noqa: E731
    browser.get(lab)
    WebDriverWait(browser, 120).until(lambda d: probe()["status"] == "Idle" and probe()["prompts"])
    # A new cell below the first, holding the loop; then Kernel > Restart Kernel and Run All Cells.
    _click(browser, By.CSS_SELECTOR, f"{PANEL} .jp-Cell:last-child .jp-InputArea-prompt")
    ActionChains(browser).send_keys(Keys.ESCAPE).pause(0.3).send_keys("b").pause(0.5).send_keys(Keys.ENTER) \
        .pause(0.5).send_keys(LOOP).pause(0.3).send_keys(Keys.ESCAPE).perform()
    _click(browser, By.XPATH, "//li[contains(@class,'lm-MenuBar-item')][.//div[text()='Kernel']]")
    _click(browser, By.XPATH, "//li[contains(@class,'lm-Menu-item')][.//div[starts-with(text(),"
                              "'Restart Kernel and Run All Cells')]]")
    _click(browser, By.CSS_SELECTOR, ".jp-Dialog-button.jp-mod-accept")
    WebDriverWait(browser, 120, poll_frequency=0.2).until(
        lambda d: (lambda p: len(p["prompts"]) == 2 and _numbered(p["prompts"][0]) and p["prompts"][1] == "[*]:")(probe()))

    started, seen = time.monotonic(), []
    while time.monotonic() - started < LOOP_SECONDS - 3:  # the loop runs 15 s; stop sampling before it may end
        state = probe()
        seen.append((round(time.monotonic() - started, 1), state["status"], state["prompts"][-1]))
        if len(seen) == 12 and os.environ.get("COURSE_SCREENSHOTS"):  # for a person to look at: set the folder
            Path(os.environ["COURSE_SCREENSHOTS"]).mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(Path(os.environ["COURSE_SCREENSHOTS"]) / "busy_while_a_cell_runs.png"))
        time.sleep(0.5)
    after = WebDriverWait(browser, 60, poll_frequency=0.5).until(
        lambda d: (lambda p: p if p["status"] == "Idle" and _numbered(p["prompts"][-1]) else None)(probe()))

    not_busy = [(t, status, prompt) for t, status, prompt in seen if t >= 1 and (status, prompt) != ("Busy", "[*]:")]
    assert len(seen) >= 10 and not not_busy, f"while the cell ran: (seconds, status, prompt) not Busy/[*]: {not_busy}"
    assert after["status"] == "Idle" and _numbered(after["prompts"][-1])
