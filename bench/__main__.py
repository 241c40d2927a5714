"""The province-scale benchmark (issues 6 and 13): a command, never part of the test suite.

    python -m bench                      # 300,000 units, both drops, pandas, agreement, growth curve
    python -m bench --units 75000 --growth none --no-pandas
    python -m bench --units 75000 --growth 75000,150000,300000,600000,1200000   # the growth curve to 1.2M
    python -m bench --units 300000 --growth none --no-pandas --repeat 3         # medians of three rounds

For each drop kind (--drops, default both): ``parquet`` (Parquet, English names) and ``gbcsv`` (what the agencies
send: CSV in GB18030 with Chinese column names and Chinese enum values), each step in a child process of this one
(wall time and peak memory from os.wait4):
  1. a seeded drop (data_samples/generate.py) under bench/data/, generated once and reused;
  2. ``autogrant run --policy LN-2021`` on it, stages from its manifest.json; then the quiet second night (the same
     drop on the next working day, the same OUT: notices open, nothing new);
  3. the floor (bench/floor.sql, one DuckDB query) on the same drop: on the CSV drop it transcodes GB18030 to UTF-8
     in Python (streaming) and reads the CSV with read_csv, inside its timed seconds; on Parquet also a plain pandas
     implementation (bench/pandas_impl.py), unless --no-pandas;
  4. the agreement check: decision, reasons and amount of every unit must be equal in all of them, or the bench
     stops (exit 1) before printing any time;
  5. the growth curve: the whole run at each --growth size (Parquet).
With --repeat N, steps 2 and 3 run N rounds in turn (first night, floor, second night) and each is reported as
its median round (the machine is shared: one run's wall time moves by 10 % or more with its load); every round's
wall time is listed under the table.
Writes bench/results.json and bench/results.md and prints the table.
"""

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TODAY = "2026-11-20"  # business date of the run (the ledger's day); the decisions do not depend on it
SECOND = "2026-11-23"  # the next working day: the same drop again, every payable unit's notice still open (quiet)
TARGET_RATIO, TARGET_GIB, TARGET_FLOOR_RATIO = 4.0, 2.0, 1.5  # whole run ≤ 4× the floor; peak; decision stage
KINDS = {"parquet": ("", ["--format", "parquet"]), "gbcsv": ("-gbcsv", ["--format", "csv", "--chinese", "--gb18030"])}
STAGES = ("ingest", "facts", "decisions", "validation", "files", "reports")


def child(args: list[str], log: Path) -> dict:
    """Run a child process; its wall seconds, peak RSS in MiB, exit code, and the JSON its last stdout line prints."""
    env = os.environ | {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    env.pop("PREFECT_API_URL", None)
    t0 = time.perf_counter()
    with log.open("w") as fh:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args[:4])} … failed (exit {proc.returncode}); see {log}:\n" + "\n".join(lines[-5:]))
    reported = {}
    if lines and lines[-1].startswith("{"):
        reported = json.loads(lines[-1])
    cpu = usage.ru_utime + usage.ru_stime  # steadier than wall time on a shared machine
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mib": round(usage.ru_maxrss / 1024, 1)} | reported


def ensure_drop(data_root: Path, units: int, seed: int, kind: str = "parquet") -> tuple[Path, float | None]:
    """bench/data/u<units>-s<seed>[-gbcsv]/, generated once; (folder, seconds it took or None when reused)."""
    suffix, fmt = KINDS[kind]
    drop = data_root / f"u{units}-s{seed}{suffix}"
    if (drop / "DONE").is_file():
        return drop, None
    shutil.rmtree(drop, ignore_errors=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autogrant.data_samples.generate", str(drop), "--units", str(units), "--seed", str(seed),
                    *fmt], cwd=ROOT, check=True)  # fmt: skip
    seconds = time.perf_counter() - t0
    (drop / "DONE").write_text(f"{seconds:.1f}\n")
    return drop, seconds


def run_autogrant(drop: Path, work: Path, label: str, today: str = TODAY) -> dict:
    """A first night into a fresh OUT; with another ``today``, the next night on the same OUT and ledger."""
    out = work / f"out-{label}"
    if today == TODAY:
        shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(drop), "--out", str(out),
           "--today", today, "--no-prefect"]  # fmt: skip
    res = child(cmd, work / f"autogrant-{label}-{today}.log")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    res["stages"] = {s["name"]: {"seconds": s["seconds"], "peak_mib": s["peak_rss_mib"]} for s in manifest["stages"]}
    res["units"] = sum(sum(r["units"].values()) for r in manifest["decisions"].values())
    res["quarantined"] = sum(c["rows_quarantined"] for c in manifest["rows"].values())
    res["out"] = str(out)
    return res


AUTOGRANT_DECISIONS = """SELECT uscc, decision, reasons, CAST(replace(amount, '.', '') AS BIGINT) AS amount_fen
                         FROM read_parquet(?)"""  # decisions.parquet's amount is yuan text with 2 decimals


def disagreements(con, left: str, right: str, limit: int = 10) -> tuple[int, list]:
    """Units where two decision sets differ (missing on one side, or decision, reasons or amount unequal)."""
    where = """a.uscc IS NULL OR b.uscc IS NULL OR a.decision <> b.decision
               OR coalesce(a.reasons, '') <> coalesce(b.reasons, '') OR a.amount_fen <> b.amount_fen"""
    n = con.execute(f"SELECT count(*) FROM {left} a FULL JOIN {right} b USING (uscc) WHERE {where}").fetchall()[0][0]
    rows = con.execute(
        f"""SELECT uscc, a.decision, a.reasons, a.amount_fen, b.decision, b.reasons, b.amount_fen
            FROM {left} a FULL JOIN {right} b USING (uscc) WHERE {where} ORDER BY uscc LIMIT {limit}"""
    ).fetchall()
    return n, rows


def check_agreement(autogrant_out: Path, others: dict[str, Path]) -> dict[str, int]:
    """Every unit's decision, reasons and amount equal in autogrant and each other implementation; else SystemExit(1)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE autogrant AS " + AUTOGRANT_DECISIONS, [str(autogrant_out / "decisions.parquet")])
    counts, failed = {}, []
    for name, path in others.items():
        con.execute(f"CREATE TABLE {name} AS SELECT uscc, decision, reasons, amount_fen FROM read_parquet(?)", [str(path)])
        n, rows = disagreements(con, "autogrant", name)
        counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        if n:
            failed.append(f"{name} disagrees with autogrant on {n} units; the first:\n" + "\n".join(
                f"  {r[0]}: autogrant {r[1]} [{r[2]}] {r[3]} fen | {name} {r[4]} [{r[5]}] {r[6]} fen" for r in rows))  # fmt: skip
    if failed:
        print("bench: the agreement check failed, no time is reported\n" + "\n".join(failed), file=sys.stderr)
        raise SystemExit(1)
    counts["autogrant"] = con.execute("SELECT count(*) FROM autogrant").fetchall()[0][0]
    return counts


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "load_average": [round(x, 2) for x in os.getloadavg()],  # the machine is shared: wall times vary with it
    }


def drop_table(kind: str, d: dict) -> list[str]:
    """One drop's rows: the whole run, each stage with its share, the floor, the ratio."""
    a, fl = d["autogrant"], d["floor"]
    st = a["stages"]
    decide_s = st["facts"]["seconds"] + st["decisions"]["seconds"]
    ratio = a["wall_s"] / fl["wall_s"]
    how = ("Parquet, English names" if kind == "parquet"
           else f"CSV in GB18030, Chinese names and values; the floor transcodes in Python ({fl.get('transcode_s', 0):.1f} s of it)")  # fmt: skip
    lines = [
        f"### {kind}: {how}",
        "",
        "| what | wall s | peak MiB | ratio |",
        "|---|---:|---:|---|",
        f"| **autogrant run, whole** | {a['wall_s']:.1f} | {a['peak_mib']:,.0f} | **{ratio:.2f}× the floor** (target ≤ {TARGET_RATIO:.0f}×); "
        f"peak {a['peak_mib'] / 1024 / TARGET_GIB:.2f}× the {TARGET_GIB:.0f} GiB target |",
    ]
    for name in STAGES:
        if name in st:
            lines.append(f"| &nbsp; stage {name} | {st[name]['seconds']:.1f} | {st[name]['peak_mib']:,.0f} | "
                         f"{st[name]['seconds'] / a['wall_s']:.0%} of the run |")  # fmt: skip
    lines.append(
        f"| &nbsp; outside the stages (start-up, imports, exit) | {a['wall_s'] - sum(v['seconds'] for v in st.values()):.1f} | | |"
    )
    lines += [
        f"| autogrant decision stage (facts + decisions) | {decide_s:.1f} | | {decide_s / fl['wall_s']:.2f}× the floor "
        f"(target ≤ {TARGET_FLOOR_RATIO}×) |",
        f"| floor: one DuckDB query (bench/floor.sql), whole process | {fl['wall_s']:.1f} | {fl['peak_mib']:,.0f} | 1.00× "
        f"(in-process {fl['seconds']:.1f} s, transcoding included) |",
    ]
    if d.get("second_night"):
        sn = d["second_night"]
        lines.append(f"| quiet second night (same drop, notices open) | {sn['wall_s']:.1f} | {sn['peak_mib']:,.0f} | "
                     f"**{sn['wall_s'] / fl['wall_s']:.2f}× the floor** (target ≤ 3×) |")  # fmt: skip
    if d.get("pandas"):
        pdx = d["pandas"]
        lines.append(f"| pandas implementation (bench/pandas_impl.py) | {pdx['wall_s']:.1f} | {pdx['peak_mib']:,.0f} | "
                     f"{pdx['wall_s'] / fl['wall_s']:.1f}× the floor |")  # fmt: skip
    return lines + [""]


def markdown(r: dict) -> str:
    m = r["machine"]
    lines = [
        f"# autogrant benchmark, {r['units']:,} units ({r['date']})",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, Python {m['python']}, DuckDB {m['duckdb']}, load average {m.get('load_average', ['?'])[0]} at the end. "
        f"Drop: {r['drop_rows']['roster']:,} roster spells, {r['drop_rows']['payments']:,} payment rows (seed {r['seed']}). "
        "First night, `autogrant run --no-prefect`. Both times are whole child processes (start-up included). "
        "Agreement: decision, reasons and amount equal for every unit in autogrant and the floor"
        + (" and pandas" if any(d.get("pandas") for d in r["drops"].values()) else "")
        + f" on each drop ({', '.join(f'{k}: {v:,}' for k, v in r['agreement'].items())}).",
        "",
        "| drop | whole run s | floor s | ratio | CPU s run / floor | peak MiB | " + " | ".join(STAGES) + " |",
        "|---|---:|---:|---:|---:|---:|" + "---:|" * len(STAGES),
    ]
    for kind, d in r["drops"].items():
        a, st = d["autogrant"], d["autogrant"]["stages"]
        lines.append(f"| {kind} | {a['wall_s']:.1f} | {d['floor']['wall_s']:.1f} | {a['wall_s'] / d['floor']['wall_s']:.2f}× | "
                     f"{a.get('cpu_s', 0):.1f} / {d['floor'].get('cpu_s', 0):.1f} | {a['peak_mib']:,.0f} | " + " | ".join(f"{st[s]['seconds']:.1f} ({st[s]['seconds'] / a['wall_s']:.0%})"
                                                              if s in st else "" for s in STAGES) + " |")  # fmt: skip
    lines.append("")
    for kind, d in r["drops"].items():
        if len(d.get("rounds", {}).get("autogrant", [])) > 1:  # each figure above is the median of these rounds
            lines.append(f"Rounds on {kind} (wall s, the median run reported above): " + "; ".join(
                f"{what} {', '.join(f'{w:.1f}' for w in walls)}" for what, walls in d["rounds"].items()) + ".")  # fmt: skip
            lines.append("")
    for kind, d in r["drops"].items():
        lines += drop_table(kind, d)
    if r.get("growth"):
        lines += ["Growth (the whole run on Parquet; linear when s per 100k units stays flat):", "",
                  "| units | roster spells | wall s | s per 100k units | × previous | peak MiB |", "|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        prev = None
        for g in r["growth"]:
            ratio = f"{g['wall_s'] / prev:.2f}" if prev else ""
            lines.append(
                f"| {g['units']:,} | {g['roster']:,} | {g['wall_s']:.1f} | {g['wall_s'] / g['units'] * 1e5:.1f} | {ratio} | {g['peak_mib']:,.0f} |"
            )
            prev = g["wall_s"]
    return "\n".join(lines) + "\n"


def count_rows(drop: Path, name: str) -> int:
    if (drop / f"{name}.parquet").is_file():
        return duckdb.sql("SELECT count(*) FROM read_parquet(?)", params=[str(drop / f"{name}.parquet")]).fetchall()[0][0]
    with (drop / f"{name}.csv").open("rb") as fh:  # one record a line in a generated drop, after the header
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1


def bench_drop(a, kind: str) -> dict:
    """Generate (or reuse) one drop, run autogrant and the floor (and pandas) on it, check their agreement."""
    drop, gen_s = ensure_drop(a.data, a.units, a.seed, kind)
    print(f"bench: {kind} drop {drop}" + (f" generated in {gen_s:.1f}s" if gen_s else " (reused)"), flush=True)
    others = {"floor": a.work / f"floor-{kind}.parquet"}
    firsts, floors, seconds = [], [], []
    for rep in range(a.repeat):  # each round: a first night, the floor, the quiet second night, one after the other
        tag = f" (round {rep + 1} of {a.repeat})" if a.repeat > 1 else ""
        print(f"bench: {kind}: autogrant run{tag} …", flush=True)
        firsts.append(run_autogrant(drop, a.work, f"{a.units}-{kind}"))
        print(f"bench: {kind}: {firsts[-1]['wall_s']:.1f}s, {firsts[-1]['peak_mib']:,.0f} MiB; floor query …", flush=True)
        floors.append(child([sys.executable, "-m", "bench.floor", str(drop), str(others["floor"]), str(a.work)],
                            a.work / f"floor-{kind}.log"))  # fmt: skip
        if rep + 1 < a.repeat:
            seconds.append(run_autogrant(drop, a.work, f"{a.units}-{kind}", SECOND))
    auto, floor = median(firsts), median(floors)
    pandas = None
    if kind == "parquet" and not a.no_pandas:
        print("bench: pandas implementation …", flush=True)
        others["pandas"] = a.work / "pandas.parquet"
        pandas = child([sys.executable, "-m", "bench.pandas_impl", str(drop), str(others["pandas"])], a.work / "pandas.log")
    agreement = check_agreement(Path(firsts[-1]["out"]), others)  # the last first night's OUT, as it stands now
    seconds.append(run_autogrant(drop, a.work, f"{a.units}-{kind}", SECOND))  # nothing new to notice or release
    second = median(seconds)
    print(f"bench: {kind}: quiet second night {second['wall_s']:.1f}s", flush=True)
    if auto["quarantined"]:
        raise SystemExit(f"bench: {auto['quarantined']} rows were quarantined; the floor and pandas assume a clean drop")
    print(f"bench: {kind}: floor {floor['wall_s']:.1f}s; ratio {auto['wall_s'] / floor['wall_s']:.2f}", flush=True)
    return {"drop": str(drop), "generated_s": gen_s, "agreement": agreement,
            "autogrant": {k: v for k, v in auto.items() if k != "out"}, "floor": floor, "pandas": pandas,
            "second_night": {k: v for k, v in second.items() if k != "out"},
            "rounds": {"autogrant": [r["wall_s"] for r in firsts], "floor": [r["wall_s"] for r in floors],
                       "second_night": [r["wall_s"] for r in seconds]}}  # fmt: skip


def median(runs: list[dict]) -> dict:
    """The run of median wall time (the lower middle one of an even number): the machine is shared, a single
    run's wall time moves by 10 % or more with its load."""
    return sorted(runs, key=lambda r: r["wall_s"])[(len(runs) - 1) // 2]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--units", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--drops", default="parquet,gbcsv", help="drop kinds: parquet, gbcsv (GB18030 CSV, Chinese headers)")
    ap.add_argument("--no-pandas", action="store_true", help="leave out the pandas implementation")
    ap.add_argument("--growth", default="75000,150000,300000,600000", help="unit counts of the growth curve, or 'none'")
    ap.add_argument("--data", type=Path, default=HERE / "data", help="where generated drops are kept (reused)")
    ap.add_argument("--work", type=Path, default=HERE / "work", help="outputs and logs of the runs")
    ap.add_argument("--results", type=Path, default=HERE, help="where results.json and results.md go")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of first night, floor and second night per drop; each is reported as its median")  # fmt: skip
    a = ap.parse_args(argv)
    a.data.mkdir(parents=True, exist_ok=True)
    a.work.mkdir(parents=True, exist_ok=True)
    kinds = [k.strip() for k in a.drops.split(",") if k.strip()]
    if unknown := set(kinds) - set(KINDS):
        raise SystemExit(f"bench: unknown drop kinds {sorted(unknown)}; known: {sorted(KINDS)}")

    drops = {kind: bench_drop(a, kind) for kind in kinds}
    rows = {k: count_rows(Path(drops[kinds[0]]["drop"]), k) for k in ("units", "roster", "payments")}
    growth = []
    sizes = [] if a.growth == "none" else [int(x) for x in a.growth.split(",")]
    for n in sizes:
        if n == a.units and "parquet" in drops:
            g_drop, g_s, g = Path(drops["parquet"]["drop"]), drops["parquet"]["generated_s"], drops["parquet"]["autogrant"]
        else:
            g_drop, g_s = ensure_drop(a.data, n, a.seed)
            g = run_autogrant(g_drop, a.work, str(n))
        roster = count_rows(g_drop, "roster")
        growth.append({"units": g["units"], "roster": roster, "wall_s": g["wall_s"], "peak_mib": g["peak_mib"],
                       "stages": g["stages"], "generated_s": g_s})  # fmt: skip
        print(f"bench: growth {n:,} units: {g['wall_s']:.1f}s, {g['peak_mib']:,.0f} MiB", flush=True)

    results = {
        "date": dt.date.today().isoformat(), "units": a.units, "seed": a.seed, "drop_rows": rows, "machine": machine(),
        "agreement": {k: v["agreement"]["autogrant"] for k, v in drops.items()}, "drops": drops, "growth": growth,
        "targets": {"whole_run_vs_floor": TARGET_RATIO, "peak_gib": TARGET_GIB, "decision_vs_floor": TARGET_FLOOR_RATIO},
    }  # fmt: skip
    a.results.mkdir(parents=True, exist_ok=True)
    (a.results / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = markdown(results)
    (a.results / "results.md").write_text(table, encoding="utf-8")
    print(table)


if __name__ == "__main__":
    main()
