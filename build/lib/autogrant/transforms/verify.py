"""`autogrant verify OUT`: every payment file against payments/manifest.json and against its own header and trailer."""

import csv
import io
import json
from pathlib import Path

from autogrant.transforms.files import sha256_file


def _fen(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def check_batch_text(text: str) -> tuple[int, int, list[str]]:
    """(count, control sum in fen, problems) of a payment file's records: H header, D details, T trailer."""
    rows = list(csv.reader(io.StringIO(text)))
    problems = []
    if not rows or rows[0][0] != "H" or rows[-1][0] != "T":
        return 0, 0, ["no H header or T trailer record"]
    details = [r for r in rows[2:-1]]
    bad = [r for r in details if r[0] != "D" or len(r) != 8]
    if bad:
        problems.append(f"{len(bad)} malformed detail records")
    count, total = len(details), sum(_fen(r[6]) for r in details if len(r) == 8)
    header, trailer = rows[0], rows[-1]
    if int(trailer[1]) != count or _fen(trailer[2]) != total:
        problems.append(
            f"trailer says {trailer[1]} payments, {trailer[2]} yuan; the records add up to {count}, {total / 100:.2f}"
        )
    if int(header[6]) != count or _fen(header[7]) != total:
        problems.append(f"header says {header[6]} payments, {header[7]} yuan; the records add up to {count}, {total / 100:.2f}")
    return count, total, problems


def verify_out(out: Path) -> tuple[int, list[str]]:
    out = Path(out)
    manifest_path = out / "payments" / "manifest.json"
    if not manifest_path.exists():
        return 0, [f"{manifest_path} not found"]
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    problems, checked = [], 0
    listed = set()
    for b in manifest["batches"]:
        for rel, sha in b["files"].items():
            listed.add(rel)
            path = out / rel
            checked += 1
            if not path.exists():
                problems.append(f"{rel}: missing")
                continue
            if sha256_file(path) != sha:
                problems.append(f"{rel}: SHA-256 differs from the manifest")
            encoding = "gb18030" if rel.endswith(".gb18030.csv") else "utf-8"
            try:
                text = path.read_bytes().decode(encoding)
            except UnicodeDecodeError:
                problems.append(f"{rel}: not {encoding} text")
                continue
            try:
                count, total, issues = check_batch_text(text)
            except (ValueError, IndexError) as exc:
                problems.append(f"{rel}: unreadable records ({exc})")
                continue
            problems += [f"{rel}: {i}" for i in issues]
            if count != b["count"] or total != _fen(b["control_sum"]):
                problems.append(
                    f"{rel}: {count} payments, {total / 100:.2f} yuan; the manifest says {b['count']}, {b['control_sum']}"
                )
    for path in sorted((out / "payments").rglob("*.csv")):
        rel = path.relative_to(out).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: a payment file the manifest does not list")
    return checked, problems
