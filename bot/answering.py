"""Compose an answer from search results: the passage that answers, in the user's language, always with its source.

Nothing is generated: the answer quotes the knowledge base. When the entry has the user's language the same section
is quoted in that language; otherwise the English (or Ukrainian) text is quoted with a short localized note. When
search abstains, the reply is a fixed "not in my knowledge base" with an offer to ask the secretariat.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date
from babel.lists import format_list

from bot.i18n import _, current_language
from bot.reply import Block, Button, Citation, Reply
from retrieval.knowledge import Entry
from retrieval.search import EntryHit, SearchResult

ALSO_RELEVANT_MARGIN = 0.015  # another entry this close to the best one is listed too
MAX_ALSO_RELEVANT = 3


@dataclass(frozen=True)
class Quote:
    entry: Entry
    lang: str
    heading: str
    text: str


def fallback_languages(lang: str) -> tuple[str, ...]:
    """Languages to quote from when an entry lacks the user's: Ukrainian first for Cyrillic neighbours."""
    return ("uk", "en") if lang in {"uk", "ru", "be"} else ("en", "uk")


def quote_for(entry: Entry, section: int, lang: str) -> Quote:
    """The given section of an entry, in `lang` if the entry has it, else in the best fallback language."""
    for candidate in (lang, *fallback_languages(lang)):
        document = entry.documents.get(candidate)
        if document is not None:
            chosen = document.sections[min(section, len(document.sections) - 1)]
            return Quote(entry, candidate, chosen.heading, chosen.text)
    raise LookupError(entry.id)  # unreachable: en and uk are required by the loader


def citation(entry: Entry, lang: str) -> Citation:
    return Citation(entry.id, entry.title(lang), entry.url, entry.meta.verified.isoformat())


def source_block(entry: Entry, lang: str) -> Block:
    verified = format_date(entry.meta.verified, format="medium", locale=lang)
    # I18N: {title} is a programme name, {date} the date its facts were last checked.
    text = _("Source: {title} (facts as verified on {date})").format(title=entry.title(lang), date=verified)
    return Block("source", text, url=entry.url)


def language_note(quote_lang: str) -> Block:
    from bot.i18n import language_name

    # I18N: {language} is the name of a language, e.g. "English".
    return Block("note", _("This part is available only in {language}.").format(
        language=language_name(quote_lang, current_language())))


def first_sentence(text: str, limit: int = 220) -> str:
    for end in (". ", "! ", "? ", "。"):
        cut = text.find(end)
        if 0 < cut < limit:
            return text[: cut + 1]
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def feedback_buttons(question_id: int | None) -> tuple[tuple[Button, ...], ...]:
    """👍 / 👎 under an answer that was recorded (none on the command line, where nothing is)."""
    if question_id is None:
        return ()
    return ((Button("👍", f"fb:up:{question_id}"), Button("👎", f"fb:down:{question_id}")),)


def best_section(hit: EntryHit) -> int:
    return hit.passages[0].section if hit.passages else 0


def not_found_reply(lang: str, question_id: int | None, unknown_names: tuple[str, ...] = ()) -> Reply:
    """"Not in my knowledge base", naming the programme asked about when we know we lack it (URBACT)."""
    buttons: tuple[tuple[Button, ...], ...] = ()
    if question_id is not None:
        buttons = ((Button(_("Ask the secretariat"), f"handoff:{question_id}"),),)
    if unknown_names:
        # I18N: {names} is one or more programme names the user asked about, e.g. "URBACT" or "URBACT and EBRD".
        first = _("I have no information about {names} in my knowledge base about EU–Ukraine municipal "
                  "partnerships and funding, and I do not want to guess.").format(
            names=format_list(list(dict.fromkeys(unknown_names)), locale=lang))
    else:
        first = _("I could not find this in my knowledge base about EU–Ukraine municipal partnerships "
                  "and funding, and I do not want to guess.")
    return Reply(
        lang,
        (
            Block("text", first),
            Block("text", _("I can pass your question to the secretariat of the European Partnership Hub, who will "
                            "answer in person. You can also rephrase it or name a programme.")),
        ),
        abstained=True,
        buttons=buttons,
        question_id=question_id,
    )


def compose_answer(
    result: SearchResult, entries: dict[str, Entry], lang: str, question_id: int | None = None
) -> Reply:
    """The reply for a search result, in `lang` (which must be the active gettext language)."""
    if result.abstained or not result.hits:
        return not_found_reply(lang, question_id, result.unknown_names)
    top = result.hits[0]
    top_entry = entries[top.entry_id]
    quote = quote_for(top_entry, best_section(top), lang)
    blocks: list[Block] = [Block("title", top_entry.title(lang))]
    if quote.lang != lang:
        blocks.append(language_note(quote.lang))
    blocks.append(Block("quote", quote.text))
    # A second section of the same entry that answers about as well (e.g. amounts next to eligibility).
    seen_sections = {best_section(top)}
    for passage in top.passages[1:]:
        if passage.section not in seen_sections and passage.cosine >= top.passages[0].cosine - 0.01:
            extra = quote_for(top_entry, passage.section, lang)
            blocks.append(Block("quote", extra.text))
            break
    cited = [top_entry]
    also = [
        hit for hit in result.hits[1:]
        if hit.name_hit or (not top.name_hit and hit.dense >= top.dense - ALSO_RELEVANT_MARGIN)
    ][:MAX_ALSO_RELEVANT]
    if also:
        blocks.append(Block("text", _("Also relevant:")))
        for hit in also:
            entry = entries[hit.entry_id]
            summary = quote_for(entry, best_section(hit), lang)
            blocks.append(Block("item", f"{entry.title(lang)}: {first_sentence(summary.text)}"))
            cited.append(entry)
    blocks.extend(source_block(entry, lang) for entry in cited)
    return Reply(
        lang,
        tuple(blocks),
        citations=tuple(citation(entry, lang) for entry in cited),
        buttons=feedback_buttons(question_id),
        question_id=question_id,
    )
