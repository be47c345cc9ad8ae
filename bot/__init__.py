"""The product: channels (Twilio, simulator) at the edge, messaging, conversations and reviews in
the middle, languages, translation and background tasks below. See docs/architecture.md."""
