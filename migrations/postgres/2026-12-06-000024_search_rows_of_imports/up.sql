-- SQLite only: its FTS5 search tables' triggers stand aside during an
-- import (see the SQLite migration of this version). PostgreSQL's search
-- indexes are plain indexes of the files' table.
SELECT 1;
