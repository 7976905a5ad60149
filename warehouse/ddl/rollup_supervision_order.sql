-- rollup.supervision_order: the 督办单 issued, one per report date with new escalations (a procedure
-- reaching 一级 or 二级 that day) and responsible unit (the project's county or park), numbered per
-- year in order of issue. Issued once: a later re-materialisation of the date neither renumbers nor
-- withdraws it (an order sent is a fact). Grain: one row per order (issue_date × unit_code), checked
-- by the daily_rollup asset's one_row_per_grain check.
CREATE TABLE IF NOT EXISTS rollup.supervision_order (
    order_no       VARCHAR NOT NULL,  -- e.g. 葫调督〔2023〕第5号 (prefix from city.csv)
    order_year     INTEGER NOT NULL,
    order_seq      INTEGER NOT NULL,
    issue_date     DATE NOT NULL,
    unit_code      VARCHAR NOT NULL,
    reply_deadline DATE NOT NULL       -- reply_workdays working days after issue_date
);
