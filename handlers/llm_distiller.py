# SPDX-License-Identifier: Apache-2.0
"""The optional LLM distiller: the same interface as the rule distiller, richer observations.

The rules run first and stay in charge of what is remembered at all (folded noise stays folded,
private turns stay private) and of the files (taken from the tool input, never from the model).
The model rewrites type, title, subtitle, narrative, facts and concepts from the (already
redacted) event. Transient failures (connection errors, timeouts, 429, 5xx) are retried with
backoff; anything else, or a reply that is not the JSON asked for, falls back to the rules' draft.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .distiller import MAX_FACT, MAX_NARRATIVE, Draft, Prior, _clip, distil
from .redaction import clean_text

log = logging.getLogger("claude_mem.llm")

TYPES = ("bugfix", "feature", "refactor", "change", "discovery", "decision", "security_alert", "security_note")
MAX_EVENT_CHARS = 12_000
TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})

SYSTEM = (
    "You turn one event from an AI coding agent's session into a memory for future sessions. "
    "Answer with one JSON object only, no prose, with these keys: "
    '"type" (one of ' + ", ".join(TYPES) + '), "title" (under 80 characters, says what happened), '
    '"subtitle" (one short line of context), "narrative" (2-5 sentences: what was done and why it matters), '
    '"facts" (a list of short, self-contained statements worth remembering, errors included), '
    '"concepts" (a list of 1-5 short tags). Never include secrets; keep file paths as given.')

SUMMARY_SYSTEM = (
    "You summarise an AI coding agent's session for the next session. Answer with one JSON object only, with "
    'keys "title" (under 80 characters), "request", "investigated", "learned", "completed", "next_steps" '
    "(each a short paragraph, empty string when unknown).")


class TransientError(Exception):
    """Worth trying again: the provider was down, slow or rate-limiting."""


class PermanentError(Exception):
    """Not worth trying again: a bad key, a bad model, a bad request, or a reply we cannot use."""


@dataclass
class LlmConfig:
    provider: str  # "openai" (any OpenAI-compatible endpoint) or "anthropic"
    base_url: str
    api_key: str | None
    model: str
    timeout_s: float = 30.0
    max_retries: int = 2


def _post_json(url: str, body: dict, headers: dict[str, str], timeout: float) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        err = TransientError if exc.code in TRANSIENT_STATUS else PermanentError
        raise err(f"HTTP {exc.code}: {detail}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TransientError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
    except ValueError as exc:
        raise PermanentError(f"the provider's answer is not JSON: {exc}") from None


def complete(cfg: LlmConfig, system: str, user: str) -> str:
    """One completion's text, in the provider's own wire format."""
    if cfg.provider == "anthropic":
        base = (cfg.base_url or "https://api.anthropic.com").rstrip("/")
        headers = {"anthropic-version": "2023-06-01"} | ({"x-api-key": cfg.api_key} if cfg.api_key else {})
        body = {"model": cfg.model, "max_tokens": 1024, "temperature": 0, "system": system,
                "messages": [{"role": "user", "content": user}]}
        out = _post_json(base + "/v1/messages", body, headers, cfg.timeout_s)
        try:
            return "".join(part["text"] for part in out["content"] if part.get("type") == "text")
        except (KeyError, TypeError) as exc:
            raise PermanentError(f"unexpected Anthropic answer shape: {exc}") from None
    headers = {"Authorization": f"Bearer {cfg.api_key}"} if cfg.api_key else {}
    body = {"model": cfg.model, "temperature": 0, "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
    out = _post_json(cfg.base_url.rstrip("/") + "/chat/completions", body, headers, cfg.timeout_s)
    try:
        return out["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise PermanentError(f"unexpected chat-completions answer shape: {exc}") from None


def _json_object(text: str) -> dict:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise PermanentError("the model did not answer with a JSON object")
    try:
        value = json.loads(text[start:end + 1])
    except ValueError as exc:
        raise PermanentError(f"the model's JSON does not parse: {exc}") from None
    if not isinstance(value, dict):
        raise PermanentError("the model's JSON is not an object")
    return value


def _text(value: Any, limit: int) -> str:
    """Model output as stored text: private tags stripped, secrets redacted, then capped."""
    text = " ".join(value.split()) if isinstance(value, str) else ""
    return _clip(clean_text(text, 4 * limit), limit)


def _items(value: Any, count: int, limit: int) -> list[str]:
    if not isinstance(value, list):
        return []
    return [t for t in (_text(v, limit) for v in value[:count]) if t]


def _event_text(kind: str, payload: dict) -> str:
    text = json.dumps({"event": kind, **payload}, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_EVENT_CHARS else text[:MAX_EVENT_CHARS] + " …[truncated]"


class LlmDistiller:
    """Callable like `distil`: (event kind, payload, prior) -> drafts."""

    def __init__(self, cfg: LlmConfig, sleep: Callable[[float], None] = time.sleep):
        self.cfg = cfg
        self.sleep = sleep
        self.calls = 0  # provider requests made, retries included (for tests and logs)

    def _ask(self, system: str, user: str) -> dict:
        for attempt in range(self.cfg.max_retries + 1):
            self.calls += 1
            try:
                return _json_object(complete(self.cfg, system, user))
            except TransientError:
                if attempt == self.cfg.max_retries:
                    raise
                self.sleep(min(8.0, 0.5 * 2 ** attempt))
        raise AssertionError("unreachable")

    def __call__(self, kind: str, payload: dict, prior: list[Prior]) -> list[Draft]:
        drafts = distil(kind, payload, prior)
        if len(drafts) != 1 or not (kind == "tool_use" or drafts[0].kind == "summary"):
            return drafts  # nothing to say, a prompt or a note: the rules' verbatim record is right
        rule = drafts[0]
        try:
            if rule.kind == "summary":
                return [self._summary(rule, prior)]
            return [self._observation(rule, kind, payload)]
        except (TransientError, PermanentError) as exc:
            log.warning("LLM distiller fell back to the rules: %s", exc)
            return drafts

    def _observation(self, rule: Draft, kind: str, payload: dict) -> Draft:
        out = self._ask(SYSTEM, "Event:\n" + _event_text(kind, payload) +
                        f"\n\nA rule-based reading, for reference: {rule.title} ({rule.type})")
        mtype = out.get("type") if out.get("type") in TYPES else rule.type
        title = _text(out.get("title"), 160) or rule.title
        facts = _items(out.get("facts"), 12, MAX_FACT)
        # Failures the rules saw are facts the model must not lose.
        facts = [f for f in rule.facts if f.startswith("failed:") and f not in facts] + facts
        return Draft(kind=rule.kind, type=mtype, title=title,
                     subtitle=_text(out.get("subtitle"), 300) or rule.subtitle,
                     narrative=_text(out.get("narrative"), MAX_NARRATIVE) or rule.narrative,
                     facts=facts, concepts=_items(out.get("concepts"), 8, 60) or rule.concepts,
                     files_read=rule.files_read, files_modified=rule.files_modified)

    def _summary(self, rule: Draft, prior: list[Prior]) -> Draft:
        lines = [f"- [{p.type or p.kind}] {p.title}" + (f" ({'; '.join(p.facts[:3])})" if p.facts else "")
                 for p in prior if p.kind != "summary"][-80:]
        out = self._ask(SUMMARY_SYSTEM, "The session's memories, oldest first:\n" + "\n".join(lines))
        sections = [(label, _text(out.get(key), 1500)) for label, key in (
            ("Request", "request"), ("Investigated", "investigated"), ("Learned", "learned"),
            ("Completed", "completed"), ("Next steps", "next_steps"))]
        body = "\n\n".join(f"{label}:\n{text}" for label, text in sections if text)
        files = ["Files modified:\n" + "\n".join(f"- {f}" for f in rule.files_modified[:20])] \
            if rule.files_modified else []
        title = _text(out.get("title"), 140)
        return Draft(kind="summary", type=None, title=("Session: " + title) if title else rule.title,
                     subtitle=rule.subtitle, narrative="\n\n".join([body, *files]) if body else rule.narrative,
                     facts=rule.facts, concepts=rule.concepts, files_read=rule.files_read,
                     files_modified=rule.files_modified)


def from_settings(settings: Any) -> LlmDistiller:
    return LlmDistiller(LlmConfig(provider=settings.llm_provider, base_url=settings.llm_base_url,
                                  api_key=settings.llm_api_key, model=settings.llm_model,
                                  timeout_s=settings.llm_timeout_s, max_retries=settings.llm_max_retries))
