# SPDX-License-Identifier: Apache-2.0
"""Property-based fuzz of the running API from its own OpenAPI document (schemathesis): whatever a
client sends, the server answers without a 5xx and as its schema says. Bounded examples per
operation, so the suite stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from claude_mem.handlers import contracts as c
from claude_mem.handlers import teams
from claude_mem.runtime.openapi import build_openapi
from support import api_key_server

pytestmark = pytest.mark.e2e
# No 5xx, every status documented, every answer as its schema says, no way in without the key.
# Not checked: that every schema-valid body is accepted (a few handlers rightly answer 400 to
# valid-looking input, e.g. forget with no filter), that every invalid one gets 400/422 (an
# oversized one gets 413), and OPTIONS' Allow header (Litestar lists one handler per path).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance, ignored_auth]
KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with api_key_server(tmp_path_factory.mktemp("fuzz") / "data", "fuzz") as (live, operator):
        KEY["token"] = teams.create_key(c.KeyCreate(team="fuzz", scopes=[
            "memories:read", "memories:write", "memories:forget", "audit:read", "admin"]), operator).token
        yield live


# The document the server serves (a test checks they are the same); loaded at import, so the
# test needs no lazy fixture.
schema = schemathesis.openapi.from_dict(build_openapi())


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_the_api_holds_its_contract(case, server):
    case.call_and_validate(base_url=server.base, headers={"Authorization": f"Bearer {KEY['token']}"},
                           checks=CHECKS)
