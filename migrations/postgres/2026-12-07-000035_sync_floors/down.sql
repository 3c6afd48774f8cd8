DROP TABLE sync_floors;
