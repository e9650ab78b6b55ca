# SPDX-License-Identifier: Apache-2.0
"""The optional LLM distiller against a local HTTP server speaking the providers' wire formats
(OpenAI chat completions, Anthropic messages): richer observations, retries only on transient
errors, caps and redaction on what the model says, and the rules as the fallback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from claude_mem.handlers import contracts as c
from claude_mem.handlers import events
from claude_mem.handlers.context import Principal
from claude_mem.handlers.distiller import Prior
from claude_mem.handlers.llm_distiller import LlmConfig, LlmDistiller
from claude_mem.runtime.services import Services
from claude_mem.runtime.settings import SettingsError, load

EDIT = {"tool_name": "Edit", "tool_input": {"file_path": "src/auth/refresh.py", "old_string": "ttl = 60",
                                            "new_string": "ttl = settings.refresh_ttl"},
        "tool_response": {"filePath": "src/auth/refresh.py", "success": True}}
GOOD = {"type": "refactor", "title": "Refresh-token TTL now comes from settings",
        "subtitle": "src/auth/refresh.py", "narrative": "The hard-coded 60 s TTL was replaced by a setting.",
        "facts": ["refresh TTL is configurable"], "concepts": ["configuration"],
        "files_modified": ["/etc/passwd"]}


class FakeProvider:
    """Answers each request with the next scripted (status, body, delay) and records the request."""

    def __init__(self) -> None:
        self.script: list[tuple[int, Any, float]] = []
        self.requests: list[dict[str, Any]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.requests.append({"path": self.path, "body": body,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}})
                status, answer, delay = provider.script.pop(0) if provider.script else (500, {"error": "empty"}, 0)
                time.sleep(delay)
                raw = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def openai(self, content: Any, status: int = 200, delay: float = 0) -> None:
        text = content if isinstance(content, str) else json.dumps(content)
        self.script.append((status, {"choices": [{"message": {"role": "assistant", "content": text}}]}, delay))

    def anthropic(self, content: Any) -> None:
        self.script.append((200, {"type": "message", "role": "assistant",
                                  "content": [{"type": "text", "text": json.dumps(content)}]}, 0))

    def fail(self, status: int, times: int = 1) -> None:
        self.script += [(status, {"error": {"message": f"status {status}"}}, 0)] * times


@pytest.fixture
def provider():
    p = FakeProvider()
    yield p
    p.server.shutdown()


def distiller(provider: FakeProvider, kind: str = "openai", **kw: Any) -> LlmDistiller:
    cfg = LlmConfig(provider=kind, base_url=provider.url + ("/v1" if kind == "openai" else ""),
                    api_key="sk-test", model="small-model", **kw)
    return LlmDistiller(cfg, sleep=lambda s: None)


def test_openai_compatible_observation(provider):
    provider.openai(GOOD)
    d = distiller(provider)
    [draft] = d("tool_use", EDIT, [])
    assert draft.type == "refactor" and draft.title == GOOD["title"] and draft.facts == GOOD["facts"]
    assert draft.files_modified == ["src/auth/refresh.py"]  # files come from the tool input, never the model
    req = provider.requests[0]
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["authorization"] == "Bearer sk-test"
    assert req["body"]["model"] == "small-model" and req["body"]["response_format"] == {"type": "json_object"}
    assert "src/auth/refresh.py" in req["body"]["messages"][1]["content"]


def test_anthropic_messages_summary(provider):
    provider.anthropic({"title": "Made the refresh TTL configurable", "request": "Make the TTL configurable",
                        "completed": "Moved the TTL to settings; tests pass.", "next_steps": "Document it."})
    d = distiller(provider, "anthropic")
    prior = [Prior(kind="observation", type="change", title="Edited src/auth/refresh.py", narrative="",
                   files_read=[], files_modified=["src/auth/refresh.py"], facts=[])]
    [draft] = d("session_end", {}, prior)
    assert draft.kind == "summary" and draft.title == "Session: Made the refresh TTL configurable"
    assert "Completed:\nMoved the TTL to settings" in draft.narrative and "src/auth/refresh.py" in draft.narrative
    req = provider.requests[0]
    assert req["path"] == "/v1/messages"
    assert req["headers"]["x-api-key"] == "sk-test" and req["headers"]["anthropic-version"] == "2023-06-01"
    assert req["body"]["system"] and req["body"]["messages"][0]["role"] == "user"


def test_transient_errors_are_retried_then_fall_back(provider):
    provider.fail(503)
    provider.openai(GOOD)
    d = distiller(provider)
    assert d("tool_use", EDIT, [])[0].title == GOOD["title"] and d.calls == 2
    provider.fail(429, times=3)
    d = distiller(provider, max_retries=2)
    [draft] = d("tool_use", EDIT, [])
    assert d.calls == 3 and draft.title.startswith("Edited") and draft.type == "change"  # the rules' draft


def test_permanent_errors_and_bad_replies_fall_back_at_once(provider):
    provider.fail(401)
    d = distiller(provider)
    assert d("tool_use", EDIT, [])[0].type == "change" and d.calls == 1
    provider.openai("Sorry, I can't help with that.")
    d = distiller(provider)
    assert d("tool_use", EDIT, [])[0].type == "change" and d.calls == 1


def test_a_slow_provider_times_out_and_falls_back(provider):
    provider.openai(GOOD, delay=2)
    provider.openai(GOOD, delay=2)
    d = distiller(provider, timeout_s=0.2, max_retries=1)
    assert d("tool_use", EDIT, [])[0].type == "change" and d.calls == 2


def test_what_the_model_says_is_capped_and_redacted(provider):
    provider.openai({"type": "made-up", "title": "T" * 1000, "narrative": "n " * 5000,
                     "facts": [f"fact {i}" for i in range(50)] + ["key AKIAIOSFODNN7EXAMPLE leaked"],
                     "concepts": "not a list"})
    [draft] = distiller(provider)("tool_use", EDIT, [])
    assert draft.type == "change"  # an unknown type keeps the rules' type
    assert len(draft.title) <= 160 and len(draft.narrative) <= 4_000 and len(draft.facts) == 12
    provider.openai({**GOOD, "facts": ["aws key AKIAIOSFODNN7EXAMPLE in config"]})
    [draft] = distiller(provider)("tool_use", EDIT, [])
    assert "AKIAIOSFODNN7EXAMPLE" not in draft.facts[0] and "[REDACTED" in draft.facts[0]


def test_noise_prompts_and_private_turns_never_reach_the_model(provider):
    d = distiller(provider)
    assert d("tool_use", {"tool_name": "TodoWrite", "tool_input": {"todos": []}}, []) == []
    assert d("prompt", {"prompt": "Make the TTL configurable"}, [])[0].title.startswith("Request:")
    assert d("session_start", {}, []) == []
    assert d.calls == 0 and provider.requests == []


def test_configured_by_settings_and_used_by_the_drain(provider, tmp_path):
    with pytest.raises(SettingsError, match="CLAUDE_MEM_LLM_MODEL"):
        load({"CLAUDE_MEM_DATA_DIR": str(tmp_path), "CLAUDE_MEM_DISTILLER": "llm",
              "CLAUDE_MEM_LLM_BASE_URL": provider.url})
    settings = load({"CLAUDE_MEM_DATA_DIR": str(tmp_path), "CLAUDE_MEM_DISTILLER": "llm",
                     "CLAUDE_MEM_LLM_BASE_URL": provider.url + "/v1", "CLAUDE_MEM_LLM_MODEL": "m",
                     "CLAUDE_MEM_LLM_API_KEY": "sk-x"})
    services = Services(settings, queue=None)
    try:
        ctx = services.context(Principal.local())
        ev = events.ingest_event(c.EventIn(project="web", content_session_id="s1", event_type="tool_use",
                                           payload=EDIT), ctx).event
        provider.openai(GOOD)
        assert services.drain_session(ev.session_id).processed == 1
        memory_ids = events.get_event(c.ById(id=ev.id), ctx).event.memory_ids
        with services.store.read() as db:
            title = db.execute("select title from memories where id = ?", (memory_ids[0],)).fetchone()[0]
        assert title == GOOD["title"]
    finally:
        services.close()
