"""`h2h serve` (SPEC §7): the HTTP contract, over real HTTP to a server started on 127.0.0.1
and, where one process is enough, through Starlette's TestClient.

The model is a scripted OpenAI-compatible server on 127.0.0.1 (tests/servekit.py): no test calls
a real provider.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import EXAMPLES, ROOT
from .servekit import GOOD_ANSWER, FakeModel, ServeProcess

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from rewriter.serve.app import create_app
from rewriter.serve.settings import Settings

TOKEN = "test-token-123"
AUTH = {"authorization": f"Bearer {TOKEN}"}
TARIFF = json.loads((EXAMPLES / "tariff-99.json").read_text(encoding="utf-8"))
COURT = json.loads((EXAMPLES / "court-promo.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model() -> Iterator[FakeModel]:
    fake = FakeModel()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def live(model: FakeModel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """One server for the module: a token, a model, two allowed models, 8 rewrites in flight."""
    tmp = tmp_path_factory.mktemp("serve")
    proc = ServeProcess(
        tmp,
        {
            "H2H_API_TOKEN": TOKEN,
            "H2H_MODEL": "openai/main-model",
            "H2H_API_BASE": model.url,
            "H2H_ALLOWED_MODELS": "openai/other-model",
            "H2H_TIMEOUT": "10",
            "H2H_MAX_REWRITES": "8",
            "H2H_CACHE_DIR": str(tmp / "cache"),
        },
    )
    yield proc
    proc.stop()


@pytest.fixture
def fake(model: FakeModel) -> FakeModel:
    model.reset()
    return model


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as c:
        yield c


def _is_error(response: httpx.Response | Any, status: int | None = None) -> dict[str, Any]:
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message"}, body
    assert "Traceback" not in response.text
    return body["error"]


# --- the contract --------------------------------------------------------------------------------


def test_check_answers_the_check_result_and_echoes_the_id(client: TestClient) -> None:
    ok = client.post("/v1/check", json=TARIFF)
    assert ok.status_code == 200
    body = ok.json()
    assert body["id"] == "tariff-99" and body["ok"] is True
    assert {v["rule"] for v in body["violations"]} >= {"template-phrase", "capitalized-you"}
    blocked = client.post("/v1/check", json=COURT)
    assert blocked.status_code == 200  # 200 whether or not the reply is ok
    assert blocked.json()["ok"] is False
    assert "promo-in-legal-dispute" in {v["rule"] for v in blocked.json()["violations"]}
    v = blocked.json()["violations"][0]
    assert set(v) >= {"rule", "severity", "message", "span", "text"}
    # The answer is the library's own, byte for byte in meaning, whichever path served it.
    from rewriter import Case, check

    assert blocked.json() == check(Case.model_validate(COURT)).model_dump(mode="json")


def test_a_letter_without_a_unicode_name_is_checked_not_a_500(client: TestClient) -> None:
    """Found by schemathesis: pymorphy3 asked `unicodedata` for the name of a Tangut letter."""
    case = {"draft": "Проверим 𗀀.", "facts": ["𗀀"], "reply": "Проверили 𗀀."}
    assert client.post("/v1/check", json=case).status_code == 200
    assert client.post("/v1/rewrite", json=case).status_code == 200


def test_batch_keeps_order_and_puts_errors_in_place(client: TestClient) -> None:
    cases = [TARIFF, {"id": "bad", "thread": [{"author": "robot", "text": "x"}]}, 7, COURT]
    response = client.post("/v1/check/batch", json={"cases": cases})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r.get("id") for r in results] == ["tariff-99", "bad", None, "court-promo"]
    assert results[0]["ok"] is True and results[3]["ok"] is False
    assert results[1]["error"]["type"] == "invalid_case"
    assert "author" in results[1]["error"]["message"]
    assert "expected a JSON object" in results[2]["error"]["message"]


def test_batch_over_the_limit_or_not_a_batch_is_4xx(client: TestClient) -> None:
    too_many = client.post("/v1/check/batch", json={"cases": [{"draft": "Добрый день."}] * 1001})
    _is_error(too_many, 422)
    _is_error(client.post("/v1/check/batch", json=[TARIFF]), 422)
    _is_error(client.post("/v1/check/batch", json={"items": []}), 422)


def test_rewrite_offline_and_rules(client: TestClient) -> None:
    response = client.post("/v1/rewrite", json=COURT)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "court-promo" and body["source"] == "offline" and body["model"] is None
    assert "SORRY100" not in body["text"] and "10 рабочих дней" in body["text"]
    rules = client.get("/v1/rules").json()["rules"]
    assert {"promo-in-legal-dispute", "template-phrase"} <= {r["id"] for r in rules}
    assert all(set(r) == {"id", "severity", "description"} and r["description"] for r in rules)


BAD_INPUTS = [
    ("/v1/check", b"{not json", 400, "invalid_json"),
    ("/v1/check", b'{"draft": "\xff"}', 400, "invalid_json"),
    ("/v1/check", b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json"),
    (
        "/v1/check/batch",
        b'{"cases": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        "invalid_json",
    ),
    ("/v1/check", b"", 422, "invalid_case"),
    ("/v1/check", b"[]", 422, "invalid_case"),
    ("/v1/check", b"null", 422, "invalid_case"),
    ("/v1/check", b'"text"', 422, "invalid_case"),
    ("/v1/check", b"{}", 422, "invalid_case"),
    ("/v1/check", '{"thread": [{"author": "customer", "text": "Привет"}]}', 422, "invalid_case"),
    ("/v1/check", b'{"thread": "no"}', 422, "invalid_case"),
    (
        "/v1/check",
        b'{"thread": [{"author": "bot", "text": "x"}], "draft": "y"}',
        422,
        "invalid_case",
    ),
    ("/v1/check", json.dumps({"draft": "я" * 20_001}).encode(), 422, "invalid_case"),
    (
        "/v1/check",
        json.dumps({"draft": "x", "thread": [{"author": "customer", "text": "a"}] * 201}).encode(),
        422,
        "invalid_case",
    ),
    ("/v1/check", b'{"draft": 5}', 422, "invalid_case"),
    ("/v1/check", b'{"draft": "x", "facts": "not a list"}', 422, "invalid_case"),
    ("/v1/rewrite", b'{"reply": "only a reply"}', 422, "invalid_case"),
    ("/v1/rewrite", b'{"draft": "   "}', 422, "invalid_case"),
    ("/v1/rewrite", b'{"draft": "x", "options": {"temperature": 1}}', 422, "invalid_options"),
    ("/v1/rewrite", b'{"draft": "x", "options": {"max_attempts": 0}}', 422, "invalid_options"),
    ("/v1/rewrite", b'{"draft": "x", "options": {"max_attempts": 6}}', 422, "invalid_options"),
    ("/v1/rewrite", b'{"draft": "x", "options": {"timeout": -1}}', 422, "invalid_options"),
    (
        "/v1/rewrite",
        b'{"draft": "x", "options": {"api_base": "http://evil"}}',
        422,
        "invalid_options",
    ),
    (
        "/v1/rewrite",
        b'{"draft": "x", "options": {"model": "openai/not-allowed"}}',
        422,
        "model_not_allowed",
    ),
    ("/v1/rewrite", b'{"draft": "x", "options": "fast"}', 422, "invalid_options"),
    ("/v1/check/batch", b'{"cases": "no"}', 422, "invalid_case"),
]


@pytest.mark.parametrize(("path", "body", "status", "kind"), BAD_INPUTS)
def test_every_bad_input_is_a_4xx_json_error(
    client: TestClient, path: str, body: bytes | str, status: int, kind: str | None
) -> None:
    raw = body.encode() if isinstance(body, str) else body
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    error = _is_error(response)
    assert 400 <= response.status_code < 500
    assert response.status_code == status, response.text
    if kind:
        assert error["type"] == kind


def test_wrong_method_route_and_media_type_are_json_errors(client: TestClient) -> None:
    assert _is_error(client.get("/v1/check"), 405)["type"] == "method_not_allowed"
    assert _is_error(client.get("/v2/nothing"), 404)["type"] == "not_found"
    form = client.post("/v1/check", content=b"draft=x", headers={"content-type": "text/plain"})
    assert _is_error(form, 415)["type"] == "unsupported_media_type"


def test_grounded_check_holds_the_draft_to_the_facts(client: TestClient) -> None:
    """`?grounded=true` is `h2h check --grounded`: the draft's own deadline, bonus and refund
    are invented when neither the facts nor the agent's messages state them."""
    case = json.loads((ROOT / "examples" / "grounded-draft.json").read_text(encoding="utf-8"))
    plain = client.post("/v1/check", json=case).json()
    grounded = client.post("/v1/check?grounded=true", json=case).json()
    assert plain["ok"] is True and grounded["ok"] is False
    fired = {v["rule"] for v in grounded["violations"]}
    assert {"invented-deadline", "invented-promise"} <= fired
    batch = client.post("/v1/check/batch?grounded=true", json={"cases": [case]}).json()
    assert batch["results"][0] == grounded
    _is_error(client.post("/v1/check?grounded=maybe", json=case), 422)


def test_openapi_schema_matches_the_committed_copy(client: TestClient) -> None:
    served = client.get("/openapi.json").json()
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served == committed, (
        "the API changed: if deliberate, regenerate docs/openapi.json with "
        "`python -m rewriter.serve.openapi > docs/openapi.json`"
    )
    paths = set(served["paths"])
    assert {"/v1/check", "/v1/check/batch", "/v1/rewrite", "/v1/rules"} <= paths
    assert {"/healthz", "/readyz", "/metrics", "/", "/chatwoot"} <= paths


def test_pages_load_nothing_from_the_network(client: TestClient) -> None:
    for page in ("/", "/chatwoot"):
        html = client.get(page).text
        assert "http://" not in html and "https://" not in html and "//cdn" not in html
    for asset in ("h2h.js", "h2h.css", "playground.js", "chatwoot.js"):
        text = client.get(f"/static/{asset}").text
        assert "http://" not in text and "https://" not in text, asset
    assert "tariff-99" in client.get("/").text  # the shipped examples travel in the page
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert "frame-ancestors *" in client.get("/chatwoot").headers["content-security-policy"]


def test_a_broken_rule_file_makes_the_server_not_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    import rewriter.serve.app as serve_app
    from rewriter.errors import RuleFileError

    def broken(model: str | None) -> None:
        raise RuleFileError("flat-refusal.yaml: severity: Input should be 'block' or 'warn'")

    monkeypatch.setattr(serve_app, "_warm_up", broken)
    with TestClient(create_app(Settings())) as c:
        assert c.get("/healthz").status_code == 200  # alive, so an orchestrator can tell why
        # The warm-up runs beside the server: until it has failed, /readyz says it is loading.
        deadline = time.monotonic() + 10
        error = _is_error(c.get("/readyz"), 503)
        while "flat-refusal.yaml" not in error["message"] and time.monotonic() < deadline:
            time.sleep(0.05)
            error = _is_error(c.get("/readyz"), 503)
        assert error["type"] == "not_ready" and "flat-refusal.yaml" in error["message"]
        assert _is_error(c.post("/v1/check", json=TARIFF), 503)["type"] == "not_ready"


def test_refuses_to_listen_off_loopback_without_a_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rewriter.cli import main

    monkeypatch.delenv("H2H_API_TOKEN", raising=False)
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "H2H_API_TOKEN" in err[0]


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from rewriter.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"cannot listen on 127.0.0.1:{port}" in err[0]


def test_without_the_extra_serve_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    from rewriter.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a)
    )
    assert main(["serve"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "h2h[serve]" in err[0]


# --- over real HTTP ----------------------------------------------------------------------------


def test_token_guards_v1_and_leaves_probes_and_pages_open(live: ServeProcess) -> None:
    assert _is_error(httpx.post(live.url + "/v1/check", json=TARIFF), 401)["type"] == "unauthorized"
    wrong = httpx.post(live.url + "/v1/check", json=TARIFF, headers={"authorization": "Bearer no"})
    _is_error(wrong, 401)
    basic = httpx.post(live.url + "/v1/check", json=TARIFF, headers={"authorization": TOKEN})
    _is_error(basic, 401)
    assert httpx.post(live.url + "/v1/check", json=TARIFF, headers=AUTH).status_code == 200
    assert httpx.get(live.url + "/v1/rules").status_code == 401
    for open_path in ("/healthz", "/readyz", "/metrics", "/openapi.json", "/", "/chatwoot"):
        assert httpx.get(live.url + open_path).status_code == 200, open_path
    # Refusals are logged and counted like every other answer.
    time.sleep(0.2)
    assert any(r.get("status") == 401 for r in live.log_records() if r.get("route") == "/v1/check")
    metrics_text = httpx.get(live.url + "/metrics").text
    assert 'h2h_requests_total{method="POST",route="/v1/check",status="401"}' in metrics_text
    assert 'h2h_rejected_total{reason="unauthorized"}' in metrics_text


def test_body_over_2mb_is_413(live: ServeProcess) -> None:
    big = json.dumps({"draft": "x", "facts": ["я" * 10_000] * 120}).encode()
    assert len(big) > 2 * 1024 * 1024
    declared = httpx.post(
        live.url + "/v1/check", content=big, headers={**AUTH, "content-type": "application/json"}
    )
    assert _is_error(declared, 413)["type"] == "payload_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    streamed = httpx.post(
        live.url + "/v1/check",
        content=chunks(),
        headers={**AUTH, "content-type": "application/json"},
    )
    _is_error(streamed, 413)


def test_rewrite_uses_the_model_and_allowed_models_only(
    live: ServeProcess, fake: FakeModel
) -> None:
    answer = httpx.post(live.url + "/v1/rewrite", json=TARIFF, headers=AUTH, timeout=30).json()
    assert answer["source"] == "llm" and answer["model"] == "openai/main-model"
    assert answer["text"] == GOOD_ANSWER and answer["id"] == "tariff-99"
    other = {**TARIFF, "options": {"model": "openai/other-model", "max_attempts": 1}}
    answer = httpx.post(live.url + "/v1/rewrite", json=other, headers=AUTH, timeout=30).json()
    assert answer["model"] == "openai/other-model"
    assert fake.models == ["main-model", "other-model"]
    bad = {**TARIFF, "options": {"model": "openai/expensive"}}
    refused = httpx.post(live.url + "/v1/rewrite", json=bad, headers=AUTH)
    assert _is_error(refused, 422)["type"] == "model_not_allowed"
    slow = {**TARIFF, "options": {"timeout": 11}}  # the server's H2H_TIMEOUT is 10
    assert _is_error(httpx.post(live.url + "/v1/rewrite", json=slow, headers=AUTH), 422)
    assert fake.calls == 2


def test_a_failing_model_falls_back_and_is_counted(live: ServeProcess, fake: FakeModel) -> None:
    def fallbacks() -> float:
        for line in httpx.get(live.url + "/metrics").text.splitlines():
            if line.startswith("h2h_fallbacks_total"):
                return float(line.split()[-1])
        return 0.0

    before = fallbacks()
    fake.reset(status=401)  # misconfigured: no retries, straight to the offline engine
    body = {**TARIFF, "options": {"max_attempts": 1}}
    answer = httpx.post(live.url + "/v1/rewrite", json=body, headers=AUTH, timeout=30).json()
    assert answer["source"] == "offline" and answer["errors"]
    assert fallbacks() == before + 1


def test_concurrent_rewrites_overlap_and_the_limit_answers_429(
    live: ServeProcess, fake: FakeModel
) -> None:
    async def storm(n: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(headers=AUTH, timeout=30) as c:
            rewrites = [
                c.post(live.url + "/v1/rewrite", json={**TARIFF, "id": f"r{i}"}) for i in range(n)
            ]
            checks = [
                c.post(live.url + "/v1/check", json={**COURT, "id": f"c{i}"}) for i in range(8)
            ]
            return await asyncio.gather(*rewrites, *checks)

    fake.reset(delay=0.5)
    started = time.monotonic()
    answers = asyncio.run(storm(8))  # the server allows 8 in flight
    elapsed = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 16
    assert [a.json()["id"] for a in answers] == [f"r{i}" for i in range(8)] + [
        f"c{i}" for i in range(8)
    ]
    assert all(a.json()["source"] == "llm" for a in answers[:8])
    assert elapsed < 8 * 0.5, elapsed  # the model calls overlapped

    fake.reset(delay=1.5)  # long enough that all 12 arrive while the first 8 still wait
    answers = asyncio.run(storm(12))[:12]
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * 8 + [429] * 4
    refused = [a for a in answers if a.status_code == 429]
    assert all(a.headers["retry-after"] == "1" for a in refused)
    assert _is_error(refused[0])["type"] == "too_many_rewrites"


def test_request_ids_logs_and_metrics(live: ServeProcess) -> None:
    secret_draft = {**TARIFF, "draft": TARIFF["draft"] + " Код клиента ZQX-4471."}
    given = httpx.post(
        live.url + "/v1/check", json=secret_draft, headers={**AUTH, "x-request-id": "ticket-42"}
    )
    assert given.headers["x-request-id"] == "ticket-42"
    made = httpx.post(live.url + "/v1/check", json=COURT, headers=AUTH).headers["x-request-id"]
    assert len(made) == 32
    time.sleep(0.2)
    log = live.log_text()
    assert "ZQX-4471" not in log and "Максим" not in log and "99 рублей" not in log
    records = {r.get("request_id"): r for r in live.log_records()}
    line = records["ticket-42"]
    assert line["route"] == "/v1/check" and line["status"] == 200 and line["duration_ms"] > 0
    assert "template-phrase" in line["rules"]
    assert "promo-in-legal-dispute" in records[made]["rules"]
    text = httpx.get(live.url + "/metrics").text
    assert 'h2h_requests_total{method="POST",route="/v1/check",status="200"}' in text
    assert 'h2h_request_duration_seconds_bucket{le="0.1",route="/v1/check"}' in text
    assert (
        'h2h_violations_total{route="/v1/check",rule="promo-in-legal-dispute",severity="block"}'
        in text
    )
    assert "ZQX" not in text


def _shutdown_with_requests_in_flight(tmp: Path, fake: FakeModel, workers: int) -> None:
    proc = ServeProcess(
        tmp,
        {"H2H_MODEL": "openai/m", "H2H_API_BASE": fake.url, "H2H_CACHE_DIR": str(tmp / "c")},
        workers=workers,
    )
    fake.reset(delay=1.5)

    async def scenario() -> tuple[list[httpx.Response], BaseException | httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as c:
            flying = [
                asyncio.create_task(
                    c.post(proc.url + "/v1/rewrite", json={**TARIFF, "id": f"f{i}"})
                )
                for i in range(4)
            ]
            while fake.calls < 4:  # every request has reached the model
                await asyncio.sleep(0.05)
            proc.proc.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.3)
            try:
                late: BaseException | httpx.Response = await c.post(
                    proc.url + "/v1/check", json=TARIFF, timeout=5
                )
            except httpx.HTTPError as exc:
                late = exc
            return list(await asyncio.gather(*flying)), late

    try:
        answers, late = asyncio.run(scenario())
        assert [a.status_code for a in answers] == [200] * 4
        assert all(a.json()["source"] == "llm" for a in answers)
        # A new request after SIGTERM is refused: connection refused, or 503 on a kept-alive one.
        assert isinstance(late, httpx.HTTPError) or late.status_code == 503
        assert proc.proc.wait(30) == 0, proc.log_text()
    finally:
        proc.stop()


def test_sigterm_finishes_requests_in_flight_and_exits_0(tmp_path: Path, fake: FakeModel) -> None:
    _shutdown_with_requests_in_flight(tmp_path, fake, workers=1)


@pytest.mark.slow
def test_two_workers_share_metrics_and_shut_down_cleanly(tmp_path: Path, fake: FakeModel) -> None:
    proc = ServeProcess(tmp_path, {"H2H_CACHE_DIR": str(tmp_path / "c")}, workers=2)
    try:
        with httpx.Client(timeout=30) as c:  # new connections: the kernel spreads them over workers
            for _ in range(12):
                assert (
                    c.post(
                        proc.url + "/v1/check", json=COURT, headers={"connection": "close"}
                    ).status_code
                    == 200
                )
            # A worker counts a request once its response is sent: read until both have counted.
            deadline = time.monotonic() + 10
            while True:
                text = c.get(proc.url + "/metrics").text
                line = next(
                    ln
                    for ln in text.splitlines()
                    if ln.startswith(
                        'h2h_requests_total{method="POST",route="/v1/check",status="200"}'
                    )
                )
                if float(line.split()[-1]) >= 12 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        assert float(line.split()[-1]) == 12  # summed over both workers, whichever answered
        pids = {r.get("pid") for r in proc.log_records() if r.get("route") == "/v1/check"}
        assert len(pids) >= 1
    finally:
        proc.proc.send_signal(signal.SIGTERM)
        assert proc.proc.wait(30) == 0, proc.log_text()
        proc.stop()
