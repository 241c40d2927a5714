"""Seen in a real browser (slow; skipped where Debian's `chromium` is absent): after a release night (`autogrant demo`:
notice, batches, approval, payment files) and `autogrant annual-report`, report.html, the annual report and the gate's
Data Docs index are opened in headless Chromium over the DevTools protocol. Each page must ask for nothing over the
network, show its text (not an empty page or index), render its Chinese with a CJK font (not tofu), and give a
screenshot that is not blank. Screenshots: OUT/screenshots/*.png (kept in pytest's temporary folder)."""

import base64
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
CJK_FONTS = ("CJK", "WenQuanYi", "Droid Sans Fallback", "AR PL", "Source Han")  # families that carry Chinese glyphs
WIDTH, HEIGHT = 1400, 1800


class Browser:
    """Headless Chromium and one DevTools websocket: commands by id, events kept per session."""

    def __init__(self, profile: Path):
        from websockets.sync.client import connect

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 60
        while not (port_file.is_file() and len(port_file.read_text().split()) == 2):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().split()
        self.ws = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self.n, self.events = 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}} | ({"sessionId": session} if session else {})
        self.ws.send(json.dumps(msg))
        while True:
            m = json.loads(self.ws.recv(timeout=60))
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("method") == name and e.get("sessionId") == session:
                    self.events.remove(e)
                    return e
            m = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            self.events.append(m)

    def page(self) -> str:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Page", "DOM", "CSS", "Runtime"):
            self.send(f"{domain}.enable", session=s)
        self.send(
            "Emulation.setDeviceMetricsOverride", {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}, s
        )
        return s

    def open(self, url: str) -> dict:
        """Load ``url`` in a fresh tab; what it requested, its text, the fonts of its first heading, a screenshot."""
        s = self.page()
        self.send("Page.navigate", {"url": url}, s)
        self.wait_event("Page.loadEventFired", s)
        self.evaluate("new Promise(r => setTimeout(r, 1500))", s)  # scripts (the Data Docs' tables) settle
        requests = [e["params"]["request"]["url"] for e in self.events
                    if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == s]  # fmt: skip
        root = self.send("DOM.getDocument", {"depth": 1}, s)["root"]["nodeId"]
        h1 = self.send("DOM.querySelector", {"nodeId": root, "selector": "h1"}, s).get("nodeId")
        fonts = self.send("CSS.getPlatformFontsForNode", {"nodeId": h1}, s)["fonts"] if h1 else []
        shot = base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, s)["data"])
        return {
            "requests": requests,
            "text": self.evaluate("document.body ? document.body.innerText : ''", s),
            "h1": self.evaluate("(document.querySelector('h1') || {}).innerText || ''", s),
            "links": self.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))", s),
            "fonts": fonts,
            "png": shot,
        }

    def evaluate(self, expression: str, session: str):
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session)
        return r["result"].get("value")

    def close(self):
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def autogrant(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    r = autogrant("demo", "--out", str(root / "ln2021"), cwd=root)
    assert r.returncode == 0, r.stderr
    r = autogrant("annual-report", "--year", "2026", "--out", str(root), cwd=root)
    assert r.returncode == 0, r.stderr
    return root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


def _check(page: dict, blank: bytes, name: str, shots: Path) -> None:
    shots.mkdir(exist_ok=True)
    (shots / f"{name}.png").write_bytes(page["png"])
    remote = [u for u in page["requests"] if not u.startswith(("file:", "data:", "about:"))]
    assert remote == [], f"{name} asked the network for {remote}"
    assert page["png"][:8] == b"\x89PNG\r\n\x1a\n"
    # a blank page compresses to almost nothing; a page with tables and charts to many times that
    assert page["png"] != blank and len(page["png"]) > 5 * len(blank), f"{name}: the screenshot is blank"


@pytest.fixture(scope="module")
def blank(browser) -> bytes:
    """A blank page's screenshot at the same size (what an empty page looks like)."""
    s = browser.page()
    return base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"}, s)["data"])


def _describe(name: str, page: dict) -> None:
    fonts = sorted({f["familyName"] for f in page["fonts"]})
    print(f"\n{name}: {len(page['png'])} bytes of PNG, {len(page['text'])} characters of text, h1 fonts {fonts}")


def test_report_and_annual_report_render_in_chromium_with_chinese_glyphs(released, browser, blank):
    shots = released / "screenshots"
    report = browser.open((released / "ln2021" / "report.html").as_uri())
    _check(report, blank, "report", shots)
    assert "稳岗返还" in report["h1"] and "各统筹地区金额" in report["text"] and "鞍山市" in report["text"]
    assert any(any(k in f["familyName"] for k in CJK_FONTS) for f in report["fonts"]), report["fonts"]
    assert "validation/docs/index.html" in report["links"]

    annual = browser.open((released / "annual-report-2026.html").as_uri())
    _check(annual, blank, "annual-report", shots)
    assert "2026年度" in annual["h1"] and "应享尽享" in annual["text"] and "大连市" in annual["text"]
    assert any(any(k in f["familyName"] for k in CJK_FONTS) for f in annual["fonts"]), annual["fonts"]
    print(f"\nscreenshots: {shots}")
    _describe("report", report)
    _describe("annual-report", annual)


@pytest.mark.xfail(
    strict=True,
    reason="gate.offline_docs drops bootstrap-table (no local copy), and the Data Docs index draws its list of runs "
    "with it: in a browser the index shows an empty table (issue 15 item 7); remove this mark when fixed",
)
def test_data_docs_index_lists_the_validation_runs_in_chromium(released, browser, blank):
    shots = released / "screenshots"
    docs = browser.open((released / "ln2021" / "validation" / "docs" / "index.html").as_uri())
    _describe("data-docs-index", docs)
    (shots / "data-docs-index.png").parent.mkdir(exist_ok=True)
    (shots / "data-docs-index.png").write_bytes(docs["png"])
    remote = [u for u in docs["requests"] if not u.startswith(("file:", "data:", "about:"))]
    assert remote == [], f"the Data Docs asked the network for {remote}"
    assert "Validation Results" in docs["text"]
    # each run is a row of the index's table, linked to its page; an empty table is an empty index
    assert "LN-2021-" in docs["text"] and "210300" in docs["text"], "the Data Docs index lists no validation run"
    _check(docs, blank, "data-docs-index", shots)
