"""Benchmark: do times, dates, numbers, addresses, emoji and names survive machine translation?

Run:  .venv/bin/python bench/tokens.py [--write]

The 52 staff sentences of tests/data/staff_sentences_with_tokens.txt, English → Spanish through
Apertium (the engine this offline machine has for a real pair), once as they are and once with
the product's protection (bot/translation/protect.py: placeholders in, tokens back). Counts the
protected tokens found unchanged in the output. The same tokens then go through the tiny Argos
pack (xx → en, a 28-word toy lexicon: argos' real code path, not a real model), each sentence's
tokens between two words it knows. --write replaces the `### Protected tokens` block of the
`## Translation` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import replace_subsection  # noqa: E402
from bot.translation import build_translator  # noqa: E402
from bot.translation.protect import protect  # noqa: E402

SENTENCES = Path(__file__).resolve().parents[1] / "tests" / "data" / "staff_sentences_with_tokens.txt"
NAMES = ("Zain", "Lucas", "Mrs Khan", "Ms Patel", "Mr Jones")
SUBSECTION = "### Protected tokens"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    sentences = SENTENCES.read_text(encoding="utf-8").splitlines()
    with build_translator({"TRANSLATION_ENGINE": "apertium"}) as translator:
        engine = translator.engines[0]
        total = plain_kept = protected_kept = plain_whole = protected_whole = 0
        examples = []
        for sentence in sentences:
            tokens = protect(sentence, NAMES).tokens
            plain = engine.translate(sentence, "en", "es")
            guarded = translator.translate(sentence, "en", "es", keep=NAMES).text
            kept_plain = sum(token in plain for token in tokens)
            kept_guarded = sum(token in guarded for token in tokens)
            total += len(tokens)
            plain_kept, protected_kept = plain_kept + kept_plain, protected_kept + kept_guarded
            plain_whole += kept_plain == len(tokens)
            protected_whole += kept_guarded == len(tokens)
            if kept_plain < len(tokens) and len(examples) < 3:
                examples.append(f"- \"{sentence}\" → without protection \"{plain}\"; with: \"{guarded}\"")
    argos = argos_counts(sentences)
    text = "\n".join([
        SUBSECTION, "",
        f"`bench/tokens.py`, {time.strftime('%Y-%m-%d')}: {len(sentences)} staff sentences "
        f"(tests/data/staff_sentences_with_tokens.txt) with {total} times, dates, numbers, phone numbers, "
        "addresses, emoji and names, English → Spanish through Apertium.", "",
        "| | tokens unchanged | sentences with every token unchanged |", "| --- | --- | --- |",
        f"| as they are | {plain_kept} / {total} | {plain_whole} / {len(sentences)} |",
        f"| protected (placeholders in, tokens back) | {protected_kept} / {total} | "
        f"{protected_whole} / {len(sentences)} |", "",
        "What went wrong without protection, for example:", *examples, "",
        "Through the tiny Argos pack (each sentence's tokens as `hola <tokens> mundo.`, xx → en):", "",
        "| | tokens unchanged | sentences with every token unchanged | refused (English + notice) |",
        "| --- | --- | --- | --- |",
        f"| as they are | {argos['plain_kept']} / {argos['total']} | {argos['plain_whole']} / {len(sentences)} | – |",
        f"| protected | {argos['kept']} / {argos['total']} | {argos['whole']} / {len(sentences)} | "
        f"{argos['refused']} |", "",
        "An engine that drops or changes a placeholder is not used for that message: the parent gets the "
        "English with the plain notice instead (tested with the tiny Argos pack).",
    ])
    print(text)
    if args.write:
        replace_subsection("## Translation", SUBSECTION, text)


def argos_counts(sentences: list[str]) -> dict[str, int]:
    """The staff sentences' tokens through the tiny Argos pack, with and without protection."""
    import tempfile

    from bot.translation import TranslationUnavailable
    from bot.translation import argos as argos_engine
    from tests.support.argos_tiny import build_tiny_pack, configure_argos_env

    configure_argos_env(tempfile.mkdtemp(prefix="bench-argos-"))
    argos_engine.install_package_file(build_tiny_pack(tempfile.mkdtemp(prefix="bench-pack-")))
    counts = dict.fromkeys(("total", "plain_kept", "plain_whole", "kept", "whole", "refused"), 0)
    with build_translator({"TRANSLATION_ENGINE": "argos"}) as translator:
        for sentence in sentences:
            tokens = protect(sentence, NAMES).tokens
            source = f"hola {' '.join(tokens)} mundo."
            plain = translator.engines[0].translate(source, "xx", "en")
            try:
                guarded = translator.translate(source, "xx", "en", keep=NAMES).text
            except TranslationUnavailable:
                counts["refused"] += 1
                guarded = ""
            counts["total"] += len(tokens)
            counts["plain_kept"] += sum(token in plain for token in tokens)
            counts["plain_whole"] += all(token in plain for token in tokens)
            counts["kept"] += sum(token in guarded for token in tokens)
            counts["whole"] += bool(guarded) and all(token in guarded for token in tokens)
    return counts


if __name__ == "__main__":
    main()
