"""A small synchronous HTTP client for tests, bound to one base URL (stdlib only, every status returned).

Synchronous on purpose: test code stays plain ``def`` while the host runs on its own loop thread. It sends
exactly what it is given — no body and no Content-Type unless asked — so a test can reproduce
``curl -X POST url`` and ``curl -X POST url -H 'Content-Type: application/json'`` byte for byte.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_UNSET: Any = object()


@dataclass(frozen=True)
class HttpResponse:
    """One response: status, headers (case-insensitive lookups through :meth:`header`) and raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body decoded as JSON (None for an empty body)."""
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A test asserts on the response it got (e.g. a 302 or its Location), not on where it leads.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpClient:
    """``get``/``post``/``delete``/``request`` against ``base_url``; absolute URLs are used as they are."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirects)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + "/" + path.lstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = _UNSET,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> HttpResponse:
        """Send one request. ``json_body`` (any JSON value, ``None`` included) sets the JSON Content-Type."""
        url = self.url(path)
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        sent: dict[str, str] = dict(headers or {})
        if json_body is not _UNSET:
            data = json.dumps(json_body).encode("utf-8")
            if not any(key.lower() == "content-type" for key in sent):
                sent["Content-Type"] = "application/json"
        elif data is not None and not any(key.lower() == "content-type" for key in sent):
            # urllib would otherwise add application/x-www-form-urlencoded on its own.
            sent["Content-Type"] = "application/octet-stream"
        request = urllib.request.Request(url, data=data, method=method.upper(), headers=sent)
        try:
            with self._opener.open(request, timeout=self.timeout if timeout is None else timeout) as response:
                return HttpResponse(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return HttpResponse(error.code, dict(error.headers.items()), error.read())

    def get(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", path, **kwargs)
