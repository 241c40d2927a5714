"""The notices' workbooks written beside the night, in a worker process (issue 13).

XlsxWriter is pure Python and holds the GIL: a province's notices cost seconds of the files stage. ``NoticeWriter``
reads each notice's claims, as ``notice.write_notice`` does, and hands the notice's CSV and workbook (the claims, as
plain rows in a private temporary file) to one worker process (``python -m autogrant.transforms.notice_writer``, a
plain subprocess: nothing of the night's process is re-imported or forked), so the workbooks are built while the
night goes on with the next regions. Each file appears whole or not at all (files.atomic_path, in the
worker): a night killed before ``wait`` leaves at most a temporary file, which the next run removes
(files.clean_stale_tmp). ``wait`` returns once every workbook is on disk and raises on the first failure: the
night calls it before it publishes its manifest.

    writer = NoticeWriter()
    writer.write(con, out, region, notice_id)    # per new notice, instead of notice.write_notice
    writer.wait()                                # before manifest.json
"""

import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autogrant.transforms import notice, resources


class NoticeWriter:
    def __init__(self):
        self._proc: subprocess.Popen | None = None
        self._dir: Path | None = None
        self._jobs = 0

    def write(self, con, out: Path, region: str, notice_id: str) -> list[Path]:
        """The notice's claims read now, its CSV and XLSX written in the worker; the two paths (nothing when the
        notice has no unit)."""
        claims = notice._claims(con, notice_id)
        if not claims:
            return []
        if self._proc is None:
            self._start()
        self._jobs += 1
        job = self._dir / f"job-{self._jobs}.pickle"
        job.write_bytes(pickle.dumps((str(out), region, notice_id, claims), protocol=pickle.HIGHEST_PROTOCOL))
        self._proc.stdin.write(f"{job}\n".encode())
        self._proc.stdin.flush()
        return notice.notice_paths(out, region, notice_id)

    def _start(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="autogrant-notices-"))  # private (0700): the claims pass here
        package_root = str(Path(notice.__file__).resolve().parents[2])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
        with (self._dir / "failures.txt").open("wb") as failures:
            self._proc = subprocess.Popen([sys.executable, "-m", "autogrant.transforms.notice_writer"],
                                          stdin=subprocess.PIPE, stdout=failures, env=env)  # fmt: skip

    def wait(self) -> None:
        """Every notice handed over written, and the worker stopped; RuntimeError naming the first notice that
        failed (after every other is settled)."""
        if self._proc is None:
            return
        proc, folder, self._proc, self._dir, self._jobs = self._proc, self._dir, None, None, 0
        try:
            proc.stdin.close()
            code = proc.wait()
            failures = (folder / "failures.txt").read_text(encoding="utf-8").splitlines()
            if failures or code:
                raise RuntimeError(f"notice not written: {failures[0] if failures else f'worker exit {code}'}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.wait()


def _work() -> None:
    """The worker: one job file per line of stdin; a failure as one line of stdout (notice, then the error). Its
    cyclic garbage collector runs seldom, as the night's does: a province's notices are a million cells, and at
    Python's default thresholds the collections took 0.6 of the worker's 3.9 CPU seconds (issue 13)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # an operator's Ctrl-C is the night's: it ends, then this ends
    with resources.few_collections():
        _jobs()


def _jobs() -> None:
    for line in sys.stdin:
        job = Path(line.strip())
        name = "?"
        try:
            out, region, notice_id, claims = pickle.loads(job.read_bytes())
            name = f"notices/{region}/{notice_id}"
            notice.write_files(Path(out), region, notice_id, claims)
        except Exception as exc:  # noqa: BLE001 - reported to the night, which raises it in wait()
            print(f"{name}: {type(exc).__name__}: {exc}".replace("\n", " "), flush=True)
        finally:
            job.unlink(missing_ok=True)


if __name__ == "__main__":
    _work()
