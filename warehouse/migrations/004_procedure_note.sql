-- Version 4: procedure reports keep the unit's note (备注), which must explain a procedure that
-- goes back from 已办结.
ALTER TABLE core.procedure_version ADD COLUMN IF NOT EXISTS note VARCHAR;
