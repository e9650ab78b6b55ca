# SPDX-License-Identifier: Apache-2.0
"""Privacy before storage: private tags stripped, real-format credentials caught, near-misses
(hashes, UUIDs, base64 images, ordinary code) left alone."""

from __future__ import annotations

import pytest

from claude_mem.handlers.redaction import clean, redact_secrets, strip_private, truncate

SECRETS = [
    ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
    ("github_token", "ghp_" + "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5"),
    ("github_token", "github_pat_11ABCDEFG0abcdefghijkl_" + "x" * 59),
    ("gitlab_token", "glpat-" + "Ab3De5Fg7Hi9Jk1Lm3No"),
    ("slack_token", "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    ("stripe_key", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("anthropic_key", "sk-ant-api03-" + "Ab3De5Fg7Hi9Jk1Lm3No5Pq7Rs9Tu1Vw3Xy5Z"),
    ("openai_key", "sk-proj-" + "Ab3De5Fg7Hi9Jk1Lm3No5Pq7Rs9Tu1Vw3Xy5Z"),
    ("google_api_key", "AIza" + "SyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI"),
    ("jwt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"),
]
ASSIGNMENTS = ["DATABASE_PASSWORD=hunter2hunter2", "api_key: 'q8Zr2LmX9vT4wN1p'",
               'client_secret = "s3cr3t-v4lue-x"', "export GITHUB_TOKEN=abcdef123456"]
NEAR_MISSES = [
    "commit 9f2c1e4b7a3d8e6f5c4b3a2918f7e6d5c4b3a291",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "request id 550e8400-e29b-41d4-a716-446655440000",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAA"
    "AABJRU5ErkJggg==",
    "if (!row || row.revoked) throw new Unauthorized();",
    "const password = process.env.DB_PASSWORD;",
    "token: None",
    "def refresh_token(self): return self._token",
    "Skipping tokens for now; the password field is optional.",
]


@pytest.mark.parametrize("kind,secret", SECRETS, ids=[s[0] for s in SECRETS])
def test_real_format_credentials_are_replaced(kind, secret):
    out = redact_secrets(f"the value is {secret} here")
    assert secret not in out and f"[REDACTED:{kind}]" in out


def test_private_keys_and_urls_with_credentials():
    block = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
             "-----END OPENSSH PRIVATE KEY-----")
    assert redact_secrets(f"key:\n{block}\ndone") == "key:\n[REDACTED:private_key]\ndone"
    out = redact_secrets("postgres://app:Sup3rS3cret@db.internal:5432/app")
    assert "Sup3rS3cret" not in out and out.startswith("postgres://app:[REDACTED:url_credentials]@db.internal")


@pytest.mark.parametrize("line", ASSIGNMENTS)
def test_secret_assignments_and_env_lines(line):
    value = line.split("=", 1)[-1].split(":", 1)[-1].strip().strip("'\"")
    assert value not in redact_secrets(line)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text):
    assert redact_secrets(text) == text


def test_private_tags_are_stripped_everywhere_in_a_payload():
    payload = {"prompt": "fix it <private>my salary is 100k</private>",
               "tool_input": {"content": "<system-reminder>internal</system-reminder>visible"},
               "list": ["<claude-mem-context>old context</claude-mem-context>"]}
    out = clean(payload, 10_000)
    assert out == {"prompt": "fix it", "tool_input": {"content": "visible"}, "list": [""]}
    assert strip_private("<PRIVATE a='1'>x</PRIVATE>") == ""


def test_oversized_fields_keep_head_and_tail_with_a_marker():
    text = "A" * 5000 + "B" * 5000
    out = truncate(text, 1000)
    assert out.startswith("A" * 600) and out.endswith("B" * 300) and "characters elided" in out
