-- mart.open_problems: the problems of the ledger (问题台账) not closed (销号) as of each report date —
-- "问题解决一个、销号一个" — with past_deadline when the deadline (解决时限) is before the report date.
-- The latest accepted version of each entry counts. Grain: as_of_date × project × problem description
-- × reporting unit.
CREATE OR REPLACE VIEW mart.open_problems AS
SELECT
    q.as_of_date, q.project_code, p.project_name, p.unit_code, u.unit_name, p.responsible_leader,
    q.description, q.source_unit, q.responsible_unit, q.raised_date, q.deadline,
    q.as_of_date > q.deadline AS past_deadline,
    CASE WHEN q.as_of_date > q.deadline THEN q.as_of_date - q.deadline END AS days_past_deadline,
    p.is_campaign, q.report_date
FROM rollup.problem_status AS q
LEFT JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN ref.unit AS u ON u.unit_code = p.unit_code
WHERE NOT q.closed;
