"""Talking to a model: the transports (one POST for OpenAI-compatible servers, litellm for the
rest, imported lazily), the prompt, PII masking, the answer cache, token counts, and the loop that
re-asks a violating answer and falls back to the offline engine.

May import the contract, `rewriter.analysis` and `rewriter.guard`; never the evals or a surface.
Nothing here is imported by `h2h check` or the offline path.
"""
