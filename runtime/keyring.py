# SPDX-License-Identifier: Apache-2.0
"""The server's signing key and the verification of API keys (PASETO v4.public).

The Ed25519 signing key lives in the data dir (`signing-key.paserk`, mode 0600), or is given as a
PASERK in `CLAUDE_MEM_SIGNING_KEY`. Every public key that ever signed stays in `signing_keys`, so a
rotation does not invalidate issued keys; revoking a key is what stops it. Each request verifies
the signature and expiry, then reads the key's row: a revoked or expired key fails at once, also
when another process revoked it a moment ago.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pyseto
from pyseto import Key, Paseto

from claude_mem.handlers.context import SCOPES, Principal
from claude_mem.handlers.errors import Unauthorized
from claude_mem.storage import api_keys as keys_repo
from claude_mem.storage.store import Store

KEY_FILE = "signing-key.paserk"
TOUCH_EVERY_MS = 60_000


def _now() -> int:
    return int(time.time() * 1000)


def _public_from_secret(secret_paserk: str) -> Any:
    raw = base64.urlsafe_b64decode(secret_paserk.removeprefix("k4.secret.") + "==")
    if len(raw) != 64:
        raise ValueError("a k4.secret PASERK holds 64 bytes")
    return Key.from_asymmetric_key_params(4, x=raw[32:])


def generate_secret() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    return Key.new(4, "public", pem).to_paserk()


def write_secret(path: Path, secret: str) -> None:
    """Write atomically with mode 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class Keyring:
    def __init__(self, store: Store, data_dir: Path, secret: str | None = None, *, cache_size: int = 1024,
                 leeway: int = 5):
        self.store = store
        self.path = data_dir / KEY_FILE
        self._env_secret = secret
        self._verify_keys: dict[str, Any] = {}
        self._paseto = Paseto.new(leeway=leeway)
        self._cache: OrderedDict[str, tuple[dict, int | None]] = OrderedDict()
        self._cache_size = cache_size
        self._touched: dict[str, int] = {}
        self._lock = threading.Lock()
        self._load()

    # -- the signing key ---------------------------------------------------------------------

    def _load(self) -> None:
        if self._env_secret:
            secret = self._env_secret.strip()
        elif self.path.exists():
            secret = self.path.read_text("utf-8").strip()
        else:
            secret = generate_secret()
            write_secret(self.path, secret)
        try:
            self._signing = Key.from_paserk(secret)
            public = _public_from_secret(secret)
        except Exception as exc:
            where = "CLAUDE_MEM_SIGNING_KEY" if self._env_secret else str(self.path)
            raise ValueError(f"{where}: not a k4.secret PASERK ({exc})") from None
        self.kid = public.to_paserk_id()
        with self.store.write() as db:
            keys_repo.add_signing_key(db, self.kid, public.to_paserk(), _now())
        self._verify_keys[self.kid] = public

    def rotate(self) -> str:
        """A new signing key; earlier ones keep verifying the keys they signed."""
        if self._env_secret:
            raise ValueError("the signing key comes from CLAUDE_MEM_SIGNING_KEY: change it there")
        write_secret(self.path, generate_secret())
        self._load()
        with self.store.write() as db:
            keys_repo.retire_other_signing_keys(db, self.kid, _now())
        return self.kid

    # -- issuing -----------------------------------------------------------------------------

    def issue(self, *, jti: str, team_id: str, project_id: str | None, scopes: list[str],
              expires_at: int | None) -> str:
        claims = {"jti": jti, "team": team_id, "project": project_id, "scopes": scopes}
        if expires_at is not None:
            ttl = max(1, (expires_at - _now() + 999) // 1000)
            paseto = Paseto.new(exp=ttl, include_iat=True)
        else:
            paseto = Paseto.new(include_iat=True)
        token = paseto.encode(self._signing, claims, footer={"kid": self.kid}, serializer=json)
        return token.decode("ascii")

    # -- verifying ---------------------------------------------------------------------------

    def _verify_key(self, kid: str) -> Any:
        key = self._verify_keys.get(kid)
        if key is None:
            with self.store.read() as db:
                row = keys_repo.signing_key(db, kid)
            if row is None:
                raise Unauthorized("the key was not issued by this server")
            key = Key.from_paserk(row["public_paserk"])
            self._verify_keys[kid] = key
        return key

    def _claims(self, token: str, use_cache: bool) -> dict:
        if use_cache:
            with self._lock:
                hit = self._cache.get(token)
                if hit is not None and (hit[1] is None or hit[1] > _now()):
                    self._cache.move_to_end(token)
                    return hit[0]
        try:
            footer = json.loads(pyseto.Token.new(token).footer or b"{}")
            kid = footer["kid"]
        except Exception:
            raise Unauthorized("the key is malformed") from None
        try:
            payload = self._paseto.decode(self._verify_key(kid), token, deserializer=json).payload
        except pyseto.VerifyError as exc:
            reason = "the key has expired" if "expired" in str(exc).lower() else "the key's signature is not valid"
            raise Unauthorized(reason) from None
        except (pyseto.DecryptError, ValueError, TypeError):
            raise Unauthorized("the key is malformed") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("jti"), str):
            raise Unauthorized("the key is malformed")
        if use_cache:
            exp = payload.get("exp")
            exp_ms = None
            if isinstance(exp, str):
                from datetime import datetime
                exp_ms = int(datetime.fromisoformat(exp.replace("Z", "+00:00")).timestamp() * 1000)
            with self._lock:
                self._cache[token] = (payload, exp_ms)
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return payload

    def principal_for(self, token: str, *, use_cache: bool = True) -> Principal:
        """Verify the token, then its row (revocation and expiry are checked on every call)."""
        claims = self._claims(token, use_cache)
        now = _now()
        with self.store.read() as db:
            row = keys_repo.get(db, claims["jti"])
        if row is None:
            raise Unauthorized("the key is unknown to this server")
        if row["revoked_at"] is not None:
            raise Unauthorized("the key has been revoked")
        if row["expires_at"] is not None and row["expires_at"] <= now:
            raise Unauthorized("the key has expired")
        if row["token_sha256"] != keys_repo.token_hash(token):
            raise Unauthorized("the key is unknown to this server")
        last = self._touched.get(row["id"], 0)
        if now - last > TOUCH_EVERY_MS:
            self._touched[row["id"]] = now
            try:
                with self.store.write() as db:
                    keys_repo.touch(db, row["id"], now)
            except Exception:  # a busy database must not fail a request over bookkeeping
                pass
        scopes = frozenset(s for s in json.loads(row["scopes"]) if s in SCOPES)
        return Principal(team_id=row["team_id"], scopes=scopes, project_id=row["project_id"], key_id=row["id"])
