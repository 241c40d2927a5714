"""Deadlines the documents set, said aloud: 辽人社发〔2021〕7号 一(一) (pay within 4 months; apply by 2021-12-31),
大人社发〔2020〕391号 (pay within 5 working days). A unit's pay-by date is its policy's (``LoadedPolicy.pay_by``)."""

import datetime as dt

from autogrant.transforms import messages
from autogrant.transforms.policy import LoadedPolicy


def run_warning(loaded: LoadedPolicy, as_of: dt.date | None, today: dt.date, lang: str | None = None) -> str | None:
    """One line when the business date is past the policy's pay-by date or outside its effective window; else None."""
    r = loaded.rules
    as_of = as_of or r.default_as_of.value
    pay_by = loaded.pay_by(as_of)
    parts = []
    if today > pay_by:
        parts.append(messages.t("past_pay_by", lang, today=today, policy=loaded.id, pay_by=pay_by, cite=r.pay_by.cite))
    if not r.effective_from.value <= today <= r.effective_to.value:
        parts.append(
            messages.t("outside_window", lang, today=today, policy=loaded.id, start=r.effective_from.value,
                       end=r.effective_to.value, cite=r.effective_to.cite)  # fmt: skip
        )
    return ("；" if (lang or messages.current()) == "zh" else "; ").join(parts) or None
