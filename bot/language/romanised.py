"""Urdu/Hindi, Punjabi and Bengali written in English letters (Roman Urdu, Roman Punjabi, Banglish).

lingua's Urdu, Punjabi and Bengali models know only their own scripts, so "Zain aaj school nahi
aayega, usko bukhar hai" reads to it as Albanian, and a medication instruction with a few English
words as English. No public corpus of romanised parent texts is on these machines to train a
model on, so this is a small hand-written lexicon of the words these texts are made of —
grammar words, pronouns, verb endings, everyday school words — with two numbers per word:

- how much it says "this is a romanised South Asian language" (`weight`): 1 for words no other
  school language writes ("nahi", "usko", "tusi", "ami"), less for short ones that are also
  words in Romanian, Polish or Somali ("hai", "ko", "nu", "da");
- which of the three languages it belongs to (`languages`): Hindustani words shared by Urdu and
  Punjabi speakers count for both equally, so only words one language alone uses ("usko" vs
  "ohnu", "ke" vs "de") tip the balance between them.

`romanised_evidence` turns a message into a probability that it is romanised South Asian and a
split between the three; `bot.language.detection` mixes that with lingua's reading. Without the
guardian's language, Urdu and Punjabi written with shared words stay below 0.5 each ("language
uncertain") rather than a confident guess; with it, the prior decides. Measured on hand-written
messages in tests/data/romanised/ (bench/langid.py --romanised; docs/benchmarks.md), which were
written separately from this lexicon and are never used to tune it.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

ROMANISED_LANGUAGES = ("ur", "pa", "bn")

# Words and their languages. Spellings as parents type them; each variant is listed, because
# folding vowels would merge words the languages keep apart (Urdu "aaj", Punjabi "ajj").
_HINDUSTANI = ("ur", "pa")  # shared by Urdu/Hindi and Punjabi speakers
_GREETING = ("ur", "pa", "bn")  # also what Somali and Arab parents type: weak

_LEXICON_SOURCE: tuple[tuple[float, tuple[str, ...], str], ...] = (
    # Urdu/Hindi alone (Punjabi says mainu, ohnu, kithe, -da for these).
    (1.0, ("ur",), """mujhe muje mujhay mujhko hamara humara hamare humare hamari humari usko unko isko
        inko uska uski uske unka unki unke iska iski iske kya kia kyun kyu kaise kaisa kaisi kahan
        kidhar lekin magar jayega jaega jaegi jayegi jaye jaaye aayega ayega aaega aaegi aayegi
        karega karegi karenge karein kariye kijiye kijiyega dijiye dijiyega rahe rahi raha rahay
        hoga hogi honge thay sakta sakti sakte sakain chahiye chahye chahiay yahan wahan
        hain hy hoon hun_ur mein_ur apko aapko unhe unhein usey woh yeh payega paega sakega
        paayega zukaam namaste namaskar"""),
    (0.5, ("ur",), "tha thi"),  # Albanian "tha" (said)
    (0.25, ("ur",), "ko se ka ki ke ne mein mai par"),
    # Punjabi alone.
    (1.0, ("pa",), """tusi tussi tuhanu tuhada tuhadi tuhade tuhanoo sanu sannu sadda saddi sadde ohnu
        onu ehnu inu ohda ohdi ohde ehda ehdi mainu menoo tainu kithe kitthe kiddan kidda kiven
        kivein kive hunn haiga haigi hega hegi karda kardi karde janda jandi jande aunda aundi
        honda hondi rehnda dassna dasso dasna dassde changa changi changey vich wich vichon gallan
        galla kuri kudi munda putt puttar layi jado jadon odon ohna ehna gaya_pa jaavega
        aavega aauga jauga karuga ajj kal_pa hoyea hoya hoyi kitta kitti lagda lagdi lagde chahida
        chahidi chahide sakda sakdi sakde ditta ditti dungi dunga devanga devangi nal naal
        ohdiyan ehdiyan akhan kyon kinna kinni thodda ikk kall parson savere raati dassdo puchna
        vekh vekhna vekhya bolda bolde boldi kehnda kehndi jehda jehdi karni paunda
        bachian kuriyan mundey likhya parhda parhdi aaja"""),
    (0.5, ("pa",), "hor vi asi assi"),  # Spanish asi, Italian vi
    (0.25, ("pa",), "da di de nu te ton si aa ae ni"),
    # Bengali alone.
    (1.0, ("bn",), """ami amra amar amader tumi tomar tomader apni apnar apnara apnader ache achhe ase
        nei hobe hoyeche hoyese hoise hoye korbe korte kori korchi korsi koren korben korechi
        koreche korse jabe jaabe jete jacche jaitese asbe ashbe aste ashte parbe parben parchi
        parsi bolben bolte bolchi janaben janai janate dorkar lagbe kintu ekhon akhon ekhane okhane
        kalke ajke aajke bhalo valo khub onek ektu keno kemon kothay kobe theke tekhe diye niye
        jonno sathe shathe chele meye jor osudh oshudh oushod dhonnobad dhonyobad donnobad hocche
        hosse chilo silo thakbe dite khete barite amake tomake apnake
        oibo oise oiche oilagi aiche ashche kene apne korbo korlam korimu dilam dibo
        dibain nibo jaimu aimu khaimu dimu oimu kuin bhala gese geche gesi lagche lagse
        lagle pabo paini parini parina bujhi bujhte bujhina janina kichu kisu kono ekta
        arekta duita protidin ghore sobai kemne kibhabe hoyni hoiche ashlo lekha
        khabe khay ghumay mone tahole nay_bn"""),
    # Also words elsewhere (Italian porte, gelo, bari; Polish konta; Lithuanian kita; French aise).
    (0.5, ("bn",), "porte gelo konta kita aise bari pora bala kun nite"),
    (0.25, ("bn",), "er ta ke_bn tar or re e o ni_bn ar ora oder"),
    # Hindustani words Urdu/Hindi and Punjabi speakers both type.
    (1.0, _HINDUSTANI, """nahi nahin nhi nai meri aap apka aapka aapki aapke apki apke aaj
        bhi abhi bahut bohat bohot thoda thodi theek thik acha achha accha acchi achhi shukriya
        shukria beti bacha bachha bachay bacche bachon ammi abbu ghar jaana karna dena
        deni dein gaya gayi gya gyi wala wali wale zaroor zaroori bukhar dawai dawa dawaai
        takleef tabiyat tabiat bimar beemar milna batana bataiye samajh saath
        sath wajah liye lye baad pehle subah subha shaam raat hum tum koi kuch kuchh sab phir fir
        jab agar waqt aur haan jee yaad chhutti chutti kaam khana karo karte karti karta
        rha rhi haanji hanji khansi bimaar"""),
    # Also words elsewhere: Romanian "hai", Lithuanian "ji", Italian "ho", the names Jana and Lena.
    (0.5, _HINDUSTANI, "hai kal kar ji wo pata jana lena mil ho mera mere beta bata"),
    (0.25, _HINDUSTANI, "din na"),
    (0.25, _GREETING, """assalam asalam salam alaikum alaykum walaikum assalamualaikum assalamoalaikum
        inshallah mashallah alhamdulillah jazakallah khuda hafiz allah"""),
)


def _build_lexicon() -> dict[str, tuple[float, tuple[str, ...]]]:
    lexicon: dict[str, tuple[float, tuple[str, ...]]] = {}
    for weight, languages, words in _LEXICON_SOURCE:
        for entry in words.split():
            # "hun_ur" marks a spelling listed again under another language: the suffix keeps
            # the source readable; the word is the part before it.
            word = entry.split("_", 1)[0]
            known_weight, known_languages = lexicon.get(word, (0.0, ()))
            lexicon[word] = (max(weight, known_weight), tuple(dict.fromkeys(known_languages + languages)))
    return lexicon


LEXICON = _build_lexicon()

# English words that mixed messages are full of: neither evidence for nor against.
ENGLISH_WORDS = frozenset("""
    a an the and or but if so to of in on at for from with by about as is are was were be been am
    i you he she it we they me him her us them my your his its our their this that these those
    not no yes ok okay please thanks thank sorry hi hello dear miss mr mrs ms sir madam teacher
    school class lunch break home homework today tomorrow yesterday morning afternoon evening
    week monday tuesday wednesday thursday friday saturday sunday time am pm meeting review
    appointment doctor hospital dentist medicine medication tablet inhaler sick ill fever cough
    cold pain late early absent come coming go going will can could would should need want have
    has had do does did get got give take bring send call phone number message text email bus
    taxi transport uniform shoes bag book books reading trip form letter report ehcp sen send
    support help plan office head teacher assistant ta nursery reception year
""".split())

_WORD = re.compile(r"[^\W\d_]+")
_LONG_REPEATS = re.compile(r"(.)\1{2,}")  # "nahiii" -> "nahi"; doubled letters are spelling

# The evidence model (see romanised_evidence): a message needs about this much to count.
EVIDENCE_OFFSET = 2.0
SHARE_WEIGHT = 2.0  # how much the share of marker words in the non-English words adds
STEEPNESS = 2.0
PRIOR_BOOST = 1.5
ACCENT_PENALTY = 1.0  # per word with a letter outside ASCII  # a guardian known to speak one of the three: a word or two is enough


@dataclass(frozen=True)
class RomanisedEvidence:
    """How likely a Latin-script text is romanised South Asian, and the split between the three."""

    probability: float
    split: dict[str, float]


NONE = RomanisedEvidence(0.0, {})


def romanised_evidence(text: str, prior: str | None = None) -> RomanisedEvidence:
    """The evidence that `text` (Latin script) is Roman Urdu/Hindi, Roman Punjabi or Banglish."""
    words = [_LONG_REPEATS.sub(r"\1", word) for word in _WORD.findall(text.lower())]
    if not words:
        return NONE
    markers = [LEXICON[word] for word in words if word in LEXICON]
    if not markers:
        return NONE
    # Short words shared with European languages ("de", "se", "e") pile up in any long text:
    # they count towards the share of marker words, not as evidence of their own.
    strong = sum(marker_weight for marker_weight, _ in markers if marker_weight >= 0.5)
    non_english = sum(word not in ENGLISH_WORDS or word in LEXICON for word in words)
    share = sum(marker_weight for marker_weight, _ in markers) / max(non_english, 1)
    # Romanised South Asian texts are typed in plain ASCII; "më", "così", "ąę" are not.
    accented = sum(not word.isascii() for word in words)
    score = strong + SHARE_WEIGHT * share - EVIDENCE_OFFSET - ACCENT_PENALTY * accented
    if prior in ROMANISED_LANGUAGES:
        score += PRIOR_BOOST
    probability = 1.0 / (1.0 + math.exp(-STEEPNESS * score))
    return RomanisedEvidence(probability, _split(markers))


def told_apart(text: str, language: str) -> bool:
    """Whether words only `language` uses are in the text, and none only another of the three uses.

    Urdu, Punjabi and Bengali speakers share much of what they type ("nahi", "school", "theek");
    only words of one language alone tell them apart ("usko" / "ohnu" / "amake"). When none, or
    both kinds, turn up, a reading without the guardian's language stays uncertain.
    """
    own = {code: 0 for code in ROMANISED_LANGUAGES}
    for word in _WORD.findall(text.lower()):
        marker = LEXICON.get(_LONG_REPEATS.sub(r"\1", word))
        if marker and len(marker[1]) == 1 and marker[0] >= 0.5:  # short words ("ke", "o") decide nothing
            own[marker[1][0]] += 1
    return own.get(language, 0) > 0 and not any(count for code, count in own.items() if code != language)


def _split(markers: list[tuple[float, tuple[str, ...]]]) -> dict[str, float]:
    """Which of the three: each word votes for its languages; shared words cancel out."""
    votes = {language: 0.0 for language in ROMANISED_LANGUAGES}
    for _, languages in markers:
        for language in languages:
            votes[language] += 1.0
    highest = max(votes.values())
    raised = {language: math.exp(vote - highest) for language, vote in votes.items()}
    total = sum(raised.values())
    return {language: value / total for language, value in raised.items()}
