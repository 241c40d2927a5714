"""The read-only commands: `autogrant verify`, `explain`, `policies`, `lint-policies`, `simulate` (a what-if, paid
from nothing), `annual-report` and `queue`. None of them writes to the ledger or a payment file."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from autogrant.flows.cli_common import (
    LangOpt,
    LedgerOpt,
    TodayOpt,
    _date,
    _folder,
    _ledger_path,
    business_date,
    err_console,
    out_console,
)
from autogrant.transforms.errors import InputError
from autogrant.transforms.money import yuan


def _findings(command: str, findings: list[str], all_clear: str) -> None:
    """Each finding on stderr and exit 1; or the all-clear line."""
    for f in findings:
        err_console.print(f"autogrant: {command}: {f}", markup=False)
    if findings:
        raise typer.Exit(1)
    out_console.print(all_clear)


def verify(out: Annotated[Path, typer.Argument(help="a run's output folder")]) -> None:
    """Re-check every payment file's SHA-256, count and control sum against payments/manifest.json."""
    from autogrant.transforms.verify import verify_out

    if not Path(out).is_dir():
        raise InputError(f"{out} is not a run's output folder")
    checked, problems = verify_out(out)
    _findings("verify", problems, f"{checked} payment files verified: checksums, counts and control sums match")


def explain(
    uscc: Annotated[str, typer.Option("--uscc", help="the unit's USCC")],
    out: Annotated[Path | None, typer.Option("--out", help="an output folder of an earlier run")] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="with --data: decide afresh on a drop")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="a data drop (with --policy)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of")] = None,
) -> None:
    """One unit's decision as a clerk reads it: each rule, the unit's value, the limit, pass or fail, the clause."""
    from autogrant.transforms.explain import explain_from_drop, explain_from_out

    if out is not None:
        text = explain_from_out(_folder(Path(out)), uscc)
    elif policy and data:
        text = explain_from_drop(policy, Path(data), uscc, _date(as_of))
    else:
        raise InputError("explain needs --out OUT_DIR, or --policy ID with --data DIR")
    out_console.print(text, markup=False, highlight=False, soft_wrap=True)


def policies(
    on: Annotated[str | None, typer.Option("--on", help="mark the policies in force on this date (YYYY-MM-DD)")] = None,
) -> None:
    """List the policies, their regions, assessed year, default cut-off and effective window, and flag assumed values."""
    from autogrant.transforms.policy import assumed_values, available, load

    day = _date(on, "--on")
    t = Table(title="policies" + (f" (in force on {day}: *)" if day else ""), title_justify="left")
    for col in ("policy", "scheme", "regions", "assessed year", "default cut-off", "effective", "assumed values"):
        t.add_column(col)
    for pid in available():
        p = load(pid).policy
        assumed = assumed_values(p)
        start, end = p.rules.effective_from.value, p.rules.effective_to.value
        t.add_row(
            pid + (" *" if day and start <= day <= end else ""),
            p.scheme,
            ", ".join(p.rules.regions.value),
            str(p.rules.assessed_year.value),
            str(p.rules.default_as_of.value),
            f"{start} … {end}",
            "\n".join(f"ASSUMED {k}: confirm against {c}" for k, c in assumed) or "none",
        )
    out_console.print(t)


def lint_policies(
    policy_dir: Annotated[
        Path | None, typer.Option("--dir", help="a folder of policy files to check (default: the installed policies)")
    ] = None,
) -> None:
    """Check the policy files together: citations, rate-arm order, overlapping policies, effective dates."""
    from autogrant.transforms.lint import lint

    if policy_dir is not None and not policy_dir.is_dir():
        raise InputError(f"--dir {policy_dir} is not a folder of policy files")
    ids, findings = lint(policy_dir) if policy_dir is not None else lint()
    _findings("lint", findings, f"{len(ids)} policies checked, no findings: {', '.join(ids)}")


def simulate(
    policy: Annotated[str, typer.Option("--policy", help="policy id, e.g. LN-2021")],
    data: Annotated[Path, typer.Option("--data", help="the data drop folder")],
    set_: Annotated[list[str], typer.Option("--set", help="name=value, e.g. headcount_cap=300 (repeatable)")],
    out: Annotated[Path, typer.Option("--out", help="CSV of the comparison")] = Path("simulate.csv"),
    region: Annotated[list[str] | None, typer.Option("--region", help="only these regions (repeatable)")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="data cut-off YYYY-MM-DD (default: the policy's)")] = None,
) -> None:
    """What-if: baseline and scenario on the same data, per region. Nothing is paid from a scenario."""
    from autogrant.transforms.simulate import prepare
    from autogrant.transforms.simulate import simulate as run_simulation

    scenario = prepare(policy, set_)
    if out.is_dir():
        raise InputError(f"--out {out} is a folder: give the CSV file to write")
    _folder(out.parent, "the folder of --out")
    rows = run_simulation(scenario, data, out, regions=region or None, as_of=_date(as_of))
    settings = ", ".join(f"{k}={v}" for k, v in scenario.settings.items())
    t = Table(title=f"{policy}: baseline vs scenario ({settings})", title_justify="left")
    cols = (
        "region",
        "units",
        "PAY before",
        "PAY after",
        "gained",
        "lost",
        "amount changed",
        "money before",
        "money after",
        "difference",
    )
    for col in cols:
        t.add_column(col, justify="left" if col == "region" else "right")
    for r in rows:
        t.add_row(
            r["region_code"],
            *(str(r[k]) for k in ("units", "pay_before", "pay_after", "gained", "lost", "amount_changed")),
            *(yuan(int(r[k]), grouping=True) for k in ("money_before_fen", "money_after_fen", "difference_fen")),
        )
    out_console.print(t)
    out_console.print(f"nothing paid; comparison written to {out}")


def annual_report(
    year: Annotated[int, typer.Option("--year", help="the year reported, e.g. 2021")],
    out: Annotated[Path, typer.Option("--out", help="where the report goes; also the run folder(s) read, unless --from")],
    from_: Annotated[
        list[Path] | None, typer.Option("--from", help="a policy's run folder, or a folder of them (repeatable)")
    ] = None,
    ledger: LedgerOpt = None,
    lang: LangOpt = None,
) -> None:
    """The yearly 护航行动 report (人社厅发〔2017〕129号 三) over every policy's ledger and decisions of the year."""
    from autogrant.transforms import annual, annual_files, annual_sources, messages

    lang = messages.set_lang(lang) if lang else messages.current()
    _folder(out)
    sources = annual_sources.select_sources(annual_sources.find_outs(from_ or [out]), year, ledger)
    if not sources:
        raise InputError(f"no run folder under {', '.join(map(str, from_ or [out]))} has a night or a ledger entry in {year}")
    paths = annual_files.write(annual.compute(sources, year), out, lang)
    out_console.print(messages.t("annual_written", lang, year=year, files=", ".join(str(p) for p in paths)), markup=False)


def queue(
    out: Annotated[Path, typer.Option("--out", help="the run's output folder")],
    ledger: LedgerOpt = None,
    today: TodayOpt = None,
    lang: LangOpt = None,
) -> None:
    """What awaits a clerk, per policy and region: approvals, notices, objections, held, returned, overdue units."""
    from autogrant.transforms import messages
    from autogrant.transforms.queue import clerk_queue

    lang = messages.set_lang(lang) if lang else messages.current()
    day = _date(today, "--today") or business_date()
    path = _ledger_path(ledger, out)
    if not path.is_file():
        raise InputError(f"no ledger at {path}: run `autogrant run` first, or give --ledger FILE")
    out_console.print(messages.t("queue_title", lang, today=day, ledger=path), markup=False)
    for s in clerk_queue(path, Path(out), day):
        t = Table(title=f"{s.title(lang)} ({len(s.rows)})", title_justify="left")
        for c in s.columns:
            t.add_column(s.label(c, lang), justify="right" if c in ("units", "total", "amount", "days_late") else "left")
        for r in s.rows:
            t.add_row(*(s.cell(c, v, lang) for c, v in zip(s.columns, r, strict=True)))
        if s.rows:
            out_console.print(t)
        else:
            out_console.print(f"{s.title(lang)}: {messages.t('queue_empty', lang)}", markup=False)
