DROP TABLE export_requests;
