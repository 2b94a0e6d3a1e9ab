"""Sessions in the portal's memory: idle and absolute limits, a bounded store, CSRF tokens."""

from services.portal.sessions import SessionStore, Tokens
from services.runtime.identity import Principal


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(clock: Clock, capacity: int = 10) -> SessionStore:
    return SessionStore(idle_seconds=60, max_age_seconds=300, capacity=capacity, clock=clock)


def new(sessions: SessionStore, who: str = "adv-unit-0001"):
    return sessions.create(Principal(who), "unit", Tokens("a", "r", "i", 0))


def test_a_session_ends_after_its_idle_time_and_each_request_starts_it_again():
    clock = Clock()
    sessions = store(clock)
    session = new(sessions)
    clock.now += 50
    assert sessions.get(session.session_id) is session
    clock.now += 50
    assert sessions.get(session.session_id) is session
    clock.now += 61
    assert sessions.get(session.session_id) is None and len(sessions) == 0


def test_a_session_ends_after_its_maximum_age_however_busy():
    clock = Clock()
    sessions = store(clock)
    session = new(sessions)
    for _ in range(7):
        clock.now += 50
        sessions.get(session.session_id)
    assert sessions.get(session.session_id) is None


def test_beyond_its_capacity_the_store_lets_the_least_recently_used_session_go():
    clock = Clock()
    sessions = store(clock, capacity=2)
    first, second = new(sessions), new(sessions)
    sessions.get(first.session_id)
    third = new(sessions)
    assert sessions.get(second.session_id) is None
    assert sessions.get(first.session_id) is first and sessions.get(third.session_id) is third


def test_session_ids_and_csrf_tokens_are_unguessable_and_a_token_matches_only_its_session():
    sessions = store(Clock())
    one, other = new(sessions), new(sessions)
    assert len(one.session_id) >= 43 and one.session_id != other.session_id
    assert one.csrf_matches(one.csrf_token) and not one.csrf_matches(other.csrf_token)
    assert not one.csrf_matches("") and not one.csrf_matches(None)


def test_erasing_oneself_ends_every_session_of_that_person_only():
    sessions = store(Clock())
    mine, also_mine, theirs = new(sessions), new(sessions), new(sessions, "adv-unit-0002")
    assert sessions.end_all_of("adv-unit-0001") == 2
    assert sessions.get(mine.session_id) is None and sessions.get(also_mine.session_id) is None
    assert sessions.get(theirs.session_id) is theirs
