"""The economy: config, pure rules, account kinds and the records the exchange returns."""
