"""Measuring: the golden eval suite (`h2h eval`) and its reports, the per-rule bench over the
labelled guardrail corpus, and the archive audit (`h2h check --jsonl`).

May import the contract, `rewriter.analysis`, `rewriter.guard` and `rewriter.model`; never a
surface.
"""
