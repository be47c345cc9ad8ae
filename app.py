"""Flask app factory: settings, storage, queue, channel, translation, blueprints, CLI."""
from __future__ import annotations

import logging

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from config import check_settings, load_settings

csrf = CSRFProtect()


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: embedded defaults, then the environment, then `test_config`."""
    app = Flask(__name__, template_folder="bot/templates", static_folder="bot/static")
    app.config.update(load_settings())
    if test_config:
        app.config.update(test_config)
    check_settings(app.config)
    if app.config["TRUSTED_PROXY_HOPS"]:
        # The client's address (sign-in throttling, logs) comes from X-Forwarded-For only when a known
        # number of proxies sets it; otherwise anyone could claim any address.
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    from bot.messaging.routing import parse_whatsapp_templates

    # Refuse to start with a malformed template table rather than fail at a parent's message.
    app.config["WHATSAPP_TEMPLATES"] = parse_whatsapp_templates(app.config.get("WHATSAPP_TEMPLATES"))
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if app.config["CHANNEL"] == "simulator" and not app.testing:
        logging.getLogger("app").warning("CHANNEL=simulator: nothing is sent to any phone; every message is "
                                         "marked as simulated. Never use this for a real school.")

    from bot import channels, tasks
    from bot.conversation import flow_runs
    from bot.translation import build_translator
    from storage import db

    db.init_app(app)
    tasks.init_app(app)
    channels.init_app(app)
    flow_runs.init_app(app)
    app.extensions["translator"] = build_translator(app.config, redis=app.extensions["redis"])
    csrf.init_app(app)

    from bot import inbox
    from bot.channels.twilio import voice_webhooks, webhooks
    from bot.inbox.safety import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter  # before any route is added: one rule for every id

    csrf.exempt(webhooks.bp)  # Twilio signs its requests instead
    app.register_blueprint(webhooks.bp)
    csrf.exempt(voice_webhooks.bp)
    app.register_blueprint(voice_webhooks.bp)
    app.register_blueprint(voice_webhooks.media)
    app.register_blueprint(inbox.bp)
    if app.config["CHANNEL"] == "simulator":
        from bot.inbox import simulator, simulator_calls

        app.register_blueprint(simulator.bp)
        app.register_blueprint(simulator_calls.bp)

    from bot.cli import register_commands

    register_commands(app)
    return app
