"""Eligibility questions: conditions recognized in many spellings, entries filtered on their structured facts."""

from __future__ import annotations

import pytest

from bot.eligibility import eligible, key_facts, list_of
from bot.gazetteer import find_filters
from bot.i18n import _, supported_languages, use_language


@pytest.mark.parametrize(
    ("question", "oblast"),
    [("Програми для громади у Львівській області", "lviv"), ("Львівщина, водопостачання", "lviv"),
     ("programy dla gminy ze Lwowa", "lviv"), ("hromada near Lviv", "lviv"), ("Lwów", "lviv"),
     ("громада на Закарпатті", "zakarpattia"), ("Czerniowce", "chernivtsi"), ("Одещина", "odesa"),
     ("Сумська громада", "sumy")],
)
def test_oblasts_in_many_spellings(question, oblast):
    assert oblast in find_filters(question).oblasts


def test_amounts_are_not_sumy():
    assert find_filters("Які суми грантів?").oblasts == ()


@pytest.mark.parametrize(
    ("question", "country"),
    [("for a German municipality", "DE"), ("німецька громада", "DE"), ("polska gmina", "PL"),
     ("eine Gemeinde in Österreich", "AT"), ("une commune française", "FR"), ("en svensk kommun", "SE"),
     ("tyske kommuner", "DE"), ("Vai Polijā", "PL"), ("egy magyar település", "HU"), ("o comună românească", "RO"),
     ("Saksan kunta", "DE"), ("μια γερμανική πόλη", "DE"), ("полска община", "PL")],
)
def test_countries_and_adjectives(question, country):
    assert country in find_filters(question).countries


def test_regional_programmes_follow_their_oblasts(runtime):
    entries = {e.id: e for e in runtime.entries}
    lviv = find_filters("програми для громади Львівської області")
    odesa = find_filters("програми для громади Одеської області")
    assert eligible(entries["interreg-next-pl-ua"], lviv) and not eligible(entries["interreg-next-pl-ua"], odesa)
    assert eligible(entries["interreg-next-ro-ua"], odesa) and not eligible(entries["interreg-next-ro-ua"], lviv)
    german = find_filters("funding for a German municipality")
    assert eligible(entries["nakopa"], german) and not eligible(entries["interreg-next-pl-ua"], german)


@pytest.mark.parametrize("question", ["Wir lenken das Projekt selbst", "policy for pools", "a Roman theatre"])
def test_common_words_are_not_countries(question):
    assert find_filters(question).countries == ()


def test_a_countrys_own_programmes_are_listed_first(assistant):
    reply = assistant.ask("Welche Förderprogramme gibt es für eine schwedische Kommune?")
    assert [c.id for c in reply.citations][:1] == ["polaris-sweden"]
    assert "interreg-next-pl-ua" not in {c.id for c in reply.citations}


def test_eligibility_question_lists_only_matching_programmes(assistant, user):
    reply = assistant.handle_text(user, "Які програми фінансування є для громади Львівської області?")
    ids = [c.id for c in reply.citations]
    assert reply.language == "uk" and len(ids) >= 2
    assert "interreg-next-pl-ua" in ids
    assert not {"interreg-next-ro-ua", "interreg-next-huskroua", "nakopa"} & set(ids)
    assert "Львівська область" in reply.plain_text()


@pytest.mark.parametrize(
    ("lang", "question"),
    [("pl", "Jakie programy finansowania są dla gminy z obwodu lwowskiego?"),
     ("de", "Welche Förderprogramme gibt es für eine Gemeinde in der Oblast Lwiw?")],
)
def test_the_oblast_is_named_in_the_language_of_the_reply(assistant, user, lang, question):
    reply = assistant.handle_text(user, question)
    with use_language(lang):
        label = _("Lviv oblast")
    assert reply.language == lang and label != "Lviv oblast"
    assert label in reply.plain_text()


def test_without_cofinancing_lists_only_full_funding(assistant, runtime):
    reply = assistant.ask("Which programmes fund projects without co-financing?")
    entries = {e.id: e for e in runtime.entries}
    for c in reply.citations:
        funding = entries[c.id].meta.funding
        assert funding.own_contribution_min == 0 or funding.max_cofinancing_rate == 1


def test_a_programme_we_do_not_cover_is_no_follow_up(assistant, user):
    assistant.handle_text(user, "Wer kann NAKOPA beantragen?")
    reply = assistant.handle_text(user, "Czy gmina może dostać pieniądze z URBACT?")
    assert reply.abstained and not reply.citations


def test_follow_up_question_stays_on_topic(assistant, user):
    first = assistant.handle_text(user, "Who can apply to NAKOPA?")
    follow = assistant.handle_text(user, "and what is the co-financing?")
    assert first.citations[0].id == follow.citations[0].id == "nakopa"
    assert "10%" in follow.plain_text()


@pytest.mark.parametrize("lang", supported_languages())
def test_facts_are_listed_in_every_language(runtime, lang):
    """Babel lacks the three-item "unit" list pattern for several languages: this once crashed German replies."""
    joined = list_of(["up to EUR 1", "covers 90%", "no size limit"], lang)
    assert all(part in joined for part in ("EUR 1", "90%", "no size limit"))
    entry = next(e for e in runtime.entries if e.meta.funding and e.meta.funding.max_cofinancing_rate)
    with use_language(lang):
        facts = key_facts(entry, lang)
    assert facts and str(entry.meta.verified.year) in facts


def test_follow_up_to_a_list_answers_for_each_programme_listed(assistant, user):
    listed = assistant.handle_text(user, "Які програми фінансують водопостачання для громади на Львівщині?")
    assert len(listed.citations) > 1
    follow = assistant.handle_text(user, "і яке співфінансування?")
    assert not follow.abstained
    # every programme of the list, in its order, not just the one that matches best
    assert [c.id for c in follow.citations] == [c.id for c in listed.citations]
    with use_language("uk"):
        assert follow.blocks[0].text == _("For each programme in my last list")
    assert any(b.kind == "note" and "%" in b.text for b in follow.blocks)  # the co-financing rates
    again = assistant.handle_text(user, "а хто може подати заявку?")  # the list stays the topic
    assert [c.id for c in again.citations] == [c.id for c in listed.citations]


def test_a_family_named_in_an_eligibility_question_limits_the_list_to_its_members(assistant):
    interreg = assistant.ask("Which Interreg programmes are open to a hromada in Lviv oblast?")
    assert interreg.citations and all(c.id.startswith("interreg-") for c in interreg.citations)
    assert interreg.citations[0].id == "interreg-next-pl-ua"
    # no BMZ programme fits "Ukraine" as the applicant's country: the BMZ programme that answers, not others' list
    bmz = assistant.ask("Welche BMZ-Förderung passt für ein Klimaprojekt mit unserer ukrainischen Partnerkommune?")
    assert bmz.citations[0].id == "nakopa"


def test_when_no_programme_fits_every_condition_it_says_so_then_gives_the_closest_answer(assistant):
    reply = assistant.ask("чи є гранти на ремонт школи для громади на Сумщині без співфінансування?")
    with use_language("uk"):
        no_match = _("No programme in my knowledge base matches all of these conditions: {conditions}.")
    assert reply.blocks[0].kind == "note"
    assert reply.blocks[0].text.startswith(no_match.split("{conditions}")[0])
    assert "Сумська область" in reply.blocks[0].text
    assert not reply.abstained and reply.citations  # not a dead end: the closest cited answer follows


def test_a_question_about_something_else_is_no_follow_up_and_keeps_the_topic(assistant, user):
    assistant.handle_text(user, "Хто може подаватися на NAKOPA?")
    aside = assistant.handle_text(user, "а як продовжити тимчасовий захист?")  # residence status: no entry answers it
    assert aside.abstained and not aside.citations
    follow = assistant.handle_text(user, "і яке співфінансування?")
    assert follow.citations[0].id == "nakopa"
