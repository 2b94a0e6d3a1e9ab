"""The redirect holds at most REDIRECT_CONNECTIONS of the pool's connections at once (the
rest stay free for the consumers: a withdrawal must not queue behind a burst of redirects);
the requests past them wait and are all answered."""

import asyncio
import contextlib

from services.distribution.config import DistributionSettings, DistributionTopics
from services.distribution.redirect import Redirect
from tests.unit.distribution.test_distribution_redirect_faults import request


class CountingPool:
    """Hands out connections whose one query takes a while; counts how many are out at once."""

    def __init__(self) -> None:
        self.out = self.most = 0

    @contextlib.asynccontextmanager
    async def acquire(self):
        self.out += 1
        self.most = max(self.most, self.out)
        try:
            yield self
        finally:
            self.out -= 1

    async def fetchrow(self, *args):
        await asyncio.sleep(0.01)
        return None  # no such code: 404


async def test_redirects_past_their_connections_wait_and_are_all_answered():
    pool = CountingPool()
    redirect = Redirect(DistributionSettings(redirect_connections=3), DistributionTopics(), lambda: pool)
    answers = await asyncio.gather(*(request(redirect) for _ in range(20)))
    assert [status for status, _, _ in answers] == [404] * 20
    assert pool.most == 3 and pool.out == 0
