"""The desk's evidence key: Ed25519, made on first use, kept owner-only; signs dossiers."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vigile.connectors.secrets import config_folder

KEY_ENV = "VIGILE_EVIDENCE_KEY"
_PREFIX = "ed25519:"


class EvidenceKeyError(RuntimeError):
    """The evidence key cannot be used as it is; the message says what to do."""


def key_path(explicit: str | None = None) -> Path:
    """--key, else $VIGILE_EVIDENCE_KEY, else the config folder's evidence-key.pem."""
    chosen = explicit or os.environ.get(KEY_ENV)
    return Path(chosen).expanduser() if chosen else config_folder() / "evidence-key.pem"


def load_or_create(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key at `path`, made there first if there is none: (key, created)."""
    try:
        return _load(path), False
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new_private(path, pem)
    return key, True


def _load(path: Path) -> Ed25519PrivateKey:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))  # FileNotFoundError: none yet
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise EvidenceKeyError(
                f"{path} can be read by other users of this machine, so Vigile will not sign "
                f"with it: run `chmod 600 {path}` (and consider the key leaked)"
            )
        data = handle.read()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise EvidenceKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise EvidenceKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def _write_new_private(path: Path, data: bytes) -> None:
    """Owner-only from the first byte, never over an existing file or through a link: written
    aside, then linked into place (which fails if something appeared there meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as one line a client can compare: ed25519:BASE64."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _PREFIX + base64.b64encode(raw).decode()


def fingerprint(public: str) -> str:
    """A short form to read aloud: the first 16 hex digits of the key's sha256, in fours."""
    digest = hashlib.sha256(public.encode()).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def parse_public(text: object) -> Ed25519PublicKey:
    """ValueError with the reason when `text` is not an ed25519:BASE64 public key."""
    if not isinstance(text, str) or not text.startswith(_PREFIX):
        raise ValueError("the public key is not of the form ed25519:BASE64")
    try:
        raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the public key cannot be read: {exc}") from exc


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(key.sign(data)).decode()


def signature_holds(public: Ed25519PublicKey, data: bytes, signature: str) -> bool:
    try:
        public.verify(base64.b64decode(signature.strip(), validate=True), data)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def local_public_key(explicit: str | None = None) -> str | None:
    """This desk's public key when it already has one (never made here), for `verify`."""
    try:
        return public_text(_load(key_path(explicit)))
    except (OSError, EvidenceKeyError):
        return None
