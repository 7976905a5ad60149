-- mart.problem_status: every entry of the problem ledger (问题台账) as of each report date — its latest
-- accepted version — with the project's name and unit, whether it is closed (销号) and, when open,
-- whether its deadline (解决时限) has passed. Grain: as_of_date × project × problem description ×
-- reporting unit (the ledger's key).
CREATE OR REPLACE VIEW mart.problem_status AS
SELECT
    q.as_of_date, q.project_code, p.project_name, p.unit_code, u.unit_name, p.responsible_leader,
    q.description, q.source_unit, q.responsible_unit, q.raised_date, q.deadline, q.closed, q.closed_date,
    NOT q.closed AND q.as_of_date > q.deadline AS past_deadline,
    CASE WHEN NOT q.closed AND q.as_of_date > q.deadline THEN q.as_of_date - q.deadline END AS days_past_deadline,
    p.is_campaign, q.report_date
FROM rollup.problem_status AS q
LEFT JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN ref.unit AS u ON u.unit_code = p.unit_code;
