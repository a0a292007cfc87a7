"""Eligibility questions: "programmes for a hromada in Lviv oblast", "for a German municipality", "for water
projects", "without co-financing". The conditions found in the question filter the entries on their structured
facts (meta.yaml); semantic search then orders what is left, and the reply lists them briefly, each with its source.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_currency, format_percent

from bot.answering import best_section, citation, feedback_buttons, first_sentence, quote_for, source_block
from bot.gazetteer import Filters
from bot.i18n import N_, _
from bot.reply import Block, Reply
from retrieval.knowledge import EU_MEMBER_STATES, Entry
from retrieval.lexical import fold
from retrieval.search import Searcher, SearchResult

MAX_LISTED = 6
LISTED_KINDS = frozenset({"funding", "partnership"})
_INTENT = re.compile(
    r"(?<!\w)(program|програм|fund|фонд|фінанс|financ|finanz|grant|грант|förder|forder|money|грош|кошт|apply|подава|"
    r"подати|eligib|dotac|dofinans|subvenc|support|підтрим|wsparc|unterstütz|unterstutz|can we get|що можемо|"
    r"можемо отримати|куди|ayuda|aide|sostegn|finanțare|finantare|financování|dotaci)",
)
# I18N: Ukrainian oblasts in the title of an eligibility list ("Programmes for: Lviv oblast")
OBLAST_LABELS = {
    "vinnytsia": N_("Vinnytsia oblast"),
    "volyn": N_("Volyn oblast"),
    "dnipropetrovsk": N_("Dnipropetrovsk oblast"),
    "donetsk": N_("Donetsk oblast"),
    "zhytomyr": N_("Zhytomyr oblast"),
    "zakarpattia": N_("Zakarpattia oblast"),
    "zaporizhzhia": N_("Zaporizhzhia oblast"),
    "ivano-frankivsk": N_("Ivano-Frankivsk oblast"),
    "kyiv": N_("Kyiv oblast"),
    "kirovohrad": N_("Kirovohrad oblast"),
    "luhansk": N_("Luhansk oblast"),
    "lviv": N_("Lviv oblast"),
    "mykolaiv": N_("Mykolaiv oblast"),
    "odesa": N_("Odesa oblast"),
    "poltava": N_("Poltava oblast"),
    "rivne": N_("Rivne oblast"),
    "sumy": N_("Sumy oblast"),
    "ternopil": N_("Ternopil oblast"),
    "kharkiv": N_("Kharkiv oblast"),
    "kherson": N_("Kherson oblast"),
    "khmelnytskyi": N_("Khmelnytskyi oblast"),
    "cherkasy": N_("Cherkasy oblast"),
    "chernivtsi": N_("Chernivtsi oblast"),
    "chernihiv": N_("Chernihiv oblast"),
    "kyiv-city": N_("Kyiv"),
    "crimea": N_("Crimea"),
}
SECTOR_LABELS = {
    "water": N_("water and sanitation"), "energy": N_("energy and heating"), "renewables": N_("renewable energy"),
    "waste": N_("waste"), "health": N_("health"), "education": N_("education"), "social": N_("social services"),
    "economy": N_("local economy"), "climate": N_("climate"), "environment": N_("environment"),
    "housing": N_("housing"), "transport": N_("transport"), "culture": N_("culture"), "tourism": N_("tourism"),
    "youth": N_("youth"), "idp-integration": N_("integration of displaced people"),
    "civil-protection": N_("civil protection"),
}


def is_eligibility_question(question: str, filters: Filters, named: bool) -> bool:
    """A question that asks what one may apply for under conditions, rather than about one named programme."""
    if named or not filters:
        return False
    only_ukraine = filters.countries == ("UA",) and not (filters.oblasts or filters.sectors or filters.no_cofinancing)
    return not only_ukraine and bool(_INTENT.search(fold(question)))


def eligible(entry: Entry, filters: Filters) -> bool:
    """Whether an entry fits every condition a question states. A member state named in the question is the
    applicant's ("for a Polish gmina") or the programme's own ("a Polish programme"): either fits."""
    meta = entry.meta
    if meta.kind not in LISTED_KINDS:
        return False
    countries = set(meta.eligibility.countries)
    eu_side = set(filters.countries) & EU_MEMBER_STATES
    if eu_side:
        if countries and not (countries & eu_side or "EU" in countries or set(meta.member_states) & eu_side):
            return False
    elif filters.oblasts or "UA" in filters.countries:
        if countries and "UA" not in countries:
            return False
        regional = set(meta.eligibility.ua_oblasts)
        if filters.oblasts and regional and not regional & set(filters.oblasts):
            return False
    if filters.sectors and not set(meta.sectors) & set(filters.sectors):
        return False
    if filters.no_cofinancing:
        funding = meta.funding
        if funding is None or not (funding.own_contribution_min == 0 or funding.max_cofinancing_rate == 1):
            return False
    return True


def oblast_fit(entries: Iterable[Entry], filters: Filters) -> set[str]:
    """Regional programmes covering an oblast the question names: a hint for search as well as for lists."""
    oblasts = set(filters.oblasts)
    return {entry.id for entry in entries if oblasts & set(entry.meta.eligibility.ua_oblasts)}


def place_fit(entries: Iterable[Entry], filters: Filters) -> set[str]:
    """Entries tied to a place an eligibility question names: regional programmes of its oblast, and bilateral or
    cross-border programmes of its EU country ("for a German municipality").

    Search uses only `oblast_fit`: a country in a free question is as often the partner's or the funder's as the
    applicant's, and Germany alone has five programmes, so a country hint misled more answers than it helped
    (benchmarks/retrieval_quality.py: one gained, six lost).
    """
    countries = set(filters.countries)
    entries = list(entries)
    return oblast_fit(entries, filters) | {e.id for e in entries if countries & set(e.meta.member_states)}


def condition_labels(filters: Filters, lang: str) -> list[str]:
    labels = [_(OBLAST_LABELS[o]) for o in filters.oblasts]
    territories = Locale.parse(lang).territories
    labels += [territories.get(c, c) for c in filters.countries if c != "UA" or not filters.oblasts]
    labels += [_(SECTOR_LABELS[s]) for s in filters.sectors if s in SECTOR_LABELS]
    if filters.no_cofinancing:
        labels.append(_("no own contribution"))
    return labels


def euros(amount: float, lang: str) -> str:
    """€250,000 / 250.000 € / 250 000 €: the locale's currency pattern without cents."""
    pattern = Locale.parse(lang).currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    return format_currency(amount, "EUR", format=pattern, locale=lang, currency_digits=False)


def key_facts(entry: Entry, lang: str) -> str | None:
    """Amount and co-financing of an entry, with the date they were verified."""
    funding = entry.meta.funding
    if funding is None:
        return None
    facts = []
    if funding.amount_max_eur:
        amount = euros(funding.amount_max_eur, lang)
        facts.append(_("up to {amount} per project").format(amount=amount))
    if funding.own_contribution_min == 0:
        facts.append(_("no own contribution required"))
    elif funding.max_cofinancing_rate:
        facts.append(_("covers up to {rate} of costs").format(
            rate=format_percent(funding.max_cofinancing_rate, locale=lang)))
    if not facts:
        return None
    date = format_date(entry.meta.verified, format="medium", locale=lang)
    return _("{facts} (as verified on {date})").format(facts=list_of(facts, lang), date=date)


def list_of(items: list[str], lang: str) -> str:
    """"a, b, c" in the language's own style. Babel's CLDR data lacks the three-or-more "unit" pattern for several
    languages (de, es, cs, sv, ...), so those fall back to the standard list style."""
    try:
        return format_list(items, style="unit", locale=lang)
    except KeyError:
        return format_list(items, style="standard", locale=lang)


def eligible_entries(entries: Iterable[Entry], filters: Filters, within: set[str] | None = None) -> set[str]:
    """Ids of the entries that fit every condition of the question; only those `within`, when it names a family."""
    return {e.id for e in entries if eligible(e, filters) and (within is None or e.id in within)}


def conditions_text(filters: Filters, lang: str) -> str:
    """"Lviv oblast, Germany and water and sanitation": the conditions of an eligibility question, in `lang`."""
    return format_list(condition_labels(filters, lang), locale=lang)


def no_match_note(filters: Filters, lang: str) -> Block:
    """Said before the closest answer when no programme fits every condition of an eligibility question."""
    return Block("note", _("No programme in my knowledge base matches all of these conditions: {conditions}.")
                 .format(conditions=conditions_text(filters, lang)))


def programme_list_reply(
    title: str, listed: list[tuple[Entry, int]], lang: str, question_id: int | None, footer: tuple[Block, ...] = ()
) -> Reply:
    """A titled list of programmes, each (entry, section to quote) as one line with its amount and co-financing,
    then `footer`, then every programme's source: eligibility lists and the follow-ups to them."""
    blocks = [Block("title", title)]
    for entry, section in listed:
        blocks.append(Block("item", f"{entry.title(lang)}: {first_sentence(quote_for(entry, section, lang).text)}"))
        facts = key_facts(entry, lang)
        if facts:
            blocks.append(Block("note", facts))
    blocks.extend(footer)
    blocks.extend(source_block(entry, lang) for entry, _section in listed)
    return Reply(lang, tuple(blocks), tuple(citation(entry, lang) for entry, _section in listed),
                 feedback_buttons(question_id), question_id=question_id)


def eligibility_reply(
    question: str, filters: Filters, allowed: set[str], searcher: Searcher, lang: str, question_id: int | None
) -> Reply:
    """The `allowed` programmes (those fitting every condition of the question), ordered by place and meaning, one
    line each with amount, co-financing and source."""
    entries = searcher.entries
    result = searcher.search(question, lang=lang, k=len(allowed), allowed=allowed)
    # A programme written for the named oblast or country comes before the others, whatever the semantic order.
    regional = place_fit(entries.values(), filters)
    hits = sorted(result.hits, key=lambda h: h.entry_id not in regional)[:MAX_LISTED]
    more = len(allowed) > len(hits)
    return programme_list_reply(
        _("Programmes in my knowledge base for: {conditions}").format(conditions=conditions_text(filters, lang)),
        [(entries[hit.entry_id], 0) for hit in hits],  # each programme's summary
        lang,
        question_id,
        (Block("text", _("Ask about any of them by name for details.")),) if more else (),
    )


def list_follow_up_reply(
    result: SearchResult, listed: list[str], entries: dict[str, Entry], lang: str, question_id: int | None
) -> Reply:
    """A follow-up to a list ("and what is the co-financing?"), answered for each programme listed, in the list's
    order: the line of each that answers it best, its amount and co-financing, and its source."""
    hits = {hit.entry_id: hit for hit in result.hits}
    return programme_list_reply(
        _("For each programme in my last list"),
        [(entries[entry_id], best_section(hits[entry_id])) for entry_id in listed
         if entry_id in hits and entry_id in entries],
        lang,
        question_id,
    )
