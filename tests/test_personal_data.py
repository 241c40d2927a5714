"""Personal data (PIPL; GB/T 35273): a drop with bad roster rows, run through the CLI as a user does; no file under
OUT (text, CSV, JSON, HTML, XLSX's XML, Parquet string columns), no error log and no console output holds any full
ID number of the drop's roster. Quarantined roster rows keep file and line, the ID masked as 6 + ******** + 4."""

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from stdnum.cn import ric

from autogrant.data_samples.drop_files import write_drop
from autogrant.data_samples.edge_cases import DropBuilder
from autogrant.transforms.privacy import mask_id, mask_text
from tests.conftest import REGION

pytestmark = pytest.mark.slow  # an acceptance test through the CLI or whole nights: CI runs it (pytest -m slow)


def autogrant(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autogrant.flows.cli", *args], capture_output=True, text=True, cwd=cwd)


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture(scope="module")
def leaky_drop(tmp_path_factory):
    """Three payable units; the roster has bad rows of every kind the ingest quarantines or warns about."""
    root = tmp_path_factory.mktemp("pii")
    b = DropBuilder(y=2020)
    b.fund(REGION)
    codes = [b.unit(REGION, name=f"大连华兴机械{i}有限公司") for i in range(3)]
    r = b.roster
    r[0]["person_id"] = r[0]["person_id"][:-1] + ("1" if r[0]["person_id"][-1] != "1" else "2")  # bad check digit
    r[1]["start_date"] = "2020-13-01"  # not a date
    r[2]["end_date"], r[2]["start_date"] = "2017-01-01", "2017-03-01"  # ends before it starts
    b.roster.append(dict(r[3]))  # the same spell twice
    r[4]["person_id"] = r[4]["person_id"][:8] + "O" + r[4]["person_id"][9:]  # a letter where a digit belongs
    r[5]["person_id"] = _with_check("21020219901301001")  # birth month 13, check digit right
    r[6]["person_id"] = _with_check("99999919800101003")  # unknown district: a warning, staged
    r[7]["uscc"] = None  # a spell without its unit
    r[8]["person_id"] = r[8]["person_id"] + "7"  # 19 characters
    data = root / "drop"
    write_drop(b.tables(), data)
    roster = data / "roster.csv"
    malformed = _with_check("21020219851111002")
    with roster.open("a", encoding="utf-8", newline="") as fh:  # malformed CSV records carrying an ID number
        fh.write(f"{malformed},{codes[1]},2017-03-01,,,surplus\n")
        fh.write(f'"{_with_check("21020219851111004")}",{codes[2]}\n')
        fh.write(f"{_with_check('21020219851111006')}9,{codes[0]}\n")  # a character too many, and too few fields
    with roster.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    ids = {row[0][:18] for row in rows[1:] if len(row[0]) >= 18}  # person_id: every ID of the drop, valid or not
    assert len(ids) >= 20 and malformed in ids and not ids & set(codes)
    return data, ids, codes, root


def _texts(path: Path):
    """Every readable form of a file: its text, each XML part of an XLSX, each string column of a Parquet file."""
    raw = path.read_bytes()
    if path.suffix == ".parquet":
        t = pq.read_table(path)
        for name in t.column_names:  # every column as text: an ID number may sit in a string or a number column
            yield f"{path}:{name}", "\n".join(str(v) for v in t[name].to_pylist() if v is not None)
        return
    if raw[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            for member in z.namelist():
                yield f"{path}!{member}", z.read(member).decode("utf-8", "replace")
        return
    for enc in ("utf-8", "gb18030", "utf-16"):
        yield f"{path} ({enc})", raw.decode(enc, "replace")
    yield f"{path} (bytes)", raw.decode("latin-1")


def _leaks(folder: Path, ids: set[str]) -> list[str]:
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for where, text in _texts(path):
            found += [f"{where}: {i}" for i in ids if i in text or i.lower() in text]
    return found


def test_no_full_id_number_in_any_output_file_or_log(leaky_drop):
    data, ids, codes, root = leaky_drop
    out, cwd = root / "out", root / "cwd"
    cwd.mkdir()
    done = autogrant("demo", "--data", str(data), "--out", str(out), cwd=cwd)
    assert done.returncode == 0, done.stderr
    explained = autogrant("explain", "--out", str(out), "--uscc", codes[1], cwd=cwd)
    afresh = autogrant("explain", "--policy", "LN-2021", "--data", str(data), "--uscc", codes[1], cwd=cwd)
    verified = autogrant("verify", str(out), cwd=cwd)
    assert explained.returncode == 0 and afresh.returncode == 0 and verified.returncode == 0
    someone = sorted(ids)[0]  # a clerk types a person's ID where a USCC belongs: the error line masks it
    mistyped = autogrant("explain", "--out", str(out), "--uscc", someone, cwd=cwd)
    assert mistyped.returncode == 2 and mask_id(someone) in mistyped.stderr, mistyped.stderr
    assert list((out / "payments" / REGION).glob("*.csv")), "the run paid the clean unit (so payment files exist)"
    assert list((out / "notices" / REGION).glob("*.xlsx")) and (out / "validation" / "docs" / "index.html").exists()
    console = "\n".join(p.stdout + p.stderr for p in (done, explained, afresh, verified, mistyped))
    assert [i for i in ids if i in console] == []
    assert _leaks(out, ids) == []
    assert _leaks(cwd, ids) == []


def test_quarantined_roster_rows_keep_file_and_line_with_the_id_masked(leaky_drop):
    data, ids, codes, root = leaky_drop
    out = root / "out"
    with (out / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["file"] == "roster.csv"]
    by_reason = {r["reason"].split(" (")[0]: r for r in rows}
    source = (data / "roster.csv").read_text(encoding="utf-8").splitlines()  # one line per record here
    bad_digit = next(r for r in rows if r["column"] == "person_id" and r["reason"].startswith("is not a valid ID"))
    original = next(csv.reader([source[int(bad_digit["line"]) - 1]]))[0]
    assert bad_digit["value"] == original[:6] + "********" + original[-4:]  # the line leads to the source row
    duplicate = next(r for r in rows if "the same spell" in r["reason"])
    assert duplicate["value"].count("*") == 8 and len(duplicate["value"]) == 18
    malformed = [r for r in rows if r["reason"].startswith("malformed CSV record")]
    assert len(malformed) == 3 and all("********" in r["value"] for r in malformed)
    assert codes[1] in malformed[0]["value"]  # the USCC is public: kept whole
    assert by_reason  # every roster row quarantined has a reason
    with (out / "warnings.csv").open(encoding="utf-8", newline="") as fh:
        warnings = list(csv.DictReader(fh))
    assert [w["value"] for w in warnings] == [mask_id(_with_check("99999919800101003"))]


def test_mask_text_masks_id_numbers_and_keeps_usccs():
    pid = _with_check("21020219900101001")
    code = "91210300900000001" + "X"
    from stdnum.cn import uscc

    code = code[:17] + uscc.calc_check_digit(code[:17])
    text = f"line 7: {pid},{code},2020-01-01 and {pid[:-1]}Q; short 2102021990"
    masked = mask_text(text)
    assert pid not in masked and pid[:-1] + "Q" not in masked
    assert f"{pid[:6]}********{pid[-4:]}" in masked and code in masked and "2102021990" in masked
    assert mask_id("12345") == "*****" and mask_id(None) is None
