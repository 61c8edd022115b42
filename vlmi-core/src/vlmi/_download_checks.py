"""Checks on vlmi's own image downloads: every redirect and every address connected to.

``vlmi serve`` downloads URLs that remote clients name, so it registers a
check (:class:`vlmi._url_guard.UrlGuard`) here while it runs. Then, for
every download of the process:

- each redirect target passes ``check_url`` before it is followed;
- each direct connection resolves its host once, passes every address to
  ``check_address``, and connects to one of those very addresses, so a
  host whose DNS answer changes after an earlier check (DNS rebinding)
  cannot slip through. Connections through an HTTP proxy go to the proxy,
  which resolves the target itself; there only the URL checks apply.

Without a registered check, downloads use urllib's ordinary opener.
"""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import urllib.request


class DownloadCheck(Protocol):
    """What a registered check offers; each method raises to refuse."""

    def check_url(self, url: str) -> None:
        """Refuse a URL (called for each redirect target)."""

    def check_address(self, host: str, address: str) -> None:
        """Refuse an IP address ``host`` resolved to (called before connecting)."""


_CHECKS: list[DownloadCheck] = []


def add_download_check(check: DownloadCheck) -> None:
    """Apply ``check`` to every download of this process until it is removed."""
    _CHECKS.append(check)


def remove_download_check(check: DownloadCheck) -> None:
    """Undo :func:`add_download_check` (a check not added is ignored)."""
    if check in _CHECKS:
        _CHECKS.remove(check)


def checked_opener() -> urllib.request.OpenerDirector:
    """A urllib opener applying the registered checks (urllib's own when there are none)."""
    import urllib.request

    checks = tuple(_CHECKS)
    if not checks:
        return urllib.request.build_opener()

    class CheckedRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(
            self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
        ) -> Any:
            for check in checks:
                check.check_url(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    class CheckedHTTP(urllib.request.HTTPHandler):
        def http_open(self, req: Any) -> Any:
            return self.do_open(_connection_class(req, "http", checks), req)

    class CheckedHTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: Any) -> Any:
            context = getattr(self, "_context", None)  # the default handler's SSL context
            return self.do_open(_connection_class(req, "https", checks), req, context=context)

    return urllib.request.build_opener(CheckedRedirects(), CheckedHTTP(), CheckedHTTPS())


def _connection_class(req: Any, scheme: str, checks: tuple[DownloadCheck, ...]) -> Any:
    """An ``http.client`` connection factory whose sockets go to checked addresses only."""
    import http.client

    base: Any = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    if req.has_proxy() or getattr(req, "_tunnel_host", None):
        return base  # the proxy connects to the target; the URL checks ran already

    def make(host: str, **kwargs: Any) -> Any:
        connection = base(host, **kwargs)
        connection._create_connection = lambda address, *args: _connect_checked(
            address, checks, *args
        )
        return connection

    return make


def _connect_checked(
    address: tuple[str, int],
    checks: tuple[DownloadCheck, ...],
    timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: Any = None,
) -> socket.socket:
    """Resolve once, check every address, connect to the first checked one that answers."""
    host, port = address[0], address[1]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        for check in checks:
            check.check_address(host, str(info[4][0]))
    failure: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
    raise failure or OSError(f"{host} resolved to no address")


__all__ = ["DownloadCheck", "add_download_check", "checked_opener", "remove_download_check"]
