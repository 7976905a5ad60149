-- mart.supervision_order_items: each item of each 督办单 issued on or before a report date, with the
-- reply its unit sent by then (督办回复 sheet; the latest accepted) and its state as of that date:
-- 已销号 (the procedure is 已办结), 已回复 (answered; stays open with the unit's new expected date),
-- 逾期未回复 (no reply and the reply deadline has passed), 待回复 (no reply yet, deadline not passed).
-- Grain: as_of_date × order × project × procedure.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- order_no: the order's number, e.g. 葫调督〔2023〕第5号
-- unit_code: code of the unit the order is addressed to (the project's county or park)
-- issue_date: the report date the order was issued
-- reply_deadline: the working day by which the unit must reply
-- project_code: national investment-project code (项目代码), e.g. 2022-211402-26-03-012345
-- project_name: project name (项目名称) as of the report date
-- procedure: pre-construction procedure (前期手续), e.g. 立项, 能评, 环评
-- procedure_order: the procedure's place in the reference order (ref.procedure.sort_order): order procedures by it
-- approving_unit_code: code of the bureau that approves the procedure (copied the order)
-- level: the level the item was pressed at: 一级 or 二级
-- workdays_overdue_at_issue: working days overdue on the issue date
-- promised_date: the promised completion date it was overdue against
-- status: the procedure's authoritative status (办理状态) as of the report date
-- reply_text: the unit's reply (回复内容); NULL when none yet
-- expected_date: the completion date the reply promises (预计办结日期)
-- replied_on: report date of the submission that carried the reply
-- reply_submission_id: the submission that carried the reply
-- state: 待回复 | 已回复 | 已销号 | 逾期未回复
CREATE OR REPLACE VIEW mart.supervision_order_items AS
SELECT
    d.as_of_date, i.order_no, o.unit_code, o.issue_date, o.reply_deadline, i.project_code, p.project_name,
    i.procedure, rp.sort_order AS procedure_order, i.approving_unit_code, i.level,
    i.workdays_overdue AS workdays_overdue_at_issue, i.promised_date, s.status, r.reply_text, r.expected_date,
    r.report_date AS replied_on, r.submission_id AS reply_submission_id,
    CASE
        WHEN s.status = '已办结' OR NOT s.required THEN '已销号'
        WHEN r.order_no IS NOT NULL THEN '已回复'
        WHEN d.as_of_date > o.reply_deadline THEN '逾期未回复'
        ELSE '待回复'
    END AS state
FROM rollup.rollup_run AS d
JOIN rollup.supervision_order AS o ON o.issue_date <= d.as_of_date
JOIN rollup.supervision_order_item AS i ON i.order_no = o.order_no
LEFT JOIN rollup.procedure_status AS s
  ON s.as_of_date = d.as_of_date AND s.project_code = i.project_code AND s.procedure = i.procedure
LEFT JOIN rollup.project_status AS p ON p.as_of_date = d.as_of_date AND p.project_code = i.project_code
LEFT JOIN ref.procedure AS rp ON rp.procedure = i.procedure
LEFT JOIN core.supervision_reply AS r
  ON r.order_no = i.order_no AND r.project_code = i.project_code AND r.procedure = i.procedure
 AND r.source_unit = o.unit_code
 AND r.report_date <= d.as_of_date AND coalesce(r.valid_to, DATE '9999-12-31') > d.as_of_date;
