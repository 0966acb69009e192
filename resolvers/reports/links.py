"""Signed download links (issue 6 item 9): `Report.downloadUrl` hands out a short-lived link bound to
the caller, the report and the format, so a browser opens the file without a bearer header; the
caller's grants are checked again when the link is opened."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from authz.authentication import principal_of
from authz.errors import AccessError, Unauthenticated
from authz.principal import CredentialKind, Principal
from models.base import utcnow
from models.repos import accounts

from ..context import Context
from .export import ReportFileFormat


class BadLink(AccessError):
    code = "FORBIDDEN"

    def __init__(self) -> None:
        super().__init__("下载链接无效 / the download link is not valid")


class LinkExpired(AccessError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("下载链接已过期，请重新获取 / the download link has expired: ask for a new one")


@dataclass(frozen=True)
class SignedLink:
    """What a link's query carries (`user`, `exp`, `sig`) with the report and format it opens."""

    user: str
    report_id: int
    format: ReportFileFormat
    exp: str
    sig: str


@dataclass(frozen=True)
class LinkSigner:
    """HMAC-SHA256 over (username, report id, format, expiry), keyed from the app's signing secret."""

    key: bytes
    ttl: timedelta = timedelta(minutes=10)

    @classmethod
    def from_secret(cls, secret: str) -> LinkSigner:
        # A key of its own: a download signature is never also a valid JWT signature.
        return cls(hmac.new(secret.encode(), b"baoxue report download link", hashlib.sha256).digest())

    def signature(self, user: str, report_id: int, fmt: ReportFileFormat, expires: int) -> str:
        message = json.dumps([user, report_id, fmt.value, expires]).encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def link(self, user: str, report_id: int, fmt: ReportFileFormat, now: datetime) -> str:
        expires = int((now + self.ttl).timestamp())
        sig = self.signature(user, report_id, fmt, expires)
        query = {"format": fmt.value, "user": user, "exp": expires, "sig": sig}
        return f"/reports/{report_id}/download?{urlencode(query, quote_via=quote)}"

    def verify(self, link: SignedLink, now: datetime) -> None:
        """Did this app sign the link, for this report and format, and is it still valid?"""
        if not link.exp.isascii() or not link.exp.isdigit() or len(link.exp) > 12:
            raise BadLink()
        expected = self.signature(link.user, link.report_id, link.format, int(link.exp))
        if not hmac.compare_digest(expected.encode(), link.sig.encode()):
            raise BadLink()
        if now.timestamp() > int(link.exp):
            raise LinkExpired()


LINKS = "report-download-links"  # the operation's LinkSigner in `Context.cache`


def download_link(ctx: Context, report_id: int, fmt: ReportFileFormat) -> str:
    """A link to the report's file, signed for the caller and valid for ten minutes; the report's path
    relative to the API's root. The caller's grants are checked again when it is opened."""
    signer = ctx.cache.get(LINKS)
    if not isinstance(signer, LinkSigner):
        raise RuntimeError("no download link signer in this context")
    return signer.link(ctx.signed_in().username, report_id, fmt, utcnow())


async def link_principal(session: AsyncSession, signer: LinkSigner, link: SignedLink) -> Principal:
    """Who opens this signed link? The active account it was signed for (BadLink, LinkExpired otherwise)."""
    signer.verify(link, utcnow())
    account = await accounts.get_account_by_username(session, link.user)
    if account is None or not account.active:
        raise Unauthenticated("account unknown or disabled")
    return principal_of(account, CredentialKind.SERVICE_TOKEN if account.is_service else CredentialKind.PASSWORD_JWT)
