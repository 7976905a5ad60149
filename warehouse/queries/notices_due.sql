-- The notice deliveries a pass tries, oldest first: never tried (pending), or failed fewer than
-- $max_attempts times. A reminder or a day's red lights is tried only on the day it was made (the next
-- morning it would mislead). With $waited, a failed one only once its wait has passed: 5 minutes after
-- the first failure, doubling up to an hour (what starts a retry run; a run started anyway tries them all).
SELECT
    d.notice_id, n.kind, n.unit_code, d.channel, d.recipient, d.attempts, n.subject, n.body, n.robot_text,
    n.attachment
FROM core.notice_delivery AS d
JOIN core.notice AS n USING (notice_id)
WHERE d.recipient <> ''  -- '' pending: recorded while contacts.csv was unusable, resolved by a pass first
  AND (d.status = 'pending' OR (d.status = 'failed' AND d.attempts < $max_attempts))
  AND (n.kind = 'returned' OR n.created_at::DATE = $today)
  AND (NOT $waited OR d.status = 'pending'
       OR d.last_attempt_at + to_minutes(least(5 * 2 ** (d.attempts - 1), 60)::BIGINT) <= $now)
ORDER BY n.created_at, d.notice_id, d.channel, d.recipient;
