"""The FastAPI application: SPEC §7's routes over the library's own functions and models.

Bodies are the library's pydantic models (Case, CheckResult, RewriteResult), so the OpenAPI
schema is the contract of SPEC §2–§4 and nothing is invented for HTTP. Answers are serialised by
the models themselves (`model_dump_json`) rather than re-validated by FastAPI: the result types
are ours and already valid, and re-validation costs a visible share of a check's time.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rewriter import __version__
from rewriter.errors import H2HError, UsageError
from rewriter.models import Case as ContractCase
from rewriter.models import CheckResult, RewriteResult, parse_case
from rewriter.serve import metrics
from rewriter.serve.middleware import Gate
from rewriter.serve.rewriteloop import RewriteLoop
from rewriter.serve.settings import Settings
from rewriter.serve.state import ServerState

STATIC = Path(__file__).resolve().parent / "static"

# `?grounded=true`: hold the checked text (an agent's own draft too) to the facts and the thread
# alone, as `h2h check --grounded` does.
GroundedQuery = Annotated[
    bool,
    Query(description="Hold the draft itself to the facts and the thread (h2h check --grounded)."),
]


class ApiError(Exception):
    def __init__(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers


# --- request and answer shapes (the SPEC's, plus the HTTP envelope) ---------------------------


# The contract's Case defers building its schema (the CLI's start-up never pays for it); FastAPI
# wants it built up front, or pydantic warns on every first request. Same fields, same name.
class Case(ContractCase):
    """One support situation: the thread, the agent's draft, what the agent knows."""

    model_config = ConfigDict(defer_build=False)


class ErrorDetail(BaseModel):
    type: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class RewriteOptions(BaseModel):
    """What a request may choose; the base URL and key are the server's alone."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(None, description="A model from H2H_ALLOWED_MODELS (or H2H_MODEL).")
    max_attempts: int | None = Field(None, ge=1, le=5)
    timeout: float | None = Field(
        None, gt=0, description="Seconds per model request, at most the server's."
    )


class RewriteRequest(Case):
    options: RewriteOptions | None = None


class BatchRequest(BaseModel):
    cases: list[Any] = Field(..., max_length=1000)


class BatchError(BaseModel):
    id: Any = None
    error: ErrorDetail


class BatchResponse(BaseModel):
    results: list[CheckResult | BatchError]


class RuleInfo(BaseModel):
    id: str
    severity: str
    description: str


class RulesResponse(BaseModel):
    rules: list[RuleInfo]


class Status(BaseModel):
    status: str


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorBody} for code in codes}


V1_ERRORS = (401, 503)

# --- helpers ---------------------------------------------------------------------------------


def _json(data: bytes | str, status: int = 200) -> Response:
    return Response(content=data, status_code=status, media_type="application/json")


def _size(case: Case) -> int:
    return (
        len(case.reply or "")
        + len(case.draft or "")
        + sum(len(m.text) for m in case.thread)
        + sum(len(f) for f in case.facts)
    )


def _note_rules(request: Request, rules: list[str]) -> None:
    request.scope.setdefault("state", {})["rules"] = sorted(set(rules))


@cache
def _examples() -> list[dict[str, Any]]:
    from rewriter.loading import parse_document
    from rewriter.paths import data_dir

    found = []
    for path in sorted(data_dir("examples").iterdir()):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        try:
            data = parse_document(path.read_text(encoding="utf-8"), path.name)
        except (OSError, ValueError, H2HError):
            continue
        if isinstance(data, dict) and data.get("draft"):
            found.append(data)
    return found


@cache
def _page(name: str) -> str:
    html = (STATIC / name).read_text(encoding="utf-8")
    # The shipped examples travel inside the page: no extra request, no extra endpoint.
    examples = json.dumps(_examples(), ensure_ascii=False).replace("</", "<\\/")
    return html.replace("__H2H_EXAMPLES__", examples)


def _page_headers(frame_ancestors: str) -> dict[str, str]:
    """The pages may load from this server only (the browser enforces SPEC §7's "no page loads
    anything from the internet"), and send no referrer."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; "
        f"frame-ancestors {frame_ancestors}"
    )
    return {
        "content-security-policy": policy,
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
    }


def _warm_up(model: str | None) -> None:
    """Load the rules and the analyzer (one small check) and, with a model configured, what the
    first rewrite would otherwise load while a caller waits: the prompts, the masker, httpx."""
    from rewriter.guard.engine import check

    check(ContractCase.model_validate({"draft": "Спасибо за обращение, вернём деньги завтра."}))
    if model:
        from rewriter.model.llm import ModelConfig
        from rewriter.model.loop import _start

        case = ContractCase.model_validate({"draft": "Проверим и напишем вам сегодня."})
        _start(case, ModelConfig(model=model), 1, None, None, True)
        if ModelConfig(model=model).direct_openai:
            import httpx  # noqa: F401


# --- the application ---------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> Any:
    """The ASGI application (FastAPI wrapped in the gate). Settings default to the environment."""
    settings = settings or Settings.from_env()
    state = ServerState(settings)
    rewrites = RewriteLoop(pool=settings.max_rewrites)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.ready = asyncio.Event()
        rewrites.start()

        async def warm() -> None:
            try:
                await anyio.to_thread.run_sync(_warm_up, settings.model)
            except Exception as exc:  # e.g. a malformed rule file: not ready, and say why
                detail = str(exc) if isinstance(exc, H2HError) else type(exc).__name__
                state.warm_error = " ".join(detail.split())
                sys.stderr.write(
                    json.dumps({"event": "not_ready", "error": state.warm_error}) + "\n"
                )
            assert state.ready is not None
            state.ready.set()

        task = asyncio.create_task(warm())
        yield
        task.cancel()
        rewrites.stop()

    app = FastAPI(
        title="h2h",
        version=__version__,
        description="Rewrite a support agent's draft so it reads human to human; block replies "
        'that break hard rules. Errors are `{"error": {"type", "message"}}`.',
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN: no page may use the network
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.h2h = state
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def ready() -> None:
        if state.ready is None:  # no lifespan (a bare ASGI call): warm up now
            await anyio.to_thread.run_sync(_warm_up, settings.model)
            state.ready = asyncio.Event()
            state.ready.set()
        if not state.ready.is_set():
            await state.ready.wait()
        if state.warm_error:
            raise ApiError(503, "not_ready", state.warm_error)

    async def run_check(case: Case, grounded: bool = False) -> CheckResult:
        from rewriter.guard.engine import check

        if _size(case) <= settings.check_inline_chars:
            return check(case, grounded)
        return await anyio.to_thread.run_sync(check, case, grounded)

    # --- errors: always the JSON envelope, never a traceback ----------------------------------

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> Response:
        return JSONResponse(
            {"error": {"type": exc.kind, "message": exc.message}}, exc.status, headers=exc.headers
        )

    @app.exception_handler(UsageError)
    async def _usage_error(_: Request, exc: UsageError) -> Response:
        return JSONResponse({"error": {"type": "invalid_case", "message": str(exc)}}, 422)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid body", "type": ""}
        if first.get("type") == "json_invalid":
            return JSONResponse(
                {"error": {"type": "invalid_json", "message": "the body is not valid JSON"}}, 400
            )
        loc = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
        msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        kind = "invalid_options" if loc.startswith("options") else "invalid_case"
        if first.get("type") == "missing" and loc == "body":
            msg = "the body is empty: send a JSON object"
        message = msg if loc == "body" else f"{loc}: {msg}"
        return JSONResponse({"error": {"type": kind, "message": message}}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        kinds = {404: "not_found", 405: "method_not_allowed"}
        if exc.status_code == 400:  # FastAPI could not read the body: bad UTF-8, nesting too deep
            message = "the body is not readable JSON"
            return JSONResponse({"error": {"type": "invalid_json", "message": message}}, 400)
        return JSONResponse(
            {
                "error": {
                    "type": kinds.get(exc.status_code, "http_error"),
                    "message": str(exc.detail),
                }
            },
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> Response:
        return JSONResponse({"error": {"type": "internal", "message": "internal error"}}, 500)

    # --- /v1 ------------------------------------------------------------------------------------

    @app.post(
        "/v1/check",
        response_model=CheckResult,
        responses=_errors(400, 413, 415, 422, *V1_ERRORS),
        summary="Check a reply (or the draft) against every rule",
    )
    async def check_case(case: Case, request: Request, grounded: GroundedQuery = False) -> Response:
        await ready()
        return _json(await checked(case, request.scope, grounded))

    async def checked(case: Case, scope: MutableMapping[str, Any], grounded: bool = False) -> str:
        """/v1/check's answer, shared by the route and the fast path."""
        result = await run_check(case, grounded)
        scope.setdefault("state", {})["rules"] = sorted({v.rule for v in result.violations})
        metrics.count_violations(result.violations, "/v1/check")
        return result.model_dump_json()

    async def fast_check(body: bytes, scope: MutableMapping[str, Any]) -> str | None:
        """The happy path of /v1/check, or None to let the route answer (and word any error)."""
        if state.ready is None or not state.ready.is_set() or state.warm_error:
            return None
        if scope.get("query_string"):  # ?grounded=… is read (and validated) by the route
            return None
        try:
            case = Case.model_validate_json(body)
            return await checked(case, scope)
        except (ValidationError, UsageError):
            return None

    @app.post(
        "/v1/check/batch",
        response_model=BatchResponse,
        responses=_errors(400, 413, 415, 422, *V1_ERRORS),
        summary="Check up to 1,000 cases; a bad case gets an error in its place",
    )
    async def check_batch(
        batch: BatchRequest, request: Request, grounded: GroundedQuery = False
    ) -> Response:
        await ready()

        def work() -> tuple[list[str], list[str]]:
            from rewriter.guard.engine import check

            out: list[str] = []
            rules: list[str] = []
            for n, raw in enumerate(batch.cases):
                try:
                    result = check(parse_case(raw, where=f"cases[{n}]"), grounded)
                except UsageError as exc:
                    out.append(
                        json.dumps(
                            {
                                "id": raw.get("id") if isinstance(raw, dict) else None,
                                "error": {"type": "invalid_case", "message": str(exc)},
                            },
                            ensure_ascii=False,
                        )
                    )
                    continue
                metrics.count_violations(result.violations, "/v1/check/batch")
                rules.extend(v.rule for v in result.violations)
                out.append(result.model_dump_json())
            return out, rules

        out, rules = await anyio.to_thread.run_sync(work)
        _note_rules(request, rules)
        return _json('{"results":[' + ",".join(out) + "]}")

    @app.post(
        "/v1/rewrite",
        response_model=RewriteResult,
        responses=_errors(400, 413, 415, 422, 429, *V1_ERRORS),
        summary="Rewrite the draft; a model answer that breaks a block rule is never returned",
    )
    async def rewrite_case(body: RewriteRequest, request: Request) -> Response:
        from rewriter.model.loop import DEFAULT_MAX_ATTEMPTS, arewrite

        await ready()
        options = body.options or RewriteOptions()
        model = options.model or settings.model
        if options.model and options.model not in settings.allowed_models:
            raise ApiError(
                422,
                "model_not_allowed",
                f"options.model: {options.model!r} is not in H2H_ALLOWED_MODELS",
            )
        timeout = options.timeout or settings.timeout
        if timeout > settings.timeout:
            raise ApiError(
                422,
                "invalid_options",
                f"options.timeout: at most the server's {settings.timeout:g} seconds",
            )
        if state.rewrites_in_flight >= settings.max_rewrites:
            metrics.REJECTED.labels("too_many_rewrites").inc()
            raise ApiError(
                429,
                "too_many_rewrites",
                f"{settings.max_rewrites} rewrites are in flight; retry shortly",
                {"retry-after": "1"},
            )
        case = Case.model_validate(body.model_dump(exclude={"options"}))
        state.rewrites_in_flight += 1
        try:
            result = await rewrites.run(
                arewrite(
                    case,
                    model,
                    timeout=timeout,
                    max_attempts=options.max_attempts or DEFAULT_MAX_ATTEMPTS,
                )
            )
        finally:
            state.rewrites_in_flight -= 1
        metrics.REWRITES.labels(result.source).inc()
        if model and result.source == "offline":
            metrics.FALLBACKS.inc()
        metrics.count_violations(result.violations, "/v1/rewrite")
        _note_rules(request, [v.rule for v in result.violations])
        return _json(result.model_dump_json())

    @app.get("/v1/rules", response_model=RulesResponse, responses=_errors(*V1_ERRORS))
    async def list_rules() -> Response:
        from rewriter.guard.rules import load_rules

        await ready()
        rules = [
            {"id": r.id, "severity": r.severity, "description": r.one_line} for r in load_rules()
        ]
        return _json(json.dumps({"rules": rules}, ensure_ascii=False))

    # --- operations -----------------------------------------------------------------------------

    @app.get("/healthz", response_model=Status, summary="Liveness: the process answers")
    async def healthz() -> Response:
        return _json(b'{"status":"ok"}')

    @app.get(
        "/readyz",
        response_model=Status,
        responses=_errors(503),
        summary="Readiness: rules and the analyzer are loaded",
    )
    async def readyz() -> Response:
        if state.warm_error:
            raise ApiError(503, "not_ready", state.warm_error)
        if state.ready is None or not state.ready.is_set():
            raise ApiError(503, "not_ready", "loading the rules and the analyzer")
        return _json(b'{"status":"ready"}')

    @app.get(
        "/metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        summary="Prometheus metrics (no text of any case)",
    )
    async def metrics_route() -> Response:
        return Response(metrics.exposition(), media_type=metrics.CONTENT_TYPE)

    # --- pages ------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, summary="The playground")
    async def playground() -> HTMLResponse:
        return HTMLResponse(_page("index.html"), headers=_page_headers("'self'"))

    @app.get("/chatwoot", response_class=HTMLResponse, summary="The Chatwoot dashboard app")
    async def chatwoot() -> HTMLResponse:
        # Chatwoot frames this page from its own origin, whatever it is; the token never sits
        # in the page, so framing reveals nothing a frame could not ask for itself.
        return HTMLResponse(_page("chatwoot.html"), headers=_page_headers("*"))

    return Gate(FastCheck(app, fast_check), state)


class FastCheck:
    """POST /v1/check straight to the check, past FastAPI's routing and dependency machinery:
    measured in process, that machinery took about 0.3 ms of a 0.75 ms answer — more than half
    again the check's own time. Only the happy path is taken here; a body that does not validate,
    or a server still warming up, goes on to the FastAPI route with the same bytes, which answers
    exactly as it always does. The gate in front has already read the whole body."""

    def __init__(self, app: Any, handle: Any) -> None:
        self.app = app
        self.handle = handle

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/check" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        message = await receive()
        answer = await self.handle(message.get("body", b""), scope)
        if answer is None:
            delivered = False

            async def replay() -> Any:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return message
                return await receive()

            await self.app(scope, replay, send)
            return
        body = answer.encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
