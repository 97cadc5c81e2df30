"""The guardrails: rule files (`guardrails/*.yaml`) read into Rules, the check kinds that run
them, the engine that collects violations, the safe fixes and the offline engine built on them.

Findings are values: a check returns Violations and never acts. May import the contract and
`rewriter.analysis`; never the model loop, the evals or a surface.
"""
