-- The procedures of one submission ($submission_id) on which the other side disagrees: for a
-- county's row, the owning bureau's latest report as of the same report date; for a bureau's row,
-- the project unit's; with the project's name as registered by that report date (else its latest
-- registration), so a notice can name it. Grain: one row per disagreeing procedure of the submission.
WITH mine AS (
    SELECT * FROM core.procedure_version WHERE submission_id = $submission_id
),
theirs AS (
    SELECT m.source_row AS my_row, m.report_date, m.project_code, m.procedure, m.status AS my_status,
           m.completed_date AS my_completed_date, o.source_unit AS other_unit, o.status AS other_status,
           o.completed_date AS other_completed_date
    FROM mine AS m
    JOIN core.procedure_version AS o
      ON o.project_code = m.project_code AND o.procedure = m.procedure
     AND o.source_role <> m.source_role AND o.report_date <= m.report_date
    QUALIFY row_number() OVER (PARTITION BY m.project_code, m.procedure ORDER BY o.report_date DESC, o.seq DESC) = 1
)
-- The same rule as mart.conflicts: both sides gave a status, and status or completion date differ.
SELECT t.* EXCLUDE (report_date),
       (SELECT p.project_name FROM core.project_version AS p WHERE p.project_code = t.project_code
        ORDER BY p.report_date <= t.report_date DESC, p.report_date DESC, p.seq DESC LIMIT 1) AS project_name
FROM theirs AS t
WHERE my_status IS NOT NULL AND other_status IS NOT NULL
  AND (my_status IS DISTINCT FROM other_status OR my_completed_date IS DISTINCT FROM other_completed_date)
ORDER BY my_row
