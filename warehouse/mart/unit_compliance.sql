-- mart.unit_compliance: for each report date that has a rollup, whether each unit reported (sent an
-- accepted or partly accepted file for that report date) and whether it had to: a unit that did not
-- report on a working day (official calendar with 调休, ref.calendar) is `missed` — 未报送, named in
-- the dispatch and followed up. last_reported_date is its latest report date up to then, and
-- workdays_since_report the working days d with last_reported_date < d <= as_of_date (NULL: it never
-- reported). A file returned whole does not count as reporting. Grain: as_of_date × unit.
-- Columns:
-- as_of_date: report date that has a rollup (Asia/Shanghai)
-- unit_code: the unit's code
-- unit_name: the unit's name, e.g. 连山区
-- kind: unit kind: county | park | bureau
-- is_workday: true when the report date is a working day (official calendar with 调休); NULL when the calendar lacks
--     it
-- files_received: files received from the unit for that report date
-- files_accepted: of them accepted or partly accepted
-- files_returned: of them returned whole
-- last_received_at: when the latest of them arrived (Asia/Shanghai wall time); NULL when none
-- reported: true when it sent an accepted or partly accepted file for that date
-- missed: true when it did not report on a working day (未报送; a day the calendar lacks counts as working)
-- last_reported_date: its latest report date up to as_of_date (NULL: never reported)
-- workdays_since_report: working days d with last_reported_date < d <= as_of_date (NULL: never reported)
CREATE OR REPLACE VIEW mart.unit_compliance AS
WITH sent AS (
    SELECT
        unit_code, report_date,
        count(*)::INTEGER AS files_received,
        count(*) FILTER (WHERE outcome IN ('accepted', 'partial'))::INTEGER AS files_accepted,
        count(*) FILTER (WHERE outcome = 'returned')::INTEGER AS files_returned,
        max(received_at) AS last_received_at
    FROM core.submission
    WHERE report_date IS NOT NULL
    GROUP BY ALL
),
reported AS (SELECT unit_code, report_date FROM sent WHERE files_accepted > 0),
judged AS (
    SELECT
        r.as_of_date, u.unit_code, u.unit_name, u.kind, c.is_workday,
        coalesce(s.files_received, 0) AS files_received,
        coalesce(s.files_accepted, 0) AS files_accepted,
        coalesce(s.files_returned, 0) AS files_returned,
        s.last_received_at
    FROM rollup.rollup_run AS r
    CROSS JOIN ref.unit AS u
    LEFT JOIN ref.calendar AS c ON c.day = r.as_of_date
    LEFT JOIN sent AS s ON s.unit_code = u.unit_code AND s.report_date = r.as_of_date
)
SELECT
    j.as_of_date, j.unit_code, j.unit_name, j.kind, j.is_workday,
    j.files_received, j.files_accepted, j.files_returned, j.last_received_at,
    j.files_accepted > 0 AS reported,
    coalesce(j.is_workday, true) AND j.files_accepted = 0 AS missed,
    last.report_date AS last_reported_date,
    today.workday_seq - since.workday_seq AS workdays_since_report
FROM judged AS j
ASOF LEFT JOIN reported AS last ON last.unit_code = j.unit_code AND last.report_date <= j.as_of_date
LEFT JOIN ref.calendar AS today ON today.day = j.as_of_date
LEFT JOIN ref.calendar AS since ON since.day = last.report_date;
