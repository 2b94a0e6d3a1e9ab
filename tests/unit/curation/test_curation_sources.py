"""A feed source's life: active, paused, removed; a removed source stays removed."""

import pytest

from schemas import curation as c
from schemas.curation import SourceStatus as S
from services.curation.sources import change
from services.runtime.rejections import Rejected


@pytest.mark.parametrize(("current", "command", "status", "event"), [
    (S.ACTIVE, c.PauseSource, S.PAUSED, c.SourcePaused),
    (S.PAUSED, c.PauseSource, S.PAUSED, c.SourcePaused),  # states what it should be: not an error
    (S.PAUSED, c.ResumeSource, S.ACTIVE, c.SourceResumed),
    (S.ACTIVE, c.ResumeSource, S.ACTIVE, c.SourceResumed),
    (S.ACTIVE, c.RemoveSource, S.REMOVED, c.SourceRemoved),
    (S.PAUSED, c.RemoveSource, S.REMOVED, c.SourceRemoved),
])
def test_a_source_can_be_paused_resumed_and_removed(current, command, status, event):
    assert change(current, command) == (status, event)


@pytest.mark.parametrize("command", [c.PauseSource, c.ResumeSource, c.RemoveSource])
def test_a_removed_source_stays_removed_and_an_unknown_one_is_named_so(command):
    with pytest.raises(Rejected, match="source_removed"):
        change(S.REMOVED, command)
    with pytest.raises(Rejected, match="unknown_source"):
        change(None, command)
