"""Calls to several backends at once, so a page waits for the slowest only."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from services.ui.backends import BackendError

# One call per panel that asks a service; more would only queue.
WORKERS = 8

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool

    # Made on first use, inside the gunicorn worker: threads do not survive
    # the fork that makes it.
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="backend")

        return _pool


def call_all(calls: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Each call's answer by name, or the BackendError it raised.

    The calls run in parallel; each carries its own gRPC deadline, so this
    returns once the slowest has answered or given up.
    """

    if len(calls) == 1:
        ((name, call),) = calls.items()
        return {name: _answer(call)}

    futures: dict[str, Future[Any]] = {
        name: _executor().submit(_answer, call) for name, call in calls.items()
    }
    return {name: future.result() for name, future in futures.items()}


def _answer(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except BackendError as exc:
        return exc
