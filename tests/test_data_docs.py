"""The gate's Data Docs wherever OUT lies: the index lists every validation in GX's store (one row per night, region
and suite), each linked to its page; an OUT moved to another folder writes its next night's pages into itself (GX's
site folder is relative, and an absolute one left by an older version is rewritten at open), the old folder is
never recreated, and no page under OUT loads a script, stylesheet, font or image from the internet. A night builds
its own pages only: a page of an earlier night is never rebuilt (the site's build time does not grow with nights)."""

import re
import shutil
import time
from pathlib import Path

import pytest

from autogrant.transforms.run import run_policy
from tests.conftest import NIGHT1, NIGHT2, REGION

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)

# a resource the browser would fetch from the web: script/link/img/source/iframe src|href, CSS url() and @import
REMOTE = re.compile(
    r"<(?:script|link|img|source|iframe|embed|object)\b[^>]*\b(?:src|href|data)\s*=\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//|@import\s+[\"']?\s*(?:url\()?\s*[\"']?(?:https?:)?//",
    re.I,
)
ROW = re.compile(
    r"<tr><td>(?P<night>[^<]*)</td><td>(?P<region>[^<]*)</td><td>(?P<suite>[^<]*)</td><td[^>]*>(?P<outcome>[^<]*)</td>.*?"
    r"<a href=\"(?P<href>validations/[^\"]+)\">(?P<run>[^<]+)</a></td></tr>"
)


def remote_resources(out: Path) -> list[str]:
    """Every HTML or CSS file under OUT that would load something from the internet."""
    found = []
    for path in sorted(out.rglob("*")):
        if path.suffix.lower() in (".html", ".htm", ".css") and path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found += [f"{path.relative_to(out)}: {m.group(0)}" for m in REMOTE.finditer(text)]
    return found


def stored_validations(out: Path) -> set[str]:
    """The page of every validation result in GX's store, as the index must link it (validations/<suite>/<run>/...)."""
    store = out / "validation" / "gx" / "uncommitted" / "validations"
    return {"validations/" + p.relative_to(store).with_suffix(".html").as_posix() for p in store.rglob("*.json")}


def index_rows(out: Path) -> list[dict]:
    index = (out / "validation" / "docs" / "index.html").read_text(encoding="utf-8")
    return [m.groupdict() for m in ROW.finditer(index)]


def test_the_remote_pattern_catches_what_a_browser_would_fetch():
    pages = {
        '<script src="https://cdn.example.org/x.js"></script>': 1,
        "<link rel=stylesheet href='//fonts.example.org/css'>": 1,
        "body{background:url( 'http://x.example.org/a.png')}": 1,
        '@import url("https://x.example.org/a.css");': 1,
        '<a href="https://greatexpectations.io/">a link is not a resource</a>': 0,
        '<script src="static/vendor/jquery/jquery.min.js"></script><link href="../static/a.css">': 0,
    }
    for text, n in pages.items():
        assert len(REMOTE.findall(text)) == n, text


@pytest.mark.parametrize("made_by", ["this version", "an older version"])
def test_a_moved_out_writes_its_next_night_into_itself(drop, tmp_path, made_by):
    first = tmp_path / "server-a" / "out"
    run_policy("LN-2021", drop.path, first, today=NIGHT1)
    config = first / "validation" / "gx" / "great_expectations.yml"
    text = config.read_text(encoding="utf-8")
    assert "base_directory: ../docs" in text and str(first) not in text
    if made_by == "an older version":  # which stored the site's folder as an absolute path
        config.write_text(text.replace("base_directory: ../docs", f"base_directory: {first / 'validation' / 'docs'}"))

    moved = tmp_path / "server-b" / "restored"
    moved.parent.mkdir()
    shutil.move(first, moved)
    assert not first.exists()
    night1_pages = stored_validations(moved)
    time.sleep(0.01)
    moved_at = time.time_ns()
    run_policy("LN-2021", drop.path, moved, today=NIGHT2)

    assert not first.exists(), f"the next night recreated the old folder: {sorted(first.rglob('*'))[:5]}"
    assert f"base_directory: {first}" not in (moved / "validation" / "gx" / "great_expectations.yml").read_text()
    # what a night writes, written again in the moved folder: outputs, report, the index, the suites' pages and
    # tonight's validation pages; the first night's pages stay as they were (the site is built a night at a time)
    docs = moved / "validation" / "docs"
    night2 = sorted(p for p in docs.rglob("*.html") if f"-{NIGHT2:%Y%m%d}-" in p.as_posix())
    rewritten = [moved / n for n in ("decisions.csv", "report.html", "manifest.json")] + night2
    rewritten += [docs / "index.html"] + sorted((docs / "expectations").glob("*.html"))
    stale = [p.relative_to(moved).as_posix() for p in rewritten if p.stat().st_mtime_ns < moved_at]
    assert len(night2) >= 14 and stale == []
    night1 = [p for p in docs.rglob("*.html") if f"-{NIGHT1:%Y%m%d}-" in p.as_posix()]
    assert len(night1) >= 14 and all(p.stat().st_mtime_ns < moved_at for p in night1)
    # every validation of both nights has its page in the moved folder, and the index links each of them once
    pages = stored_validations(moved)
    assert night1_pages < pages and all((docs / p).is_file() for p in pages)
    rows = index_rows(moved)
    assert sorted(r["href"] for r in rows) == sorted(pages)
    regions = sorted(p.name for p in (moved / "regions").iterdir())
    assert REGION in regions
    expected = {(night.isoformat(), region, "decisions") for night in (NIGHT1, NIGHT2) for region in regions}
    assert sorted((r["night"], r["region"], r["suite"]) for r in rows) == sorted(expected)
    # nothing under OUT names the folder it was moved from, and nothing loads from the internet
    named = [p for p in moved.rglob("*") if p.suffix in (".html", ".json", ".yml", ".csv", ".css") and p.is_file()]
    assert [p for p in named if str(first) in p.read_text(encoding="utf-8", errors="replace")] == []
    assert remote_resources(moved) == []


def test_the_index_reads_each_stored_result_once(drop, tmp_path):
    """The index lists every result in the store; a result read for one night's index is not read again for the
    next (its row is kept in validation/index_rows.json), so the index of a year of nights costs what a night's does."""
    import great_expectations as gx

    from autogrant.transforms import datadocs

    out = tmp_path / "out"
    run_policy("LN-2021", drop.path, out, today=NIGHT1)
    run_policy("LN-2021", drop.path, out, today=NIGHT2)
    docs = out / "validation" / "docs"
    listed = index_rows(out)
    assert sorted(r["href"] for r in listed) == sorted(stored_validations(out))
    ctx = gx.get_context(mode="file", project_root_dir=str(out / "validation"))
    reads = []
    get = ctx.validation_results_store.get
    ctx.validation_results_store.get = lambda key: (reads.append(key), get(key))[1]
    datadocs.write_index(ctx, docs)
    assert reads == [] and index_rows(out) == listed
    (out / "validation" / datadocs.ROWS_FILE).unlink()  # without the kept rows: every result read again, same index
    datadocs.write_index(ctx, docs)
    assert len(reads) == len(listed) and index_rows(out) == listed
