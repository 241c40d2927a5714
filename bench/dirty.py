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


def _quoted(value: bytes):
    return lambda cell: b'"' + value + b'"'


def _spoil_id(cell: bytes) -> bytes:  # the check digit changed: never valid again
    pid = cell.strip(b'"')
    return b'"' + pid[:17] + (b"0" if pid[17:] != b"0" else b"1") + b'"'


def _no_dashes(cell: bytes) -> bytes:
    return cell.replace(b"-", b"")


def _slashes(cell: bytes) -> bytes:
    return cell.replace(b"-", b"/")


def _padded(cell: bytes) -> bytes:
    return b'"  ' + cell.strip(b'"') + b' "'


def _letter_in_id(cell: bytes) -> bytes:
    pid = cell.strip(b'"')
    return b'"' + pid[:6] + b"x" + pid[7:] + b'"'


def _uscc_z(cell: bytes) -> bytes:  # Z is no USCC character
    return b'"' + cell.strip(b'"')[:17] + b'Z"'


# (kind, column, change of the cell or None for a field too many, bad): the kinds of a file have equal chances
ROSTER = [("check_digit", 0, _spoil_id, True), ("date_digits", 2, _no_dashes, False), ("date_slashes", 2, _slashes, False),
          ("uscc_padded", 1, _padded, False), ("uscc_empty", 1, lambda cell: b"", True),
          ("no_such_day", 2, _quoted(b"2014-02-30"), True), ("field_too_many", None, None, True),
          ("letter_in_id", 0, _letter_in_id, True)]  # fmt: skip
PAYMENTS = [("amount_separator", 4, _quoted(b"1,234.50"), True), ("month_digits", 1, _no_dashes, False),
            ("date_slashes", 6, _slashes, False), ("amount_negative", 2, _quoted(b"-5.00"), True),
            ("uscc_check", 0, _uscc_z, True), ("amount_padded", 5, _padded, False)]  # fmt: skip
UNITS = [("uscc_check", 0, _uscc_z, True), ("count_decimals", 6, _quoted(b"12.5"), True),
         ("enum_english", 9, _quoted(b"active"), False), ("cnaps_letters", 11, _quoted(b"12AB"), True)]  # fmt: skip


def _spoil(cells: list[bytes], column: int | None, change) -> bytes:
    """One data line (its cells, split on commas: the generator quotes no comma) with one cell changed, or one
    field too many."""
    c = list(cells)
    if column is None:
        c.append(b'"extra"')
    else:
        c[column] = change(c[column])
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
                    _, column, change, is_bad = rng.choice(kinds)
                    line = _spoil(line.rstrip(b"\r\n").split(b","), column, change) + b"\n"
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
