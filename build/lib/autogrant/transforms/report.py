"""OUT/report.html: per region, units by decision and reason, money granted, held and rejected, coverage
(PAY / eligible), the ledger (paid, returned, pending) and what changed since the previous run; inline CSS and
SVG charts, so it reads offline; linked to the gate's Data Docs."""

import html
import os
from pathlib import Path

from autogrant.transforms import files
from autogrant.transforms.money import yuan

CSS = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.fail{color:#b00020;font-weight:bold}
.bar-PAY{fill:#2e7d32}.bar-HOLD{fill:#f9a825}.bar-REJECT{fill:#c62828}small{color:#666}"""


def _yuan(fen: int) -> str:
    return yuan(fen, grouping=True)


def _bar_chart(per_region: dict[str, dict]) -> str:
    """Stacked horizontal bars of PAY / HOLD / REJECT per region."""
    rows = list(per_region.items())
    most = max((sum(r["units"].values()) for _, r in rows), default=1) or 1
    h, width = 22, 520
    parts = [f'<svg role="img" aria-label="units by decision" width="{width + 160}" height="{h * len(rows) + 30}">']
    for i, (region, r) in enumerate(rows):
        x, y = 70, i * h + 5
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(region)}</text>')
        for decision in ("PAY", "HOLD", "REJECT"):
            n = r["units"].get(decision, 0)
            w = width * n / most
            if n:
                parts.append(
                    f'<rect class="bar-{decision}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h - 6}"><title>{decision} {n}</title></rect>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{sum(r["units"].values())}</text>')
    legend_y = h * len(rows) + 22
    for j, d in enumerate(("PAY", "HOLD", "REJECT")):
        parts.append(f'<rect class="bar-{d}" x="{70 + j * 90}" y="{legend_y - 10}" width="12" height="12"/>')
        parts.append(f'<text x="{86 + j * 90}" y="{legend_y}" font-size="12">{d}</text>')
    return "".join(parts) + "</svg>"


def _table(header, rows, cls=None) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table{f' class={cls!r}' if cls else ''}><tr>{head}</tr>{body}</table>"


def write_report(con, result, manifest: dict, docs_index: Path | None) -> None:
    per_region = manifest["decisions"]
    reasons = con.execute(
        """SELECT region_code, code, count(*) FROM (SELECT region_code, unnest(codes) AS code FROM decision_details)
           GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    out = [f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>autogrant {html.escape(result.policy_id)}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>{html.escape(manifest['policy_id'])}: 稳岗返还 run of {manifest['today']}</h1>",
           f"<p>cut-off {manifest['as_of']}, pay by {manifest['pay_by']}; policy file sha256 <small>{manifest['policy_sha256']}</small>; "
           f"code {html.escape(str(manifest['code_version']))}</p>"]  # fmt: skip
    if docs_index is not None and docs_index.exists():
        rel = os.path.relpath(docs_index, result.out)
        out.append(f"<p>Validation: <a href='{html.escape(rel)}'>Data Docs of the gate</a> (one page per run and region).</p>")
    if result.failures:
        out.append("<h2 class='fail'>Regions that stopped</h2>")
        out.append(_table(("region", "kind", "why"), [(f.region_code, f.kind, f.message) for f in result.failures], "fail"))
    out.append("<h2>Units by decision</h2>" + _bar_chart(per_region))
    rows = []
    ledger = manifest.get("ledger", {})
    for region, r in per_region.items():
        u, fen, due = r["units"], r["amount_fen"], r["amount_due_fen"]
        eligible = u.get("PAY", 0) + u.get("HOLD", 0)
        cov = f"{100 * u.get('PAY', 0) / eligible:.1f}%" if eligible else "-"
        lg = ledger.get(region, {})
        rows.append((region, u.get("PAY", 0), u.get("HOLD", 0), u.get("REJECT", 0), _yuan(fen.get("PAY", 0)),
                     _yuan(due.get("HOLD", 0)), cov, _yuan(lg.get("paid", {}).get("amount_fen", 0)),
                     _yuan(lg.get("returned", {}).get("amount_fen", 0)),
                     lg.get("pending_in_notice", {}).get("units", 0), lg.get("pending_batched", {}).get("units", 0)))  # fmt: skip
    out.append("<h2>Money per region (yuan)</h2>")
    out.append(_table(("region", "PAY", "HOLD", "REJECT", "granted tonight", "held (due)", "coverage PAY/eligible",
                       "paid (ledger)", "returned", "in notice", "in batches"), rows))  # fmt: skip
    out.append("<h2>Reasons</h2>" + _table(("region", "reason", "units"), reasons))
    changed = manifest.get("changes") or {}
    out.append("<h2>Changes since the previous run</h2>")
    if changed:
        out.append(_table(("region", "added", "dropped", "decision changed", "amount changed"),
                          [(k, v.get("added", 0), v.get("dropped", 0), v.get("decision", 0), v.get("amount", 0)) for k, v in changed.items()]))  # fmt: skip
        out.append("<p>Unit by unit: <code>regions/&lt;code&gt;/changes.csv</code>.</p>")
    else:
        out.append("<p>First run into this folder, or nothing changed.</p>")
    stages = manifest.get("stages", [])
    out.append(
        "<h2>Stages</h2>"
        + _table(("stage", "seconds", "peak RSS MiB"), [(s["name"], s["seconds"], s["peak_rss_mib"]) for s in stages])
    )
    out.append("</body></html>")
    files.write_text(result.out / "report.html", "\n".join(out))
