-- rollup.supervision_order_item: the items of each 督办单, fixed when it was issued: the procedures
-- that reached a level on its issue date, at that level and with that many working days overdue.
-- Grain: one row per order × project × procedure, checked by the daily_rollup asset's
-- one_row_per_grain check.
CREATE TABLE IF NOT EXISTS rollup.supervision_order_item (
    order_no            VARCHAR NOT NULL,
    issue_date          DATE NOT NULL,
    project_code        VARCHAR NOT NULL,
    procedure           VARCHAR NOT NULL,
    approving_unit_code VARCHAR,
    level               VARCHAR NOT NULL,
    workdays_overdue    INTEGER NOT NULL,
    promised_date       DATE NOT NULL
);
