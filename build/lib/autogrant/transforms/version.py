"""The code version recorded in every run manifest: the package version and the git commit when there is one."""

import subprocess
from functools import cache
from importlib import metadata

from autogrant.transforms.paths import PACKAGE as ROOT


@cache
def code_version() -> str:
    try:
        version = metadata.version("autogrant")
    except metadata.PackageNotFoundError:
        version = "0+unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit, dirty = "", ""
    return f"{version}+g{commit}{'.dirty' if dirty else ''}" if commit else version
