"""`autogrant lint-policies`: checks across the policy files that a single file's schema cannot make.

- every value cited (a value with an empty or placeholder citation, an assumed value without what to confirm);
- a value whose citation names none of the documents the project implements (``SOURCES``, the seed texts) is
  marked assumed: the seeds do not give it;
- rate arms: two arms that can both match a unit must each carry an explicit ``order`` (distinct, ascending
  in the file), and no arm may be shadowed by an earlier one that matches every unit it matches;
- no two policies for the same region, assessed year and scheme;
- effective dates consistent: from <= to, the assessed year before the policy takes effect,
  the reference date in the assessed year, the default cut-off after the reference date and not after the end.
"""

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import yaml

from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import POLICY_DIR, REFERENCE_DIR
from autogrant.transforms.policy import available, load
from autogrant.transforms.policy_model import Cited, Policy, RateArm, Rules

PLACEHOLDERS = {"todo", "tbd", "xxx", "?", "..."}
# The documents in shared/seeds (their index, seeds/README.md; tests/test_citations.py checks the two agree)
SOURCES = (
    "大人社发〔2018〕216号",
    "辽人社发〔2017〕14号",
    "人社厅发〔2017〕129号",
    "本人社〔2021〕43号",
    "辽人社发〔2021〕7号",
    "内蒙古工作方案",
    "大人社发〔2020〕391号",
)
# National notices read in public copies, with the phrases quoted from them (reference/public_sources.yaml, issue 16)
PUBLIC_SOURCES: dict = yaml.safe_load((REFERENCE_DIR / "public_sources.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Finding:
    policy: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.policy}: {self.where}: {self.message}"


def _industries_overlap(a: list[str] | None, b: list[str] | None) -> bool:
    if a is None or b is None:
        return True
    return any(x.startswith(y) or y.startswith(x) for x in a for y in b)


def _industries_within(inner: list[str] | None, outer: list[str] | None) -> bool:
    if outer is None:
        return True
    if inner is None:
        return False
    return all(any(x.startswith(y) for y in outer) for x in inner)


def arms_overlap(a: RateArm, b: RateArm) -> bool:
    """Some unit can satisfy both arms' conditions."""
    sizes = a.size_classes is None or b.size_classes is None or bool(set(a.size_classes) & set(b.size_classes))
    arrears = a.paid_up_arrears is None or b.paid_up_arrears is None or a.paid_up_arrears == b.paid_up_arrears
    return _industries_overlap(a.industries, b.industries) and sizes and arrears


def arm_covers(outer: RateArm, inner: RateArm) -> bool:
    """Every unit that satisfies ``inner`` satisfies ``outer``."""
    sizes = outer.size_classes is None or (inner.size_classes is not None and set(inner.size_classes) <= set(outer.size_classes))
    arrears = outer.paid_up_arrears is None or outer.paid_up_arrears == inner.paid_up_arrears
    return _industries_within(inner.industries, outer.industries) and sizes and arrears


def _unsourced(cite: str, assumed: bool) -> bool:
    """Not assumed, yet the citation names none of the seed documents (nor a notice read in a public copy)."""
    return not assumed and not any(doc in cite for doc in (*SOURCES, *PUBLIC_SOURCES))


def lint_citations(p: Policy) -> list[Finding]:
    out = []
    unsourced = "cites none of the documents in the seeds: mark it assumed: true with what to confirm it against"
    for name in Rules.model_fields:
        v = getattr(p.rules, name)
        if isinstance(v, Cited) and v.cite.strip().lower() in PLACEHOLDERS:
            out.append(Finding(p.policy_id, name, f"citation '{v.cite}' is a placeholder"))
        elif isinstance(v, Cited) and _unsourced(v.cite, v.assumed):
            out.append(Finding(p.policy_id, name, unsourced))
    for arm in p.rules.rate_arms:
        if arm.cite.strip().lower() in PLACEHOLDERS:
            out.append(Finding(p.policy_id, f"rate_arms.{arm.name}", f"citation '{arm.cite}' is a placeholder"))
        elif _unsourced(arm.cite, arm.assumed):
            out.append(Finding(p.policy_id, f"rate_arms.{arm.name}", unsourced))
        if arm.assumed and not arm.confirm:
            out.append(Finding(p.policy_id, f"rate_arms.{arm.name}", "assumed without what to confirm it against"))
    return out


def lint_rate_arms(p: Policy) -> list[Finding]:
    out = []
    arms = p.rules.rate_arms
    names = [a.name for a in arms]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        out.append(Finding(p.policy_id, f"rate_arms.{dup}", "two arms have this name"))
    for (_i, a), (_j, b) in combinations(enumerate(arms), 2):
        if not arms_overlap(a, b):
            continue
        where = f"rate_arms.{a.name}/{b.name}"
        if a.order is None or b.order is None:
            out.append(Finding(p.policy_id, where, "both arms can match the same unit: give each an explicit order"))
        elif not a.order < b.order:
            out.append(Finding(p.policy_id, where, f"order {a.order} then {b.order}: arms must be listed in their order"))
        if arm_covers(a, b):
            out.append(
                Finding(
                    p.policy_id, f"rate_arms.{b.name}", f"never applies: arm {a.name} before it matches every unit it matches"
                )
            )
    return out


def lint_dates(p: Policy) -> list[Finding]:
    r, out = p.rules, []
    if r.effective_from.value > r.effective_to.value:
        out.append(
            Finding(p.policy_id, "effective_from", f"{r.effective_from.value} is after effective_to {r.effective_to.value}")
        )
    if r.assessed_year.value >= r.effective_from.value.year:
        out.append(
            Finding(
                p.policy_id,
                "assessed_year",
                f"{r.assessed_year.value} is not before the policy takes effect ({r.effective_from.value})",
            )
        )
    if r.default_as_of.value < r.reference_date.value:
        out.append(
            Finding(
                p.policy_id, "default_as_of", f"{r.default_as_of.value} is before the reference date {r.reference_date.value}"
            )
        )
    if r.default_as_of.value > r.effective_to.value:
        out.append(Finding(p.policy_id, "default_as_of", f"{r.default_as_of.value} is after effective_to {r.effective_to.value}"))
    return out


def lint_overlaps(policies: list[Policy]) -> list[Finding]:
    out, seen = [], {}
    for p in policies:
        for region in p.rules.regions.value:
            key = (region, p.rules.assessed_year.value, p.scheme)
            if key in seen:
                out.append(
                    Finding(
                        p.policy_id,
                        "regions",
                        f"region {region}, assessed year {key[1]}, scheme {p.scheme} is already ruled by {seen[key]}",
                    )
                )
            else:
                seen[key] = p.policy_id
    return out


def lint(policy_dir: Path = POLICY_DIR) -> tuple[list[str], list[Finding]]:
    """(the policies checked, the findings); a file that does not load is a finding too."""
    ids, loaded, findings = available(policy_dir), [], []
    for pid in ids:
        try:
            p = load(pid, policy_dir).policy
        except InputError as exc:
            findings.append(Finding(pid, "file", str(exc)))
            continue
        loaded.append(p)
        findings += lint_citations(p) + lint_rate_arms(p) + lint_dates(p)
    findings += lint_overlaps(loaded)
    return ids, findings
