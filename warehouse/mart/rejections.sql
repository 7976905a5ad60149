-- mart.rejections: every finding that returned a row or a whole file to its unit, with the row
-- number as the person sees it (NULL for file-level findings). Grain: one row per finding.
-- Columns:
-- submission_id: the submission (received file) it came from, see mart.submissions
-- unit_code: code of the unit that sent the file
-- sheet: the contract's sheet the finding is about (项目 | 手续 | 问题); NULL for some file-level findings
-- row_number: the spreadsheet row as the person sees it; NULL for a file-level finding
-- column_name: the column's header as the unit wrote it
-- value: the cell's value as written
-- rule: rule code, e.g. cell.date (schemas/reference/rules.csv)
-- message: the finding as the unit is told it (Chinese)
CREATE OR REPLACE VIEW mart.rejections AS
SELECT submission_id, unit_code, sheet, row_number, column_name, value, rule, message
FROM core.finding
WHERE severity = 'error';
