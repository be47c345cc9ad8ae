"""Benchmark: language identification of parents' messages (bot.language) against langdetect.

    python bench/langid.py              # ~3.5 minutes: a sample per language and bucket
    python bench/langid.py --per-cell 0 # every line (~15 minutes)
    python bench/langid.py --fit        # refit bot.language's constants, print them, stop

Data: ../shared/langid/data (see its README): lingua's test sets (23 languages: single words,
word pairs, sentences), NTREX-derived Pashto, Sorani, Tigrinya (same buckets), Tatoeba
sentences (19 languages + English; Kurmanji left out) by length. The sender's language is
simulated as the README did: known for 80% of senders, English for the rest. Accuracy,
calibration, latency and resident memory are printed and written to docs/benchmarks.md,
section "## Language identification".
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from langdetect import DetectorFactory  # noqa: E402
from langdetect.detector_factory import init_factory  # noqa: E402
from langdetect.lang_detect_exception import LangDetectException  # noqa: E402
from lingua import IsoCode639_1, LanguageDetectorBuilder  # noqa: E402

from bot.language import detection as language  # noqa: E402

DATA = REPO.parent / "shared" / "langid" / "data"
DOC = REPO / "docs" / "benchmarks.md"
SECTION = "## Language identification"
LINGUA_BUCKETS = ("single-words", "word-pairs", "sentences")
TATOEBA_BUCKETS = ("<20", "20-50", ">50")
TATOEBA_CODES = {"ara": "ar", "ben": "bn", "bul": "bg", "cmn": "zh", "fra": "fr", "hun": "hu",
                 "ita": "it", "lit": "lt", "pes": "fa", "pol": "pl", "por": "pt", "ron": "ro",
                 "rus": "ru", "spa": "es", "sqi": "sq", "tam": "ta", "tur": "tr", "ukr": "uk",
                 "urd": "ur", "eng": "en"}
NTREX_CODES = {"ps": "ps", "ku_ckb": "ku", "ti": "ti"}
README_PRIOR_WEIGHT = 10.0  # the multiplier the data README measured, for the baselines


def load_items(per_cell: int) -> list[tuple[str, str, str, str]]:
    """(set, bucket, language, text) for every benchmark line, or a seeded sample per cell."""
    cells: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for bucket in LINGUA_BUCKETS:
        for code in language.LINGUA_LANGUAGES:
            cells["lingua", bucket, code] = _lines(DATA / "lingua" / bucket / f"{code}.txt")
        for name, code in NTREX_CODES.items():
            cells["ntrex", bucket, code] = _lines(DATA / "ntrex_derived" / bucket / f"{name}.txt")
    for path in sorted((DATA / "tatoeba_laser").glob("tatoeba.*")):
        code = TATOEBA_CODES.get(path.suffix[1:])
        for line in _lines(path) if code else ():  # kur: Kurmanji, not supported
            bucket = "<20" if len(line) < 20 else "20-50" if len(line) <= 50 else ">50"
            cells["tatoeba", bucket, code].append(line)
    items = []
    for key, lines in sorted(cells.items()):
        if per_cell and len(lines) > per_cell:
            lines = random.Random("/".join(key)).sample(lines, per_cell)
        items += [(*key, line) for line in lines]
    return items


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def simulated_prior(item: tuple[str, str, str, str]) -> str:
    """The sender's recorded language: theirs for 80% of senders, English for the rest."""
    return item[2] if random.Random("prior/" + "/".join(item)).random() < 0.8 else "en"


class LinguaTimesTen:
    """The data README's method: lingua on the school's languages, prior score x10."""

    def __init__(self, low_accuracy: bool = False, lazy: bool = False):
        builder = LanguageDetectorBuilder.from_iso_codes_639_1(
            *[getattr(IsoCode639_1, code.upper()) for code in language.LINGUA_LANGUAGES])
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        if not lazy:
            builder = builder.with_preloaded_language_models()
        self.detector = builder.build()

    def scores(self, text: str) -> dict[str, float]:
        return {value.language.iso_code_639_1.name.lower(): value.value
                for value in self.detector.compute_language_confidence_values(text)}


class LangdetectBaseline:
    """langdetect 1.0.9, all its 55 languages, seed 0; full probability vector for the prior."""

    def __init__(self):
        DetectorFactory.seed = 0
        init_factory()
        from langdetect.detector_factory import _factory  # created by init_factory()

        self.factory = _factory
        self.codes = [code.split("-")[0] for code in _factory.get_lang_list()]  # zh-cn -> zh

    def scores(self, text: str) -> dict[str, float]:
        detector = self.factory.create()
        detector.append(text)
        try:
            detector._detect_block()  # the public call drops probabilities under 0.1
        except LangDetectException:
            return {}
        scores: dict[str, float] = defaultdict(float)
        for code, probability in zip(self.codes, detector.langprob):
            scores[code] += probability
        return scores


def with_priors(scores_of):
    """A method for evaluate(): score the text once, then pick under each prior."""
    def method(text, priors):
        scores = scores_of(text)
        return [pick(scores, prior) for prior in priors]
    return method


def pick(scores: dict[str, float], prior: str | None) -> tuple[str | None, float]:
    """Top language and its normalised score after multiplying the prior's score by 10."""
    if prior in scores:
        scores = {**scores, prior: scores[prior] * README_PRIOR_WEIGHT}
    total = sum(scores.values())
    if not total:
        return None, 0.0
    best = max(scores, key=scores.__getitem__)
    return best, scores[best] / total


def evaluate(items, methods) -> dict:
    """Per method and prior setting: (set, bucket, language) -> list of (correct, confidence)."""
    results = {(name, with_prior): defaultdict(list)
               for name in methods for with_prior in (False, True)}
    for item in items:
        cell, text, truth = item[:3], item[3], item[2]
        priors = (None, simulated_prior(item))
        for name, method in methods.items():
            for with_prior, (guess, confidence) in zip((False, True), method(text, priors)):
                results[name, with_prior][cell].append((guess == truth, confidence))
    return results


def macro(cells: dict, set_names: tuple[str, ...], bucket: str) -> float:
    """Accuracy averaged over languages (each language weighs the same), in %."""
    rates = [sum(ok for ok, _ in outcomes) / len(outcomes)
             for (set_name, cell_bucket, _), outcomes in cells.items()
             if set_name in set_names and cell_bucket == bucket]
    return 100 * sum(rates) / len(rates)


def calibration(cells: dict, set_name: str) -> tuple[float, float, float]:
    """Expected calibration error (10 bins), share of answers >= 0.8 and their accuracy."""
    outcomes = [o for (name, _, _), os_ in cells.items() if name == set_name for o in os_]
    bins: dict[int, list] = defaultdict(list)
    for ok, confidence in outcomes:
        bins[min(int(confidence * 10), 9)].append((ok, confidence))
    ece = sum(abs(sum(ok for ok, _ in b) - sum(c for _, c in b)) for b in bins.values())
    sure = [ok for ok, confidence in outcomes if confidence >= 0.8]
    return (100 * ece / len(outcomes), 100 * len(sure) / len(outcomes),
            100 * sum(sure) / max(len(sure), 1))


def english_with_foreign_prior(items, methods) -> dict[str, dict[str, float]]:
    """Accuracy on English Tatoeba lines sent by parents recorded with another language."""
    others = [code for code in language.SUPPORTED_LANGUAGES if code != "en"]
    english = [item for item in items if item[0] == "tatoeba" and item[2] == "en"]
    table: dict[str, dict[str, float]] = {}
    for name, method in methods.items():
        per_bucket = defaultdict(list)
        for index, item in enumerate(english):
            guess, _ = method(item[3], (others[index % len(others)],))[0]
            per_bucket[item[1]].append(guess == "en")
        table[name] = {bucket: 100 * sum(v) / len(v) for bucket, v in per_bucket.items()}
    return table


def latency(method, texts: list[str]) -> tuple[float, float]:
    """Median and 95th percentile of one call, in milliseconds."""
    times = []
    for text in texts:
        start = time.perf_counter()
        method(text, ("pl",))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95)]


MEMORY_PROBES = {
    "import": ("python, bot.language imported, nothing loaded", "import bot.language.detection"),
    "high": ("bot.language after preload() (high accuracy: chosen)",
             "import bot.language.detection as l; l.preload()"),
    "lazy": ("lingua lazy loading, after one Polish message",
             "import bench.langid as b; b.LinguaTimesTen(lazy=True).scores('Dzień dobry, syn chory')"),
    "low": ("lingua low-accuracy mode, preloaded", "import bench.langid as b; b.LinguaTimesTen(True)"),
    "langdetect": ("langdetect, profiles loaded",
                   "import bench.langid as b; b.LangdetectBaseline().scores('hi')"),
}


def resident_memory() -> dict[str, tuple[float, float, float]]:
    """Resident and peak memory (MiB), load time (s) of each configuration, in fresh processes."""
    measured = {}
    for key, (_, statement) in MEMORY_PROBES.items():
        code = ("import time; t = time.perf_counter(); " + statement + "; t = time.perf_counter() - t\n"
                "kb = {l.split(':')[0]: int(l.split()[1]) for l in open('/proc/self/status') if 'kB' in l}\n"
                "print(kb['VmRSS'] / 1024, kb['VmHWM'] / 1024, t)")
        output = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                                text=True, check=True,
                                env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
        measured[key] = tuple(map(float, output.split()))
    return measured


def fit() -> None:
    """Refit SHARPNESS and SMOOTHING (log-loss, no prior) and PRIOR_WEIGHT on lingua's even lines."""
    import numpy as np

    codes = language.LINGUA_LANGUAGES
    lingua = LinguaTimesTen()
    rows, truths, letters, priors = [], [], [], []
    for bucket in LINGUA_BUCKETS:
        for code in codes:
            for index, line in enumerate(_lines(DATA / "lingua" / bucket / f"{code}.txt")[::2]):
                scores = lingua.scores(line)
                rows.append([math.log(max(scores.get(c, 0.0), 1e-300)) for c in codes])
                truths.append(codes.index(code))
                letters.append(sum(char.isalpha() for char in language._clean(line)))
                priors.append(codes.index(simulated_prior(("lingua", bucket, code, str(index)))))
    logs, truth = np.array(rows), np.array(truths)
    root_letters, prior = np.sqrt(np.array(letters, float))[:, None], np.array(priors)
    picked = np.arange(len(truth))

    def log_loss(sharpness, smoothing, weight=1.0):
        raised = logs * sharpness * root_letters
        p = np.exp(raised - raised.max(1, keepdims=True))
        p = (1 - smoothing) * p / p.sum(1, keepdims=True) + smoothing / len(codes)
        p[picked, prior] *= weight
        return -np.log(p[picked, truth] / p.sum(1)).mean()

    loss, sharpness, smoothing = min((log_loss(a, e), a, e) for a in np.geomspace(0.2, 2, 41)
                                     for e in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2))
    print(f"SHARPNESS = {sharpness:.2f}  SMOOTHING = {smoothing}  (log-loss {loss:.4f}, "
          f"uncalibrated {log_loss(1 / root_letters, 1e-12):.4f}; {len(truth)} lines)")
    for weight in (3, 5, 10, 20, 30, 50, 100):
        print(f"PRIOR_WEIGHT = {weight:<4} log-loss with simulated prior "
              f"{log_loss(sharpness, smoothing, weight):.4f}")


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_tables(results: dict, names: dict[str, str]) -> str:
    """Macro accuracy per bucket for every method, and error ratios against langdetect."""
    columns = ([("lingua", b, ("lingua",)) for b in LINGUA_BUCKETS]
               + [("all 26", b, ("lingua", "ntrex")) for b in LINGUA_BUCKETS]
               + [("Tatoeba", b, ("tatoeba",)) for b in TATOEBA_BUCKETS])
    header = ["method", "prior"] + [f"{s} {b}" for s, b, _ in columns]
    rows, values = [], {}
    for (name, with_prior), cells in results.items():
        values[name, with_prior] = [macro(cells, sets, b) for _, b, sets in columns]
        rows.append([names[name], "80%" if with_prior else "none"]
                    + [f"{v:.1f}" for v in values[name, with_prior]])
    for with_prior in (False, True):
        ours, base = values["ours", with_prior], values["langdetect", with_prior]
        rows.append([f"**errors, ours ÷ langdetect**", "80%" if with_prior else "none"]
                    + [f"×{(100 - o) / max(100 - b, 1e-9):.2f}" for o, b in zip(ours, base)])
    return table(header, rows)


def per_language_table(results: dict, with_prior: bool) -> str:
    """Accuracy per language and bucket, bot.language / langdetect."""
    ours, base = results["ours", with_prior], results["langdetect", with_prior]
    buckets = [("lingua", "ntrex", b) for b in LINGUA_BUCKETS] + [("tatoeba", "tatoeba", b)
                                                                 for b in TATOEBA_BUCKETS]
    rows = []
    for code in language.SUPPORTED_LANGUAGES:
        row = [code]
        for lingua_set, other_set, bucket in buckets:
            cell = next(((s, bucket, code) for s in (lingua_set, other_set)
                         if (s, bucket, code) in ours), None)
            row.append("–" if cell is None else
                       f"{_rate(ours[cell]):.0f} / {_rate(base[cell]):.0f}")
        rows.append(row)
    return table(["lang"] + [f"{b}" for *_, b in buckets], rows)


def _rate(outcomes: list) -> float:
    return 100 * sum(ok for ok, _ in outcomes) / len(outcomes)


def machine() -> str:
    """CPU, cores, memory, Python and library versions."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    memory = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal"))
                 .split()[1]) / 1024 ** 2
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"lingua-language-detector {version('lingua-language-detector')}, "
            f"langdetect {version('langdetect')}")


def write_section(text: str) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, leaving the others alone."""
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    start = current.find(SECTION + "\n")
    if start < 0:
        current, start = current.rstrip("\n") + "\n\n", len(current.rstrip("\n")) + 2
    end = current.find("\n## ", start + len(SECTION))
    tail = current[end + 1:] if end >= 0 else ""
    DOC.parent.mkdir(exist_ok=True)
    DOC.write_text(current[:start] + text.rstrip("\n") + "\n" + ("\n" + tail if tail else ""),
                   encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-cell", type=int, default=300,
                        help="lines sampled per language and bucket (0: all)")
    parser.add_argument("--fit", action="store_true", help="refit bot.language's constants")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"benchmark data not found at {DATA}")
    if args.fit:
        return fit()
    started = time.perf_counter()
    items = load_items(args.per_cell)
    preload_started = time.perf_counter()
    language.preload()
    preload_seconds = time.perf_counter() - preload_started
    lingua, low, baseline = LinguaTimesTen(), LinguaTimesTen(low_accuracy=True), LangdetectBaseline()

    def ours(text, priors):
        return [(d.language, d.confidence) for d in (language.detect(text, p) for p in priors)]

    methods = {"ours": ours, "lingua": with_priors(lingua.scores),
               "lingua-low": with_priors(low.scores), "langdetect": with_priors(baseline.scores)}
    names = {"ours": "**bot.language**", "lingua": "lingua, school languages, prior ×10",
             "lingua-low": "same, low-accuracy mode", "langdetect": "langdetect (baseline), prior ×10"}
    print(f"{len(items)} lines; evaluating 4 methods with and without prior ...", flush=True)
    results = evaluate(items, methods)
    english = english_with_foreign_prior(items, methods)
    texts = [item[3] for item in items if item[0] == "tatoeba"]
    timings = {name: latency(methods[name], texts) for name in ("ours", "langdetect")}
    memory = resident_memory()
    report = render(args, items, results, names, english, timings, memory, preload_seconds,
                    time.perf_counter() - started)
    print(report)
    if not args.no_write:
        write_section(report)
        print(f"written to {DOC.relative_to(REPO)}")


def decision(results: dict, memory: dict) -> str:
    """Why the high-accuracy models are loaded eagerly, in this run's numbers."""
    def errors(name, set_name, bucket):
        return 100 - macro(results[name, True], (set_name,), bucket)

    short = errors("lingua-low", "tatoeba", "<20") / errors("lingua", "tatoeba", "<20")
    words = errors("lingua-low", "lingua", "single-words") / errors("lingua", "lingua", "single-words")
    return f"""Decision: high-accuracy models, loaded at start-up. Low-accuracy mode would save
{memory['high'][0] - memory['low'][0]:.0f} MiB resident per process, but with the prior it makes ×{short:.1f} the
errors on Tatoeba lines under 20 characters and ×{words:.1f} on single words: short replies are
what parents send. Lazy loading saves little: lingua's lazy mode held
{memory['lazy'][0] - memory['import'][0]:.0f} MiB after one Polish message, loaded in
{memory['lazy'][2]:.1f} s inside that first request. So detect() builds the detector with every
model on first use, and the web app and the worker call preload() at start-up; a gunicorn
`--preload` master shares the models with its workers (copy-on-write)."""


def render(args, items, results, names, english, timings, memory, preload_seconds, seconds) -> str:
    """The section for docs/benchmarks.md."""
    ece_rows = []
    for name in ("ours", "lingua", "langdetect"):
        for set_name in ("tatoeba", "lingua"):
            ece, share, accuracy = calibration(results[name, False], set_name)
            ece_rows.append([names[name], set_name, f"{ece:.1f}", f"{share:.0f}%", f"{accuracy:.1f}"])
    english_rows = [[names[name]] + [f"{english[name][b]:.1f}" for b in TATOEBA_BUCKETS]
                    for name in english]
    memory_rows = [[MEMORY_PROBES[key][0], f"{rss:.0f}", f"{peak:.0f}",
                    f"{rss - memory['import'][0]:+.0f}", f"{load:.1f}"]
                   for key, (rss, peak, load) in memory.items()]
    (ours_median, ours_p95), (base_median, base_p95) = timings["ours"], timings["langdetect"]
    sample = "every line" if not args.per_cell else f"up to {args.per_cell} lines per language and bucket"
    return f"""{SECTION}

`bot.language.detect(text, prior)`: lingua-language-detector restricted to the 23 languages UK
families write in, its scores calibrated by text length, the guardian's known language as a
prior (×{language.PRIOR_WEIGHT:g}), script rules for Tigrinya, Pashto and Sorani, and
all-neutral replies ("ok", "Yes") given to the prior. Baseline: langdetect 1.0.9, seed 0, with
the same ×10 prior on its full probability vector. Also shown: the data README's method
(lingua on the same languages, prior ×10) and its low-accuracy mode.

Reproduce: `python bench/langid.py` ({sample}; `--per-cell 0` for all;
`--fit` refits the constants). {len(items)} lines, run took {seconds:.0f} s.
Machine: {machine()}.

Accuracy, % (macro: every language weighs the same). "lingua" columns: lingua's test data, 23
languages. "all 26": the same plus NTREX-derived Pashto, Sorani, Tigrinya. Tatoeba: short
everyday sentences, 19 languages + English (Kurmanji left out), by length in characters. Prior "80%": the sender's
language known for 80% of senders, English for the rest.

{accuracy_tables(results, names)}

Per language (bot.language / langdetect), no prior; words/pairs/sentences are lingua's data,
or NTREX-derived for ps, ku (Sorani), ti:

{per_language_table(results, False)}

Per language, with the simulated prior:

{per_language_table(results, True)}

Cost of the prior: English Tatoeba lines from parents recorded with another language
(cycling through the 25 others), % detected as English:

{table(["method"] + list(TATOEBA_BUCKETS), english_rows)}

Confidence, no prior: expected calibration error (10 bins, lower is better), share of answers
with confidence >= 0.8 and their accuracy (bot/guardians.py learns a guardian's language from
such answers):

{table(["method", "data", "ECE, points", "answers >= 0.8", "their accuracy %"], ece_rows)}

Latency per message (Tatoeba lines, prior "pl", models loaded): bot.language median
{ours_median:.2f} ms, p95 {ours_p95:.2f} ms; langdetect median {base_median:.2f} ms, p95
{base_p95:.2f} ms (median ours ÷ langdetect: ×{ours_median / base_median:.2f}). preload() took {preload_seconds:.1f} s in this run.

Resident memory, each configuration in a fresh process:

{table(["configuration", "RSS MiB", "peak MiB", "RSS vs. import only", "load s"], memory_rows)}

(Resident memory after loading varies by up to ~15% between runs with the allocator; the peak is
what a deployment must have free.)

{decision(results, memory)}

Not covered: Kurmanji Kurdish (Latin script; Tatoeba `kur`), romanised Urdu/Punjabi/Bengali
("mera beta aaj school nahi aayega" reads as Somali), Amharic (read as Tigrinya).
"""


if __name__ == "__main__":
    main()
