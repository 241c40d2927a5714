"""What the alternative scheme's own ledger paid (内蒙古工作方案 二(二): one scheme's money per unit and year).

Each policy has its own OUT and ledger; the nightly lays them out side by side (OUT_ROOT/<policy>/). A policy that
names an ``alternative_scheme`` reads the ledger of that policy's OUT beside its own (the ledger its .autogrant.json
records), read-only, as the table ``ledger_other_scheme`` (uscc, amount_fen net of reversals) that
sql/38_other_scheme.sql adds to what prior_disbursements.csv shows paid under the other scheme. No such folder or
ledger: nothing was paid there by autogrant.
"""

import json
from pathlib import Path

import duckdb

from autogrant.transforms.errors import InputError

TABLE = "ledger_other_scheme"


def other_ledger(out: Path, other_id: str) -> Path | None:
    """The alternative policy's ledger beside OUT, as its folder records it; None where there is none."""
    folder = Path(out).resolve().parent / other_id
    try:
        rec = json.loads((folder / ".autogrant.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if rec.get("policy_id") != other_id or not rec.get("ledger"):
        return None
    path = Path(rec["ledger"])
    path = path if path.is_absolute() else folder / path
    return path if path.is_file() else None


def load(con, loaded, out: Path) -> None:
    """``ledger_other_scheme`` for this run (empty without an alternative scheme or its ledger)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE {TABLE} (uscc VARCHAR, amount_fen BIGINT)")
    alt = loaded.rules.alternative_scheme
    path = other_ledger(out, alt.value) if alt else None
    if path is None:
        return
    own = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = 'ledger'").fetchall()
    if own and own[0][0] and Path(own[0][0]).resolve() == path.resolve():  # one ledger file for both policies
        con.execute(
            f"INSERT INTO {TABLE} SELECT uscc, CAST(sum(amount_fen) AS BIGINT) FROM ledger.payments WHERE policy_id = ? GROUP BY uscc",
            [alt.value],
        )
        return
    try:
        con.execute("ATTACH ? AS other_scheme_ledger (READ_ONLY)", [str(path)])
    except duckdb.Error as exc:
        raise InputError(
            f"the ledger of {alt.value} ({path}) cannot be read: {str(exc).splitlines()[0]}; "
            "what it paid counts against this policy (one scheme per unit): run the two policies one after the other"
        ) from None
    try:
        con.execute(
            f"""INSERT INTO {TABLE} SELECT uscc, CAST(sum(amount_fen) AS BIGINT) FROM other_scheme_ledger.payments
                WHERE policy_id = ? GROUP BY uscc""",
            [alt.value],
        )
    finally:
        con.execute("DETACH other_scheme_ledger")
