//! The transactional outbox: every state change leaves an event row in the
//! same transaction, for webhook delivery to pick up.

use crate::error::Result;
use crate::schema::outbox;
use crate::{DbConn, Timestamp};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: String,
    pub created_at: Timestamp,
    pub topic: String,
    pub entity_type: String,
    pub entity_id: String,
    pub payload: String,
    pub published_at: Option<Timestamp>,
}

/// Events about one entity, oldest first.
pub fn for_entity(conn: &mut DbConn, entity_type: &str, entity_id: &str) -> Result<Vec<OutboxRow>> {
    Ok(outbox::table
        .filter(outbox::entity_type.eq(entity_type))
        .filter(outbox::entity_id.eq(entity_id))
        .order(outbox::id.asc())
        .select(OutboxRow::as_select())
        .load(conn)?)
}
