"""The drop's CSV files made ready for DuckDB ahead of the ingest (issue 13): while DuckDB parses and checks one file, a
thread detects the next files' encoding and transcodes a GB18030 one to UTF-8 (Python's codecs, streaming). DuckDB
releases the GIL while it works, so the two overlap; a province in GB18030 (what the agencies send) loses the
transcoding from its ingest time. The files are taken in the order the ingest reads them; an error met on a file
(neither UTF-8 nor GB18030) is raised when the ingest comes to that file, as without the thread.
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


class Prefetch:
    """``get(path)``: (encoding, path DuckDB reads), prepared ahead by ``prepare(path)`` on one thread."""

    def __init__(self, paths: list[Path], prepare: Callable[[Path], tuple[str, Path]]):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autogrant-csv")
        self._futures: dict[Path, Future] = {p: self._pool.submit(prepare, p) for p in paths}

    def get(self, path: Path, prepare: Callable[[Path], tuple[str, Path]]) -> tuple[str, Path]:
        future = self._futures.pop(path, None)
        return future.result() if future is not None else prepare(path)

    def close(self) -> None:
        """Cancel what was not started; wait for the file in hand (its folder is removed after this)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
