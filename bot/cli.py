"""Command-line tasks: `flask --app app <command>` (seed-demo, sweep, translation ...)."""
from __future__ import annotations

import click
from flask import Flask

from storage.db import session_scope


def register_commands(app: Flask) -> None:
    """Add the product's commands to `flask`."""
    from bot.translation.cli import translation

    app.cli.add_command(translation)

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the demo school, its SENDCo login and its families."""
        from storage.demo import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, seed_demo

        with session_scope() as session:
            seed_demo(session)
        click.echo(f"Demo school ready. Staff login: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}")

    @app.cli.command("sweep")
    def sweep_command():
        """Hand the worker whatever the database says is still pending (as the worker does every minute)."""
        from bot.sweep import run_sweep

        click.echo(run_sweep() or "Another sweep is running; nothing done.")
