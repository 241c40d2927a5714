"""The reason registry (reference/reasons.yaml): every reason code of decisions.csv with its decision, its place in
the order, its labels and where its clause comes from. The code list, the labels, the clauses (Policy.cites) and
the order sql/40_decisions.sql lists a unit's reasons in are derived from it, never written out again."""

from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from autogrant.transforms.paths import REFERENCE_DIR

REGISTRY_FILE = REFERENCE_DIR / "reasons.yaml"


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    decision: Literal["REJECT", "HOLD"]
    zh: str
    en: str
    cite_rule: str | None = None  # the policy value whose citation is the clause
    cite: str | None = None  # an operational code's clause
    signal: bool = False  # a fraud signal: the clause is in reference/account_signals.yaml
    added_by: str | None = None  # appended to the contract's list by

    @model_validator(mode="after")
    def _one_source(self):
        if sum(x is not None and x is not False for x in (self.cite_rule, self.cite, self.signal or None)) > 1:
            raise ValueError(f"{self.code}: give one of cite_rule, cite, signal")
        return self


@cache
def registry() -> tuple[Reason, ...]:
    entries = tuple(Reason.model_validate(e) for e in yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8")))
    codes = [e.code for e in entries]
    if len(set(codes)) != len(codes):
        raise ValueError(f"{REGISTRY_FILE}: a code is listed twice")
    return entries


def codes() -> tuple[str, ...]:
    return tuple(e.code for e in registry())


def by_code() -> dict[str, Reason]:
    return {e.code: e for e in registry()}


def position() -> dict[str, int]:
    """code -> its place in the order (1-based), what sql/40_decisions.sql sorts a unit's reasons by."""
    return {e.code: i for i, e in enumerate(registry(), start=1)}
