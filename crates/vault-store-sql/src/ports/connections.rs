//! `ConnectionStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_connections {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::time::OffsetDateTime;
            use $crate::__private::vault_core::connections::{
                ConnectState, Connection, ConnectionStatus, Expected, Lease, StateHash,
            };
            use $crate::__private::vault_core::ids::{CredentialId, OrganizationId};
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::store::{ConnectionStore, StoreError};
            use $crate::ports::SqlStore;
            use $crate::rows::{AuditEventRow, ConnectStateRow, ConnectionRow};
            use $crate::schema::{oauth_connect_states, oauth_connections};
            use $crate::types::{DbId, DbTime};

            impl ConnectionStore for $store {
                async fn get_connection(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                ) -> Result<Option<Connection>, StoreError> {
                    let row: Option<ConnectionRow> = self
                        .fetch_optional(
                            oauth_connections::table
                                .filter(
                                    oauth_connections::organization_id.eq(DbId::from(organization)),
                                )
                                .filter(oauth_connections::credential_id.eq(DbId::from(credential)))
                                .select(ConnectionRow::as_select()),
                        )
                        .await?;
                    row.map(ConnectionRow::decode).transpose()
                }

                async fn connections_of(
                    &self,
                    organization: OrganizationId,
                    credentials: &[CredentialId],
                ) -> Result<Vec<Connection>, StoreError> {
                    if credentials.is_empty() {
                        return Ok(Vec::new());
                    }
                    let ids: Vec<DbId> = credentials.iter().copied().map(DbId::from).collect();
                    let rows: Vec<ConnectionRow> = self
                        .fetch_all(
                            oauth_connections::table
                                .filter(
                                    oauth_connections::organization_id.eq(DbId::from(organization)),
                                )
                                .filter(oauth_connections::credential_id.eq_any(ids))
                                .select(ConnectionRow::as_select())
                                .order(oauth_connections::credential_id.asc()),
                        )
                        .await?;
                    rows.into_iter().map(ConnectionRow::decode).collect()
                }

                async fn save_connection(
                    &self,
                    connection: &Connection,
                    expected: Expected,
                    audit: Option<&AuditEvent>,
                ) -> Result<bool, StoreError> {
                    let row = ConnectionRow::encode(connection)?;
                    let audit = audit.map(AuditEventRow::encode).transpose()?;
                    SqlStore::save_connection_rows(self, row, expected, audit).await
                }

                async fn take_lease(
                    &self,
                    organization: OrganizationId,
                    credential: CredentialId,
                    generation: i64,
                    lease: Lease,
                    now: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let now = DbTime::encode(now, "oauth_connections.lease_until")?;
                    let until = DbTime::encode(lease.until, "oauth_connections.lease_until")?;
                    // One conditional UPDATE: the check and the take are atomic. Of two
                    // racing on PostgreSQL, the second waits for the first's row lock,
                    // then finds the lease taken and matches nothing; SQLite's writer runs
                    // one at a time.
                    let taken = self
                        .execute(
                            diesel::update(
                                oauth_connections::table
                                    .filter(
                                        oauth_connections::organization_id
                                            .eq(DbId::from(organization)),
                                    )
                                    .filter(
                                        oauth_connections::credential_id.eq(DbId::from(credential)),
                                    )
                                    .filter(oauth_connections::generation.eq(generation))
                                    .filter(
                                        oauth_connections::status
                                            .eq(ConnectionStatus::Connected.as_str()),
                                    )
                                    .filter(
                                        oauth_connections::lease_until
                                            .is_null()
                                            .or(oauth_connections::lease_until.lt(now)),
                                    ),
                            )
                            .set((
                                oauth_connections::lease_holder.eq(DbId::from(lease.holder)),
                                oauth_connections::lease_until.eq(until),
                            )),
                        )
                        .await?;
                    Ok(taken == 1)
                }

                async fn insert_connect_state(
                    &self,
                    state: &ConnectState,
                    now: OffsetDateTime,
                ) -> Result<(), StoreError> {
                    let row = ConnectStateRow::encode(state)?;
                    let now = DbTime::encode(now, "oauth_connect_states.expires_at")?;
                    // Flows never finished go as new ones start (by the expires_at
                    // index), so the table holds only the last few minutes' flows.
                    self.execute(diesel::delete(
                        oauth_connect_states::table
                            .filter(oauth_connect_states::expires_at.lt(now)),
                    ))
                    .await?;
                    self.execute(diesel::insert_into(oauth_connect_states::table).values(row))
                        .await?;
                    Ok(())
                }

                async fn take_connect_state(
                    &self,
                    hash: &StateHash,
                ) -> Result<Option<ConnectState>, StoreError> {
                    let hash = hash.0.to_vec();
                    let row: Option<ConnectStateRow> = self
                        .fetch_optional(
                            oauth_connect_states::table
                                .filter(oauth_connect_states::state_hash.eq(hash.clone()))
                                .select(ConnectStateRow::as_select()),
                        )
                        .await?;
                    let Some(row) = row else {
                        return Ok(None);
                    };
                    // Only the caller whose DELETE removed the row gets it: of callers
                    // racing (on any replica), every other one's DELETE finds nothing.
                    let removed = self
                        .execute(diesel::delete(
                            oauth_connect_states::table
                                .filter(oauth_connect_states::state_hash.eq(hash)),
                        ))
                        .await?;
                    if removed == 1 {
                        row.decode().map(Some)
                    } else {
                        Ok(None)
                    }
                }
            }
        };
    };
}
