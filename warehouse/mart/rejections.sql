-- mart.rejections: every finding that returned a row or a whole file to its unit, with the row
-- number as the person sees it (NULL for file-level findings). Grain: one row per finding.
CREATE OR REPLACE VIEW mart.rejections AS
SELECT submission_id, unit_code, sheet, row_number, column_name, value, rule, message
FROM core.finding
WHERE severity = 'error';
