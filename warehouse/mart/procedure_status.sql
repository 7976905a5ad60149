-- mart.procedure_status: every procedure of every registered project as of each report date,
-- with the authoritative status and its light (亮灯). Grain: as_of_date × project × procedure.
-- Includes non-campaign projects (is_campaign = false); the rollups count campaign projects only.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- unit_code: code of the project's owning county or park
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- required: true when the project must obtain this procedure (应办)
-- status: authoritative status (办理状态): 待办 | 正办理 | 已办结
-- promised_date: promised completion date (承诺办结日期)
-- completed_date: completion date (办结日期)
-- light: light (亮灯): 绿 done, 黄 not done and the promised date within the yellow window of working days, 红 not done
--     and the promised date passed; NULL when not required or no promised date
-- overdue_completion: true when done (已办结) after its promised date (逾期办结)
-- is_campaign: true for a 百日攻坚 campaign project (the rollups count only these)
-- approval_level: who decides (办理层级): 国家 | 省 | 市 | 县; NULL when not reported
-- accepted_date: date the application was accepted (受理日期)
-- approval_number: approval document number (批复文号)
-- workdays_left: working days d with as_of_date < d <= promised_date (0 or negative once it has passed); NULL
--     without a promised date
-- authority: whose record the status is: 'bureau' (the approving bureau's report, which wins) or 'unit' (the
--     project's county or park)
-- source_submission_id: the submission whose record is counted (see mart.lineage)
CREATE OR REPLACE VIEW mart.procedure_status AS
SELECT
    as_of_date, project_code, unit_code, procedure, required, status, promised_date, completed_date,
    light, overdue_completion, is_campaign, approval_level, accepted_date, approval_number, workdays_left,
    authority, source_submission_id
FROM rollup.procedure_status;
