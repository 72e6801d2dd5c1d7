"""The HTML report in headless Chromium: loads with no request, no console message, no script from the data.

Chromium is driven over the DevTools protocol on --remote-debugging-pipe with the standard library only.
Skipped when no `chromium` / `chromium-browser` is on PATH (CI installs Debian's `chromium` package).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "auditor"))
from render_samples import MARK, enrich, hostile_train, real_report  # noqa: E402

from auditor.render.html import render_html  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium or chromium-browser on PATH "
                                "(apt-get install -y chromium to run this test)")


class Browser:
    """Just enough of the DevTools protocol: commands, events, one page session."""

    def __init__(self, profile: Path) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # move them to high numbers so dup2 onto 3 and 4 in the child cannot clobber one another
        high_r, high_w = os.dup(to_child_r) + 100, os.dup(from_child_w) + 100
        os.dup2(to_child_r, high_r)
        os.dup2(from_child_w, high_w)

        def wire() -> None:
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.stderr = open(profile / "stderr.log", "wb")
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", "--remote-debugging-pipe", f"--user-data-dir={profile / 'profile'}",
             "--window-size=1280,2000", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire,  # dup2 runs before the close of unlisted fds stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.stderr)
        for fd in (to_child_r, from_child_w, high_r, high_w):
            os.close(fd)
        self._buffer = b""
        self._next = 0
        self.events: list[dict] = []
        self.session: str | None = None

    def send(self, method: str, params: dict | None = None, *, session: bool = True, timeout: float = 30) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def drain(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        with contextlib.suppress(TimeoutError):  # the window closed: every event so far is collected
            while True:
                self.events.append(self._read(deadline))

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        return result["result"].get("value")

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a browser that is already gone needs no goodbye
            self.send("Browser.close", session=False, timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self.stderr.close()


def test_html_report_opens_clean_and_inert_in_chromium(tmp_path):
    report = enrich(real_report(tmp_path, hostile_train(), [{"text": "late parcel", "label": "delivery"}] * 6))
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    url = page.as_uri()

    browser = Browser(tmp_path)
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                       session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False})
        browser.send("Page.navigate", {"url": url})
        browser.wait_for("Page.loadEventFired")
        browser.drain(0.5)
        state = browser.evaluate(
            "({title: document.title, js: document.documentElement.getAttribute('data-js'),"
            " pwned: document.body.hasAttribute('data-pwned'), scripts: document.scripts.length,"
            " svgs: document.querySelectorAll('figure svg').length,"
            " groups: document.querySelectorAll('.group').length,"
            " rows: document.querySelectorAll('table.findings tbody tr').length,"
            " payloadText: document.body.textContent.includes(\"<script>document.title='PWNED'\"),"
            " links: Array.from(document.links).map(a => a.getAttribute('href'))})")
        # the filters run: only contradictions, then only its errors
        filtered = browser.evaluate(
            "(() => { const s = document.getElementById('f-check'); s.value = 'contradictions';"
            " s.dispatchEvent(new Event('change'));"
            " const visible = [...document.querySelectorAll('section.check')].filter(x => x.offsetParent !== null);"
            " return visible.map(x => x.dataset.check); })()")
        shot = browser.send("Page.captureScreenshot", {"format": "png"})
        browser.drain(0.3)
    finally:
        browser.close()

    import base64

    (tmp_path / "report.png").write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {tmp_path / 'report.png'}")

    methods = [e.get("method") for e in browser.events]
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert requests == [url], f"the report made requests: {requests}"
    assert "Network.loadingFailed" not in methods
    assert "Page.javascriptDialogOpening" not in methods
    exceptions = [e["params"] for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
    assert not exceptions, exceptions
    console = [e["params"] for e in browser.events if e.get("method") == "Runtime.consoleAPICalled"]
    assert not console, console
    logs = [e["params"]["entry"] for e in browser.events if e.get("method") == "Log.entryAdded"]
    assert not [entry for entry in logs if entry["level"] in ("error", "warning")], logs

    assert MARK not in state["title"] and state["title"].startswith("Dataset audit")
    assert not state["pwned"]
    assert state["js"] == "ready", "the report's own script did not run (is its CSP hash right?)"
    assert state["scripts"] == 1
    assert state["payloadText"], "the payload is shown as text"
    assert all(not (href or "").lower().startswith("javascript:") for href in state["links"])
    assert state["svgs"] >= 4 and state["groups"] == 2 and state["rows"] > 10
    assert filtered == ["contradictions"]


def _open(browser: Browser, url: str, width: int) -> None:
    target = browser.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
    browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                   session=False)["sessionId"]
    for domain in ("Page", "Runtime"):
        browser.send(f"{domain}.enable")
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    browser.send("Page.navigate", {"url": url})
    browser.wait_for("Page.loadEventFired")
    browser.events.clear()


def test_the_report_fits_a_phone_and_a_desktop_and_its_filters_hide_the_side_by_side_views(tmp_path):
    tmp_path = tmp_path / ("longfoldername" * 6)  # a path longer than a phone is wide: it must wrap
    tmp_path.mkdir()
    report = enrich(real_report(tmp_path, hostile_train(), [{"text": "late parcel", "label": "delivery"}] * 6))
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    browser = Browser(tmp_path)
    try:
        widths = {}
        for width in (1280, 390):
            _open(browser, page.as_uri(), width)
            widths[width] = browser.evaluate(
                "({page: document.documentElement.scrollWidth, view: window.innerWidth,"
                " wide: [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >"
                " window.innerWidth + 1 && !e.closest('.scroll')).slice(0, 5).map(e => e.tagName + '.' + e.className)})")
        groups = browser.evaluate(
            "(() => { const shown = () => [...document.querySelectorAll('.group')].filter(g => g.offsetParent !== null).length;"
            " const before = shown();"
            " document.querySelectorAll('input.f-sev').forEach(s => { s.checked = false; s.dispatchEvent(new Event('change')); });"
            " const none = shown();"
            " document.querySelectorAll('input.f-sev').forEach(s => { s.checked = true; s.dispatchEvent(new Event('change')); });"
            " const t = document.getElementById('f-text'); t.value = 'no such text anywhere'; t.dispatchEvent(new Event('input'));"
            " return [before, none, shown()]; })()")
    finally:
        browser.close()
    for width, seen in widths.items():
        assert seen["view"] == width and seen["page"] <= seen["view"] and not seen["wide"], (width, seen)
    assert groups == [2, 0, 0]
