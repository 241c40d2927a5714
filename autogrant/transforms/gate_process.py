"""The night's validation gate in a process of its own (issue 13).

Great Expectations is Python from end to end. On a thread of the night's process it held the GIL against the
night's own Python (the ledger's chain check, each region's settling, the files), its import alone for seconds. A
quiet 300,000-unit second night took 10.5-10.9 s without the gate and 15.7-16.0 s with it on its thread.
``GateProcess`` starts ``python -m autogrant.transforms.gate_process`` (a plain subprocess, as notice_writer's:
nothing of the night's process is forked or re-imported) when the night opens, so GX is imported there while the
drop is read. The night hands it each region's rows and waits for a region's answer only before that region moves
money. Same suites, checkpoints, results and Data Docs as in the night's process (gate.Gate does the work there);
one GX call at a time, in the order handed over.

    gate = GateProcess()                       # the process started: GX imported there
    gate.begin(out, run_name)                  # the GX context opened and the suites saved (after the ingest)
    gate.ready()                               # ... waited for (a fan-out night: before any worker runs them)
    gate.validate_ahead(con, units_in_scope)   # every region's decisions rows handed over
    gate.result_ahead(region) -> GateResult    # that region's answer, waited for
    gate.validate_batch(con, region, result)   # tonight's released payments, waited for
    gate.finish() -> Path                      # the Data Docs built; the process ends
    gate.close(wait=False)                     # a night that stops: the process killed

Between the two: a job is one JSON line on the child's stdin, its rows an Arrow IPC file in a private temporary
folder; the answer is one JSON line on a pipe of its own (the child's stdout goes to its stderr, so nothing GX
prints is taken for an answer). A job that raised answers its error, and a child that ended answers nothing: the
night raises either (RuntimeError), so no region moves money on a gate that did not run.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pyarrow as pa

from autogrant.transforms import gate_frames
from autogrant.transforms.gate_frames import GateResult

SETUP = 1  # the job that opens the GX context and saves the suites (begin)


class GateProcess:
    def __init__(self):
        self._dir = Path(tempfile.mkdtemp(prefix="autogrant-gate-"))  # private (0700): the rows pass here
        self._sending, self._reading = threading.Lock(), threading.Lock()
        self._jobs, self._answers, self._ahead = 0, {}, {}
        read, write = os.pipe()
        package_root = str(Path(gate_frames.__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        try:
            self._proc = subprocess.Popen([sys.executable, "-m", "autogrant.transforms.gate_process", str(self._dir), str(write)],
                                          stdin=subprocess.PIPE, pass_fds=(write,), env=env)  # fmt: skip
        except BaseException:
            os.close(read)
            shutil.rmtree(self._dir, ignore_errors=True)
            raise
        finally:
            os.close(write)
        self._answers_in = os.fdopen(read, "rb")

    def begin(self, out: Path, run_name: str) -> None:
        """The run's GX context opened under OUT/validation and the suites saved, in the process (not waited for)."""
        if self._send({"kind": "setup", "out": str(out), "run_name": run_name}) != SETUP:
            raise RuntimeError("the validation gate was begun twice")

    def ready(self) -> None:
        """The suites saved (RuntimeError: they could not be)."""
        self._answer(SETUP)

    def validate_ahead(self, con, units_in_scope: dict[str, int], table: str = "decision_details") -> None:
        """Every region's decisions rows read at once (gate_frames.region_frames) and handed over, each region's
        gate then run in the process while the night settles the regions before it."""
        for region, rows in gate_frames.region_frames(con, units_in_scope, table).items():
            self._ahead[region] = self._send({"kind": "decisions", "region": region, "units": units_in_scope[region]}, rows)

    def result_ahead(self, region: str) -> GateResult | None:
        """The region's decisions gate handed over by ``validate_ahead``, waited for; None if it was not."""
        job = self._ahead.pop(region, None)
        if job is None:
            return None
        got = self._answer(job)
        return GateResult(region, got["suites"], got["failures"])

    def validate_batch(self, con, region: str, result: GateResult) -> None:
        """The payments tonight's release makes, against the decisions (the batch suite), waited for."""
        rows, parameters = gate_frames.batch_frame(con)
        got = self._answer(self._send({"kind": "batch", "region": region, "parameters": parameters}, rows))
        result.suites.update(got["suites"])
        result.failures += got["failures"]

    def finish(self) -> Path:
        """Tonight's Data Docs built (gate.Gate.finish); the process ended. The index page's path."""
        got = self._answer(self._send({"kind": "finish"}))
        self.close()
        return Path(got["index"])

    def close(self, wait: bool = True) -> None:
        """The process ended: after the jobs handed over (``wait``), or at once (a night that stops)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if not wait:
                proc.kill()
            proc.stdin.close()
        except OSError:
            pass  # it ended already
        proc.wait()
        self._answers_in.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _send(self, job: dict, rows: pa.Table | None = None) -> int:
        with self._sending:
            if self._proc is None:
                raise RuntimeError("the validation gate's process was closed")
            self._jobs += 1
            job = {"job": self._jobs} | job
            if rows is not None:
                with pa.OSFile(str(self._dir / f"{self._jobs}.arrow"), "wb") as sink, pa.ipc.new_file(sink, rows.schema) as w:
                    w.write_table(rows)
            try:
                self._proc.stdin.write((json.dumps(job) + "\n").encode())
                self._proc.stdin.flush()
            except OSError:
                raise self._ended() from None
            return self._jobs

    def _answer(self, job: int) -> dict:
        with self._reading:
            while job not in self._answers:
                line = self._answers_in.readline()
                if not line:
                    raise self._ended()
                got = json.loads(line)
                self._answers[got["job"]] = got
            got = self._answers.pop(job)
        if "error" in got:
            raise RuntimeError(f"validation gate: {got['error']}")
        return got

    def _ended(self) -> RuntimeError:
        proc = self._proc
        code = proc.wait(timeout=60) if proc is not None else "?"
        return RuntimeError(f"the validation gate's process ended (exit code {code}): no region is validated")


def _serve(folder: Path, answers) -> None:
    """The process: GX imported, then one job per line of stdin, each answered on ``answers`` in turn. A failed
    import or setup answers every later job with its error."""
    gate, failed = None, "the gate was not set up"
    try:
        from autogrant.transforms.gate import Gate
    except Exception as exc:  # noqa: BLE001 - answered: the night raises it
        Gate, failed = None, f"Great Expectations could not be imported: {type(exc).__name__}: {exc}".replace("\n", " ")

    def answer(doc: dict) -> None:
        answers.write(json.dumps(doc) + "\n")
        answers.flush()

    for line in sys.stdin:
        job = json.loads(line)
        got: dict = {}
        try:
            kind = job["kind"]
            if kind == "setup" and Gate is not None:
                gate = Gate(Path(job["out"]), job["run_name"])
            elif gate is None:
                got = {"error": failed}
            elif kind == "finish":
                got = {"index": str(gate.finish())}
            else:
                path = folder / f"{job['job']}.arrow"
                with pa.memory_map(str(path)) as source:
                    rows = pa.ipc.open_file(source).read_all()
                path.unlink()
                if kind == "decisions":
                    result = gate.decisions(rows, job["region"], job["units"])
                else:
                    result = gate.batch(rows, job["region"], job["parameters"])
                got = {"suites": result.suites, "failures": result.failures}
        except Exception as exc:  # noqa: BLE001 - answered: the night raises it
            got = {"error": f"{type(exc).__name__}: {exc}".replace("\n", " ")}
            if job.get("kind") == "setup":
                failed = got["error"]
        answer({"job": job["job"]} | got)


def _main() -> None:
    folder, fd = Path(sys.argv[1]), int(sys.argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an operator's Ctrl-C is the night's to handle: it ends this process
    answers = os.fdopen(fd, "w", encoding="utf-8")
    os.dup2(2, 1)  # what GX prints goes to stderr; the answers have their own pipe
    sys.stdout = sys.stderr
    from autogrant.transforms import resources

    try:
        with resources.few_collections():
            _serve(folder, answers)
    except BrokenPipeError:
        pass  # the night ended without waiting for the answer (killed, or stopped)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    _main()
