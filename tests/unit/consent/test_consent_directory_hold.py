"""A give held while consent does not know the person yet (`held_until_known`): the
directory is asked with a read of its own, and the command runs again only once the person
is known, never over and over in group commit's batches."""

from typing import Any

import pytest

from schemas.commands import Rejected
from schemas.consent import Reason
from services.consent.api import held_until_known


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
    assert await held_until_known(db, "adv-00000001", None, hold_seconds=5) == "given"  # type: ignore[arg-type]
    assert (db.commands, db.reads) == (2, 4)  # the first try, and the one after the person was read


async def test_the_refusal_stands_when_the_person_stays_unknown_for_the_hold():
    db = Directory(unknown_reads=10**6)
    with pytest.raises(Rejected) as refused:
        await held_until_known(db, "adv-00000001", None, hold_seconds=0.3)  # type: ignore[arg-type]
    assert refused.value.reason == Reason.NOT_IN_DIRECTORY
    assert db.commands == 1 and db.reads >= 2  # 50 + 100 ms, then 200 ms would pass the hold


async def test_other_refusals_answer_at_once():
    class Refusing(Directory):
        async def command(self, run: Any) -> str:
            self.commands += 1
            raise Rejected(Reason.OUTDATED_POLICY_VERSION, "show the current one")

    db = Refusing(unknown_reads=0)
    with pytest.raises(Rejected):
        await held_until_known(db, "adv-00000001", None, hold_seconds=5)  # type: ignore[arg-type]
    assert (db.commands, db.reads) == (1, 0)
