"""The playground and the Chatwoot dashboard app in a real headless browser (Debian's chromium,
driven by Playwright): type, click, and assert what a person sees. Skipped when chromium or
Playwright is absent (.ci/run installs chromium).

Screenshots at laptop and phone widths go to /tmp/h2h-shots/.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from .servekit import ServeProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is installed by .ci/run"
)
sync_api = pytest.importorskip("playwright.sync_api")

TOKEN = "browser-token-7"
SHOTS = Path("/tmp/h2h-shots")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("browser")
    proc = ServeProcess(tmp, {"H2H_API_TOKEN": TOKEN, "H2H_CACHE_DIR": str(tmp / "cache")})
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        b.close()


def _watch(page: Any, live: ServeProcess) -> list[Any]:
    """Every request the page makes; none may leave the server or carry the token in a URL."""
    seen: list[Any] = []
    page.on("request", lambda request: seen.append(request))
    return seen


def _no_leaks(seen: list[Any], live: ServeProcess, allowed_origins: tuple[str, ...] = ()) -> None:
    for request in seen:
        assert request.url.startswith((live.url, "data:", *allowed_origins)), request.url
        assert TOKEN not in request.url


def test_playground_rewrites_an_example_and_checks_an_own_reply(
    live: ServeProcess, browser: Any
) -> None:
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = _watch(page, live)
    page.goto(live.url + "/")
    expect = sync_api.expect
    expect(page.get_by_role("heading", name="Ситуация")).to_be_visible()

    page.get_by_label("Пример").select_option(label="court-promo")
    assert "SORRY100" in page.locator("#draft").input_value()
    page.get_by_role("button", name="Переписать").click()

    # The server wants a token: asked once, in a dialog, then the request goes through.
    dialog = page.locator("#token-dialog")
    expect(dialog).to_be_visible()
    page.get_by_label("Токен").fill(TOKEN)
    page.get_by_role("button", name="Сохранить").click()

    result = page.locator("#result-text")
    expect(result).to_be_visible()
    expect(result).to_contain_text("10 рабочих дней")
    expect(result).not_to_contain_text("SORRY100")
    expect(page.locator("#diff del").first).to_be_visible()
    assert "SORRY100" in page.locator("#diff").inner_text()
    draft_rules = page.locator("#draft-violations li")
    assert any("promo-in-legal-dispute" in t for t in draft_rules.all_inner_texts())
    expect(page.locator("#draft-violations")).to_contain_text("промокод")  # the Russian message
    marks = page.locator("#draft-marked mark.block")
    expect(marks.first).to_be_visible()
    assert any("SORRY100" in t or "промокод" in t.lower() for t in marks.all_inner_texts())
    page.screenshot(path=str(SHOTS / "playground-1280.png"), full_page=True)

    # The token is kept in the browser, sent as a header, never in a URL.
    assert page.evaluate("localStorage.getItem('h2h-token')") == TOKEN
    posts = [r for r in seen if r.method == "POST"]
    refused = [r for r in posts if r.response() and r.response().status == 401]
    assert len(refused) == 2  # rewrite and check went out together before the token was known
    sent = [r for r in posts if r not in refused]
    assert sent and all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in sent)

    # Check a reply of one's own, with the keyboard only: no second token prompt.
    page.reload()
    page.get_by_label("Пример").select_option(label="court-promo")
    own = page.get_by_label("Проверить свой ответ")
    own.fill("Дарим вам промокод на 500 рублей, ответ придёт завтра!")
    own.press("Tab")
    expect(page.get_by_role("button", name="Проверить")).to_be_focused()
    page.keyboard.press("Enter")
    verdict = page.locator("#own-verdict")
    expect(verdict).to_have_text("Отправлять нельзя: есть блокирующие нарушения.")
    expect(dialog).to_be_hidden()
    expect(page.locator("#own-violations")).to_contain_text("invented-deadline")
    expect(page.locator("#own-marked mark.block").first).to_be_visible()

    # Ctrl+Enter in the draft rewrites.
    page.locator("#draft").press("Control+Enter")
    expect(page.locator("#status")).to_have_text("Готово.")
    _no_leaks(seen, live)

    # A phone: one column, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "playground-390.png"))
    page.locator("#result-text").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "playground-390-result.png"))
    context.close()


_HOSTS: list[ThreadingHTTPServer] = []


def _serve_html(html: str) -> str:
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _HOSTS.append(server)
    return f"http://127.0.0.1:{server.server_address[1]}"


HOST = """<!doctype html><html><head><meta charset="utf-8"><title>Chatwoot (test host)</title>
<style>body{margin:0;font-family:sans-serif} iframe{border:0;width:100%;height:860px}</style>
</head><body><iframe id="app" src="APP_URL" title="h2h"></iframe><script>
const payload = JSON.stringify(PAYLOAD);
window.fetchInfo = 0;
const frame = document.getElementById("app");
frame.addEventListener("load", () => frame.contentWindow.postMessage(payload, "*"));
window.addEventListener("message", (event) => {
  if (event.data === "chatwoot-dashboard-app:fetch-info") {
    window.fetchInfo += 1;
    frame.contentWindow.postMessage(payload, "*");
  }
});
</script></body></html>"""

# The shape Chatwoot's DashboardApp/Frame.vue posts (as a JSON string): conversation, contact,
# currentAgent; message_type 0 incoming, 1 outgoing, 2 activity, 3 template; `private` notes.
PAYLOAD = {
    "event": "appContext",
    "data": {
        "conversation": {
            "id": 4242,
            "inbox_id": 1,
            "status": "open",
            "meta": {"sender": {"id": 7, "name": "Максим"}, "assignee": {"id": 3, "name": "Анна"}},
            "messages": [
                {
                    "id": 1,
                    "content": "Здравствуйте! Списали 99 рублей за интернет, хотя у меня "
                    "безлимитный тариф. Почему?",
                    "message_type": 0,
                    "private": False,
                    "created_at": 1_700_000_000,
                    "sender": {"type": "contact", "name": "Максим"},
                },
                {
                    "id": 2,
                    "content": "Conversation was assigned to Анна",
                    "message_type": 2,
                    "private": False,
                    "created_at": 1_700_000_010,
                },
                {
                    "id": 3,
                    "content": "Внутренняя заметка: клиент VIP, номер договора 5550001",
                    "message_type": 1,
                    "private": True,
                    "created_at": 1_700_000_020,
                },
                {
                    "id": 4,
                    "content": "Проверяю, минуту.",
                    "message_type": 1,
                    "private": False,
                    "created_at": 1_700_000_030,
                    "sender": {"type": "user", "name": "Анна"},
                },
                {
                    "id": 5,
                    "content": "Оцените, пожалуйста, наш сервис",
                    "message_type": 3,
                    "private": False,
                    "created_at": 1_700_000_040,
                },
            ],
        },
        "contact": {"id": 7, "name": "Максим", "email": "maxim@example.ru"},
        "currentAgent": {"id": 3, "name": "Анна", "email": "anna@example.ru"},
    },
}


def test_chatwoot_app_reads_the_conversation_and_rewrites_the_draft(
    live: ServeProcess, browser: Any
) -> None:
    # The host is another origin, as Chatwoot is: a second local server (Chromium refuses to let
    # a page it does not see on a local address frame a loopback one).
    context = browser.new_context(viewport={"width": 800, "height": 900})
    page = context.new_page()
    html = HOST.replace("APP_URL", live.url + "/chatwoot").replace(
        "PAYLOAD", json.dumps(PAYLOAD, ensure_ascii=False)
    )
    host = _serve_html(html)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=host)
    bodies: list[dict[str, Any]] = []
    page.on(
        "request",
        lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/v1/rewrite") else None,
    )
    page.goto(host + "/host")
    app = page.frame_locator("#app")
    expect = sync_api.expect
    expect(app.locator("#context")).to_have_text("Переписка с Максим: 2 сообщ. (от клиента: 1).")
    assert page.evaluate("window.fetchInfo") >= 1  # the app asked for the context itself

    draft = (
        "Добрый день, уважаемый клиент! Спасибо за обращение. Списание 99 рублей ошибочное, "
        "деньги вернутся в течение 3 рабочих дней."
    )
    app.get_by_label("Черновик ответа").fill(draft)
    app.get_by_role("button", name="Переписать").click()
    app.get_by_label("Токен").fill(TOKEN)
    app.get_by_role("button", name="Сохранить").click()
    result = app.locator("#result-text")
    expect(result).to_contain_text("3 рабочих дней")
    expect(result).not_to_contain_text("Спасибо за обращение")
    expect(app.locator("#result-meta")).to_contain_text("Можно отправлять")

    sent = bodies[-1]
    assert sent["id"] == "chatwoot-4242"
    assert [m["author"] for m in sent["thread"]] == ["customer", "agent"]
    assert sent["thread"][0]["name"] == "Максим"
    assert "5550001" not in json.dumps(sent, ensure_ascii=False)  # the private note stays out
    assert "assigned" not in json.dumps(sent) and "Оцените" not in json.dumps(
        sent, ensure_ascii=False
    )

    app.get_by_role("button", name="Копировать ответ").click()
    expect(app.get_by_role("button", name="Скопировано")).to_be_visible()
    # Chatwoot's frame grants no clipboard permission: the app falls back to a selection copy.
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == result.inner_text()

    # «Обновить переписку» asks Chatwoot again.
    before = page.evaluate("window.fetchInfo")
    app.get_by_role("button", name="Обновить переписку").click()
    page.wait_for_function(f"window.fetchInfo > {before}")
    page.screenshot(path=str(SHOTS / "chatwoot-800.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(100)
    page.screenshot(path=str(SHOTS / "chatwoot-390.png"))
    context.close()
    _HOSTS.pop().shutdown()
