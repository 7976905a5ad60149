-- Version 5: every version carries the report date it stops being valid (the next version's), so
-- "the state as of D" is a range filter, not a window over the whole history.
ALTER TABLE core.project_version ADD COLUMN IF NOT EXISTS valid_to DATE;
ALTER TABLE core.procedure_version ADD COLUMN IF NOT EXISTS valid_to DATE;
ALTER TABLE core.problem_version ADD COLUMN IF NOT EXISTS valid_to DATE;
UPDATE core.project_version AS v SET valid_to = n.next_date
FROM (SELECT project_code, unit_code, report_date,
             lead(report_date) OVER (PARTITION BY project_code, unit_code ORDER BY report_date) AS next_date
      FROM core.project_version) AS n
WHERE v.project_code = n.project_code AND v.unit_code = n.unit_code AND v.report_date = n.report_date;
UPDATE core.procedure_version AS v SET valid_to = n.next_date
FROM (SELECT project_code, procedure, source_unit, report_date,
             lead(report_date) OVER (PARTITION BY project_code, procedure, source_unit ORDER BY report_date) AS next_date
      FROM core.procedure_version) AS n
WHERE v.project_code = n.project_code AND v.procedure = n.procedure AND v.source_unit = n.source_unit
  AND v.report_date = n.report_date;
UPDATE core.problem_version AS v SET valid_to = n.next_date
FROM (SELECT project_code, description, source_unit, report_date,
             lead(report_date) OVER (PARTITION BY project_code, description, source_unit ORDER BY report_date) AS next_date
      FROM core.problem_version) AS n
WHERE v.project_code = n.project_code AND v.description = n.description AND v.source_unit = n.source_unit
  AND v.report_date = n.report_date;
