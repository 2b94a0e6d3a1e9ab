"""Every consent record carries its sequence (ADR 0019): the proof ledger's number of the
change, given in the change's transaction, so downstream services apply changes in the
order consent made them, whatever its clock says."""

from schemas.consent import ConsentGiven, ConsentWithdrawn, Purpose
from tests.integration.consent.conftest import ConsentRig
from tests.integration.consent.rig import new_advocate, of_type
from tests.integration.rig import NOW, Clock


async def test_a_withdrawal_after_a_clock_step_back_still_comes_later_in_sequence(consent_rig: ConsentRig):
    clock = Clock(NOW)
    advocate = new_advocate()
    async with consent_rig.serving(clock=clock):
        await consent_rig.publish_policies()
        await consent_rig.join(advocate)
        person = consent_rig.person(advocate)
        await person.give(Purpose.RECEIVE_CONTENT)
        clock.advance(minutes=-10)  # an NTP step back, or another replica whose clock is behind
        await person.withdraw(Purpose.RECEIVE_CONTENT)
        records = await consent_rig.events.until(
            lambda rs: of_type(rs, ConsentWithdrawn, advocate_id=advocate), "the withdrawal")
    [given] = of_type(records, ConsentGiven, advocate_id=advocate)
    [withdrawn] = of_type(records, ConsentWithdrawn, advocate_id=advocate)
    assert withdrawn["data"]["changed_at"] < given["data"]["changed_at"]  # the clock says earlier …
    assert withdrawn["consentsequence"] > given["consentsequence"]  # … the order says later
    ledger = await consent_rig.fetch("SELECT seq, entry_hash FROM ledger ORDER BY seq")
    assert (given["consentsequence"], given["data"]["ledger_hash"]) in [tuple(r) for r in ledger]
    assert (withdrawn["consentsequence"], withdrawn["data"]["ledger_hash"]) in [tuple(r) for r in ledger]
    key = f"{advocate}:receive_content"
    states = await consent_rig.state.until(lambda rs: len([k for k, _ in rs if k == key]) == 2, "both states")
    assert [v["consentsequence"] for k, v in states if k == key] == [
        given["consentsequence"], withdrawn["consentsequence"]]
