-- The contracts' instants lie from 1970 to before 2100 (ADR 0037). An item stored before
-- with a publication or expiry time outside that range could no longer be read back through
-- its contract (every command on it failed, and the publishing job at every pass once it was
-- due). Each such time moves to the nearest end of the range, which means the same here: a
-- time before 1970 is past, one after 2100 never comes. In the columns, in the content and
-- in a pending revision's content alike.
SET LOCAL TimeZone = 'UTC';  -- times written back into the JSON as ...+00:00
UPDATE items i SET
    publish_at = least(greatest(i.publish_at, b.lo), b.hi),
    expire_at = least(greatest(i.expire_at, b.lo), b.hi),
    content = i.content
        || CASE WHEN (i.content ->> 'publish_at')::timestamptz NOT BETWEEN b.lo AND b.hi
                 THEN jsonb_build_object('publish_at', least(greatest((i.content ->> 'publish_at')::timestamptz, b.lo), b.hi)) ELSE '{}' END
        || CASE WHEN (i.content ->> 'expire_at')::timestamptz NOT BETWEEN b.lo AND b.hi
                 THEN jsonb_build_object('expire_at', least(greatest((i.content ->> 'expire_at')::timestamptz, b.lo), b.hi)) ELSE '{}' END,
    revision = CASE WHEN i.revision ? 'content' THEN jsonb_set(i.revision, '{content}', i.revision -> 'content'
        || CASE WHEN (i.revision -> 'content' ->> 'publish_at')::timestamptz NOT BETWEEN b.lo AND b.hi
                 THEN jsonb_build_object('publish_at', least(greatest((i.revision -> 'content' ->> 'publish_at')::timestamptz, b.lo), b.hi)) ELSE '{}' END
        || CASE WHEN (i.revision -> 'content' ->> 'expire_at')::timestamptz NOT BETWEEN b.lo AND b.hi
                 THEN jsonb_build_object('expire_at', least(greatest((i.revision -> 'content' ->> 'expire_at')::timestamptz, b.lo), b.hi)) ELSE '{}' END) ELSE i.revision END
FROM (VALUES (timestamptz '1970-01-01 00:00:00+00', timestamptz '2099-12-31 23:59:59.999999+00')) AS b (lo, hi)
WHERE i.publish_at NOT BETWEEN b.lo AND b.hi OR i.expire_at NOT BETWEEN b.lo AND b.hi
   OR (i.content ->> 'publish_at')::timestamptz NOT BETWEEN b.lo AND b.hi
   OR (i.content ->> 'expire_at')::timestamptz NOT BETWEEN b.lo AND b.hi
   OR (i.revision -> 'content' ->> 'publish_at')::timestamptz NOT BETWEEN b.lo AND b.hi
   OR (i.revision -> 'content' ->> 'expire_at')::timestamptz NOT BETWEEN b.lo AND b.hi;
