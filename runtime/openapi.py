# SPDX-License-Identifier: Apache-2.0
"""OpenAPI 3.1, generated from the manifest and the msgspec contracts (the same types that
validate requests), so the document cannot drift from what the server accepts."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from claude_mem.handlers import contracts as c
from claude_mem.handlers.manifest import MANIFEST
from claude_mem.handlers.system import version

REF = "#/components/schemas/{name}"
ERROR_STATUSES = {"400": "Invalid input", "401": "No valid key", "403": "Missing scope",
                  "404": "Not found", "409": "Conflicts with what exists", "413": "Body too large",
                  "415": "Unsupported media type", "429": "Rate limited (see Retry-After)"}



def build_openapi() -> dict[str, Any]:
    types: list[Any] = [c.ErrorBody]
    for r in MANIFEST:
        types.append(r.request_type)
        if r.response_body == "json":
            types.append(r.response_type)
        else:
            types.append(str)
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, Any] = {}
    for r in MANIFEST:
        op: dict[str, Any] = {"operationId": r.name, "summary": r.summary,
                              "tags": [r.path.split("/")[2] if r.path.startswith("/v1/") else "system"]}
        ref = by_type[r.request_type]["$ref"].rsplit("/", 1)[-1]
        tag = "legacy" if r.path.startswith("/api/") else op["tags"][0]
        op["tags"] = [tag]
        req_schema = components[ref]
        params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                  for p in r.path_params]
        if r.method == "GET":
            for name, prop in req_schema.get("properties", {}).items():
                if name in r.path_params:
                    continue
                schema = copy.deepcopy(prop)
                if schema.get("type") == "array" or any(
                        s.get("type") == "array" for s in schema.get("anyOf", [])):
                    params.append({"name": name, "in": "query", "required": False, "schema": schema,
                                   "style": "form", "explode": False})
                else:
                    params.append({"name": name, "in": "query",
                                   "required": name in req_schema.get("required", []), "schema": schema})
        elif r.request_body == "ndjson":
            op["requestBody"] = {"required": True, "content": {
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
            for name, prop in req_schema.get("properties", {}).items():
                if name == "lines":
                    continue
                schema = copy.deepcopy(prop)
                is_list = schema.get("type") == "array"
                params.append({"name": name, "in": "query", "required": False, "schema": schema,
                               **({"style": "form", "explode": False} if is_list else {})})
        else:
            body = copy.deepcopy(req_schema)
            for p in r.path_params:
                body.get("properties", {}).pop(p, None)
                if p in body.get("required", []):
                    body["required"].remove(p)
            if not body.get("required"):
                body.pop("required", None)
            if body.get("properties"):
                op["requestBody"] = {"required": bool(body.get("required")),
                                     "content": {"application/json": {"schema": body}}}
        if params:
            op["parameters"] = params
        ok: dict[str, Any] = {"description": "OK"}
        if r.response_body == "ndjson":
            ok["content"] = {"application/x-ndjson": {"schema": {"type": "string"}}}
        elif r.response_body == "text":
            ok["content"] = {"text/plain": {"schema": {"type": "string"}}}
        else:
            ok["content"] = {"application/json": {"schema": by_type[r.response_type]}}
        responses = {str(r.status): ok}
        if r.status_for is not None:
            responses["503"] = {"description": "Not ready", **ok}
        err = {"content": {"application/json": {"schema": {"$ref": REF.format(name="ErrorBody")}}}}
        for code, text in ERROR_STATUSES.items():
            if code in ("401", "403") and r.scope is None:
                continue
            responses[code] = {"description": text, **err}
        op["responses"] = responses
        if r.scope:
            op["security"] = [{"bearer": []}]
            op["x-required-scope"] = r.scope
        litestar_path = r.path
        paths.setdefault(litestar_path, {})[r.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "claude-mem server", "version": version(),
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"}},
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "PASETO v4.public"}}},
    }


def write_snapshot(path: str = "docs/openapi.json") -> None:
    """Write the document the docs and the snapshot test use."""
    import json
    from pathlib import Path
    Path(path).write_text(json.dumps(build_openapi(), indent=2, sort_keys=True) + "\n", "utf-8")
