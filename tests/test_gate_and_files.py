"""The gate stops a region with a broken invariant before any payment file; verify catches one changed byte;
the public-notice list neutralises formulas; the Data Docs make no request to the internet. The release-night
tests start from a ledger seeded with an approved batch (tests/ledger_seed.py) and run only the release night."""

import datetime as dt
import re
import zipfile

import duckdb
import pytest

from autogrant.transforms import decide
from autogrant.transforms.run import run_policy
from autogrant.transforms.verify import verify_out
from tests.conftest import NIGHT1, NIGHT2, NIGHT3, REGION, ledger_rows, night


def utf8_file(out):
    return next(p for p in (out / "payments" / REGION).glob("*.csv") if not p.name.endswith(".gb18030.csv"))


def approved(drop, seed, amounts=1440_00):
    """The drop's units noticed NIGHT1, batched NIGHT2 and approved, seeded: what the release night starts from."""
    seed.notice(NIGHT1, drop.units, amounts)
    (batch,) = seed.batch(NIGHT2)
    seed.approve(batch)
    return seed.out


def test_a_corrupted_decision_fails_the_gate_and_no_payment_file_is_written(drop, ledger_seed, monkeypatch):
    out = approved(drop, ledger_seed)
    real = decide.compute_decisions

    def corrupted(con):
        real(con)  # a bug grants one fen more than 60% of the premium base
        con.execute("UPDATE decision_details SET amount = amount + 1, amount_due = amount_due + 1 WHERE decision = 'PAY'")

    monkeypatch.setattr(decide, "compute_decisions", corrupted)
    result = run_policy("LN-2021", drop.path, out, today=NIGHT3)
    assert [f.kind for f in result.failures] == ["gate"]
    message = result.failures[0].message
    assert "expect_column_pair_values_a_to_be_greater_than_b" in message and "on 2 of 2 rows" in message
    assert not (out / "payments" / REGION).exists()
    assert ledger_rows(out, "SELECT count(*) FROM payments") == [(0,)]
    assert ledger_rows(out, "SELECT state FROM batches") == [("approved",)]
    # the Data Docs index shows the failed validation (the other regions' passed), linked to its page
    from tests.test_data_docs import index_rows

    outcomes = {(r["region"], r["suite"]): r["outcome"] for r in index_rows(out) if r["night"] == NIGHT3.isoformat()}
    assert outcomes[(REGION, "decisions")] in ("未通过", "FAILED")
    assert {v for k, v in outcomes.items() if k[0] != REGION} <= {"通过", "passed"} and len(outcomes) > 1


def test_verify_catches_a_one_byte_change(drop, ledger_seed):
    out = approved(drop, ledger_seed)
    night(drop.path, out, NIGHT3)
    checked, problems = verify_out(out)
    assert (checked, problems) == (2, [])
    path = utf8_file(out)
    data = bytearray(path.read_bytes())
    i = data.index(b"1440.00")
    data[i] = ord("2")  # 1440.00 -> 2440.00
    path.write_bytes(bytes(data))
    _, problems = verify_out(out)
    rel = path.relative_to(out).as_posix()
    assert f"{rel}: SHA-256 differs from the manifest" in problems
    assert any(p.startswith(f"{rel}: trailer says 2 payments, 2880.00 yuan") for p in problems)


def test_payment_file_channel_and_gb18030_copy(drop, ledger_seed):
    drop.units[1]["unit_name"] = drop.units[1]["account_name"] = "大连远洋重工集团有限公司"
    big = drop.unit(REGION, name="大连港湾建设有限公司", start=150, monthly_premium=3_500_000)  # 60% of 840,000.00
    from autogrant.data_samples.drop_files import write_drop

    write_drop(drop.tables(), drop.path)
    out = approved(drop, ledger_seed, {drop.codes[0]: 1440_00, drop.codes[1]: 1440_00, big: 504000_00})
    night(drop.path, out, NIGHT3)
    utf8 = utf8_file(out).read_bytes().decode("utf-8")
    gb = next((out / "payments" / REGION).glob("*.gb18030.csv")).read_bytes().decode("gb18030")
    assert utf8 == gb
    lines = {line.split(",")[2]: line for line in utf8.splitlines() if line.startswith("D,")}
    assert lines[big].endswith(",504000.00,HVPS")
    assert lines[drop.codes[0]].endswith(",1440.00,BEPS")
    assert utf8.splitlines()[-1] == "T,3,506880.00"


def test_notice_list_neutralises_formulas_in_csv_and_xlsx(drop, tmp_path):
    drop.units[0]["unit_name"] = drop.units[0]["account_name"] = '=HYPERLINK("http://x","点击")'
    from autogrant.data_samples.drop_files import write_drop

    write_drop(drop.tables(), drop.path)
    out = tmp_path / "out"
    night(drop.path, out, NIGHT1)
    csv_text = (out / "notices" / REGION / f"LN-2021-{REGION}-20261120.csv").read_text(encoding="utf-8-sig")
    assert '"\'=HYPERLINK(""http://x"",""点击"")"' in csv_text
    assert "\n=" not in csv_text and ",=" not in csv_text
    xlsx = out / "notices" / REGION / f"LN-2021-{REGION}-20261120.xlsx"
    with zipfile.ZipFile(xlsx) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula anywhere
    # the XLSX is the clerk's copy: the name as sent, in a string cell (inert), no apostrophe shown
    import openpyxl

    ws = openpyxl.load_workbook(xlsx).active
    cells = {c.value: c for row in ws.iter_rows() for c in row if c.value is not None}
    name = '=HYPERLINK("http://x","点击")'
    assert name in cells and cells[name].data_type == "s" and "'" + name not in cells
    # a title with policy, region and notice period; amounts as numbers in yuan; a total row; where and until when to object
    title = ws["A1"].value
    assert "稳岗返还" in title and "鞍山市" in title and REGION in title
    assert "2026年11月20日至2026年11月27日" in ws["A2"].value
    header = next(r for r in ws.iter_rows() if r[0].value == "单位名称")[0].row
    amounts = [ws.cell(r, 3).value for r in range(header + 1, header + 3)]
    assert amounts == [1440, 1440]
    total = ws.cell(header + 3, 1)
    assert total.value.startswith("合计") and ws.cell(header + 3, 3).value == 2880
    objection = next(v for v in cells if isinstance(v, str) and "异议" in v)
    assert "2026年11月27日前" in objection and "鞍山市人力资源和社会保障局" in objection


def test_data_docs_are_written_per_region_and_load_nothing_from_the_internet(drop, tmp_path):
    out = tmp_path / "out"
    run_policy("LN-2021", drop.path, out, today=NIGHT1)
    docs = out / "validation" / "docs"
    pages = list(docs.rglob("*.html"))
    assert any(REGION in p.as_posix() for p in (docs / "validations").rglob("*.html"))
    remote = re.compile(r"<(?:link|script|img)\b[^>]*(?:href|src)=\"https?://|url\(['\"]?https?://", re.I)
    offenders = [p for p in pages if remote.search(p.read_text(encoding="utf-8"))]
    offenders += [p for p in docs.rglob("*.css") if remote.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert pages and offenders == []
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert 'href="static/vendor/bootstrap/css/bootstrap.min.css"' in index
    assert (docs / "static" / "vendor" / "bootstrap" / "css" / "bootstrap.min.css").stat().st_size > 100_000
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "validation/docs/index.html" in report and "<svg" in report


@pytest.mark.parametrize("bad", ["UNKNOWN_CODE", "HEADCOUNT_OVER_CAP;;UNIT_INACTIVE"])
def test_the_reasons_pattern_rejects_codes_outside_the_contract(bad):
    from autogrant.expectations.suites import reasons_pattern

    assert re.match(reasons_pattern(), "HEADCOUNT_OVER_CAP;UNIT_INACTIVE")
    assert re.match(reasons_pattern(), "")
    assert not re.match(reasons_pattern(), bad)


def test_a_region_rerun_replaces_only_that_region(tmp_path):
    from autogrant.data_samples.drop_files import write_drop
    from autogrant.data_samples.edge_cases import DropBuilder

    b = DropBuilder(y=2020)
    b.fund("210300")
    b.fund("210400")
    a, c = b.unit("210300"), b.unit("210400")
    write_drop(b.tables(), tmp_path / "drop")
    out = tmp_path / "out"
    run_policy("LN-2021", tmp_path / "drop", out, today=NIGHT1, validate=False)
    before = (out / "regions" / "210400" / "decisions.csv").stat().st_mtime_ns
    b.units[0]["status"] = "cancelled"
    write_drop(b.tables(), tmp_path / "drop")
    run_policy("LN-2021", tmp_path / "drop", out, regions=["210300"], today=dt.date(2026, 11, 23), validate=False)
    assert (out / "regions" / "210400" / "decisions.csv").stat().st_mtime_ns == before
    changes = (out / "regions" / "210300" / "changes.csv").read_text(encoding="utf-8")
    assert a in changes and "decision" in changes and "UNIT_INACTIVE" in changes
    con = duckdb.connect(str(out / "ledger.duckdb"), read_only=True)
    assert con.execute("SELECT uscc, state FROM claims ORDER BY uscc").fetchall() == sorted([(a, "withdrawn"), (c, "in_notice")])
    con.close()


def gate_processes() -> list:
    """The validation gate's processes this test process started and that still run."""
    import psutil

    return [c for c in psutil.Process().children(recursive=True) if "autogrant.transforms.gate_process" in " ".join(c.cmdline())]


def test_the_gate_runs_in_its_own_process_which_ends_with_the_night(drop, tmp_path, monkeypatch):
    """Every region's decisions gate runs in the gate's process (issue 13), once per region settled, its results
    in the run's GX store as the night's own; the process and its folder end with the night, also with a night
    that stops."""
    import json
    import os

    from autogrant.transforms import gate_process, run

    folders, real_init = [], gate_process.GateProcess.__init__

    def recorded(self):
        real_init(self)
        folders.append((self._dir, self._proc.pid))

    monkeypatch.setattr(gate_process.GateProcess, "__init__", recorded)
    out = tmp_path / "out"
    result = run_policy("LN-2021", drop.path, out, today=NIGHT1)
    assert not result.failures and REGION in result.decided_regions
    ((folder, pid),) = folders
    assert pid != os.getpid() and not folder.exists() and not gate_processes()
    stored = [json.loads(p.read_text(encoding="utf-8")) for p in (out / "validation").rglob("autogrant-decisions.json")]
    assert sorted(r["meta"]["run_id"]["run_name"] for r in stored) == sorted(
        f"LN-2021-{NIGHT1:%Y%m%d}-{r}" for r in result.decided_regions
    )
    assert all(r["success"] and r["statistics"]["evaluated_expectations"] == 13 for r in stored)

    def broken(night, p):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(run, "move_money", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        run_policy("LN-2021", drop.path, tmp_path / "out2", today=NIGHT1)
    assert not folders[-1][0].exists() and not gate_processes()


def test_a_gate_process_that_dies_stops_the_night_before_any_payment(drop, ledger_seed, monkeypatch):
    """The gate's process killed while the night waits for it: the night raises, naming the gate, and no region
    moves money (the approved batch stays approved, no payment file)."""
    from autogrant.transforms import gate_process

    out = approved(drop, ledger_seed)
    real = gate_process.GateProcess.validate_ahead

    def killed(self, con, units_in_scope, table="decision_details"):
        real(self, con, units_in_scope, table)
        self._proc.kill()

    monkeypatch.setattr(gate_process.GateProcess, "validate_ahead", killed)
    with pytest.raises(RuntimeError, match=r"validation gate's process ended \(exit code -9\)"):
        run_policy("LN-2021", drop.path, out, today=NIGHT3)
    assert not (out / "payments" / REGION).exists()
    assert ledger_rows(out, "SELECT state FROM batches") == [("approved",)]
    assert ledger_rows(out, "SELECT count(*) FROM payments") == [(0,)]
    assert not gate_processes()


def test_the_gate_process_answers_a_failed_job_and_a_failed_setup_as_errors(tmp_path):
    """A job the gate could not run is answered with its error, raised in the night; a setup that failed answers
    every later job with its own error; the process and its folder end on close."""
    from autogrant.transforms.gate_process import GateProcess

    gate = GateProcess()
    try:
        gate.begin(tmp_path / "out", "t")
        gate.ready()
        job = gate._send({"kind": "decisions", "region": "210300", "units": 1})  # no rows handed over
        with pytest.raises(RuntimeError, match="validation gate: .*No such file"):
            gate._answer(job)
    finally:
        gate.close()
    assert not gate._dir.exists()
    (tmp_path / "file").write_text("not a folder")
    gate = GateProcess()
    try:
        gate.begin(tmp_path / "file", "t")
        with pytest.raises(RuntimeError, match="validation gate: "):
            gate.ready()
        with pytest.raises(RuntimeError, match="validation gate: "):
            gate.finish()
    finally:
        gate.close(wait=False)
    assert not gate_processes()


def test_the_gate_reads_every_region_at_once_and_cuts_each_region_its_own_rows():
    """gate_frames.by_region: the rows of every region read in one query, cut into each region's rows exactly as a query of
    that region alone reads them (same rows, same order, region_code dropped); rows out of order or of a region not
    asked for are refused."""
    import random

    import pyarrow as pa

    from autogrant.transforms.gate_frames import by_region

    rnd = random.Random(5)
    regions = ["210100", "210200", "210300", "210400"]
    rows = [(rnd.choice(regions[:3]), f"U{rnd.randrange(10**6):06d}", rnd.randrange(10**6)) for _ in range(500)]
    table = pa.table(dict(zip(("region_code", "uscc", "amount_fen"), zip(*sorted(rows), strict=True), strict=True)))
    cut = by_region(table, regions)
    assert list(cut) == regions
    for region in regions:
        alone = sorted((u, a) for r, u, a in rows if r == region)
        assert list(zip(cut[region]["uscc"].to_pylist(), cut[region]["amount_fen"].to_pylist(), strict=True)) == alone
        assert cut[region].column_names == ["uscc", "amount_fen"]
    assert cut["210400"].num_rows == 0 and sum(t.num_rows for t in cut.values()) == 500
    with pytest.raises(ValueError, match="not asked for"):
        by_region(table, regions[:2])
    with pytest.raises(ValueError, match="not sorted"):
        by_region(table.take(list(reversed(range(500)))), regions)
