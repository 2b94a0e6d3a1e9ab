-- Expiry also claims scheduled items (their expire_at can pass before they are published),
-- so the expiry query filters status IN ('scheduled', 'published'). The partial index of
-- 001 covered 'published' only, which that filter does not imply: the planner could not
-- use it. 001 may already be applied, so the index is replaced here.
DROP INDEX items_due_to_expire;
CREATE INDEX items_due_to_expire ON items (expire_at) WHERE status IN ('scheduled', 'published');
