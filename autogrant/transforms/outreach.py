"""The held units' way out (issue 15 item 3): per region, every unit on HOLD with what exactly it must supply, for
the clerks who phone them. 免申即享 means the agency, not the firm, chases what is missing: 人社厅发〔2017〕129号
二(三) "主动对接". Written as OUT/outreach/<region>.csv (UTF-8 with BOM, Chinese headers, opens in Excel).
"""

from pathlib import Path

from autogrant.transforms import files

# reason code -> (what the unit must supply, in Chinese; the same in English)
NEEDS = {
    "SIZE_CLASS_MISSING": (
        "补充企业划型信息：行业代码、从业人员、营业收入、资产总额（或登记企业划型）",
        "size-class data: industry code, employees, revenue, total assets (or a registered size class)",
    ),
    "BANK_ACCOUNT_MISSING": (
        "提供单位基本存款账户账号及开户行行号",
        "the unit's basic deposit account number and CNAPS bank code",
    ),
    "ACCOUNT_NAME_MISMATCH": (
        "提供户名与单位名称一致的银行账户（或名称变更证明）",
        "an account held in the unit's registered name (or proof of the name change)",
    ),
    "PAYMENT_RETURNED": ("银行退回款项：提供新的有效银行账户", "the bank returned the payment: a new, valid account"),
    "UNDER_OBJECTION": ("公示期收到异议：待核实处理，必要时提供说明材料", "an objection was lodged during the notice: answer it"),
    "APPLICATION_REQUIRED": (
        "参保人数超过免申即享上限：邀请单位提出稳岗返还申请（autogrant apply 登记）",
        "above the auto-grant headcount cap: invite the unit's application (recorded with autogrant apply)",
    ),
    "ACCOUNT_SHARED": (
        "风险信号：该账户登记于多家单位，向单位核实账户归属（核实后 autogrant clear 登记）",
        "fraud signal: the account is registered for several units; check with the unit whose it is (then autogrant clear)",
    ),
    "ACCOUNT_CHANGED": (
        "风险信号：公示后变更银行账户，向单位核实变更（核实后 autogrant clear 登记）",
        "fraud signal: the account changed after the notice; confirm the change with the unit (then autogrant clear)",
    ),
    "ACCOUNT_NAME_OTHER_UNIT": (
        "风险信号：账户户名为另一参保单位，向单位核实（核实后 autogrant clear 登记）",
        "fraud signal: the account is in another unit's name; check with the unit (then autogrant clear)",
    ),
}
HEADER = ("统筹地区", "统一社会信用代码", "单位名称", "暂缓原因", "需补充材料", "账户名称", "应返还金额(元)")

OUTREACH_SQL = """
WITH needs AS (SELECT unnest(?::VARCHAR[]) AS code, unnest(?::VARCHAR[]) AS need)
SELECT d.region_code, d.uscc, coalesce(d.unit_name, '') AS unit_name,
       array_to_string(d.hold_codes, ';') AS reasons,
       (SELECT string_agg(n.need, '；' ORDER BY list_position(d.hold_codes, n.code))
        FROM needs n WHERE list_contains(d.hold_codes, n.code)) AS needs,
       coalesce(d.account_name, '') AS account_name, yuan(d.amount_due) AS amount_due
FROM decision_details d
WHERE d.region_code = ? AND d.decision = 'HOLD'
ORDER BY d.uscc
"""


def write_outreach(con, out: Path, region: str) -> int:
    """OUT/outreach/<region>.csv (replaced every run; removed when the region holds no unit); the units listed."""
    codes = list(NEEDS)
    rows = con.execute(OUTREACH_SQL, [codes, [NEEDS[c][0] for c in codes], region]).fetchall()
    return files.write_clerk_csv(Path(out) / "outreach" / f"{region}.csv", HEADER, rows)
