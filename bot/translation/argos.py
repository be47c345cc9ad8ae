"""Argos Translate: offline neural translation with whatever language packs are installed.

argostranslate reads its settings once, at first import, and `argostranslate.translate`
pulls in stanza and torch (3-6 s). So: the CPU/one-thread settings are put in the environment
before the first import (one thread is ~3x faster on two cores), the light
`argostranslate.package` answers "which pairs?", and the heavy module is imported only when
text is first translated. Pairs reachable by pivoting (so->en->pl) count, as argos chains
packs itself. The installed-pack list is re-read whenever the packages directory changes, so
a pack installed by the CLI is picked up without a restart.
"""
from __future__ import annotations

import json
import os
import threading
import zipfile
from collections.abc import Iterable
from pathlib import Path

from bot.translation import TranslationFailed

_DEFAULT_ENV = {"ARGOS_DEVICE_TYPE": "cpu", "ARGOS_INTRA_THREADS": "1"}


def argos_package_module():
    """Import argostranslate.package (cheap) after setting CPU-friendly defaults."""
    for key, value in _DEFAULT_ENV.items():
        os.environ.setdefault(key, value)
    import argostranslate.package

    return argostranslate.package


def packages_dirs() -> list[Path]:
    """The directories argos installs packs into and reads them from."""
    argos_package_module()
    from argostranslate import settings

    return list(settings.package_dirs)


def installed_packs() -> list[tuple[str, str]]:
    """Direct (from, to) pairs of the installed translate packs."""
    packages = argos_package_module().get_installed_packages()
    return sorted({(p.from_code, p.to_code) for p in packages if p.type == "translate"})


def reachable_pairs(packs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Every pair argos can translate by chaining packs (its pivot rule)."""
    graph: dict[str, set[str]] = {}
    for source, target in packs:
        graph.setdefault(source, set()).add(target)
    pairs = set()
    for start in graph:
        seen, frontier = {start}, [start]
        while frontier:
            for nxt in graph.get(frontier.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        pairs.update((start, end) for end in seen if end != start)
    return pairs


def forget_loaded_models() -> None:
    """Clear argos's own caches so packs installed or removed in this process are seen."""
    import sys

    translate = sys.modules.get("argostranslate.translate")
    if translate is not None:
        translate.get_installed_languages.cache_clear()
        translate.installed_translates.clear()


def pack_pair(path: str | Path) -> tuple[str, str]:
    """The (from, to) pair a .argosmodel file provides; ValueError if it is not a pack."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist()
                     if n.count("/") == 1 and n.endswith("/metadata.json")]
            if len(names) != 1:
                raise ValueError(f"{path} is not an Argos language pack (no metadata.json)")
            metadata = json.loads(archive.read(names[0]))
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path} is not an Argos language pack (not a zip archive)") from exc
    if metadata.get("type", "translate") != "translate" or not metadata.get("from_code"):
        raise ValueError(f"{path} is not an Argos translation pack")
    return metadata["from_code"], metadata["to_code"]


def install_package_file(path: str | Path) -> tuple[str, str]:
    """Install a .argosmodel file into argos's packages directory; returns its pair."""
    pair = pack_pair(path)
    argos_package_module().install_from_path(Path(path))
    forget_loaded_models()
    return pair


class ArgosEngine:
    """Translate with the installed Argos packs (direct or pivoted)."""

    name = "argos"

    def __init__(self):
        self._lock = threading.Lock()  # guards the pack list
        self._translate_lock = threading.Lock()  # argos's CachedTranslation is not thread-safe
        self._signature: tuple | None = None
        self._packs: list[tuple[str, str]] = []
        self._pairs: set[tuple[str, str]] = set()

    def _missing_library(self) -> str | None:
        try:
            argos_package_module()
        except ImportError:
            return "argos is not installed on this server (no argostranslate Python package)"
        return None

    def refresh(self) -> None:
        """Forget the cached pack list and loaded models (after installing or removing packs)."""
        with self._lock:
            self._signature = None
        forget_loaded_models()

    def _current_pairs(self) -> set[tuple[str, str]]:
        signature = _directory_signature(packages_dirs())
        with self._lock:
            if signature != self._signature:
                if self._signature is not None:
                    forget_loaded_models()
                self._packs = installed_packs()
                self._pairs = reachable_pairs(self._packs)
                self._signature = signature
            return self._pairs

    def unsupported_reason(self, source: str, target: str) -> str | None:
        """None if an installed pack (or chain of packs) translates source -> target."""
        missing = self._missing_library()
        if missing:
            return missing
        if (source, target) in self._current_pairs():
            return None
        return f"argos has no {source}->{target} pack installed"

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate with argos (the first call imports it and loads the model: seconds)."""
        self._current_pairs()  # also drops argos's stale caches if packs changed
        from argostranslate import translate as argos_translate

        with self._translate_lock:
            translation = argos_translate.get_translation_from_codes(source, target)
            if translation is None:
                raise TranslationFailed(f"argos lost its {source}->{target} pack")
            try:
                return translation.translate(text).strip()
            except (RuntimeError, ValueError, OSError) as exc:
                raise TranslationFailed(f"argos {source}->{target} failed: "
                                        f"{type(exc).__name__}") from exc

    def describe(self) -> dict:
        """Status for a status page: availability, reachable pairs, packs, directory."""
        missing = self._missing_library()
        if missing:
            return {"name": self.name, "available": False, "pairs": [], "reason": missing}
        pairs = sorted(self._current_pairs())
        dirs = ", ".join(str(d) for d in packages_dirs())
        return {"name": self.name, "available": bool(pairs), "pairs": pairs,
                "packs": list(self._packs), "packages_dir": dirs,
                "reason": None if pairs else f"argos has no language packs installed (in {dirs})"}

    def close(self) -> None:
        """Nothing to stop: models live in this process."""


def _directory_signature(dirs: list[Path]) -> tuple:
    """Changes whenever a pack is added, removed or replaced (a few stat calls)."""
    parts = []
    for directory in dirs:
        try:
            parts.append((str(directory), directory.stat().st_mtime_ns))
            for meta in directory.glob("*/metadata.json"):
                parts.append((str(meta), meta.stat().st_mtime_ns))
        except FileNotFoundError:
            parts.append((str(directory), None))
    return tuple(sorted(parts, key=lambda part: part[0]))
