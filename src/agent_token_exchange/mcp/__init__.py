"""The exchange as Model Context Protocol tools, for an agent to see and spend its own
tokens (``token-exchange mcp``)."""
