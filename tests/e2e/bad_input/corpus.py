"""The whole hand-written corpus, and — in the full form — every edge text in every text
field of a valid message on every topic (accounted for, outcome not labelled)."""

from schemas import consent
from tests.e2e.bad_input import corpus_content, corpus_others
from tests.e2e.bad_input import factories as f
from tests.e2e.bad_input.contracts import readers
from tests.e2e.bad_input.corpus_envelope import VALID, envelope_cases
from tests.e2e.bad_input.inputs import DEAD_LETTERED, Input, document, from_doc
from tests.e2e.bad_input.mutations import EDGE_TEXT, get_at, paths, set_at
from tests.e2e.bad_input.send import BROKER_LIMIT


class Corpus:
    def __init__(self, tag: str) -> None:
        self.ids = f.Ids(tag)
        self.script_campaign = self.ids.new("campaign")  # created through curation, reported on by metrics
        self.script_item = self.ids.new("item")

    def labelled(self) -> list[Input]:
        ids = self.ids
        return [
            *(case for topic in sorted(readers()) for case in envelope_cases(topic, ids)),
            *corpus_content.curation_commands(ids, self.script_campaign),
            *corpus_others.consent_commands(ids), *corpus_others.distribution_commands(ids),
            *corpus_others.metrics_commands(ids), *corpus_others.directory_events(ids),
            *corpus_others.events_read_by_others(ids, self.script_item, self.script_campaign),
            self.largest_accepted(),
        ]

    def largest_accepted(self) -> Input:
        """As big as the broker takes: its dead letter (the same bytes plus headers) must still go out."""
        value = b'{"pad": "' + b"x" * (BROKER_LIMIT - 64) + b'"}'
        return Input(consent.COMMANDS_TOPIC, value, "oversized", key=b"big", label="largest message the broker takes",
                     expected=DEAD_LETTERED)

    def edge_texts_everywhere(self) -> list[Input]:
        found = []
        for topic in sorted(readers()):
            doc = document(VALID[topic](self.ids))
            for path in paths(doc):
                if path == ("id",) or not isinstance(get_at(doc, path), str):
                    continue
                for edge in EDGE_TEXT:
                    spoilt = document(VALID[topic](self.ids))
                    set_at(spoilt, path, get_at(spoilt, path) + edge if path != ("subject",) else edge)
                    found.append(from_doc(topic, spoilt, "unicode_edge_cases", label=f"edge text in {'.'.join(path)}"))
        return found

