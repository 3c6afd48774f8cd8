DROP INDEX customers_shared_by_unit;
