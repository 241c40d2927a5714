"""Every citation quotes its document word for word (issue 17 item 5).

Each phrase inside "…", “…” or 「…」 in a policy value's citation, a rate arm's and the reason registry's
(``Policy.cites``) must occur in the seed text of the document named just before it: ``…`` inside a quote elides,
so its pieces must occur in that order. Compared after folding traditional characters to simplified (the seed of
人社厅发〔2017〕129号 is in traditional script), NFKC (full-width and half-width forms alike) and dropping
whitespace (the seeds break lines and pad numbers: 按 70% 给予). The seeds are ``shared/seeds`` beside the repository.
"""

import re
import unicodedata
from functools import cache
from pathlib import Path

import opencc
import pytest

from autogrant.transforms import lint
from autogrant.transforms.policy import available, load
from autogrant.transforms.policy_model import Cited, Rules

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
pytestmark = pytest.mark.skipif(
    not (SEEDS / "README.md").is_file(), reason=f"the seed texts are not at {SEEDS} (shared/ lies beside the repository)"
)

DOC = re.compile(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号|内蒙古工作方案")
ELLIPSIS = re.compile(r"…+|\.\.\.")
PLAN = "内蒙古工作方案"  # the Inner Mongolia plan has no document number: its seed is the one whose index row says 内蒙古
_t2s = opencc.OpenCC("t2s")


def fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", _t2s.convert(text)))


@cache
def seeds() -> dict[str, str]:
    """Document (文号, or 内蒙古工作方案) -> the folded text of the seed file that holds it, from the seeds' index."""
    out = {}
    for line in (SEEDS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].endswith(".txt"):
            continue
        text = fold((SEEDS / cells[0]).read_text(encoding="utf-8"))
        for doc in re.findall(r"[\u4e00-\u9fff]+〔\d{4}〕\d+号", cells[1]):
            out[doc] = text
        if "内蒙古" in cells[1]:
            out[PLAN] = text
    return out


def quotes(cite: str) -> list[tuple[str | None, str]]:
    """(the document named last before the quote, the quoted phrase) for every quote of a citation; a phrase in
    ASCII quotes may hold “…” of its own (as the document does: “僵尸企业”)."""
    spans = [(m.start(), m.group(1)) for m in re.finditer(r'"([^"]*)"', cite)]
    rest = re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), cite)
    spans += [(m.start(), m.group(1)) for m in re.finditer(r"「([^」]*)」", rest)]
    depth, start = 0, 0
    for i, ch in enumerate(rest):  # “…” may nest
        if ch == "“":
            depth, start = depth + 1, (i if depth == 0 else start)
        elif ch == "”" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, rest[start + 1 : i]))
    out = []
    for pos, phrase in sorted(spans):
        docs = DOC.findall(cite[:pos])
        out.append((docs[-1] if docs else None, phrase))
    return out


def check(cite: str) -> list[str]:
    """What is wrong with a citation's quotes: a phrase its document does not contain, or a document not in the seeds."""
    problems = []
    for doc, phrase in quotes(cite):
        if doc is None:
            problems.append(f"“{phrase}” names no document before it")
            continue
        if doc in lint.PUBLIC_SOURCES:  # a notice read in a public copy (issue 16): a phrase recorded from it
            recorded = [fold(x) for x in lint.PUBLIC_SOURCES[doc]["phrases"]]
            if not all(any(fold(p) in r for r in recorded) for p in ELLIPSIS.split(phrase) if fold(p)):
                problems.append(f"{doc}: “{phrase}” is not among its phrases in reference/public_sources.yaml")
            continue
        if doc not in seeds():
            problems.append(f"“{phrase}” quotes {doc}, which is not among the seeds (say it without quotes, assumed)")
            continue
        text, at = seeds()[doc], 0
        for piece in filter(None, (fold(p) for p in ELLIPSIS.split(phrase))):
            found = text.find(piece, at)
            if found < 0:
                problems.append(f"{doc} does not contain “{piece}”" + (" (after the part before …)" if at else ""))
                break
            at = found + len(piece)
    return problems


def citations(pid: str) -> dict[str, str]:
    """Every citation of a policy: its values, its rate arms and the clause behind each reason code."""
    p = load(pid).policy
    out = {name: v.cite for name in Rules.model_fields if isinstance(v := getattr(p.rules, name), Cited)}
    out |= {f"rate_arms.{a.name}": a.cite for a in p.rules.rate_arms}
    out |= {f"reason {code}": cite for code, cite in p.cites().items()}
    return out


def test_the_seed_index_names_every_document_the_linter_knows():
    assert set(seeds()) == set(lint.SOURCES)


@pytest.mark.parametrize("pid", available())
def test_every_quote_of_a_policy_is_in_its_document(pid):
    problems = [f"{where}: {p}" for where, cite in citations(pid).items() for p in check(cite)]
    assert not problems, "\n".join(problems)


def test_the_policies_quote_something_to_check():
    n = sum(len(quotes(c)) for pid in available() for c in citations(pid).values())
    assert n >= 60


@pytest.mark.parametrize(
    "cite, problem",
    [
        # what the issue found: 129号 says nothing of a basic deposit account; 391号 reads 普通性
        ("人社厅发〔2017〕129号 三: “资金拨付到单位基本存款账户”", "does not contain “资金拨付到单位基本存款账户”"),
        ('大人社发〔2020〕391号 二 "推行小微企业普惠性稳岗返还"', "does not contain “推行小微企业普惠性稳岗返还”"),
        ('人社部发〔2014〕76号 "裁员率低于统筹地区城镇登记失业率"', "人社部发〔2014〕76号, which is not among the seeds"),
        ('national plan "不高于"', "names no document"),
        # pieces around … in the wrong order
        ('大人社发〔2020〕391号 二 "免申领直接拨付返还资金…推行小微企业"', "(after the part before …)"),
        ("辽人社发〔2021〕7号 「免申即享」 and 「自印发之日起取消」", "does not contain “自印发之日起取消”"),
    ],
)
def test_a_wrong_quote_is_found(cite, problem):
    assert any(problem in p for p in check(cite)), check(cite)


@pytest.mark.parametrize(
    "cite",
    [
        '大人社发〔2018〕216号 一 "对…“僵尸企业”，不予发放稳岗补贴"',  # nested quotes, spaces in the seed (按 70%)
        '大人社发〔2018〕216号 一 "按70%给予稳岗补贴"',
        "人社厅发〔2017〕129号 二(三) “资金拨付的流程”",  # the seed is in traditional script: 資金撥付的流程
        "辽人社发〔2021〕7号 一(一) 「对2020年末参保人数在200人(含)以下」",  # half-width brackets as in the seed
    ],
)
def test_a_true_quote_passes(cite):
    assert quotes(cite) and check(cite) == []
