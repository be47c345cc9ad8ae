"""The edges of the product: Twilio webhooks, channels, language detection, translation, inbox, simulator."""
