"""What a clerk reads, in Chinese first (zh-CN) and in English: the message catalogue of reports, queue and CLI.

The language is ``--lang zh|en`` on the command line, else ``AUTOGRANT_LANG``, else Chinese. The terms are the
documents' own: 统筹地区 (pooling region), 公示 (public notice), 应享尽享 (every unit that qualifies is paid),
调剂金 (provincial adjustment fund), 稳岗返还 (job-stabilisation refund), 免申即享 (paid without applying).
decisions.csv keeps the contract's English columns and codes; only files meant for people are translated.
"""

import os

import yaml

from autogrant.transforms import reasons
from autogrant.transforms.paths import REFERENCE_DIR

LANG_ENV = "AUTOGRANT_LANG"
MESSAGES_FILE = REFERENCE_DIR / "messages.yaml"


def normalise(lang: str | None) -> str:
    """'zh', 'zh-CN', 'zh_CN.UTF-8' -> 'zh'; 'en', 'en-US' -> 'en'; anything else is refused."""
    value = (lang or "zh").strip().lower().replace("_", "-")
    if value.startswith("zh"):
        return "zh"
    if value.startswith("en"):
        return "en"
    from autogrant.transforms.errors import InputError

    raise InputError(f"--lang '{lang}': choose zh (中文) or en (English)")


def current() -> str:
    return normalise(os.environ.get(LANG_ENV) or "zh")


def set_lang(lang: str | None) -> str:
    """Set the language for this process (and the processes it starts); returns 'zh' or 'en'."""
    value = normalise(lang) if lang else current()
    os.environ[LANG_ENV] = value
    return value


def t(key: str, lang: str | None = None, **values) -> str:
    """The message ``key`` in the current language, with ``values`` filled in."""
    zh, en = MESSAGES[key]
    text = en if (lang or current()) == "en" else zh
    return text.format(**values) if values else text


def pick(pair: tuple[str, str], lang: str | None = None) -> str:
    return pair[1] if (lang or current()) == "en" else pair[0]


def decision(code: str, lang: str | None = None) -> str:
    return pick(DECISIONS[code], lang) if code in DECISIONS else code


def reason(code: str, lang: str | None = None) -> str:
    """A reason code as a clerk reads it, the code kept beside it (it is what decisions.csv says)."""
    label = REASONS.get(code)
    return f"{pick(label, lang)} ({code})" if label else code


def region(code: str, lang: str | None = None) -> str:
    """'210300' -> '210300 鞍山市' (GB/T 2260 names of the regions our policies cover; others as the code)."""
    name = REGION_NAMES.get(code)
    return f"{code} {pick(name, lang)}" if name else code


DECISIONS = {"PAY": ("发放", "pay"), "HOLD": ("暂缓发放", "hold"), "REJECT": ("不予发放", "reject")}

# the reason codes' labels (reference/reasons.yaml), then the ledger's stages of a payable unit not yet paid
REASONS = {e.code: (e.zh, e.en) for e in reasons.registry()} | {
    # the ledger's stages of a payable unit not yet paid (annual report, queue)
    "NOT_YET_IN_NOTICE": ("待公示", "not yet in notice"),
    "IN_NOTICE": ("公示中", "in public notice"),
    "AWAITING_APPROVAL": ("待审批", "batch awaiting approval"),
    "AWAITING_RELEASE": ("已审批待拨付", "approved, awaiting release"),
}

REGION_NAMES = {
    "210000": ("辽宁省", "Liaoning"), "210100": ("沈阳市", "Shenyang"), "210200": ("大连市", "Dalian"),
    "210300": ("鞍山市", "Anshan"), "210400": ("抚顺市", "Fushun"), "210500": ("本溪市", "Benxi"),
    "210600": ("丹东市", "Dandong"), "210700": ("锦州市", "Jinzhou"), "210800": ("营口市", "Yingkou"),
    "210900": ("阜新市", "Fuxin"), "211000": ("辽阳市", "Liaoyang"), "211100": ("盘锦市", "Panjin"),
    "211200": ("铁岭市", "Tieling"), "211300": ("朝阳市", "Chaoyang"), "211400": ("葫芦岛市", "Huludao"),
    "150000": ("内蒙古自治区", "Inner Mongolia"), "150100": ("呼和浩特市", "Hohhot"), "150200": ("包头市", "Baotou"),
    "150300": ("乌海市", "Wuhai"), "150400": ("赤峰市", "Chifeng"), "150500": ("通辽市", "Tongliao"),
    "150600": ("鄂尔多斯市", "Ordos"), "150700": ("呼伦贝尔市", "Hulunbuir"), "150800": ("巴彦淖尔市", "Bayannur"),
    "150900": ("乌兰察布市", "Ulanqab"), "152200": ("兴安盟", "Hinggan League"), "152500": ("锡林郭勒盟", "Xilingol League"),
    "152900": ("阿拉善盟", "Alxa League"),
}  # fmt: skip

# the message catalogue (reference/messages.yaml): key -> (zh, en)
MESSAGES = {k: (v["zh"], v["en"]) for k, v in yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8")).items()}
