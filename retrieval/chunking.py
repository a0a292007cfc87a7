"""Turn knowledge entries into search passages.

A passage is one `##` section in one language, with the entry title and the section heading kept in front of its
text, so that "Who can apply" is never separated from the programme it belongs to. Sections longer than the
model's comfortable length are split on paragraph and sentence boundaries, the heading repeated on every piece.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from retrieval.knowledge import Entry
from retrieval.lexical import without_diacritics

QUESTION = "question"  # metadata role of a sample question row
OUT_OF_SCOPE = "out-of-scope"  # metadata role (and entry id) of a question no entry is meant to answer
NON_LATIN_LANGUAGES = frozenset({"uk", "bg", "el"})
PLAIN_SUFFIX = "/plain"  # chunk id suffix of a sample question's copy without diacritics
MAX_PASSAGE_CHARS = 1400  # about 350 tokens: well inside e5's 512-token window, prefix and title included

_splitter = RecursiveCharacterTextSplitter(
    chunk_size=MAX_PASSAGE_CHARS, chunk_overlap=150, separators=["\n\n", "\n", ". ", "; ", ", ", " "]
)


def passage_text(title: str, heading: str, text: str) -> str:
    """What gets embedded and ranked: title and heading with the text they belong to."""
    return f"{title}. {heading}\n{text}"


def entry_documents(entry: Entry) -> list[Document]:
    """Every passage of one entry, in every language, with citation metadata on each."""
    documents = []
    for lang, doc in sorted(entry.documents.items()):
        for index, section in enumerate(doc.sections):
            pieces = [section.text] if len(section.text) <= MAX_PASSAGE_CHARS else _splitter.split_text(section.text)
            for piece_no, piece in enumerate(pieces):
                chunk_id = f"{entry.id}/{lang}/{index}/{piece_no}"
                documents.append(
                    Document(
                        id=chunk_id,
                        page_content=passage_text(doc.title, section.heading, piece),
                        metadata={
                            "chunk_id": chunk_id,
                            "entry_id": entry.id,
                            "lang": lang,
                            "section": index,
                            "piece": piece_no,
                            "title": doc.title,
                            "heading": section.heading,
                            "text": piece,
                            "kind": entry.meta.kind,
                        },
                    )
                )
    return documents


def name_card(entry: Entry) -> Document:
    """A passage made of the entry's names in every language: matches questions that only name the programme.

    It quotes as the entry's first section ("In short").
    """
    names = dict.fromkeys([entry.meta.programme, *entry.meta.title.values(), *entry.meta.aliases])
    first = entry.documents["en"].sections[0]
    chunk_id = f"{entry.id}/names/0/0"
    return Document(
        id=chunk_id,
        page_content=" · ".join(names),
        metadata={"chunk_id": chunk_id, "entry_id": entry.id, "lang": "names", "section": 0, "piece": 0,
                  "title": entry.title("en"), "heading": first.heading, "text": first.text, "kind": entry.meta.kind},
    )


def question_documents(entry: Entry) -> list[Document]:
    """The entry's sample questions, one per row, embedded as queries: they rank entries and are never quoted.

    Latin-script questions with diacritics also get a row without them: people on phones often type that way, and
    the embedding model puts "muze" far from "může"."""
    documents = []
    for lang, questions in sorted(entry.questions.items()):
        for number, question in enumerate(questions):
            plain = without_diacritics(question)
            variants = [("", question)]
            if plain != question and lang not in NON_LATIN_LANGUAGES:
                variants.append((PLAIN_SUFFIX, plain))
            for suffix, text in variants:
                chunk_id = f"{entry.id}/questions/{lang}/{number}{suffix}"
                documents.append(Document(
                    id=chunk_id,
                    page_content=text,
                    metadata={"chunk_id": chunk_id, "entry_id": entry.id, "lang": lang, "role": QUESTION,
                              "kind": entry.meta.kind},
                ))
    return documents


def out_of_scope_documents(topics: Mapping[str, Mapping[str, Iterable[str]]]) -> list[Document]:
    """Questions no entry is meant to answer, one per row, embedded as queries like the sample questions."""
    return [
        Document(
            id=f"{OUT_OF_SCOPE}/{topic}/{lang}/{number}",
            page_content=question,
            metadata={"chunk_id": f"{OUT_OF_SCOPE}/{topic}/{lang}/{number}", "entry_id": OUT_OF_SCOPE, "lang": lang,
                      "role": OUT_OF_SCOPE, "topic": topic},
        )
        for topic, by_language in sorted(topics.items())
        for lang, questions in sorted(by_language.items())
        for number, question in enumerate(questions)
    ]


def embedding_prompt(document: Document) -> str:
    """How a row is embedded: questions (sample and out-of-scope) as queries, since question to question matches
    best for e5; the rest as passages."""
    return "query" if document.metadata.get("role") in {QUESTION, OUT_OF_SCOPE} else "passage"


def knowledge_documents(
    entries: list[Entry], out_of_scope: Mapping[str, Mapping[str, Iterable[str]]] | None = None
) -> list[Document]:
    return [
        document
        for entry in entries
        for document in (*entry_documents(entry), name_card(entry), *question_documents(entry))
    ] + out_of_scope_documents(out_of_scope or {})
