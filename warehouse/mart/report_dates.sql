-- mart.report_dates: every report date that has a rollup, the report date before it that has one
-- (what "since the previous report" compares with), whether it is a working day, and whether any light
-- of that date was judged on the Monday–Friday fallback calendar (a year neither the official calendar
-- nor the override file knows: the dispatch must say so). Grain: one row per as_of_date.
CREATE OR REPLACE VIEW mart.report_dates AS
SELECT
    r.as_of_date,
    lag(r.as_of_date) OVER (ORDER BY r.as_of_date) AS previous_as_of_date,
    c.is_workday,
    r.materialised_at,
    r.yellow_workdays,
    r.calendar_sources,
    list_contains(string_split(r.calendar_sources, ','), 'fallback') AS calendar_fallback
FROM rollup.rollup_run AS r
LEFT JOIN ref.calendar AS c ON c.day = r.as_of_date;
