"""Refuse image URLs that point into the server's own network (server-side request forgery).

``vlmi serve`` downloads the images that remote clients name. Without a
guard, a client could make the server fetch ``http://169.254.169.254/`` (a
cloud metadata service), ``http://127.0.0.1:6379/`` or any host on its
private network. Every URL's host is resolved first and the download is
refused, before any connection, when one of its addresses is not a global
unicast address: loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7),
link-local (169.254/16, fe80::/10), shared (100.64/10), multicast,
unspecified or reserved. IPv4 addresses inside IPv6 (``::ffff:10.0.0.1``)
are judged by their IPv4 part.

While ``vlmi serve`` runs, :class:`UrlGuard` is registered with
:mod:`vlmi._download_checks`, so the same rule also holds for every
redirect a download follows and for the address each connection actually
goes to (a DNS answer that changes after the first check is caught too).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from vlmi.errors import ImageDownloadError
from vlmi.plugin import describe_image_source as describe

#: what the refusal tells the operator to do
ALLOW_HINT = "start `vlmi serve` with --allow-private-urls to allow such addresses"


def is_public(address: str) -> bool:
    """Whether an IP address (text) is a global unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone index
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def url_host(url: str) -> tuple[str, int]:
    """The host and port an ``http(s)`` URL connects to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ImageDownloadError(f"image URL {describe(url)} is malformed: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ImageDownloadError(f"image URL {describe(url)} is not an http(s) URL with a host")
    default = 443 if parts.scheme.lower() == "https" else 80
    return parts.hostname, port or default


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal is its own address)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        return [host]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ImageDownloadError(f"image host {host!r} cannot be resolved: {exc}") from exc
    return sorted({str(info[4][0]) for info in infos})


def check_address(host: str, address: str, *, what: str = "") -> None:
    """Raise :class:`~vlmi.errors.ImageDownloadError` unless ``address`` is public."""
    if not is_public(address):
        subject = what or f"image host {host!r}"
        raise ImageDownloadError(
            f"{subject} was refused: its host {host!r} is the non-public address {address} "
            f"(loopback, private, link-local or reserved); {ALLOW_HINT}"
        )


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise :class:`~vlmi.errors.ImageDownloadError` if ``url`` must not be fetched.

    Blocking (it resolves the host); servers call it from a worker thread.
    """
    host, port = url_host(url)
    if allow_private:
        return
    for address in resolve(host, port):
        check_address(host, address, what=f"image URL {describe(url)}")


class UrlGuard:
    """The server's rule, as a :class:`vlmi._download_checks.DownloadCheck`."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def __call__(self, url: str) -> None:
        check_url(url, allow_private=self.allow_private)

    def check_url(self, url: str) -> None:
        """Refuse a URL (a request's image, or a redirect target)."""
        check_url(url, allow_private=self.allow_private)

    def check_address(self, host: str, address: str) -> None:
        """Refuse an address a download is about to connect to."""
        if not self.allow_private:
            check_address(host, address)


__all__ = [
    "ALLOW_HINT",
    "UrlGuard",
    "check_address",
    "check_url",
    "is_public",
    "resolve",
    "url_host",
]
