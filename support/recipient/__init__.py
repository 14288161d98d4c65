"""Pages for recipients (no login): confirm a subscription, unsubscribe, RFC 8058 one-click."""
