"""Files appear complete or not at all: written under a temporary name in the same folder, then renamed."""

import contextlib
import hashlib
import os
from pathlib import Path


def tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


@contextlib.contextmanager
def atomic_path(path: Path):
    """Yield a temporary path to write; on success it is fsynced and renamed onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    write_bytes(path, text.encode(encoding))


def copy_query(con, query: str, path: Path, fmt: str = "csv") -> None:
    """COPY a query's result to ``path`` atomically (CSV with header, UTF-8; or Parquet)."""
    with atomic_path(path) as tmp:
        options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"
        target = tmp.as_posix().replace("'", "''")
        con.execute(f"COPY ({query}) TO '{target}' ({options})")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def clean_stale_tmp(folder: Path) -> int:
    """Remove temporary files a killed run left behind (they never look complete: a leading dot and .tmp-)."""
    n = 0
    if folder.is_dir():
        for p in folder.rglob(".*.tmp-*"):
            p.unlink(missing_ok=True)
            n += 1
    return n


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A text cell a spreadsheet would run as a formula (CSV injection), made inert with a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_cell(value) -> str:
    """One CSV cell: None as empty, quoted (quotes doubled) where it holds a comma, quote or line break."""
    s = "" if value is None else str(value)
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\r\n') else s


def write_clerk_csv(path: Path, header: tuple, rows: list) -> int:
    """A list for clerks (UTF-8 with BOM, CRLF: opens in Excel as it is; cells neutralised), replaced every run and
    removed when there is nothing to list; the rows written."""
    path = Path(path)
    if not rows:
        path.unlink(missing_ok=True)
        return 0
    lines = [",".join(csv_cell(neutralise(str(v))) for v in r) for r in (header, *rows)]
    write_bytes(path, ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return len(rows)
