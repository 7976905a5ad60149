-- The rows of rollup.rollup_run for the report dates in temp table report_day, written after their
-- rollups: when, with which yellow window, on which calendar sources (the days from the report date
-- to its furthest open promise), and the last submission merged.
SELECT
    d.as_of_date, $materialised_at AS materialised_at, $yellow_workdays AS yellow_workdays,
    coalesce(string_agg(DISTINCT c.source, ',' ORDER BY c.source), '') AS calendar_sources,
    (SELECT max(seq) FROM core.submission) AS submissions_seq
FROM (
    SELECT r.as_of_date,
           max(s.promised_date) FILTER (WHERE s.required AND s.status IS DISTINCT FROM '已办结') AS horizon
    FROM report_day AS r
    LEFT JOIN rollup.procedure_status AS s ON s.as_of_date = r.as_of_date AND s.as_of_date BETWEEN $first AND $last
    GROUP BY r.as_of_date
) AS d
LEFT JOIN ref.calendar AS c ON c.day BETWEEN d.as_of_date AND greatest(d.as_of_date, coalesce(d.horizon, d.as_of_date))
GROUP BY d.as_of_date
