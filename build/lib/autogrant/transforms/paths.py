"""Where the package's static assets live (SQL steps, policy files, reference tables, sample drops): package data,
found through importlib.resources so that an installed wheel finds them from any folder."""

from importlib.resources import files
from pathlib import Path

PACKAGE = Path(str(files("autogrant")))
SQL_DIR = PACKAGE / "sql"
POLICY_DIR = PACKAGE / "policies"
REFERENCE_DIR = PACKAGE / "reference"
SAMPLES_DIR = PACKAGE / "data_samples"
