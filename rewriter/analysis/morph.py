"""One pymorphy3 analyzer per process and cached lemma look-ups.

Lexicons are matched against the lemmas of *all* parses of a word: the first parse is
often wrong for short forms («судов» → «судно», «пришли» → «прийти»).
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

import pymorphy3

_PARTICLES = ("-то", "-ка", "-таки")


@cache
def analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def fold(text: str) -> str:
    """Lower-case with ё read as е: the one case folding every comparison of words uses."""
    return text.lower().replace("ё", "е")


def normalise_word(word: str) -> str:
    """`fold`, and drop the particles «-то», «-ка» that pymorphy3 does not know."""
    w = fold(word)
    for particle in _PARTICLES:
        if w.endswith(particle) and len(w) > len(particle) + 1:
            return w[: -len(particle)]
    return w


# Lemmas known before pymorphy3 is asked: the phrase words of the rule files, loaded from the
# on-disk table that analysis/lemmacache.py keeps. A check whose text holds only known words
# never loads the pymorphy3 dictionary. Only phrase words are ever written to disk — never a
# word of a checked text.
_KNOWN: dict[str, frozenset[str]] = {}
_NEW_PHRASE_WORDS: dict[str, frozenset[str]] = {}


@lru_cache(maxsize=100_000)
def _parses(word: str) -> tuple[Any, ...]:
    """pymorphy3's parses of a normalised word, asked once per word. Every predicate below keeps
    a cache of its own answer, so without this one a new word was parsed again by each of them
    (a word of a batch's text was parsed 2-10 times). A word pymorphy3 cannot read raises, as
    `analyzer().parse` does (lru_cache keeps no exception): callers use `_parse`, never this."""
    return tuple(analyzer().parse(word))


def _parse(word: str) -> tuple[Any, ...]:
    """pymorphy3's parses; none for a word it cannot read. Its shape check asks `unicodedata`
    for every letter's name and raises on letters without one (found by schemathesis: a Tangut
    ideograph in a fact made `h2h check` crash)."""
    try:
        return _parses(word)
    except ValueError:
        return ()


@lru_cache(maxsize=200_000)
def lemmas(word: str) -> frozenset[str]:
    """Every lemma pymorphy3 offers for `word`, plus the normalised form itself and, for a
    diminutive, its base («скидочку» → also «скидка»): a lexicon's «скидка» reads it."""
    known = _KNOWN.get(word)
    if known is not None:
        return known
    return _lemmas(word, derive=True)


def _lemmas(word: str, *, derive: bool) -> frozenset[str]:
    w = normalise_word(word)
    if not w.isalpha() and not any(ch.isalpha() for ch in w):
        return frozenset({w})
    found = {w}
    parses = _parse(w)
    for parse in parses:
        found.add(parse.normal_form.replace("ё", "е"))
    base = _diminutive_base(parses) if derive else None
    if base:
        found.add(base)
    return frozenset(found)


# Diminutive suffixes of a noun's lemma and what they replace: «скидочка» → «скидка»,
# «подарочек» → «подарок», «бонусик» → «бонус». A base counts only when pymorphy3 knows it, so
# «карточка» (→ «картка») stays itself. «-ик» is read off words the dictionary does not know
# («возвратик»): known ones are mostly words of their own («график», «медик»).
_DIMINUTIVE = (
    ("очка", "ка", True),
    ("ечка", "ка", True),
    ("очек", "ок", True),
    ("чик", "к", False),
    ("ик", "", False),
)
LEMMA_SCHEME = 3  # bump when the lemma set of a word changes: the on-disk table is keyed by it


def _diminutive_base(parses: tuple[Any, ...], *, strict: bool = False) -> str | None:
    """The base of a diminutive noun. Lemma matching takes an unknown base too («промокодик» →
    «промокод», a word only the rule files know); `strict` asks for a dictionary noun."""
    for parse in parses[:2]:
        if "NOUN" not in parse.tag:
            continue
        lemma = parse.normal_form.replace("ё", "е")
        for suffix, replacement, known_ok in _DIMINUTIVE:
            if not lemma.endswith(suffix) or (not known_ok and parse.is_known):
                continue
            base = lemma[: -len(suffix)] + replacement
            if len(base) < 4:
                continue
            if _is_noun(base) or (not strict and not known_ok):
                return base
    return None


@lru_cache(maxsize=4096)
def _is_noun(word: str) -> bool:
    return analyzer().word_is_known(word) and any(
        "NOUN" in p.tag and p.normal_form == word for p in _parse(word)
    )


@lru_cache(maxsize=50_000)
def diminutive_base(word: str) -> str | None:
    """The base noun of a diminutive form («денежки» aside: «скидочку» → «скидка»), else None."""
    w = normalise_word(word)
    if not w.isalpha():
        return None
    return _diminutive_base(_parse(w), strict=True)


def phrase_lemmas(word: str) -> frozenset[str]:
    """`lemmas` for a word of a rule file's phrase: remembered for the on-disk table."""
    # A phrase word is what it says: «ответик» in a list of diminutives must not read «ответ».
    found = _KNOWN.get(word) or _NEW_PHRASE_WORDS.get(word) or _lemmas(word, derive=False)
    if word not in _KNOWN:
        _NEW_PHRASE_WORDS[word] = found
    return found


def seed_lemmas(table: dict[str, list[str]]) -> None:
    _KNOWN.update({w: frozenset(ls) for w, ls in table.items()})


def new_phrase_words() -> bool:
    """Phrase words were compiled that the table does not hold yet."""
    return bool(_NEW_PHRASE_WORDS)


def phrase_table() -> dict[str, list[str]]:
    """The table to save: what was known plus the phrase words compiled since."""
    merged = {**_KNOWN, **_NEW_PHRASE_WORDS}
    _KNOWN.update(_NEW_PHRASE_WORDS)
    _NEW_PHRASE_WORDS.clear()
    return {w: sorted(ls) for w, ls in merged.items()}


def _verb_parses(word: str) -> tuple[Any, ...]:
    """pymorphy3's parses of a word that could be a verb; none for digits and codes, which
    spares pymorphy3 every amount and id of a text."""
    if not word.replace("-", "").isalpha():
        return ()
    return _parse(normalise_word(word))


# The grammeme sets the named predicates below ask `has_grammemes` about: one matcher, one cache.
# Module constants, so the cache key's frozenset is built (and hashed) once.
_INCLUSIVE_IMPERATIVE = frozenset({"impr", "excl"})
_FUTURE = frozenset({"futr"})
_INFINITIVE = frozenset({"INFN"})
_SECOND_PLURAL_FUTURE = frozenset({"2per", "plur", "futr"})
_FIRST_PLURAL_FUTURE = frozenset({"1per", "plur", "futr"})
_FIRST_PLURAL_VERB = frozenset({"VERB", "1per", "plur"})


@lru_cache(maxsize=50_000)
def is_imperative(word: str) -> bool:
    """A request verb: every parse is an imperative or its twin, the perfective 2nd-person future
    («отключите» = «вы отключите»). «пришли» is also the past of «прийти», so it is not."""
    parses = _verb_parses(word)
    return (
        bool(parses)
        and any("impr" in p.tag for p in parses)
        and all("impr" in p.tag or {"2per", "futr", "perf"} <= p.tag.grammemes for p in parses)
    )


@lru_cache(maxsize=50_000)
def may_be_imperative(word: str) -> bool:
    """Some parse is an imperative addressed to the reader («приходите»: also «вы приходите»),
    not the inclusive «отправим» (= «давайте отправим»). Only where context settles it, e.g. a
    verb opening a sentence."""
    return has_grammemes(word, _INCLUSIVE_IMPERATIVE)


@lru_cache(maxsize=50_000)
def is_ty_verb(word: str) -> bool:
    """A verb addressed to «ты» («глянь», «можешь»): every parse is 2nd person or imperative,
    and singular. «пришли» (also past plural of «прийти») is not."""
    parses = _verb_parses(word)
    return bool(parses) and all(
        "VERB" in p.tag and "sing" in p.tag and ("impr" in p.tag or "2per" in p.tag) for p in parses
    )


@lru_cache(maxsize=50_000)
def is_other_person_verb(word: str) -> bool:
    """Every reading is a finite verb of the 1st or 3rd person («подойдёт», «заберём»,
    «придёт»): someone else acts, nobody is asked to."""
    parses = _verb_parses(word)
    return bool(parses) and all(
        "VERB" in p.tag and "impr" not in p.tag and ("1per" in p.tag or "3per" in p.tag)
        for p in parses
    )


@lru_cache(maxsize=50_000)
def is_future(word: str) -> bool:
    """A verb form with a future reading («оформим», «будет»): a commitment about time."""
    return has_grammemes(word, _FUTURE)


_PAST_VERB = frozenset({"VERB", "past"})


@lru_cache(maxsize=50_000)
def is_past(word: str) -> bool:
    """A finite verb with a past reading («приехал», «вернули»)."""
    return has_grammemes(word, _PAST_VERB)


@lru_cache(maxsize=50_000)
def is_name(word: str) -> bool:
    """A first name by pymorphy3's `Name` tag on its most likely parse («Вера» the noun wins),
    from the dictionary: a guess for an unknown word («Возвратик») is not a name."""
    parses = _parse(normalise_word(word))
    return bool(parses) and "Name" in parses[0].tag and parses[0].is_known


@lru_cache(maxsize=50_000)
def name_lemma(word: str) -> str:
    """The nominative of a name form («Ксении» → «ксения»), for comparing names across cases."""
    for parse in _parse(normalise_word(word)):
        if "Name" in parse.tag:
            return parse.normal_form.replace("ё", "е")
    return normalise_word(word)


@lru_cache(maxsize=50_000)
def is_infinitive(word: str) -> bool:
    """Some parse is an infinitive («прислать»): a request only after a cue («нужно прислать»)."""
    return has_grammemes(word, _INFINITIVE)


@lru_cache(maxsize=50_000)
def is_second_future(word: str) -> bool:
    """A «вы»-future («продиктуете», «пришлёте»): a request put as a plan for the reader."""
    return has_grammemes(word, _SECOND_PLURAL_FUTURE)


@lru_cache(maxsize=50_000)
def has_grammemes(word: str, grammemes: frozenset[str]) -> bool:
    """Some parse of `word` carries every one of `grammemes` («VERB», «past»; «impr»; «INFN»)."""
    return any(grammemes <= p.tag.grammemes for p in _verb_parses(word))


_VERB_POS = frozenset({"VERB", "INFN", "GRND"})


@lru_cache(maxsize=50_000)
def is_verb(word: str) -> bool:
    """Every parse is a verb form (finite, infinitive or gerund): «закройте», not «мой»."""
    parses = _verb_parses(word)
    return bool(parses) and all(p.tag.POS in _VERB_POS for p in parses)


@lru_cache(maxsize=50_000)
def is_gerund(word: str) -> bool:
    """Every parse is a gerund («назвав», «указав»)."""
    parses = _verb_parses(word)
    return bool(parses) and all(p.tag.POS == "GRND" for p in parses)


@lru_cache(maxsize=100_000)
def part_of_speech(word: str) -> str:
    """pymorphy3's part of speech of the most likely parse («заблокирована» → PRTS), or "" for
    digits, codes and words it has no tag for. The first parse only: faithfulness checks ask
    «is this a predicate / a content word», where the likely reading is what the reader sees."""
    if not word.replace("-", "").isalpha():
        return ""
    parses = _parse(normalise_word(word))
    return str(parses[0].tag.POS or "") if parses else ""


@lru_cache(maxsize=100_000)
def main_lemma(word: str) -> str:
    """The lemma of the most likely parse: one key per word where a set would over-match."""
    if not word.replace("-", "").isalpha():
        return normalise_word(word)
    parses = _parse(normalise_word(word))
    return parses[0].normal_form.replace("ё", "е") if parses else normalise_word(word)


@lru_cache(maxsize=50_000)
def is_we_will(word: str) -> bool:
    """A first-person plural future: the company commits to doing it («сделаем», «вернём»)."""
    return has_grammemes(word, _FIRST_PLURAL_FUTURE)


@lru_cache(maxsize=50_000)
def first_person_plural(word: str) -> bool:
    """«вернём», «проверяем»: some verb parse speaks for «мы» (the company)."""
    return has_grammemes(word, _FIRST_PLURAL_VERB)


@lru_cache(maxsize=50_000)
def first_person_singular(word: str) -> str | None:
    """«жду», «надеюсь» → "pres"; «поменяю», «загружу» → "futr": every verb parse is 1st person
    singular. None otherwise (a past form has no person: «оплатил» may be anyone's)."""
    parses = [p for p in _verb_parses(word) if "VERB" in p.tag]
    if not parses or not all({"1per", "sing"} <= p.tag.grammemes for p in parses):
        return None
    return "futr" if any("futr" in p.tag for p in parses) else "pres"


_PREDICATE_POS = frozenset({"VERB", "INFN", "PRTS", "ADJS", "PRED"})


@lru_cache(maxsize=50_000)
def may_be_predicate(word: str) -> bool:
    """Some parse can carry a clause («видим», «готово», «можно»): a clause without one is a
    fragment («По вашему вопросу…»)."""
    return any(p.tag.POS in _PREDICATE_POS for p in _verb_parses(word))


@lru_cache(maxsize=50_000)
def may_address_you(word: str) -> bool:
    """A verb that can speak to the reader: 2nd person or imperative («можете», «подскажите»)."""
    return any("VERB" in p.tag and ("2per" in p.tag or "impr" in p.tag) for p in _verb_parses(word))


def is_endearing_address(doc: Any, i: int, suffixes: tuple[str, ...]) -> bool:
    """Token i of `doc` addresses the reader with an endearing noun («…, голубчик, …»): an
    animate noun (not a first name) ending in one of `suffixes`, standing alone between
    punctuation or at the edge of its sentence."""
    toks = doc.tokens
    t = toks[i]
    if not t.norm.endswith(suffixes):
        return False
    parses = _parse(t.norm)
    if not any("NOUN" in p.tag and "anim" in p.tag and "Name" not in p.tag for p in parses[:2]):
        return False
    before = doc.text[toks[i - 1].end : t.start] if i and toks[i - 1].sent == t.sent else "."
    after = (
        doc.text[t.end : toks[i + 1].start]
        if i + 1 < len(toks) and toks[i + 1].sent == t.sent
        else "."
    )
    return any(ch in before for ch in ",.!?—") and any(ch in after for ch in ",.!?—")


@lru_cache(maxsize=50_000)
def is_vy_verb(word: str) -> bool:
    """A verb addressed to «вы» («подскажите», «можете»): every parse is a plural 2nd person
    or a plural imperative. The formal register, as «вы» itself."""
    parses = _verb_parses(word)
    return bool(parses) and all(
        "VERB" in p.tag and "plur" in p.tag and ("2per" in p.tag or "impr" in p.tag) for p in parses
    )


@lru_cache(maxsize=50_000)
def is_plain_word(word: str) -> bool:
    """A dictionary word that is no abbreviation («ЗДРАВСТВУЙТЕ», «ТАРИФ», «РУСТАМ»; not «СМС»,
    «ГИБДД», «МФЦ», «ОСАГО», nor a code): written in capitals, it is shouted, not spelled so."""
    parses = _parse(normalise_word(word))
    return bool(parses) and parses[0].is_known and not any("Abbr" in p.tag for p in parses)
