"""Run the SQL steps of sql/ by file name. The files are static: policy values reach them as tables."""

from functools import cache

from autogrant.transforms.paths import SQL_DIR


@cache
def text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def run(con, name: str) -> None:
    """Execute every statement of sql/<name> on the connection."""
    con.execute(text(name))
