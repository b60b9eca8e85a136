"""The service: the one write path (Exchange) and the queries, over a ledger store."""
