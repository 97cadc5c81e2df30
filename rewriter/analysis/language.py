"""Which language a text is written in, sentence by sentence, from its letters and function words.

No language-ID model: replies are short, mix in English UI labels («нажмите Settings») and may be
Russian in Latin letters, where a model answers one label per text and guesses on a line. Letters
Russian has not got (і ї є ґ ў ә ө ү ұ қ ғ ң һ) settle Ukrainian, Belarusian and Kazakh; grammar
words settle English, German and transliterated Russian. The measurement behind the choice is
benchmarks/bench_langid.py. Word lists: guardrails/lexicons/language.yaml.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from rewriter.analysis.morph import fold
from rewriter.analysis.text import split_sentences

# Apostrophes inside a word: English «don't», and the letters o‘ g‘ of Uzbek Latin.
_WORD = re.compile(r"[^\W\d_]+(?:['’‘ʼ][^\W\d_]+)*")
# Quoted spans are labels, error messages or titles: their language is not the reply's.
_QUOTED = re.compile(r"«[^«»\n]*»|\"[^\"\n]*\"|“[^”\n]*”|`[^`\n]*`")
_URLISH = re.compile(r"\S+[@/]\S+|\b\w+\.(?:ru|com|net|org|io|рф)\b", re.IGNORECASE)
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-zA-ZäöüßÄÖÜéèàçñ]")
# Any Latin letter, with the extended ones of Turkish, Azerbaijani, Uzbek… (ş ğ ı ə ç).
_LATIN_ANY = re.compile(r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff]")

# The language a function word or letter points to; "ru" is what Cyrillic is without a marker.
RUSSIAN = "ru"
# A Latin-script language the word lists do not know (Uzbek, Turkish, Azerbaijani…): a sentence
# mostly of lower-case Latin words, which brand names, codes and UI labels are not.
OTHER_LATIN = "latin"
# The languages written in Latin letters: a customer writing one of them may read another
# unknown one as theirs (the lists are short), so OTHER_LATIN is not held against them.
LATIN_LANGS = frozenset({"en", "de", "fr", "es", "it", "translit", OTHER_LATIN})


@dataclass(frozen=True, slots=True)
class SentenceLanguage:
    start: int
    end: int
    lang: str | None  # None: no words to tell by (a number, a label, an emoji)
    words: int


@dataclass(frozen=True, slots=True)
class TextLanguage:
    """The languages of a text: per sentence, the one with most words, and salutations."""

    sentences: tuple[SentenceLanguage, ...]
    salutations: tuple[tuple[int, int, str], ...]  # (start, end, lang)

    @property
    def lang(self) -> str | None:
        counts: Counter[str] = Counter()
        for s in self.sentences:
            if s.lang:
                counts[s.lang] += s.words
        return counts.most_common(1)[0][0] if counts else None


@cache
def _data() -> dict:
    from rewriter.analysis.vocab import raw

    return raw("language")


@cache
def _sets(section: str) -> dict[str, frozenset[str]]:
    return {k: frozenset(v) for k, v in _data()[section].items()}


@cache
def _salutations() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Salutation phrases by their first word, longest first."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    for lang, phrases in _data()["salutations"].items():
        for phrase in phrases:
            words = tuple(phrase.split())
            out.setdefault(words[0], []).append((lang, words))
    for options in out.values():
        options.sort(key=lambda x: -len(x[1]))
    return out


@cache
def _translit_ending() -> re.Pattern[str]:
    return re.compile(_data()["translit_endings"])


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with the matches of `pattern` replaced by spaces: offsets stay valid."""
    return pattern.sub(lambda m: " " * len(m.group()), text)


@cache
def _marker_letters() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every letter Russian has not got, and the language each points to
    (the more specific language wins when a word has several)."""
    letters: dict[str, str] = {}
    for lang in ("uk_be_kk", "uk", "be", "kk"):
        for ch in _data()["letters"][lang]:
            letters[ch] = lang
    return re.compile(f"[{''.join(letters)}]"), letters


_ORDER = {"kk": 0, "be": 1, "uk": 2, "uk_be_kk": 3}


def _cyrillic_marker(word: str) -> str | None:
    pattern, letters = _marker_letters()
    found = pattern.findall(word)
    if found:
        return min((letters[ch] for ch in found), key=_ORDER.__getitem__)
    for lang, words in _sets("cyrillic").items():
        if word in words:
            return lang
    return None


@cache
def _english_ending() -> re.Pattern[str]:
    return re.compile(_data()["english_endings"])


def plain_latin(word: str) -> bool:
    """A lower-case Latin-script word of two letters or more: a common word of some language,
    not a brand («iPhone», «Wildberries»), a code («SU2135») or a capitalised UI label."""
    return (
        len(word) >= 2
        and word.islower()
        and _CYRILLIC.search(word) is None
        and bool(_LATIN_ANY.search(word))
    )


def sentence_language(words: list[str], plain: list[str] | None = None) -> str | None:
    """The language of one sentence's words (lower-cased), or None when nothing tells.
    `plain`: the words that were lower-case in the text (plain_latin), when the caller knows
    them: a sentence mostly of them is in some Latin-script language even when no list knows
    its words, and English ones inside a Russian sentence are English mixed in."""
    if not words:
        return None
    cyr = [w for w in words if _CYRILLIC.search(w)]
    lat = [w for w in words if not _CYRILLIC.search(w) and _LATIN_ANY.search(w)]
    if lat:
        latin = _sets("latin")
        strong = sum(w in latin["en"] for w in lat)
        weak = sum(w in latin["en_weak"] for w in lat)
        share = len(lat) / len(words)
        scores = {
            "en": strong + weak / 2 if strong else 0,
            **{lang: sum(w in latin[lang] for w in lat) for lang in ("de", "fr", "es", "it")},
            "translit": sum(w in latin["translit"] for w in lat)
            + sum(bool(_translit_ending().search(w)) for w in lat) / 2,
        }
        best = max(scores, key=lambda k: scores[k])
        hits = scores[best]
        if plain is not None and hits < 2 and not set(plain) & latin.get(best, frozenset()):
            hits = 0  # one capitalised hit is a name or a code («Samsung Galaxy S24»: «s»)
        if (hits >= 2 and len(lat) >= 3 and share >= 0.3) or (hits >= 1 and share >= 0.6):
            return best
        if plain is not None and len(plain) >= 2 and share >= 0.6:
            return OTHER_LATIN
        if cyr and plain is not None and _mixed_english(plain):
            return "en"
    if cyr:
        markers = Counter(m for m in map(_cyrillic_marker, cyr) if m)
        total = sum(markers.values())
        if total and (total >= 2 or total / len(cyr) >= 0.3):
            if markers["kk"]:
                return "kk"
            if markers["be"]:
                return "be"
            if markers["uk"] or not (markers["be"] or markers["kk"]):
                return "uk"
        return RUSSIAN
    return None


def _mixed_english(plain: list[str]) -> bool:
    """English common words inside a Russian sentence («ваш refund approved»): two lower-case
    Latin words of three letters or more, one of them English by a grammar word or an ending.
    A lone lower-case term («через wi-fi», «файл apk») is not enough."""
    latin = _sets("latin")
    long = [w for w in plain if len(w) >= 3 and w not in latin["translit"]]
    if len(long) < 2:
        return False
    ending = _english_ending()
    return any(w in latin["en"] or w in latin["en_weak"] or ending.search(w) for w in long)


def _salutation_spans(text: str, tokens: list[re.Match[str]]) -> list[tuple[int, int, str]]:
    """Greetings and sign-offs in a Latin script («Hi Anna», «Best regards»)."""
    norms = [m.group().lower() for m in tokens]
    out: list[tuple[int, int, str]] = []
    index = _salutations()
    i = 0
    while i < len(tokens):
        for lang, words in index.get(norms[i], ()):
            n = len(words)
            if tuple(norms[i : i + n]) == words:
                out.append((tokens[i].start(), tokens[i + n - 1].end(), lang))
                i += n - 1
                break
        i += 1
    return out


def _norm(word: str) -> str:
    return fold(word).replace("’", "'").replace("‘", "'").replace("ʼ", "'")


@lru_cache(maxsize=2048)
def analyse_language(text: str) -> TextLanguage:
    """Cached (the result is immutable): a draft and a thread are read once for every rewrite
    checked against them."""
    visible = _blank(_blank(text, _QUOTED), _URLISH)
    sentences: list[SentenceLanguage] = []
    salutations: list[tuple[int, int, str]] = []
    for start, end in split_sentences(visible):
        tokens = list(_WORD.finditer(visible, start, end))
        words = [_norm(m.group()) for m in tokens]
        plain = [_norm(m.group()) for m in tokens if plain_latin(m.group())]
        lang = sentence_language(words, plain)
        sentences.append(SentenceLanguage(start, end, lang, len(words)))
        salutations += _salutation_spans(visible, tokens)
    return TextLanguage(tuple(sentences), tuple(salutations))


_NOT_RUSSIAN = re.compile(r"[a-zäöüßéèàçñ]{2}|[іїєґўәөүұқғңһҗҳ]")  # «SORRY10», «SU 2135» are codes
# The letters a _NOT_RUSSIAN match starts with: one class scan rules out most texts several times
# faster than the alternation does.
_NOT_RUSSIAN_FIRST = re.compile(r"[a-zäöüßéèàçñіїєґўәөүұқғңһҗҳ]")


@lru_cache(maxsize=4096)
def may_be_foreign(text: str) -> bool:
    """A quick test before the reading: Russian text has no Latin or non-Russian letters
    outside links and addresses (a false alarm only costs the full reading)."""
    if _NOT_RUSSIAN_FIRST.search(text) is None or _NOT_RUSSIAN.search(text) is None:
        return False
    return _NOT_RUSSIAN.search(_URLISH.sub(" ", text)) is not None


def customer_language(texts: Iterable[str]) -> str:
    """The language the customer writes in: Russian unless most of their words are another."""
    counts: Counter[str] = Counter()
    for text in texts:
        for s in analyse_language(text).sentences:
            if s.lang:
                counts[s.lang] += s.words
    return counts.most_common(1)[0][0] if counts else RUSSIAN


def reply_language(text: str) -> SentenceLanguage:
    """The main language of a whole text, as one span (for a quick look or a benchmark)."""
    found = analyse_language(text)
    return SentenceLanguage(0, len(text), found.lang or RUSSIAN, len(_WORD.findall(text)))
