-- core.notice: every notice diaodu decided to send (a returned file, a 催报 reminder, a unit's red lights),
-- with the text it carries. Grain: one row per notice. notice_id is derived from what the notice is about
-- (returned-<submission_id>, reminder-<date>-<unit>, red_lights-<date>-<unit>), so deciding twice records once.
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
