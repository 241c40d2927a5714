"""The built wheel, installed in a fresh virtual environment, runs the bundled sample from a folder that is not the
repository: SQL steps, policy files, reference tables and the sample drop travel inside the package."""

import csv
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_built_wheel_runs_the_sample_from_another_folder(tmp_path):
    source, dist = tmp_path / "source", tmp_path / "dist"  # built from a copy: setuptools leaves build/ beside the source
    shutil.copytree(
        ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "out", "data", "*.egg-info", "__pycache__")
    )
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("autogrant-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_ = env_dir / "bin"
    subprocess.run([str(bin_ / "python"), "-m", "pip", "install", "-q", str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def autogrant(*args):
        return subprocess.run([str(bin_ / "autogrant"), *args], cwd=elsewhere, capture_output=True, text=True)

    listed = autogrant("policies")
    assert listed.returncode == 0, listed.stderr
    assert "LN-2021" in listed.stdout
    lint = autogrant("lint-policies")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    demo = autogrant("demo", "--out", "out")
    assert demo.returncode == 0, demo.stdout + demo.stderr
    with (elsewhere / "out" / "decisions.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # after the release night decisions agree with the ledger: the units paid that night are ALREADY_PAID
    assert rows and {r["decision"] for r in rows} >= {"HOLD", "REJECT"}
    assert any("ALREADY_PAID" in r["reasons"] and float(r["already_paid"]) > 0 for r in rows)
    assert list((elsewhere / "out" / "payments").glob("*/*.csv")), "the demo's third night writes payment files"
    # the package was imported from the fresh environment, not from the repository
    where = subprocess.run([str(bin_ / "python"), "-c", "import autogrant; print(autogrant.__file__)"], cwd=elsewhere,
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert str(env_dir) in where and str(ROOT) not in where
