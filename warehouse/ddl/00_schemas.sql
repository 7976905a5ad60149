-- Schemas of the warehouse: ref (reference data), core (accepted history), rollup (daily
-- materialisations), mart (the views downstream tools may rely on).
CREATE SCHEMA IF NOT EXISTS ref;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS rollup;
CREATE SCHEMA IF NOT EXISTS mart;
