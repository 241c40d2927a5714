"""Seen in a real browser (slow; skipped where Debian's `chromium` is absent): after a release night (`autogrant demo`:
notice, batches, approval, payment files) and `autogrant annual-report`, report.html, the annual report and the gate's
Data Docs index (and one validation page it links) are opened in headless Chromium over the DevTools protocol. Each
page must ask for nothing over the network, show its text (not an empty page or index), render its Chinese with a CJK
font (not tofu), and give a screenshot that is not blank; the index lists every validation of the three nights. Screenshots: OUT/screenshots/*.png (kept in pytest's temporary folder)."""

import base64
import json
import re
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
            "session": s,
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
    (root / "demo.txt").write_text(r.stdout, encoding="utf-8")  # its nights: 第1夜（2026-11-02）…
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


def test_data_docs_index_lists_every_validation_in_chromium(released, browser, blank):
    """One row per night, region and suite (decisions every night in every region, payment_batch on the release
    night in each region that released a batch), each linked to its page, drawn without a script from the web."""
    shots, out = released / "screenshots", released / "ln2021"
    docs = browser.open((out / "validation" / "docs" / "index.html").as_uri())
    _describe("data-docs-index", docs)
    _check(docs, blank, "data-docs-index", shots)
    assert "数据质量校验结果" in docs["h1"], docs["h1"]
    assert any(any(k in f["familyName"] for k in CJK_FONTS) for f in docs["fonts"]), docs["fonts"]
    nights = re.findall(r"第\d+夜（(\d{4}-\d{2}-\d{2})）", (released / "demo.txt").read_text(encoding="utf-8"))
    regions = sorted(p.name for p in (out / "regions").iterdir())
    released_regions = sorted(p.name for p in (out / "payments").iterdir() if p.is_dir() and any(p.glob("*.csv")))
    assert len(nights) == 3 and len(regions) == 14 and released_regions, (nights, regions, released_regions)
    expected = {(n, r, "decisions") for n in nights for r in regions} | {
        (nights[-1], r, "payment_batch") for r in released_regions
    }
    # the table as the browser lays it out: night, region, suite, result, counts, time, run name (the link)
    rows = browser.evaluate(
        "Array.from(document.querySelectorAll('tbody tr')).map(tr => { const a = tr.querySelector('a');"
        " return Array.from(tr.cells).map(td => td.innerText.trim()).concat([a ? a.getAttribute('href') : '']); })",
        docs["session"],
    )
    assert sorted((r[0], r[1], r[2]) for r in rows) == sorted(expected)  # every one, each once
    assert all(r[3] == "通过" and r[6] == f"LN-2021-{r[0].replace('-', '')}-{r[1]}" for r in rows), rows[:3]
    assert all((out / "validation" / "docs" / r[7]).is_file() for r in rows)
    # a linked validation page opens offline too
    page = browser.open((out / "validation" / "docs" / rows[0][7]).as_uri())
    _check(page, blank, "data-docs-validation", shots)
    assert "Validation" in page["text"] and rows[0][6] in page["text"]
    from tests.test_data_docs import remote_resources

    assert remote_resources(released) == []  # no page under OUT (or the annual report) loads from the web
