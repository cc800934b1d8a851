"""Background tasks of the service (timers, drainers, publishers): one way to wait and to stop them.

Why not `asyncio.wait_for(event.wait(), t)` in a loop: on Python 3.11, wait_for runs the wait as a
task of its own, and a cancel that arrives as that inner wait completes is swallowed (wait_for
returns normally; CPython gh-86296, fixed in 3.12). A background loop that then waits again without
a timeout never ends, and the shutdown that cancelled it hangs: seen in CI as a coalescer that
would not close after a stop's push had set its wake-up event. `wait_event` waits in the calling
task itself (asyncio.timeout), so a cancel always lands; `cancel_and_wait` also cancels again while
the task is still running, in case some other await swallowed the first cancel.
"""

from __future__ import annotations

import asyncio
import contextlib

RECANCEL_EVERY = 1.0  # seconds between cancels of a task that has not finished yet


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until `event` is set or `timeout` seconds pass (None: no limit); True if it was set."""
    if event.is_set():
        return True
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def cancel_and_wait(task: asyncio.Task[object] | None) -> None:
    """Cancel `task` and wait until it has finished; what it raised on the way out is not ours
    to handle at shutdown (its own loop logs failures while it runs)."""
    if task is None:
        return
    task.cancel()
    while not task.done():
        await asyncio.wait({task}, timeout=RECANCEL_EVERY)
        if not task.done():
            task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
