"""The committed compose file and Kubernetes manifests are exactly what the declaration
generates: editing platform.toml without `python -m deploy.generate` fails here."""

import shutil

from deploy.generate import DEPLOY, render, stale
from schemas.platform import PLATFORM_FILE, load_platform


def test_committed_files_are_what_the_declaration_generates():
    assert stale(render()) == [], "run `python -m deploy.generate` and commit the result"


def test_a_hand_edit_or_a_leftover_file_counts_as_drift(tmp_path):
    for folder in ("compose", "k8s"):
        shutil.copytree(DEPLOY / folder, tmp_path / folder)
    files = render()
    topics = tmp_path / "k8s/base/kafka-topics.yaml"
    topics.write_text(topics.read_text().replace("partitions: 6", "partitions: 12", 1))
    (tmp_path / "k8s/base/forgotten.yaml").write_text("kind: ConfigMap\n")
    assert {str(p) for p in stale(files, tmp_path)} == {"k8s/base/kafka-topics.yaml", "k8s/base/forgotten.yaml"}


def test_a_new_topic_in_the_declaration_changes_the_generated_files(tmp_path):
    declaration = tmp_path / "platform.toml"
    declaration.write_text(PLATFORM_FILE.read_text() + '\n[topics."advocacy.new.events.v1"]\n'
                           'key = "id"\nwriters = ["metrics"]\nreaders = ["curation"]\n')
    changed = {str(p) for p in stale(render(load_platform(declaration)))}
    # curation.yaml: its ScaledObject watches the new consumer group. Compose needs no change:
    # its provisioner reads the declaration inside the image.
    assert changed == {"k8s/base/kafka-topics.yaml", "k8s/base/kafka-users.yaml", "k8s/base/curation.yaml"}
