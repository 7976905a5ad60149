-- core.project_version: every accepted version of a project's registration.
-- Grain: project × owning unit × report date (a later file for the same report date replaces it).
CREATE TABLE IF NOT EXISTS core.project_version (
    project_code        VARCHAR NOT NULL,
    unit_code           VARCHAR NOT NULL,
    report_date         DATE NOT NULL,
    project_name        VARCHAR NOT NULL,
    builder             VARCHAR,
    total_investment    DOUBLE NOT NULL,  -- 万元
    planned_start_date  DATE,
    construction_state  VARCHAR NOT NULL,
    actual_start_date   DATE,
    responsible_leader  VARCHAR,
    is_campaign         BOOLEAN NOT NULL,
    submission_id       VARCHAR NOT NULL,
    seq                 BIGINT NOT NULL,
    source_row          INTEGER NOT NULL,
    valid_to            DATE,  -- the next version's report date (exclusive); NULL while current
    PRIMARY KEY (project_code, unit_code, report_date)
);
