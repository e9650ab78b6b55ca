# SPDX-License-Identifier: Apache-2.0
"""Privacy before anything is stored: private tags stripped, credentials replaced by
`[REDACTED:<kind>]`, oversized strings cut with a marker. Applied to every string of a payload."""

from __future__ import annotations

import re
from typing import Any

PRIVATE_TAGS = ("private", "claude-mem-context", "system_instruction", "system-instruction",
                "persisted-output", "system-reminder")
_TAGS = re.compile(
    r"<(" + "|".join(re.escape(t) for t in PRIVATE_TAGS) + r")(?:\s[^>]*)?>.*?</\1\s*>",
    re.DOTALL | re.IGNORECASE,
)

# (kind, pattern); the first group, when present, is what gets replaced, else the whole match.
SECRET_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("private_key", re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----",
        re.DOTALL)),
    ("aws_access_key", re.compile(r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b")),
    ("github_token", re.compile(r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255})\b")),
    ("github_token", re.compile(r"\b(github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("gitlab_token", re.compile(r"\b(glpat-[A-Za-z0-9_\-]{20,})\b")),
    ("slack_token", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})\b")),
    ("slack_webhook", re.compile(r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+)")),
    ("stripe_key", re.compile(r"\b((?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})\b")),
    ("anthropic_key", re.compile(r"\b(sk-ant-[A-Za-z0-9_\-]{20,})")),
    ("openai_key", re.compile(r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,})")),
    ("google_api_key", re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})\b")),
    ("jwt", re.compile(r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})")),
    ("url_credentials", re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^/\s:@]+:([^/\s@]+)@")),
    ("bearer_token", re.compile(r"(?i)\bauthorization:\s*bearer\s+([A-Za-z0-9._~+/\-]{16,}=*)")),
    ("secret_assignment", re.compile(
        r"(?i)\b[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|client[_\-]?secret)"
        r"[A-Za-z0-9_.\-]*\s*[=:]\s*[\"']?([^\s\"'`,;]{6,})")),
]


def strip_private(text: str) -> str:
    """Remove private-tag blocks; the result is trimmed when anything was removed."""
    if "<" not in text:
        return text
    stripped = _TAGS.sub("", text)
    return stripped.strip() if stripped != text else text


def _looks_like_placeholder(value: str) -> bool:
    low = value.lower()
    return (low.startswith(("[redacted", "${", "<", "process.env", "os.environ", "env("))
            or low in {"none", "null", "true", "false", "undefined", "changeme", "******"}
            or set(value) <= {"*", "x", "X", "."})


def redact_secrets(text: str) -> str:
    for kind, pattern in SECRET_PATTERNS:
        if kind == "secret_assignment" and "=" not in text and ":" not in text:
            continue

        def repl(m: re.Match[str], kind: str = kind) -> str:
            if m.lastindex:
                value = m.group(1)
                if kind == "secret_assignment" and _looks_like_placeholder(value):
                    return m.group(0)
                start, end = m.start(1) - m.start(0), m.end(1) - m.start(0)
                whole = m.group(0)
                return whole[:start] + f"[REDACTED:{kind}]" + whole[end:]
            return f"[REDACTED:{kind}]"

        text = pattern.sub(repl, text)
    return text


def truncate(text: str, limit: int) -> str:
    """Keep the head and the tail of an oversized string, with a marker saying how much went."""
    if len(text) <= limit:
        return text
    head, tail = int(limit * 0.6), int(limit * 0.3)
    return f"{text[:head]}\n[… {len(text) - head - tail} characters elided …]\n{text[-tail:]}"


def clean_text(text: str, limit: int) -> str:
    return truncate(redact_secrets(strip_private(text)), limit)


def clean(value: Any, limit: int) -> Any:
    """Apply `clean_text` to every string inside a JSON value (keys included)."""
    if isinstance(value, str):
        return clean_text(value, limit)
    if isinstance(value, dict):
        return {clean_text(str(k), 256): clean(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v, limit) for v in value]
    return value
