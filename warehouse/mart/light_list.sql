-- mart.light_list: the red (红) and yellow (黄) lights the dispatch reads out, one row per required
-- procedure that shows one, with who answers for it: the project's unit and 包保领导 and the bureau
-- that approves the procedure (approval_level says when the province or the ministry decides).
-- workdays_overdue counts working days d with promised_date < d <= as_of_date (0 when the promise
-- passed on a day off); days_overdue counts calendar days. Includes non-campaign projects
-- (is_campaign = false; the rollups count campaign projects only). Grain: as_of_date × project × procedure.
CREATE OR REPLACE VIEW mart.light_list AS
SELECT
    s.as_of_date, s.light, s.project_code, p.project_name, s.unit_code, u.unit_name, p.responsible_leader,
    s.procedure, rp.sort_order AS procedure_order, rp.owner_unit AS approving_unit,
    b.unit_name AS approving_unit_name, s.approval_level, s.status, s.promised_date, s.workdays_left,
    CASE WHEN s.light = '红' THEN greatest(-s.workdays_left, 0) END AS workdays_overdue,
    CASE WHEN s.light = '红' THEN s.as_of_date - s.promised_date END AS days_overdue,
    s.authority, s.is_campaign
FROM rollup.procedure_status AS s
JOIN rollup.project_status AS p USING (as_of_date, project_code)
LEFT JOIN ref.unit AS u ON u.unit_code = s.unit_code
LEFT JOIN ref.procedure AS rp ON rp.procedure = s.procedure
LEFT JOIN ref.unit AS b ON b.unit_code = rp.owner_unit
WHERE s.required AND s.light IN ('红', '黄');
