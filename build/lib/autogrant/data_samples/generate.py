"""Seeded generator of data drops in the format of ../shared/CONTRACT.md section 1.

    python -m autogrant.data_samples.generate OUT_DIR --units 300000 --seed 7 [--format csv,parquet,hive] [--chinese] [--gb18030]

``--format``: ``csv`` (default), ``parquet``, or ``hive`` (Parquet partitioned by region, hive-style:
``units/region_code=210100/part-0.parquet``, the same for roster and payments; lists and fund positions flat),
what the Dask fan-out reads region by region. Several formats (comma-separated) go to OUT_DIR/<format>/ each.

Realistic shape: most units small with a long tail of large ones (lognormal headcounts), staff churn and
natural exits, monthly premiums with late, partial and unpaid months, list hits, missing and mismatched
bank accounts, and a fund position per region and year. Vectorised with numpy/pyarrow: 300,000 units,
~8 million roster spells and ~3.6 million payment rows take about a minute.
``--edge-cases`` adds hand-made units that hit every rule at its boundary (the bundled samples use it).
"""

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from autogrant.data_samples import edge_cases
from autogrant.transforms.schema import DATA_FILES, ENUMS, FileSpec

LIAONING = ["210100", "210200", "210300", "210400", "210500", "210600", "210700",
            "210800", "210900", "211000", "211100", "211200", "211300", "211400"]  # fmt: skip
INNER_MONGOLIA = ["150100", "150200", "150300", "150400", "150500", "150600", "150700",
                  "150800", "150900", "152200", "152500", "152900"]  # fmt: skip
# Districts for the birthplace part of ID numbers (real codes python-stdnum knows).
DISTRICTS = np.array([210102, 210103, 210104, 210202, 210203, 210204, 210302, 210402, 210502, 210602, 210711, 210802,
                      210902, 211002, 211102, 211202, 211302, 211402, 150102, 150202, 152201, 130102, 370102, 220102])  # fmt: skip
USCC_ALPHABET = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
INDUSTRIES = np.array(["C3110", "C3011", "B0610", "D4411", "C3216", "C3041", "C3731", "C2211", "C3511", "E4710", "F5123",
                       "F5211", "G5430", "G5920", "H6110", "H6210", "I6510", "K7020", "L7212", "M7320", "O8010", "A0111"])  # fmt: skip
UNIT_TYPES = np.array(["enterprise", "social_org", "foundation", "social_service_org", "law_firm", "accounting_firm",
                       "individual_business", "public_institution", "other"])  # fmt: skip
UNIT_TYPE_P = np.array([0.86, 0.02, 0.005, 0.02, 0.01, 0.01, 0.04, 0.03, 0.005])
SURNAMES = np.array(list("华兴宏鑫盛达恒泰隆昌瑞丰永安金源广和东方新光明辉宇晨"))
SUFFIX = np.array(["有限公司", "有限责任公司", "股份有限公司", "（集团）有限公司", "商贸有限公司", "科技有限公司"])


def uscc_codes(region: np.ndarray, serial: np.ndarray) -> pa.Array:
    """Valid GB 32100-2015 codes: '91' + region + a 9-digit organisation code + the check character."""
    body = np.zeros((len(region), 17), dtype=np.int64)
    body[:, 0], body[:, 1] = 9, 1
    for i in range(6):
        body[:, 2 + i] = region // 10 ** (5 - i) % 10
    for i in range(9):
        body[:, 8 + i] = serial // 10 ** (8 - i) % 10
    check = (31 - (body * USCC_WEIGHTS).sum(axis=1) % 31) % 31
    chars = np.concatenate([body.astype("U1"), USCC_ALPHABET[check][:, None]], axis=1)
    return pa.array(chars.view(f"<U{chars.shape[1]}").ravel())


def person_ids(k: np.ndarray) -> pa.Array:
    """Unique valid GB 11643-1999 numbers from an index: district, birth date, sequence, check character."""
    nd = len(DISTRICTS)
    district = DISTRICTS[k % nd]
    birth = np.datetime64("1958-01-01") + (k // nd // 1000 % 15000).astype("timedelta64[D]")
    ymd_num = ymd_numbers(birth)
    seq = k // nd % 1000
    body = np.zeros((len(k), 17), dtype=np.int64)
    for i in range(6):
        body[:, i] = district // 10 ** (5 - i) % 10
    for i in range(8):
        body[:, 6 + i] = ymd_num // 10 ** (7 - i) % 10
    for i in range(3):
        body[:, 14 + i] = seq // 10 ** (2 - i) % 10
    check = np.array(list("10X98765432"))[(body * ID_WEIGHTS).sum(axis=1) % 11]
    chars = np.concatenate([body.astype("U1"), check[:, None]], axis=1)
    return pa.array(chars.view("<U18").ravel())


def ymd_numbers(days: np.ndarray) -> np.ndarray:
    """datetime64[D] -> YYYYMMDD integers."""
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    year = years.astype(np.int64) + 1970
    month = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    day = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    return year * 10000 + month * 100 + day


def datestr(days: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    arr = pa.array(days.astype("datetime64[D]"), mask=mask)
    return pc.strftime(arr, format="%Y-%m-%d")


def yuan(fen: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    ints = pc.cast(pa.array(fen // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(fen % 100), pa.string()), width=2, padding="0")
    out = pc.binary_join_element_wise(ints, cents, ".")
    return out if mask is None else pc.if_else(pa.array(mask), pa.nulls(len(fen), pa.string()), out)


def generate_tables(n_units: int, seed: int, assessed_year: int, regions: list[str]) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    y = assessed_year
    n = n_units
    region = np.array(regions)[rng.integers(0, len(regions), n)].astype(np.int64)
    serial = rng.permutation(np.arange(100_000_000, 100_000_000 + n * 7, 7))[:n] if n < 10**7 else np.arange(n) + 10**8
    uscc = uscc_codes(region, serial)
    unit_type = rng.choice(UNIT_TYPES, n, p=UNIT_TYPE_P)
    # headcount at the start of the assessed year: lognormal, most units small, a tail of large ones
    hc = np.maximum(1, np.floor(rng.lognormal(1.9, 1.15, n))).astype(np.int64)
    names = pc.binary_join_element_wise(
        pa.array(np.array(["辽宁", "大连", "沈阳", "鞍山", "营口"])[rng.integers(0, 5, n)]),
        pa.array(SURNAMES[rng.integers(0, len(SURNAMES), n)]),
        pa.array(SURNAMES[rng.integers(0, len(SURNAMES), n)]),
        pa.array(SUFFIX[rng.integers(0, len(SUFFIX), n)]),
        "",
    )
    industry = INDUSTRIES[rng.integers(0, len(INDUSTRIES), n)]
    size = np.where(hc >= 1000, "large", np.where(hc >= 300, "medium", np.where(hc >= 20, "small", "micro")))
    size_known = rng.random(n) < 0.85
    enterprise = unit_type == "enterprise"
    revenue = (hc * rng.integers(200_000, 900_000, n)) * 100
    assets = (hc * rng.integers(100_000, 1_500_000, n)) * 100
    status = rng.choice(np.array(["active", "cancelled", "revoked", "abnormal"]), n, p=[0.97, 0.012, 0.008, 0.01])
    has_account = rng.random(n) > 0.02
    account = pc.cast(pa.array(rng.integers(10**15, 10**16 - 1, n)), pa.string())
    bank_code = pc.cast(pa.array(rng.integers(10**11, 10**12 - 1, n)), pa.string())
    name_variant = rng.random(n)
    account_name = pc.if_else(
        pa.array(name_variant < 0.01),
        pc.binary_join_element_wise(names, pa.array(["分公司"] * n), ""),
        pc.if_else(pa.array(name_variant < 0.03), pc.replace_substring(names, "（集团）", "(集团)"), names),
    )
    no_acct = pa.array(~has_account)
    units = pa.table(
        {
            "uscc": uscc,
            "unit_name": names,
            "region_code": pa.array(region.astype(str)),
            "unit_type": pa.array(unit_type),
            "industry_code": pc.if_else(pa.array(enterprise), pa.array(industry), pa.nulls(n, pa.string())),
            "size_class": pc.if_else(pa.array(enterprise & size_known), pa.array(size), pa.nulls(n, pa.string())),
            "employees": pa.array(hc),
            "revenue": yuan(revenue),
            "total_assets": yuan(assets),
            "status": pa.array(status),
            "bank_account": pc.if_else(no_acct, pa.nulls(n, pa.string()), account),
            "bank_code": pc.if_else(no_acct, pa.nulls(n, pa.string()), bank_code),
            "account_name": pc.if_else(no_acct, pa.nulls(n, pa.string()), account_name),
        }
    )

    # --- roster: spells in place at the start of Y (some leave in Y), hires in Y, and earlier history
    exit_rate = rng.beta(1.2, 14, n)
    hire_rate = rng.beta(1.2, 12, n)
    hires = rng.binomial(hc, hire_rate)
    history = rng.binomial(hc * 2, 0.5)
    per_unit = hc + hires + history
    unit_of = np.repeat(np.arange(n), per_unit)
    offset = np.repeat(np.cumsum(per_unit) - per_unit, per_unit)
    pos = np.arange(len(unit_of)) - offset
    kind = np.where(pos < hc[unit_of], 0, np.where(pos < (hc + hires)[unit_of], 1, 2))  # 0 staff, 1 hire, 2 history
    m = len(unit_of)
    y0 = np.datetime64(f"{y}-01-01")
    start = np.where(
        kind == 0, y0 - rng.integers(1, 4000, m).astype("timedelta64[D]"),
        np.where(kind == 1, y0 + rng.integers(0, 365, m).astype("timedelta64[D]"),
                 y0 - rng.integers(800, 5000, m).astype("timedelta64[D]")))  # fmt: skip
    leaves = np.where(kind == 0, rng.random(m) < exit_rate[unit_of], kind == 2)
    end = np.where(
        kind == 2, start + rng.integers(30, 700, m).astype("timedelta64[D]"),
        y0 + rng.integers(0, 365, m).astype("timedelta64[D]"))  # fmt: skip
    end = np.maximum(end, start)
    reason = rng.choice(np.array(["dismissal", "resignation", "contract_end", "retirement", "death", "transfer", "other"]),
                        m, p=[0.2, 0.35, 0.2, 0.15, 0.01, 0.05, 0.04])  # fmt: skip
    roster = pa.table(
        {
            "person_id": person_ids(np.arange(m) + seed * 7919),
            "uscc": pc.take(uscc, pa.array(unit_of)),
            "start_date": datestr(start),
            "end_date": datestr(end, mask=~leaves),
            "end_reason": pc.if_else(pa.array(leaves), pa.array(reason), pa.nulls(m, pa.string())),
        }
    )

    # --- payments: 12 fee months of Y per unit; rate 0.5% unit + 0.5% staff of a monthly wage bill
    wage = rng.integers(3000_00, 9000_00, n)
    monthly_due = (hc * wage * 5) // 1000  # fen, each side
    paying = rng.random(n) > 0.015  # some units pay nothing in Y
    late_unit = rng.random(n) < 0.03  # pay December late, after year end
    unpaid_unit = rng.random(n) < 0.01  # leave December unpaid
    pu = np.repeat(np.arange(n), 12)
    month = np.tile(np.arange(1, 13), n)
    due = monthly_due[pu]
    paid = np.where(paying[pu], due, 0)
    fee_month = np.array([f"{y}-{mm:02d}" for mm in range(1, 13)])[month - 1]
    paid_day = np.datetime64(f"{y}-01-15") + ((month - 1) * 30.4).astype(int).astype("timedelta64[D]")
    dec = month == 12
    paid_day = np.where(dec & late_unit[pu], np.datetime64(f"{y + 1}-03-10"), paid_day)
    paid = np.where(dec & unpaid_unit[pu], 0, paid)
    # partial payments: a tenth of months paid in two rows (the second row carries no new amount due)
    split = rng.random(len(pu)) < 0.1
    first = np.where(split, paid // 2, paid)
    payments = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(pu)),
            "fee_month": pa.array(fee_month),
            "unit_due": yuan(due),
            "staff_due": yuan(due),
            "unit_paid": yuan(first),
            "staff_paid": yuan(first),
            "paid_date": datestr(paid_day, mask=first == 0),
            "late_fee": yuan(np.where(dec & late_unit[pu], due // 100, 0)),
        }
    )
    sp = np.flatnonzero(split & (paid > 0))
    second = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(pu[sp])),
            "fee_month": pa.array(fee_month[sp]),
            "unit_due": yuan(np.zeros(len(sp), dtype=np.int64)),
            "staff_due": yuan(np.zeros(len(sp), dtype=np.int64)),
            "unit_paid": yuan(paid[sp] - first[sp]),
            "staff_paid": yuan(paid[sp] - first[sp]),
            "paid_date": datestr(paid_day[sp] + 5),
            "late_fee": yuan(np.zeros(len(sp), dtype=np.int64)),
        }
    )
    payments = pa.concat_tables([payments, second])

    # --- lists
    def pick(share: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n) < share)

    d = pick(0.006)
    removed = rng.random(len(d)) < 0.4
    dishonest = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(d)),
            "listed_date": datestr(np.full(len(d), np.datetime64(f"{y}-06-01"))),
            "removed_date": datestr(np.full(len(d), np.datetime64(f"{y + 1}-03-01")), mask=~removed),
        }
    )
    z = pick(0.003)
    zombie = pa.table({"uscc": pc.take(uscc, pa.array(z)), "listed_date": datestr(np.full(len(z), np.datetime64(f"{y}-09-30")))})
    s = pick(0.01)
    subsidies = pa.table(
        {
            "uscc": pc.take(uscc, pa.array(s)),
            "subsidy_type": pa.array(
                rng.choice(np.array(["si_subsidy_hard_to_employ", "si_subsidy_graduates", "training"]), len(s))
            ),
            "year": pa.array(np.full(len(s), y)),
            "amount": yuan(rng.integers(1000_00, 50000_00, len(s))),
        }
    )
    f = pick(0.02)
    difficulty = pa.table(
        {"uscc": pc.take(uscc, pa.array(f)), "recognised_date": datestr(np.full(len(f), np.datetime64(f"{y + 1}-05-20")))}
    )

    # --- fund position per region and year (the first region short of a year's reserve, the second with an adjustment fund)
    fund_rows = []
    for i, code in enumerate(sorted(regions)):
        for year in range(y - 1, y + 2):
            expenditure = int(rng.integers(5_000_000, 50_000_000)) * 100
            months = 8 if i == 0 else (10 if i == 1 else 30)
            fund_rows.append({
                "region_code": code, "fund_year": year, "balance": f"{expenditure * months // 100}.00",
                "monthly_expenditure": f"{expenditure // 100}.00", "adjustment_approved": "true" if i == 1 else "false",
                "registered_unemployment_rate": "0.042", "avg_monthly_benefit": "1550.00",
            })  # fmt: skip
    region_funds = pa.Table.from_pylist(fund_rows)
    return {
        "units": units, "roster": roster, "payments": payments, "region_funds": region_funds,
        "dishonest": dishonest, "zombie": zombie, "other_subsidies": subsidies, "difficulty": difficulty,
    }  # fmt: skip


SPECS = {s.name: s for s in DATA_FILES}


def write_drop(tables: dict[str, pa.Table], out: Path, fmt: str = "csv", chinese: bool = False, gb18030: bool = False) -> None:
    out.mkdir(parents=True, exist_ok=True)
    regions = _unit_regions(tables) if fmt == "hive" else None
    for name, table in tables.items():
        spec: FileSpec = SPECS[name]
        if chinese:  # Chinese column names and Chinese enum values (单位类型 企业, 单位状态 正常, ...)
            for col in spec.columns:
                if col.enum and col.name in table.column_names:
                    zh = ENUMS[col.enum]
                    values = [None if v is None else zh.get(v, v) for v in table[col.name].to_pylist()]
                    table = table.set_column(table.column_names.index(col.name), col.name, pa.array(values, pa.string()))
            table = table.rename_columns([spec.column(c).alias for c in table.column_names])
        if regions is not None and name in PARTITIONED:
            _write_partitions(table, _region_of(tables[name], regions), out / spec.path)
            continue
        ext = "csv" if fmt == "csv" else "parquet"
        path = out / f"{spec.path}.{ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if ext == "parquet":
            pq.write_table(table, path)
            continue
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="needed"))
        if gb18030:
            path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))


PARTITIONED = ("units", "roster", "payments")  # the big files; lists and fund positions are small and read whole
UNKNOWN_REGION = "none"  # rows whose USCC is in no unit's register row


def _unit_regions(tables: dict[str, pa.Table]) -> pa.Table:
    units = tables["units"]
    return pa.table({"uscc": units["uscc"], "region": pc.fill_null(units["region_code"], UNKNOWN_REGION)})


def _region_of(table: pa.Table, regions: pa.Table) -> pa.Array:
    """The region of each row: the region of the unit its USCC names (units: its own region_code)."""
    keyed = table.select(["uscc"]).append_column("_row", pa.array(np.arange(table.num_rows)))
    joined = keyed.join(regions.group_by("uscc").aggregate([("region", "min")]), "uscc", join_type="left outer")
    joined = joined.sort_by("_row")
    return pc.fill_null(joined["region_min"], UNKNOWN_REGION).combine_chunks()


def _write_partitions(table: pa.Table, region: pa.Array, folder: Path) -> None:
    """folder/region_code=<code>/part-0.parquet per region, rows in their original order."""
    for code in sorted(pc.unique(region).to_pylist()):
        part = folder / f"region_code={code}"
        part.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.filter(pc.equal(region, code)), part / "part-0.parquet")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--units", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--assessed-year", type=int, default=2020)
    ap.add_argument("--regions", default="liaoning", help="liaoning, inner_mongolia, or comma-separated codes")
    ap.add_argument("--format", default="csv", help="csv, parquet or hive; several comma-separated go to OUT/<format>/")
    ap.add_argument("--chinese", action="store_true", help="Chinese column names")
    ap.add_argument("--gb18030", action="store_true", help="GB18030-encoded CSV")
    ap.add_argument("--edge-cases", action="store_true", help="add the hand-made boundary units")
    ap.add_argument("--policy-cases", type=Path, help="add the units of a readable case file (tests/policies/<ID>.yaml)")
    a = ap.parse_args(argv)
    regions = {"liaoning": LIAONING, "inner_mongolia": INNER_MONGOLIA}.get(a.regions) or a.regions.split(",")
    t0 = dt.datetime.now()
    tables = generate_tables(a.units, a.seed, a.assessed_year, regions)
    if a.edge_cases:
        tables = edge_cases.add(tables, a.assessed_year, regions)
    if a.policy_cases:
        from autogrant.data_samples.policy_cases import sample_cases

        tables = edge_cases.merge(tables, sample_cases(a.policy_cases))
    formats = a.format.split(",")
    for fmt in formats:
        if fmt not in ("csv", "parquet", "hive"):
            ap.error(f"unknown format {fmt}: csv, parquet or hive")
        write_drop(tables, a.out / fmt if len(formats) > 1 else a.out, fmt, a.chinese, a.gb18030)
    rows = {k: v.num_rows for k, v in tables.items()}
    print(f"wrote {a.out} in {(dt.datetime.now() - t0).total_seconds():.1f}s: {rows}")


if __name__ == "__main__":
    main()
