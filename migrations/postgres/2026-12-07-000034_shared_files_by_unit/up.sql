-- A list of another branch's unit shows only its shared files (the rest
-- are out of sight), and says so (`customers.shared = TRUE`; clientele_
-- persistence::list_routes::beyond_sight): this index finds those few
-- without reading every file of the unit (a manager's page of another
-- branch's unit read 200 000 files of the unit's index to show none).
CREATE INDEX customers_shared_by_unit ON customers (owner_unit_id, secrecy_level) WHERE shared = TRUE;
