"""The `autogrant` command: the app, its commands in one list, and main(), which turns every error into one line
on stderr and an exit code, never a traceback. The commands live by group: flows/cli_night.py (run),
cli_demo.py, cli_clerks.py (approve, keygen, object, resolve), cli_read.py (the read-only ones), cli_apply.py,
cli_signals.py, cli_ledger.py; what they share in flows/cli_common.py."""

import sys
import traceback
from pathlib import Path

import typer

from autogrant.flows import cli_apply, cli_clerks, cli_demo, cli_ledger, cli_night, cli_read, cli_signals
from autogrant.flows.cli_common import EXIT_GATE, EXIT_INPUT, EXIT_INTERNAL, LangOpt, err_console
from autogrant.transforms.errors import GateFailed, InputError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Apply-free job-stabilisation refunds (稳岗返还 免申即享).")


@app.callback()
def _options(lang: LangOpt = None) -> None:
    """Options of every command: the language of what a clerk reads (`autogrant --lang en COMMAND`)."""
    from autogrant.transforms import messages

    messages.set_lang(lang)


# the commands, in the order `autogrant --help` lists them
app.command("run")(cli_night.run)  # the night: flows/cli_night.py
app.command("approve")(cli_clerks.approve)  # the clerks' writes: flows/cli_clerks.py
app.command("keygen")(cli_clerks.keygen)
app.command("object")(cli_clerks.object_)
app.command("resolve")(cli_clerks.resolve)
app.command("verify")(cli_read.verify)  # read-only: flows/cli_read.py
app.command("explain")(cli_read.explain)
app.command("policies")(cli_read.policies)
app.command("lint-policies")(cli_read.lint_policies)
app.command("simulate")(cli_read.simulate)
app.command("demo")(cli_demo.demo)  # three nights on a drop: flows/cli_demo.py
app.command("annual-report")(cli_read.annual_report)
app.command("queue")(cli_read.queue)
app.command("apply")(cli_apply.apply_command)  # issue 17 item 1: a unit above the cap applies
app.command("clear")(cli_signals.clear_command)  # issue 12 item 5: a clerk clears a fraud signal
cli_ledger.register(app)  # ledger backup / restore, audit: flows/cli_ledger.py


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

        if _interrupted(exc):  # Ctrl-C while DuckDB ran a query: it ends the query and raises this instead
            err_console.print("autogrant: aborted")
            sys.exit(130)

        if isinstance(exc, click.ClickException) or (hasattr(exc, "show") and hasattr(exc, "exit_code")):
            exc.show()
            sys.exit(exc.exit_code)
        log = Path.cwd() / "autogrant-error.log"
        log.write_text(mask_text(traceback.format_exc()), encoding="utf-8")
        err_console.print(
            f"autogrant: internal error: {type(exc).__name__}: {mask_text(str(exc))} (details in {log})", markup=False
        )
        sys.exit(EXIT_INTERNAL)
    if code == 130:  # typer turns a KeyboardInterrupt (Ctrl-C) in a command into a silent Exit(130): say it
        err_console.print("autogrant: aborted")
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted(exc: Exception) -> bool:
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or (isinstance(exc, RuntimeError) and str(exc) == "Query interrupted")


if __name__ == "__main__":
    main()
