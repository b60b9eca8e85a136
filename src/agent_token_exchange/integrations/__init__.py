"""Earning from real work: git commits (hooks, backfill) and beads issues (bd)."""
