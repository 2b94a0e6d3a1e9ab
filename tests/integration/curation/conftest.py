"""Fixtures of the curation tests: the rig (tests/integration/curation/curation_rig.py) and a
feed server on loopback."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.curation.config import CurationSettings, CurationTopics
from tests.integration.curation.curation_rig import CurationRig


@pytest.fixture
async def curation(stack, scratch_schema, make_topics) -> CurationRig:
    schema, dsn = await scratch_schema()
    commands, events, people = await make_topics("curation-commands", "curation-events", "directory")
    settings = CurationSettings(
        service=schema, database_url=dsn, kafka_bootstrap_servers=stack.kafka_bootstrap, http_port=1,
        outbox_poll_seconds=0.2, retry_deadline_seconds=30, schedule_seconds=0.1,
        feed_poll_seconds=300, feed_timeout_seconds=5,
    )
    await make_topics(settings.dead_letter_topic, partitions=1, exact=True)
    return CurationRig(settings, CurationTopics(commands=commands, events=events, directory=people), stack.kafka_bootstrap)


@pytest.fixture
def feed_server() -> Iterator[tuple[str, dict[str, tuple[int, bytes]]]]:
    """An HTTP server on 127.0.0.1 serving `documents[path] = (status, body)`; yields (base URL, documents)."""
    documents: dict[str, tuple[int, bytes]] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = documents.get(self.path, (404, b"not found"))
            self.send_response(status)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", documents
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
