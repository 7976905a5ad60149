-- core.problem_version: every accepted version of a problem-ledger entry (问题台账).
-- Grain: project × problem description × reporting unit × report date.
CREATE TABLE IF NOT EXISTS core.problem_version (
    project_code     VARCHAR NOT NULL,
    description      VARCHAR NOT NULL,
    source_unit      VARCHAR NOT NULL,
    report_date      DATE NOT NULL,
    responsible_unit VARCHAR,
    raised_date      DATE,
    deadline         DATE,
    closed           BOOLEAN NOT NULL,
    closed_date      DATE,
    submission_id    VARCHAR NOT NULL,
    seq              BIGINT NOT NULL,
    source_row       INTEGER NOT NULL,
    valid_to         DATE,  -- the next version's report date (exclusive); NULL while current
    PRIMARY KEY (project_code, description, source_unit, report_date)
);
