"""OUT/report.html: per region, units by decision and reason, money granted, held and rejected, coverage
((PAY + paid in full) / eligible), the ledger (paid, returned, pending) and what changed since the previous run; inline CSS and
SVG charts, so it reads offline; linked to the gate's Data Docs."""

import html
import os
from pathlib import Path

from autogrant.transforms import files, messages
from autogrant.transforms.money import yuan

# what report.html says, (zh, en): Chinese unless --lang en / AUTOGRANT_LANG=en
TEXT = {
    "title": ("{policy}：稳岗返还 {today} 夜间运行报告", "{policy}: 稳岗返还 run of {today}"),
    "facts": ("数据截止 {as_of}，发放期限 {pay_by}；政策文件 sha256 <small>{sha}</small>；程序版本 {code}",
              "cut-off {as_of}, pay by {pay_by}; policy file sha256 <small>{sha}</small>; code {code}"),
    "docs": ("数据质量校验：<a href='{href}'>校验报告（Data Docs）</a>（每次运行、每个统筹地区一页）。",
             "Validation: <a href='{href}'>Data Docs of the gate</a> (one page per run and region)."),
    "stopped": ("已停止的统筹地区", "Regions that stopped"),
    "kind": ("类型", "kind"), "why": ("原因", "why"), "night": ("运行日", "night"),
    "last_runs": ("各统筹地区最近一次运行", "Each region's last run"), "status": ("状态", "status"),
    "operator": ("经办", "operator"), "decided_on": ("所示决定的运行日", "decisions shown are of"),
    "by_decision": ("各统筹地区单位决定情况", "Units by decision"),
    "money": ("各统筹地区金额（元）", "Money per region (yuan)"),
    "region": ("统筹地区", "region"), "granted": ("本次应发", "granted tonight"), "held": ("暂缓(应发)", "held (due)"),
    "coverage": ("应享尽享((发放+已发放)/应享)", "coverage (PAY+paid)/eligible"),
    "paid_full": ("已发放 (ALREADY_PAID)", "paid in full (ALREADY_PAID)"), "paid": ("已拨付(台账)", "paid (ledger)"),
    "returned": ("银行退回", "returned"), "in_notice": ("公示中", "in notice"), "in_batches": ("待拨付批次", "in batches"),
    "overdue": ("逾期未发放", "overdue"),
    "reasons": ("原因统计", "Reasons"), "reason": ("原因", "reason"), "units": ("单位数", "units"),
    "deadline": ("逾期未发放单位（超过发放期限 {pay_by}，{cite}）", "Units unpaid past their pay-by date ({pay_by}, {cite})"),
    "deadline_none": ("无单位逾期未发放。", "No unit is unpaid past its pay-by date."),
    "uscc": ("统一社会信用代码", "USCC"), "unit_name": ("单位名称", "unit"), "pay_by": ("应发放日期", "pay by"),
    "days_late": ("逾期天数", "days late"), "owed": ("未发金额(元)", "owed (yuan)"),
    "changes": ("与上次运行相比的变化", "Changes since the previous run"),
    "added": ("新增", "added"), "dropped": ("减少", "dropped"), "decision_changed": ("决定变化", "decision changed"),
    "amount_changed": ("金额变化", "amount changed"), "left_hold": ("解除暂缓", "left HOLD"),
    "changes_file": ("逐户明细：<code>regions/&lt;code&gt;/changes.csv</code>。", "Unit by unit: <code>regions/&lt;code&gt;/changes.csv</code>."),
    "no_changes": ("首次运行到此目录，或无变化。", "First run into this folder, or nothing changed."),
    "stages": ("各阶段用时", "Stages"), "stage": ("阶段", "stage"), "seconds": ("秒", "seconds"),
    "peak": ("内存峰值 MiB", "peak RSS MiB"), "legend": ("图例", "legend"),
    "overpaid": ("多发待追回单位（此前已发超过现应发，共 {n} 户，{total} 元；逐户明细见 <code>overpayments.csv</code>）",
                 "Units overpaid, to recover ({n} units, {total} yuan; unit by unit in <code>overpayments.csv</code>)"),
    "overpaid_none": ("无多发单位。", "No unit was paid more than is due."),
    "decision": ("决定", "decision"), "paid_earlier": ("此前已发(元)", "paid earlier (yuan)"),
    "due_now": ("现应发(元)", "due now (yuan)"), "excess": ("多发(元)", "excess (yuan)"),
    "unregistered": ("未登记参保的缴费单位（税务有缴费记录、参保登记中无此单位，共 {n} 户，{year}年度实缴 {total} 元；"
                     "请登记后纳入决定，两个全覆盖；逐户明细见 <code>unregistered_payers.csv</code>）",
                     "Payers missing from the unit register ({n} units, {total} yuan paid for {year}; to register, "
                     "two full coverages; unit by unit in <code>unregistered_payers.csv</code>)"),
    "unregistered_none": ("无未登记的缴费单位。", "Every payer is in the register."),
    "payment_rows": ("缴费记录数", "payment rows"), "premium_paid": ("实缴(元)", "paid (yuan)"),
    "first_month": ("最早费款所属期", "first fee month"), "last_month": ("最晚费款所属期", "last fee month"),
}  # fmt: skip
OVERDUE_LIST_MAX = 200  # units listed one by one; the count per region is always complete


def L(key: str, **values) -> str:
    text = messages.pick(TEXT[key])
    return text.format(**values) if values else text


CSS = """body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.fail{color:#b00020;font-weight:bold}
.bar-PAY{fill:#2e7d32}.bar-PAID{fill:#1565c0}.bar-HOLD{fill:#f9a825}.bar-REJECT{fill:#c62828}small{color:#666}"""


def _yuan(fen: int) -> str:
    return yuan(fen, grouping=True)


def _segments(units: dict, paid_full: int) -> list[tuple[str, int, str]]:
    """(css class, units, label) of one region's bar: a unit rejected only as ALREADY_PAID was paid in full, not
    turned away, so it has its own segment (a release night shows its payments, not a wall of rejections)."""
    return [("PAY", units.get("PAY", 0), f"{messages.decision('PAY')} (PAY)"), ("PAID", paid_full, L("paid_full")),
            ("HOLD", units.get("HOLD", 0), f"{messages.decision('HOLD')} (HOLD)"),
            ("REJECT", units.get("REJECT", 0) - paid_full, f"{messages.decision('REJECT')} (REJECT)")]  # fmt: skip


def _bar_chart(per_region: dict[str, dict], paid_full: dict[str, int]) -> str:
    """Stacked horizontal bars of PAY / paid in full / HOLD / REJECT per region."""
    rows = list(per_region.items())
    most = max((sum(r["units"].values()) for _, r in rows), default=1) or 1
    h, width = 22, 520
    parts = [f'<svg role="img" aria-label="{L("by_decision")}" width="{width + 310}" height="{h * len(rows) + 30}">']
    for i, (region, r) in enumerate(rows):
        x, y = 130, i * h + 5
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(messages.region(region))}</text>')
        for cls, n, label in _segments(r["units"], paid_full.get(region, 0)):
            w = width * n / most
            if n:
                parts.append(
                    f'<rect class="bar-{cls}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{h - 6}"><title>{html.escape(label)} {n}</title></rect>'
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" font-size="12">{sum(r["units"].values())}</text>')
    legend_y = h * len(rows) + 22
    for j, (cls, _, label) in enumerate(_segments({}, 0)):
        parts.append(f'<rect class="bar-{cls}" x="{130 + j * 175}" y="{legend_y - 10}" width="12" height="12"/>')
        parts.append(f'<text x="{146 + j * 175}" y="{legend_y}" font-size="12">{html.escape(label)}</text>')
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
    lang = "en" if messages.current() == "en" else "zh-CN"
    title = L("title", policy=html.escape(manifest["policy_id"]), today=manifest["today"])
    out = [f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>autogrant {title}</title>",
           f"<style>{CSS}</style></head><body>",
           f"<h1>{title}</h1>",
           "<p>" + L("facts", as_of=manifest["as_of"], pay_by=manifest["pay_by"], sha=manifest["policy_sha256"],
                     code=html.escape(str(manifest["code_version"]))) + "</p>"]  # fmt: skip
    chain_head = manifest.get("ledger_chain") or {}
    if chain_head.get("seq"):  # the ledger's hash chain at the end of the night: autogrant verify finds it again
        text = messages.pick(
            (
                "账本哈希链：共 {seq} 条，链头 sha256 <small>{sha}</small>",
                "ledger hash chain: {seq} entries, head sha256 <small>{sha}</small>",
            )
        )
        out.append("<p>" + text.format(seq=chain_head["seq"], sha=chain_head["entry_sha256"]) + "</p>")
    from autogrant.transforms.audit import tonight_html

    out.append(tonight_html(con, result.policy_id, result.today, messages.current()))  # the night's events per region
    if docs_index is not None and docs_index.exists():
        rel = os.path.relpath(docs_index, result.out)
        out.append("<p>" + L("docs", href=html.escape(rel)) + "</p>")
    stopped = manifest.get("region_failures", [])  # every region of the policy whose last run stopped, this run's first
    if stopped:
        out.append(f"<h2 class='fail'>{L('stopped')}</h2>")
        out.append(_table((L("region"), L("kind"), L("why"), L("night")),
                          [(messages.region(f["region_code"]), f["kind"], f["message"], f.get("today", "")) for f in stopped],
                          "fail"))  # fmt: skip
    runs = manifest.get("region_runs") or {}
    if runs:
        out.append(f"<h2>{L('last_runs')}</h2>")
        out.append(_table((L("region"), L("night"), L("status"), L("operator"), L("decided_on")),
                          [(messages.region(k), (v.get("last_run") or {}).get("today", ""), (v.get("last_run") or {}).get("status", ""),
                            (v.get("last_run") or {}).get("operator", ""), (v.get("decided") or {}).get("today", "-"))
                           for k, v in sorted(runs.items())]))  # fmt: skip
    paid_full = dict(con.execute(
        "SELECT region_code, count(*) FROM decision_details WHERE reasons = 'ALREADY_PAID' GROUP BY ALL").fetchall())  # fmt: skip
    out.append(f"<h2>{L('by_decision')}</h2>" + _bar_chart(per_region, paid_full))
    overdue = _overdue(con, result, manifest)
    rows = []
    ledger = manifest.get("ledger", {})
    for region, r in per_region.items():
        u, fen, due = r["units"], r["amount_fen"], r["amount_due_fen"]
        paid = u.get("PAY", 0) + paid_full.get(region, 0)  # payable tonight, or paid in full already
        eligible = paid + u.get("HOLD", 0)
        cov = f"{100 * paid / eligible:.1f}%" if eligible else "-"
        lg = ledger.get(region, {})
        rows.append((messages.region(region), u.get("PAY", 0), u.get("HOLD", 0), u.get("REJECT", 0), _yuan(fen.get("PAY", 0)),
                     _yuan(due.get("HOLD", 0)), cov, _yuan(lg.get("paid", {}).get("amount_fen", 0)),
                     _yuan(lg.get("returned", {}).get("amount_fen", 0)),
                     lg.get("pending_in_notice", {}).get("units", 0), lg.get("pending_batched", {}).get("units", 0),
                     overdue["per_region"].get(region, 0)))  # fmt: skip
    out.append(f"<h2>{L('money')}</h2>")
    out.append(_table((L("region"), *(f"{messages.decision(d)} ({d})" for d in ("PAY", "HOLD", "REJECT")), L("granted"), L("held"),
                       L("coverage"), L("paid"), L("returned"), L("in_notice"), L("in_batches"), L("overdue")), rows))  # fmt: skip
    out.append(overdue["html"])
    out.append(_overpaid(con, manifest.get("overpayments") or {}))
    out.append(_unregistered(con, manifest))
    out.append(f"<h2>{L('reasons')}</h2>" + _table((L("region"), L("reason"), L("units")),
                                                   [(messages.region(r), messages.reason(c), n) for r, c, n in reasons]))  # fmt: skip
    changed = manifest.get("changes") or {}
    out.append(f"<h2>{L('changes')}</h2>")
    if changed:
        out.append(_table((L("region"), L("added"), L("dropped"), L("decision_changed"), L("amount_changed"), L("left_hold")),
                          [(messages.region(k), v.get("added", 0), v.get("dropped", 0), v.get("decision", 0), v.get("amount", 0),
                            v.get("left_hold", 0)) for k, v in changed.items()]))  # fmt: skip
        out.append(f"<p>{L('changes_file')}</p>")
    else:
        out.append(f"<p>{L('no_changes')}</p>")
    stages = manifest.get("stages", [])
    out.append(
        f"<h2>{L('stages')}</h2>"
        + _table((L("stage"), L("seconds"), L("peak")), [(_stage(s["name"]), s["seconds"], s["peak_rss_mib"]) for s in stages])
    )
    out.append("</body></html>")
    files.write_text(result.out / "report.html", "\n".join(out))


def _overpaid(con, per_region: dict[str, dict]) -> str:
    """The overpayment list (overpayments.py): totals, then the first units."""
    from autogrant.transforms.overpayments import listed

    if not per_region:
        return f"<h2>{L('overpaid', n=0, total=_yuan(0))}</h2><p>{L('overpaid_none')}</p>"
    n = sum(r["units"] for r in per_region.values())
    total = sum(r["excess_fen"] for r in per_region.values())
    rows = [(messages.region(r), u, name or "", messages.decision(d), _yuan(paid), _yuan(due), _yuan(excess))
            for r, u, name, d, paid, due, excess in listed(con, OVERDUE_LIST_MAX)]  # fmt: skip
    head = f"<h2 class='fail'>{L('overpaid', n=n, total=_yuan(total))}</h2>"
    return head + _table(
        (L("region"), L("uscc"), L("unit_name"), L("decision"), L("paid_earlier"), L("due_now"), L("excess")), rows
    )


def _stage(name: str) -> str:
    key = f"stage.{name}"
    return messages.t(key) if key in messages.MESSAGES else name


def _overdue(con, result, manifest: dict) -> dict:
    """Units PAY or HOLD unpaid past their pay-by date (deadlines.overdue_units): count per region and the list."""
    from autogrant.transforms import deadlines
    from autogrant.transforms.policy import load

    loaded = load(result.policy_id)
    deadlines.overdue_units(con, loaded, result.as_of, result.today)
    per_region = dict(con.execute("SELECT region_code, count(*) FROM overdue_units GROUP BY ALL").fetchall())
    head = f"<h2 class='fail'>{L('deadline', pay_by=manifest['pay_by'], cite=html.escape(loaded.rules.pay_by.cite))}</h2>"
    if not per_region:
        return {"per_region": {}, "html": head.replace(" class='fail'", "") + f"<p>{L('deadline_none')}</p>"}
    rows = con.execute(
        "SELECT region_code, uscc, unit_name, pay_by, days_late, owed_fen FROM overdue_units LIMIT ?", [OVERDUE_LIST_MAX]
    ).fetchall()
    table = _table((L("region"), L("uscc"), L("unit_name"), L("pay_by"), L("days_late"), L("owed")),
                   [(messages.region(r), u, n or "", d, late, _yuan(fen)) for r, u, n, d, late, fen in rows])  # fmt: skip
    return {"per_region": per_region, "html": head + table}


def _unregistered(con, manifest: dict) -> str:
    """Payers missing from the register (clerk_lists.write_unregistered): the count, then the first of them."""
    from autogrant.transforms.clerk_lists import listed_unregistered

    u = manifest.get("unregistered_payers") or {}
    if not u.get("units"):
        return (
            f"<h2>{L('unregistered', n=0, total=_yuan(0), year=u.get('assessed_year', ''))}</h2><p>{L('unregistered_none')}</p>"
        )
    year = u.get("assessed_year", "")
    rows = [(uscc, n, _yuan(fen), first, last) for uscc, n, fen, first, last in listed_unregistered(con, OVERDUE_LIST_MAX)]
    head = f"<h2 class='fail'>{L('unregistered', n=u['units'], total=_yuan(u['premium_paid_fen']), year=year)}</h2>"
    return head + _table((L("uscc"), L("payment_rows"), L("premium_paid"), L("first_month"), L("last_month")), rows)
