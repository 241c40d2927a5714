"""The `autogrant` command. Bad input ends in one line on stderr and a non-zero exit, never a traceback."""

import datetime as dt
import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from autogrant.transforms.errors import GateFailed, InputError
from autogrant.transforms.money import yuan
from autogrant.transforms.paths import SAMPLES_DIR

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Apply-free job-stabilisation refunds (稳岗返还 免申即享).")
out_console = Console(width=None if sys.stdout.isatty() else 240)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_INPUT = 2
EXIT_GATE = 3
EXIT_REGION = 4
EXIT_INTERNAL = 70


def _date(value: str | None, option: str = "--as-of") -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} '{value}' is not a date YYYY-MM-DD") from None


def business_date() -> dt.date:
    from autogrant.transforms.home import business_date as in_policy_time_zone

    return in_policy_time_zone()  # today in Asia/Shanghai, not the host's day


def _fail(message: str, code: int) -> None:
    err_console.print(f"autogrant: {message}", markup=False)
    raise typer.Exit(code)


def print_run(result) -> None:
    from autogrant.transforms import deadlines, messages
    from autogrant.transforms.policy import load

    warning = deadlines.run_warning(load(result.policy_id), result.as_of, result.today)
    if warning:  # a business date past the pay-by date or outside the policy's window: said on the first line
        out_console.print(warning, markup=False, highlight=False, soft_wrap=True)
    t = Table(title=messages.t("run_rows_title", policy=result.policy_id), title_justify="left")
    for col in ("file", "read", "staged", "quarantined"):
        t.add_column(messages.t(f"col.{col}"), justify="left" if col == "file" else "right")
    for c in sorted(result.ingest.counts.values(), key=lambda c: c.file):
        t.add_row(c.file, str(c.rows_read), str(c.rows_staged), str(c.rows_quarantined))
    out_console.print(t)
    d = Table(title=messages.t("run_decisions_title", as_of=result.as_of), title_justify="left")
    d.add_column(messages.t("col.region"))
    for col in ("PAY", "HOLD", "REJECT"):
        d.add_column(f"{messages.decision(col)} {col}", justify="right")
    d.add_column(messages.t("col.amount_yuan"), justify="right")

    manifest = json.loads((result.out / "manifest.json").read_text(encoding="utf-8"))
    for region, r in manifest["decisions"].items():
        units = r["units"]
        d.add_row(
            messages.region(region),
            *(str(units.get(k, 0)) for k in ("PAY", "HOLD", "REJECT")),
            yuan(sum(r["amount_fen"].values()), grouping=True),
        )
    out_console.print(d)
    reasons = ", ".join(f"{messages.reason(k)} {v}" for k, v in manifest["reasons"].items() if k not in ("PAY", "HOLD", "REJECT"))
    out_console.print(messages.t("reasons_line", reasons=reasons or messages.t("none")), markup=False)
    out_console.print(messages.t("written_to", out=result.out), markup=False)


def _folder(path: Path | None, option: str = "--out") -> Path | None:
    """A folder named on the command line: refused (one line, exit 2) when it, or a folder above it, is a file."""
    if path is None:
        return None
    for p in (Path(path), *Path(path).parents):
        if p.is_dir():
            return path
        if p.exists() or p.is_symlink():
            if p == Path(path):
                raise InputError(f"{option} {path} is a file, not a folder: give a folder (a run's output folder)")
            raise InputError(f"{option} {path} cannot be a folder: {p} is a file")
    return path


def _ledger_path(ledger: Path | None, out: Path | None) -> Path:
    import os

    from autogrant.transforms.home import ledger_file

    if ledger is not None or out is not None or os.environ.get("AUTOGRANT_LEDGER"):
        path = ledger_file(_folder(out), ledger)  # the one rule of transforms/home.py
        _folder(path.parent, "the ledger's folder")
        return path
    raise InputError("give --ledger PATH (or --out OUT for OUT/ledger.duckdb, or AUTOGRANT_LEDGER)")


def finish(result) -> None:
    """Exit code and one line for the regions that stopped: 3 a failed gate, 4 a region that cannot be decided."""
    print_run(result)
    for failures, code in ((result.gate_failures, EXIT_GATE), (result.region_errors, EXIT_REGION)):
        if failures:
            more = f" (and {len(failures) - 1} more regions)" if len(failures) > 1 else ""
            prefix = "validation failed: " if code == EXIT_GATE else ""
            _fail(prefix + failures[0].message + more + "; no payment file was written for it", code)


LangOpt = Annotated[str | None, typer.Option("--lang", help="zh (中文, default) or en; else $AUTOGRANT_LANG")]


@app.callback()
def _options(lang: LangOpt = None) -> None:
    """Options of every command: the language of what a clerk reads (`autogrant --lang en COMMAND`)."""
    from autogrant.transforms import messages

    messages.set_lang(lang)


RegionOpt = Annotated[list[str] | None, typer.Option("--region", help="only these regions (repeatable)")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="data cut-off YYYY-MM-DD (default: the policy's)")]
TodayOpt = Annotated[str | None, typer.Option("--today", help="the business date of the run (default: today)")]
OperatorOpt = Annotated[str, typer.Option("--operator", help="who prepares tonight's batches")]
LedgerOpt = Annotated[Path | None, typer.Option("--ledger", help="ledger file (default OUT/ledger.duckdb or $AUTOGRANT_LEDGER)")]
ApproversOpt = Annotated[
    Path | None, typer.Option("--approvers", help="the identities file (default $AUTOGRANT_APPROVERS, else the DEMO file)")
]


def _use_approvers(path: Path | None) -> None:
    """--approvers FILE for this process (and what it starts): the identities of transforms/identities.py."""
    import os

    if path is not None:
        os.environ["AUTOGRANT_APPROVERS"] = str(path)


PrefectOpt = Annotated[
    bool | None,
    typer.Option("--prefect/--no-prefect", help="run as Prefect flows (default: when PREFECT_API_URL names a server)"),
]


@app.command()
def run(
    policy: Annotated[str, typer.Option("--policy", help="policy id, e.g. LN-2021")],
    data: Annotated[Path, typer.Option("--data", help="the data drop folder")],
    out: Annotated[Path, typer.Option("--out", help="output folder")],
    region: RegionOpt = None,
    as_of: AsOfOpt = None,
    today: TodayOpt = None,
    operator: OperatorOpt = "autogrant-nightly",
    ledger: LedgerOpt = None,
    prefect: PrefectOpt = None,
    approvers: ApproversOpt = None,
    fan_out: Annotated[
        bool, typer.Option("--fan-out", help="decide the regions on Dask workers (a Prefect flow; see README, Scale)")
    ] = False,
    dask_address: Annotated[
        str | None,
        typer.Option("--dask-address", help="an existing Dask scheduler (default $AUTOGRANT_DASK_ADDRESS, else a local cluster)"),
    ] = None,
) -> None:
    """Ingest a drop, decide every unit in scope, validate, and move the money one step along (notice, batch, file)."""
    _use_approvers(approvers)
    from autogrant.transforms import progress

    progress.enable()  # one line per stage and per region on stderr (AUTOGRANT_PROGRESS=0: silent)
    kwargs = dict(regions=region or None, as_of=_date(as_of), today=_date(today, "--today"), operator=operator,
                  ledger_path=_ledger_path(ledger, out))  # fmt: skip
    import os

    if fan_out:
        from autogrant.flows.nightly import run_fanned_out

        result = run_fanned_out(policy, data, out, dask_address, **kwargs)
    elif not (prefect if prefect is not None else bool(os.environ.get("PREFECT_API_URL"))):
        from autogrant.transforms.run import run_policy

        result = run_policy(policy, data, out, **kwargs)
    else:
        from autogrant.flows.nightly import outcome, policy_flow

        result = outcome(policy_flow(policy, data, out, return_state=True, **kwargs))
    finish(result)


@app.command()
def approve(
    batch: Annotated[str, typer.Argument(help="the batch id, e.g. LN-2021-210300-20261121-1")],
    by: Annotated[str, typer.Option("--by", help="the approver's id in approvers.yaml (not the batch's preparer)")],
    key: Annotated[
        Path | None, typer.Option("--key", help="the approver's private key (default $AUTOGRANT_APPROVER_KEY)")
    ] = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="the run's output folder (for OUT/ledger.duckdb)")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Approve a batch whose notice has ended, signed with the approver's key; the next run releases its payment file."""
    from autogrant.transforms.ledger import approve as approve_batch

    _use_approvers(approvers)
    done = approve_batch(_ledger_path(ledger, out), batch, by, key_file=key)
    signed = "DEMO identity: unsigned, not for real money" if done["by"].demo else "signed (Ed25519)"
    from autogrant.transforms import messages

    out_console.print(
        messages.t(
            "approved",
            batch=done["batch_id"],
            payments=done["payments"],
            total=done["total"],
            preparer=done["prepared_by"],
            by=f"{done['by'].label()}; {signed}",
        ),  # fmt: skip
        markup=False,
    )


@app.command()
def keygen(
    key_file: Annotated[Path, typer.Option("--key-file", help="where to write the new private key (never overwritten)")],
    id_: Annotated[str, typer.Option("--id", help="the approver's id, for the approvers.yaml lines printed")],
) -> None:
    """Create an Ed25519 key pair for an approver: the private key to a file only they can read, the public key
    printed as the approvers.yaml entry to add."""
    from autogrant.transforms.identities import keygen as make_key

    public = make_key(key_file)
    out_console.print(f"private key written to {key_file} (mode 0600; keep it with {id_} alone)", markup=False)
    out_console.print(
        f"add to approvers.yaml:\n  - id: {id_}\n    name: ...\n    roles: [approve]\n    regions: [...]\n"
        f"    public_key: {public}",
        markup=False,
    )


@app.command("object")
def object_(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    reason: Annotated[str, typer.Option("--reason", help="what the objection says")],
    by: Annotated[str, typer.Option("--by", help="who records it (an id with the object role)")] = "demo-clerk",
    today: TodayOpt = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Record an objection to a unit in public notice: it is held (UNDER_OBJECTION) until resolved."""
    from autogrant.transforms.ledger import lodge_objection

    _use_approvers(approvers)
    oid = lodge_objection(_ledger_path(ledger, out), policy, uscc, reason, by, _date(today, "--today") or business_date())
    from autogrant.transforms import messages

    out_console.print(messages.t("objection_recorded", oid=oid, uscc=uscc, policy=policy), markup=False)


@app.command()
def resolve(
    policy: Annotated[str, typer.Option("--policy")],
    uscc: Annotated[str, typer.Option("--uscc")],
    outcome: Annotated[str, typer.Option("--outcome", help="cleared (the unit is paid) or upheld (it is not)")],
    by: Annotated[str, typer.Option("--by", help="who resolves it (an id with the resolve role)")] = "demo-clerk",
    note: Annotated[str, typer.Option("--note")] = "",
    today: TodayOpt = None,
    ledger: LedgerOpt = None,
    out: Annotated[Path | None, typer.Option("--out")] = None,
    approvers: ApproversOpt = None,
) -> None:
    """Resolve a unit's open objection."""
    from autogrant.transforms.ledger import resolve_objection

    _use_approvers(approvers)
    oid = resolve_objection(
        _ledger_path(ledger, out), policy, uscc, outcome, by, note, _date(today, "--today") or business_date()
    )
    from autogrant.transforms import messages

    label = messages.t(f"outcome.{outcome}") if f"outcome.{outcome}" in messages.MESSAGES else outcome
    out_console.print(messages.t("objection_resolved", oid=oid, outcome=label), markup=False)


def _findings(command: str, findings: list[str], all_clear: str) -> None:
    """Each finding on stderr and exit 1; or the all-clear line."""
    for f in findings:
        err_console.print(f"autogrant: {command}: {f}", markup=False)
    if findings:
        raise typer.Exit(1)
    out_console.print(all_clear)


@app.command()
def verify(out: Annotated[Path, typer.Argument(help="a run's output folder")]) -> None:
    """Re-check every payment file's SHA-256, count and control sum against payments/manifest.json."""
    from autogrant.transforms.verify import verify_out

    if not Path(out).is_dir():
        raise InputError(f"{out} is not a run's output folder")
    checked, problems = verify_out(out)
    _findings("verify", problems, f"{checked} payment files verified: checksums, counts and control sums match")


@app.command()
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


@app.command()
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


@app.command("lint-policies")
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


@app.command()
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


@app.command()
def demo(
    data: Annotated[Path, typer.Option("--data", help="the data drop folder")] = SAMPLES_DIR / "ln2021",
    out: Annotated[Path, typer.Option("--out", help="output folder")] = Path("out/ln2021"),
    policy: Annotated[str, typer.Option("--policy")] = "LN-2021",
    approver: Annotated[str, typer.Option("--approver", help="the approver's id (a DEMO identity: unsigned)")] = "demo-approver",
    start: Annotated[str, typer.Option("--start", help="the first night")] = "2026-11-02",
) -> None:
    """The whole path on a drop, as three nights: notice (公示), batches after the notice, approval, payment files."""
    from autogrant.transforms import progress

    progress.enable()
    from autogrant.transforms.ledger import approve as approve_batch
    from autogrant.transforms.ledger import awaiting_approval
    from autogrant.transforms.policy import load
    from autogrant.transforms.run import run_policy
    from autogrant.transforms.workdays import add_working_days

    first = _date(start, "--start")
    ledger = _ledger_path(None, out)
    notice_days = load(policy).rules.notice_days.value
    nights = [first, add_working_days(first, notice_days + 1)]
    nights.append(add_working_days(nights[1], 1))
    from autogrant.transforms import messages

    out_console.print(messages.t("demo_night1", day=nights[0], days=notice_days), markup=False)
    run_policy(policy, data, out, today=nights[0], ledger_path=ledger)
    out_console.print(messages.t("demo_night2", day=nights[1]), markup=False)
    run_policy(policy, data, out, today=nights[1], ledger_path=ledger)
    batches = awaiting_approval(ledger)
    for b in batches:
        approve_batch(ledger, b, approver)
    out_console.print(messages.t("demo_approved", by=f"{approver} (DEMO identity, unsigned)", n=len(batches)), markup=False)
    out_console.print(messages.t("demo_night3", day=nights[2]), markup=False)
    finish(run_policy(policy, data, out, today=nights[2], ledger_path=ledger))
    out_console.print(messages.t("demo_done", path=out / "payments", out=out), markup=False)


@app.command("annual-report")
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
    from autogrant.transforms import annual, messages

    lang = messages.set_lang(lang) if lang else messages.current()
    _folder(out)
    sources = annual.select_sources(annual.find_outs(from_ or [out]), year, ledger)
    if not sources:
        raise InputError(f"no run folder under {', '.join(map(str, from_ or [out]))} has a night or a ledger entry in {year}")
    paths = annual.write(annual.compute(sources, year), out, lang)
    out_console.print(messages.t("annual_written", lang, year=year, files=", ".join(str(p) for p in paths)), markup=False)


@app.command()
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


from autogrant.flows.cli_apply import apply_command  # noqa: E402  (issue 17 item 1: a unit above the cap applies)

app.command("apply")(apply_command)

from autogrant.flows.cli_signals import clear_command  # noqa: E402  (issue 12 item 5: a clerk clears a fraud signal)

app.command("clear")(clear_command)


from autogrant.flows import cli_ledger  # noqa: E402  (ledger backup / restore, audit: flows/cli_ledger.py)

cli_ledger.register(app)


def main() -> None:
    from autogrant.transforms.privacy import mask_text  # no full ID number on the console or in the error log

    try:
        # click returns the code of a typer.Exit raised inside a command (standalone_mode=False): pass it on
        code = app(standalone_mode=False)
    except InputError as exc:
        err_console.print(f"autogrant: error: {mask_text(str(exc))}", markup=False)
        sys.exit(EXIT_INPUT)
    except GateFailed as exc:
        err_console.print(f"autogrant: validation failed: {mask_text(str(exc))}", markup=False)
        sys.exit(EXIT_GATE)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("autogrant: aborted")
        sys.exit(130)
    except Exception as exc:  # the click usage errors and anything unforeseen: one line, details in a log
        import click

        if isinstance(exc, click.ClickException) or (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            exc.show()
            sys.exit(exc.exit_code)
        log = Path.cwd() / "autogrant-error.log"
        log.write_text(mask_text(traceback.format_exc()), encoding="utf-8")
        err_console.print(
            f"autogrant: internal error: {type(exc).__name__}: {mask_text(str(exc))} (details in {log})", markup=False
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
