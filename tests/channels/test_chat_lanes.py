"""Chat lanes: sends to one chat from concurrent callers go one after the other; other chats do not wait."""

from __future__ import annotations

import asyncio

from suarawarga.bot.channels.ordered import ChatLanes


async def test_a_chat_lane_takes_sends_one_at_a_time_in_arrival_order_and_is_dropped_when_idle() -> None:
    lanes = ChatLanes()
    log: list[str] = []
    gate = asyncio.Event()

    async def send(chat: int, name: str, wait: bool = False) -> None:
        async with lanes.lane(chat):
            log.append(f"{name} in")
            if wait:
                await gate.wait()
            log.append(f"{name} out")

    first = asyncio.create_task(send(1, "a", wait=True))
    await asyncio.sleep(0)
    second = asyncio.create_task(send(1, "b"))
    await send(2, "other")  # another chat goes through while chat 1's lane is held
    assert log == ["a in", "other in", "other out"]
    gate.set()
    await asyncio.gather(first, second)
    assert log[3:] == ["a out", "b in", "b out"]
    assert not lanes._lanes  # idle chats keep no lane
