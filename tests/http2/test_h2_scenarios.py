"""The shared scenario suite's httpbin scenarios (tests/aio/test_scenarios.py), run over HTTP/2:
httpbin served by hypercorn over h2c, every client with ``http2="prior-knowledge"``, on every
face. The same calls and expectations as over HTTP/1.1: only the connection underneath differs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from tests.aio import test_scenarios as scenarios

pytestmark = [pytest.mark.timeout(60), pytest.mark.peers]

# Not here: test_head_has_no_body and test_basic_auth (hypercorn's WSGI adapter answers httpbin's
# HEAD and its 401 with a 500, over HTTP/1.1 too; HEAD over HTTP/2 is in test_h2_peers, on nginx).
SCENARIOS: list[Callable[..., None]] = [
    scenarios.test_methods_bodies_and_json,
    scenarios.test_status_errors,
    scenarios.test_streamed_body_in_chunks,
    scenarios.test_redirect_chain,
    scenarios.test_303_turns_post_into_get,
    scenarios.test_307_keeps_method_and_body,
    scenarios.test_too_many_redirects,
    scenarios.test_redirects_not_followed_when_off,
    scenarios.test_digest_auth,
    scenarios.test_cookies_are_kept_and_sent,
    *(functools.partial(scenarios.test_decompression, coding=c) for c in ("gzip", "deflate", "brotli")),
    scenarios.test_robots_respected,
]


def _name(scenario: Callable[..., None]) -> str:
    if isinstance(scenario, functools.partial):
        return f"{scenario.func.__name__}[{scenario.keywords['coding']}]"
    return scenario.__name__


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_name)
def test_scenario_over_http2(face: Callable[..., Any], httpbin_h2c: SimpleNamespace, scenario: Callable[..., None]) -> None:
    made: list[Any] = []

    def h2_face(**options: Any) -> Any:
        options.setdefault("http2", "prior-knowledge")
        made.append(face(**options))
        return made[-1]

    scenario(h2_face, httpbin_h2c)
    # It really went over HTTP/2.
    assert made and made[0].get(httpbin_h2c.url + "/get").http_version == "2"
