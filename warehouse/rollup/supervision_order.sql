-- The 督办单 to issue for the report dates in temp table report_day (all between $first and $last;
-- rollup.supervision already holds them): one per date and unit with a procedure reaching a level that
-- date, unless that date's order for the unit was issued already. Numbered per year after the orders
-- already issued, by issue date then unit; the reply is due $reply_workdays working days later.
WITH fresh AS (
    SELECT DISTINCT s.as_of_date AS issue_date, s.unit_code
    FROM rollup.supervision AS s
    WHERE s.as_of_date BETWEEN $first AND $last AND s.as_of_date IN (SELECT as_of_date FROM report_day)
      AND s.level_since = s.as_of_date
      AND NOT EXISTS (SELECT 1 FROM rollup.supervision_order AS o
                      WHERE o.issue_date = s.as_of_date AND o.unit_code = s.unit_code)
),
numbered AS (
    SELECT
        f.issue_date, f.unit_code, year(f.issue_date) AS order_year,
        coalesce((SELECT max(o.order_seq) FROM rollup.supervision_order AS o WHERE o.order_year = year(f.issue_date)), 0)
            + row_number() OVER (PARTITION BY year(f.issue_date) ORDER BY f.issue_date, f.unit_code) AS order_seq
    FROM fresh AS f
)
SELECT
    $order_prefix || '〔' || CAST(n.order_year AS VARCHAR) || '〕第' || CAST(n.order_seq AS VARCHAR) || '号' AS order_no,
    n.order_year, n.order_seq, n.issue_date, n.unit_code,
    (SELECT min(due.day) FROM ref.calendar AS due
     WHERE due.is_workday AND due.workday_seq = issued.workday_seq + $reply_workdays) AS reply_deadline
FROM numbered AS n
JOIN ref.calendar AS issued ON issued.day = n.issue_date
