"""Twilio, at one edge: REST client, webhooks, signatures, form fields, error codes, statuses.

The only package that imports `twilio` or knows Twilio's field names; it hands the domain
the neutral shapes of bot/messaging/channel.py.
"""
