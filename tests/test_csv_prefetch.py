"""csv_prefetch: the drop's big CSV files made ready by child processes equal what this process would make of them;
a child that cannot start leaves the work to this process; a file the ingest never reached stops its child; a
small file is made ready here."""

import sys
import time

from autogrant.transforms import csv_prefetch
from autogrant.transforms.csv_prefetch import Prefetch, csv_ready

TEXT = "统一社会信用代码,单位名称\n91210100MA0000000X,沈阳某某（集团）有限公司\n"


def drop_files(tmp_path):
    gb = tmp_path / "units_gb.csv"
    gb.write_bytes(TEXT.encode("gb18030") + b"\x81\x30\xff,bad byte\n")  # a byte no GB18030 reads: carried over
    utf = tmp_path / "units_utf8.csv"
    utf.write_text(TEXT, encoding="utf-8")
    return gb, utf


def test_children_make_each_file_ready_as_this_process_would(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_prefetch, "CHILD_BYTES", 0)  # every file to a child, however small
    gb, utf = drop_files(tmp_path)
    (tmp_path / "here").mkdir()
    (tmp_path / "ahead").mkdir()
    with Prefetch([gb, utf], tmp_path / "ahead") as ahead:
        got = {p: ahead.get(p) for p in (gb, utf)}
    for path in (gb, utf):
        encoding, ready = csv_ready(path, tmp_path / "here")
        assert got[path][0] == encoding
        assert got[path][1].read_bytes() == ready.read_bytes()
    assert got[gb][0] == "gb18030" and got[gb][1].parent == tmp_path / "ahead"
    assert got[utf] == ("utf-8", utf)  # a UTF-8 file is read where it lies


def test_a_child_that_cannot_start_leaves_the_file_to_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_prefetch, "CHILD_BYTES", 0)
    gb, _ = drop_files(tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python"))
    with Prefetch([gb], tmp_path) as ahead:
        encoding, ready = ahead.get(gb)
    assert encoding == "gb18030"
    assert ready.read_text(encoding="utf-8", errors="surrogateescape").startswith("统一社会信用代码")


def test_closing_stops_the_children_still_working(tmp_path, monkeypatch):
    big = tmp_path / "roster.csv"
    big.write_bytes(TEXT.encode("gb18030") * 2_000_000)  # 140 MB: a child works on it for seconds
    ahead = Prefetch([big], tmp_path)
    for _ in range(100):  # until the child has started
        if ahead._children:
            break
        time.sleep(0.02)
    assert ahead._children, "no child was working"
    (child,) = ahead._children
    t0 = time.perf_counter()
    ahead.close()
    assert child.returncode is not None and child.returncode < 0  # killed by a signal, not run to its end
    assert not ahead._children and time.perf_counter() - t0 < 1.0


def test_a_small_file_is_made_ready_here_without_a_child(tmp_path):
    gb, utf = drop_files(tmp_path)
    with Prefetch([gb, utf], tmp_path) as ahead:
        assert not ahead._futures  # under CHILD_BYTES: no child started for them
        assert ahead.get(gb) == csv_ready(gb, tmp_path)


def test_partitions_of_two_files_with_the_same_names_get_copies_of_their_own(tmp_path, monkeypatch):
    monkeypatch.setattr(csv_prefetch, "CHILD_BYTES", 0)
    parts = []
    for name in ("units", "roster"):  # units/region_code=210100/part-0.csv beside roster/region_code=210100/part-0.csv
        part = tmp_path / name / "region_code=210100" / "part-0.csv"
        part.parent.mkdir(parents=True)
        part.write_bytes(f"{name},名称\n".encode("gb18030") * 20_000)
        parts.append(part)
    (tmp_path / "work").mkdir()
    with Prefetch(parts, tmp_path / "work") as ahead:  # both children at once
        ready = [ahead.get(p) for p in parts]
    assert ready[0][1] != ready[1][1]
    for part, (encoding, copy) in zip(parts, ready, strict=True):
        assert encoding == "gb18030"
        assert copy.read_text(encoding="utf-8") == part.read_bytes().decode("gb18030")


def whole_file_encoding(data: bytes) -> str:
    """The encoding rule of detect_encoding, applied to the whole file decoded at once."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    text = data.decode("utf-8", errors="replace")
    extra, broken = len(data) - len(text), text.count("\ufffd")
    return "utf-8" if broken == 0 or extra >= 2 * broken else "gb18030"


def test_the_encoding_found_and_the_copy_made_chunk_by_chunk_are_those_of_the_whole_file(tmp_path, monkeypatch):
    """ASCII chunks are skipped unread (finding the encoding) or copied as they are (transcoding), but not one that
    follows a character cut at a chunk's end: b"\\xe6" then "bc" then b"\\xb1\\x89" is three broken bytes of
    UTF-8, not the 汉 those bytes would make if "bc" were skipped; in GB18030 b"\\x81" then "@" is one character."""
    import random

    from hypothesis import given, settings
    from hypothesis import strategies as st

    path = tmp_path / "f.csv"
    cases = [(b"a\xe6bc\xb1\x89", 2), ("汉字,ab\n".encode() * 3, 4), ("汉字".encode("gb18030") + b"abcdef", 3),
             (b"ab\x81@cd", 3)]  # fmt: skip
    rng = random.Random(5)
    pieces = [b"a", b"bc,", b"\n", "汉".encode(), "汉".encode("gb18030"), b"\xe6", b"\xb1\x89", b"\xff"]
    cases += [(b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 30))), rng.randint(1, 7)) for _ in range(300)]

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=40), st.integers(1, 9))
    def fuzzed(data, chunk):
        cases.append((data, chunk))

    fuzzed()
    for data, chunk in cases:
        path.write_bytes(data)
        monkeypatch.setattr(csv_prefetch, "CHUNK", chunk)
        assert csv_prefetch.detect_encoding(path) == whole_file_encoding(data), (data, chunk)
        copy = csv_prefetch.transcode_to_utf8(path, "gb18030", tmp_path).read_bytes()
        assert copy == data.decode("gb18030", "surrogateescape").encode("utf-8", "surrogateescape"), (data, chunk)


def test_the_largest_file_goes_first_then_the_others_as_the_ingest_asks(tmp_path, monkeypatch):
    """The roster (the largest, staged last) is made ready from the start; the units file, which the ingest stages
    first, does not wait behind the payments."""
    monkeypatch.setattr(csv_prefetch, "CHILD_BYTES", 0)
    monkeypatch.setattr(csv_prefetch, "CHILDREN", 1)  # one child at a time: the order they run is the order given
    done = []
    monkeypatch.setattr(Prefetch, "_child", lambda self, path: done.append(path.name))
    paths = []
    for name, size in (("units.csv", 10), ("payments.csv", 30), ("roster.csv", 50), ("zombie.csv", 20)):
        (tmp_path / name).write_bytes(b"x" * size)
        paths.append(tmp_path / name)
    with Prefetch(paths, tmp_path) as ahead:
        for path in paths:
            ahead.get(path)
    assert done == ["roster.csv", "units.csv", "payments.csv", "zombie.csv"]
