-- core.procedure_version: every accepted report of a project's procedure, from a county/park
-- (source_role 'unit') or from the approving bureau (source_role 'bureau').
-- Grain: project × procedure × reporting unit × report date.
CREATE TABLE IF NOT EXISTS core.procedure_version (
    project_code    VARCHAR NOT NULL,
    procedure       VARCHAR NOT NULL,
    source_unit     VARCHAR NOT NULL,
    source_role     VARCHAR NOT NULL,
    report_date     DATE NOT NULL,
    required        BOOLEAN NOT NULL,
    status          VARCHAR,
    approval_level  VARCHAR,
    promised_date   DATE,
    accepted_date   DATE,
    completed_date  DATE,
    approval_number VARCHAR,
    approval_mode   VARCHAR,
    note            VARCHAR,  -- 备注: why a done procedure went back, among others
    submission_id   VARCHAR NOT NULL,
    seq             BIGINT NOT NULL,
    source_row      INTEGER NOT NULL,
    valid_to        DATE,  -- the next version's report date (exclusive); NULL while current
    PRIMARY KEY (project_code, procedure, source_unit, report_date)
);
