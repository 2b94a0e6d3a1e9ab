"""A run: the batch, then a sentinel on every partition of every input topic; wait until
every reader answered every sentinel (so everything before it on that partition has been
dealt with), until no rejection of ours waits in an outbox, and until the observer has read
everything published by then. Only conditions are waited for, never a fixed time."""

from harness.kafka import eventually
from tests.e2e.bad_input.accounting import Account, account
from tests.e2e.bad_input.contracts import COMMAND_TOPICS
from tests.e2e.bad_input.inputs import Input
from tests.e2e.bad_input.observe import Outcomes
from tests.e2e.bad_input.send import send


async def play(seen: Outcomes, bootstrap: str, batch: list[Input], sentinels: list[Input],
               timeout: float) -> list[Account]:
    await send(bootstrap, batch)
    await send(bootstrap, sentinels)

    async def every_sentinel_answered() -> bool:
        return all(len(a.outcomes) > 0 for a in await account(sentinels, seen))

    try:
        await eventually(every_sentinel_answered, timeout=timeout, what="every reader to answer every sentinel")
    except AssertionError as timed_out:  # say which partitions are stuck, and where
        waiting = [str(a) for a in await account(sentinels, seen) if not a.outcomes]
        raise AssertionError(f"{timed_out}; unanswered:\n" + "\n".join(waiting)) from None
    commands = {s: {i.id for i in batch + sentinels if i.id and COMMAND_TOPICS.get(i.topic) == s}
                for s in COMMAND_TOPICS.values()}

    async def no_rejection_waiting() -> bool:
        return not any([await seen.rejections_waiting(s, ids) for s, ids in commands.items()])

    await eventually(no_rejection_waiting, timeout=timeout, what="every rejection relayed")
    targets = await seen.ends()  # fixed: other traffic on the shared topics keeps moving the ends

    async def read_up_to_targets() -> bool:
        return await seen.behind(targets) == 0

    await eventually(read_up_to_targets, timeout=timeout, what="the observer to read what was relayed")
    return await account(batch + sentinels, seen)

