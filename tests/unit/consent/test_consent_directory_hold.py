"""A give held while consent does not know the person yet (services/consent/holding.py): the
directory is asked with a read of its own, the command runs again only once the person is
known, never over and over in group commit's batches, and only so many requests are held."""

import asyncio
from typing import Any

import pytest

from schemas.commands import Rejected
from schemas.consent import Reason
from services.consent.holding import Holds


class Directory:
    """A `Db` whose person becomes known after `unknown_reads` reads of the directory."""

    def __init__(self, unknown_reads: int) -> None:
        self.unknown_reads, self.reads, self.commands = unknown_reads, 0, 0

    async def command(self, run: Any) -> str:
        self.commands += 1
        if self.reads <= self.unknown_reads:
            raise Rejected(Reason.NOT_IN_DIRECTORY, "not known")
        return "given"

    async def query(self, read: Any) -> bool:
        self.reads += 1
        return self.reads > self.unknown_reads


async def test_a_held_command_runs_again_only_once_the_directory_knows_the_person():
    db = Directory(unknown_reads=3)
    assert await Holds().until_known(db, "adv-00000001", None, hold_seconds=5) == "given"  # type: ignore[arg-type]
    assert (db.commands, db.reads) == (2, 4)  # the first try, and the one after the person was read


async def test_the_refusal_stands_when_the_person_stays_unknown_for_the_hold():
    db = Directory(unknown_reads=10**6)
    with pytest.raises(Rejected) as refused:
        await Holds().until_known(db, "adv-00000001", None, hold_seconds=0.3)  # type: ignore[arg-type]
    assert refused.value.reason == Reason.NOT_IN_DIRECTORY
    assert db.commands == 1 and db.reads >= 2  # 50 + 100 ms, then 200 ms would pass the hold


async def test_other_refusals_answer_at_once():
    class Refusing(Directory):
        async def command(self, run: Any) -> str:
            self.commands += 1
            raise Rejected(Reason.OUTDATED_POLICY_VERSION, "show the current one")

    db = Refusing(unknown_reads=0)
    with pytest.raises(Rejected):
        await Holds().until_known(db, "adv-00000001", None, hold_seconds=5)  # type: ignore[arg-type]
    assert (db.commands, db.reads) == (1, 0)


async def test_only_so_many_requests_are_held_for_one_person_and_in_all():
    """Past the bounds the refusal answers at once; a request answered gives its place back."""
    db, holds = Directory(unknown_reads=10**6), Holds(per_person=2, in_all=3)
    held = [asyncio.create_task(holds.until_known(db, who, None, hold_seconds=0.5))  # type: ignore[arg-type]
            for who in ("adv-ghost-01", "adv-ghost-01", "adv-other-01")]
    await asyncio.sleep(0.01)  # each refused once, and held
    for who in ("adv-ghost-01", "adv-someone-1"):  # the person's third; a fourth in all
        with pytest.raises(Rejected):
            await asyncio.wait_for(holds.until_known(db, who, None, hold_seconds=0.5), 0.1)  # type: ignore[arg-type]
    assert sum(holds.held.values()) == 3
    answers = await asyncio.gather(*held, return_exceptions=True)
    assert all(isinstance(a, Rejected) for a in answers) and not holds.held
