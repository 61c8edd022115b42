"""Loaded by the fuzzed server (``PYTHONPATH``): it may reach loopback addresses only.

Every name lookup and connection goes through ``socket.getaddrinfo``; one for
any other host is refused and written to ``$VLMI_TEST_REFUSED_HOSTS``, which
the test reads afterwards.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_lookup = socket.getaddrinfo


def _loopback(host: Any) -> bool:
    if host is None or host == "localhost":
        return True
    text = host.decode() if isinstance(host, bytes) else str(host)
    try:
        return ipaddress.ip_address(text.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host):
        with open(os.environ["VLMI_TEST_REFUSED_HOSTS"], "a", encoding="utf-8") as log:
            log.write(f"{host!r}\n")
        raise socket.gaierror(socket.EAI_NONAME, f"{host!r}: only loopback hosts in this test")
    return _lookup(host, *args, **kwargs)


socket.getaddrinfo = _loopback_only
