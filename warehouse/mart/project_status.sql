-- mart.project_status: every registered project as of each report date (its latest accepted
-- registration), with its unit's name. Includes non-campaign projects (is_campaign = false).
-- Grain: as_of_date × project.
CREATE OR REPLACE VIEW mart.project_status AS
SELECT
    p.as_of_date, p.project_code, p.project_name, p.unit_code, u.unit_name, p.total_investment,
    p.planned_start_date, p.construction_state, p.actual_start_date, p.responsible_leader, p.is_campaign
FROM rollup.project_status AS p
LEFT JOIN ref.unit AS u USING (unit_code);
