"""Running work at the same moment (row locks, unique keys, retries) and loopback ports."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any


def race(
    *callables: Callable[[], Any], timeout: float = 60.0, return_exceptions: bool = False
) -> list[Any]:
    """Call every callable in a thread of its own, all released together behind a barrier.

    Returns their results in the order given. An exception raised by a callable is re-raised
    (the first in that order) once every thread has finished, unless ``return_exceptions`` is
    true: then it takes the place of the result, as in :func:`asyncio.gather`. ``timeout``
    bounds both the barrier and the wait for the threads; a thread still running then fails
    the call with :class:`TimeoutError` (a deadlock shows as a failure, never a hung suite).
    """
    if not callables:
        return []
    barrier = threading.Barrier(len(callables), timeout=timeout)
    outcomes: list[Any] = [None] * len(callables)
    failed: list[bool] = [False] * len(callables)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            outcomes[index] = work()
        except BaseException as exc:  # handed back to the caller's thread
            outcomes[index] = exc
            failed[index] = True

    threads = [
        threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(callables)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    if any(thread.is_alive() for thread in threads):
        raise TimeoutError(f"race(): a callable was still running after {timeout * 2:.0f} s")
    if not return_exceptions:
        for index, is_failure in enumerate(failed):
            if is_failure:
                raise outcomes[index]
    return outcomes


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
