"""The shape of a policy file (policies/<ID>.yaml) as pydantic models: every value of POLICY_RULES.md with the
clause it comes from, the rate arms, the pay-by rule, and what the values together must satisfy.

A value without a citation, an unknown key or a wrong type is refused (transforms/policy.py loads the file and says
which key). Values not in our documents carry ``assumed: true`` and what to confirm them against.
"""

import datetime as dt
from decimal import Decimal
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from autogrant.transforms.schema import ENUMS

T = TypeVar("T")
UnitType = Literal[tuple(ENUMS["unit_type"])]  # type: ignore[valid-type]
SizeClass = Literal[tuple(ENUMS["size_class"])]  # type: ignore[valid-type]
Status = Literal[tuple(ENUMS["status"])]  # type: ignore[valid-type]
Rate = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
RegionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Strict, Generic[T]):
    """One policy value and where it comes from."""

    value: T
    cite: Annotated[str, Field(min_length=3)]
    assumed: bool = False
    confirm: str | None = None  # what an assumed value is to be confirmed against

    @model_validator(mode="after")
    def _assumed_says_what_to_confirm(self):
        if self.assumed and not self.confirm:
            raise ValueError("an assumed value must say what to confirm it against (confirm: ...)")
        return self


class RateArm(Strict):
    """One arm of the refund rate; the first arm whose conditions all hold gives the rate."""

    name: str
    rate: Rate
    cite: Annotated[str, Field(min_length=3)]
    industries: list[Annotated[str, Field(pattern=r"^[A-T][0-9]{0,4}$")]] | None = None  # GB/T 4754-2017 prefixes
    size_classes: list[SizeClass] | None = None
    paid_up_arrears: bool | None = None
    order: Annotated[int, Field(ge=1)] | None = None  # required by the linter where two arms can both match
    assumed: bool = False
    confirm: str | None = None


class PayBy(Strict):
    """When the refund must be paid: ``months_after_document``, n months from ``from_date`` (the day the document
    was issued); ``working_days_after_data_in``, n working days from the day a unit's data made it payable (the
    cut-off for a unit not yet there); ``fixed_date``, by ``date``. ``top_up_date``: a unit paid in part before
    (补差) is due by that date instead."""

    kind: Literal["months_after_document", "working_days_after_data_in", "fixed_date"]
    n: Annotated[int, Field(ge=0)] | None = None
    from_date: dt.date | None = None
    date: dt.date | None = None
    top_up_date: dt.date | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self):
        need = {"months_after_document": ("n", "from_date"), "working_days_after_data_in": ("n",), "fixed_date": ("date",)}
        missing = [f for f in need[self.kind] if getattr(self, f) is None]
        extra = [f for f in ("n", "from_date", "date") if f not in need[self.kind] and getattr(self, f) is not None]
        if missing or extra:
            raise ValueError(f"kind {self.kind} takes {', '.join(need[self.kind])} (missing: {missing}, not used: {extra})")
        return self


class OverCap(Strict):
    """A unit above the auto-grant cap: rejected (the cap is a condition), or eligible on its own application by
    ``apply_by`` (the cap only ends the auto-grant, e.g. 辽人社发〔2021〕7号 一(一) 可在…前申请)."""

    route: Literal["reject", "apply"]
    apply_by: dt.date | None = None

    @model_validator(mode="after")
    def _apply_by(self):
        if (self.route == "apply") != (self.apply_by is not None):
            raise ValueError("route apply needs apply_by (and route reject has none)")
        return self


class Rules(Strict):
    regions: Cited[list[RegionCode]]
    eligible_unit_types: Cited[list[UnitType]]
    inactive_statuses: Cited[list[Status]]
    assessed_year: Cited[Annotated[int, Field(ge=2000, le=2100)]]
    reference_date: Cited[dt.date]
    default_as_of: Cited[dt.date]
    effective_from: Cited[dt.date]
    effective_to: Cited[dt.date]
    headcount_cap: Cited[Annotated[int, Field(ge=0)] | None] | None = None
    over_cap: Cited[OverCap] | None = None  # absent: route reject
    # benefit_claims_over_avg_insured: the year's new benefit claimants ÷ the average monthly insured (benefit_claims.csv)
    layoff_formula: Cited[Literal["net_decline", "net_decline_excl_natural", "benefit_claims_over_avg_insured"]]
    layoff_rate_max: Cited[Rate | Literal["region_registered_unemployment_rate"]]
    layoff_comparison: Cited[Literal["at_most", "below"]]
    small_unit_max_headcount: Cited[Annotated[int, Field(ge=0)]] | None = None
    layoff_rate_max_small: Cited[Rate] | None = None
    # nbs_2017: the registered class, else 国统字〔2017〕213号; avg_insured_headcount: an enterprise is large when its
    # average monthly insured headcount of the assessed year reaches large_min_avg_insured, else SME (35_size_by_avg_insured.sql)
    size_classification: Cited[Literal["nbs_2017", "avg_insured_headcount"]]
    large_min_avg_insured: Cited[Annotated[int, Field(ge=1)]] | None = None
    size_classes_covered: Cited[list[SizeClass]] | None = None
    premium_base: Cited[Literal["paid_in_assessed_year"]]
    amount_formula: Cited[Literal["premium_share", "benefit_months"]]
    rate_arms: list[RateArm] = []
    benefit_months: Cited[Annotated[int, Field(ge=1, le=24)]] | None = None
    # 内蒙古工作方案 二(二) "或按…": the other standard of a benefit_months refund, N months of the unit's social-insurance
    # premiums due (si_premiums_due.csv), reckoned as premium_months_basis says; the larger standard is paid
    premium_months_alt: Cited[Annotated[int, Field(ge=1, le=12)]] | None = None
    premium_months_basis: Cited[Literal["assessed_year_monthly_average"]] | None = None
    arrears_paid_up: Cited[bool]
    # premiums paid in full for at least this many fee months of the assessed year (else PREMIUM_MONTHS_SHORT)
    months_paid_min: Cited[Annotated[int, Field(ge=1, le=12)]] | None = None
    reserve_months_min: Cited[Annotated[int, Field(ge=0)]]
    adjustment_fund_allowed: Cited[bool]
    exclude_dishonest: Cited[bool]
    exclude_zombie: Cited[bool]
    double_dip_subsidy_types: Cited[list[str]]
    difficulty_list_required: Cited[bool]
    notice_days: Cited[Annotated[int, Field(ge=0, le=60)]]
    pay_by: Cited[PayBy]
    # a unit whose register has no usable bank account is paid to the account it pays its contributions from, as the
    # tax bureau holds it (contribution_accounts.csv; sql/33_payee_account.sql)
    fallback_payee: Cited[Literal["contribution_account"]] | None = None
    # the policy whose refund is an alternative standard to this one: one scheme per unit and year, the larger
    alternative_scheme: Cited[Annotated[str, Field(pattern=r"^[A-Z]{2}-[0-9]{4}(-[A-Z]+)?$")]] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if (self.small_unit_max_headcount is None) != (self.layoff_rate_max_small is None):
            raise ValueError("small_unit_max_headcount and layoff_rate_max_small go together")
        if self.amount_formula.value == "premium_share" and not self.rate_arms:
            raise ValueError("amount_formula premium_share needs rate_arms")
        if self.amount_formula.value == "benefit_months" and self.benefit_months is None:
            raise ValueError("amount_formula benefit_months needs benefit_months")
        if (self.premium_months_alt is None) != (self.premium_months_basis is None):
            raise ValueError("premium_months_alt and premium_months_basis go together")
        if self.premium_months_alt and self.amount_formula.value != "benefit_months":
            raise ValueError("premium_months_alt is an alternative standard of amount_formula benefit_months")
        last = self.rate_arms[-1] if self.rate_arms else None
        if last and (last.industries is not None or last.size_classes or last.paid_up_arrears is not None):
            raise ValueError("the last rate arm must have no conditions (it is the rate of every other unit)")
        if (
            self.over_cap
            and self.over_cap.value.route == "apply"
            and (not self.headcount_cap or self.headcount_cap.value is None)
        ):
            raise ValueError("over_cap route apply needs a headcount_cap")
        if (self.size_classification.value == "avg_insured_headcount") != (self.large_min_avg_insured is not None):
            raise ValueError("size_classification avg_insured_headcount and large_min_avg_insured go together")
        if self.reference_date.value.year != self.assessed_year.value:
            raise ValueError("reference_date must lie in the assessed year")
        return self


class Policy(Strict):
    policy_id: Annotated[str, Field(pattern=r"^[A-Z]{2}-[0-9]{4}(-[A-Z]+)?$")]
    title: str
    scheme: Literal["general_refund", "small_micro_refund", "decapacity_refund", "difficulty_refund"]
    rules: Rules

    @field_validator("title")
    @classmethod
    def _title(cls, v):
        if not v.strip():
            raise ValueError("is empty")
        return v

    @property
    def size_class_matters(self) -> bool:
        """Only where the rate or eligibility depends on size does SIZE_CLASS_MISSING apply (POLICY_RULES)."""
        return self.rules.size_classes_covered is not None or any(a.size_classes for a in self.rules.rate_arms)

    @property
    def over_cap_by_application(self) -> bool:
        """Above the cap, the unit may apply (APPLICATION_REQUIRED, a HOLD) instead of HEADCOUNT_OVER_CAP."""
        return self.rules.over_cap is not None and self.rules.over_cap.value.route == "apply"

    def rule_codes(self) -> list[str]:
        """The reason codes this policy's own values can raise (the operational holds and INVALID_INPUT aside)."""
        r = self.rules
        codes = ["UNIT_TYPE_INELIGIBLE", "UNIT_INACTIVE", "REGION_RESERVE_INSUFFICIENT"]
        codes += ["SIZE_CLASS_INELIGIBLE"] if r.size_classes_covered else []
        capped = r.headcount_cap and r.headcount_cap.value is not None
        codes += ["HEADCOUNT_OVER_CAP"] if capped and not self.over_cap_by_application else []
        codes += ["LAYOFF_RATE_EXCEEDED"]
        codes += ["ARREARS_OUTSTANDING"] if r.arrears_paid_up.value else []
        codes += ["NO_PREMIUM_PAID"]
        codes += ["DISHONEST_ENTITY"] if r.exclude_dishonest.value else []
        codes += ["ZOMBIE_ENTERPRISE"] if r.exclude_zombie.value else []
        codes += ["DOUBLE_DIP"] if r.double_dip_subsidy_types.value else []
        codes += ["NOT_IN_DIFFICULTY"] if r.difficulty_list_required.value else []
        codes += ["ALREADY_PAID"]
        by_nbs = r.size_classification.value == "nbs_2017"  # by average insured headcount every enterprise has a class
        codes += ["SIZE_CLASS_MISSING"] if self.size_class_matters and by_nbs else []
        codes += ["APPLICATION_REQUIRED"] if self.over_cap_by_application else []
        codes += ["OTHER_SCHEME_CHOSEN"] if r.alternative_scheme else []
        codes += ["PREMIUM_MONTHS_SHORT"] if r.months_paid_min else []
        codes += ["BANK_ACCOUNT_MISSING"] if r.fallback_payee else []  # held only where no fallback account exists
        return codes

    def cites(self) -> dict[str, str]:
        """The clause behind each reason code (reference/reasons.yaml says where each comes from), and behind a
        payment (PAY)."""
        from autogrant.transforms import reasons, signals  # registry and fraud signals: reference data

        r = self.rules
        layoff = r.layoff_rate_max.cite
        amount = r.benefit_months.cite if r.benefit_months else r.amount_formula.cite
        signal_cites = signals.load().cites()

        def clause(e) -> str:
            if e.cite is not None:
                return e.cite
            if e.signal:
                return signal_cites[e.code]
            value = getattr(r, e.cite_rule) if e.cite_rule else None
            return value.cite if value is not None else ""

        out = {e.code: clause(e) for e in reasons.registry()}
        out |= {  # those whose clause is composed
            "LAYOFF_RATE_EXCEEDED_SMALL": r.layoff_rate_max_small.cite if r.layoff_rate_max_small else layoff,
            "ALREADY_PAID": amount,
            "AMOUNT_ZERO": amount,  # the amount the formula gives, floored to the fen, is 0
            "FALLBACK_PAYEE": r.fallback_payee.cite if r.fallback_payee else "",  # not a reason: a PAY's payee
            "OBJECTION_UPHELD": r.notice_days.cite + " (objection upheld after the public notice)",
            "PAY": "; ".join(dict.fromkeys([r.eligible_unit_types.cite, layoff, amount])),
        }
        if r.premium_months_alt:  # the unit paid by the premium standard (sql/40_decisions.sql amount_standard)
            alt = r.premium_months_alt.cite
            pay = "; ".join(dict.fromkeys([r.eligible_unit_types.cite, layoff, alt]))
            out |= {"PREMIUM_MONTHS_ALT": alt, "ALREADY_PAID_PREMIUM_MONTHS": alt, "PAY_PREMIUM_MONTHS": pay}
        return out
