-- The rows of rollup.procedure_status for the report dates in temp table report_day (all between
-- $first and $last; rollup.project_status already holds those dates). For each date and registered
-- project × procedure: the project unit's report and the owning bureau's report valid on that date;
-- the bureau's is authoritative. Lights against the promised date on the working-day calendar,
-- yellow within $yellow_workdays working days.
-- `valid` is inlined into each reader, so each applies its source_role filter before the range join.
WITH valid AS NOT MATERIALIZED (
    SELECT
        d.as_of_date, v.project_code, v.procedure, v.source_unit, v.source_role, v.required, v.status,
        v.approval_level, v.promised_date, v.accepted_date, v.completed_date, v.approval_number,
        v.submission_id, v.source_row
    FROM core.procedure_version AS v
    JOIN report_day AS d
      ON v.report_date <= d.as_of_date AND coalesce(v.valid_to, DATE '9999-12-31') > d.as_of_date
    WHERE v.report_date <= $last AND coalesce(v.valid_to, DATE '9999-12-31') > $first
),
unit_report AS (  -- what the project's own county or park says
    SELECT p.unit_code, p.is_campaign, u.*
    FROM valid AS u
    JOIN rollup.project_status AS p
      ON p.as_of_date = u.as_of_date AND p.project_code = u.project_code AND p.unit_code = u.source_unit
    WHERE u.source_role = 'unit' AND p.as_of_date BETWEEN $first AND $last
),
bureau_report AS (  -- what the bureau owning the procedure says
    SELECT p.unit_code, p.is_campaign, b.*
    FROM valid AS b
    JOIN ref.procedure AS owner ON owner.procedure = b.procedure AND owner.owner_unit = b.source_unit
    JOIN rollup.project_status AS p ON p.as_of_date = b.as_of_date AND p.project_code = b.project_code
    WHERE b.source_role = 'bureau' AND p.as_of_date BETWEEN $first AND $last
),
judged AS (
    SELECT
        coalesce(b.as_of_date, u.as_of_date) AS as_of_date,
        coalesce(b.project_code, u.project_code) AS project_code,
        coalesce(b.unit_code, u.unit_code) AS unit_code,
        coalesce(b.procedure, u.procedure) AS procedure,
        coalesce(b.is_campaign, u.is_campaign) AS is_campaign,
        b.project_code IS NOT NULL AS by_bureau,
        if(by_bureau, b.required, u.required) AS required,
        if(by_bureau, b.status, u.status) AS status,
        if(by_bureau, b.approval_level, u.approval_level) AS approval_level,
        -- The bureau's promise counts; the county's fills in when the bureau gave none.
        coalesce(b.promised_date, u.promised_date) AS promised_date,
        if(by_bureau, b.accepted_date, u.accepted_date) AS accepted_date,
        if(by_bureau, b.completed_date, u.completed_date) AS completed_date,
        if(by_bureau, b.approval_number, u.approval_number) AS approval_number,
        if(by_bureau, b.submission_id, u.submission_id) AS submission_id,
        if(by_bureau, b.source_row, u.source_row) AS source_row,
        u.status AS unit_status, u.completed_date AS unit_completed_date,
        b.source_unit AS bureau_unit, b.status AS bureau_status, b.completed_date AS bureau_completed_date
    FROM unit_report AS u
    FULL JOIN bureau_report AS b
      ON b.as_of_date = u.as_of_date AND b.project_code = u.project_code AND b.procedure = u.procedure
     AND b.unit_code = u.unit_code  -- each registration's own pair
)
SELECT
    j.as_of_date, j.project_code, j.unit_code, j.procedure, j.is_campaign, j.required, j.status,
    j.approval_level, j.promised_date, j.accepted_date, j.completed_date, j.approval_number,
    CASE WHEN j.promised_date IS NOT NULL THEN promised.workday_seq - today.workday_seq END AS workdays_left,
    CASE
        WHEN NOT j.required THEN NULL
        WHEN j.status = '已办结' THEN '绿'
        WHEN j.promised_date IS NULL THEN NULL
        WHEN j.as_of_date > j.promised_date THEN '红'
        WHEN promised.workday_seq - today.workday_seq <= $yellow_workdays THEN '黄'
    END AS light,
    j.required AND j.status = '已办结' AND j.completed_date > j.promised_date AS overdue_completion,
    if(j.by_bureau, 'bureau', 'unit') AS authority, j.submission_id, j.source_row,
    j.unit_status, j.unit_completed_date, j.bureau_unit, j.bureau_status, j.bureau_completed_date
FROM judged AS j
LEFT JOIN ref.calendar AS today ON today.day = j.as_of_date
LEFT JOIN ref.calendar AS promised ON promised.day = j.promised_date
