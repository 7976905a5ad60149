-- The rows of rollup.procedure_status for one report date ($as_of_date). For each registered
-- project × procedure: the project unit's latest report and the owning bureau's latest report
-- (each as of $as_of_date); the bureau's is authoritative. Lights against the promised date on
-- the working-day calendar, yellow within $yellow_workdays working days.
WITH latest AS (
    SELECT v.*
    FROM core.procedure_version AS v
    WHERE v.report_date <= $as_of_date AND (v.valid_to IS NULL OR v.valid_to > $as_of_date)
),
reported AS (SELECT DISTINCT project_code, procedure FROM latest),
paired AS (
    SELECT
        p.project_code, p.unit_code, p.is_campaign, r.procedure,
        CASE WHEN u.project_code IS NOT NULL THEN u END AS unit_report,
        CASE WHEN b.project_code IS NOT NULL THEN b END AS bureau_report,
        CASE WHEN b.project_code IS NOT NULL THEN b ELSE u END AS authoritative,
        CASE WHEN b.project_code IS NOT NULL THEN 'bureau' ELSE 'unit' END AS authority
    FROM rollup.project_status AS p
    JOIN reported AS r ON r.project_code = p.project_code
    LEFT JOIN latest AS u
        ON u.project_code = r.project_code AND u.procedure = r.procedure
       AND u.source_role = 'unit' AND u.source_unit = p.unit_code
    LEFT JOIN ref.procedure AS owner ON owner.procedure = r.procedure
    LEFT JOIN latest AS b
        ON b.project_code = r.project_code AND b.procedure = r.procedure AND b.source_role = 'bureau'
       AND b.source_unit = owner.owner_unit
    WHERE p.as_of_date = $as_of_date AND (u.project_code IS NOT NULL OR b.project_code IS NOT NULL)
),
judged AS (
    SELECT
        paired.*,
        authoritative.required AS required,
        authoritative.status AS status,
        -- The bureau's promise counts; the county's fills in when the bureau gave none.
        coalesce(authoritative.promised_date, unit_report.promised_date) AS promised_date,
        authoritative.completed_date AS completed_date
    FROM paired
)
SELECT
    $as_of_date, j.project_code, j.unit_code, j.procedure, j.is_campaign, j.required, j.status,
    j.authoritative.approval_level, j.promised_date, j.authoritative.accepted_date, j.completed_date,
    j.authoritative.approval_number,
    CASE WHEN j.promised_date IS NOT NULL THEN promised.workday_seq - today.workday_seq END AS workdays_left,
    CASE
        WHEN NOT j.required THEN NULL
        WHEN j.status = '已办结' THEN '绿'
        WHEN j.promised_date IS NULL THEN NULL
        WHEN $as_of_date > j.promised_date THEN '红'
        WHEN promised.workday_seq - today.workday_seq <= $yellow_workdays THEN '黄'
    END AS light,
    j.required AND j.status = '已办结' AND j.completed_date > j.promised_date AS overdue_completion,
    j.authority, j.authoritative.submission_id, j.authoritative.source_row,
    j.unit_report.status, j.unit_report.completed_date,
    j.bureau_report.source_unit, j.bureau_report.status, j.bureau_report.completed_date
FROM judged AS j
LEFT JOIN ref.calendar AS today ON today.day = $as_of_date
LEFT JOIN ref.calendar AS promised ON promised.day = j.promised_date
