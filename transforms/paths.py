"""Where the project's static assets live (SQL steps, policy files, reference tables)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"
POLICY_DIR = ROOT / "policies"
REFERENCE_DIR = ROOT / "transforms" / "reference"
SAMPLES_DIR = ROOT / "data_samples"
