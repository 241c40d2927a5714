"""Reference data the SQL uses beside the policy: the payment system by amount (reference/payment_channels.yaml)
as the macro payment_channel(amount_fen), defined on every connection that stages a drop."""

from functools import cache

import yaml

from autogrant.transforms.paths import REFERENCE_DIR
from autogrant.transforms.policy_model import Cited


@cache
def hvps_above_fen() -> Cited[int]:
    data = yaml.safe_load((REFERENCE_DIR / "payment_channels.yaml").read_text(encoding="utf-8"))
    return Cited[int].model_validate(data["hvps_above_fen"])


def define_macros(con) -> None:
    limit = int(hvps_above_fen().value)
    con.execute(f"CREATE OR REPLACE MACRO payment_channel(fen) AS CASE WHEN fen > {limit} THEN 'HVPS' ELSE 'BEPS' END")
