-- The items of the 督办单 just issued for the report dates in temp table report_day (orders that have no
-- item yet): the procedures of the order's unit that reached a level on its issue date.
SELECT
    o.order_no, o.issue_date, s.project_code, s.procedure, s.approving_unit_code, s.level, s.workdays_overdue,
    s.promised_date
FROM rollup.supervision_order AS o
JOIN rollup.supervision AS s ON s.as_of_date = o.issue_date AND s.unit_code = o.unit_code
WHERE o.issue_date BETWEEN $first AND $last AND o.issue_date IN (SELECT as_of_date FROM report_day)
  AND s.as_of_date BETWEEN $first AND $last AND s.level_since = s.as_of_date
  AND NOT EXISTS (SELECT 1 FROM rollup.supervision_order_item AS i WHERE i.order_no = o.order_no)
