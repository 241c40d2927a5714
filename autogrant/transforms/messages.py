"""What a clerk reads, in Chinese first (zh-CN) and in English: the message catalogue of reports, queue and CLI.

The language is ``--lang zh|en`` on the command line, else ``AUTOGRANT_LANG``, else Chinese. The terms are the
documents' own: 统筹地区 (pooling region), 公示 (public notice), 应享尽享 (every unit that qualifies is paid),
调剂金 (provincial adjustment fund), 稳岗返还 (job-stabilisation refund), 免申即享 (paid without applying).
decisions.csv keeps the contract's English columns and codes; only files meant for people are translated.
"""

import os

from autogrant.transforms import reasons

LANG_ENV = "AUTOGRANT_LANG"


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

MESSAGES = {
    # deadlines (辽人社发〔2021〕7号 一(一); 大人社发〔2020〕391号)
    "past_pay_by": (
        "注意：业务日期 {today} 已超过 {policy} 的发放期限 {pay_by}（{cite}），尚未发放的单位均已逾期",
        "NOTE: business date {today} is past {policy}'s pay-by date {pay_by} ({cite}); every unit still unpaid is overdue",
    ),
    "outside_window": (
        "注意：业务日期 {today} 不在 {policy} 的有效期 {start} 至 {end} 内（{cite}）",
        "NOTE: business date {today} is outside {policy}'s effective window {start} to {end} ({cite})",
    ),
    # progress (stderr)
    "stage_done": ("进度：{stage}完成，用时 {seconds:.1f} 秒", "progress: {stage} done in {seconds:.1f} s"),
    "region_done": ("进度：统筹地区 {region} {state}（{n}/{total}）", "progress: region {region} {state} ({n}/{total})"),
    "region_ok": ("已处理", "done"),
    "region_stopped": ("已停止：{why}", "stopped: {why}"),
    "stage.ingest": ("读取与校验数据", "reading and checking the drop"),
    "stage.facts": ("计算单位与地区事实", "unit and region facts"),
    "stage.decisions": ("逐户作出决定", "decisions"),
    "stage.validation": ("数据质量校验", "validation"),
    "stage.files": ("写出文件", "files"),
    "stage.reports": ("生成报告", "reports"),
    # CLI
    "run_rows_title": ("{policy}：读取行数 = 入库 + 隔离", "{policy}: rows read = staged + quarantined"),
    "col.file": ("文件", "file"),
    "col.read": ("读取", "read"),
    "col.staged": ("入库", "staged"),
    "col.quarantined": ("隔离", "quarantined"),
    "run_decisions_title": ("决定（数据截止 {as_of}）", "decisions (as of {as_of})"),
    "col.region": ("统筹地区", "region"),
    "col.amount_yuan": ("金额(元)", "amount (yuan)"),
    "reasons_line": ("原因：{reasons}", "reasons: {reasons}"),
    "none": ("无", "none"),
    "written_to": ("已写入 {out}", "written to {out}"),
    "approved": (
        "已审批 {batch}（{payments} 笔，{total} 元，制单人 {preparer}），审批人 {by}",
        "approved {batch} ({payments} payments, {total} yuan, prepared by {preparer}) by {by}",
    ),
    "application_recorded": (
        "已登记申请 {aid}：{uscc}（{policy}，{lodged}）；下次运行按一般条件决定，符合者公示后拨付",
        "application {aid} recorded: {uscc} ({policy}, {lodged}); the next night decides it, a payable unit goes to notice",
    ),
    "signal_cleared": (
        "已登记核实 {cid}：{uscc} 的风险信号 {signal} 已就现账户解除（{day}）；下次运行不再因此暂缓",
        "clearance {cid} recorded: {uscc}'s signal {signal} cleared for its present account ({day}); the next night no longer holds it for this",
    ),
    "signal_cleared_before": (
        "{uscc} 的风险信号 {signal} 已就现账户解除过：{cid}（{day}），未重复登记",
        "{uscc}'s signal {signal} was cleared for this account already: {cid} ({day}); nothing recorded again",
    ),
    "application_exists": (
        "{uscc} 在 {policy} 下已有申请 {aid}（{lodged}），未重复登记",
        "{uscc} already applied under {policy}: {aid} ({lodged}); nothing recorded again",
    ),
    "application_late": (
        "申请日期 {lodged} 晚于申请截止日期 {apply_by}（{cite}）：已登记并标记为逾期申请",
        "lodged on {lodged}, after the application deadline {apply_by} ({cite}): recorded and marked late",
    ),
    "objection_recorded": (
        "已登记异议 {oid}：{uscc} 在 {policy} 下暂缓发放，待异议处理",
        "objection {oid} recorded: {uscc} is held under {policy} until it is resolved",
    ),
    "objection_resolved": ("异议 {oid} 已处理：{outcome}", "objection {oid} {outcome}"),
    "outcome.cleared": ("异议不成立（予以发放）", "cleared"),
    "outcome.upheld": ("异议成立（不予发放）", "upheld"),
    "demo_night1": (
        "第1夜（{day}）：逐户决定，可发放单位进入公示，公示期 {days} 个工作日",
        "night 1 ({day}): decide, and put the payable units in public notice for {days} working days",
    ),
    "demo_night2": (
        "第2夜（{day}）：公示期满，单位进入待审批批次",
        "night 2 ({day}): the notice has ended; the units go into batches awaiting approval",
    ),
    "demo_approved": (
        "审批人 {by}（非制单人）已审批 {n} 个批次",
        "approved {n} batches as {by} (not their preparer)",
    ),
    "demo_night3": (
        "第3夜（{day}）：拨付已审批批次：先记账，再写支付文件",
        "night 3 ({day}): release the approved batches: ledger, then payment files",
    ),
    "demo_done": (
        "支付文件：{path}；核验：autogrant verify {out}",
        "payment files: {path}; check them with: autogrant verify {out}",
    ),
    "queue_empty": ("（无）", "(none)"),
    "queue_title": ("待办事项（{today}）：{ledger}", "clerk's queue ({today}): {ledger}"),
    "annual_written": ("{year}年度护航行动实施情况：{files}", "{year} implementation report: {files}"),
}
