"""privacy.mask_text over any token a malformed record may carry: ID numbers whose district python-stdnum half knows
(its cn.ric raises KeyError for them), tokens that are valid USCCs and ID numbers at once, and random runs; it never
raises, masks every token with 12 or more digits that is not a valid USCC, and keeps valid USCCs whole."""

import random
import shutil
import subprocess
import sys

from stdnum.cn import ric, uscc

from autogrant.transforms.paths import PACKAGE
from autogrant.transforms.privacy import mask_id, mask_text


def with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17)


def test_an_id_number_stdnum_cannot_place_is_masked_not_raised():
    pid = with_check("35842219900101867")  # 358422: cn.ric.is_valid raises KeyError('county')
    try:
        ric.is_valid(pid)
        raises = False
    except KeyError:
        raises = True
    assert raises  # the library as it is: what the masking must not depend on
    masked = mask_text(f"{pid},91211100100000420T,2019-12-20,,,extra")
    assert pid not in masked and mask_id(pid) in masked and "91211100100000420T" in masked


def test_random_tokens_never_raise_and_follow_the_rule():
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYxZ"
    tokens = [with_check("".join(rng.choice("0123456789") for _ in range(17))) for _ in range(3000)]
    tokens += ["".join(rng.choice(alphabet) for _ in range(rng.randint(15, 20))) for _ in range(3000)]
    tokens += [t[:17] + uscc.calc_check_digit(t[:17]) for t in tokens[:3000]]  # digits that are a valid USCC too
    for token in tokens:
        masked = mask_text(f"a {token} b")
        digits = sum(ch.isdigit() for ch in token)
        if uscc.is_valid(token):
            is_id = token[:17].isdigit() and ric.calc_check_digit(token[:17]) == token[17].upper()
            assert masked == (f"a {mask_id(token)} b" if is_id else f"a {token} b"), token
        else:
            assert masked == (f"a {mask_id(token)} b" if digits >= 12 else f"a {token} b"), token


def test_a_night_with_such_a_malformed_record_quarantines_it_masked(tmp_path):
    drop = tmp_path / "drop"
    shutil.copytree(PACKAGE / "data_samples" / "ln2021", drop)
    pid = with_check("35842219900101867")
    with (drop / "roster.csv").open("a", encoding="utf-8") as fh:
        fh.write(f'"{pid}","91211100100000420T","2019-12-20",,,"extra"\n')
    proc = subprocess.run([sys.executable, "-m", "autogrant.flows.cli", "run", "--policy", "LN-2021", "--data", str(drop),
                           "--out", str(tmp_path / "out"), "--today", "2026-11-20", "--no-prefect"],
                          capture_output=True, text=True, cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    quarantine = (tmp_path / "out" / "quarantine.csv").read_text(encoding="utf-8")
    assert "malformed CSV record" in quarantine and mask_id(pid) in quarantine and pid not in quarantine
    assert pid not in proc.stdout + proc.stderr
