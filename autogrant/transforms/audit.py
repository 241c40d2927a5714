"""`autogrant audit`: every event of a unit (or of a batch) under a policy, in time order, as a person reads it.

Decisions by night come from the run folder (regions/<code>/nights/<date>.parquet, one per night that decided the
region: ``record_night``); notice, objection, batch, approval (who, and whether the signature verifies over the
batch as the ledger holds it), release, bank result and reversal come from the ledger, each with its entry in the
hash chain and whether the chain and rows check (transforms/chain.py).
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from autogrant.transforms import files
from autogrant.transforms.messages import pick
from autogrant.transforms.money import yuan

NIGHTS = "nights"

L = {
    "decision": ("决定", "decision"),
    "notice": ("公示", "notice"),
    "withdrawal": ("撤回", "withdrawn"),
    "objection": ("异议", "objection"),
    "resolution": ("异议处理", "objection resolved"),
    "application": ("申请", "application"),
    "clearance": ("风险信号核实解除", "fraud signal cleared"),
    "batch": ("制单", "batch prepared"),
    "approval": ("审批", "approval"),
    "release": ("拨付", "released"),
    "file": ("支付文件", "payment file"),
    "bank_result": ("银行结果", "bank result"),
    "reversal": ("冲回", "reversal"),
    "sig_ok": ("签名有效", "signature valid"),
    "sig_demo": ("演示身份，未签名", "DEMO identity, unsigned"),
    "sig_bad": ("签名无效：{why}", "signature NOT valid: {why}"),
    "entry": ("账本第{seq}条", "ledger entry {seq}"),
    "unsealed": ("未入哈希链", "not in the hash chain"),
    "intact": ("账本哈希链完整（共 {n} 条，链头 {head}）", "ledger hash chain intact ({n} entries, head {head})"),
    "broken": ("账本哈希链不完整：{why}", "ledger hash chain NOT intact: {why}"),
    "title_unit": ("单位 {uscc} 的全部事件（{policy}）", "every event of unit {uscc} ({policy})"),
    "title_batch": ("批次 {batch} 的全部事件", "every event of batch {batch}"),
    "none": ("（无事件）", "(no events)"),
    "yuan": ("元", "yuan"),
}  # fmt: skip


@dataclass
class Event:
    day: dt.date | dt.datetime
    order: int
    kind: str
    text: str
    seq: int | None = None


def record_night(con, out: Path, region: str, today: dt.date) -> None:
    """regions/<code>/nights/<date>.parquet: the region's decisions of tonight, kept for the audit trail."""
    folder = Path(out) / "regions" / region / NIGHTS
    files.copy_query(
        con,
        f"SELECT policy_id, uscc, decision, reasons, amount, amount_due, DATE '{today.isoformat()}' AS night FROM region_out",
        folder / f"{today.isoformat()}.parquet",
        fmt="parquet",
    )


def _day(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _decisions(con, out: Path, uscc: str, policy: str | None, lang: str) -> list[Event]:
    parts = sorted(p.as_posix() for p in Path(out).glob(f"regions/*/{NIGHTS}/*.parquet"))
    if not parts:
        return []
    rows = con.execute(
        """SELECT night, policy_id, decision, reasons, amount FROM read_parquet(?, union_by_name = true)
           WHERE uscc = ? AND (?::VARCHAR IS NULL OR policy_id = ?) ORDER BY night""",
        [parts, uscc, policy, policy],
    ).fetchall()
    from autogrant.transforms import messages

    return [
        Event(night, 4, "decision", f"{messages.decision(d, lang)} {d} {reasons or ''} {amount} {pick(L['yuan'], lang)}".strip())
        for night, _p, d, reasons, amount in rows
    ]


def _ledger_events(con, where: str, params: list, lang: str, unit: str | None = None) -> list[Event]:
    """The ledger's events of the claims selected by ``where`` (over ledger.claims c) and of their batches."""
    from autogrant.transforms import approval, identities

    seqs = dict(((k, r), s) for s, k, r in con.execute("SELECT seq, kind, ref FROM ledger.journal").fetchall())
    ev: list[Event] = []
    claims = con.execute(
        f"""SELECT claim_id, uscc, notice_id, notice_start, notice_end, amount_fen, bank_account, batch_id, state,
                   state_reason, updated_on FROM ledger.claims c WHERE {where} ORDER BY claim_id""",
        params,
    ).fetchall()
    batches: set[str] = set()
    units = {c[1] for c in claims} | ({unit} if unit else set())  # an application can come before any claim
    for cid, uscc, notice_id, start, end, fen, account, batch, state, why, updated in claims:
        ev.append(Event(start, 6, "notice", f"{notice_id} {uscc} {yuan(fen)} {pick(L['yuan'], lang)} {start}..{end} "
                        f"{account or ''}", seqs.get(("claim", cid))))  # fmt: skip
        if state == "withdrawn":
            ev.append(Event(updated, 5, "withdrawal", f"{cid}: {why}", seqs.get(("withdrawal", cid))))
        if batch:
            batches.add(batch)
    for oid, _uscc, reason, by, on, outcome, rby, ron, note in con.execute(
        """SELECT objection_id, uscc, reason, lodged_by, lodged_on, outcome, resolved_by, resolved_on, resolution_note
           FROM ledger.objections WHERE uscc IN (SELECT unnest(?::VARCHAR[])) ORDER BY objection_id""",
        [sorted(units)],
    ).fetchall():
        ev.append(Event(on, 8, "objection", f"{oid} {by}: {reason}", seqs.get(("objection", oid))))
        if outcome:
            ev.append(Event(ron, 9, "resolution", f"{oid} {outcome} {rby} {note or ''}".strip(), seqs.get(("resolution", oid))))
    for aid, by, on, late in con.execute(
        """SELECT application_id, lodged_by, lodged_on, late FROM ledger.applications
           WHERE uscc IN (SELECT unnest(?::VARCHAR[])) ORDER BY application_id""",
        [sorted(units)],
    ).fetchall():
        ev.append(Event(on, 8, "application", f"{aid} {by}{' (late)' if late else ''}", seqs.get(("application", aid))))
    for cid, code, account, by, on, note in con.execute(
        """SELECT clearance_id, code, bank_account, cleared_by, cleared_on, note FROM ledger.signal_clearances
           WHERE uscc IN (SELECT unnest(?::VARCHAR[])) ORDER BY clearance_id""",
        [sorted(units)],
    ).fetchall():
        ev.append(Event(on, 8, "clearance", f"{cid} {code} {account or ''} {by}: {note}", seqs.get(("clearance", cid))))
    directory = identities.load()
    for batch_id, by, on, released, pfile in con.execute(
        """SELECT batch_id, prepared_by, prepared_on, released_on, payment_file FROM ledger.batches
           WHERE batch_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY batch_id""",
        [sorted(batches)],
    ).fetchall():
        ev.append(Event(on, 7, "batch", f"{batch_id} {by}", seqs.get(("batch", batch_id))))
        a = con.execute("SELECT approver_id, approved_at, demo FROM ledger.approvals WHERE batch_id = ?", [batch_id]).fetchall()
        if a:
            why = approval.problems(con, batch_id, directory)
            state = pick(L["sig_bad"], lang).format(why=why) if why else pick(L["sig_demo" if a[0][2] else "sig_ok"], lang)
            ev.append(Event(a[0][1], 10, "approval", f"{batch_id} {a[0][0]} ({state})", seqs.get(("approval", batch_id))))
        if pfile:
            ev.append(Event(released, 3, "file", f"{batch_id} {pfile}", seqs.get(("file", batch_id))))
    for entry, pid, kind, uscc, batch, fen, after, on in con.execute(
        """SELECT entry_id, payment_id, kind, uscc, batch_id, amount_fen, paid_after_fen, entered_on FROM ledger.payments
           WHERE uscc IN (SELECT unnest(?::VARCHAR[])) AND batch_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY seq""",
        [sorted(units), sorted(batches)],
    ).fetchall():
        name = "release" if kind == "payment" else "reversal"
        ev.append(Event(on, 2 if kind == "payment" else 1, name,
                        f"{pid} {uscc} {batch} {yuan(fen)} {pick(L['yuan'], lang)} (= {yuan(after)})", seqs.get((kind, entry))))  # fmt: skip
    for pid, status, _uscc, fen, reason, value_date, recorded in con.execute(
        """SELECT payment_id, status, uscc, amount_fen, reason, value_date, recorded_on FROM ledger.bank_results
           WHERE uscc IN (SELECT unnest(?::VARCHAR[])) AND batch_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY ALL""",
        [sorted(units), sorted(batches)],
    ).fetchall():
        ev.append(Event(recorded or value_date, 0, "bank_result", f"{pid} {status} {yuan(fen or 0)} {value_date} {reason or ''}".strip(),
                        seqs.get(("bank_result", f"{pid}/{status}"))))  # fmt: skip
    return ev


def trail(ledger_path: Path, out: Path, lang: str, uscc: str | None = None, policy: str | None = None,
          batch: str | None = None) -> list[str]:  # fmt: skip
    """The lines of the audit trail: a title, the chain's state, then one line per event in time order."""
    from autogrant.transforms import chain, ledger

    with ledger.opened(ledger_path) as con:
        if batch:
            title = pick(L["title_batch"], lang).format(batch=batch)
            events = _ledger_events(con, "c.batch_id = ?", [batch], lang)
        else:
            title = pick(L["title_unit"], lang).format(uscc=uscc, policy=policy or "*")
            events = _decisions(con, out, uscc, policy, lang)
            events += _ledger_events(
                con, "c.uscc = ? AND (?::VARCHAR IS NULL OR c.policy_id = ?)", [uscc, policy, policy], lang, uscc
            )
        broken = chain.problems(con, limit=1)
        n, head = chain.head(con)
    state = pick(L["broken"], lang).format(why=broken[0]) if broken else pick(L["intact"], lang).format(n=n, head=head[:16])
    lines = [title, state]
    for e in sorted(events, key=lambda e: (_day(e.day), e.order, e.seq or 0)):
        entry = pick(L["entry"], lang).format(seq=e.seq) if e.seq else pick(L["unsealed"], lang)
        when = e.day.isoformat(sep=" ") if isinstance(e.day, dt.datetime) else e.day.isoformat()
        lines.append(f"{when}  {pick(L[e.kind], lang)}  {e.text}  [{entry}]")
    if not events:
        lines.append(pick(L["none"], lang))
    return lines


TONIGHT = ("bank_result", "reversal", "release", "withdrawal", "notice", "batch", "objection", "resolution")


def tonight(con, policy_id: str, today: dt.date) -> dict[str, dict[str, int]]:
    """The night's ledger events per region and kind (for the report): {region: {kind: count}}."""
    rows = con.execute(
        """WITH unit_region AS (SELECT DISTINCT policy_id, uscc, region_code FROM ledger.claims)
        SELECT region_code, kind, count(*) FROM (
            SELECT region_code, 'notice' AS kind FROM ledger.claims WHERE policy_id = $p AND created_on = $d
            UNION ALL SELECT region_code, 'withdrawal' FROM ledger.claims WHERE policy_id = $p AND state = 'withdrawn' AND updated_on = $d
            UNION ALL SELECT region_code, 'batch' FROM ledger.batches WHERE policy_id = $p AND prepared_on = $d
            UNION ALL SELECT region_code, kind FROM ledger.payments WHERE policy_id = $p AND entered_on = $d
            UNION ALL SELECT u.region_code, 'objection' FROM ledger.objections o JOIN unit_region u USING (policy_id, uscc)
                      WHERE o.policy_id = $p AND o.lodged_on = $d
            UNION ALL SELECT u.region_code, 'resolution' FROM ledger.objections o JOIN unit_region u USING (policy_id, uscc)
                      WHERE o.policy_id = $p AND o.resolved_on = $d
            UNION ALL SELECT p.region_code, 'bank_result' FROM ledger.bank_results r
                      JOIN ledger.payments p ON p.payment_id = r.payment_id AND p.kind = 'payment'
                      WHERE p.policy_id = $p AND r.recorded_on = $d
        ) GROUP BY ALL ORDER BY ALL""",
        {"p": policy_id, "d": today},
    ).fetchall()
    found: dict[str, dict[str, int]] = {}
    for region, kind, n in rows:
        found.setdefault(region, {})[kind.replace("payment", "release")] = int(n)
    return found


def tonight_html(con, policy_id: str, today: dt.date, lang: str) -> str:
    """report.html's table of the night's ledger events per region (`autogrant audit` gives each one)."""
    import html

    from autogrant.transforms import messages

    events = tonight(con, policy_id, today)
    title = pick(
        (
            "今晚账本事件（按统筹地区；逐户明细：autogrant audit）",
            "tonight's ledger events per region (each one: autogrant audit)",
        ),
        lang,
    )
    if not events:
        return f"<h2>{title}</h2><p>{pick(L['none'], lang)}</p>"
    head = "".join(f"<th>{html.escape(pick(L[k], lang))}</th>" for k in TONIGHT)
    body = "".join(
        f"<tr><td>{html.escape(messages.region(r, lang))}</td>" + "".join(f"<td>{e.get(k, 0)}</td>" for k in TONIGHT) + "</tr>"
        for r, e in sorted(events.items())
    )
    return f"<h2>{title}</h2><table><tr><th>{pick(('统筹地区', 'region'), lang)}</th>{head}</tr>{body}</table>"
