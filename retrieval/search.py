"""Hybrid search over the knowledge index: dense cosine plus lexical ranks, fused per entry.

Ranking fuses two rankings of entries with weighted reciprocal rank (c=60): by meaning and by BM25 words. Meaning is
the cosine of an entry's best passage, plus a little of its second, plus that of the closest sample question the
entry answers (question to question: how people ask, which passages written as facts miss). Entries whose name the
query spells out come first, and members of a family it names ("CERV", "BMZ") next, unless another entry is clearly
closer in meaning (the name was mentioned in passing). An entry clearly closer in meaning than all others keeps
first place against word counts.

Whether to answer at all is decided on the evidence for the best supported entry, never on a fused rank: its best
passage's cosine plus its closest sample question's, or an exact name. `ABSTAIN_BELOW` is calibrated on labelled
questions (benchmarks/retrieval_quality.py); the two cosines together separate off-topic questions better than
either alone. A question naming a programme we do not cover (an acronym the knowledge base never uses, such as
URBACT, or a name in knowledge/not_covered/) is not answered, however close its words.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from langchain_community.vectorstores import FAISS

from retrieval.chunking import NON_LATIN_LANGUAGES, OUT_OF_SCOPE, PLAIN_SUFFIX, QUESTION
from retrieval.embedder import SentenceEmbeddings
from retrieval.index import stored_documents
from retrieval.knowledge import Entry
from retrieval.lexical import (
    NameMatcher, PassageBM25, PhraseMatcher, UnknownAcronyms, UnknownInstitutions, fold, without_diacritics,
)

ABSTAIN_BELOW = 1.74  # best passage cosine + closest sample question cosine of one entry; below it, "not known"
OUT_OF_SCOPE_LEAD = 0.01  # a question this much closer to an out-of-scope question than to any sample one: refused
RRF_C = 60
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 0.35
SECOND_PASSAGE_WEIGHT = 0.3  # entries with several matching sections rank a little higher
QUESTION_WEIGHT = 1.0  # the closest sample question counts as much as the best passage (0.5-1.5 measure alike)
SAME_LANGUAGE_BONUS = 0.01  # prefer the question's language when two passages are about equally relevant
NO_PLAIN_COPIES = {None, "en", *NON_LATIN_LANGUAGES}  # no copies without diacritics to match: written as they are
FAMILY_BONUS = 0.002  # a family member far from the question's meaning: a hint, not an override
NAME_OVERRIDE_MARGIN = 0.06  # a named entry comes first unless another is this much closer in meaning
FAMILY_WEIGHT = 0.5  # a family member as close in meaning (within the margin) comes before any entry outside it
CLEAR_LEAD = 0.02  # an entry this much closer in meaning than every other is not outranked by word counts alone
CLEAR_LEAD_BONUS = 0.01  # more than any difference the two reciprocal ranks make
PREFERRED_BONUS = 0.004  # about the gap between dense ranks 1 and 10: a hint, not an override
DENSE_CANDIDATES = 400  # passages ranked per question: far more than the few entries any answer needs
LEXICAL_CANDIDATES = 200


def top(scores: np.ndarray, count: int, above: float | None = None) -> np.ndarray:
    """Indices of the `count` highest scores (in no order), optionally only those above a floor."""
    rows = np.arange(len(scores)) if len(scores) <= count else np.argpartition(-scores, count - 1)[:count]
    return rows if above is None else rows[scores[rows] > above]


@dataclass(frozen=True)
class PassageHit:
    chunk_id: str
    entry_id: str
    lang: str
    section: int
    title: str
    heading: str
    text: str
    cosine: float


@dataclass
class EntryHit:
    entry_id: str
    score: float
    dense: float
    lexical: float
    name_hit: bool
    question: float = 0.0  # cosine of the closest sample question
    passages: list[PassageHit] = field(default_factory=list)


@dataclass(frozen=True)
class SearchResult:
    hits: list[EntryHit]
    best_cosine: float  # of the best passage
    abstained: bool
    evidence: float = 0.0  # best passage + closest sample question, of the best supported entry
    unknown_names: tuple[str, ...] = ()  # acronyms the question uses and the knowledge base does not (URBACT)
    out_of_scope: float = -1.0  # closest out-of-scope question's cosine minus the closest sample question's

    @property
    def about_something_else(self) -> bool:
        """Closer to questions no entry answers (residence permits, visas) than to any an entry does."""
        return self.out_of_scope >= OUT_OF_SCOPE_LEAD


class Searcher:
    """Answers `search(question)` over a loaded index; thread-safe for reads."""

    def __init__(
        self,
        store: FAISS,
        embedder: SentenceEmbeddings,
        entries: list[Entry],
        not_covered: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.entries = {e.id: e for e in entries}
        self._docs = stored_documents(store)
        self._meta = [d.metadata for d in self._docs]
        self._entry_of = np.array([m["entry_id"] for m in self._meta])
        self._lang_of = np.array([m["lang"] for m in self._meta])
        self._vectors = store.index.reconstruct_n(0, store.index.ntotal)
        # Sample questions rank entries and count as evidence to answer, but are never quoted nor ranked by words;
        # out-of-scope questions only count against answering.
        self._is_question = np.array([m.get("role") == QUESTION for m in self._meta], dtype=bool)
        self._out_of_scope_rows = np.flatnonzero([m.get("role") == OUT_OF_SCOPE for m in self._meta])
        self._not_passage = self._is_question.copy()
        self._not_passage[self._out_of_scope_rows] = True
        plain = np.array([m["chunk_id"].endswith(PLAIN_SUFFIX) for m in self._meta], dtype=bool)
        # Questions typed without diacritics are matched against both spellings, others against the written one
        # only: extra rows would otherwise favour entries whose questions happen to have more accents.
        self._question_rows_for = {
            True: np.flatnonzero(self._is_question),
            False: np.flatnonzero(self._is_question & ~plain),
        }
        self._entry_ids = sorted(set(self._entry_of.tolist()) - {OUT_OF_SCOPE})
        self._entry_number = {entry_id: n for n, entry_id in enumerate(self._entry_ids)}
        self._question_entry_for = {
            typed_plain: np.array([self._entry_number[e] for e in self._entry_of[rows]], dtype=int)
            for typed_plain, rows in self._question_rows_for.items()
        }
        self._has_questions = np.bincount(self._question_entry_for[True], minlength=len(self._entry_ids)) > 0
        self._unknown = UnknownAcronyms(d.page_content for d, m in zip(self._docs, self._meta)
                                        if m.get("role") != OUT_OF_SCOPE)
        self._unknown_institutions = UnknownInstitutions(self._unknown.known_words)
        self._not_covered = PhraseMatcher(dict(not_covered or {}))
        self._bm25 = PassageBM25(
            "" if not_passage else d.page_content for d, not_passage in zip(self._docs, self._not_passage)
        )
        # How-to entries have topics, not names: their aliases ("Eigenanteil", "Partnerstadt") are capitalized
        # common nouns in German, and must not outrank the programmes a question names.
        self._names = NameMatcher({
            e.id: [e.meta.programme, *e.meta.aliases, *e.meta.title.values()]
            for e in entries
            if e.meta.kind != "how-to"
        })
        # A how-to entry about a named programme ("How the European Partnership Hub secretariat helps") is named
        # with it: the two then compete on meaning, not on the name alone.
        how_to_titles = {e.id: [fold(t) for t in e.meta.title.values()] for e in entries if e.meta.kind == "how-to"}
        self._how_tos_about = {
            named.id: {
                how_to for how_to, titles in how_to_titles.items()
                if any(fold(named.meta.programme) in title for title in titles)
            }
            for named in entries
            if named.meta.kind != "how-to"
        }

    def _candidates(
        self, adjusted: np.ndarray, lexical: np.ndarray, allowed: set[str] | None, names: set[str]
    ) -> np.ndarray:
        """Rows worth ranking, best dense first: the top passages by meaning and by words, and every passage of a
        named entry; with `allowed`, every passage of those entries. Thousands of passages in 23 languages would
        otherwise all pass through the per-entry loop for each question."""
        if allowed is not None:
            rows = np.flatnonzero(np.isin(self._entry_of, list(allowed)) & ~self._not_passage)
        else:
            rows = np.union1d(top(adjusted, DENSE_CANDIDATES), top(lexical, LEXICAL_CANDIDATES, above=0.0))
            if names:
                rows = np.union1d(rows, np.flatnonzero(np.isin(self._entry_of, list(names)) & ~self._not_passage))
        return rows[np.argsort(-adjusted[rows], kind="stable")]

    def named_entries(self, question: str) -> set[str]:
        """Entries whose programme name or alias the question spells out, and the how-to entries about them; not a
        name inside the name of a programme we do not cover ("Interreg Europe" in "Interreg Europe Centrale")."""
        return self._named_in(self._not_covered.without_names(question))

    def _named_in(self, text: str) -> set[str]:
        """`named_entries` of a question whose names of programmes we do not cover are already blanked out."""
        named = self._names.matches(text)
        return named.union(*(self._how_tos_about[entry_id] for entry_id in named))

    def family_entries(self, question: str) -> set[str]:
        """Entries of a family the question names ("BMZ", "CERV", "Interreg"): one of them is probably meant."""
        return self._names.family(self._not_covered.without_names(question))

    def unknown_names(self, question: str, lang: str | None = None) -> list[str]:
        """Names in the question of programmes we do not cover: the names listed in knowledge/not_covered/,
        and acronyms and names of funds, programmes or agencies that the knowledge base never uses."""
        found = dict.fromkeys([
            *self._not_covered.matches(question).values(), *self._unknown.find(question),
            *self._unknown_institutions.find(question, lang),
        ])
        # a name found twice ("USAID" in "USAID DOBRE") is named once, in full
        return [name for name in found if not any(name != other and name in other for other in found)]

    @staticmethod
    def _meaning(hit: EntryHit) -> float:
        """How well an entry answers the question by meaning: its best passage, a little of its second, and its
        closest sample question."""
        second = hit.passages[1].cosine if len(hit.passages) > 1 else hit.passages[0].cosine
        return hit.dense + SECOND_PASSAGE_WEIGHT * second + QUESTION_WEIGHT * hit.question

    def _closest_questions(self, cosine: np.ndarray, typed_plain: bool) -> np.ndarray:
        """Per entry (by number), the cosine of its sample question closest to the query."""
        closest = np.full(len(self._entry_ids), -1.0, dtype=np.float32)
        rows = self._question_rows_for[typed_plain]
        np.maximum.at(closest, self._question_entry_for[typed_plain], cosine[rows])
        return closest

    def embed_queries(self, questions: list[str]) -> np.ndarray:
        return self.embedder.encode(questions, "query")

    def search(
        self,
        question: str,
        lang: str | None = None,
        k: int = 5,
        allowed: set[str] | None = None,
        preferred: Collection[str] = (),
    ) -> SearchResult:
        return self.search_with_vector(question, self.embed_queries([question])[0], lang, k, allowed, preferred)

    def search_with_vector(
        self,
        question: str,
        vector: np.ndarray,
        lang: str | None = None,
        k: int = 5,
        allowed: set[str] | None = None,
        preferred: Collection[str] = (),
    ) -> SearchResult:
        """Rank entries for a question whose query vector is already computed (lets callers batch embeddings).

        `preferred` entries fit facts the question states (a regional programme for the oblast it names): they get
        a small bonus, enough to win among about equally relevant entries.
        """
        # Unit vectors: the inner product is the cosine. einsum, not `@`: BLAS matrix-vector products called from
        # dozens of threads at once contend badly (0.07 ms alone, 19 ms each under 32 threads, measured).
        cosine = np.einsum("ij,j->i", self._vectors, np.asarray(vector, dtype=np.float32))
        typed_plain = lang not in NO_PLAIN_COPIES and without_diacritics(question) == question
        closest_question = self._closest_questions(cosine, typed_plain)
        adjusted = cosine + np.where(self._lang_of == lang, SAME_LANGUAGE_BONUS, 0.0)
        adjusted[self._not_passage] = -np.inf
        lexical = self._bm25.scores(question)
        covered_only = self._not_covered.without_names(question)  # once for both name lookups
        names = self._named_in(covered_only)
        family = self._names.family(covered_only)

        per_entry: dict[str, EntryHit] = {}
        for row in self._candidates(adjusted, lexical, allowed, names):
            entry_id = str(self._entry_of[row])
            hit = per_entry.get(entry_id)
            if hit is None:
                number = self._entry_number[entry_id]
                # An entry without sample questions stands in with its best passage: neither ranked down nor up.
                question_cosine = closest_question[number] if self._has_questions[number] else cosine[row]
                hit = per_entry[entry_id] = EntryHit(
                    entry_id, 0.0, float(adjusted[row]), 0.0, entry_id in names, float(question_cosine)
                )
            hit.lexical = max(hit.lexical, float(lexical[row]))
            if len(hit.passages) < 6:
                m = self._meta[row]
                hit.passages.append(
                    PassageHit(m["chunk_id"], entry_id, m["lang"], m["section"], m["title"], m["heading"], m["text"],
                               float(cosine[row]))
                )
        if not per_entry:
            return SearchResult([], 0.0, True, 0.0)
        ranked = rank_entries(list(per_entry.values()), family, preferred)[:k]
        best_cosine = max(h.passages[0].cosine for h in per_entry.values())
        evidence = max(h.passages[0].cosine + h.question for h in per_entry.values())
        # A programme we have no entry for (URBACT, EBRD) would otherwise get the nearest one we do have.
        unknown = tuple(self.unknown_names(question, lang))
        # A family ("Interreg") is on topic, unless the question names a member we do not cover ("Interreg NEXT
        # Black Sea Basin"); a programme we do cover, named beside one we do not, is answered.
        in_family = bool(family.intersection(per_entry)) and not unknown
        # "How do I extend my temporary protection?" is about Ukraine and municipalities too, but closer to the
        # questions no entry answers (knowledge/out_of_scope.yaml) than to any an entry does.
        out_of_scope = self._out_of_scope_lead(cosine, closest_question)
        abstained = not names.intersection(per_entry) and not in_family and (
            evidence < ABSTAIN_BELOW or bool(unknown) or out_of_scope >= OUT_OF_SCOPE_LEAD
        )
        return SearchResult(ranked, best_cosine, abstained, evidence, unknown, out_of_scope)

    def _out_of_scope_lead(self, cosine: np.ndarray, closest_question: np.ndarray) -> float:
        """How much closer the query is to the closest out-of-scope question than to the closest sample question."""
        if not len(self._out_of_scope_rows):
            return -1.0
        return float(cosine[self._out_of_scope_rows].max() - closest_question.max())


def rank_entries(hits: list[EntryHit], family: Collection[str] = (), preferred: Collection[str] = ()) -> list[EntryHit]:
    """Order an entry's hits best first, setting each `score`: reciprocal ranks by meaning and by BM25 words, then
    names, families, place hints and a clear lead in meaning on top. `name_hit` is cleared for a name the question
    only mentions in passing."""
    meaning = {hit.entry_id: Searcher._meaning(hit) for hit in hits}
    # A name the question only mentions in passing ("our Horizon Europe proposal needs partners: can the EU portal
    # search by country?") must not override an entry that clearly answers it.
    clearly_best = max(meaning.values()) - NAME_OVERRIDE_MARGIN
    for hit in hits:
        hit.score = 0.0
        hit.name_hit = hit.name_hit and meaning[hit.entry_id] >= clearly_best

    by_dense = sorted(hits, key=lambda h: -meaning[h.entry_id])
    by_lexical = sorted((h for h in hits if h.lexical > 0), key=lambda h: -h.lexical)
    for ranking, weight in ((by_dense, DENSE_WEIGHT), (by_lexical, LEXICAL_WEIGHT)):
        for rank, hit in enumerate(ranking):
            hit.score += weight / (RRF_C + rank + 1)
    for hit in hits:
        if hit.name_hit:
            hit.score += 1.0
        elif hit.entry_id in family:
            hit.score += FAMILY_BONUS if meaning[hit.entry_id] < clearly_best else FAMILY_WEIGHT
        if hit.entry_id in preferred:
            hit.score += PREFERRED_BONUS
    # BM25 ranks can reorder entries about equally close in meaning, not overturn a clear lead: "who will see my
    # contacts if I describe our needs here?" shares more words with the partner-search entry.
    if len(by_dense) > 1 and meaning[by_dense[0].entry_id] - meaning[by_dense[1].entry_id] >= CLEAR_LEAD:
        by_dense[0].score += CLEAR_LEAD_BONUS
    return sorted(hits, key=lambda h: -h.score)
