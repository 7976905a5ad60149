-- core.supervision_reply: every accepted reply (督办回复 sheet) to an item of a 督办单, from the unit
-- the order was addressed to. Grain: order × project × procedure × reporting unit × report date.
CREATE TABLE IF NOT EXISTS core.supervision_reply (
    order_no      VARCHAR NOT NULL,  -- as issued, e.g. 葫调督〔2023〕第5号
    project_code  VARCHAR NOT NULL,
    procedure     VARCHAR NOT NULL,
    source_unit   VARCHAR NOT NULL,
    report_date   DATE NOT NULL,
    reply_text    VARCHAR NOT NULL,
    expected_date DATE,              -- 预计办结日期: the new date the unit promises
    submission_id VARCHAR NOT NULL,
    seq           BIGINT NOT NULL,
    source_row    INTEGER NOT NULL,
    valid_to      DATE,              -- the next version's report date (exclusive); NULL while current
    PRIMARY KEY (order_no, project_code, procedure, source_unit, report_date)
);
