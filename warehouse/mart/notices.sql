-- mart.notices: every notice diaodu sent or tried to send — a unit's file returned or partly accepted
-- (returned), a reminder to report (催报, reminder: to each unit that had not reported on a working day,
-- and the list to the data office, unit_code OFFICE), a unit's red lights after the day's rollup
-- (red_lights) — and how each delivery went. A failed delivery is retried on later runs; a sent one is
-- never sent again. Grain: one row per notice × channel × recipient.
-- Columns:
-- notice_id: the notice's id, from what it is about: returned-<submission_id>, reminder-<date>-<unit>,
--     red_lights-<date>-<unit>
-- kind: returned | reminder | red_lights
-- unit_code: the unit the notice is for (OFFICE: the data office)
-- channel: mail | robot (a WeCom 企业微信 or DingTalk 钉钉 group robot)
-- recipient: the mail address, or the robot as kind:host…last 4 characters of its key (never the key itself);
--     NULL when the unit has no contact in contacts.csv, or while contacts.csv cannot be used (pending)
-- subject: the mail's subject and the robot message's first line
-- submission_id: the file the notice is about (returned); NULL otherwise
-- status: sent | failed (retried on later runs) | pending (not tried yet; without a recipient: until
--     contacts.csv is fixed) | not_configured (no contact, or no SMTP server set: nothing is sent)
-- attempts: delivery attempts so far
-- created_at: when the notice was recorded (Asia/Shanghai wall time)
-- sent_at: when it was delivered (Asia/Shanghai wall time); NULL until then
-- error: why the last attempt failed, or why nothing is configured; NULL when sent
CREATE OR REPLACE VIEW mart.notices AS
SELECT
    n.notice_id, n.kind, n.unit_code, d.channel, nullif(d.recipient, '') AS recipient, n.subject, n.submission_id,
    d.status, d.attempts, n.created_at, d.sent_at, d.error
FROM core.notice AS n
JOIN core.notice_delivery AS d USING (notice_id);
