"""The positional arguments (and per-write options) commands share, each declared once
with its help, so `COMMAND --help` says what every argument is."""

from __future__ import annotations

from typing import Annotated

import typer

# The task types the seed's agents have a model for (the default config.toml); any other
# word is allowed and uses the agent's primary LLM.
SEED_TASK_TYPES = "coding, planning, analysis, reasoning, chat, docs"

Agent = Annotated[str, typer.Argument(
    metavar="AGENT", show_default=False,
    help="An agent named in config.toml (the seed's: claude, builder, lambda, spark, "
    "observer, zero).")]
Member = Annotated[str, typer.Argument(
    metavar="AGENT", show_default=False, help="The agent acting (a pool member).")]
TaskType = Annotated[str, typer.Argument(
    metavar="TASK_TYPE", show_default=False,
    help=f"What the request is for; picks the agent's model. The seed's: {SEED_TASK_TYPES}. "
    "Any other word uses the agent's primary LLM (the reply says so).")]
InferenceTokens = Annotated[int, typer.Argument(
    metavar="TOKEN_COUNT", show_default=False,
    help="Inference tokens the request uses, a whole number (5000); the cost is "
    "tokens × the model's price per 1,000.")]
Amount = Annotated[str, typer.Argument(
    metavar="AMOUNT", show_default=False,
    help="Exchange tokens, a plain decimal (150, 0.5; up to 6 decimals).")]
PoolId = Annotated[str, typer.Argument(
    metavar="POOL_ID", show_default=False, help="The pool's id, like pool-1 "
    "(`token-exchange pool list` shows them).")]
Model = Annotated[str, typer.Argument(
    metavar="MODEL", show_default=False,
    help="A model priced in config.toml (the seed's: claude-opus, claude-sonnet, gemini-pro, "
    "llama3.2, qwen2.5-coder).")]
Description = Annotated[str, typer.Argument(
    metavar="DESCRIPTION", show_default=False, help="What it is for, kept in the ledger.")]
IdempotencyKey = Annotated[str | None, typer.Option(
    "--idempotency-key", metavar="KEY", show_default=False,
    help="Apply this write at most once: running it again with the same KEY changes "
    "nothing and says it was already done.")]
