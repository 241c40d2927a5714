"""The agencies' drop as it comes: the bench's GB18030 drop with a share of its lines made awkward or bad (a command,
never part of the test suite).

    python -m bench.dirty                          # 300,000 units, 1 % of the lines, two rounds each
    python -m bench.dirty --units 75000 --rate 0.05 --repeat 1

The clean drop is bench/__main__.py's ``gbcsv`` drop (generated once, reused). Its copy under
bench/data/u<units>-s<seed>-gbcsv-dirty<rate>/ has ``rate`` of the data lines of roster.csv, payments.csv and
units.csv changed, byte for byte in GB18030, in one of these ways (seeded):

    lawful, to be staged:    dates as YYYYMMDD or YYYY/MM/DD, months as YYYYMM, cells padded with spaces,
                             an English enum value
    bad, to be quarantined:  a spoilt check character (ID number, USCC), an empty required cell, a date that does
                             not exist, a letter inside an ID number, an amount with a thousands separator or a
                             sign, a count with decimals, a bank code with letters, and a record with one field
                             too many (DuckDB's parser rejects it)

Then ``autogrant run`` (first night, --repeat rounds in turn, clean then dirty) on both, and two checks before any
time is printed (exit 1 otherwise): every file's rows read = staged + quarantined, and quarantine.csv holds exactly
the bad lines, each on its own line number, and none of the lawful ones. Writes bench/results-dirty.md.
There is no floor here: the hand-written query of bench/floor.sql assumes a clean drop.
"""

import argparse
import csv
import json
import random
import shutil
import sys
from pathlib import Path

from bench.__main__ import HERE, ensure_drop, machine, median, run_autogrant

# (kind, bad): how a line of each file is changed; the kinds of a file are drawn with equal chances
ROSTER = [("check_digit", True), ("date_digits", False), ("date_slashes", False), ("uscc_padded", False),
          ("uscc_empty", True), ("no_such_day", True), ("field_too_many", True), ("letter_in_id", True)]  # fmt: skip
PAYMENTS = [("amount_separator", True), ("month_digits", False), ("date_slashes", False), ("amount_negative", True),
            ("uscc_check", True), ("amount_padded", False)]  # fmt: skip
UNITS = [("uscc_check", True), ("count_decimals", True), ("enum_english", False), ("cnaps_letters", True)]


def _unquote(cell: bytes) -> bytes:
    return cell.strip(b'"')


def _spoil(cells: list[bytes], kind: str) -> bytes:
    """One data line (its cells, split on commas: the generator quotes no comma) changed in the way ``kind`` says."""
    c = list(cells)
    if kind == "check_digit":
        pid = _unquote(c[0])
        c[0] = b'"' + pid[:17] + (b"0" if pid[17:] != b"0" else b"1") + b'"'
    elif kind == "date_digits":
        c[2] = c[2].replace(b"-", b"")
    elif kind == "date_slashes":
        c[2 if len(c) == 5 else 6] = c[2 if len(c) == 5 else 6].replace(b"-", b"/")
    elif kind == "uscc_padded":
        c[1] = b'"  ' + _unquote(c[1]) + b' "'
    elif kind == "uscc_empty":
        c[1] = b""
    elif kind == "no_such_day":
        c[2] = b'"2014-02-30"'
    elif kind == "field_too_many":
        c.append(b'"extra"')
    elif kind == "letter_in_id":
        pid = _unquote(c[0])
        c[0] = b'"' + pid[:6] + b"x" + pid[7:] + b'"'
    elif kind == "amount_separator":
        c[4] = b'"1,234.50"'
    elif kind == "month_digits":
        c[1] = c[1].replace(b"-", b"")
    elif kind == "amount_negative":
        c[2] = b'"-5.00"'
    elif kind == "uscc_check":
        c[0] = b'"' + _unquote(c[0])[:17] + b'Z"'  # Z is no USCC character
    elif kind == "amount_padded":
        c[5] = b'" ' + _unquote(c[5]) + b' "'
    elif kind == "count_decimals":
        c[6] = b'"12.5"'
    elif kind == "enum_english":
        c[9] = b'"active"'
    elif kind == "cnaps_letters":
        c[11] = b'"12AB"'
    return b",".join(c)


def make_dirty(clean: Path, dirty: Path, rate: float, seed: int) -> dict:
    """The dirty copy (made once); {file: {"bad": [lines], "lawful": [lines]}} as expected.json records it."""
    if (dirty / "expected.json").is_file():
        return json.loads((dirty / "expected.json").read_text(encoding="utf-8"))
    shutil.rmtree(dirty, ignore_errors=True)
    shutil.copytree(clean, dirty, ignore=shutil.ignore_patterns("DONE"))
    rng = random.Random(seed)
    expected = {}
    for name, kinds in (("roster.csv", ROSTER), ("payments.csv", PAYMENTS), ("units.csv", UNITS)):
        bad, lawful = [], []
        with (clean / name).open("rb") as src, (dirty / name).open("wb") as dst:
            dst.write(src.readline())
            for line_no, line in enumerate(src, start=2):
                if rng.random() < rate:
                    kind, is_bad = rng.choice(kinds)
                    line = _spoil(line.rstrip(b"\r\n").split(b","), kind) + b"\n"
                    (bad if is_bad else lawful).append(line_no)
                dst.write(line)
        expected[name] = {"bad": bad, "lawful": lawful}
    (dirty / "expected.json").write_text(json.dumps(expected), encoding="utf-8")
    return expected


def check(out: Path, expected: dict) -> list[str]:
    """What the night made of the dirty drop, against what was spoilt: [] when every count balances and the
    quarantine holds the bad lines, each on its line, and no lawful one."""
    problems = []
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for file, c in manifest["rows"].items():
        if c["rows_read"] != c["rows_staged"] + c["rows_quarantined"]:
            problems.append(f"{file}: read {c['rows_read']} != staged {c['rows_staged']} + quarantined {c['rows_quarantined']}")
    with (out / "quarantine.csv").open(encoding="utf-8", newline="") as fh:
        held = {(r["file"], int(r["line"])) for r in csv.DictReader(fh)}
    for file, lines in expected.items():
        got = {line for f, line in held if f == file}
        if missing := set(lines["bad"]) - got:
            problems.append(f"{file}: {len(missing)} bad lines not quarantined, e.g. line {min(missing)}")
        if wrong := got - set(lines["bad"]):
            problems.append(f"{file}: {len(wrong)} lines quarantined that were not spoilt, e.g. line {min(wrong)}")
        if lawful := set(lines["lawful"]) & got:
            problems.append(f"{file}: {len(lawful)} lawful lines quarantined, e.g. line {min(lawful)}")
    return problems


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.dirty", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--units", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--rate", type=float, default=0.01, help="share of the data lines spoilt")
    ap.add_argument("--repeat", type=int, default=2, help="rounds of (clean, dirty) first nights; medians reported")
    ap.add_argument("--data", type=Path, default=HERE / "data")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--results", type=Path, default=HERE)
    a = ap.parse_args(argv)
    a.data.mkdir(parents=True, exist_ok=True)
    a.work.mkdir(parents=True, exist_ok=True)
    clean, _ = ensure_drop(a.data, a.units, a.seed, "gbcsv")
    dirty = a.data / f"{clean.name}-dirty{a.rate:g}"
    expected = make_dirty(clean, dirty, a.rate, a.seed)
    runs = {"clean": [], "dirty": []}
    for rnd in range(a.repeat):
        for label, drop in (("clean", clean), ("dirty", dirty)):
            print(f"bench.dirty: {label} first night, round {rnd + 1} of {a.repeat} …", flush=True)
            runs[label].append(run_autogrant(drop, a.work, f"{a.units}-gbcsv-{label}"))
            print(f"bench.dirty: {label} {runs[label][-1]['wall_s']:.1f}s", flush=True)
    problems = check(Path(runs["dirty"][-1]["out"]), expected)
    if problems:
        print("bench.dirty: the dirty night's quarantine is not what was spoilt; no time is reported\n  "
              + "\n  ".join(problems), file=sys.stderr)  # fmt: skip
        raise SystemExit(1)
    med = {k: median(v) for k, v in runs.items()}
    bad = sum(len(v["bad"]) for v in expected.values())
    lawful = sum(len(v["lawful"]) for v in expected.values())
    m = machine()
    lines = [
        f"# autogrant on a dirty GB18030 drop, {a.units:,} units (`python -m bench.dirty --units {a.units} --rate {a.rate:g} "
        f"--repeat {a.repeat}`)",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, DuckDB {m['duckdb']}. First nights, "
        "each a whole `autogrant run --no-prefect` child process, clean and dirty in turn; the median round reported.",
        f"The dirty drop: {a.rate:.1%} of the data lines of roster.csv, payments.csv and units.csv spoilt ({bad:,} bad, "
        f"{lawful:,} lawful but awkward; bench/dirty.py says how). Checked: every file's rows balance, and quarantine.csv "
        "holds exactly the bad lines, each on its own line number, and none of the lawful ones.",
        "",
        "| drop | whole run s | CPU s | peak MiB | rows quarantined | " + " | ".join(med["clean"]["stages"]) + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(med["clean"]["stages"]),
    ]
    for label, r in med.items():
        lines.append(f"| {label} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_mib']:,.0f} | {r['quarantined']:,} | "
                     + " | ".join(f"{s['seconds']:.1f}" for s in r["stages"].values()) + " |")  # fmt: skip
    lines += ["", "Rounds (wall s): " + "; ".join(f"{k} " + ", ".join(f"{r['wall_s']:.1f}" for r in v) for k, v in runs.items())]
    (a.results / "results-dirty.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
