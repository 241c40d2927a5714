"""The run folders a yearly report reads (``--from``: a run folder, or a folder of them) and which of them count
for the year, one per policy; then every chosen folder's decisions, fund positions and ledger entries up to the
report's cut-off as the ar_* temp tables the report's SQL reads (transforms/annual.py)."""

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from autogrant.transforms.errors import InputError
from autogrant.transforms.ledger import LEDGER_FILE, check_readable
from autogrant.transforms.policy import load


@dataclass
class Source:
    out: Path
    manifest: dict
    ledger: Path
    policy_id: str
    title: str
    pay_by: dt.date
    last_night: dt.date
    effective_from: dt.date
    effective_to: dt.date
    reserve_months_min: int
    adjustment_fund_allowed: bool
    policy_regions: list[str] = field(default_factory=list)


def find_outs(sources: list[Path]) -> list[Path]:
    """Each --from is a run folder (with manifest.json) or a folder of them (searched two levels down)."""
    found: list[Path] = []
    for s in sources:
        s = Path(s)
        if (s / "manifest.json").is_file():
            found.append(s)
            continue
        if not s.is_dir():
            raise InputError(f"--from {s}: no such folder")
        more = sorted({p.parent for pattern in ("*/manifest.json", "*/*/manifest.json") for p in s.glob(pattern)
                       if _is_run_manifest(p)})  # fmt: skip
        if not more:
            raise InputError(f"--from {s}: no run folder (manifest.json) in it or below it")
        found += more
    return list(dict.fromkeys(p.resolve() for p in found))


def _is_run_manifest(path: Path) -> bool:
    """A run's manifest.json (not payments/manifest.json, which lists payment files)."""
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and {"policy_id", "as_of", "today"} <= m.keys()


def _ledger_activity(ledger: Path, policy_id: str, year: int) -> bool:
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS l (READ_ONLY)", [str(ledger)])
        return bool(
            con.execute(
                """SELECT count(*) FROM (SELECT created_on AS d FROM l.claims WHERE policy_id = $1
                   UNION ALL SELECT entered_on FROM l.payments WHERE policy_id = $1) WHERE year(d) = $2""",
                [policy_id, year],
            ).fetchone()[0]
        )
    finally:
        con.close()


def select_sources(outs: list[Path], year: int, ledger: Path | None = None) -> list[Source]:
    """The run folders of year ``year``, one per policy (two folders of one policy are refused: which is right?)."""
    chosen: dict[str, Source] = {}
    for out in outs:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        loaded = load(manifest["policy_id"])
        r = loaded.rules
        lg = Path(ledger) if ledger else out / LEDGER_FILE
        if not lg.is_file():
            raise InputError(f"{out}: no ledger at {lg} (give --ledger FILE)")
        check_readable(lg)  # a damaged ledger: one line, exit 2
        src = Source(out, manifest, lg, loaded.id, loaded.policy.title,
                     loaded.pay_by(dt.date.fromisoformat(manifest["as_of"])), dt.date.fromisoformat(manifest["today"]),
                     r.effective_from.value, r.effective_to.value, r.reserve_months_min.value,
                     r.adjustment_fund_allowed.value, list(r.regions.value))  # fmt: skip
        in_year = (
            src.effective_from.year <= year <= src.effective_to.year
            or src.last_night.year == year
            or _ledger_activity(lg, src.policy_id, year)
        )
        if not in_year:
            continue
        if src.policy_id in chosen:
            raise InputError(f"{src.policy_id} has two run folders ({chosen[src.policy_id].out} and {out}): give one")
        chosen[src.policy_id] = src
    return [chosen[k] for k in sorted(chosen)]


def load_rows(con, sources: list[Source], cut: dt.date) -> None:
    """ar_sources, ar_decisions, ar_regions, ar_payments, ar_claims: every source's rows, tagged with its policy."""
    con.execute(
        """CREATE TEMP TABLE ar_sources (policy_id VARCHAR, title VARCHAR, pay_by DATE, report_date DATE,
           reserve_months_min INTEGER, adjustment_fund_allowed BOOLEAN)"""
    )
    con.execute("CREATE TEMP TABLE ar_scope (policy_id VARCHAR, region_code VARCHAR)")
    con.execute(
        """CREATE TEMP TABLE ar_funds (policy_id VARCHAR, region_code VARCHAR, balance BIGINT,
           monthly_expenditure BIGINT, adjustment_approved BOOLEAN)"""
    )
    details, ledgers = [], {}
    for s in sources:
        con.execute("INSERT INTO ar_sources VALUES (?, ?, ?, ?, ?, ?)",
                    [s.policy_id, s.title, s.pay_by, min(s.last_night, cut), s.reserve_months_min, s.adjustment_fund_allowed])  # fmt: skip
        # every region the policy covers (两个全覆盖 counts the regions never run too) and every region run
        regions = dict.fromkeys([*s.policy_regions, *s.manifest.get("regions", [])])
        con.executemany("INSERT INTO ar_scope VALUES (?, ?)", [[s.policy_id, r] for r in regions])
        for region, f in (s.manifest.get("region_funds") or {}).items():
            con.execute("INSERT INTO ar_funds VALUES (?, ?, ?, ?, ?)",
                        [s.policy_id, region, f.get("balance_fen"), f.get("monthly_expenditure_fen"), f.get("adjustment_approved")])  # fmt: skip
        details += [(s.policy_id, p.as_posix()) for p in sorted((s.out / "regions").glob("*/decision_details.parquet"))]
        ledgers.setdefault(s.ledger.resolve(), []).append(s.policy_id)
    cols = """policy_id, region_code, uscc, decision, reject_codes, hold_codes, amount_due,
              balance, monthly_expenditure, adjustment_approved"""
    if details:
        con.execute(
            f"""CREATE TEMP TABLE ar_decisions AS SELECT {cols} FROM read_parquet(?, union_by_name = true) d
                WHERE d.policy_id IN (SELECT policy_id FROM ar_sources)""",
            [[p for _, p in details]],
        )
    else:
        con.execute(
            """CREATE TEMP TABLE ar_decisions (policy_id VARCHAR, region_code VARCHAR, uscc VARCHAR, decision VARCHAR,
               reject_codes VARCHAR[], hold_codes VARCHAR[], amount_due BIGINT, balance BIGINT,
               monthly_expenditure BIGINT, adjustment_approved BOOLEAN)"""
        )
    parts_pay, parts_claims = [], []
    for i, (path, policies) in enumerate(ledgers.items()):
        con.execute(f"ATTACH ? AS ar_l{i} (READ_ONLY)", [str(path)])
        ids = ", ".join("'" + p.replace("'", "''") + "'" for p in policies)
        parts_pay.append(
            f"""SELECT policy_id, region_code, uscc, kind, amount_fen, entered_on FROM ar_l{i}.payments
                WHERE policy_id IN ({ids}) AND entered_on <= DATE '{cut.isoformat()}'"""
        )
        parts_claims.append(
            f"""SELECT c.policy_id, c.region_code, c.uscc, c.state, b.state AS batch_state, c.created_on
                FROM ar_l{i}.claims c LEFT JOIN ar_l{i}.batches b USING (batch_id)
                WHERE c.policy_id IN ({ids}) AND c.created_on <= DATE '{cut.isoformat()}'"""
        )
    con.execute("CREATE TEMP TABLE ar_payments AS " + " UNION ALL ".join(parts_pay))
    con.execute("CREATE TEMP TABLE ar_claims AS " + " UNION ALL ".join(parts_claims))
    # a region rerun alone (--region) leaves a manifest of that region: the others still count, from their
    # decisions and the ledger
    con.execute(
        """CREATE OR REPLACE TEMP TABLE ar_scope AS SELECT DISTINCT policy_id, region_code FROM (
               SELECT policy_id, region_code FROM ar_scope UNION ALL SELECT policy_id, region_code FROM ar_decisions
               UNION ALL SELECT policy_id, region_code FROM ar_payments UNION ALL SELECT policy_id, region_code FROM ar_claims)"""
    )
