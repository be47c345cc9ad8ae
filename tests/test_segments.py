"""SMS segment counting for GSM-7 and UCS-2 texts."""
from bot.messaging.segments import count_segments


def test_plain_english_is_gsm7_160_per_segment():
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3
    assert count_segments("Hello").encoding == "GSM-7"


def test_extended_characters_cost_two():
    assert count_segments("€" * 80).segments == 1
    assert count_segments("€" * 81).segments == 2


def test_polish_arabic_and_urdu_are_ucs2_70_per_segment():
    assert count_segments("ż" * 70).encoding == "UCS-2"
    assert count_segments("ż" * 70).segments == 1
    assert count_segments("ż" * 71).segments == 2
    assert count_segments("شكرا" * 20).segments == 2


def test_emoji_take_two_ucs2_units():
    assert count_segments("🙂" * 35).segments == 1
    assert count_segments("🙂" * 36).segments == 2
