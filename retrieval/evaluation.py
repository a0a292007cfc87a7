"""Measure retrieval quality on labelled questions: top-1, MRR, abstention, per language.

Shared by `benchmarks/retrieval_quality.py` (the full set, printed) and the test suite (a fast subset with
thresholds that fail on regressions). A question file is YAML: a list of {q, lang, expect: [entry ids]}; an empty
`expect` means the assistant must say the answer is not in its knowledge base.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    expect: tuple[str, ...]
    source: str

    @property
    def off_topic(self) -> bool:
        return not self.expect


def load_questions(paths: Iterable[Path]) -> list[Question]:
    questions = []
    for path in paths:
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            questions.append(Question(str(item["q"]), str(item["lang"]), tuple(item.get("expect") or ()), path.name))
    return questions


@dataclass
class Outcome:
    question: Question
    ranked: list[str]
    abstained: bool

    @property
    def rank(self) -> int | None:
        for position, entry_id in enumerate(self.ranked, start=1):
            if entry_id in self.question.expect:
                return position
        return None


@dataclass(frozen=True)
class Report:
    per_language: dict[str, dict[str, float]]
    overall: dict[str, float]
    abstention: dict[str, float]
    misses: list[Outcome]


def evaluate(questions: list[Question], rank: Callable[[Question], tuple[list[str], bool]]) -> Report:
    """`rank` returns (entry ids best first, abstained) for one question."""
    outcomes = [Outcome(q, *rank(q)) for q in questions]
    by_lang: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if not outcome.question.off_topic:
            by_lang[outcome.question.lang].append(outcome)

    def summary(items: list[Outcome]) -> dict[str, float]:
        n = len(items)
        top1 = sum(1 for o in items if o.rank == 1 and not o.abstained)
        mrr = sum(1 / o.rank for o in items if o.rank)
        answered = sum(1 for o in items if not o.abstained)
        return {"n": n, "top1": top1 / n if n else 0.0, "mrr": mrr / n if n else 0.0,
                "answered": answered / n if n else 0.0}

    on_topic = [o for o in outcomes if not o.question.off_topic]
    off_topic = [o for o in outcomes if o.question.off_topic]
    true_abstain = sum(1 for o in off_topic if o.abstained)
    false_abstain = sum(1 for o in on_topic if o.abstained)
    abstained = true_abstain + false_abstain
    abstention = {
        "off_topic": len(off_topic),
        "recall": true_abstain / len(off_topic) if off_topic else 1.0,  # off-topic questions we refused
        "precision": true_abstain / abstained if abstained else 1.0,  # refusals that were right to refuse
        "false_abstentions": false_abstain,
    }
    misses = [o for o in on_topic if o.rank != 1 or o.abstained] + [o for o in off_topic if not o.abstained]
    return Report({lang: summary(items) for lang, items in sorted(by_lang.items())}, summary(on_topic),
                  abstention, misses)


def format_report(name: str, report: Report) -> str:
    lines = [f"== {name}", f"{'lang':<6}{'n':>4}{'top1':>8}{'MRR':>8}{'answered':>10}"]
    for lang, row in report.per_language.items():
        lines.append(f"{lang:<6}{row['n']:>4}{row['top1']:>8.2f}{row['mrr']:>8.2f}{row['answered']:>10.2f}")
    row = report.overall
    lines.append(f"{'all':<6}{row['n']:>4}{row['top1']:>8.2f}{row['mrr']:>8.2f}{row['answered']:>10.2f}")
    a = report.abstention
    lines.append(
        f"abstention on {a['off_topic']} off-topic: recall {a['recall']:.2f}, precision {a['precision']:.2f}, "
        f"false abstentions on topic: {a['false_abstentions']}"
    )
    return "\n".join(lines)
