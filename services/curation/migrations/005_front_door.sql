-- The front door (#15): who drafted, edited and submitted an item; the pending revision of a
-- published item (a change of its reviewed fields, waiting for a second person); the last
-- send-back's note; a version an approval must name; creation times for lists, newest first;
-- and the audit trail of every editor's and approver's action.

ALTER TABLE items
    ADD COLUMN version      integer NOT NULL DEFAULT 1,
    ADD COLUMN drafted_by   text,
    ADD COLUMN edited_by    text[] NOT NULL DEFAULT '{}',
    ADD COLUMN submitted_by text,
    ADD COLUMN revision     jsonb,  -- {"content": <ItemContent>, "authors": [...]}
    ADD COLUMN sent_back    jsonb,  -- {"note": ..., "by": ..., "revision": bool}
    ADD COLUMN created_at   timestamptz;
-- Items written before this migration: the best time known is their last change.
UPDATE items SET created_at = updated_at;
ALTER TABLE items ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN created_at SET DEFAULT now();
CREATE INDEX items_newest ON items (created_at DESC, id DESC);
CREATE INDEX items_by_status_newest ON items (status, created_at DESC, id DESC);
CREATE INDEX items_awaiting_approval ON items (updated_at DESC, id DESC)
    WHERE status = 'in_review' OR revision IS NOT NULL;

ALTER TABLE campaigns ADD COLUMN created_at timestamptz;
UPDATE campaigns SET created_at = updated_at;
ALTER TABLE campaigns ALTER COLUMN created_at SET NOT NULL, ALTER COLUMN created_at SET DEFAULT now();
CREATE INDEX campaigns_newest ON campaigns (created_at DESC, id DESC);

ALTER TABLE sources ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX sources_newest ON sources (created_at DESC, id DESC);

-- Who did what, when, to which item, campaign or source, through which door; never content.
CREATE TABLE audit (
    entry_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    subject_id text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('api', 'kafka')),
    command_id text NOT NULL
);
CREATE INDEX audit_newest ON audit (at DESC, entry_id DESC);
CREATE INDEX audit_by_subject ON audit (subject_id, at DESC, entry_id DESC);
CREATE INDEX audit_by_actor ON audit (actor, at DESC, entry_id DESC);
