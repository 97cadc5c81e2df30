"""`h2h mcp`: the MCP server over stdio, driven by the official SDK's own client."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from .conftest import EXAMPLES, ROOT
from .servekit import GOOD_ANSWER, FakeModel

COURT = json.loads((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))
TARIFF = json.loads((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))


async def _session_calls(
    calls: list[tuple[str, dict[str, Any]]], model_url: str
) -> tuple[list[Any], list[Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("H2H_")}
    env["H2H_CACHE_DIR"] = os.environ.get("H2H_CACHE_DIR", "")
    # The model is the server's configuration, as for `h2h serve`: a scripted one on 127.0.0.1.
    env.update({"H2H_MODEL": "openai/mcp-model", "H2H_API_BASE": model_url})
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "rewriter.cli", "mcp"], env=env, cwd=str(ROOT)
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = (await session.list_tools()).tools
        results = [await session.call_tool(name, args) for name, args in calls]
    return tools, results


def test_mcp_tools_over_stdio() -> None:
    model = FakeModel()
    bad_cases = [
        {"case": {"thread": [{"author": "robot", "text": "x"}], "draft": "y"}},
        {"case": "not an object"},
        {},
        {"case": {"draft": "x", "thread": [{"author": "customer", "text": "a"}] * 201}},
    ]
    tools, results = asyncio.run(
        _session_calls(
            [
                ("check_reply", {"case": COURT}),
                ("rewrite_draft", {"case": TARIFF}),
                ("list_rules", {}),
                ("rewrite_draft", {"case": {"reply": "no draft here"}}),
                *[("check_reply", bad) for bad in bad_cases],
                ("check_reply", {"case": {**COURT, "reply": "Вашу претензию передали юристам."}}),
            ],
            model.url,
        )
    )
    model.close()
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"check_reply", "rewrite_draft", "list_rules"}
    case_schema = by_name["check_reply"].input_schema
    assert "case" in case_schema["properties"] and case_schema["required"] == ["case"]

    checked, rewritten, rules, no_draft, *bad, after = results
    assert not checked.is_error
    assert checked.structured_content["ok"] is False
    assert "promo-in-legal-dispute" in {v["rule"] for v in checked.structured_content["violations"]}
    assert not rewritten.is_error
    assert rewritten.structured_content["source"] == "llm"
    assert rewritten.structured_content["model"] == "openai/mcp-model"
    assert rewritten.structured_content["text"] == GOOD_ANSWER
    assert rewritten.structured_content["id"] == "tariff-99"
    assert model.calls == 1
    ids = {r["id"] for r in rules.structured_content["rules"]}
    assert {"promo-in-legal-dispute", "invented-deadline"} <= ids
    assert no_draft.is_error and "draft" in no_draft.content[0].text
    for result in bad:  # a malformed case is a tool error the agent can read, never a crash
        assert result.is_error and result.content[0].text
    assert not after.is_error  # and the server is still there to answer the next call
    assert after.structured_content["ok"] is False  # «10 рабочих дней» of the draft was lost
