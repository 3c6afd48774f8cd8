-- The webhook fan-out asks every second for the events not yet fanned out,
-- in order (`published_at IS NULL ORDER BY id`). The index on
-- (published_at, id) could serve it, but the planner, with statistics from
-- when more events were waiting, walked the primary key and filtered every
-- event ever kept (28 ms a poll at 10 000 events). This index holds only
-- the waiting events, in order: it stays tiny and is the plain choice.
-- The older index still serves the pruning of published events by age.
CREATE INDEX ix_outbox_to_fan_out ON outbox (id) WHERE published_at IS NULL;
