"""Argos Translate in tests: a private data directory and a tiny genuine language pack.

argostranslate reads its directories once, at first import. `configure_argos_env(tmpdir)`
must therefore run before anything imports it (the main conftest calls it at import time);
it imports `argostranslate.settings` itself with the XDG variables pointed at tmpdir, then
puts the XDG variables back, because other tools (Playwright finds its browsers under
XDG_CACHE_HOME) must keep seeing the real ones. Packs installed by tests land in tmpdir,
never in the developer's own ~/.local/share/argos-translate.

`build_tiny_pack(dir)` builds the 160 KB word-by-word pack from /work/shared/translation:
"hola mundo." -> "hello world." It proves argos's loading and plumbing, not quality.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

_XDG = ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
_configured: Path | None = None


def configure_argos_env(tmpdir: str | os.PathLike) -> Path:
    """Point argostranslate at tmpdir (once per process); returns its packages directory."""
    global _configured
    if _configured is not None:
        return _configured
    root = Path(tmpdir).resolve()
    packages = root / "packages"
    if "argostranslate.settings" in sys.modules:
        current = Path(sys.modules["argostranslate.settings"].package_data_dir).resolve()
        if root not in current.parents:
            raise RuntimeError("argostranslate was imported before configure_argos_env(); "
                               f"tests would install packs into {current}")
    saved = {key: os.environ.get(key) for key in _XDG}
    os.environ.update({key: str(root / key.lower()) for key in _XDG})
    os.environ.update({"ARGOS_PACKAGES_DIR": str(packages), "ARGOS_DEVICE_TYPE": "cpu",
                       "ARGOS_INTRA_THREADS": "1"})
    try:
        import argostranslate.settings  # reads the directories now, once

        assert Path(argostranslate.settings.package_data_dir).resolve() == packages
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    _configured = packages
    return packages


def _shared_builder():
    """Import make_tiny_argos.py by path from the shared/translation folder above the repo."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "translation" / "make_tiny_argos.py"
        if candidate.exists():
            spec = importlib.util.spec_from_file_location("make_tiny_argos", candidate)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError("shared/translation/make_tiny_argos.py not found above the repo")


def build_tiny_pack(out_dir: str | os.PathLike, from_code: str = "xx", to_code: str = "en") -> Path:
    """Build the tiny pack (word-by-word, toy lexicon) and return its .argosmodel path."""
    return _shared_builder().build_package(Path(out_dir), from_code=from_code, to_code=to_code)


def tiny_lexicon() -> dict[str, str]:
    """The toy source -> English word list the tiny pack translates with."""
    return dict(_shared_builder().LEXICON)
