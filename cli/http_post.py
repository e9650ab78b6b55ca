# SPDX-License-Identifier: Apache-2.0
"""A small JSON POST for the hook path: plain HTTP over a socket (urllib and http.client cost
tens of milliseconds to import), http.client for https."""

from __future__ import annotations

import json
import socket


class HTTPFailure(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def _split(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path) without urllib, which is slow to import."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise HTTPFailure(f"not an http(s) URL: {url}")
    hostport, slash, path = rest.partition("/")
    host, port = hostport, None
    if hostport.startswith("["):
        host, _, tail = hostport[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") else None
    elif ":" in hostport:
        host, _, p = hostport.rpartition(":")
        port = int(p)
    return scheme.lower(), host, port, slash + path or "/"


def post_json(url: str, body: dict[str, object], headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    try:
        scheme, hostname, port_, path = _split(url)
    except ValueError:
        raise HTTPFailure(f"not an http(s) URL: {url}") from None
    data = json.dumps(body).encode("utf-8")
    if scheme == "https":
        import http.client
        conn = http.client.HTTPSConnection(hostname, port_ or 443, timeout=timeout)
        try:
            conn.request("POST", path, data, {**headers, "Content-Type": "application/json"})
            resp = conn.getresponse()
            return resp.status, resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise HTTPFailure(str(exc)) from None
        finally:
            conn.close()
    if scheme != "http" or not hostname:
        raise HTTPFailure(f"not an http(s) URL: {url}")
    host = hostname
    port = port_ or 80
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
