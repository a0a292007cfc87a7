"""Load and validate the knowledge base (`knowledge/entries/<id>/meta.yaml` + `<lang>.md`).

Every mistake is reported with the file and the field, so that whoever edits an entry can fix it without reading
this code. The loaded entries are plain frozen objects: the index and the eligibility filters read them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

REQUIRED_LANGUAGES = ("en", "uk")
EU_LANGUAGES = frozenset(
    "bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv uk".split()
)
APPLICANT_TYPES = frozenset(
    "local_authority regional_authority public_body association ngo sme research state individual".split()
)
SECTORS = frozenset(
    """water energy renewables waste environment climate health education social economy urban-planning governance
    civil-protection culture tourism youth idp-integration transport housing infrastructure digital humanitarian
    research""".split()
)
UA_OBLASTS = frozenset(
    """vinnytsia volyn dnipropetrovsk donetsk zhytomyr zakarpattia zaporizhzhia ivano-frankivsk kyiv kirovohrad
    luhansk lviv mykolaiv odesa poltava rivne sumy ternopil kharkiv kherson khmelnytskyi cherkasy chernivtsi
    chernihiv kyiv-city crimea""".split()
)
EU_MEMBER_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: 10k sample questions load 5x faster


def _load_yaml(path: Path) -> object:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader


class KnowledgeError(ValueError):
    """An entry of the knowledge base is malformed; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    url: HttpUrl
    title: str | None = None


class Deadline(_Strict):
    date: dt.date
    label: str


class Eligibility(_Strict):
    applicant_types: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    ua_oblasts: tuple[str, ...] = ()
    population_min: int | None = Field(default=None, ge=0)
    population_max: int | None = Field(default=None, ge=0)
    notes: str | None = None

    @field_validator("applicant_types")
    @classmethod
    def _known_applicants(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _only_known(value, APPLICANT_TYPES, "applicant type")

    @field_validator("ua_oblasts")
    @classmethod
    def _known_oblasts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _only_known(value, UA_OBLASTS, "oblast")

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [c for c in value if not re.fullmatch(r"[A-Z]{2}", c)]
        if bad:
            raise ValueError(f"not an ISO 3166 alpha-2 code (or EU): {', '.join(bad)}")
        return value


class Funding(_Strict):
    total_budget_eur: float | None = Field(default=None, ge=0)
    amount_min_eur: float | None = Field(default=None, ge=0)
    amount_max_eur: float | None = Field(default=None, ge=0)
    max_cofinancing_rate: float | None = Field(default=None, ge=0, le=1)
    own_contribution_min: float | None = Field(default=None, ge=0, le=1)
    notes: str | None = None


class Meta(_Strict):
    id: str
    kind: Literal["funding", "partnership", "platform", "how-to"]
    title: dict[str, str]
    programme: str
    aliases: tuple[str, ...] = ()
    sources: tuple[Source, ...] = Field(min_length=1)
    verified: dt.date
    funder: str | None = None
    member_states: tuple[str, ...] = ()  # a bilateral or cross-border programme's EU side: its funder or partners
    eligibility: Eligibility = Eligibility()
    funding: Funding | None = None
    deadlines: tuple[Deadline, ...] = ()
    sectors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ENTRY_ID.match(value):
            raise ValueError("use lowercase letters, digits and single hyphens")
        return value

    @field_validator("title")
    @classmethod
    def _titles(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in REQUIRED_LANGUAGES if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"a title is required in {', '.join(missing)}")
        return value

    @field_validator("sectors")
    @classmethod
    def _known_sectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _only_known(value, SECTORS, "sector")

    @field_validator("member_states")
    @classmethod
    def _member_states(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _only_known(value, EU_MEMBER_STATES, "EU member state code")

    @field_validator("verified")
    @classmethod
    def _not_in_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today():
            raise ValueError("the verified date lies in the future")
        return value


def _only_known(values: tuple[str, ...], allowed: frozenset[str], what: str) -> tuple[str, ...]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
    return values


@dataclass(frozen=True)
class Section:
    """One `##` section of a language file: the unit of search and of quoting."""

    heading: str
    text: str


@dataclass(frozen=True)
class Document:
    """One language version of an entry."""

    lang: str
    title: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Entry:
    meta: Meta
    documents: dict[str, Document] = field(default_factory=dict)
    questions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # by language: questions it answers

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def url(self) -> str:
        return str(self.meta.sources[0].url)

    def title(self, lang: str) -> str:
        """The display title: meta.yaml's, else the language file's own `#` line, else English."""
        if lang in self.meta.title:
            return self.meta.title[lang]
        document = self.documents.get(lang)
        return document.title if document else self.meta.title["en"]


def parse_markdown(text: str, path: Path) -> tuple[str, tuple[Section, ...]]:
    """Split a language file into its `#` title and `##` sections (heading kept with its text)."""
    title = ""
    sections: list[Section] = []
    heading: str | None = None
    body: list[str] = []

    def flush() -> None:
        if heading is not None:
            content = "\n".join(body).strip()
            if not content:
                raise KnowledgeError(f"{path}: section '{heading}' is empty")
            sections.append(Section(heading, content))

    for line in text.splitlines():
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            flush()
            heading, body = line[3:].strip(), []
        elif heading is not None:
            body.append(line)
        elif line.strip():
            raise KnowledgeError(f"{path}: text before the first '## ' section")
    flush()
    if not title:
        raise KnowledgeError(f"{path}: missing the '# Title' line")
    if not sections:
        raise KnowledgeError(f"{path}: no '## ' sections")
    return title, tuple(sections)


def load_entry(folder: Path) -> Entry:
    """Load one entry folder, raising KnowledgeError that names the file and field on any problem."""
    meta_path = folder / "meta.yaml"
    if not meta_path.is_file():
        raise KnowledgeError(f"{meta_path}: missing")
    try:
        raw = _load_yaml(meta_path)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{meta_path}: not valid YAML: {exc}") from exc
    except ValueError as exc:  # PyYAML raises it for impossible dates such as 2025-13-45
        raise KnowledgeError(f"{meta_path}: a date is invalid (field 'verified' or a deadline): {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{meta_path}: expected a mapping of fields")
    try:
        meta = Meta.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc']) or '(root)'}': {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeError(f"{meta_path}: {problems}") from exc
    if meta.id != folder.name:
        raise KnowledgeError(f"{meta_path}: field 'id' is '{meta.id}' but the folder is '{folder.name}'")
    documents: dict[str, Document] = {}
    for md_path in sorted(folder.glob("*.md")):
        lang = md_path.stem
        if lang not in EU_LANGUAGES:
            raise KnowledgeError(f"{md_path}: '{lang}' is not a supported language code")
        title, sections = parse_markdown(md_path.read_text(encoding="utf-8"), md_path)
        documents[lang] = Document(lang, title, sections)
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in documents]
    if missing:
        raise KnowledgeError(f"{folder}: missing {', '.join(f'{m}.md' for m in missing)}")
    expected = len(documents["en"].sections)
    for lang, document in documents.items():
        if len(document.sections) != expected:
            raise KnowledgeError(
                f"{folder / (lang + '.md')}: {len(document.sections)} sections, but en.md has {expected};"
                " every language file has the same sections in the same order"
            )
    return Entry(meta, documents, load_questions(folder / "questions.yaml"))


def _yaml_mapping(path: Path, what: str) -> dict:
    """An optional YAML file holding a mapping (empty when the file is absent); errors name the file."""
    if not path.is_file():
        return {}
    try:
        raw = _load_yaml(path)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise KnowledgeError(f"{path}: expected a mapping of {what}")
    return raw


def _string_lists(raw: dict, where: str, items: str) -> dict[str, tuple[str, ...]]:
    """Keys to lists of non-empty strings, stripped; errors name the place and the key."""
    lists: dict[str, tuple[str, ...]] = {}
    for key, values in raw.items():
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise KnowledgeError(f"{where}: field '{key}' must be a list of non-empty {items}")
        lists[str(key)] = tuple(v.strip() for v in values)
    return lists


def _lists_by_key(path: Path, keys: str, items: str) -> dict[str, tuple[str, ...]]:
    """An optional YAML file mapping keys to lists of non-empty strings; errors name the file and the key."""
    return _string_lists(_yaml_mapping(path, f"{keys} to lists of {items}"), str(path), items)


def load_questions(path: Path) -> dict[str, tuple[str, ...]]:
    """The optional `questions.yaml`: questions users ask that this entry answers, as lists by language.

    They are matched question to question (doc2query): the way people ask, which passages written as facts miss.
    """
    questions = _lists_by_key(path, "language codes", "questions")
    for lang in questions:
        if lang not in EU_LANGUAGES:
            raise KnowledgeError(f"{path}: '{lang}' is not a supported language code")
    return questions


def load_knowledge(root: Path) -> list[Entry]:
    """Load every entry under `root/entries`, sorted by id."""
    entries_dir = root / "entries"
    if not entries_dir.is_dir():
        raise KnowledgeError(f"{entries_dir}: no entries folder")
    entries = [load_entry(folder) for folder in sorted(entries_dir.iterdir()) if folder.is_dir()]
    if not entries:
        raise KnowledgeError(f"{entries_dir}: no entries")
    return entries


def load_not_covered(root: Path) -> dict[str, tuple[str, ...]]:
    """`not_covered/*.yaml`: names of programmes and bodies we have no entry for, by a key of our own (see the
    folder's README)."""
    names: dict[str, tuple[str, ...]] = {}
    for path in sorted((root / "not_covered").glob("*.yaml")):
        lists = _lists_by_key(path, "keys", "names")
        if twice := sorted(set(names) & set(lists)):
            raise KnowledgeError(f"{path}: keys already listed in another file: {', '.join(twice)}")
        names.update(lists)
    return names


OUT_OF_SCOPE_FILE = "out_of_scope.yaml"


def load_out_of_scope(root: Path) -> dict[str, dict[str, tuple[str, ...]]]:
    """`out_of_scope.yaml`: questions our users ask that no entry is meant to answer (residence permits, visas,
    diplomas...), by topic and language. They are negative examples: a question closer to them than to any entry's
    sample question is not answered with the nearest entry."""
    path = root / OUT_OF_SCOPE_FILE
    topics: dict[str, dict[str, tuple[str, ...]]] = {}
    for topic, by_language in _yaml_mapping(path, "topics to questions by language").items():
        if not isinstance(by_language, dict):
            raise KnowledgeError(f"{path}: topic '{topic}' must map language codes to lists of questions")
        topics[str(topic)] = _string_lists(by_language, f"{path}: topic '{topic}'", "questions")
        for lang in topics[str(topic)]:
            if lang not in EU_LANGUAGES:
                raise KnowledgeError(f"{path}: topic '{topic}': '{lang}' is not a supported language code")
    return topics


def texts_by_language(entries: Iterable[Entry]) -> dict[str, list[str]]:
    """Every section text of the knowledge base, grouped by language: a corpus of known language."""
    texts: dict[str, list[str]] = {}
    for entry in entries:
        for lang, document in entry.documents.items():
            texts.setdefault(lang, []).extend(section.text for section in document.sections)
    return texts


def content_hash(root: Path) -> str:
    """Hash of every indexed file's path and bytes (entries, out-of-scope questions): the index manifest uses it to
    detect a stale index."""
    digest = hashlib.sha256()
    for path in [*sorted((root / "entries").rglob("*")), root / OUT_OF_SCOPE_FILE]:
        if path.is_file() and path.suffix in {".md", ".yaml"}:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()
