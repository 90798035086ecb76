"""Policy rule tables: YAML files, one per policy document, loaded safely and validated.

A table has a header (``id``, ``title``, ``source``, ``issued``, ``version``) and ``facts``: the
spatial facts its rules read, each "enterprise within ``within_m`` metres of a feature of
``layer`` (optionally only the features matching ``where``)". The engine knows no policy by
name: a planner's own YAML is loaded the same way as a shipped one.

Examples
--------
>>> [p.id for p in load_policies(["jinzhong-2019"])]
['jinzhong-2019']
>>> spec = fact_specs(load_policies(["jinzhong-2019"]))["near_city"]
>>> spec.layer, spec.within_m, spec.ref
('builtup', 10000.0, '004_8ff93025e2acb35e.txt §二4')
"""

from __future__ import annotations

import ast
import datetime as dt
import operator
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from spatial.errors import PolicyTableError
from spatial.policy_schema import read_table, validate_table
from spatial.vocabulary import ACTION_LABELS, labels

ACTIONS = (
    "shutdown",
    "stop_season",
    "close_or_merge",
    "clear",
    "exit_by",
    "review",
    "rectify",
    "heat_determined",
    "curtail",
    "rotate",
    "exempt",
    "none",
)
"""Every action of the data contract, most severe first: an enterprise's summary is its most
severe decision. ``review`` ranks above the curtailment actions so that an open question is
never hidden behind a percentage."""
ACTION_ZH = ACTION_LABELS
"""The label of each action (:data:`spatial.vocabulary.ACTION_LABELS`, kept under this name for
the reasons, emissions and notebooks that read it)."""
ON_BLANK = ("flag", "fail", "review")
FUNCTIONS = ("max", "min")
OPERATORS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
HEADER_KEYS = ("id", "title", "source", "issued", "version")
DOCUMENT_KEYS = ("number", "issuer", "draft", "short_title")
"""Optional header keys describing the document itself (文号, 发文机关, 征求意见稿, 简称)."""
FACT_KEYS = {
    "layer",
    "within_m",
    "where",
    "distance_column",
    "nearest_column",
    "buffer_layer",
    "ref",
    "label_zh",
    "area_zh",
    "name_column",
    "optional",
    "own_column",
    "own_within_m",
}


@dataclass(frozen=True)
class FactSpec:
    """One spatial fact: ``name`` is true where the distance to ``layer`` is <= ``within_m``."""

    name: str
    layer: str
    within_m: float
    distance_column: str
    nearest_column: str
    ref: str
    policy: str
    where: tuple[dict, ...] = ()
    buffer_layer: str = ""
    label_zh: str = ""
    area_zh: str = ""
    name_column: str = ""
    optional: bool = False
    own_column: str = ""
    own_within_m: float = 0.0

    def select(self, features: pd.DataFrame) -> np.ndarray:
        """Which features of the layer qualify (all when there is no ``where``)."""
        if not self.where:
            return np.ones(len(features), dtype=bool)
        return np.logical_or.reduce([_match(features, cond) for cond in self.where])


def _match(features: pd.DataFrame, condition: dict) -> np.ndarray:
    mask = np.ones(len(features), dtype=bool)
    for column, wanted in condition.items():
        values = features[column] if column in features else pd.Series([None] * len(features))
        if isinstance(wanted, dict):
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            if "min" in wanted:
                mask &= numbers >= float(wanted["min"])
            if "max" in wanted:
                mask &= numbers <= float(wanted["max"])
        else:
            allowed = wanted if isinstance(wanted, list) else [wanted]
            mask &= values.astype(str).isin([str(a) for a in allowed]).to_numpy()
    return mask


# --------------------------------------------------------------------------------------------
# The documents and how a person reads a citation of them

_CHINESE_DIGITS = "〇一二三四五六七八九"
DRAFT_ZH = "（征求意见稿）"


def _chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 23 → 二十三 (1-99, chapter numbers)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CHINESE_DIGITS[tens] + "十")
    return head + (_CHINESE_DIGITS[ones] if ones else "") or "〇"


def clause_zh(clause: str) -> str:
    """A clause in the document's own numbering, from the ``§`` form of the rule tables.

    >>> clause_zh("§二4"), clause_zh("§三(一)4"), clause_zh("§二2(1)"), clause_zh("ch.3 §二(四)1")
    ('二、4', '三（一）4', '二、2（1）', '第三章二（四）1')
    """
    text = str(clause).strip()
    prefix = ""
    chapter = re.match(r"ch\.?\s*(\d+)\s*", text)
    if chapter:
        prefix = f"第{_chinese_number(int(chapter.group(1)))}章"
        text = text[chapter.end() :]
    text = text.lstrip("§ ").replace("(", "（").replace(")", "）")
    text = re.sub(r"^([一二三四五六七八九十]+)(?=\d)", r"\1、", text)
    return prefix + text


def date_zh(value: str) -> str:
    """``2019-08-21`` → ``2019年8月21日``; ``2025-07`` → ``2025年7月``; blank stays blank."""
    parts = [p for p in str(value or "").split("-") if p]
    if not parts or not all(p.isdigit() for p in parts):
        return str(value or "")
    units = ("年", "月", "日")
    return "".join(f"{int(p)}{u}" for p, u in zip(parts, units, strict=False))


@dataclass(frozen=True)
class Document:
    """A policy document as a person cites it: title, number (文号), issuer, date, draft."""

    source: str
    title: str
    number: str = ""
    issuer: str = ""
    issued: str = ""
    draft: bool = False
    short_title: str = ""

    @property
    def title_zh(self) -> str:
        """The title in book-title marks, a draft marked: 《…（征求意见稿）》."""
        return f"《{self.title}{DRAFT_ZH if self.draft else ''}》"

    @property
    def short_zh(self) -> str:
        """The short name for table cells: the number, else the short title; a draft marked."""
        head = self.number or self.short_title or self.title
        return head + (DRAFT_ZH if self.draft else "")

    def cite(self, clause: str = "", form: str = "short") -> str:
        """This document with a clause, in the short (table cell) or full form."""
        if form not in ("short", "full"):
            raise PolicyTableError(f"'form' should be 'short' or 'full', got {form!r}")
        where = clause_zh(clause) if clause else ""
        if form == "full":
            number = f"（{self.number}）" if self.number else ""
            return f"{self.title_zh}{number}{where}"
        return f"{self.short_zh} {where}".strip()


_DOCUMENTS: dict[str, Document] = {}
"""Documents by source file, filled as tables are loaded (shipped ones on first need)."""


def _split_ref(ref: str) -> tuple[str, str]:
    """``004_….txt §二4`` → (``004_….txt``, ``§二4``)."""
    source, _, clause = str(ref).strip().partition(" ")
    return source, clause.strip()


def document(policy_or_source: Policy | Document | str) -> Document | None:
    """The document of a table, a policy id or a source file name (None if unknown)."""
    if isinstance(policy_or_source, Document):
        return policy_or_source
    if isinstance(policy_or_source, Policy):
        return policy_or_source.document
    key = str(policy_or_source)
    if key not in _DOCUMENTS:
        for shipped in shipped_policies():
            policy = load_policy(shipped)
            _DOCUMENTS.setdefault(policy.id, policy.document)
    return _DOCUMENTS.get(key)


def cite(policy_or_source: Policy | Document | str, clause: str = "", form: str = "short") -> str:
    """A citation a person reads: the document by title and number, the clause in its own
    numbering. ``form="full"`` for a documents sheet or a report, ``"short"`` for table cells.

    A source the project does not know (a planner's own reference) is cited as written.

    >>> cite("004_8ff93025e2acb35e.txt", "§二4", form="full")
    '《晋中市2019-2020年秋冬季工业企业错峰生产行动方案》（市工信产发〔2019〕79号）二、4'
    >>> cite("jinzhong-2019", "§三(一)4")
    '市工信产发〔2019〕79号 三（一）4'
    >>> cite("002_44512477227ed7b1.txt", "ch.3 §二(四)1")
    '沙坡头区涉气产业集群规划（征求意见稿） 第三章二（四）1'
    """
    found = document(policy_or_source)
    if found is None:
        return f"{policy_or_source} {clause_zh(clause) if clause else ''}".strip()
    return found.cite(clause, form)


def cite_ref(rule_ref: str, form: str = "short") -> str:
    """Every reference of a machine ``rule_ref`` (``file §clause``, several joined by ``;``)
    as a person reads it: clauses of one document together, documents separated by ``；``.

    >>> cite_ref("004_8ff93025e2acb35e.txt §三(一)3; 004_8ff93025e2acb35e.txt §二6")
    '市工信产发〔2019〕79号 三（一）3，二、6'
    """
    if rule_ref is None or (isinstance(rule_ref, float) and rule_ref != rule_ref):
        return ""
    grouped: dict[str, list[str]] = {}
    for part in str(rule_ref).split(";"):
        if part.strip():
            source, clause = _split_ref(part)
            grouped.setdefault(source, [])
            if clause and clause not in grouped[source]:
                grouped[source].append(clause)
    out = []
    for source, clauses in grouped.items():
        found = document(source)
        if found is None:
            out.append(" ".join([source, *(clause_zh(c) for c in clauses)]))
            continue
        head = found.cite("", form)
        where = "，".join(clause_zh(c) for c in clauses)
        out.append(f"{head}{' ' if form == 'short' and where else ''}{where}")
    return "；".join(out)


def _cited_sources(policy: Policy) -> list[str]:
    refs = [spec.ref for spec in policy.facts]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "ref" and isinstance(value, str):
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(policy.raw.get("rules"))
    walk(policy.raw.get("county_overrides"))
    walk(policy.raw.get("season"))
    return [_split_ref(r)[0] for r in refs]


def documents(policies: list[Policy]) -> list[Document]:
    """The documents a run applies: each table's own document, then every other document its
    rules cite (e.g. the Jinzhong built-up definition in the Xinzhou table), each once."""
    found: dict[str, Document] = {}
    for policy in policies:
        found.setdefault(policy.source, policy.document)
    for policy in policies:
        for source in _cited_sources(policy):
            if source not in found:
                found[source] = document(source) or Document(source=source, title=source)
    return list(found.values())


DOCUMENT_HEADERS = {
    "title_zh": "文件名称",
    "number": "文号",
    "issuer": "发文机关",
    "issued_zh": "印发日期",
    "status_zh": "文件状态",
    "short_zh": "表中简称",
}


def documents_table(policies: list[Policy]) -> pd.DataFrame:
    """The documents sheet: one row per document applied, headed in Chinese."""
    rows = [
        {
            "title_zh": d.title_zh,
            "number": d.number or "（原文无文号）",
            "issuer": d.issuer,
            "issued_zh": date_zh(d.issued) or "（原文未注明）",
            "status_zh": "征求意见稿" if d.draft else "正式印发",
            "short_zh": d.short_zh,
        }
        for d in documents(policies)
    ]
    return pd.DataFrame(rows, columns=list(DOCUMENT_HEADERS)).rename(columns=DOCUMENT_HEADERS)


# --------------------------------------------------------------------------------------------
# Periods in force


@dataclass(frozen=True)
class Period:
    """A period a table (or a group of its rules) is in force: ``start`` to ``end`` inclusive
    (``end`` None: open), with the clause that states it."""

    start: dt.date
    end: dt.date | None
    ref: str
    note_zh: str = ""

    def holds(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def text_zh(self) -> str:
        start = date_zh(self.start.isoformat())
        return f"{start}起" if self.end is None else f"{start}至{date_zh(self.end.isoformat())}"


def periods(node: dict | None) -> list[Period]:
    """The ``in_force`` periods of a table or group (one mapping or a list of them)."""
    raw = (node or {}).get("in_force")
    if not raw:
        return []
    items = raw if isinstance(raw, list) else [raw]
    return [
        Period(
            dt.date.fromisoformat(str(p["from"])),
            dt.date.fromisoformat(str(p["to"])) if p.get("to") else None,
            str(p.get("ref", "")),
            str(p.get("note_zh") or ""),
        )
        for p in items
    ]


def in_force_on(node: dict | None, day: dt.date | None) -> bool:
    """Whether a table or group is in force on ``day`` (always, without periods or a day)."""
    found = periods(node)
    return day is None or not found or any(p.holds(day) for p in found)


IN_FORCE_STATUS_ZH = labels("policy_status")


@dataclass(frozen=True)
class PolicyStatus:
    """Whether a table, or one group of its rules, applies on the run's date.

    ``status``: ``in_force``, ``draft`` (in its period but a draft for comment: decisions are
    given, marked as the draft's), ``not_yet`` or ``expired`` (no current decision), or
    ``layer_missing`` (an optional fact's layer was not given: its rows were not applied). ``part``
    is the table id, ``table id/group id`` for a group with its own period, or ``table id/fact``.
    """

    policy: str
    part: str
    status: str
    start: str
    end: str
    reason_zh: str

    @property
    def applies(self) -> bool:
        return self.status in ("in_force", "draft")


def _status(policy: Policy, node: dict, part: str, day: dt.date) -> PolicyStatus | None:
    found = periods(node)
    if not found:
        return None
    current = [p for p in found if p.holds(day)]
    head = policy.document.cite("", "full")
    day_zh = date_zh(day.isoformat())
    what = "" if part == policy.id else f"中“{node.get('title_zh') or node.get('id')}”"
    spans = "、".join(f"{p.text_zh()}（{cite_ref(p.ref)}）" for p in found)
    if current:
        status = "draft" if policy.draft else "in_force"
        period = current[0]
        reason = f"{head}{what}的执行期为{period.text_zh()}，评估日{day_zh}在执行期内。"
        if policy.draft:
            reason += "该文件为征求意见稿，尚未正式印发，结论仅供参考。"
    else:
        period = max(found, key=lambda p: p.start) if all(day < p.start for p in found) else None
        status = "not_yet" if all(day < p.start for p in found) else "expired"
        period = period or max(found, key=lambda p: p.end or dt.date.max)
        word = "尚未开始" if status == "not_yet" else "已结束"
        reason = (
            f"{head}{what}的执行期为{spans}，评估日{day_zh}时执行期{word}，"
            "本次不据此作出当前管控结论；如需查看当期要求，请将评估日期设在执行期内。"
        )
    return PolicyStatus(
        policy=policy.id,
        part=part,
        status=status,
        start=period.start.isoformat(),
        end=period.end.isoformat() if period.end else "",
        reason_zh=reason,
    )


def status_on(
    policies: list[Policy], as_of: dt.date, layers: set[str] | None = None
) -> list[PolicyStatus]:
    """Which tables and groups are in force on ``as_of``: one entry per table, and one per group
    with its own period (the Changzhi clinker window). For the run's summary, ``run.json`` and
    the lists; :func:`spatial.decisions.evaluate` applies only what is in force.

    With ``layers`` (the names of the context layers given), one ``layer_missing`` entry per
    optional fact whose layer is absent — said once here instead of a review for every plant.
    """
    out = []
    for policy in policies:
        table = _status(policy, policy.raw, policy.id, as_of)
        if table is None:
            status = "draft" if policy.draft else "in_force"
            reason = f"{policy.document.cite('', 'full')}未规定执行期，按有效处理。"
            if policy.draft:
                reason += "该文件为征求意见稿，尚未正式印发，结论仅供参考。"
            table = PolicyStatus(policy.id, policy.id, status, "", "", reason)
        out.append(table)
        for group in policy.raw.get("rules") or []:
            found = _status(policy, group, f"{policy.id}/{group['id']}", as_of)
            if found is not None:
                out.append(found)
        for spec in policy.facts:
            if layers is None or spec.layer in layers or not spec.optional:
                continue
            place = (spec.label_zh or "{name}").format(name="") or spec.layer
            out.append(
                PolicyStatus(
                    policy.id,
                    f"{policy.id}/{spec.name}",
                    "layer_missing",
                    "",
                    "",
                    f"未提供{place}图层（--layer {spec.layer}=文件），{cite_ref(spec.ref)}"
                    f"中与{place}有关的布局分析本次未进行，相关企业未作判断。",
                )
            )
    return out


@dataclass(frozen=True)
class Policy:
    """A loaded rule table."""

    id: str
    title: str
    source: str
    issued: str
    version: str
    facts: tuple[FactSpec, ...]
    path: Path
    raw: dict
    number: str = ""
    issuer: str = ""
    draft: bool = False
    short_title: str = ""

    @property
    def document(self) -> Document:
        """The document this table implements (title, number, issuer, date, draft)."""
        return Document(
            source=self.source,
            title=self.title,
            number=self.number,
            issuer=self.issuer,
            issued=self.issued,
            draft=self.draft,
            short_title=self.short_title,
        )


def shipped_policies() -> list[str]:
    """Ids of the policy tables shipped with the package."""
    folder = files("spatial") / "policies"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _resolve(id_or_path: str | Path) -> Path:
    path = Path(id_or_path)
    if path.suffix.lower() in {".yaml", ".yml"}:
        if not path.exists():
            raise PolicyTableError(f"{path}: no such policy file")
        return path
    shipped = Path(str(files("spatial") / "policies" / f"{id_or_path}.yaml"))
    if not shipped.exists():
        raise PolicyTableError(
            f"unknown policy {str(id_or_path)!r}; shipped policies are "
            f"{', '.join(shipped_policies())}, or give the path of your own .yaml table"
        )
    return shipped


def _parse_facts(raw: object, path: Path, policy_id: str, problems: list[str]) -> list[FactSpec]:
    if raw is None:
        return []
    if not isinstance(raw, dict):
        problems.append("'facts' should be a mapping of fact name to its definition")
        return []
    specs = []
    for name, spec in raw.items():
        where = f"facts.{name}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: should be a mapping, got {type(spec).__name__}")
            continue
        unknown = set(spec) - FACT_KEYS
        if unknown:
            problems.append(f"{where}: unknown keys {sorted(unknown)}")
        if not isinstance(spec.get("layer"), str) or not spec.get("layer"):
            problems.append(f"{where}.layer: the name of a context layer is missing")
        within = spec.get("within_m")
        if not isinstance(within, int | float) or isinstance(within, bool) or within < 0:
            problems.append(f"{where}.within_m: should be metres (a number >= 0), got {within!r}")
        for key in ("distance_column", "nearest_column", "ref"):
            if not isinstance(spec.get(key), str) or not spec.get(key):
                problems.append(f"{where}.{key}: missing")
        conditions = spec.get("where", [])
        if isinstance(conditions, dict):
            conditions = [conditions]
        if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
            problems.append(f"{where}.where: should be a list of column conditions")
            conditions = []
        if not problems:
            specs.append(
                FactSpec(
                    name=str(name),
                    layer=spec["layer"],
                    within_m=float(within),
                    distance_column=spec["distance_column"],
                    nearest_column=spec["nearest_column"],
                    ref=spec["ref"],
                    policy=policy_id,
                    where=tuple(conditions),
                    buffer_layer=str(spec.get("buffer_layer") or f"{name}_{within / 1000:g}km"),
                    label_zh=str(spec.get("label_zh") or ""),
                    area_zh=str(spec.get("area_zh") or ""),
                    name_column=str(spec.get("name_column") or ""),
                    optional=bool(spec.get("optional")),
                    own_column=str(spec.get("own_column") or ""),
                    own_within_m=float(spec.get("own_within_m") or 0.0),
                )
            )
    return specs


def load_policy(id_or_path: str | Path) -> Policy:
    """Load one rule table by shipped id or by path, validated; problems name file and key."""
    path = _resolve(id_or_path)
    raw = read_table(path)
    if not isinstance(raw, dict):
        raise PolicyTableError(f"{path}: should be a YAML mapping with id, title, source, ...")
    missing = [f"'{key}' is missing" for key in HEADER_KEYS if key not in raw]
    if missing:
        raise PolicyTableError(f"{path}: " + "; ".join(missing))
    validate_table(raw, path, ACTIONS)
    problems: list[str] = []
    facts = _parse_facts(raw.get("facts"), path, str(raw.get("id")), problems)
    problems += validate_rules(raw)
    if problems:
        raise PolicyTableError(f"{path}: " + "; ".join(problems))
    policy = Policy(
        id=str(raw["id"]),
        title=str(raw["title"]),
        source=str(raw["source"]),
        issued="" if raw["issued"] is None else str(raw["issued"]),
        version=str(raw["version"]),
        facts=tuple(facts),
        path=path,
        raw=raw,
        number=str(raw.get("number") or ""),
        issuer=str(raw.get("issuer") or ""),
        draft=bool(raw.get("draft")),
        short_title=str(raw.get("short_title") or ""),
    )
    _DOCUMENTS[policy.source] = policy.document
    return policy


def load_policies(ids: list[str] | tuple[str, ...] = ()) -> list[Policy]:
    """Load the given policies, or every shipped one when ``ids`` is empty."""
    return [load_policy(i) for i in (ids or shipped_policies())]


def fact_specs(policies: list[Policy]) -> dict[str, FactSpec]:
    """Every fact the policies need, by name; two different definitions of one name clash."""
    specs: dict[str, FactSpec] = {}
    for policy in policies:
        for spec in policy.facts:
            other = specs.setdefault(spec.name, spec)
            same = (other.layer, other.within_m, other.where) == (
                spec.layer,
                spec.within_m,
                spec.where,
            )
            if not same:
                raise PolicyTableError(
                    f"policies {other.policy} and {spec.policy} define the fact {spec.name!r} "
                    "differently; rename one of them"
                )
    return specs


def compile_expression(expression: str, where: str) -> ast.Expression:
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise PolicyTableError(f"{where}: cannot parse the expression {expression!r}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and node.args
        ):
            raise PolicyTableError(
                f"{where}: only the functions {', '.join(FUNCTIONS)} may be called in "
                f"{expression!r}"
            )
        allowed = (
            ast.Call,
            ast.Expression,
            ast.BinOp,
            ast.UnaryOp,
            ast.USub,
            ast.Name,
            ast.Load,
            ast.Constant,
            *OPERATORS,
        )
        if not isinstance(node, allowed):
            raise PolicyTableError(
                f"{where}: only + - * / numbers and column names are allowed, got "
                f"{type(node).__name__} in {expression!r}"
            )
    return tree


def validate_rules(raw: dict) -> list[str]:
    """Every problem in a table's rules (empty when valid); row numbers are 1-based."""
    problems = []
    for name, expression in (raw.get("derived") or {}).items():
        try:
            compile_expression(str(expression), f"derived.{name}")
        except PolicyTableError as exc:
            problems.append(str(exc))
    groups = raw.get("rules") or []
    if not isinstance(groups, list):
        return ["'rules' should be a list of groups"]
    seen_ids: set[str] = set()
    for g, group in enumerate(groups, 1):
        where = f"rules[{g}]"
        if (
            not isinstance(group, dict)
            or "id" not in group
            or not isinstance(group.get("rows"), list)
        ):
            problems.append(f"{where}: a group needs 'id' and a list of 'rows'")
            continue
        for r, row in enumerate(group["rows"], 1):
            label = f"{where} ({group['id']}) row {r}"
            if isinstance(row, dict) and row.get("id"):
                label += f" ({row['id']})"
            problems += _row_problems(row, label, seen_ids)
        if group.get("otherwise"):
            problems += _row_problems(
                dict(group["otherwise"], id=f"{group['id']}:otherwise"),
                f"{where} ({group['id']}) otherwise",
                seen_ids,
            )
        for m, modifier in enumerate(group.get("modifiers") or [], 1):
            for key in ("id", "when", "action", "ref"):
                if key not in modifier:
                    problems.append(f"{where} modifier {m}: '{key}' is missing")
    for o, override in enumerate(raw.get("county_overrides") or [], 1):
        pct = override.get("min_pct")
        if "county" not in override or "ref" not in override:
            problems.append(f"county_overrides[{o}]: 'county' and 'ref' are required")
        if not isinstance(pct, int | float) or not 0 <= pct <= 100:
            problems.append(f"county_overrides[{o}].min_pct: a percent 0-100, got {pct!r}")
    return problems


def _row_problems(row: object, where: str, seen_ids: set[str]) -> list[str]:
    if not isinstance(row, dict):
        return [f"{where}: should be a mapping"]
    problems = []
    for key in ("id", "action", "ref"):
        if not row.get(key):
            problems.append(f"{where}: '{key}' is missing")
    if row.get("id") in seen_ids:
        problems.append(f"{where}: duplicate rule id {row.get('id')!r}")
    seen_ids.add(row.get("id"))
    if row.get("action") and row["action"] not in ACTIONS:
        problems.append(f"{where}: action {row['action']!r} is not one of {', '.join(ACTIONS)}")
    pct = row.get("curtail_pct")
    if pct is not None and (not isinstance(pct, int | float) or not 0 <= pct <= 100):
        problems.append(f"{where}: curtail_pct should be a percent 0-100, got {pct!r}")
    if row.get("action") == "curtail" and pct is None:
        problems.append(f"{where}: a curtail row needs curtail_pct")
    on_blank = row.get("on_blank", "flag")
    modes = on_blank.values() if isinstance(on_blank, dict) else [on_blank]
    if not all(mode in ON_BLANK for mode in modes):
        problems.append(
            f"{where}: on_blank should be one of {', '.join(ON_BLANK)} (or a mapping "
            f"of column to one of them), got {on_blank!r}"
        )
    when = row.get("when", {})
    if not isinstance(when, dict):
        problems.append(f"{where}: 'when' should map columns to conditions")
    else:
        for column, wanted in when.items():
            if isinstance(wanted, dict) and not (
                set(wanted) <= {"min", "max", "lt", "gt"} or set(wanted) == {"contains"}
            ):
                problems.append(
                    f"{where}: condition on {column} uses {sorted(wanted)}; use min, max, lt, "
                    "gt or contains"
                )
    for key in ("deadline",):
        if row.get(key):
            try:
                dt.date.fromisoformat(str(row[key]))
            except ValueError:
                problems.append(f"{where}: {key} should be a date YYYY-MM-DD, got {row[key]!r}")
    return problems
