"""Fetching a live feed politely: a timeout, a descriptive User-Agent, conditional GET, a size
limit, and retries with backoff on 429 and 5xx. Standard library only; never called by parsing.
"""

import http.client
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from finder.errors import FeedError

USER_AGENT = (
    "RecoverySupportFinder/1.0 (feed refresh; run by a data maintainer; "
    "https://github.com/recovery-support-finder)"
)
TIMEOUT_SECONDS = 30.0
MAX_BYTES = 64 * 1024 * 1024
RETRIES = 3
BACKOFF_SECONDS = 2.0
# A server's Retry-After is honoured up to this long; beyond it the attempt fails and is retried
# on the next scheduled run instead of holding the whole refresh.
MAX_WAIT_SECONDS = 120.0
_RETRY_STATUSES = {429, 500, 502, 503, 504}
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchSettings:
    """How to fetch: every knob a maintainer (or a test) may turn."""

    user_agent: str = USER_AGENT
    timeout: float = TIMEOUT_SECONDS
    max_bytes: int = MAX_BYTES
    retries: int = RETRIES
    backoff: float = BACKOFF_SECONDS
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Fetched:
    """One answer: 200 with a body, or 304 (unchanged, no body), and the validators to store."""

    url: str
    status: int
    body: bytes | None
    etag: str | None
    last_modified: str | None
    attempts: int

    @property
    def unchanged(self) -> bool:
        """The server said the feed has not changed since the validators we sent."""
        return self.status == 304


def fetch(
    url: str,
    settings: FetchSettings,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET ``url`` (conditionally when validators are given), retrying 429/5xx and lost
    connections with exponential backoff; raises FeedError when no usable answer comes.

    :param url: an http(s) URL
    :param settings: timeout, size limit, retries, User-Agent
    :param etag: the ETag stored from the last good answer (sent as If-None-Match)
    :param last_modified: its Last-Modified (sent as If-Modified-Since)
    """
    if not url.startswith(("http://", "https://")):
        raise FeedError(f"{url}: only http and https feeds can be fetched")
    headers = {"User-Agent": settings.user_agent, "Accept": "application/json, text/csv, */*"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    last_error = "no attempt made"
    for attempt in range(1, settings.retries + 2):
        try:
            return _once(url, headers, settings, attempt)
        except _Retry as retry:
            last_error = str(retry)
            if attempt > settings.retries:
                break
            wait = retry.wait if retry.wait is not None else _backoff(settings, attempt)
            if wait > MAX_WAIT_SECONDS:
                break
            settings.sleep(wait)
    raise FeedError(f"{url}: {last_error} (after {attempt} attempt(s))")


class _Retry(Exception):
    """A failure worth another try (429, 5xx, a dropped or slow connection)."""

    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


def _backoff(settings: FetchSettings, attempt: int) -> float:
    # Exponential with jitter, so many maintainers' timers do not retry in step.
    return settings.backoff * (2 ** (attempt - 1)) * (1 + random.random() / 2)


def _once(url: str, headers: dict, settings: FetchSettings, attempt: int) -> Fetched:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:
            body = _read_limited(response, settings.max_bytes, url)
            return Fetched(
                url,
                response.status,
                body,
                response.headers.get("ETag"),
                response.headers.get("Last-Modified"),
                attempt,
            )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return Fetched(url, 304, None, headers.get("If-None-Match"), None, attempt)
        if error.code in _RETRY_STATUSES:
            wait = _retry_after(error.headers.get("Retry-After"))
            raise _Retry(f"HTTP {error.code}", wait) from None
        raise FeedError(f"{url}: HTTP {error.code} {error.reason}") from None
    except http.client.IncompleteRead as error:
        raise _Retry(f"truncated answer ({len(error.partial):,} bytes, then it closed)") from None
    except (TimeoutError, urllib.error.URLError, ConnectionError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise _Retry(f"no answer ({reason or type(e).__name__})") from None


def _read_limited(response, max_bytes: int, url: str) -> bytes:
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise FeedError(f"{url}: feed is {int(length):,} bytes, over the {max_bytes:,} byte limit")
    chunks, size = [], 0
    while chunk := response.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FeedError(f"{url}: feed is over the {max_bytes:,} byte limit")
        chunks.append(chunk)
    if length and length.isdigit() and size < int(length):
        # read(amt) returns what came before the connection closed; only the length tells.
        raise _Retry(f"truncated answer ({size:,} of {int(length):,} bytes, then it closed)")
    return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
