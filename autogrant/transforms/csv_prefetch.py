"""The drop's CSV files made ready for DuckDB ahead of the ingest (issue 13): each file's encoding found and a
GB18030 file transcoded to UTF-8 (Python's codecs, streaming), in child processes, two at a time, while DuckDB
parses and checks the files already ready. Files under CHILD_BYTES are made ready in this process when the ingest
comes to them (milliseconds; a child takes longer to start).

Child processes, not threads: the codecs hold the GIL; in threads the two took turns with each other and with the
night's own Python. A child is this module run as
``python -m autogrant.transforms.csv_prefetch FILE WORKDIR`` (standard library only, so it starts in milliseconds);
it prints the encoding it found (the UTF-8 copy's path is utf8_copy's, known to both). A file that is neither
UTF-8 nor GB18030 makes it exit 2 with the reason, raised as InputError when the ingest comes to that file, as
without the children; a child that fails otherwise (killed, no interpreter) is done again in this process.
"""

import codecs
import hashlib
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from autogrant.transforms.errors import InputError

CHILDREN = 2  # the big files of a drop (roster, payments) at once; a drop partitioned by region has many small ones
CHILD_BYTES = 16 << 20  # a smaller file is made ready here, when the ingest comes to it: a child would cost more
CHUNK = 1 << 20  # bytes read at a time to find the encoding and to transcode


def _plain_ascii(chunk: bytes, decoder) -> bool:
    """The chunk is ASCII and no character was cut at the end of the one before: it reads the same in UTF-8 and
    GB18030 (the same bytes, no multi-byte character, no broken one), so it need not go through ``decoder``."""
    return chunk.isascii() and not decoder.getstate()[0]


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the file decodes as UTF-8, or when its well-formed multi-byte characters
    outweigh its broken sequences (a UTF-8 file with a few damaged bytes: DuckDB quarantines those records, where
    reading it as GB18030 would garble every Chinese name in it, silently); else GB18030 (a superset of GBK)."""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        extra = broken = 0
        while chunk := fh.read(CHUNK):
            if _plain_ascii(chunk, decoder):
                continue
            text = decoder.decode(chunk)
            extra += len(chunk) - len(text)  # the bytes beyond the first of each multi-byte character (2 per 汉字)
            broken += text.count("\ufffd")
        text = decoder.decode(b"", final=True)  # a character the end of the file cut: its bytes were counted above
        extra -= len(text)
        broken += text.count("\ufffd")
    return "utf-8" if broken == 0 or extra >= 2 * broken else "gb18030"


def utf8_copy(path: Path, workdir: Path) -> Path:
    """Where a GB18030 file's UTF-8 copy goes: one name per source file (partitions of different files share their
    folder's and their own names, ``region_code=210100/part-0.csv``, and may be transcoded at the same time)."""
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return workdir / f"{key}_{path.name}.utf8.csv"


def transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    """DuckDB reads UTF-8 only (its encodings extension does not load): transcode in streaming chunks. A byte that is
    not GB18030 is carried over as it is (invalid UTF-8): DuckDB quarantines its record alone (INVALID ENCODING)."""
    target = utf8_copy(path, workdir)
    escape = "surrogateescape"
    decoder = codecs.getincrementaldecoder(encoding)(errors=escape)
    try:
        with path.open("rb") as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                if _plain_ascii(chunk, decoder):
                    dst.write(chunk)
                else:
                    dst.write(decoder.decode(chunk).encode("utf-8", escape))
            # a character cut by the end of the file: decoded on its own (the decoder's own final flush keeps the
            # first byte of a broken sequence and drops the bytes after it: b"\xed8" would lose its "8")
            dst.write(decoder.getstate()[0].decode(encoding, escape).encode("utf-8", escape))
    except (UnicodeDecodeError, UnicodeEncodeError) as exc:
        raise InputError(f"{path.name}: neither UTF-8 nor GB18030 text (byte {exc.start})") from None
    return target


def csv_ready(path: Path, workdir: Path) -> tuple[str, Path]:
    """(encoding, the UTF-8 file DuckDB reads: the file itself, or its transcoded copy in workdir)."""
    encoding = detect_encoding(path)
    return encoding, transcode_to_utf8(path, encoding, workdir) if encoding == "gb18030" else path


class Prefetch:
    """``get(path)``: (encoding, path DuckDB reads), prepared ahead by child processes: the largest file first,
    then the others in the order given (the ingest's)."""

    def __init__(self, paths: list[Path], workdir: Path):
        self._workdir = Path(workdir)
        self._children: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=CHILDREN, thread_name_prefix="autogrant-csv")
        sizes = {p: p.stat().st_size for p in paths}
        big = [p for p in paths if sizes[p] >= CHILD_BYTES]
        if big:  # the largest first (the longest to make ready, staged last: the roster), then as the ingest asks
            largest = max(big, key=sizes.__getitem__)
            big = [largest] + [p for p in big if p != largest]
        self._futures: dict[Path, Future] = {p: self._pool.submit(self._child, p) for p in big}

    def _child(self, path: Path) -> tuple[str, Path] | None:
        """The file made ready by a child process; None when the child could not do it (done here instead)."""
        cmd = [sys.executable, "-m", __name__, str(path), str(self._workdir)]
        with self._lock:
            if self._closed:
                return None
            try:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8")
            except OSError:
                return None
            self._children.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._children.discard(proc)
        if proc.returncode == 2 and err.strip():
            raise InputError(err.strip().splitlines()[-1])
        encoding = out.strip()
        if proc.returncode != 0 or not encoding:
            return None
        return encoding, utf8_copy(path, self._workdir) if encoding == "gb18030" else path

    def get(self, path: Path) -> tuple[str, Path]:
        future = self._futures.pop(path, None)
        ready = future.result() if future is not None else None
        return ready if ready is not None else csv_ready(path, self._workdir)

    def close(self) -> None:
        """Stop the children still working (their files are not needed: the ingest ended) and wait for them."""
        with self._lock:
            self._closed = True
            for proc in self._children:
                proc.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv: list[str]) -> int:
    try:
        encoding, _ = csv_ready(Path(argv[0]), Path(argv[1]))
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(encoding)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # an operator's Ctrl-C reaches the whole group: the night says it, this ends quietly
        sys.exit(130)
