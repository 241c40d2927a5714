"""The gate's Data Docs as an auditor opens them: offline, wherever OUT lies, with an index that lists every validation.

SITE, SITE_DIR        the Data Docs site of the GX context under OUT/validation/gx, written to OUT/validation/docs;
                      its base_directory is relative to the context's root, so that a moved OUT writes into itself
site_config()         that site's configuration (what Gate adds, or rewrites in a context made by an older version)
offline_docs(docs)    every page rewritten to make no request to the internet: Bootstrap, jQuery and Font Awesome
                      from the xstatic packages, the rest (bootstrap-table, datepicker, vega) dropped
write_index(ctx, docs) docs/index.html: a static page (no script) listing every validation result in the context's
                      store, one row per night, region and suite, linked to its page (GX's own index draws its
                      table with bootstrap-table, which has no offline copy on PyPI, and is empty without it)
"""

import html
import json
import re
import shutil
from pathlib import Path

from autogrant.transforms import files, messages

SITE = "autogrant"
SITE_DIR = "../docs"  # relative to the GX context's root (OUT/validation/gx): OUT/validation/docs
RUN_NAME = re.compile(r"^(?P<policy>.+)-(?P<night>\d{8})-(?P<region>[^-]+)$")  # Gate: <policy>-<YYYYMMDD>-<region>


def site_config() -> dict:
    return {
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": SITE_DIR},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def ensure_site(ctx) -> None:
    """The autogrant site, with its relative base_directory; a context that stores another one is rewritten."""
    sites = ctx.get_config().data_docs_sites or {}
    if SITE not in sites:
        ctx.add_data_docs_site(site_name=SITE, site_config=site_config())
    elif sites[SITE].get("store_backend", {}).get("base_directory") != SITE_DIR:
        ctx.update_data_docs_site(SITE, site_config())


# ---- offline: CDN assets replaced by copies from pip packages, the rest removed ----------------------------------

REMOTE_TAG = re.compile(r"<(link|script)\b[^>]*?(href|src)=\"(https?://[^\"]+)\"[^>]*>(\s*</script>)?", re.I)
REMOTE_IMG = re.compile(r"<img\b[^>]*?src=\"https?://[^\"]+\"[^>]*>", re.I)
REMOTE_URL = re.compile(r"url\((['\"]?)https?://[^)]+\)", re.I)


def _vendor_assets(static: Path) -> dict[str, str]:
    """Copy what the pages use of Bootstrap 4, jQuery and Font Awesome (its web fonts too) from the xstatic packages
    into static/vendor/ (about 1.3 MB, not the packages' 31 MB of sources and maps); CDN file name -> path under static/."""
    import xstatic.pkg.bootstrap as bootstrap
    import xstatic.pkg.font_awesome as font_awesome
    import xstatic.pkg.jquery as jquery

    assets = {
        "bootstrap.min.css": ("vendor/bootstrap/css/bootstrap.min.css", Path(bootstrap.BASE_DIR, "css", "bootstrap.min.css")),
        "bootstrap.min.js": (
            "vendor/bootstrap/js/bootstrap.bundle.min.js",
            Path(bootstrap.BASE_DIR, "js", "bootstrap.bundle.min.js"),
        ),
        "all.min.css": ("vendor/font-awesome/css/all.min.css", Path(font_awesome.BASE_DIR, "css", "all.min.css")),
        "jquery-3.7.1.min.js": ("vendor/jquery/jquery.min.js", Path(jquery.BASE_DIR, "jquery.min.js")),
    }
    fonts = Path(font_awesome.BASE_DIR, "webfonts")  # all.min.css draws its icons from ../webfonts/
    copies = [(static / rel, source) for rel, source in assets.values()]
    copies += [(static / "vendor" / "font-awesome" / "webfonts" / f.name, f) for f in sorted(fonts.iterdir()) if f.is_file()]
    for target, source in copies:
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    return {name: rel for name, (rel, _) in assets.items()}


def built_since(docs: Path) -> float:
    """The time of the index last written: every page older than it was made offline by the night that wrote it."""
    index = docs / "index.html"
    return index.stat().st_mtime if index.is_file() else 0.0


def offline_docs(docs: Path, since: float = 0.0) -> int:
    """Rewrite every page written since ``since`` (a time; 0: every page) so that it makes no request to the
    internet; returns the pages rewritten."""
    if not docs.exists():
        return 0
    static = docs / "static"
    assets = _vendor_assets(static)
    for css in static.rglob("*.css"):  # GX's own stylesheet draws its logo from the web
        text = css.read_text(encoding="utf-8", errors="replace")
        if REMOTE_URL.search(text):
            css.write_text(REMOTE_URL.sub("none", text), encoding="utf-8")
    pages = 0
    for page in docs.rglob("*.html"):
        if since and page.stat().st_mtime < since:
            continue
        prefix = "../" * (len(page.relative_to(docs).parts) - 1) + "static/"
        text = page.read_text(encoding="utf-8")

        def local(m: re.Match, prefix: str = prefix) -> str:
            name = m.group(3).rsplit("/", 1)[-1]
            if name in assets:
                if m.group(1).lower() == "link":
                    return f'<link rel="stylesheet" href="{prefix}{assets[name]}">'
                return f'<script src="{prefix}{assets[name]}"></script>'
            return ""  # datepicker, bootstrap-table, vega: not needed to read a validation page

        new = REMOTE_URL.sub("none", REMOTE_IMG.sub("", REMOTE_TAG.sub(local, text)))
        if new != text:
            page.write_text(new, encoding="utf-8")
            pages += 1
    return pages


# ---- the index: every validation result in the store, as a static table -------------------------------------------

TEXT = {
    "title": ("数据质量校验结果（Data Docs）", "Validation results (Data Docs)"),
    "summary": ("共 {n} 次校验（每个运行日、每个统筹地区、每个校验套件一次），其中 {failed} 次未通过。点击运行名查看逐项结果。",
                "{n} validations (one per night, region and suite), {failed} of them failed. Open a run name for each expectation."),
    "results": ("校验结果 Validation Results", "Validation Results"),
    "night": ("运行日", "night"), "region": ("统筹地区", "region"), "suite": ("校验套件", "suite"),
    "outcome": ("结果", "result"), "passed": ("通过", "passed"), "failed": ("未通过", "FAILED"),
    "counts": ("通过/校验项", "passed/evaluated"), "time": ("校验时间 (UTC)", "validated at (UTC)"),
    "run": ("运行名", "run name"), "suites": ("校验套件 Expectation Suites", "Expectation Suites"),
    "none": ("尚无校验结果。", "No validation yet."),
}  # fmt: skip
CSS = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}.failed{color:#b00020;font-weight:bold}"""


def _t(key: str, **values) -> str:
    text = messages.pick(TEXT[key])
    return text.format(**values) if values else text


ROWS_FILE = "index_rows.json"  # beside docs/: each stored result's row, read once (a result never changes)


def _rows(ctx, docs: Path) -> list[dict]:
    """One row per validation result in the context's store, with the path of its page under docs (None if absent).
    A result is read from the store the first time only: its row is kept in ROWS_FILE, so the index of a year of
    nights is written in the time of a night's."""
    store = ctx.validation_results_store
    kept_file = docs.parent / ROWS_FILE
    try:
        kept = json.loads(kept_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    rows, known = [], {}
    for key in store.list_keys():
        suite, run_name, run_time, batch = key.to_tuple()
        name = "/".join((suite, run_name, run_time, batch))
        row = kept.get(name) if isinstance(kept, dict) else None
        if not isinstance(row, dict):
            result = store.get(key)
            stats = result.statistics or {}
            m = RUN_NAME.match(run_name)
            row = {
                "night": f"{m['night'][:4]}-{m['night'][4:6]}-{m['night'][6:]}" if m else "",
                "region": m["region"] if m else "",
                "suite": suite,
                "success": bool(result.success),
                "counts": f"{stats.get('successful_expectations', '')}/{stats.get('evaluated_expectations', '')}",
                "time": key.run_id.run_time.strftime("%Y-%m-%d %H:%M:%S") if key.run_id.run_time else run_time,
                "run": run_name,
            }
        known[name] = row
        page = Path("validations", suite, run_name, run_time, f"{batch}.html")
        rows.append(row | {"href": page.as_posix() if (docs / page).is_file() else None})
    if known != kept:
        files.write_text(kept_file, json.dumps(known, ensure_ascii=False))
    rows.sort(key=lambda r: r["time"], reverse=True)  # stable sorts: newest night first, then region, suite, latest run
    rows.sort(key=lambda r: (r["region"], r["suite"]))
    rows.sort(key=lambda r: r["night"], reverse=True)
    return rows


def write_index(ctx, docs: Path) -> Path:
    """docs/index.html: every validation in the store, newest night first, each linked to its page; no script."""
    rows = _rows(ctx, docs)
    e = html.escape
    lang = "en" if messages.current() == "en" else "zh-CN"
    title = e(_t("title"))
    out = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>',
        '<link rel="stylesheet" href="static/vendor/bootstrap/css/bootstrap.min.css">',
        f"<style>{CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f"<p>{e(_t('summary', n=len(rows), failed=sum(not r['success'] for r in rows)))}</p>",
        f"<h2>{e(_t('results'))}</h2>",
    ]
    if rows:
        heads = "".join(f"<th>{e(_t(h))}</th>" for h in ("night", "region", "suite", "outcome", "counts", "time", "run"))
        out.append(f'<table class="table table-sm"><thead><tr>{heads}</tr></thead><tbody>')
        passed, failed = e(_t("passed")), e(_t("failed"))
        for r in rows:
            outcome = f"<td>{passed}</td>" if r["success"] else f'<td class="failed">{failed}</td>'
            run = f'<a href="{e(r["href"])}">{e(r["run"])}</a>' if r["href"] else e(r["run"])
            cells = "".join(f"<td>{e(r[k])}</td>" for k in ("night", "region", "suite"))
            out.append(f"<tr>{cells}{outcome}<td>{e(r['counts'])}</td><td>{e(r['time'])}</td><td>{run}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append(f"<p>{e(_t('none'))}</p>")
    suites = sorted(p.relative_to(docs).as_posix() for p in (docs / "expectations").glob("*.html"))
    if suites:
        out.append(f"<h2>{e(_t('suites'))}</h2><ul>")
        out += [f'<li><a href="{e(p)}">{e(Path(p).stem)}</a></li>' for p in suites]
        out.append("</ul>")
    out.append("</body></html>")
    index = docs / "index.html"
    files.write_text(index, "\n".join(out) + "\n")
    return index
