-- rollup.supervision: each escalated red procedure (督办) of a campaign project as of a report date: red
-- for at least the 一级 threshold of working days (city.csv level1_workdays, default 3), 二级 from
-- level2_workdays (default 10), counted as mart.light_list.workdays_overdue counts. level_since is the
-- first report date of this level against this promised date. Grain: as_of_date × project × procedure,
-- checked by the daily_rollup asset's one_row_per_grain check. Rewritten whole for a range of dates.
CREATE TABLE IF NOT EXISTS rollup.supervision (
    as_of_date          DATE NOT NULL,
    project_code        VARCHAR NOT NULL,
    procedure           VARCHAR NOT NULL,
    unit_code           VARCHAR NOT NULL,
    approving_unit_code VARCHAR,
    responsible_leader  VARCHAR,
    promised_date       DATE NOT NULL,
    workdays_overdue    INTEGER NOT NULL,
    level               VARCHAR NOT NULL,  -- 一级 | 二级
    level_since         DATE NOT NULL
);
