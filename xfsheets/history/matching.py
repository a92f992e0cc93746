"""Which row of today's ledgers is which matter already known, without a stable id.

Rows move when clerks sort and insert, so the Excel row number is never used. In order:
1. ``case_id``: a 信访件编号 that only one row carries today and one known matter carried;
2. ``person``: the same 登记日期 and 信访人 and the same 身份证号 or 电话 (compared by keyed hash), unless
   the known matter's own 编号 is still on another row today (two matters of one person, one day);
3. ``similar``: among the matters registered the same day, the most similar one (反映问题, 责任单位,
   信访人), above a threshold: reported as 疑似同一件 for a clerk to confirm or undo
   (``history link`` / ``history unlink``).
A 信访件编号 that two rows carry today is never used to match; the clash is reported.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher

SIMILAR_THRESHOLD = 0.6


@dataclass
class Key:
    """What matching looks at, for one row today or one known matter (personal data as keyed hashes)."""

    case_id: str = ""
    received_on: str = ""
    petitioner: str = ""
    id_number: str = ""
    phone: str = ""
    unit: str = ""
    summary: str = ""
    person_keys: set[tuple[str, str]] = field(default_factory=set)  # (kind, keyed hash) of every person


@dataclass
class Match:
    matter: int | None  # None: a new matter
    rule: str  # case_id | person | similar | new
    score: float = 1.0


def _person_keys(k: Key) -> list[tuple]:
    if not (k.received_on and k.petitioner):
        return []
    out = []
    if k.id_number:
        out.append((k.received_on, k.petitioner, "id", k.id_number))
    if k.phone:
        out.append((k.received_on, k.petitioner, "phone", k.phone))
    return out


def _similarity(a: Key, b: Key) -> float:
    text = SequenceMatcher(None, a.summary, b.summary, autojunk=False).ratio() if a.summary and b.summary else 0.0
    score = 0.6 * text
    score += 0.2 if a.unit and a.unit == b.unit else 0.0
    score += 0.2 if a.petitioner and a.petitioner == b.petitioner else 0.0
    return score


def match(rows: list[Key], known: dict[int, Key]) -> tuple[list[Match], list[str]]:
    """One Match per row (same order), and the 信访件编号 that more than one row carries today."""
    result: list[Match | None] = [None] * len(rows)
    taken: set[int] = set()

    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        if r.case_id:
            counts[r.case_id] += 1
    clashes = sorted(c for c, n in counts.items() if n > 1)
    by_case: dict[str, list[int]] = defaultdict(list)
    for mid, k in known.items():
        if k.case_id:
            by_case[k.case_id].append(mid)
    for i, r in enumerate(rows):
        if r.case_id and counts[r.case_id] == 1 and len(by_case.get(r.case_id, ())) == 1:
            mid = by_case[r.case_id][0]
            if mid not in taken:
                result[i] = Match(mid, "case_id")
                taken.add(mid)

    by_person: dict[tuple, list[int]] = defaultdict(list)
    for mid, k in known.items():
        if mid not in taken:
            for key in _person_keys(k):
                by_person[key].append(mid)
    for i, r in enumerate(rows):
        if result[i] is not None:
            continue
        for key in _person_keys(r):
            free = [m for m in by_person.get(key, ()) if m not in taken]
            # a known matter whose own 编号 is still on a row today is another matter of the same person
            # registered the same day, not this row renumbered
            free = [m for m in free if not (known[m].case_id and known[m].case_id != r.case_id
                                             and counts.get(known[m].case_id))]
            if len(free) == 1:
                result[i] = Match(free[0], "person")
                taken.add(free[0])
                break

    same_day: dict[str, list[int]] = defaultdict(list)
    for mid, k in known.items():
        if mid not in taken and k.received_on:
            same_day[k.received_on].append(mid)
    pairs = []
    for i, r in enumerate(rows):
        if result[i] is None and r.received_on:
            for mid in same_day.get(r.received_on, ()):
                score = _similarity(r, known[mid])
                if score >= SIMILAR_THRESHOLD:
                    pairs.append((score, i, mid))
    for score, i, mid in sorted(pairs, key=lambda p: -p[0]):
        if result[i] is None and mid not in taken:
            result[i] = Match(mid, "similar", round(score, 2))
            taken.add(mid)
    return [m or Match(None, "new") for m in result], clashes
