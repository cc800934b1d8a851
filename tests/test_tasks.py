"""Waiting and stopping background loops (livecompanion/tasks.py): a cancel always lands.

The bug these guard against (CPython gh-86296, Python 3.11): `asyncio.wait_for(event.wait(), t)`
returns normally when the cancel arrives in the same loop turn as the event, and a loop around it
then waits for ever. A coalescer's shutdown hung that way in CI."""

from __future__ import annotations

import asyncio

from livecompanion.tasks import cancel_and_wait, wait_event


async def test_wait_event_says_whether_it_was_set() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.01) is False
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_event(event, 1.0) is True
    assert await wait_event(event, None) is True  # already set: no wait


async def _loop_until_cancelled(wake: asyncio.Event, turns: list[int]) -> None:
    while True:
        await wait_event(wake, 5.0)
        wake.clear()
        turns.append(1)
        await wait_event(wake, None)  # the loop's idle wait, no timeout


async def test_a_cancel_arriving_with_the_event_still_stops_the_loop() -> None:
    wake = asyncio.Event()
    turns: list[int] = []
    task = asyncio.create_task(_loop_until_cancelled(wake, turns))
    await asyncio.sleep(0)
    wake.set()  # the wake-up and the cancel in the same turn of the loop
    task.cancel()
    await asyncio.wait({task}, timeout=2.0)
    assert task.cancelled()


async def test_cancel_and_wait_cancels_again_a_task_that_swallowed_a_cancel() -> None:
    stopped = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            pass  # swallowed, as a buggy await can
        try:
            await asyncio.sleep(10)
        finally:
            stopped.set()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), 5.0)
    assert stopped.is_set() and task.done()
