"""The SQL steps of sql/, declared in the order a night runs them, and run by file name. The files are static:
policy values reach them as tables.

STEPS is the step graph: each file's header says what it reads and what it makes (``-- Reads: a, b`` then
``-- Makes: c``; a parenthesis is a note), file numbers are the run order, and tests/test_step_graph.py fails when
a step reads a table that no earlier step and no code (MADE_BY_CODE) makes. After a release the decisions are taken
again (the ledger's state, 22, then 40 and 41): a loop back, not a step out of order.
"""

import re
from functools import cache

from autogrant.transforms.paths import SQL_DIR

# (file, phase), in run order
STEPS = (
    ("00_macros.sql", "macros"),  # ingest.ingest, first
    ("01_ledger_schema.sql", "ledger"),  # ledger.attach
    ("02_ledger_entries.sql", "ledger"),  # chain: the entries the hash chain seals
    ("10_stage_units.sql", "stage"),  # ingest.stage_file, one per file of the drop (ingest.STAGE_SQL)
    ("11_stage_roster.sql", "stage"),
    ("12_stage_payments.sql", "stage"),
    ("13_stage_region_funds.sql", "stage"),
    ("14_stage_lists.sql", "stage"),
    ("15_stage_benefit_claims.sql", "stage"),
    ("16_stage_si_premiums_due.sql", "stage"),
    ("17_stage_contribution_accounts.sql", "stage"),
    ("20_bank_returns.sql", "ledger_in"),  # run.settle_returns: the bank's returns, then the ledger's state
    ("21_bank_returns_commit.sql", "ledger_in"),
    ("22_ledger_state.sql", "ledger_in"),
    # decide.compute_facts; 27-37 read the drop and the policy alone: unless drop_cache restored what they make
    ("27_unregistered_payers.sql", "drop_lists"),  # the clerks' list of payers (clerk_lists.write_unregistered)
    ("28_scope_units.sql", "scope"),
    ("29_person_counts.sql", "persons"),
    ("30_unit_facts.sql", "drop_facts"),
    ("31_claims_and_months.sql", "drop_facts"),
    ("32_si_premiums.sql", "drop_facts"),
    ("33_payee_account.sql", "drop_facts"),
    ("34_size_class.sql", "drop_facts"),
    ("35_size_by_avg_insured.sql", "drop_facts"),
    ("36_region_facts.sql", "drop_facts"),
    ("37_rate_arm.sql", "drop_facts"),
    ("38_other_scheme.sql", "ledger_facts"),  # read the ledger too (the other scheme's payments, ledger_holds)
    ("39_account_signals.sql", "ledger_facts"),
    ("40_decisions.sql", "decisions"),  # decide.compute_decisions
    ("41_decisions_out.sql", "decisions"),
    ("50_release.sql", "money"),  # per region: ledger.release_candidates, release, run.refresh_after_release, advance
    ("51_release_commit.sql", "money"),
    ("53_notice.sql", "money"),
    ("54_notice_commit.sql", "money"),
)

# Tables the code makes rather than a step: what a step may read besides what earlier steps make.
MADE_BY_CODE = {
    "chk_*": "ingest.stage_file: a file's rows typed, with their cell errors",
    "stg_*": "ingest.stage_file: a file's rows that passed",
    "quarantine": "ingest.ingest",
    "drop_files": "ingest.ingest",
    "ref_enum": "ingest.load_enums",
    "payment_channel": "reference.define_macros (a macro: reference/payment_channels.yaml)",
    "policy": "decide.load_policy_tables",
    "policy_regions": "decide.load_policy_tables",
    "policy_rate_arms": "decide.load_policy_tables",
    "policy_schemes": "decide.load_scheme_tables",
    "scheme_rate_arms": "decide.load_scheme_tables",
    "signal_rules": "signals.load_table",
    "ref_nbs_sectors": "decide.load_reference_tables",
    "ref_nbs_thresholds": "decide.load_reference_tables",
    "run_params": "ledger.set_params",
    "ledger_other_scheme": "other_scheme.load (what the alternative scheme's own ledger paid)",
}


def phase(name: str) -> tuple[str, ...]:
    """The files of one phase, in run order."""
    return tuple(f for f, p in STEPS if p == name)


def makes(steps: tuple[str, ...]) -> tuple[str, ...]:
    """What ``steps`` make (sorted)."""
    return tuple(sorted({t for step in steps for t in header(step)[1]}))


def read_outside(steps: tuple[str, ...]) -> tuple[str, ...]:
    """What the steps other than ``steps`` read (sorted)."""
    return tuple(sorted({t for name, _ in STEPS if name not in steps for t in header(name)[0]}))


def read_after(steps: tuple[str, ...]) -> tuple[str, ...]:
    """What ``steps`` make that a step after the last of them reads (sorted): what must be there when they are not
    run (transforms/drop_cache.py restores it)."""
    names = [f for f, _ in STEPS]
    later = {t for name in names[max(map(names.index, steps)) + 1 :] for t in header(name)[0]}
    return tuple(t for t in makes(steps) if t in later)


@cache
def text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def run(con, name: str) -> None:
    """Execute every statement of sql/<name> on the connection."""
    con.execute(text(name))


def _items(words: str) -> list[str]:
    words = re.sub(r"\([^)]*\)", "", words).strip().rstrip(".")
    return [] if words in ("", "nothing") else [w.strip() for w in words.split(",") if w.strip()]


@cache
def header(name: str) -> tuple[list[str], list[str]]:
    """(reads, makes) of a step, from its header: ``-- Reads: …`` and ``-- Makes: …``, each continued on lines
    indented under it; a parenthesis is a note, ``nothing`` an empty list."""
    lines = text(name).splitlines()
    found: dict[str, str] = {}
    key = None
    for line in lines:
        if not line.startswith("--"):
            break
        body = line[2:]
        m = re.match(r"\s*(Reads|Makes):(.*)", body)
        if m:
            key = m.group(1)
            found[key] = m.group(2)
        elif key and body.startswith("        "):  # a continuation, indented
            found[key] += " " + body.strip()
        else:
            key = None
    if "Reads" not in found or "Makes" not in found:
        raise ValueError(f"sql/{name}: the header says no Reads: or no Makes:")
    return _items(found["Reads"]), _items(found["Makes"])
