"""Command-line tasks: `flask --app app <command>` (seed-demo, sweep, translation ...)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from storage.db import session_scope


def register_commands(app: Flask) -> None:
    """Add the product's commands to `flask`."""
    from bot.translation.cli import translation

    app.cli.add_command(translation)
    app.cli.add_command(school_group)

    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the demo school, its SENDCo login and its families."""
        from storage.demo import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, seed_demo

        with session_scope() as session:
            seed_demo(session)
        click.echo(f"Demo school ready. Staff login: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}")

    @app.cli.command("purge")
    def purge_command():
        """Delete message text older than each school's retention setting now (the sweep does it too)."""
        from bot.messaging.retention import sweep_retention
        from storage.models import utcnow

        with session_scope() as session:
            counts = sweep_retention(session, utcnow())
        click.echo(f"{counts['purged']} message texts deleted.")

    @app.cli.command("sweep")
    def sweep_command():
        """Hand the worker whatever the database says is still pending (as the worker does every minute)."""
        from bot.sweep import run_sweep

        click.echo(run_sweep() or "Another sweep is running; nothing done.")


school_group = AppGroup("school", help="Set up a school (a real one, without the demo seed).")


@school_group.command("create")
@click.option("--name", required=True, help="The school's name, as families know it.")
@click.option("--number", "numbers", multiple=True, required=True,
              help="A Twilio number of the school in E.164 (+447…); repeat for several.")
@click.option("--whatsapp", "whatsapp_numbers", multiple=True,
              help="Which of the numbers is also the school's WhatsApp sender.")
@click.option("--sendco-email", required=True, help="The first SENDCo's email (their sign-in).")
@click.option("--sendco-name", required=True, help="The SENDCo's name as colleagues and families see it.")
@click.option("--timezone", "zone", default="Europe/London", show_default=True)
@click.option("--region", default="GB", show_default=True, help="Where phone numbers written without +… are from.")
@click.option("--trust", "trust_name", default=None, help="The trust (several schools) it belongs to; made if new.")
def create_school(name, numbers, whatsapp_numbers, sendco_email, sendco_name, zone, region, trust_name):
    """Create a school, its Twilio number(s) and its first SENDCo; print the SENDCo's set-password link."""
    from flask import current_app

    from bot.inbox.school_setup import SetupProblem, create_school as setup, trust_named

    try:
        with session_scope() as session:
            trust_id = trust_named(session, trust_name).id if trust_name else None
            _, token = setup(session, name=name, numbers=numbers, whatsapp_numbers=whatsapp_numbers,
                             sendco_email=sendco_email, sendco_name=sendco_name, timezone=zone, region=region,
                             trust_id=trust_id)
    except SetupProblem as problem:
        raise click.ClickException(str(problem)) from None
    base = (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    click.echo(f"{name} is ready. {sendco_name} sets a password here (works once, for 7 days):")
    click.echo(f"{base}/set-password/{token}")


@school_group.command("add-trust-admin")
@click.option("--trust", "trust_name", required=True, help="The trust's name (as given to `school create --trust`).")
@click.option("--email", required=True)
@click.option("--name", required=True)
def add_trust_admin_command(trust_name, email, name):
    """A trust admin: sets up the trust's schools and SENDCos, reads no families' messages."""
    from flask import current_app

    from bot.inbox.school_setup import SetupProblem, add_trust_admin

    try:
        with session_scope() as session:
            token = add_trust_admin(session, trust_name, email, name)
    except SetupProblem as problem:
        raise click.ClickException(str(problem)) from None
    base = (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    click.echo(f"{name} can set a password here (works once, for 7 days):")
    click.echo(f"{base}/set-password/{token}")
