"""Should `wrong-language` use a language-ID model? Measures py3langid and lingua (both ship their
models inside the wheel) against the script + function-word reader of rewriter/analysis/language.py
on short support replies: import+load time, time per text, and accuracy.

    python benchmarks/bench_langid.py [--models-python PY]

The packages are optional (not dependencies of h2h): install them in any venv and name its
interpreter with --models-python; a missing one is reported as not available.

The texts are written for this benchmark (short, as replies are; with the hard cases of the rule:
transliterated Russian, Russian with English UI labels, Ukrainian/Kazakh/Belarusian, mixed).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (expected language, text); "translit" is Russian written in Latin letters.
TEXTS: list[tuple[str, str]] = [
    ("ru", "Добрый день! Посылка уже в пункте выдачи, заберите её до пятницы."),
    ("ru", "Нажмите Settings → Billing и скачайте счёт."),
    ("ru", "Готово, пароль сбросили."),
    ("ru", "Проверьте папку «Спам», письмо могло попасть туда."),
    ("ru", "Откройте Google Play и обновите приложение."),
    ("ru", "Да, можно. Sign in with Apple тоже работает."),
    ("ru", "Ок, поняла вас."),
    ("ru", "Мастер придёт завтра с 10 до 14."),
    ("en", "Your refund has been issued and will reach your card in five days."),
    ("en", "Hi! Please restart the router and try again."),
    ("en", "Thanks, we fixed the billing issue."),
    ("en", "Sorry for the delay, the courier is on the way."),
    ("de", "Vielen Dank! Ihre Bestellung ist unterwegs und kommt morgen an."),
    ("de", "Bitte starten Sie die App neu."),
    ("uk", "Доброго дня! Ваше замовлення вже у відділенні, заберіть його до п'ятниці."),
    ("uk", "Вибачте за затримку, кур'єр вже їде."),
    ("uk", "Перевірте, будь ласка, папку зі спамом."),
    ("kk", "Сәлеметсіз бе! Тапсырысыңыз ертең жеткізіледі."),
    ("kk", "Қосымшаны жаңартып, қайта кіріңіз."),
    ("be", "Добры дзень! Ваша заказ ужо ў дарозе, чакайце заўтра."),
    ("translit", "Zdravstvuyte! Vash zakaz uzhe v puti, kurier privezet ego zavtra."),
    ("translit", "Spasibo, vse sdelali, proverte pozhaluysta."),
    ("translit", "Privet! Parol sbrosili, zaydite snova."),
]

# What a language-ID model may answer for a Russian text in Latin letters: it is wrong-language
# either way, so any non-Russian answer counts as right for "translit".


def right(expected: str, got: str) -> bool:
    if expected == "translit":
        return got != "ru"
    return expected == got


def measure(name: str, load: str, classify: str, python: str = sys.executable) -> None:
    """Load in a fresh interpreter (cold, as `h2h check` would) up to the first answer (a lazy
    model loads then), then classify every text."""
    code = f"""
import time, json, sys
t0 = time.perf_counter()
{load}
load_s = time.perf_counter() - t0
texts = json.loads(sys.stdin.read())
t1 = time.perf_counter()
first = [{classify} for lang, text in texts[:1]]
first_s = time.perf_counter() - t1
t1 = time.perf_counter()
out = []
for lang, text in texts:
    out.append({classify})
per_text_ms = (time.perf_counter() - t1) / len(texts) * 1000
print(json.dumps([load_s + first_s, per_text_ms, out]))
"""
    import json

    proc = subprocess.run(
        [python, "-c", code],
        input=json.dumps(TEXTS),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        print(f"{name:12} not available ({proc.stderr.strip().splitlines()[-1]})")
        return
    load_s, per_ms, got = json.loads(proc.stdout)
    hits = sum(right(e, g) for (e, _), g in zip(TEXTS, got, strict=True))
    wrong = [f"{e}->{g}" for (e, _), g in zip(TEXTS, got, strict=True) if not right(e, g)]
    print(
        f"{name:12} load {load_s * 1000:7.0f} ms  {per_ms:6.2f} ms/text  "
        f"accuracy {hits}/{len(TEXTS)}  wrong: {', '.join(wrong) or '-'}"
    )


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--models-python", default=sys.executable)
    models = ap.parse_args().models_python
    measure(
        "py3langid",
        "import py3langid as langid",
        "langid.classify(text)[0]",
        models,
    )
    measure(
        "lingua",
        "from lingua import LanguageDetectorBuilder\n"
        "det = LanguageDetectorBuilder.from_all_languages().build()",
        "(lambda r: r.iso_code_639_1.name.lower() if r else '?')(det.detect_language_of(text))",
        models,
    )
    measure(
        "lingua-6",
        "from lingua import Language, LanguageDetectorBuilder\n"
        "det = LanguageDetectorBuilder.from_languages(Language.RUSSIAN, Language.ENGLISH, "
        "Language.GERMAN, Language.UKRAINIAN, Language.KAZAKH, Language.BELARUSIAN).build()",
        "(lambda r: r.iso_code_639_1.name.lower() if r else '?')(det.detect_language_of(text))",
        models,
    )
    measure(
        "h2h-rules",
        f"sys.path.insert(0, {str(ROOT)!r})\nfrom rewriter.analysis.language import reply_language",
        "reply_language(text).lang",
    )


if __name__ == "__main__":
    main()
