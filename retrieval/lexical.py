"""Lexical ranking: BM25 over passages, and exact programme names and acronyms.

Dense retrieval is good at meaning across languages but weak at rare names ("HUSKROUA", "NAKOPA", "Lwów"). This
module normalizes text the same way on both sides (case, diacritics, apostrophes, word prefixes so that inflected
Ukrainian, Polish or German forms meet), ranks passages with BM25, and finds entries whose name or alias the query
spells out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

import bm25s
import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
_APOSTROPHES = dict.fromkeys(map(ord, "'’ʼ`´"), None)
STEM_CHARS = 6  # crude but language-neutral: "Львівщина"/"Львівської" and "Förderung"/"Förderungen" meet


def without_diacritics(text: str) -> str:
    """"Kdo může žádat?" as typed on a phone without a Czech keyboard: "Kdo muze zadat?"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Casefold and strip diacritics and apostrophes: 'Lwów' -> 'lwow', 'Пліч-о-пліч' -> 'пліч-о-пліч'."""
    return without_diacritics(text.translate(_APOSTROPHES)).casefold()


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(text: str) -> list[str]:
    return [w[:STEM_CHARS] for w in words(text)]


class PassageBM25:
    """BM25 (Lucene's variant, bm25s's sparse index) over passage texts; `scores` gives one score per passage, in the
    order they were given. Sparse scoring keeps a question at a few microseconds however many languages the
    knowledge base grows to."""

    def __init__(self, texts: Iterable[str]) -> None:
        corpus = [stems(t) or ["\u2205"] for t in texts]
        self._size = len(corpus)
        self._bm25 = bm25s.BM25(method="lucene")
        self._bm25.index(corpus, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        tokens = stems(query)
        if not tokens:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


_TRAILING_YEARS = re.compile(r"[\s,(]*\d{4}\s*[–—-]\s*\d{4}\)?\s*$")


def without_years(name: str) -> str:
    """"Interreg NEXT Polska–Ukraina 2021–2027" is also named without its programming period."""
    return _TRAILING_YEARS.sub("", name)


INFLECTED_NAME_MIN = 5  # a name's word this long may carry a case ending; shorter ones ("LIFE", "EIB") may not
MAX_ENDING = 3  # letters: Polish "Interregu", Czech "Erasmusem", Finnish "Interregiin" stop here


class NameMatcher:
    """Finds entries whose programme name or alias appears in a query as whole words.

    Only aliases spelled like names count (a capital letter or a digit somewhere: "Bridges of Trust", "M4EG",
    "Пліч-о-пліч"); lowercase phrases such as "study visit" are topics, left to the rankers. Short all-caps
    acronyms (LIFE, EIB, CEB) must appear in capitals, so that "quality of life" does not name the LIFE programme;
    longer names match in any case and with or without diacritics.
    """

    def __init__(self, names_by_entry: dict[str, Iterable[str]]) -> None:
        self._exact: list[tuple[str, str]] = []
        self._by_first: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # names by their first word
        self._families: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {}  # "CERV", "Interreg": their entries
        names_by_entry = {entry_id: [*names, *map(without_years, names)] for entry_id, names in names_by_entry.items()}
        owners: dict[tuple[str, ...], set[str]] = {}
        for entry_id, names in names_by_entry.items():
            for name in names:
                owners.setdefault(tuple(words(name)), set()).add(entry_id)
        for entry_id, names in names_by_entry.items():
            for name in names:
                tokens = tuple(words(name))
                if not any(c.isupper() or c.isdigit() for c in name):
                    continue
                if not tokens or (len(tokens) == 1 and len(tokens[0]) < 3):
                    continue
                if self._ambiguous(tokens, entry_id, owners):
                    members = {e for name_, ids in owners.items() if set(tokens) <= set(name_) for e in ids}
                    self._families[tokens] = (name, frozenset(members))
                    continue
                if len(tokens) == 1 and name.isupper() and len(name) <= 4:
                    self._exact.append((name, entry_id))
                else:
                    self._by_first.setdefault(tokens[0], []).append((tokens, entry_id))
        self._name_words = {t for tokens in [*self._families, *(n for ns in self._by_first.values() for n, _ in ns)]
                            for t in tokens if len(t) >= INFLECTED_NAME_MIN}

    def _words(self, query: str) -> list[str]:
        """The query's words, a name's word with a case ending given back as the name's ("Interregu",
        "Erasmusem" are Polish and Czech forms of Interreg, Erasmus)."""
        return [self._name_word(token) for token in words(query)]

    def _name_word(self, token: str) -> str:
        if token in self._name_words:
            return token
        for cut in range(1, MAX_ENDING + 1):
            if len(token) - cut >= INFLECTED_NAME_MIN and token[:-cut] in self._name_words:
                return token[:-cut]
        return token

    @staticmethod
    def _ambiguous(tokens: tuple[str, ...], owner: str, owners: dict[tuple[str, ...], set[str]]) -> bool:
        """"CERV" or "SKEW" names several entries exactly; a one-word family name such as "Interreg" is part of
        several other entries' names. Either way it is the exact name of none of them."""
        if len(owners[tokens]) > 1:
            return True
        if len(tokens) > 1:
            return False
        containing = {e for name, ids in owners.items() if tokens[0] in name for e in ids} - {owner}
        return len(containing) > 1

    def family(self, query: str) -> set[str]:
        """Entries of a family the query names ("CERV", "SKEW", "Interreg"): one of them is probably meant."""
        raw = set(_WORD.findall(query))
        tokens = self._words(query)
        found: set[str] = set()
        for family_tokens, (name, members) in self._families.items():
            if len(family_tokens) == 1 and len(name) <= 4:  # short ones as spelled: "BoT", not the word "bot"
                if name in raw:
                    found |= members
            elif any(tuple(tokens[i : i + len(family_tokens)]) == family_tokens for i in range(len(tokens))):
                found |= members
        return found

    def matches(self, query: str) -> set[str]:
        """Entries named in the query; a name inside a longer one found there does not count ("European
        Partnership Hub" in "European Partnership Hub secretariat" names only the secretariat's entry)."""
        raw = set(_WORD.findall(query))
        tokens = self._words(query)
        found = {entry_id for name, entry_id in self._exact if name in raw}
        spans = [
            (i, i + len(name), entry_id)
            for i, token in enumerate(tokens)
            for name, entry_id in self._by_first.get(token, ())
            if tuple(tokens[i : i + len(name)]) == name
        ]
        for start, end, entry_id in spans:
            if not any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans):
                found.add(entry_id)
        return found


_UPPER = r"[^\W\d_a-zà-ÿа-яіїєґα-ω]"
# "URBACT", "NFOŚiGW", "SlovakAid", also with a case ending after a hyphen: Croatian "FZOEU-a", Polish "EBRD-u"
_ACRONYM_LIKE = re.compile(
    rf"(?<![\w-])({_UPPER}{{3,}}|{_UPPER}{{2,}}[a-z]{_UPPER}{{2,}}|[A-Z][a-z]+[A-Z]\w*)(?:-\w{{1,4}})?(?![\w-])"
)


# Acronyms of everyday administration, law and office life in our users' languages: not programme names.
GENERIC_ACRONYMS = frozenset("""
    ОТГ ТГ ОМС ЦНАП ОДА ОВА РДА РВА ТОВ ФОП ПП КП КНП ОСББ ЖКГ ЖКП МВС ДСНС ЗСУ КМУ ВРУ ЄС ЗМІ ПДФО ПДВ ЄДРПОУ ГО НУО
    ВПО ДТП ПКД ПКМУ МСП ТОР
    GmbH AG KG eV DSGVO BGB HGB KMU GWB EStG
    JST UE RP PL USA NGO NGOs SME SMEs PDF DOC DOCX XLS CSV URL FAQ CEO CFO HR IT ICT GIS GPS LED PPP ESCO VAT GDP GDPR
    RFP ToR MoU CV IBAN BIC SWIFT COVID AI API SMS PR TV NB PS OK ASAP ETA
    PME PMI ONG ONLUS ASBL VZW PYME SA SARL SRL SPA SL BV NV AB AS OY OÜ SIA UAB DOO DD KFT ZRT BT EOOD OOD
    EU EUR UAH USD PLN CZK HUF RON SEK DKK BGN
""".split())


class UnknownAcronyms:
    """Acronyms and CamelCase names in a query that the knowledge base never uses: URBACT, EBRD, SlovakAid.

    A question about a programme or body we have no entry for must get "not in my knowledge base", not the
    nearest entry we do have. Words the knowledge base uses in any case do not count, so a question typed in
    capitals ("WHO CAN APPLY") or a stressed word ("NOT") is not mistaken for a name; nor do the acronyms of
    everyday administration (ОТГ, ЦНАП, GmbH, JST, PDF).
    """

    def __init__(self, texts: Iterable[str]) -> None:
        self._known: set[str] = set()
        self.known_words: set[str] = set()  # every word of the texts, casefolded
        for text in texts:
            self._known.update(_ACRONYM_LIKE.findall(text))
            self.known_words.update(word.casefold() for word in _WORD.findall(text))

    def find(self, query: str) -> list[str]:
        return [
            token for token in _ACRONYM_LIKE.findall(query)
            if token not in self._known and token not in GENERIC_ACRONYMS and token.casefold() not in self.known_words
        ]


# Word beginnings (folded) of the kinds of body that give out money or run programmes, in our users' languages.
# They also end compounds ("Ukrainefond"), and six letters or more may sit inside one ("ministerineuvosto").
INSTITUTION_WORDS = tuple("""
    fund fond fonds fundusz fondo fundo fonden rahasto alap fondul sklad fondas fondi ταμει фонд фондъ
    fundac fondaz foundat stiftung stiftelse saatio saatiо sihtasutus nadac nadaci alapitvany fundati фундац ιδρυμ
    program ohjelm програм προγραμμ
    agenc agentur agencj agenzi агентств агенци virasto ugynokseg amet αγεντ οργανισμ
    institu інститут институт ινστιτουτ laitos
    bank banc banca banco банк pankki pank τραπεζ
    council conseil consiglio consejo conselho raad neuvosto noukogu tanacs συμβουλ съвет padome taryba vijec
    consiliu
    minist міністер министер υπουργ
    facility fazilit mechanism mechanizm initiativ iniciativ ініціатив инициатив πρωτοβουλ
    interreg
""".split())
_SENTENCE_END = re.compile(r"[.!?:;\n]\s*$")
CAPITALIZED_NOUNS = {"de"}  # languages that capitalize every noun: capitals do not mark names there


class UnknownInstitutions:
    """Names of funds, programmes, agencies or banks the knowledge base never mentions, spelled out in words:
    "Bethlen Gábor Alap", "Danmarks Ukrainefond", "programu Interreg Srednja Evropa".

    A name is a run of capitalized words with an institution word in it or beside it, and at least one of
    its capitalized words (not the first of a sentence, nor a plain institution word) appears nowhere in the
    knowledge base. Names made of known words only ("Národní rozvojová banka") are not found. A place alone ("a
    town in the Achterhoek") has no institution word. German capitalizes every noun, so capitals mark no names
    there ("EU-Förderprogramme Wasserversorgung"): German questions are left to the other rules.
    """

    def __init__(self, known_words: Iterable[str]) -> None:
        """`known_words`: the knowledge base's words, split as queries are (UnknownAcronyms.known_words)."""
        self._vocabulary = {fold(word) for word in known_words}

    @staticmethod
    def _institution(word: str) -> bool:
        return any(
            word.startswith(stem) or word.endswith(stem) or (len(stem) >= STEM_CHARS and stem in word)
            for stem in INSTITUTION_WORDS
        )

    @staticmethod
    def _compound(word: str) -> bool:
        """An institution word with a name of its own in front ("Deutsche Bundesstiftung Umwelt", "Danmarks
        Ukrainefond"); within a longer name only, as German makes such words of common nouns ("Förderprogramm")."""
        return not any(word.startswith(stem) for stem in INSTITUTION_WORDS)

    def find(self, query: str, lang: str | None = None) -> list[str]:
        if lang in CAPITALIZED_NOUNS:
            return []
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(query)]
        folded = [fold(token) for token, _, _ in tokens]
        found: list[str] = []
        i = 0
        while i < len(tokens):
            if not tokens[i][0][:1].isupper():
                i += 1
                continue
            end = i
            while (end + 1 < len(tokens) and tokens[end + 1][0][:1].isupper()
                   and not query[tokens[end][2] : tokens[end + 1][1]].strip(" -–")):  # not across punctuation
                end += 1
            found += self._name_in_run(query, tokens, folded, i, end)
            i = end + 1
        return found

    def _name_in_run(
        self, query: str, tokens: list[tuple[str, int, int]], folded: list[str], first: int, last: int
    ) -> list[str]:
        """The name that capitalized words first..last spell with the institution word in or beside them, if
        one of them is unknown; shown from its first word that does not open a sentence, to its institution word
        ("Česká rozvojová agentura")."""
        def starts_sentence(n: int) -> bool:
            return not tokens[n][1] or bool(_SENTENCE_END.search(query[: tokens[n][1]]))

        def lowercase_institution(n: int) -> bool:
            return tokens[n][0][:1].islower() and self._institution(folded[n])

        inner = [n for n in range(first, last + 1) if not starts_sentence(n)]
        unknown = any(
            folded[n] not in self._vocabulary
            and (not self._institution(folded[n]) or (len(inner) > 1 and self._compound(folded[n])))
            for n in inner
        )
        if not unknown:
            return []
        inside = any(self._institution(folded[n]) for n in range(first, last + 1))
        after = []
        for n in range(last + 1, min(last + 3, len(tokens))):
            if not tokens[n][0][:1].islower() or query[tokens[n - 1][2] : tokens[n][1]].strip():
                break  # a name of its own ("Tarnopola w Interregu"), or punctuation: "Norway Grants (fondi"
            if lowercase_institution(n):
                after = [n]
                break
        before = first > 0 and lowercase_institution(first - 1)
        if not (inside or after or before):
            return []
        head = first + 1 if starts_sentence(first) and last > first else first
        tail = max([last, *after])
        return [query[tokens[head][1] : tokens[tail][2]]]


class PhraseMatcher:
    """Finds multi-word names in a query by the beginnings of their words, so that case endings meet:
    "Kreatywna Europa" / "Kreatywnej Europy", "Visegrádský fond" / "Visegrádského fondu". A word of the name
    keeps at most its first six letters and drops its last one when longer than four; a one-word name is
    matched whole ("Weltbank"), as its beginning alone would be other words' too ("wereldwijd")."""

    def __init__(self, names_by_key: dict[str, Iterable[str]]) -> None:
        self._by_start: dict[str, list[tuple[tuple[str, ...], str]]] = {}  # by the first 3 letters
        for key, names in names_by_key.items():
            for name in names:
                tokens = words(name)
                if len(tokens) > 1:
                    tokens = [t[: min(STEM_CHARS, len(t) - 1)] if len(t) > 4 else t for t in tokens]
                if tokens:
                    self._by_start.setdefault(tokens[0][:3], []).append((tuple(tokens), key))

    def _found(self, tokens: list[str]) -> Iterator[tuple[str, int, int]]:
        """(key, first token, end token) of each name among folded tokens; a key once, where first found."""
        seen: set[str] = set()
        for i, token in enumerate(tokens):
            for name, key in self._by_start.get(token[:3], ()):
                span = tokens[i : i + len(name)]
                if key in seen or len(span) < len(name):
                    continue
                whole = len(name) == 1
                if (span == list(name)) if whole else all(t.startswith(n) for t, n in zip(span, name)):
                    seen.add(key)
                    yield key, i, i + len(name)

    def matches(self, query: str) -> dict[str, str]:
        """Keys of the names found, each with the words of the query that named it."""
        original = _WORD.findall(query)
        return {key: " ".join(original[start:end]) for key, start, end in self._found(words(query))}

    def without_names(self, query: str) -> str:
        """The query with the names found blanked out: "Interreg Europa Środkowa", a programme we do not cover, must
        not name the covered "Interreg Europa" written inside it."""
        text = query.translate(_APOSTROPHES)
        found = list(_WORD.finditer(text))
        for _key, start, end in self._found([fold(m.group()) for m in found]):
            text = text[: found[start].start()] + " " * (found[end - 1].end() - found[start].start()) + text[
                found[end - 1].end():]
        return text
