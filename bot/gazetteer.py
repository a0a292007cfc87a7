"""Recognize oblasts, countries, sectors and "without co-financing" in a question, in the languages of our users.

Place names come in many spellings and cases ("Львівщина", "Львівської області", "Lviv", "Lwów", "Lemberg"), so
each is a list of word beginnings matched on folded text (lowercase, no diacritics) at a word boundary. Risky
beginnings are written out as whole words (Ukrainian "суми" also means "amounts", so Sumy needs "сумськ").
Country names come from CLDR (Babel) in every language the bot speaks, plus the adjectives people use
("німецька громада", "polska gmina", "a German municipality"): in all our languages for the countries that have
programmes of their own in the knowledge base (DE, PL, SE, RO, HU, SK), in the most used ones for the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale

from bot.i18n import supported_languages
from retrieval.knowledge import EU_MEMBER_STATES
from retrieval.lexical import fold

# word beginnings; a trailing "$" means the whole word
OBLASTS: dict[str, tuple[str, ...]] = {
    "vinnytsia": ("вінниц", "винниц", "vinnyts", "vinnits", "winnic", "winnyz"),
    "volyn": ("луцьк", "луцк", "lutsk", "volinia", "volhyn", "volinsk", "волин", "волын", "volyn", "wolyn", "wolhyn"),
    "dnipropetrovsk": ("дніпропетров", "днепропетров", "дніпровськ", "дніпро$", "dnipropetrovsk", "dnipro$",
                       "dniepropietrowsk", "dnipropetrowsk"),
    "donetsk": ("kramatorsk", "краматорськ", "донецьк", "донецк", "донеччин", "donetsk", "donezk", "donieck", "donbas", "донбас"),
    "zhytomyr": ("житомир", "zhytomyr", "zytomierz", "schytomyr", "zhitomir"),
    "zakarpattia": ("transcarpaz", "karpatalj", "mukachev", "мукачев", "закарпат", "zakarpat", "transcarpath", "zakarpac", "transkarpat", "uzhhorod", "ужгород"),
    "zaporizhzhia": ("запоріж", "запорож", "zaporizh", "zaporoz", "saporisch", "zaporizhzh"),
    "ivano-frankivsk": ("івано-франків", "франківщ", "прикарпат", "ивано-франков", "ivano-frankivsk",
                        "iwano-frankiwsk", "iwano-frankowsk", "ivano-frankovsk"),
    "kyiv": ("київщин", "київськ", "киевск", "kyiv oblast", "kyiv region", "kiewer", "obwod kijowski"),
    "kirovohrad": ("кіровоград", "кировоград", "кропивниц", "kirovohrad", "kropyvnyts", "kirowohrad"),
    "luhansk": ("луганськ", "луганщин", "луганск", "luhansk", "lugansk", "luhanska", "lugansk"),
    "lviv": ("leopoli", "leopolis", "lvova$", "lvove$", "львів", "львов", "lviv", "lwow", "lemberg", "lvov", "lwiw"),
    "mykolaiv": ("mykolaj", "mikolaiv", "миколаїв", "николаев", "mykolaiv", "mikolajow", "nikolaev", "mykolajiw"),
    "odesa": ("одес", "одещин", "odes", "odess"),
    "poltava": ("полтав", "poltav", "poltaw"),
    "rivne": ("рівне$", "рівного$", "рівненськ", "рівненщин", "ровно$", "rivne", "rowne", "riwne"),
    "sumy": ("сумськ", "сумщин", "sumy$", "сумы$"),
    "ternopil": ("тернопіл", "тернопол", "ternopil", "tarnopol", "ternopol"),
    "kharkiv": ("charkov", "харків", "харьков", "kharkiv", "charkiw", "charkow", "kharkov", "charkiv"),
    "kherson": ("herson", "херсон", "kherson", "cherson"),
    "khmelnytskyi": ("хмельниц", "khmelnyts", "chmielnick", "chmelnyzk", "khmelnits"),
    "cherkasy": ("черкас", "cherkas", "czerkas", "tscherkas"),
    "chernivtsi": ("tchernivts", "cernivc", "чернівец", "чернівц", "черновц", "буковин", "chernivts", "czerniowc", "czernowitz", "bukovyn",
                   "bukowin", "cernauti"),
    "chernihiv": ("чернігів", "чернігов", "чернигов", "chernihiv", "czernihow", "tschernihiw", "chernigov"),
    "kyiv-city": ("kyjev$", "kijev$", "kyjeve$", "київ$", "києві$", "києва$", "киев$", "kyiv$", "kiew$", "kijow$", "kiev$"),
    "crimea": ("крим$", "криму$", "кримськ", "crimea", "krym", "krim$"),
}

# adjectives and demonyms that name a country without its CLDR name ("a German town", "польська гміна")
COUNTRY_WORDS: dict[str, tuple[str, ...]] = {
    "DE": ("німц", "немц", "german", "deutsch", "німецьк", "niemieck", "allemand", "tedesc", "aleman", "nemeck",
            "nemc", "nemsk", "tysk", "duits", "alema", "nemet", "saksa", "vacu$", "vokiet", "γερμαν", "германск",
            "njemack", "nijemc"),
    "PL": ("поляк", "polsc", "polish", "polnisch", "польськ", "polsk", "polonais", "polacc", "polac", "poolse$",
            "polone", "polonez", "lengyel", "puola", "poola", "polu$", "lenkij", "lenku$", "lenkisk", "πολων",
            "полск", "poljsk"),
    "FR": ("french", "französisch", "французьк", "francusk", "françai", "frances"),
    "IT": ("italian", "italienisch", "італійськ", "włosk", "italien"),
    "ES": ("spanish", "spanisch", "іспанськ", "hiszpańsk", "espagnol", "español"),
    "SE": ("swedish", "schwedisch", "шведськ", "szwedzk", "suédois", "sueco", "svensk", "svedsk", "zweeds", "suec",
            "svedes", "suedez", "sved", "ruotsi", "rootsi", "zviedr", "σουηδ", "шведск"),
    "NL": ("dutch", "niederländisch", "нідерландськ", "голландськ", "holendersk", "néerlandais"),
    "AT": ("austrian", "österreichisch", "австрійськ", "austriack", "autrichien"),
    "CZ": ("czech", "tschechisch", "чеськ", "czesk", "tchèque", "česk"),
    "SK": ("словак", "słowac", "slowac", "slovak", "slowakisch", "словацьк", "słowack", "slovaque", "slovensk",
            "slovack", "slovacc", "slovaq", "szlovak", "σλοβακ", "словашк"),
    "HU": ("угорц", "węgr", "wegr", "hungarian", "ungarisch", "угорськ", "węgiersk", "hongrois", "magyar", "madarsk",
            "mađarsk", "madzarsk", "ungarsk", "ungersk", "hongaars", "hungar", "ungheres", "maghiar", "ungar",
            "unkari", "vengr", "ουγγρ", "унгарск"),
    "RO": ("румун", "romanian", "rumänisch", "румунськ", "rumuńsk", "roumain", "românesc", "româneas", "rumunsk",
            "rumænsk", "rumänsk", "roemeens", "romen", "rumen", "rumano", "rumunjsk", "romunsk", "ρουμαν", "румънск"),
    "LT": ("lithuanian", "litauisch", "литовськ", "litewsk", "lituanien"),
    "LV": ("latvian", "lettisch", "латвійськ", "łotewsk", "letton"),
    "EE": ("estonian", "estnisch", "естонськ", "estońsk", "estonien"),
    "DK": ("danish", "dänisch", "данськ", "duńsk", "danois"),
    "FI": ("finnish", "finnisch", "фінськ", "fińsk", "finlandais"),
    "BG": ("bulgarian", "bulgarisch", "болгарськ", "bułgarsk", "bulgare"),
    "GR": ("greek", "griechisch", "грецьк", "greck", "grec"),
    "PT": ("portuguese", "portugiesisch", "португальськ", "portugalsk", "portugais"),
    "IE": ("irish", "irisch", "ірландськ", "irlandzk", "irlandais"),
    "BE": ("belgian", "belgisch", "бельгійськ", "belgijsk", "belge"),
    "HR": ("croatian", "kroatisch", "хорватськ", "chorwack", "croate"),
    "SI": ("slovenian", "slowenisch", "словенськ", "słoweńsk", "slovène"),
    "UA": ("ukrainian", "ukrainisch", "українськ", "ukraińsk", "ukrainien", "ucrain", "hromad", "громад"),
}

SECTOR_WORDS: dict[str, tuple[str, ...]] = {
    "water": ("water", "вода$", "води$", "воду$", "водою$", "водопостач", "водовідвед", "водоканал", "каналіз", "wasser", "abwasser", "wodoc", "wodn",
              "kanaliz", "eau$", "agua", "acqua", "sewage", "sanitation", "питн"),
    "energy": ("energ", "енерг", "heating", "тепл", "heiz", "ogrzew", "cieplo", "chauffage", "электр"),
    "renewables": ("renewable", "solar", "сонячн", "відновлюван", "erneuerbar", "odnawial", "fotowolt", "wind"),
    "waste": ("waste", "відход", "сміт", "abfall", "odpad", "déchet", "dechet", "rifiut", "residuo"),
    "health": ("health", "hospital", "здоров", "лікарн", "медич", "gesundheit", "krankenh", "zdrowi", "szpital",
               "santé", "sante", "ospedal", "salud"),
    "education": ("educat", "school", "освіт", "школ", "bildung", "schul", "eduk", "szkoł", "szkol", "école",
                  "ecole", "scuol", "escuel"),
    "social": ("social", "соціальн", "sozial", "społ", "spolecz"),
    "economy": ("econom", "business", "smes$", "економ", "бізнес", "підприєм", "wirtschaft", "unternehm",
                "gospodar", "przedsięb", "przedsieb"),
    "climate": ("climat", "клімат", "klima"),
    "environment": ("environment", "довкілл", "екологі", "umwelt", "środowisk", "srodowisk"),
    "housing": ("housing", "житл", "wohn", "mieszkan", "logement"),
    "transport": ("transport", "дорог", "roads", "straße", "drog"),
    "culture": ("cultur", "культур", "kultur"),
    "tourism": ("touris", "туризм", "turyst", "turism"),
    "youth": ("youth", "молод", "jugend", "młodzież", "mlodziez", "jeunes"),
    "idp-integration": ("idp", "впо", "переселен", "displaced", "flüchtling", "fluchtling", "uchodźc", "uchodzc",
                        "refugee", "geflüchtet", "gefluchtet"),
    "civil-protection": ("civil protection", "цивільн захист", "bevölkerungsschutz", "obrona cywil", "укрит",
                         "shelter"),
}

NO_COFINANCING = (
    "without co-financing", "without cofinancing", "no co-financing", "no cofinancing", "without own contribution",
    "no own contribution", "без співфінансування", "без власного внеску", "без внеску", "без софінансування",
    "ohne eigenanteil", "ohne kofinanzierung", "ohne eigenmittel", "bez wkładu własnego", "bez wkladu wlasnego",
    "bez współfinansowania", "bez wspolfinansowania", "sans cofinancement", "senza cofinanziamento",
    "sin cofinanciación", "sin cofinanciacion", "100%", "100 %",
)


@dataclass(frozen=True)
class Filters:
    oblasts: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    no_cofinancing: bool = False

    def __bool__(self) -> bool:
        return bool(self.oblasts or self.countries or self.sectors or self.no_cofinancing)


def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    parts = []
    for stem in stems:
        whole = stem.endswith("$")
        body = re.escape(fold(stem.rstrip("$")))
        parts.append(rf"(?<!\w){body}(?!\w)" if whole else rf"(?<!\w){body}")
    return re.compile("|".join(parts))


def _name_stem(name: str) -> str:
    """A country name's beginning that its cases share ("Polsk-a/-i", "Rumuni-a/-i"); short names as whole words.
    Seven letters or more keep six, so "Romania" does not become the English word "roman"."""
    if len(name) <= 5:
        return name + "$"
    return name[: max(5 if len(name) < 7 else 6, len(name) - 2)]


@lru_cache(maxsize=1)
def _patterns() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    oblasts = {key: _pattern(stems) for key, stems in OBLASTS.items()}
    countries: dict[str, list[str]] = {code: list(COUNTRY_WORDS.get(code, ())) for code in (*EU_MEMBER_STATES, "UA")}
    for lang in supported_languages():
        territories = Locale.parse(lang).territories
        for code in countries:
            name = territories.get(code)
            if name:
                stem = fold(name)
                countries[code].append(_name_stem(stem))
    country_patterns = {code: _pattern(tuple(dict.fromkeys(words))) for code, words in countries.items()}
    sectors = {key: _pattern(stems) for key, stems in SECTOR_WORDS.items()}
    return oblasts, country_patterns, sectors


def find_filters(question: str) -> Filters:
    """Every oblast, country, sector and co-financing condition the question names."""
    text = fold(question)
    oblast_patterns, country_patterns, sector_patterns = _patterns()
    oblasts = tuple(key for key, pattern in oblast_patterns.items() if pattern.search(text))
    if "kyiv" in oblasts and "kyiv-city" in oblasts:
        oblasts = tuple(o for o in oblasts if o != "kyiv-city")
    countries = tuple(code for code, pattern in country_patterns.items() if pattern.search(text))
    sectors = tuple(key for key, pattern in sector_patterns.items() if pattern.search(text))
    no_cofinancing = any(fold(phrase) in text for phrase in NO_COFINANCING)
    return Filters(oblasts, countries, sectors, no_cofinancing)
