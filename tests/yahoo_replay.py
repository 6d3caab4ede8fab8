"""A ``requests`` transport that answers yfinance's HTTP calls from recorded chart responses.

Only the network is replaced: ``yfinance.download`` builds its requests, handles cookie and crumb,
and parses the responses exactly as it does against Yahoo.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
from requests.adapters import BaseAdapter

DATA = Path(__file__).parent / "data" / "yahoo"
NOT_FOUND = {
    "chart": {
        "result": None,
        "error": {"code": "Not Found", "description": "No data found, symbol may be delisted"},
    }
}


class YahooReplay(BaseAdapter):
    """Serves ``tests/data/yahoo/chart_<T>.json`` cut to the requested period.

    ``rate_limited``: ticker → how many chart requests answer 429 before the real answer.
    ``adjust``: ticker → factor applied to every adjusted close (a dividend re-adjustment).
    ``offline``: every request fails as with no network. ``calls`` counts chart requests.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rate_limited: dict[str, int] = {}
        self.adjust: dict[str, float] = {}
        self.last_day: dict[str, int] = {}
        self.offline = False
        self.calls: Counter[str] = Counter()

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        url = urlparse(request.url)
        if self.offline:
            raise requests.exceptions.ConnectionError(
                f"Failed to resolve '{url.netloc}' (Could not resolve host)"
            )
        response = requests.Response()
        response.url = request.url
        response.request = request
        response.status_code = 200
        response._content = b""
        if url.netloc == "fc.yahoo.com":
            return response
        if url.path.endswith("/v1/test/getcrumb"):
            response._content = b"replayed-crumb"
            return response
        if "/v8/finance/chart/" in url.path:
            ticker = url.path.rsplit("/", 1)[1]
            self.calls[ticker] += 1
            if self.rate_limited.get(ticker, 0) > 0:
                self.rate_limited[ticker] -= 1
                response.status_code = 429
                response._content = b"Too Many Requests"
                return response
            body = self._chart(ticker, parse_qs(url.query))
            if body is None:
                response.status_code = 404
                body = NOT_FOUND
            response._content = json.dumps(body).encode()
            response.headers["Content-Type"] = "application/json"
            return response
        response.status_code = 404
        response._content = b"{}"
        return response

    def _chart(self, ticker: str, query: dict[str, list[str]]) -> dict[str, Any] | None:
        path = DATA / f"chart_{ticker}.json"
        if not path.exists():
            return None
        body = copy.deepcopy(json.loads(path.read_text()))
        result = body["chart"]["result"][0]
        ts = result["timestamp"]
        lo = int(query.get("period1", ["0"])[0])
        hi = int(query.get("period2", [str(2**40)])[0])
        hi = min(hi, self.last_day.get(ticker, 2**40))
        keep = [i for i, t in enumerate(ts) if lo <= t < hi]
        result["timestamp"] = [ts[i] for i in keep]
        quote = result["indicators"]["quote"][0]
        for key in quote:
            quote[key] = [quote[key][i] for i in keep]
        factor = self.adjust.get(ticker, 1.0)
        adj = result["indicators"]["adjclose"][0]
        adj["adjclose"] = [adj["adjclose"][i] * factor for i in keep]
        return body

    def close(self) -> None:
        pass


def replay_session(adapter: YahooReplay) -> requests.Session:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
