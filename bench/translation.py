"""Translation benchmark: engine speed (cold and warm) and cache hit rate over a simulated week.

Run:  .venv/bin/python bench/translation.py [--libretranslate-url URL] [--write]
- Apertium spa->eng: one `apertium -u spa-eng` process per sentence (the baseline) against
  the persistent null-flush pipeline in bot/translation/apertium.py, same run, same sentences.
- Argos: the packs installed for this user; with none, the tiny offline test pack in a temp
  directory, which measures argos's plumbing (import, model load, per-call overhead), not a
  real model's speed.
- LibreTranslate (optional): a running server, compared with in-process argos on the same pair.
- Cache: a seeded two-week simulation of a school's parent messages and staff replies, keyed
  exactly as bot/translation/cache.py keys them; week 1 is replayed through real Redis (db 14).
--write replaces the `## Translation` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "benchmarks.md"
WEEK = 7 * 24 * 3600

# Spanish parent messages of the kind a SEND team receives (7-13 words).
SPANISH = [
    "Hola, mi hijo tuvo un día difícil en la escuela.",
    "Gracias por la información, allí estaremos el martes.",
    "Mi hija no puede venir hoy porque está enferma.",
    "¿Podemos cambiar la reunión al jueves por la tarde?",
    "No entiendo la carta que enviaron ayer, ¿me pueden llamar?",
    "Mi hijo tiene miedo de ir al comedor porque hay mucho ruido.",
    "Ayer por la noche no durmió bien y esta mañana estaba muy cansado.",
    "Quiero hablar con la maestra sobre su plan de apoyo.",
    "El autobús llegó tarde otra vez y mi hijo se puso muy nervioso.",
    "Gracias por ayudar a mi hija con la lectura, está muy contenta.",
    "¿Necesito traer algún documento a la revisión del plan?",
    "Mi hijo dice que otros niños se ríen de él en el recreo.",
    "La medicación nueva le da sueño por la mañana.",
    "Perdón, no vi el mensaje hasta ahora.",
    "Trabajo hasta las cinco, ¿puede ser la reunión después de esa hora?",
    "Su terapeuta del habla recomienda usar imágenes en clase.",
    "Estamos preocupados porque no quiere hacer los deberes.",
    "Mi hija come muy poco en la escuela, ¿pueden vigilarlo?",
    "El lunes tiene cita con el médico a las diez.",
    "Me gustaría saber cómo va en matemáticas este trimestre.",
]

# The simulated school: family languages, how parents reply, what staff send back.
LANGS = {"pl": 26, "ur": 14, "ro": 12, "es": 12, "bn": 10, "ar": 10, "pt": 10, "so": 6}
SHORT = {  # most common first; picked with Zipf weights
    "es": ["ok", "gracias", "sí", "vale", "muchas gracias", "de acuerdo", "no", "perfecto"],
    "pl": ["ok", "dziękuję", "tak", "dobrze", "dziękuję bardzo", "nie", "w porządku", "super"],
    "ro": ["ok", "mulțumesc", "da", "bine", "mulțumesc frumos", "nu", "în regulă"],
    "pt": ["ok", "obrigada", "sim", "obrigado", "muito obrigada", "não", "está bem"],
    "ar": ["شكرا", "ok", "نعم", "حسنا", "شكرا جزيلا", "لا", "تمام"],
    "ur": ["ٹھیک ہے", "ok", "شکریہ", "جی ہاں", "بہت شکریہ", "نہیں", "thank you"],
    "bn": ["ঠিক আছে", "ধন্যবাদ", "ok", "হ্যাঁ", "অনেক ধন্যবাদ", "না"],
    "so": ["haye", "mahadsanid", "haa", "ok", "maya", "aad baad u mahadsantahay"],
}
STOCK = ["Thank you for letting us know.", "Thank you, see you then.",
         "We will pass this on to the class teacher.", "Please call the office when you can.",
         "The review meeting is confirmed.", "Thank you, we hope they feel better soon.",
         "Can you tell us a good time to call?", "We have received your message.",
         "Please bring any letters from the doctor.", "Yes, that is fine."]
NAMES = ["Ana", "Luis", "Sofía", "Mateo", "Lucía", "Hugo", "Marta", "Diego", "Elena", "Pablo",
         "Carmen", "Javier", "Noa", "Iker", "Valeria"]
FAMILIES, MESSAGES_PER_FAMILY, REPLY_RATE = 240, 2.5, 0.6


def _zipf(rnd: random.Random, items: list[str]) -> str:
    """One item, the first most likely (rank weights 1/r^1.1)."""
    return rnd.choices(items, [1 / (rank + 1) ** 1.1 for rank in range(len(items))])[0]


def _as_typed(rnd: random.Random, phrase: str) -> str:
    """Phones capitalise, people add '!' or an emoji: 40% of short replies vary."""
    if rnd.random() < 0.6:
        return phrase
    variants = [phrase.capitalize(), phrase + "!", phrase + ".", phrase + " 👍", phrase.upper()]
    return rnd.choice(variants)


def simulate(seed: int, weeks: int) -> list[dict]:
    """Inbound parent messages and staff replies over `weeks` weeks, in time order."""
    rnd, out, serial = random.Random(seed), [], 0
    families = rnd.choices(list(LANGS), list(LANGS.values()), k=FAMILIES)
    for week in range(1, weeks + 1):
        for lang in families:
            for _ in range(sum(rnd.random() < MESSAGES_PER_FAMILY / 10 for _ in range(10))):
                serial += 1
                at, kind, roll = (week - 1 + rnd.random()) * WEEK, "free", rnd.random()
                if roll < 0.38:
                    kind, text = "short", _as_typed(rnd, _zipf(rnd, SHORT[lang]))
                elif roll < 0.50:
                    kind, text = "flow answer", rnd.choice(["1", "2", "3"])
                elif lang == "es":
                    text = f"{rnd.choice(SPANISH)} Saludos, {rnd.choice(NAMES)}. ({serial})"
                else:
                    text = f"[{lang} message {serial}]"
                out.append({"t": at, "source": lang, "target": "en", "text": text, "kind": kind})
                if rnd.random() < REPLY_RATE:
                    stock = rnd.random() < 0.35
                    unique = f"Thank you, we will talk to {rnd.choice(NAMES)}'s teacher. ({serial})"
                    text = _zipf(rnd, STOCK) if stock else unique
                    out.append({"t": at + rnd.uniform(1800, 86400), "source": "en", "target": lang,
                                "text": text, "kind": "stock reply" if stock else "reply"})
    out.sort(key=lambda m: m["t"])
    for m in out:
        m["week"] = int(m["t"] // WEEK) + 1
    return [m for m in out if m["week"] <= weeks]


def steady_state_hits(messages: list[dict], ttl_seconds: int) -> dict:
    """Hits per week and kind for a cache keyed like cache_key(), set on miss, with a TTL."""
    expires: dict[tuple, float] = {}
    tally: dict = {}
    for m in messages:
        key = (m["source"], m["target"], m["text"].strip())
        hit = expires.get(key, -1) > m["t"]
        if not hit:
            expires[key] = m["t"] + ttl_seconds
        for group in ("all", m["kind"], "inbound" if m["target"] == "en" else "outbound"):
            counts = tally.setdefault(m["week"], {}).setdefault(group, [0, 0])
            counts[0] += hit
            counts[1] += 1
    return tally


def stats(samples: list[float]) -> dict:
    """Median/p95 latency in ms and sentences per second for a list of seconds."""
    ordered = sorted(samples)
    return {"median_ms": statistics.median(ordered) * 1000,
            "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
            "per_s": len(ordered) / sum(ordered)}


def timed(fn, *args) -> tuple[float, object]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    value = fn(*args)
    return time.perf_counter() - started, value


def bench_apertium(rounds: int) -> dict:
    """Subprocess per sentence vs the persistent pipeline, spa->eng (and eng->spa warm)."""
    from bot.translation.apertium import ApertiumEngine

    def one_process(text: str) -> str:
        return subprocess.run(["apertium", "-u", "spa-eng"], input=text, capture_output=True,
                              text=True, check=True).stdout.strip()

    sub = [timed(one_process, s) for s in SPANISH[:15]]
    engine = ApertiumEngine()
    cold, _ = timed(engine.translate, SPANISH[0], "es", "en")
    warm = [timed(engine.translate, SPANISH[i % len(SPANISH)], "es", "en") for i in range(rounds)]
    same = all(out == engine.translate(s, "es", "en")
               for (_, out), s in zip(sub, SPANISH[:15], strict=True))
    english = [engine.translate(s, "es", "en") for s in SPANISH]
    engine.translate(english[0], "en", "es")
    back = [timed(engine.translate, english[i % len(english)], "en", "es")[0]
            for i in range(rounds)]
    engine.close()
    return {"subprocess_cold": sub[0][0], "subprocess": stats([t for t, _ in sub[1:]]),
            "pipe_cold": cold, "pipe": stats([t for t, _ in warm]), "pipe_en_es": stats(back),
            "same_output": same, "sentences": len(SPANISH)}


def user_argos_packs() -> list[Path]:
    """Pack directories argos would load for this user, found without importing argos."""
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    base = os.environ.get("ARGOS_PACKAGES_DIR") or data / "argos-translate" / "packages"
    return [p.parent for p in Path(base).glob("*/metadata.json")
            if json.loads(p.read_text()).get("type", "translate") == "translate"]


def bench_argos(rounds: int, tmp: Path) -> dict:
    """Cold (import + model load) and warm per-sentence cost of argos."""
    tiny = not user_argos_packs()
    if tiny:  # argos reads these once, at first import: set them before it
        for key in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
            os.environ[key] = str(tmp / key.lower())
        os.environ["ARGOS_PACKAGES_DIR"] = str(tmp / "packages")
    os.environ.setdefault("ARGOS_DEVICE_TYPE", "cpu")
    os.environ.setdefault("ARGOS_INTRA_THREADS", "1")
    import_s, _ = timed(__import__, "argostranslate.translate")
    from bot.translation import argos

    if tiny:
        from tests.support.argos_tiny import build_tiny_pack, tiny_lexicon

        argos.install_package_file(build_tiny_pack(tmp))
        words, rnd = list(tiny_lexicon()), random.Random(7)
        corpus = [" ".join(rnd.choice(words) for _ in range(rnd.randint(6, 20))) + "."
                  for _ in range(30)]
        pair = ("xx", "en")
    else:
        corpus, pair = SPANISH, ("es", "en")
    engine = argos.ArgosEngine()
    if engine.unsupported_reason(*pair):
        return {"packs": argos.installed_packs(), "skipped": f"no {pair[0]}->{pair[1]} pack"}
    first_s, _ = timed(engine.translate, corpus[0], *pair)
    warm = [timed(engine.translate, corpus[i % len(corpus)] + f" {i}", *pair)[0]
            for i in range(rounds)]  # the suffix defeats argos's own paragraph cache
    return {"tiny": tiny, "pair": pair, "packs": argos.installed_packs(), "import_s": import_s,
            "first_s": first_s, "warm": stats(warm), "corpus": corpus}


def bench_libretranslate(url: str, label: str, argos_result: dict, rounds: int) -> dict:
    """A LibreTranslate server over HTTP vs in-process argos on the same pair and sentences."""
    from bot.translation.libretranslate import LibreTranslateEngine

    pair, corpus = argos_result["pair"], argos_result["corpus"]
    engine = LibreTranslateEngine(url, timeout=30)
    cold, _ = timed(engine.translate, corpus[0], *pair)
    warm = [timed(engine.translate, corpus[i % len(corpus)] + f" {i}", *pair)[0]
            for i in range(rounds)]
    engine.close()
    return {"url": url, "label": label, "pair": pair, "cold_s": cold, "warm": stats(warm)}


def bench_cache(seed: int) -> dict:
    """Hit rates over the simulated weeks; week 1 replayed through real Redis and Apertium."""
    import redis

    from bot.translation import build_translator
    from bot.translation.cache import TranslationCache

    weeks = simulate(seed, weeks=2)
    model = steady_state_hits(weeks, ttl_seconds=7 * 24 * 3600)
    client = redis.Redis(host="127.0.0.1", port=6379, db=14)
    client.flushdb()
    cache = TranslationCache(client, ttl_seconds=7 * 24 * 3600, secret="bench")
    week1 = [m for m in weeks if m["week"] == 1]
    for m in week1:  # the real cache, keyed per (direction, language, text)
        if cache.get("bench", m["source"], m["target"], m["text"]) is None:
            cache.set("bench", m["source"], m["target"], m["text"], "-")
    redis_hits = cache.hits
    client.flushdb()
    spanish = [m for m in week1 if "es" in (m["source"], m["target"])]
    # Both translators take turns on each message, so machine load drifts hit both alike.
    with build_translator({"TRANSLATION_ENGINE": "apertium"}) as plain, \
            build_translator({"TRANSLATION_ENGINE": "apertium", "SECRET_KEY": "bench"}, client) as cached:
        for translator in (plain, cached):  # start both pipelines outside the timing
            translator.translate("Hola.", "es", "en")
            translator.translate("Hello.", "en", "es")
        client.flushdb()
        runs = {"no cache": [], "cache": []}
        for m in spanish:
            for label, translator in (("no cache", plain), ("cache", cached)):
                runs[label].append(timed(translator.translate, m["text"], m["source"], m["target"]))
    timings = {}
    for label, samples in runs.items():
        timings[label] = (sum(t for t, _ in samples), sum(r.cached for _, r in samples))
        for kind, hit in (("hit", True), ("miss", False)):
            chosen = [t for t, r in samples if r.cached is hit]
            if chosen:
                timings[f"{label} {kind} median"] = statistics.median(chosen)
    client.flushdb()
    client.close()
    return {"model": model, "redis_week1_hits": redis_hits, "week1_count": len(week1),
            "spanish": {"messages": len(spanish), **{k: v for k, v in timings.items()}}}


def machine() -> str:
    """Cores, CPU, memory, Python and load, for the record."""
    info = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
               platform.processor())
    mem_kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kib / 2**20:.0f} GiB RAM, "
            f"Python {platform.python_version()}, load average at start {os.getloadavg()[0]:.1f} "
            "(shared machine: other work was running)")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _row(*cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _warm(w: dict, rate: str = ".0f") -> list[str]:
    return [f"{w['median_ms']:.1f} ms", f"{w['p95_ms']:.1f} ms", format(w["per_s"], rate)]


def render_apertium(ap: dict) -> list[str]:
    """Subprocess baseline vs persistent pipeline table."""
    ratio = ap["pipe"]["per_s"] / ap["subprocess"]["per_s"]
    return ["### Apertium spa->eng: a process per sentence vs the persistent pipeline", "",
            f"{ap['sentences']} Spanish parent messages (7-13 words), cycled.", "",
            _row("method", "cold: first sentence", "warm median", "warm p95", "sentences/s"),
            _row(*["---"] * 5),
            _row("`apertium -u spa-eng` per sentence (baseline)", _ms(ap["subprocess_cold"]),
                 *_warm(ap["subprocess"], ".1f")),
            _row("persistent null-flush pipeline (bot/translation/apertium.py)",
                 _ms(ap["pipe_cold"]) + " (includes start-up)", *_warm(ap["pipe"])),
            _row("persistent pipeline, eng->spa", "", *_warm(ap["pipe_en_es"])), "",
            f"Warm throughput, pipeline / baseline: **{ratio:.0f}x**; same output as the "
            f"baseline on every sentence: {'yes' if ap['same_output'] else 'NO'}.", ""]


def render_argos(ar: dict, lt: dict | None) -> list[str]:
    """Argos cold/warm table, and LibreTranslate beside it when measured."""
    lines = ["### Argos Translate", ""]
    if "skipped" in ar:
        return lines + [f"Skipped: installed packs {ar['packs']}, {ar['skipped']}.", ""]
    if ar["tiny"]:
        lines += ["No real Argos pack is installed on this machine (offline), so this is the tiny "
                  "test pack (word-by-word, 1+1 layers): it measures argos's import, loading and "
                  "per-call overhead, **not** a real model's speed (shared README: a real int8 "
                  "model takes 10-12 ms per 20-word sentence on one thread).", ""]
    lines += [f"Pair {ar['pair'][0]}->{ar['pair'][1]}, packs installed: {ar['packs']}.", "",
              _row("import argostranslate.translate", "first translation (model load)",
                   "warm median", "warm p95", "sentences/s"), _row(*["---"] * 5),
              _row(f"{ar['import_s']:.2f} s", _ms(ar["first_s"]), *_warm(ar["warm"])), ""]
    if lt:
        overhead = lt["warm"]["median_ms"] - ar["warm"]["median_ms"]
        lines += ["### LibreTranslate over HTTP vs argos in-process (same pack, same sentences)",
                  "", _row("engine", "cold: first request", "warm median", "warm p95",
                           "sentences/s"), _row(*["---"] * 5),
                  _row("argos in-process", _ms(ar["first_s"]), *_warm(ar["warm"])),
                  _row(f"{lt['label']} at {lt['url']}", _ms(lt["cold_s"]), *_warm(lt["warm"])),
                  "", f"HTTP + LibreTranslate cost {overhead:.1f} ms per message; throughput "
                  f"in-process / HTTP {ar['warm']['per_s'] / lt['warm']['per_s']:.1f}x.", ""]
    return lines


def render_cache(ca: dict) -> list[str]:
    """Hit rates per week and message kind, the Redis cross-check, the end-to-end effect."""
    model, weeks, es = ca["model"], sorted(ca["model"]), ca["spanish"]
    mix = ", ".join(f"{lang} {share}%" for lang, share in LANGS.items())
    lines = ["### Cache hit rate over a simulated school week", "",
             f"A seeded simulation: {FAMILIES} families ({mix}), ~{MESSAGES_PER_FAMILY} messages "
             "per family per week: 38% short replies (a few common words per language, "
             "Zipf-distributed, 40% typed with a capital, '!', '.' or an emoji), 12% flow answers "
             "('1'-'3'), 50% free text (unique); staff answer 60% of messages, 35% of replies "
             "from 10 stock sentences. TTL 7 days; keys per engine, pair and exact (stripped) "
             "text, as in bot/translation/cache.py.", "",
             _row("messages", *[f"week {w} " + ("(cache starts empty)" if w == 1 else
                                                "(steady state)") for w in weeks]),
             _row(*["---"] * (len(weeks) + 1))]
    for group in ("all", "inbound", "outbound", "short", "flow answer", "free", "stock reply",
                  "reply"):
        cells = [model[w].get(group, [0, 0]) for w in weeks]
        lines.append(_row(group, *[f"{h / n:.0%} of {n}" if n else "-" for h, n in cells]))
    (plain_s, _), (cached_s, hits) = es["no cache"], es["cache"]
    per_message = abs(plain_s - cached_s) * 1000 / es["messages"]
    return lines + [
        "", f"Week 1 replayed through the real TranslationCache on Redis: "
        f"{ca['redis_week1_hits']} hits of {ca['week1_count']} (model: {model[1]['all'][0]}).",
        f"End to end, the {es['messages']} Spanish messages of week 1 through Apertium (both "
        f"directions, the two translators taking turns): {plain_s:.2f} s without the cache, "
        f"{cached_s:.2f} s with it ({hits} hits), ratio {plain_s / cached_s:.2f}x. Median per "
        f"message: {_ms(es['no cache miss median'])} uncached, {_ms(es['cache miss median'])} "
        f"for a cache miss (get, translate, set), {_ms(es['cache hit median'])} for a hit. With "
        f"Apertium's persistent pipeline the cache {'saves' if plain_s > cached_s else 'costs'} "
        f"{per_message:.1f} ms per message; it pays off for engines slower than a Redis round "
        "trip (argos with real models, LibreTranslate over a network)."]


def render(r: dict) -> str:
    """The `## Translation` section for docs/benchmarks.md."""
    lines = ["## Translation", "",
             f"`bench/translation.py`, {time.strftime('%Y-%m-%d')}. Machine: {r['machine']}.", ""]
    lines += render_apertium(r["apertium"]) + render_argos(r["argos"], r.get("libretranslate"))
    return "\n".join(lines + render_cache(r["cache"])) + "\n"


def write_section(body: str) -> None:
    """Replace (or append) only the `## Translation` section of docs/benchmarks.md."""
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    lines, out, skipping = text.splitlines(), [], False
    for line in lines:
        if line.startswith("## "):
            skipping = line.strip() == "## Translation"
            if skipping:
                continue
        if not skipping:
            out.append(line)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(out).rstrip() + "\n\n" + body.rstrip() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--libretranslate-url", help="a running server to compare with argos")
    parser.add_argument("--libretranslate-label", default="LibreTranslate",
                        help="how to name that server in the table (version, setup)")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    results = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="bench-argos-") as tmp:
        results["apertium"] = bench_apertium(args.rounds)
        results["argos"] = bench_argos(args.rounds, Path(tmp))
        if args.libretranslate_url and "pair" in results["argos"]:
            results["libretranslate"] = bench_libretranslate(
                args.libretranslate_url, args.libretranslate_label, results["argos"], args.rounds)
        results["cache"] = bench_cache(args.seed)
    body = render(results)
    print(body)
    if args.write:
        write_section(body)


if __name__ == "__main__":
    main()
