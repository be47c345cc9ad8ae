"""Translation layer: real Apertium, real Argos (tiny pack), real Redis, a LibreTranslate API.

The LibreTranslate server here is a small HTTP server on 127.0.0.1 speaking LibreTranslate's
documented API (/languages, /translate, {"error": ...} bodies), translating with the same
real argos pack; the real libretranslate package pins Flask 2.2 and redis 4 and cannot share
this venv (it was checked by hand against the same engine code, see docs/benchmarks.md).
"""
from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bot.translation import TranslationFailed, TranslationUnavailable, Translator, build_translator
from bot.translation import argos as argos_engine
from bot.translation.cache import cache_key
from bot.translation.cli import install_demo_packs, translation
from tests.support.argos_tiny import build_tiny_pack, configure_argos_env, tiny_lexicon

SPANISH = "Hola, mi hijo tuvo un día difícil en la escuela."
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(scope="session")
def argos_xx_en(tmp_path_factory):
    """The tiny xx->en pack installed into the tests' private argos directory."""
    configure_argos_env(tmp_path_factory.mktemp("argos-env"))  # no-op if conftest did it
    pack = build_tiny_pack(tmp_path_factory.mktemp("argos-packs"))
    assert argos_engine.install_package_file(pack) == ("xx", "en")
    return pack


@pytest.fixture
def make_translator():
    """build_translator(config, redis) whose engines are closed after the test."""
    built: list[Translator] = []

    def make(config: dict, redis_client=None) -> Translator:
        built.append(build_translator({"SECRET_KEY": "test-secret", **config}, redis_client))
        return built[-1]

    yield make
    for translator in built:
        translator.close()


@pytest.fixture
def redis14():
    client = redis.Redis.from_url(REDIS_TEST_URL)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class LibreTranslateLike(BaseHTTPRequestHandler):
    """LibreTranslate's /languages and /translate, backed by the installed argos packs."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def _reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        packs = argos_engine.installed_packs()
        codes = sorted({code for pair in packs for code in pair})
        self._reply(200, [{"code": c, "name": c, "targets": sorted({t for s, t in packs if s == c})}
                          for c in codes])

    def do_POST(self):
        server = self.server
        form = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.requests.append(form)
        if server.behaviour == "fail":
            return self._reply(500, {"error": "Cannot translate text: model crashed"})
        if server.behaviour == "slow":
            server.release.wait(5)
        if server.api_key and form.get("api_key") != server.api_key:
            return self._reply(403, {"error": "Invalid API key"})
        if (form["source"], form["target"]) not in argos_engine.installed_packs():
            return self._reply(400, {"error": f"{form['target']} is not supported"})
        from argostranslate import translate

        self._reply(200, {"translatedText": translate.translate(form["q"], form["source"],
                                                                 form["target"])})


@pytest.fixture
def libretranslate(argos_xx_en):
    server = ThreadingHTTPServer(("127.0.0.1", 0), LibreTranslateLike)
    server.daemon_threads = True
    server.behaviour, server.api_key, server.requests = "ok", None, []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def closed_port_url() -> str:
    """A 127.0.0.1 URL where nothing listens (connection refused at once)."""
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_port
    probe.server_close()
    return f"http://127.0.0.1:{port}"


# ----------------------------------------------------------------------------- Apertium
def test_apertium_translates_spanish_to_english(make_translator):
    result = make_translator({"TRANSLATION_ENGINE": "apertium"}).translate(SPANISH, "es", "en")
    assert "difficult day" in result.text
    assert (result.engine, result.cached) == ("apertium", False)


def test_apertium_translates_english_to_spanish(make_translator):
    result = make_translator({"TRANSLATION_ENGINE": "apertium"}).translate(
        "My son had a difficult day at school.", "en", "es")
    assert "día difícil" in result.text and result.engine == "apertium"


def test_apertium_keeps_special_characters_and_lines(make_translator):
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"})
    result = translator.translate("Hola [1] <b> 7/9 \\ {x}.\nAdiós amigo.", "es", "en")
    assert "[1] <b> 7/9 \\ {x}" in result.text
    assert len(result.text.splitlines()) == 2 and "Goodbye" in result.text


def test_apertium_pipeline_is_reused_and_restarted_when_killed(make_translator):
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"})
    first = translator.translate("El perro come pan.", "es", "en").text
    pipe = translator.engines[0]._pipes["spa-eng"]
    pid = pipe.proc.pid
    assert translator.translate("El gato bebe leche.", "es", "en").text == "The cat drinks milk."
    assert pipe.proc.pid == pid
    os.killpg(pid, signal.SIGKILL)
    pipe.proc.wait(5)
    assert translator.translate("El perro come pan.", "es", "en").text == first
    assert pipe.proc.pid != pid


def test_a_dropped_translator_ends_its_pipelines():
    translator = build_translator({"TRANSLATION_ENGINE": "apertium"})
    assert "difficult day" in translator.translate(SPANISH, "es", "en").text
    pipe = translator.engines[0]._pipes["spa-eng"]
    proc = pipe.proc
    del translator, pipe
    gc.collect()
    assert proc.returncode is not None  # waited for, so no zombie and no ResourceWarning
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def test_apertium_pipeline_is_safe_across_threads(make_translator):
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"})
    sentences = [f"El perro come {n} panes en la casa." for n in range(12)]
    expected = [translator.translate(s, "es", "en").text for s in sentences]
    results: dict[int, str] = {}

    def work(i: int) -> None:
        results[i] = translator.translate(sentences[i], "es", "en").text

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sentences))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [results[i] for i in range(len(sentences))] == expected
    assert all(str(n) in expected[n] for n in range(12))


def test_apertium_reports_missing_installation(make_translator, tmp_path, monkeypatch):
    empty_modes = make_translator({"TRANSLATION_ENGINE": "apertium",
                                   "APERTIUM_MODES_DIR": str(tmp_path)})
    with pytest.raises(TranslationUnavailable, match="apertium has no spa-eng pair"):
        empty_modes.translate(SPANISH, "es", "en")
    assert empty_modes.describe()[0]["available"] is False
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TranslationUnavailable, match="apertium is not installed"):
        make_translator({"TRANSLATION_ENGINE": "apertium"}).translate(SPANISH, "es", "en")


# ----------------------------------------------------------------------------- routing
def test_first_engine_that_supports_the_pair_is_used(make_translator, argos_xx_en):
    translator = make_translator({"TRANSLATION_ENGINE": "argos,apertium"})
    assert translator.translate(SPANISH, "es", "en").engine == "apertium"
    assert translator.translate("hola mundo.", "xx", "en").engine == "argos"


def test_preference_order_decides_between_engines(make_translator, libretranslate):
    config = {"LIBRETRANSLATE_URL": libretranslate.url}
    orders = (("argos,libretranslate", "argos"), ("libretranslate,argos", "libretranslate"))
    for order, engine in orders:
        result = make_translator({**config, "TRANSLATION_ENGINE": order}).translate(
            "el gato come.", "xx", "en")
        assert (result.text, result.engine) == ("the cat eats.", engine)
    assert len(libretranslate.requests) == 1


def test_unavailable_pair_explains_every_engine(make_translator, argos_xx_en):
    translator = make_translator({"TRANSLATION_ENGINE": "argos,apertium"})
    assert translator.supports("so", "en") is False and translator.supports("es", "en") is True
    with pytest.raises(TranslationUnavailable) as raised:
        translator.translate("Wiilkaygu maanta dugsiga wuu ku adkaaday.", "so", "en")
    assert raised.value.reason == ("no engine translates Somali to English: argos has no so->en "
                                   "pack installed; apertium has no som-eng pair")


def test_engine_none_turns_translation_off(make_translator):
    translator = make_translator({"TRANSLATION_ENGINE": "none"})
    assert translator.describe() == [] and translator.supports("es", "en") is False
    with pytest.raises(TranslationUnavailable, match="turned off"):
        translator.translate(SPANISH, "es", "en")


def test_bad_requests_and_configuration_are_rejected(make_translator):
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"})
    with pytest.raises(ValueError):
        translator.translate("hola", "es", "es")
    with pytest.raises(ValueError):
        translator.translate("hola", "spanish!", "en")
    with pytest.raises(ValueError, match="TRANSLATION_ENGINE"):
        build_translator({"TRANSLATION_ENGINE": "argos,google"})


# ----------------------------------------------------------------------------- Argos
def test_argos_translates_with_an_installed_pack(make_translator, argos_xx_en):
    translator = make_translator({"TRANSLATION_ENGINE": "argos"})
    sentence = "el perro bebe agua. hola amigo!"
    expected = " ".join(tiny_lexicon().get(w.strip(".!"), w.strip(".!")) for w in sentence.split())
    result = translator.translate(sentence, "xx", "en")
    assert re.sub(r"[.!]", "", result.text) == expected
    assert result.engine == "argos"
    info = translator.describe()[0]
    assert info["available"] is True and ("xx", "en") in info["pairs"]


def test_argos_picks_up_new_packs_and_pivots_through_english(make_translator, argos_xx_en,
                                                              tmp_path):
    translator = make_translator({"TRANSLATION_ENGINE": "argos"})
    assert translator.supports("xx", "yy") is False
    argos_engine.install_package_file(build_tiny_pack(tmp_path, from_code="en", to_code="yy"))
    assert translator.supports("xx", "yy") is True  # no restart, no explicit refresh
    result = translator.translate("hola mundo.", "xx", "yy")
    assert (result.text, result.engine) == ("hello world.", "argos")


def test_argos_rejects_a_file_that_is_not_a_pack(tmp_path, argos_xx_en):
    bogus = tmp_path / "notes.argosmodel"
    bogus.write_text("not a zip")
    with pytest.raises(ValueError, match="not an Argos language pack"):
        argos_engine.install_package_file(bogus)


# ----------------------------------------------------------------------------- cache
def test_second_call_comes_from_redis_under_a_hashed_key(make_translator, redis14):
    translator = make_translator({"TRANSLATION_ENGINE": "apertium",
                                  "TRANSLATION_CACHE_TTL": 3600}, redis14)
    first = translator.translate(SPANISH, "es", "en")
    second = translator.translate(SPANISH, "es", "en")
    assert (first.cached, second.cached) == (False, True) and second.text == first.text
    keys = [k.decode() for k in redis14.keys("*")]
    assert keys == [cache_key("apertium", "es", "en", SPANISH, translator.cache.secret)]
    assert "Hola" not in keys[0] and re.search(r":[0-9a-f]{64}$", keys[0])
    unkeyed = hashlib.sha256(SPANISH.encode()).hexdigest()
    assert unkeyed not in keys[0]  # a keyed hash: the text cannot be confirmed by hashing a guess
    assert 3500 < redis14.ttl(keys[0]) <= 3600
    translator.cache.forget(["apertium", "argos"], "es", "en", SPANISH)  # its message was deleted
    assert redis14.keys("*") == []


def test_translation_survives_redis_being_down(make_translator):
    down = redis.Redis.from_url(closed_port_url().replace("http", "redis"),
                                socket_connect_timeout=1)
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"}, down)
    for _ in range(2):
        result = translator.translate(SPANISH, "es", "en")
        assert "difficult day" in result.text and result.cached is False
    down.close()


# ----------------------------------------------------------------------------- LibreTranslate
def test_libretranslate_translates_and_sends_the_documented_fields(make_translator, libretranslate):
    libretranslate.api_key = "k-123"
    translator = make_translator({"TRANSLATION_ENGINE": "libretranslate",
                                  "LIBRETRANSLATE_URL": libretranslate.url + "/",
                                  "LIBRETRANSLATE_API_KEY": "k-123"})
    result = translator.translate("hola mundo.", "xx", "en")
    assert (result.text, result.engine) == ("hello world.", "libretranslate")
    assert libretranslate.requests == [{"q": "hola mundo.", "source": "xx", "target": "en",
                                        "format": "text", "api_key": "k-123"}]
    pairs = translator.describe()[0]["pairs"]
    assert ("xx", "en") in pairs and ("en", "xx") not in pairs
    with pytest.raises(TranslationUnavailable, match="libretranslate .* cannot translate en to xx"):
        translator.translate("hello", "en", "xx")


def test_libretranslate_wrong_api_key_is_unavailable(make_translator, libretranslate):
    libretranslate.api_key = "right"
    translator = make_translator({"TRANSLATION_ENGINE": "libretranslate",
                                  "LIBRETRANSLATE_URL": libretranslate.url,
                                  "LIBRETRANSLATE_API_KEY": "wrong"})
    with pytest.raises(TranslationUnavailable, match="API key"):
        translator.translate("hola", "xx", "en")


def test_libretranslate_server_error_is_a_retryable_failure(make_translator, libretranslate):
    libretranslate.behaviour = "fail"
    translator = make_translator({"TRANSLATION_ENGINE": "libretranslate",
                                  "LIBRETRANSLATE_URL": libretranslate.url})
    with pytest.raises(TranslationFailed, match="HTTP 500"):
        translator.translate("hola mundo.", "xx", "en")
    backed = make_translator({"TRANSLATION_ENGINE": "libretranslate,argos",
                              "LIBRETRANSLATE_URL": libretranslate.url})
    assert backed.translate("hola mundo.", "xx", "en").engine == "argos"
    assert len(libretranslate.requests) == 2  # the second engine answered after a real 500


def test_libretranslate_timeout_is_a_retryable_failure(make_translator, libretranslate):
    libretranslate.behaviour = "slow"
    translator = make_translator({"TRANSLATION_ENGINE": "libretranslate",
                                  "LIBRETRANSLATE_URL": libretranslate.url,
                                  "LIBRETRANSLATE_TIMEOUT": "0.5"})
    started = time.monotonic()
    with pytest.raises(TranslationFailed, match="timed out"):
        translator.translate("hola mundo.", "xx", "en")
    assert time.monotonic() - started < 3


def test_unreachable_libretranslate_falls_back_or_fails_retryably(make_translator, argos_xx_en):
    config = {"LIBRETRANSLATE_URL": closed_port_url(), "LIBRETRANSLATE_TIMEOUT": 2}
    alone = make_translator({**config, "TRANSLATION_ENGINE": "libretranslate"})
    with pytest.raises(TranslationFailed, match="unreachable"):
        alone.translate("hola mundo.", "xx", "en")
    assert alone.describe()[0]["available"] is False
    backed = make_translator({**config, "TRANSLATION_ENGINE": "libretranslate,argos"})
    assert backed.translate("hola mundo.", "xx", "en").engine == "argos"


# ----------------------------------------------------------------------------- CLI
def test_cli_installs_a_pack_file_and_shows_status(tmp_path, argos_xx_en, monkeypatch):
    monkeypatch.setenv("TRANSLATION_ENGINE", "argos,apertium")
    runner = CliRunner()
    pack = build_tiny_pack(tmp_path, from_code="xx", to_code="zz")
    installed = runner.invoke(translation, ["install-argos", str(pack)])
    assert installed.exit_code == 0, installed.output
    assert "Installed Argos pack xx->zz" in installed.output
    status = runner.invoke(translation, ["status"])
    assert status.exit_code == 0, status.output
    assert "argos: available" in status.output and "xx->zz" in status.output
    assert "apertium: available" in status.output and "es->en" in status.output


def test_cli_install_by_pair_fails_fast_offline(monkeypatch, argos_xx_en):
    monkeypatch.setenv("ARGOS_PACKAGE_INDEX", closed_port_url() + "/")
    started = time.monotonic()
    result = CliRunner().invoke(translation, ["install-argos", "--pair", "es:en"])
    assert result.exit_code != 0 and "looks offline" in result.output
    lines: list[str] = []
    assert install_demo_packs([("es", "en")], lines.append) == []
    assert any("Skipping Argos language packs" in line for line in lines)
    assert time.monotonic() - started < 10


def test_cli_install_by_pair_downloads_from_the_index(monkeypatch, tmp_path, argos_xx_en):
    pack = build_tiny_pack(tmp_path, from_code="qq", to_code="en")
    index = [{"type": "translate", "from_code": "qq", "to_code": "en", "package_version": "1.0",
              "links": [f"http://127.0.0.1:{{port}}/{pack.name}"]}]
    class QuietFiles(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), QuietFiles)
    index[0]["links"][0] = index[0]["links"][0].format(port=server.server_port)
    (tmp_path / "index.json").write_text(json.dumps(index))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("ARGOS_PACKAGE_INDEX", f"http://127.0.0.1:{server.server_port}/")
        result = CliRunner().invoke(translation, ["install-argos", "--pair", "qq:en"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert "(100%)" in result.output and "Installed qq->en" in result.output
    assert ("qq", "en") in argos_engine.installed_packs()


# ----------------------------------------------------------------------------- protected tokens
STAFF_SENTENCES = (Path(__file__).parent / "data" / "staff_sentences_with_tokens.txt").read_text(
    encoding="utf-8").splitlines()


def test_protect_and_restore_round_trip_and_a_lost_token_is_caught():
    from bot.translation.protect import LostToken, protect, restore

    protected = protect("Zain: call 07700 900123 at 10am on 03/12/2026 😊", ("Zain",))
    assert protected.tokens == ("Zain", "07700 900123", "10am", "03/12/2026", "😊")
    assert "10am" not in protected.text and restore(protected.text, protected).startswith("Zain: call")
    with pytest.raises(LostToken, match="10am"):
        restore(protected.text.replace("⟦2⟧", "10soy"), protected)


def test_times_dates_numbers_addresses_emoji_and_names_survive_apertium(make_translator):
    from bot.translation.protect import protect

    assert len(STAFF_SENTENCES) >= 50
    translator = make_translator({"TRANSLATION_ENGINE": "apertium"})
    for sentence in STAFF_SENTENCES:
        tokens = protect(sentence, ("Zain", "Lucas", "Mrs Khan", "Ms Patel", "Mr Jones")).tokens
        translated = translator.translate(sentence, "en", "es", keep=("Zain", "Lucas", "Mrs Khan", "Ms Patel",
                                                                     "Mr Jones")).text
        assert tokens and all(token in translated for token in tokens), (sentence, translated)
    assert "10am" in translator.translate("We will call you tomorrow at 10am.", "en", "es").text  # not "10soy"


def test_every_protected_token_survives_the_tiny_argos_pack(make_translator, argos_xx_en):
    from bot.translation.protect import protect

    names = ("Zain", "Lucas", "Mrs Khan", "Ms Patel", "Mr Jones")
    translator = make_translator({"TRANSLATION_ENGINE": "argos"})
    for sentence in STAFF_SENTENCES:
        tokens = protect(sentence, names).tokens
        translated = translator.translate(f"hola {' '.join(tokens)} mundo.", "xx", "en", keep=names).text
        assert translated.startswith("hello") and all(token in translated for token in tokens), (tokens, translated)


def test_an_engine_that_loses_a_token_is_not_trusted_with_the_message(make_translator, argos_xx_en):
    translator = make_translator({"TRANSLATION_ENGINE": "argos"})
    try:
        result = translator.translate("hola mundo 10:30", "xx", "en")
    except TranslationUnavailable as refused:
        assert "changed what must stay as written" in refused.reason  # refused, never garbled
    else:
        assert "10:30" in result.text
