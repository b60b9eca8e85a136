"""Prompt estimates: where the provider's tokenizer is not known, the default estimate
never reserves less than the provider then counts."""

from __future__ import annotations

import random

from agent_token_exchange.economy.config import default_config_text, parse_config_text
from agent_token_exchange.gateway.estimate import estimate_prompt

from ..standin_provider import StandinProvider

UPSTREAMS = (
    '[upstreams.a]\nprotocol = "anthropic"\nbase_url = "http://127.0.0.1:1"\n'
    '[upstreams.o]\nprotocol = "openai"\nbase_url = "http://127.0.0.1:1/v1"\n'
)


def mixed_prompts() -> list[str]:
    """English, code, CJK and emoji, alone and mixed (CJK and emoji are where a count of
    characters falls short)."""
    rng = random.Random(3)
    english = "The ledger settles every reservation against what the provider reported. "
    code = "def spend(agent, amount):\n    return ledger.post(agent, -amount)  # 🙂\n"
    cjk = "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(300))
    emoji = "".join(chr(rng.randrange(0x1F300, 0x1F64F)) for _ in range(120))
    return [english * 5, code * 5, cjk, emoji, english + cjk[:50] + emoji[:20] + code]


def test_each_protocol_defaults_to_its_safe_estimate():
    """Unset, OpenAI's protocol estimates with its tokenizer and any other with UTF-8 bytes."""
    config = parse_config_text(default_config_text() + UPSTREAMS)
    assert config.upstreams["o"].token_estimator == "tiktoken"
    assert config.upstreams["a"].token_estimator == "bytes"


def test_the_default_anthropic_estimate_is_never_below_the_providers_count():
    """For every prompt, the default estimate for an Anthropic upstream is at least what
    the stand-in (modelled on Anthropic's counts) reports as the input; the character
    estimate it replaced falls short on some of them."""
    provider = StandinProvider()  # its counts, not its server
    short_by_chars = 0
    for text in mixed_prompts():
        body = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": text}]}
        counted = provider.anthropic_input(body)
        assert estimate_prompt(body, "bytes") >= counted, text[:40]
        short_by_chars += estimate_prompt(body, "chars") < counted
    assert short_by_chars > 0
