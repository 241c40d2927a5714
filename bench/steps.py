"""Where a night's seconds go, statement by statement: a command for work on issue 13, never a test.

    python -m bench.steps run --policy LN-2021 --data bench/data/u300000-s7-gbcsv --out /tmp/o --no-prefect

runs ``autogrant`` with the arguments given, in this process, and times every statement it sends to its run's
DuckDB connection: each statement of a SQL step file (sql/NN_*.sql) on its own, every other statement by the line
of autogrant's code that sent it. At the end it prints, on stderr, the seconds summed per step file and per line
of code, and the slowest single statements. A statement's seconds are DuckDB's alone (the Python around it and the
work beside the night, in threads and child processes, are not counted); the statements are run one by one, so the
night's own outputs are those of an ordinary run.
"""

import atexit
import collections
import sys
import time
import traceback

from autogrant.transforms import run, run_state, sqlsteps, worker

TIMED: list[tuple[float, str, str]] = []  # (seconds, where: a step file or autogrant's file:line, the statement)


def _where() -> str:
    for frame in reversed(traceback.extract_stack()[:-2]):
        if "/autogrant/" in frame.filename and "/bench/" not in frame.filename:
            return f"{frame.filename.rsplit('/autogrant/', 1)[1]}:{frame.lineno}"
    return "?"


class TimedConnection:
    """The run's connection, each ``execute`` timed; everything else passed through."""

    def __init__(self, con):
        object.__setattr__(self, "_con", con)

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, query, *args, **kwargs):
        t0 = time.perf_counter()
        self._con.execute(query, *args, **kwargs)
        TIMED.append((time.perf_counter() - t0, _where(), " ".join(str(query).split())))
        return self  # a cursor is the connection itself in DuckDB's Python API


def run_step(con, name: str) -> None:
    """sqlsteps.run, one statement at a time, each timed under its step file's name."""
    raw = getattr(con, "_con", con)
    for statement in raw.extract_statements(sqlsteps.text(name)):
        t0 = time.perf_counter()
        raw.execute(statement)
        TIMED.append((time.perf_counter() - t0, name, " ".join(statement.query.split())))


def report(top: int = 25) -> None:
    by_where: dict[str, float] = collections.defaultdict(float)
    for seconds, where, _ in TIMED:
        by_where[where] += seconds
    out = [f"bench.steps: {sum(s for s, _, _ in TIMED):.1f} s in {len(TIMED)} statements", "by step file or line of code:"]
    out += [f"  {s:7.2f}  {w}" for w, s in sorted(by_where.items(), key=lambda x: -x[1])[:top]]
    out.append("slowest statements:")
    out += [f"  {s:7.2f}  {w}  {q[:110]}" for s, w, q in sorted(TIMED, key=lambda x: -x[0])[:top]]
    print("\n".join(out), file=sys.stderr)


def main(argv: list[str]) -> None:
    connect = run_state.connect
    run_state.connect = run.connect = worker.connect = lambda: TimedConnection(connect())
    sqlsteps.run = run_step
    atexit.register(report)
    from autogrant.flows import cli

    sys.argv = ["autogrant", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
