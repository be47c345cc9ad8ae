"""STOP/START/HELP keywords: whole messages only, in every catalogue language, forgiving of typing."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.language.i18n import CATALOG_DIR, Catalogs
from bot.language.keywords import (
    TWILIO_DEFAULT_KEYWORDS,
    KeywordMatcher,
    keyword_problems,
    match_keyword,
    normalise_keyword,
)

CATALOGS = {path.stem: yaml.safe_load(path.read_text(encoding="utf-8")) for path in CATALOG_DIR.glob("*.yaml")}
ALL_KEYWORDS = [(lang, action, word) for lang, data in sorted(CATALOGS.items())
                for action, words in data["keywords"].items() for word in words]


def _match(text):
    found = match_keyword(text)
    return (found.action, found.language) if found else None


@pytest.mark.parametrize("text", ["STOP", "stop", "Stop.", " stop ", "STOP!!", "¡stop!", "\u200fSTOP\u200f"])
def test_stop_in_any_case_and_punctuation(text):
    assert match_keyword(text).action == "stop"


def test_twilio_default_only_for_the_exact_word_twilio_acts_on():
    assert match_keyword(" Stop ").twilio_default is True
    assert match_keyword("unsubscribe").twilio_default is True
    assert match_keyword("Stop.").twilio_default is False  # Twilio may not have blocked: confirm ourselves
    assert match_keyword("BAJA").twilio_default is False


def test_global_words_name_no_language():
    assert _match("STOP") == ("stop", None)
    assert _match("yes") == ("start", None)
    assert _match("info") == ("help", None)


def test_yes_is_a_start_keyword_because_twilio_treats_it_so():
    found = match_keyword("Yes")
    assert found.action == "start" and found.twilio_default


@pytest.mark.parametrize("text, expected", [
    ("BAJA", ("stop", "es")),
    ("baja.", ("stop", "es")),
    ("Dar de baja", ("stop", "es")),
    ("ayuda", ("help", "es")),
    ("REZYGNUJĘ", ("stop", "pl")),
    ("rezygnuje", ("stop", "pl")),  # typed without the Polish letter
    ("wypisz mnie!", ("stop", "pl")),
    ("Pomoc", ("help", "pl")),
    ("بند کریں", ("stop", "ur")),
    ("بند کريں", ("stop", "ur")),  # Arabic yeh from an Arabic keyboard
    ("Band karo", ("stop", None)),  # Roman Urdu and Punjabi alike
    ("مدد", ("help", "ur")),
    ("توقف", ("stop", None)),  # Arabic and Persian
    ("توقّف", ("stop", None)),  # with shadda
    ("تـوقـف", ("stop", None)),  # with tatweel
    ("إيقاف", ("stop", "ar")),
    ("ايقاف", ("stop", "ar")),  # hamza left off
    ("مساعده", ("help", "ar")),  # heh for teh marbuta
    ("OPREȘTE", ("stop", "ro")),
    ("opreşte", ("stop", "ro")),  # cedilla variant
    ("opreste", ("stop", "ro")),
    ("Ajutor", ("help", "ro")),
    ("বন্ধ করুন", ("stop", "bn")),
    ("সাহায্য", ("help", "bn")),
    ("bondho korun", ("stop", "bn")),
    ("ਬੰਦ ਕਰੋ", ("stop", "pa")),
    ("PARAR", ("stop", None)),  # Spanish and Portuguese
    ("jooji", ("stop", "so")),
    ("DURDUR", ("stop", "tr")),
    ("bılgı", ("help", "tr")),
    ("Arrêter", ("stop", "fr")),
    ("arreter", ("stop", "fr")),
    ("СТОП", ("stop", None)),
    ("停止。", ("stop", "zh")),
    ("ＳＴＯＰ", ("stop", None)),  # full-width letters
])
def test_keywords_across_languages(text, expected):
    assert _match(text) == expected


@pytest.mark.parametrize("text", [
    "stop sending me the homework", "no", "No.", "nie", "NIE", "tak", "yes please", "please stop",
    "", "   ", "!!!", "stopp", "بند", "لا", "না", "alto", "basta", "cancelar", "الغاء", "لغو",
    "1", "STOP " * 30,
])
def test_ordinary_messages_are_not_keywords(text):
    assert match_keyword(text) is None


def test_none_body_is_not_a_keyword():
    assert match_keyword(None) is None


@pytest.mark.parametrize("lang, action, word", ALL_KEYWORDS)
def test_every_listed_keyword_matches_its_action_in_any_case(lang, action, word):
    for variant in (word, word.casefold(), f" {word}! "):
        found = match_keyword(variant)
        assert found is not None and found.action == action, variant
        assert lang in found.languages or lang == "en"


def test_required_languages_have_their_own_stop_start_help_words():
    for lang in ("pl", "ur", "ar", "es", "ro", "bn"):
        for action in ("stop", "start", "help"):
            assert CATALOGS[lang]["keywords"][action], (lang, action)


def test_twilio_defaults_are_global_and_listed_in_english_only():
    for action, words in TWILIO_DEFAULT_KEYWORDS.items():
        assert set(words) <= set(CATALOGS["en"]["keywords"][action])
        for word in words:
            assert match_keyword(word).languages == ("en",)


def test_the_shipped_keyword_lists_have_no_problems():
    assert keyword_problems(Catalogs(CATALOG_DIR)) == []


def _catalogs_with(tmp_path: Path, lang: str, action: str, word: str) -> Catalogs:
    for code in ("en", lang):
        data = yaml.safe_load((CATALOG_DIR / f"{code}.yaml").read_text(encoding="utf-8"))
        if code == lang:
            data["keywords"][action].append(word)
        (tmp_path / f"{code}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Catalogs(tmp_path)


def test_an_everyday_answer_as_stop_keyword_is_reported(tmp_path):
    problems = keyword_problems(_catalogs_with(tmp_path, "pl", "stop", "NIE"))
    assert problems == ["pl.yaml keywords.stop 'NIE': an everyday answer to a question, never a stop keyword"]


def test_a_word_under_two_actions_is_reported(tmp_path):
    problems = keyword_problems(_catalogs_with(tmp_path, "es", "help", "baja"))
    assert problems == ["es.yaml keywords.help 'baja': collides with stop keyword in es.yaml"]


def test_repeating_a_global_word_is_reported(tmp_path):
    problems = keyword_problems(_catalogs_with(tmp_path, "ro", "stop", "Stop"))
    assert problems == ["ro.yaml keywords.stop 'Stop': already global in en.yaml; do not repeat it"]


def test_a_custom_catalogue_set_builds_its_own_matcher(tmp_path):
    matcher = KeywordMatcher(_catalogs_with(tmp_path, "pl", "stop", "DOŚĆ WIADOMOŚCI"))
    assert matcher.match("dosc wiadomosci").action == "stop"
    assert matcher.match("BAJA") is None  # Spanish is not in this catalogue set
    assert matcher.match("STOP").action == "stop"  # Twilio's words always apply


SURROUNDINGS = st.sampled_from(["", " ", "  ", ".", "!", "?", "...", "\n", "\t", "\"", "'", "¿", "؟", "。", " 🙏", "*"])


@given(st.sampled_from(ALL_KEYWORDS), SURROUNDINGS, SURROUNDINGS)
def test_surrounding_punctuation_never_changes_the_match(keyword, before, after):
    _, _, word = keyword
    found, plain = match_keyword(before + word + after), match_keyword(word)
    # twilio_default may differ on purpose: Twilio only documents acting on the bare word.
    assert (found.action, found.language, found.languages) == (plain.action, plain.language, plain.languages)


@given(st.sampled_from(ALL_KEYWORDS), st.sampled_from(["please", "now", "homework", "the", "tomorrow"]))
def test_a_keyword_inside_a_sentence_is_not_a_keyword(keyword, other):
    _, _, word = keyword
    sentence = f"{word} {other}"
    assert match_keyword(sentence) is None or normalise_keyword(sentence) == normalise_keyword(word)


def test_readme_table_lists_exactly_the_yaml_keywords():
    readme = (CATALOG_DIR / "README.md").read_text(encoding="utf-8")
    rows = {}
    for line in readme.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"[a-z]{2}(-[A-Z][a-z]{3})?( \(.*\))?", cells[0]):
            lang = cells[0].split(" ")[0]
            for action, cell in zip(("stop", "start", "help"), cells[1:]):
                words = [] if cell == "—" else [w.strip() for w in cell.split(",")]
                rows.setdefault((lang, action), []).extend(words)
    expected = {(lang, action): words for lang, data in CATALOGS.items()
                for action, words in data["keywords"].items()}
    assert {key: sorted(words) for key, words in rows.items()} == {
        key: sorted(words) for key, words in expected.items()}
