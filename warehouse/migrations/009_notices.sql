-- Version 9: the notice ledger (what was sent to whom, and how it went), as warehouse/ddl/core_notice.sql
-- and core_notice_delivery.sql create it in a new warehouse.
CREATE TABLE IF NOT EXISTS core.notice (
    notice_id     VARCHAR PRIMARY KEY,
    kind          VARCHAR NOT NULL,    -- returned | reminder | red_lights
    unit_code     VARCHAR NOT NULL,    -- the unit it is for; OFFICE for the data office's list
    about_date    DATE,                -- the report date it is about (reminders, red lights)
    submission_id VARCHAR,             -- the file it is about (returned)
    subject       VARCHAR NOT NULL,    -- mail subject; also the robot message's first line
    body          VARCHAR NOT NULL,    -- mail text
    robot_text    VARCHAR NOT NULL,    -- group-robot markdown
    attachment    VARCHAR,             -- relative to the data directory: the annotated copy, when one was written
    created_at    TIMESTAMP NOT NULL   -- Asia/Shanghai wall time
);
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
