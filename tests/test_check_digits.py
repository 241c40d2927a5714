"""The SQL check-digit rules (sql/00_macros.sql) agree with python-stdnum, on valid codes and on near misses."""

import random

import duckdb
import pytest
from stdnum import exceptions
from stdnum.cn import ric, uscc

from autogrant.transforms import ingest, sqlsteps


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    ingest.load_enums(c)
    sqlsteps.run(c, "00_macros.sql")
    return c


def _mutations(valid: list[str], alphabet: str, rng) -> list[str]:
    out = []
    for code in valid:
        i = rng.randrange(len(code))
        out.append(code[:i] + rng.choice(alphabet) + code[i + 1 :])
    return out


def test_uscc_check_character_matches_stdnum(con):
    rng = random.Random(1)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    valid = []
    for _ in range(400):
        body = "".join(rng.choice("0123456789") for _ in range(8)) + "".join(rng.choice(alphabet) for _ in range(9))
        valid.append(body + uscc.calc_check_digit(body))
    codes = valid + _mutations(valid, alphabet + "IOZSV", rng)
    got = dict(con.execute("SELECT s, ok_uscc(s) FROM unnest(?) t(s)", [codes]).fetchall())
    assert all(got[c] == uscc.is_valid(c) for c in codes)
    assert sum(got.values()) >= 400  # the valid ones pass, most mutations fail
    assert sum(not v for v in got.values()) > 300


def _stdnum_id_ok(number: str) -> bool:
    """stdnum's checks (length, digits, check digit, birth date) except the birthplace, which is only warned on."""
    if len(number) != 18 or not number[:-1].isdigit() or number[-1] != ric.calc_check_digit(number):
        return False
    try:
        ric.get_birth_date(number)
        return True
    except exceptions.InvalidComponent:
        return False


def test_id_check_digit_matches_stdnum(con):
    rng = random.Random(2)
    valid = []
    for _ in range(400):
        body = f"{rng.randrange(110000, 660000)}{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}{rng.randrange(1, 32):02d}{rng.randrange(0, 1000):03d}"
        valid.append(body + ric.calc_check_digit(body + "0"))
    codes = valid + _mutations(valid, "0123456789X", rng)
    got = dict(con.execute("SELECT s, ok_person_id(s) FROM unnest(?) t(s)", [codes]).fetchall())
    assert all(got[c] == _stdnum_id_ok(c) for c in codes)
    assert sum(not v for v in got.values()) > 300
    # as a clerk types them: a lower-case x, spaces, a letter among the digits; normalised (upper case, no spaces)
    ending_x = [c for c in codes if c.endswith("X")][:40]
    typed = [c[:-1] + "x" for c in ending_x] + [c[:6] + " " + c[6:14] + " " + c[14:] for c in codes[:60]]
    typed += [c[:-1].lower() + "x" for c in ending_x] + [c[:16] + "a" + c[17:] for c in valid[:20]] + [c[:17] for c in valid[:5]]
    got = dict(con.execute("SELECT s, ok_person_id(s) FROM unnest(?) t(s)", [typed]).fetchall())
    assert all(got[c] == _stdnum_id_ok(c.replace(" ", "").upper()) for c in typed)
    assert sum(got.values()) > 50 and sum(not v for v in got.values()) > 20
