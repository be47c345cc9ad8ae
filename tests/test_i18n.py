"""The message catalogue: every language matches English, renders, and dates read locally."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from babel import Locale

from bot.language.i18n import (
    CATALOG_DIR,
    Catalogs,
    catalog_languages,
    english_name,
    format_datetime_for,
    is_rtl,
    language_meta,
    placeholders,
    render_template,
)
from bot.language.checks import validate_catalogs

ENGLISH = yaml.safe_load((CATALOG_DIR / "en.yaml").read_text(encoding="utf-8"))
LANGUAGES = sorted(path.stem for path in CATALOG_DIR.glob("*.yaml"))
REQUIRED = {"en", "pl", "ur", "pa", "bn", "ar", "ro", "pt", "so", "es", "lt", "tr", "fr"}
RTL = {"ar", "ur", "fa", "ps"}
SCHOOL = "Oakfield Primary School"


def _file(lang: str) -> dict:
    return yaml.safe_load((CATALOG_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))


def _write(directory: Path, lang: str, data: dict) -> None:
    (directory / f"{lang}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_required_languages_all_have_catalogues():
    assert REQUIRED <= set(catalog_languages())
    assert catalog_languages()[0] == "en"


def test_the_catalogues_validate_cleanly():
    assert validate_catalogs() == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_exactly_the_english_keys(lang):
    assert set(_file(lang)["messages"]) == set(ENGLISH["messages"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_the_english_placeholders(lang):
    for key, text in _file(lang)["messages"].items():
        assert placeholders(text) == placeholders(ENGLISH["messages"][key]), (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_meta_is_complete_and_names_its_file(lang):
    meta = language_meta(lang)
    assert meta["language"] == lang
    assert meta["name"] and meta["english_name"]
    assert meta["direction"] in ("ltr", "rtl")
    assert isinstance(meta["reviewed_by_fluent_speaker"], list)
    assert set(meta["reviewed_by_fluent_speaker"]) <= set(ENGLISH["messages"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_right_to_left_languages_are_flagged(lang):
    assert is_rtl(lang) is (lang in RTL)


def test_direction_of_a_language_without_catalogue_comes_from_cldr():
    assert is_rtl("he") is True
    assert is_rtl("de") is False


@pytest.mark.parametrize("lang", LANGUAGES)
def test_confirmations_render_with_the_school_and_the_english_keywords(lang):
    optout = render_template("optout.confirm", lang, school=SCHOOL)
    optin = render_template("optin.confirm", lang, school=SCHOOL)
    helps = render_template("help.reply", lang, school=SCHOOL)
    assert SCHOOL in optout and SCHOOL in optin and SCHOOL in helps
    assert "START" in optout
    assert "STOP" in optin and "STOP" in helps
    assert "{" not in optout + optin + helps


def test_render_fills_placeholders_and_ignores_spare_values():
    text = render_template("optin.confirm", "pl", school="Szkoła Podstawowa nr 5", extra="unused")
    assert text.startswith("Wiadomości od szkoły Szkoła Podstawowa nr 5")


def test_render_accepts_region_and_case_variants_of_a_code():
    assert render_template("optout.confirm", "pl-PL", school=SCHOOL) == render_template(
        "optout.confirm", "pl", school=SCHOOL)
    assert render_template("machine_translation.label", "AR") == _file("ar")["messages"]["machine_translation.label"]


def test_missing_placeholder_value_raises():
    with pytest.raises(ValueError, match="school"):
        render_template("optout.confirm", "es")


def test_key_unknown_to_english_is_a_programming_error():
    with pytest.raises(KeyError):
        render_template("no.such.key", "pl")


def test_language_without_catalogue_returns_none():
    assert render_template("optout.confirm", "de", school=SCHOOL) is None


def test_language_lacking_a_key_returns_none_and_is_reported(tmp_path):
    _write(tmp_path, "en", ENGLISH)
    polish = _file("pl")
    del polish["messages"]["help.reply"]
    _write(tmp_path, "pl", polish)
    catalogs = Catalogs(tmp_path)
    assert catalogs.render("help.reply", "pl", school=SCHOOL) is None
    assert catalogs.render("optin.confirm", "pl", school=SCHOOL) is not None
    assert "pl.yaml: missing key 'help.reply'" in catalogs.problems()


def test_problems_report_placeholder_drift_extra_keys_and_bad_meta(tmp_path):
    _write(tmp_path, "en", ENGLISH)
    spanish = _file("es")
    spanish["messages"]["optout.confirm"] = "Ya no recibirá mensajes de {escuela}. Envíe START."
    spanish["messages"]["made.up"] = "hola"
    spanish["meta"]["direction"] = "rtl"
    _write(tmp_path, "es", spanish)
    problems = "\n".join(Catalogs(tmp_path).problems())
    assert "'optout.confirm' placeholders ['escuela'] differ from English ['school']" in problems
    assert "extra key 'made.up'" in problems
    assert "meta.direction 'rtl' but CLDR says 'ltr'" in problems


def test_problems_report_a_translation_that_drops_the_stop_instruction(tmp_path):
    _write(tmp_path, "en", ENGLISH)
    french = _file("fr")
    french["messages"]["optin.confirm"] = "Les messages de l'école {school} sont réactivés."
    _write(tmp_path, "fr", french)
    assert "fr.yaml: 'optin.confirm' must keep the keyword STOP as written in English" in Catalogs(tmp_path).problems()


def test_unquoted_yaml_booleans_in_keyword_lists_are_reported(tmp_path):
    _write(tmp_path, "en", ENGLISH)
    (tmp_path / "it.yaml").write_text(
        (CATALOG_DIR / "it.yaml").read_text(encoding="utf-8").replace('start: ["RIATTIVA"', "start: [YES, \"RIATTIVA\""),
        encoding="utf-8")
    assert any(p.startswith("it.yaml: keywords.start must be a list of quoted strings")
               for p in Catalogs(tmp_path).problems())


def test_english_name_uses_meta_then_cldr_then_the_code():
    assert english_name("pl") == "Polish"
    assert english_name("pa") == "Punjabi (Gurmukhi)"
    assert english_name("de") == "German"
    assert english_name("xx") == "xx"


def test_dates_in_polish_name_the_weekday_in_polish():
    tuesday = datetime(2024, 12, 3, 15, 30, tzinfo=timezone.utc)
    text = format_datetime_for(tuesday, "pl", "Europe/London")
    assert text.startswith("wtorek, 3 grudnia")
    assert "15:30" in text


def test_dates_in_arabic_name_the_weekday_in_arabic():
    tuesday = datetime(2024, 12, 3, 15, 30, tzinfo=timezone.utc)
    text = format_datetime_for(tuesday, "ar", "Europe/London")
    assert "الثلاثاء" in text and "ديسمبر" in text
    assert "Tuesday" not in text


def test_dates_are_shown_in_the_schools_time_zone():
    summer = datetime(2025, 6, 3, 15, 30)  # naive means UTC; London is on BST (+1)
    assert "16:30" in format_datetime_for(summer, "pl", "Europe/London")
    assert "15:30" in format_datetime_for(summer, "pl", "UTC")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_catalogue_writes_the_full_weekday_and_no_year(lang):
    locale = Locale.parse(language_meta(lang)["locale"])
    tuesday = datetime(2024, 12, 3, 12, 0, tzinfo=timezone.utc)
    text = format_datetime_for(tuesday, lang, "Europe/London")
    weekday_names = {locale.days[context]["wide"][1] for context in ("format", "stand-alone")}
    assert any(name in text for name in weekday_names), (text, weekday_names)
    assert "2024" not in text  # a reminder needs weekday, day, month and time; the year is noise


@pytest.mark.parametrize("language, text, options, meant", [
    ("ur", "بالکل نہیں", ("yes", "no"), "no"),            # "not at all": بالکل alone is yes
    ("bn", "আমি আসব না", ("attending", "another_time"), "another_time"),  # "I won't come"
    ("ur-Latn", "theek nahi", ("yes", "no"), "no"),
    ("ur-Latn", "ji haan", ("yes", "no"), "yes"),
    ("pa-Latn", "haan ji", ("yes", "no"), "yes"),
    ("bn-Latn", "na", ("yes", "no"), "no"),
])
def test_a_negated_answer_is_not_read_as_its_positive(language, text, options, meant):
    from flows import words_for
    from flows.matching import match_option
    assert match_option(text, None, options, words_for(language)) == meant
