"""The layout as contracts: import-linter runs over the real tree, and a planted violation fails it."""
from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("bot", "flows", "storage", "templates_i18n")


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(cwd / ".importlinter")], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_part_of_bot_has_a_layer():
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    layered = {name.strip() for line in config["importlinter:contract:bot-layers"]["layers"].split("\n")
               for name in line.split("|") if name.strip()}
    parts = {f"bot.{path.stem}" for path in (ROOT / "bot").iterdir()
             if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()}
    assert parts == layered, "a new module or package in bot/ needs its place in .importlinter's layers"


@pytest.fixture
def tree_copy(tmp_path):
    """The four packages and the contracts, copied, to plant a violation in."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.yaml", "static", "templates", "*.md"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


@pytest.mark.parametrize("module, line, broken", [
    ("bot/messaging/outbound.py", "import twilio", "only bot.channels.twilio imports twilio"),
    ("bot/messaging/delivery.py", "from bot.jobs import deliver_message", "bot is layered"),
    ("bot/messaging/inbound.py", "from bot.conversation import turn", "bot is layered"),
    ("flows/engine.py", "from bot.language import keywords", "flows (the pure engine)"),
    ("storage/queries.py", "from bot import guardians", "storage is below the domain"),
    ("bot/messaging/outbound.py", "from bot.tasks.queue import enqueue_job", "only bot.tasks reaches the queue"),
])
def test_a_change_that_breaks_a_contract_fails(tree_copy, module, line, broken):
    path = tree_copy / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # planted\n", encoding="utf-8")
    result = _lint(tree_copy)
    assert result.returncode != 0
    assert broken in result.stdout and "BROKEN" in result.stdout
