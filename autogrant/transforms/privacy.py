"""Personal data (个人信息保护法; GB/T 35273-2020 去标识化): no insured person's full ID number leaves the process.

An ID number (公民身份号码) is shown as its first 6 and last 4 characters, ``210202********0011``; the quarantine and
warning rows keep their file and line, so a clerk finds the source row in the drop. USCCs (统一社会信用代码) are
public registration numbers and stay whole.

``mask_ingest_tables`` runs once at the end of ingest, before anything is written (quarantine.csv, warnings.csv,
the fan-out workers' Parquet hand-over): the masked values are all that any later step sees. ``mask_text`` does the
same for free text (a malformed CSV record, an error message, a traceback in autogrant-error.log).
"""

import re

from stdnum.cn import ric, uscc

MASK = "********"

# A run of 15 or more letters or digits standing alone: an ID number (18, the old 15-digit form, or one with a
# character too many that still holds the whole number) or a USCC.
_TOKEN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{15,}(?![0-9A-Za-z])")


def mask_id(value: str | None) -> str | None:
    """An ID number as first 6 + ******** + last 4; anything too short to keep 10 characters is starred whole."""
    if value is None:
        return None
    return value[:6] + MASK + value[-4:] if len(value) >= 15 else "*" * len(value)


def _id_check_character_holds(token: str) -> bool:
    """17 digits and their GB 11643 check character. Birth date and district are not consulted: python-stdnum's
    ``cn.ric.is_valid`` raises KeyError for district codes its table half knows (358422, 151319, ...), and a token
    of a malformed record may carry any of them."""
    return len(token) == 18 and token[:17].isdigit() and ric.calc_check_digit(token[:17]) == token[17].upper()


def _looks_like_person_id(token: str) -> bool:
    """A token to mask: any run with 12 or more digits that is not a valid USCC (every ID number has 17), or a valid
    USCC whose characters are also an ID number's. Only a valid USCC needs the second look; the cheap tests come
    first (a malformed roster record holds an ID number and a USCC, and a drop may have thousands of them)."""
    if uscc.is_valid(token):
        return _id_check_character_holds(token)
    return sum(ch.isdigit() for ch in token) >= 12


def mask_text(text: str | None) -> str | None:
    """Free text with every token that may be an ID number masked; valid USCCs are left whole."""
    if not text:
        return text
    return _TOKEN.sub(lambda m: mask_id(m.group(0)) if _looks_like_person_id(m.group(0)) else m.group(0), text)


def mask_ingest_tables(con) -> None:
    """Mask the ID numbers in the tables ingest hands on: ``quarantine`` (the person_id cells, and every value of a
    roster row, e.g. a malformed record's whole line) and ``ingest_warnings``. Set-based; the few free-text values
    of roster rows are masked in Python (a masked copy per distinct value, joined back)."""
    con.execute(
        "CREATE OR REPLACE TEMP MACRO mask_person_id(v) AS CASE WHEN v IS NULL THEN NULL "
        f"WHEN length(v) >= 15 THEN v[1:6] || '{MASK}' || v[-4:] ELSE repeat('*', length(v)) END"
    )
    con.execute("""UPDATE quarantine SET value = mask_person_id(value) WHERE "column" = 'person_id'""")
    con.execute("""UPDATE ingest_warnings SET value = mask_person_id(value) WHERE "column" = 'person_id'""")
    free = con.execute(
        """SELECT DISTINCT value FROM quarantine
           WHERE "column" <> 'person_id' AND file LIKE 'roster%' AND regexp_matches(value, '[0-9A-Za-z]{15}')"""
    ).fetchall()
    pairs = [(v, mask_text(v)) for (v,) in free]
    pairs = [(v, m) for v, m in pairs if m != v]
    if pairs:
        values, masked = zip(*pairs, strict=True)  # one statement (executemany runs one a pair: seconds for thousands)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE masked_values AS SELECT unnest(?::VARCHAR[]) AS value, unnest(?::VARCHAR[]) AS masked",
            [list(values), list(masked)],
        )
        con.execute(
            """UPDATE quarantine SET value = m.masked FROM masked_values m
               WHERE quarantine.value = m.value AND quarantine."column" <> 'person_id' AND quarantine.file LIKE 'roster%'"""
        )
        con.execute("DROP TABLE masked_values")
