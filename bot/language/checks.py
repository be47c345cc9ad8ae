"""Everything CI checks in the catalogue: messages, meta, keywords and answer words together."""
from __future__ import annotations

from bot.language.keywords import KeywordMatcher, keyword_problems
from templates_i18n.catalog import SOURCE_LANGUAGE, Catalogs, default_catalogs
from templates_i18n.text import normalise_keyword


def validate_catalogs() -> list[str]:
    """Problems in the catalogues (messages, meta, keywords, answer words); [] when all is well."""
    catalogs = default_catalogs()
    return catalogs.problems() + keyword_problems(catalogs) + answer_word_problems(catalogs)


def answer_word_problems(catalogs: Catalogs) -> list[str]:
    """Answer-word blocks that drift from English or would be misread; [] when all is well."""
    matcher = KeywordMatcher(catalogs)
    english = catalogs.files[SOURCE_LANGUAGE].get("answers")
    if not isinstance(english, dict) or not english:
        return [f"{SOURCE_LANGUAGE}.yaml: needs an 'answers' block (answer id -> words)"]
    found: list[str] = []
    for lang in catalogs.languages():
        block = catalogs.files[lang].get("answers")
        if not isinstance(block, dict):
            found.append(f"{lang}.yaml: missing 'answers' block (answer id -> words)")
            continue
        where = f"{lang}.yaml answers"
        found += [f"{where}: missing words for {key!r}" for key in english if key not in block]
        found += [f"{where}: {key!r} is not in en.yaml (unquoted yes/no keys are YAML booleans)"
                  for key in block if key not in english]
        seen: dict[str, str] = {}
        for key, words in block.items():
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                found.append(f"{where}.{key}: must be a non-empty list of quoted strings")
                continue
            for word in words:
                norm = normalise_keyword(word)
                if seen.get(norm, key) != key:
                    found.append(f"{where}.{key} {word!r}: also listed for {seen[norm]!r}")
                seen.setdefault(norm, key)
                keyword = matcher.match(word)
                if keyword and keyword.action != "start":
                    # The host acts on STOP/HELP before a flow sees the reply: never an answer.
                    found.append(f"{where}.{key} {word!r}: is a {keyword.action} keyword and would never reach a flow")
    return found
