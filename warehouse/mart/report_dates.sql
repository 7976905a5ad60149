-- mart.report_dates: every report date that has a rollup, the report date before it that has one
-- (what "since the previous report" compares with), whether it is a working day, and whether any light
-- of that date was judged on the Monday–Friday fallback calendar (a year neither the official calendar
-- nor the override file knows: the dispatch must say so). Grain: one row per as_of_date.
-- Columns:
-- as_of_date: report date that has a rollup (Asia/Shanghai)
-- previous_as_of_date: the previous report date that has a rollup (NULL on the first)
-- is_workday: true when the report date is a working day (official calendar with 调休); NULL when the calendar lacks
--     it
-- materialised_at: when its rollup was last materialised (Asia/Shanghai wall time)
-- yellow_workdays: the yellow window: a promised date at most this many working days ahead shows 黄
-- calendar_sources: calendars the lights were judged on, comma-separated: official | override | fallback
-- calendar_fallback: true when some light was judged on the Monday–Friday fallback (the dispatch must say so)
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
