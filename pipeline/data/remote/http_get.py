"""Polite HTTP GETs for fetching public posts: one timeout, a delay between requests to a host, and
the user-facing wording of what a failed request means (missing, private, slow, rate-limited)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from ...errors import UserError

USER_AGENT = "VoiceTune-fetch/1.0 (+fetches the user's own public posts)"


@dataclass
class Response:
    url: str
    status: int
    body: bytes
    content_type: str


class Http:
    """GETs with a timeout, spaced at least ``delay_s`` apart per host (a rate limit the sites can rely on)."""

    def __init__(self, *, timeout_s: float = 20.0, delay_s: float = 1.0, user_agent: str = USER_AGENT):
        self.timeout_s = timeout_s
        self.delay_s = delay_s
        self.user_agent = user_agent
        self.requests = 0
        self._last_request: dict[str, float] = {}

    def wait_turn(self, url: str) -> None:
        """Sleep until ``delay_s`` has passed since the last request to the URL's host ended (the browser
        uses it too); :meth:`done` marks the end."""
        host = urlsplit(url).netloc
        last = self._last_request.get(host)
        if last is not None:
            time.sleep(max(0.0, last + self.delay_s - time.monotonic()))
        self._last_request[host] = time.monotonic()
        self.requests += 1

    def done(self, url: str) -> None:
        """The request to ``url`` has ended: the next one to its host waits ``delay_s`` from now (the
        delay is the server's rest between two requests, whatever the network's latency)."""
        self._last_request[urlsplit(url).netloc] = time.monotonic()

    def get(self, url: str) -> Response:
        """The response, whatever its status; a timeout or an unreachable server raises :class:`UserError`."""
        self.wait_turn(url)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent, "Accept": "*/*"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return Response(answer.geturl(), answer.status, answer.read(), answer.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as e:
            return Response(url, e.code, e.read(), e.headers.get("Content-Type", "") if e.headers else "")
        except TimeoutError:
            raise timeout_error(url, self.timeout_s) from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise timeout_error(url, self.timeout_s) from None
            raise UserError(f"{url}: could not connect ({e.reason}); check the address and your connection.") from None
        except (OSError, http.client.HTTPException) as e:  # the connection dropped mid-answer
            raise UserError(f"{url}: the connection broke ({type(e).__name__}); try again later.") from None
        finally:
            self.done(url)

    def get_json(self, url: str, target: str):
        """The JSON body of a 2xx answer; other statuses raise :class:`UserError` worded for ``target``."""
        response = self.get(url)
        check_status(response.status, response.url, target)
        return parse_json(response, target)


def parse_json(response: Response, target: str):
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UserError(f"{target}: {response.url} did not answer JSON; is it the right server?") from None


def timeout_error(url: str, timeout_s: float) -> UserError:
    return UserError(f"{url}: the server did not answer within {timeout_s:g} s; try again later or raise --timeout-s.")


def check_status(status: int, url: str, target: str) -> None:
    """Raise a :class:`UserError` that says what an HTTP error ``status`` from ``url`` means for fetching ``target``."""
    if status < 400:
        return
    if status in (404, 410):
        raise UserError(f"{target}: not found (HTTP {status} from {url}); check the name, or the profile "
                        "was deleted.")
    if status in (401, 403):
        raise UserError(f"{target}: private or needs a login (HTTP {status} from {url}); only public posts "
                        "can be fetched: export your data from the platform instead.")
    if status == 429:
        raise UserError(f"{target}: the server is rate-limiting us (HTTP 429); wait, then retry with a larger --delay-s.")
    raise UserError(f"{target}: {url} answered HTTP {status}; try again later.")
