-- ref.start_rate_target: the year's 开复工率 targets (e.g. 75% by 06-30, 90% by 12-31), loaded from
-- schemas/reference/start_rate_targets.csv with the other reference data. Grain: one row per target date.
CREATE TABLE IF NOT EXISTS ref.start_rate_target (
    target_date DATE PRIMARY KEY,
    target_rate DOUBLE NOT NULL,  -- a fraction: 0.75 = 75%
    label       VARCHAR NOT NULL  -- e.g. 年中目标
);
