"""Policy files (policies/<ID>.yaml): find one, read it, check it against the models of transforms/policy_model.py,
list the files, and name the values that are assumed. A file that does not load gives one line naming the file and
the key. Policy values reach SQL only as data (transforms/decide.py writes the tables), never pasted into SQL text.
"""

import datetime as dt
import hashlib
from pathlib import Path

import yaml
from pydantic import ValidationError

from autogrant.transforms.errors import InputError
from autogrant.transforms.paths import POLICY_DIR
from autogrant.transforms.policy_model import Cited, Policy, Rules

REGION_RATE = "region_registered_unemployment_rate"  # layoff_rate_max: the region's registered unemployment rate


def policy_path(policy_id: str, policy_dir: Path = POLICY_DIR) -> Path:
    return policy_dir / f"{policy_id}.yaml"


def available(policy_dir: Path = POLICY_DIR) -> list[str]:
    return sorted(p.stem for p in policy_dir.glob("*.yaml"))


def _format_errors(label: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        msg = "unknown key"
    elif first["type"] == "missing":
        msg = "is required (every value needs value: and cite:)" if where.endswith("cite") else "is required"
    return f"{label}: {where}: {msg}{more}"


def parse(data: dict, label: str) -> Policy:
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise InputError(_format_errors(label, exc)) from None


def read_raw(policy_id: str, policy_dir: Path = POLICY_DIR) -> tuple[dict, bytes, str]:
    path = policy_path(policy_id, policy_dir)
    if not path.is_file():
        known = ", ".join(available(policy_dir)) or "none"
        raise InputError(f"unknown policy '{policy_id}' (known: {known})")
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InputError(f"policies/{path.name}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise InputError(f"policies/{path.name}: must be a mapping of keys")
    return data, raw, f"policies/{path.name}"


def load(policy_id: str, policy_dir: Path = POLICY_DIR, overrides: dict[str, str] | None = None) -> "LoadedPolicy":
    """Load and check one policy file; ``overrides`` (name -> YAML text) set rule values for a what-if."""
    data, raw, label = read_raw(policy_id, policy_dir)
    if data.get("policy_id") != policy_id:
        raise InputError(f"{label}: policy_id must be '{policy_id}' (the file's name)")
    for name, text in (overrides or {}).items():
        rules = data.get("rules", {})
        if name.startswith("rate_arms."):
            _override_arm(rules, name, text)
            continue
        if name not in Rules.model_fields:
            raise InputError(f"--set {name}: unknown policy value (known: {', '.join(Rules.model_fields)})")
        if name == "rate_arms" or not isinstance(rules.get(name), dict):
            raise InputError(f"--set {name}: this value cannot be set from the command line")
        rules[name] = dict(rules[name], value=yaml.safe_load(text), cite=f"what-if scenario (was: {rules[name]['cite']})")
    policy = parse(data, label if not overrides else f"{label} with --set")
    return LoadedPolicy(policy, hashlib.sha256(raw).hexdigest(), label)


def _override_arm(rules: dict, name: str, text: str) -> None:
    """--set rate_arms.<arm>.rate=0.40: the one arm value a what-if may change."""
    parts = name.split(".")
    arms = {a.get("name"): a for a in rules.get("rate_arms", [])}
    if len(parts) != 3 or parts[2] != "rate" or parts[1] not in arms:
        raise InputError(f"--set {name}: write rate_arms.<arm>.rate (arms: {', '.join(map(str, arms)) or 'none'})")
    arm = arms[parts[1]]
    arm.update(rate=yaml.safe_load(text), cite=f"what-if scenario (was: {arm['cite']})")


class LoadedPolicy:
    """A checked policy with the hash of its file (for the run manifest)."""

    def pay_by(self, as_of: dt.date, data_in: dt.date | None = None, top_up: bool = False) -> dt.date:
        """The date by which a unit's refund must be paid (``PayBy``), in China's working days where so; ``data_in``:
        the day the unit's data made it payable (the cut-off ``as_of`` when unknown); ``top_up``: paid in part before."""
        from autogrant.transforms.workdays import add_months, add_working_days

        rule = self.rules.pay_by.value
        if top_up and rule.top_up_date:
            return rule.top_up_date
        if rule.kind == "working_days_after_data_in":
            return add_working_days(data_in or as_of, rule.n)
        if rule.kind == "months_after_document":
            return add_months(rule.from_date, rule.n)
        return rule.date

    def __init__(self, policy: Policy, sha256: str, label: str):
        self.policy, self.sha256, self.label = policy, sha256, label

    @property
    def id(self) -> str:
        return self.policy.policy_id

    @property
    def rules(self) -> Rules:
        return self.policy.rules


def assumed_values(policy: Policy) -> list[tuple[str, str]]:
    """(key, what to confirm it against) for every assumed value, rate arms included."""
    out = []
    for name in Rules.model_fields:
        v = getattr(policy.rules, name)
        if isinstance(v, Cited) and v.assumed:
            out.append((name, v.confirm or ""))
    for arm in policy.rules.rate_arms:
        if arm.assumed:
            out.append((f"rate_arms.{arm.name}", arm.confirm or ""))
    return out
