# SPDX-License-Identifier: Apache-2.0
"""A small JSON POST for the hook path: plain HTTP over a socket (urllib and http.client cost
tens of milliseconds to import), http.client for https."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit


class HTTPFailure(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def post_json(url: str, body: dict[str, Any], headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    parts = urlsplit(url)
    data = json.dumps(body).encode("utf-8")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        import http.client
        conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout)
        try:
            conn.request("POST", path, data, {**headers, "Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise HTTPFailure(str(exc)) from None
        finally:
            conn.close()
    if parts.scheme != "http" or not parts.hostname:
        raise HTTPFailure(f"not an http(s) URL: {url}")
    host = parts.hostname
    port = parts.port or 80
    head = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError as exc:
        raise HTTPFailure(f"{host}:{port} unreachable: {exc}") from None
    raw = b"".join(chunks)
    header, _, payload = raw.partition(b"\r\n\r\n")
    lines = header.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        raise HTTPFailure("the server's answer is not HTTP") from None
    fields = {k.strip().lower(): v.strip() for k, _, v in (ln.decode("latin-1").partition(":") for ln in lines[1:])}
    if fields.get("transfer-encoding", "").lower() == "chunked":
        payload = _dechunk(payload)
    elif "content-length" in fields:
        payload = payload[: int(fields["content-length"])]
    return status, payload


def _dechunk(data: bytes) -> bytes:
    out, pos = bytearray(), 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return bytes(out)
        size = int(data[pos:end].split(b";")[0] or b"0", 16)
        if size == 0:
            return bytes(out)
        out += data[end + 2:end + 2 + size]
        pos = end + 2 + size + 2
