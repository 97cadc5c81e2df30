"""Reading Russian text: sentences and tokens, lemmas (pymorphy3), lexicon matching, the shared
vocabularies of `guardrails/lexicons/`, facts (amounts, dates, ids, links), time expressions and
the situation of a thread (angry, grave, legal dispute, what the customer can't do).

Owns no rule and no decision: it answers "what does this text say". May import only the contract
(`rewriter.models`, `rewriter.errors`, `rewriter.paths`) and itself.
"""
