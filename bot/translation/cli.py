"""`flask --app app translation ...`: engine status and Argos language-pack installation.

The install commands need no Flask app (a school may run them before configuring anything),
and also run as `python -m bot.translation.cli ...`. Installing by pair downloads from the
Argos package index when the machine is online; offline it fails within seconds with a plain
message, instead of argos's own helpers, which retry for about a minute and then crash.
"""
from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import click
import requests
from flask.cli import AppGroup, ScriptInfo

from bot.translation import argos, build_translator

DEFAULT_INDEX = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
CONNECT_TIMEOUT = 3.0
DEMO_PAIRS = (("es", "en"), ("en", "es"))

translation = AppGroup("translation", help="Machine translation engines and language packs.")


class Offline(Exception):
    """The Argos package index cannot be reached."""


def index_url() -> str:
    """Where the Argos package index lives (ARGOS_PACKAGE_INDEX, as argos itself reads it)."""
    base = os.environ.get("ARGOS_PACKAGE_INDEX") or DEFAULT_INDEX
    return base.rstrip("/") + "/index.json"


def fetch_index(url: str, timeout: float = CONNECT_TIMEOUT) -> list[dict]:
    """The package index; raises Offline within ~timeout seconds when it cannot be reached."""
    outcome: dict = {}

    def fetch() -> None:
        try:
            response = requests.get(url, timeout=(timeout, 10))
            response.raise_for_status()
            outcome["index"] = response.json()
        except (requests.RequestException, ValueError) as exc:
            outcome["error"] = exc

    # requests' timeout does not cover DNS, which can hang offline: wait in a thread instead.
    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(timeout + 12)
    if "index" not in outcome:
        cause = outcome.get("error")
        detail = type(cause).__name__ if cause else f"no answer within {timeout + 12:.0f} s"
        raise Offline(f"cannot reach the Argos package index at {url} ({detail}); this machine "
                      "looks offline. Copy a .argosmodel file here and run "
                      "`flask --app app translation install-argos FILE.argosmodel` instead.")
    return outcome["index"]


def plan_packs(index: list[dict], pair: tuple[str, str],
               installed: set[tuple[str, str]]) -> list[dict]:
    """Index entries to download for a pair: direct, else through English; [] if installed."""
    source, target = pair
    if pair in argos.reachable_pairs(installed):
        return []
    offered = {(e.get("from_code"), e.get("to_code")): e for e in index
               if e.get("type", "translate") == "translate"}
    if pair in offered:
        return [offered[pair]]
    legs = [(source, "en"), ("en", target)]
    if "en" not in pair and all(leg in offered or leg in installed for leg in legs):
        return [offered[leg] for leg in legs if leg not in installed]
    raise click.ClickException(f"the Argos package index has no {source}->{target} pack")


def download(entry: dict, directory: Path, echo: Callable[[str], None]) -> Path:
    """Download one pack with progress lines; returns the .argosmodel path."""
    label = f"{entry['from_code']}->{entry['to_code']}"
    target = directory / f"translate-{entry['from_code']}_{entry['to_code']}.argosmodel"
    for link in entry.get("links", []):
        try:
            with requests.get(link, stream=True, timeout=(CONNECT_TIMEOUT, 60)) as response:
                response.raise_for_status()
                total = int(response.headers.get("content-length") or 0)
                done, next_mark = 0, 0
                with open(target, "wb") as out:
                    for chunk in response.iter_content(1 << 16):
                        out.write(chunk)
                        done += len(chunk)
                        if total and done * 100 // total >= next_mark:
                            echo(f"  {label}: {done / 1e6:.1f} of {total / 1e6:.1f} MB "
                                 f"({done * 100 // total}%)")
                            next_mark = done * 100 // total + 10
            return target
        except requests.RequestException as exc:
            echo(f"  {label}: download from {link} failed ({type(exc).__name__})")
    raise click.ClickException(f"could not download the {label} pack from any of its links")


def install_pairs_online(pairs: Iterable[tuple[str, str]], echo: Callable[[str], None],
                         url: str | None = None) -> list[tuple[str, str]]:
    """Download and install Argos packs for the pairs; raises Offline quickly when offline."""
    url = url or index_url()
    echo(f"Fetching the Argos package index from {url} ...")
    index = fetch_index(url)
    installed = set(argos.installed_packs())
    done: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="argos-download-") as tmp:
        for pair in pairs:
            for entry in plan_packs(index, tuple(pair), installed | set(done)):
                echo(f"Downloading Argos pack {entry['from_code']}->{entry['to_code']} "
                     f"(version {entry.get('package_version', '?')}) ...")
                path = download(entry, Path(tmp), echo)
                done.append(argos.install_package_file(path))
                path.unlink()
                echo(f"Installed {done[-1][0]}->{done[-1][1]}.")
            if tuple(pair) in argos.reachable_pairs(installed):
                echo(f"Argos already translates {pair[0]}->{pair[1]}.")
    return done


def install_demo_packs(pairs: Iterable[tuple[str, str]] = DEMO_PAIRS,
                       echo: Callable[[str], None] = print) -> list[tuple[str, str]]:
    """Best-effort install of demo packs (es<->en) for the start script; offline returns []."""
    try:
        installed = install_pairs_online(pairs, echo)
    except Offline as exc:
        echo(f"Skipping Argos language packs: {exc}")
        echo("Apertium still translates Spanish<->English offline if it is installed.")
        return []
    except click.ClickException as exc:
        echo(f"Skipping Argos language packs: {exc.message}")
        return []
    for source, target in installed:
        # A pack without sentence-splitter data fetches it on first use: do that while online.
        try:
            argos.ArgosEngine().translate("Hello.", source, target)
        except Exception as exc:  # the pack is installed either way; say so and carry on
            echo(f"  warm-up of {source}->{target} failed ({type(exc).__name__})")
    return installed


def _parse_pair(text: str) -> tuple[str, str]:
    source, sep, target = text.strip().lower().partition(":")
    if not sep or not source or not target or source == target:
        raise click.BadParameter(f"{text!r}: write a pair as SOURCE:TARGET, e.g. es:en")
    return source, target


def _config() -> dict:
    """The app's config when run under `flask --app app`, else the environment."""
    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        try:
            return dict(info.load_app().config)
        except Exception:  # no app to load (plain `python -m`): the environment is the config
            pass
    return dict(os.environ)


@translation.command("status", with_appcontext=False)
def status() -> None:
    """Show each configured engine, whether it works, and its language pairs."""
    config = _config()
    translator = build_translator(config)
    click.echo(f"TRANSLATION_ENGINE={config.get('TRANSLATION_ENGINE') or 'argos,apertium'}")
    with translator:
        engines = translator.describe()
    if not engines:
        click.echo("Machine translation is turned off.")
    for engine in engines:
        state = "available" if engine["available"] else "unavailable"
        click.echo(f"{engine['name']}: {state}")
        if engine["pairs"]:
            click.echo("  pairs: " + ", ".join(f"{s}->{t}" for s, t in engine["pairs"]))
        if engine.get("reason"):
            click.echo(f"  {engine['reason']}")


@translation.command("install-argos", with_appcontext=False)
@click.argument("package_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--pair", "pairs", multiple=True, help="SOURCE:TARGET, e.g. es:en (downloads).")
def install_argos(package_file: str | None, pairs: tuple[str, ...]) -> None:
    """Install an Argos pack from a .argosmodel file, or download one with --pair es:en."""
    if not package_file and not pairs:
        raise click.UsageError("give a FILE.argosmodel or --pair SOURCE:TARGET")
    if package_file:
        try:
            source, target = argos.install_package_file(package_file)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Installed Argos pack {source}->{target} into "
                   f"{', '.join(map(str, argos.packages_dirs()))}.")
    if pairs:
        try:
            install_pairs_online([_parse_pair(p) for p in pairs], click.echo)
        except Offline as exc:
            raise click.ClickException(str(exc)) from exc


if __name__ == "__main__":
    translation()
