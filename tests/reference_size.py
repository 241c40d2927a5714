"""The reference's size classes (国统字〔2017〕213号), written from the table's own figures, apart from
autogrant/reference/nbs_2017_*.csv and sql/34_size_class.sql."""

NBS = {
    "industry": {"employees": (1000, 300, 20), "revenue": (40000_0000, 2000_0000, 300_0000)},
    "retail": {"employees": (300, 50, 10), "revenue": (20000_0000, 500_0000, 100_0000)},
    "software": {"employees": (300, 100, 10), "revenue": (10000_0000, 1000_0000, 50_0000)},
    "other": {"employees": (300, 100, 10)},
}


def sector(industry: str) -> str:
    if industry[0] in "BCD":
        return "industry"
    if industry.startswith("F52"):
        return "retail"
    if industry.startswith("I65"):
        return "software"
    if industry[0] in "AEGHKL" or industry.startswith(("F51", "I63", "I64")):
        raise ValueError(f"the reference does not know the sector of {industry}")
    return "other"


def size_class(unit: dict) -> str | None:
    """Registered class, else derived by 国统字〔2017〕213号 (large/medium/small need every bound, micro any one)."""
    if unit["unit_type"] != "enterprise":
        return None
    if unit["size_class"]:
        return unit["size_class"]
    if not unit["industry_code"]:
        return None
    tiers = []
    for indicator, bounds in NBS[sector(unit["industry_code"])].items():
        value = unit[indicator]
        if value is None:
            tiers.append(None)
            continue
        if indicator != "employees":
            bounds = tuple(b * 100 for b in bounds)  # yuan -> fen
        tiers.append(3 - sum(value < b for b in bounds))
    if 0 in tiers:
        return "micro"
    if None in tiers:
        return None
    return ["micro", "small", "medium", "large"][min(tiers)]
