-- mart.problem_status: every entry of the problem ledger (问题台账) as of each report date — its latest
-- accepted version — with the project's name and unit, whether it is closed (销号) and, when open,
-- whether its deadline (解决时限) has passed. Grain: as_of_date × project × problem description ×
-- reporting unit (the ledger's key).
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称)
-- unit_code: code of the project's county or park
-- unit_name: the unit's name, e.g. 连山区
-- responsible_leader: the leader who answers for the project (包保领导)
-- description: the problem as written (问题描述)
-- source_unit: code of the unit whose ledger reports the problem
-- responsible_unit: the unit that must solve it (责任单位), as written
-- raised_date: date the problem was raised (提出日期)
-- deadline: deadline to solve it (解决时限)
-- closed: true when closed (销号)
-- closed_date: date it was closed (销号日期)
-- past_deadline: true when open and the report date is after the deadline
-- days_past_deadline: calendar days past the deadline, when past it (else NULL)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
-- report_date: report date of the ledger version that counts
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
