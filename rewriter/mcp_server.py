"""`h2h mcp`: the library as tools of a Model Context Protocol server over stdio, for AI agents
that draft replies inside a helpdesk.

A surface (like rewriter/cli.py): it imports the layers below and the `mcp` SDK (2.x, the
`h2h[serve]` extra), only when this command runs. Tool inputs are the case of SPEC §2; a case
that is malformed, or lacks what the tool needs, is a tool error the agent can read and correct,
never a crash of the server. The model (H2H_MODEL, H2H_API_BASE, the key) is the server's
configuration, as for `h2h serve`: a tool call cannot point it at another address.
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, ConfigDict

from rewriter import __version__
from rewriter.errors import H2HError
from rewriter.models import Case as ContractCase
from rewriter.models import CheckResult, RewriteResult


class Case(ContractCase):
    """One support situation (SPEC §2): the thread, the agent's draft, what the agent knows, and
    optionally the reply to check."""

    model_config = ConfigDict(defer_build=False)  # the SDK builds the input schema up front


class RuleInfo(BaseModel):
    id: str
    severity: str
    description: str


class RulesList(BaseModel):
    rules: list[RuleInfo]


CASE_HELP = (
    "The case (h2h SPEC §2): {id?, thread: [{author: customer|agent, text, name?}], "
    "draft?, facts?: [str], reply?}, oldest message first."
)


def build() -> MCPServer:
    server = MCPServer(
        "h2h",
        version=__version__,
        instructions=(
            "Tools for Russian customer-support replies: check a reply against h2h's hard rules "
            "(ok=false means it must not be sent), rewrite an agent's draft so it reads human to "
            "human without changing facts, and list the rules. " + CASE_HELP
        ),
    )

    @server.tool(
        description="Check `case.reply` (or the draft when there is no reply) against "
        "every rule. ok=false: a block rule fires and the reply must not be sent. " + CASE_HELP
    )
    async def check_reply(case: Case) -> CheckResult:
        from rewriter.guard.engine import check

        try:
            return check(case)
        except H2HError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(
        description="Rewrite `case.draft` so it reads human to human; a result that "
        "would break a block rule is never returned (the offline engine answers "
        "instead). " + CASE_HELP
    )
    async def rewrite_draft(case: Case) -> RewriteResult:
        from rewriter.model.loop import arewrite

        try:
            return await arewrite(case)
        except H2HError as exc:
            raise ToolError(str(exc)) from None

    @server.tool(description="The rules: id, severity (block or warn) and what each one catches.")
    async def list_rules() -> RulesList:
        from rewriter.guard.rules import load_rules

        return RulesList(
            rules=[
                RuleInfo(id=r.id, severity=r.severity, description=r.one_line) for r in load_rules()
            ]
        )

    return server


def run() -> None:
    build().run("stdio")
