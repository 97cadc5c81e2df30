"""`h2h serve`: the library over HTTP for helpdesk plugins (SPEC §7), with the playground page and
the Chatwoot dashboard app.

A surface, like rewriter/cli.py: it may import every layer below it (the contract, analysis,
guard, model, evals) and nothing imports it. It owns the HTTP contract — routes, the JSON error
shape, the bearer token, body and in-flight limits, metrics, request logs, graceful shutdown —
and the static pages under static/. Its dependencies (fastapi, uvicorn, prometheus-client) come
with the `h2h[serve]` extra and are imported only here, so `h2h check` never loads them.
"""
