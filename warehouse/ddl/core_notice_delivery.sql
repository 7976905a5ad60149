-- core.notice_delivery: each notice's delivery to each recipient, and how it went. Grain: one row per
-- notice × channel × recipient (recipient '' when the unit has none: status not_configured).
CREATE TABLE IF NOT EXISTS core.notice_delivery (
    notice_id       VARCHAR NOT NULL,
    channel         VARCHAR NOT NULL,  -- mail | robot
    recipient       VARCHAR NOT NULL,  -- a mail address, or a robot's label (kind:host…last 4 of its key; never the key)
    status          VARCHAR NOT NULL,  -- pending | sent | failed | not_configured
    attempts        INTEGER NOT NULL,
    last_attempt_at TIMESTAMP,
    sent_at         TIMESTAMP,
    error           VARCHAR,
    PRIMARY KEY (notice_id, channel, recipient)
);
