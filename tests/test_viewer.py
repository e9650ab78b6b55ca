# SPDX-License-Identifier: Apache-2.0
"""The viewer against a live server: over HTTP (sign-in cookie, CSRF, CSP, escaping, scopes) and
end to end in headless Chromium (Debian's package, driven by Playwright for Python), with a
screenshot of each page saved under test-artifacts/viewer/."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import teams
from claude_mem.storage.connection import connect
from support import api_key_server, wait_for

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(os.environ.get("CLAUDE_MEM_TEST_ARTIFACTS",
                                Path(__file__).parent.parent / "test-artifacts")) / "viewer"
FULL = ["memories:read", "memories:write", "memories:forget"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with api_key_server(tmp_path_factory.mktemp("viewer") / "data", "viewers") as (live, operator):
        live.full = teams.create_key(c.KeyCreate(team="viewers", scopes=FULL), operator).token
        live.reader = teams.create_key(c.KeyCreate(team="viewers", scopes=["memories:read"]), operator).token
        live.db_path = operator.store.path
        live.operator = operator
        yield live


def _post_event(server, text: str, *, session: str = "viewer-session", tool_use_id: str | None = None) -> dict:
    status, body = server.call("POST", "/v1/events", {
        "project": "webapp", "contentSessionId": session, "eventType": "tool_use",
        "sourceEventId": tool_use_id or f"toolu_{time.time_ns()}",
        "payload": {"tool_name": "Bash", "tool_input": {"command": text, "description": text},
                    "tool_response": {"stdout": "ok", "stderr": "", "interrupted": False}}}, token=server.full)
    assert status == 202, body
    return body["event"]


def _signed_in(server, token: str) -> httpx.Client:
    client = httpx.Client(base_url=server.base, follow_redirects=False, timeout=10)
    r = client.post("/ui/login", data={"key": token, "next": "/"})
    assert r.status_code == 303 and r.headers["location"] == "/"
    return client


# -- over HTTP: what every browser relies on -----------------------------------------------------------

def test_sign_in_sets_a_strict_httponly_cookie_and_pages_carry_a_strict_csp(server):
    anonymous = httpx.get(server.base + "/", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 307) and anonymous.headers["location"].startswith("/ui/login")
    bad = httpx.post(server.base + "/ui/login", data={"key": "v4.public.nonsense"})
    assert bad.status_code == 401 and "Sign in" in bad.text
    client = httpx.Client(base_url=server.base, follow_redirects=False, timeout=10)
    r = client.post("/ui/login", data={"key": server.full, "next": "https://evil.example/"})
    assert r.headers["location"] == "/"  # never an open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    page = client.get("/")
    csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and page.headers["x-content-type-options"] == "nosniff"


def test_state_changes_need_the_csrf_token_and_the_scope(server):
    mid = server.call("POST", "/v1/memories", {"project": "webapp", "title": "csrf target",
                                                "narrative": "kept unless the form is genuine"},
                      token=server.full)[1]["memory"]["id"]
    full = _signed_in(server, server.full)
    assert full.post(f"/ui/memories/{mid}/forget", data={}).status_code == 403
    assert full.post(f"/ui/memories/{mid}/forget", data={"csrf": "0" * 64}).status_code == 403
    reader = _signed_in(server, server.reader)
    page = reader.get(f"/ui/memories/{mid}")
    assert page.status_code == 200 and 'id="forget"' not in page.text and 'id="supersede-form"' not in page.text
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert reader.post(f"/ui/memories/{mid}/forget", data={"csrf": token}).status_code == 403
    # A genuine token from another site's page is still refused (its Origin is not ours).
    token = full.get(f"/ui/memories/{mid}").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    assert full.post(f"/ui/memories/{mid}/forget", data={"csrf": token},
                     headers={"Origin": "https://evil.example"}).status_code == 403
    assert server.call("GET", f"/v1/memories/{mid}", token=server.full)[0] == 200


def test_the_stream_sends_new_memories_and_ends_when_the_key_is_revoked(server):
    created = teams.create_key(c.KeyCreate(team="viewers", scopes=["memories:read"]), server.operator)
    client = _signed_in(server, created.token)
    with client.stream("GET", "/ui/stream", timeout=30) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        server.call("POST", "/v1/memories", {"project": "webapp", "title": "streamed over SSE",
                                             "narrative": "seen by the open stream"}, token=server.full)
        seen = []
        for line in lines:
            seen.append(line)
            if "streamed over SSE" in line:
                break
        assert any(line == "event: memory" for line in seen)
        teams.revoke_key(c.ById(id=created.key.id), server.operator)
        rest = []
        for line in lines:  # the server ends the stream itself; the loop stops with it
            rest.append(line)
        assert "event: signed-out" in rest


def test_memory_text_is_escaped_and_bad_input_is_a_4xx_page(server):
    server.call("POST", "/v1/memories", {"project": "webapp", "title": "<img src=x onerror=alert(1)>",
                                         "narrative": "<script>alert('xss')</script> escaped"}, token=server.full)
    client = _signed_in(server, server.full)
    page = client.get("/ui/search", params={"q": "escaped"})
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert client.get("/ui/search", params={"q": "x", "mode": "sideways"}).status_code == 400
    assert client.get("/", params={"kind": "gossip"}).status_code == 400
    assert client.get("/ui/memories/mem_nope").status_code == 404
    assert client.get("/ui/sessions/ses_nope").status_code == 404


# -- in a real browser ---------------------------------------------------------------------------------

def _chromium() -> str:
    path = os.environ.get("CLAUDE_MEM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no Chromium here (Debian: apt-get install chromium): the browser tests need it")
    return path


@pytest.fixture(scope="module")
def browser():
    path = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()


def _page(browser, server, token: str, width: int = 1100):
    context = browser.new_context(viewport={"width": width, "height": 800}, base_url=server.base)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    assert "/ui/login" in page.url
    page.fill("input[name=key]", token)
    page.click("button[type=submit]")
    page.wait_for_url(server.base + "/")
    return page


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_stream_search_forget_queue_and_context_in_chromium(server, browser):
    page = _page(browser, server, server.full)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.wait_for_selector("#live-state:has-text('Live')")
    # The stream shows a memory posted through /v1/events while the page is open.
    _post_event(server, "pytest tests/test_billing.py -k invoice_rounding")
    item = page.wait_for_selector("#items .item:has-text('invoice_rounding')")
    _shot(page, "stream")
    # Search finds it, with the matched words marked.
    page.click("nav >> text=Search")
    page.fill("input[name=q]", "invoice rounding")
    page.keyboard.press("Enter")
    page.wait_for_selector(".results .item")
    assert page.locator(".results mark").count() > 0
    _shot(page, "search")
    page.click(".results .item a.title >> nth=0")
    page.wait_for_selector("h2:has-text('Narrative')")
    mid = page.url.rsplit("/", 1)[-1]
    assert page.locator("text=Source events").count() == 1 and page.locator(".events li").count() >= 1
    _shot(page, "memory")
    # Its session page shows the timeline.
    page.click("dd a[href^='/ui/sessions/']")
    page.wait_for_selector("h2:has-text('Timeline')")
    assert page.locator(".timeline .item").count() >= 1
    _shot(page, "session")
    # Forget removes it from search.
    page.goto(f"/ui/memories/{mid}")
    page.once("dialog", lambda d: d.accept())
    page.click("#forget")
    page.wait_for_selector(".flash:has-text('forgotten')")
    page.goto("/ui/search?q=invoice+rounding")
    assert page.locator(f".results a[href='/ui/memories/{mid}']").count() == 0
    assert item is not None
    # A failed event shows in the queue with its error, and its retry works.
    event = _post_event(server, "make deploy-preview")
    wait_for(lambda: server.call("GET", f"/v1/events/{event['id']}", token=server.full)[1]["event"]["status"]
             == "done", timeout=20)
    db = connect(server.db_path)
    db.execute("update events set status = 'failed', attempts = 5, last_error = 'RuntimeError: distiller broke'"
               " where id = ?", (event["id"],))
    db.close()
    page.goto("/ui/queue")
    row = page.locator(f"tr[data-id='{event['id']}']")
    assert "distiller broke" in row.inner_text()
    _shot(page, "queue")
    row.locator("button:has-text('Retry')").click()
    page.wait_for_selector(".flash")
    wait_for(lambda: server.call("GET", f"/v1/events/{event['id']}", token=server.full)[1]["event"]["status"]
             == "done", timeout=20)
    page.goto("/ui/queue")
    assert page.locator(f"tr[data-id='{event['id']}']").count() == 0
    # The context pack preview shows what the next session would get, with its token count.
    page.goto("/ui/context")
    page.wait_for_selector("#tokens")
    assert "tokens of a 2000-token budget" in page.inner_text("#tokens")
    assert page.locator("pre.pack").inner_text().strip()
    _shot(page, "context")
    assert not [e for e in errors if "Content Security Policy" in e], errors
    page.context.close()


def test_a_read_only_key_sees_no_write_actions(server, browser):
    status, body = server.call("POST", "/v1/memories", {"project": "webapp", "title": "read-only view",
                                                         "narrative": "nothing to click here"}, token=server.full)
    mid = body["memory"]["id"]
    page = _page(browser, server, server.reader)
    page.goto(f"/ui/memories/{mid}")
    page.wait_for_selector("h1:has-text('read-only view')")
    assert page.locator("#forget").count() == 0 and page.locator("#supersede-form").count() == 0
    _shot(page, "memory-read-only")
    page.goto("/ui/queue")
    assert page.locator("button:has-text('Retry')").count() == 0
    page.context.close()


def test_keyboard_and_a_narrow_window(server, browser):
    page = _page(browser, server, server.full, width=360)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for path in ("/", "/ui/search?q=deploy", "/ui/queue", "/ui/context"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 360px"
    _shot(page, "narrow-stream")
    # New items wait behind a button while the reader is scrolled down: no jump under them.
    page.goto("/")
    page.wait_for_selector("#live-state:has-text('Live')")
    for i in range(30):
        server.call("POST", "/v1/memories", {"project": "webapp", "title": f"filler {i}",
                                             "narrative": "scroll padding"}, token=server.full)
    page.reload()
    page.wait_for_selector("#live-state:has-text('Live')")
    page.evaluate("window.scrollTo(0, 400)")
    first = page.evaluate("document.querySelector('#items .item').dataset.id")
    _post_event(server, "cargo build --release", session="viewer-scroll")
    page.wait_for_selector("#show-new:not([hidden])")
    assert page.evaluate("document.querySelector('#items .item').dataset.id") == first
    assert page.evaluate("window.scrollY") == 400
    page.click("#show-new")
    page.wait_for_selector("#items .item:has-text('cargo build')")
    page.context.close()
