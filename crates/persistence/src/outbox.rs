//! The transactional outbox: every state change leaves an event row in the
//! same transaction, for webhook delivery to pick up.

use crate::error::Result;
use crate::schema::outbox;
use crate::{DbConn, Timestamp};
use diesel::prelude::*;

/// Inserted with every column bound, an empty one as NULL: diesel keeps
/// such an insert prepared, while with `DEFAULT` for empty columns its SQL
/// would vary and PostgreSQL would parse and plan it every time.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
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
