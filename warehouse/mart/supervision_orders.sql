-- mart.supervision_orders: each 督办单 issued on or before a report date, with its items counted by state
-- as of that date (mart.supervision_order_items). overdue: some item is 逾期未回复 (the order is named
-- in the briefing's 点名); open: some item is not yet 已销号. Grain: as_of_date × order.
-- Columns:
-- as_of_date: report date the row is as of (Asia/Shanghai)
-- order_no: the order's number, e.g. 葫调督〔2023〕第5号 (prefix from schemas/reference/city.csv)
-- order_year: the year it is numbered in
-- order_seq: its number within the year (in order of issue)
-- unit_code: code of the unit the order is addressed to (the project's county or park)
-- unit_name: the unit's name, e.g. 连山区
-- issue_date: the report date the order was issued
-- reply_deadline: the working day by which the unit must reply (reply_workdays after issue_date, default 2)
-- items: items on the order
-- awaiting_items: items 待回复
-- replied_items: items 已回复
-- closed_items: items 已销号
-- overdue_items: items 逾期未回复
-- overdue: true when some item is 逾期未回复
-- open: true while some item is not 已销号
CREATE OR REPLACE VIEW mart.supervision_orders AS
SELECT
    i.as_of_date, i.order_no, o.order_year, o.order_seq, i.unit_code, u.unit_name, i.issue_date, i.reply_deadline,
    count(*)::INTEGER AS items,
    count(*) FILTER (WHERE i.state = '待回复')::INTEGER AS awaiting_items,
    count(*) FILTER (WHERE i.state = '已回复')::INTEGER AS replied_items,
    count(*) FILTER (WHERE i.state = '已销号')::INTEGER AS closed_items,
    count(*) FILTER (WHERE i.state = '逾期未回复')::INTEGER AS overdue_items,
    bool_or(i.state = '逾期未回复') AS overdue,
    bool_or(i.state <> '已销号') AS open
FROM mart.supervision_order_items AS i
JOIN rollup.supervision_order AS o USING (order_no)
LEFT JOIN ref.unit AS u ON u.unit_code = i.unit_code
GROUP BY ALL;
