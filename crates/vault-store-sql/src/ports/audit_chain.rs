//! `AuditChainStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it. The
//! chaining itself happens where events are written: in the database on PostgreSQL (a
//! trigger), on the writer thread on SQLite.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_audit_chain {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::diesel::upsert::excluded;
            use $crate::__private::vault_core::audit_chain::{
                AuditChain, AuditChainStore, ChainHead, Checkpoint,
            };
            use $crate::__private::vault_core::logs::AuditEvent;
            use $crate::__private::vault_core::store::StoreError;
            use $crate::ports::SqlStore;
            use $crate::rows::{AuditEventRow, ChainHeadRow, CheckpointRow};
            use $crate::schema::{
                audit_chain_heads, audit_checkpoints, audit_events, audit_sink_cursors,
            };
            use $crate::types::DbId;

            /// The events of `chain`'s organization (of none, for the installation's).
            macro_rules! of_chain {
                ($chain:expr) => {{
                    let select = audit_events::table.into_boxed();
                    match $chain.organization() {
                        Some(organization) => select
                            .filter(audit_events::organization_id.eq(DbId::from(organization))),
                        None => select.filter(audit_events::organization_id.is_null()),
                    }
                }};
            }

            impl AuditChainStore for $store {
                async fn chain_heads(&self) -> Result<Vec<ChainHead>, StoreError> {
                    let rows: Vec<ChainHeadRow> = self
                        .fetch_all(
                            audit_chain_heads::table
                                .select(ChainHeadRow::as_select())
                                .order(audit_chain_heads::chain_key.asc()),
                        )
                        .await?;
                    rows.into_iter().map(ChainHeadRow::decode).collect()
                }

                async fn chain_events(
                    &self,
                    chain: AuditChain,
                    from: u64,
                    limit: usize,
                ) -> Result<Vec<AuditEvent>, StoreError> {
                    let from = i64::try_from(from).unwrap_or(i64::MAX);
                    let rows: Vec<AuditEventRow> = self
                        .fetch_all(
                            of_chain!(chain)
                                .filter(audit_events::chain_seq.ge(from))
                                .select(AuditEventRow::as_select())
                                .order(audit_events::chain_seq.asc())
                                .limit($crate::limit(limit)),
                        )
                        .await?;
                    rows.into_iter().map(AuditEventRow::decode).collect()
                }

                async fn count_unchained(&self, chain: AuditChain) -> Result<u64, StoreError> {
                    let count: Option<i64> = self
                        .fetch_optional(
                            of_chain!(chain)
                                .filter(audit_events::chain_seq.is_null())
                                .count(),
                        )
                        .await?;
                    Ok(count.map_or(0, |c| u64::try_from(c).unwrap_or(0)))
                }

                async fn insert_checkpoint(
                    &self,
                    checkpoint: &Checkpoint,
                ) -> Result<bool, StoreError> {
                    let row = CheckpointRow::encode(checkpoint)?;
                    let written = self
                        .execute(
                            diesel::insert_into(audit_checkpoints::table)
                                .values(row)
                                .on_conflict((audit_checkpoints::chain_key, audit_checkpoints::seq))
                                .do_nothing(),
                        )
                        .await?;
                    Ok(written == 1)
                }

                async fn list_checkpoints(
                    &self,
                    chain: AuditChain,
                    before: Option<u64>,
                    limit: usize,
                ) -> Result<Vec<Checkpoint>, StoreError> {
                    let mut select = audit_checkpoints::table
                        .filter(audit_checkpoints::chain_key.eq(DbId::from(chain.key())))
                        .select(CheckpointRow::as_select())
                        .into_boxed();
                    if let Some(before) = before {
                        let before = i64::try_from(before).unwrap_or(i64::MAX);
                        select = select.filter(audit_checkpoints::seq.lt(before));
                    }
                    let rows: Vec<CheckpointRow> = self
                        .fetch_all(
                            select
                                .order(audit_checkpoints::seq.desc())
                                .limit($crate::limit(limit)),
                        )
                        .await?;
                    rows.into_iter().map(CheckpointRow::decode).collect()
                }

                async fn sink_cursors(
                    &self,
                    sink: &str,
                ) -> Result<Vec<(AuditChain, u64)>, StoreError> {
                    let rows: Vec<(DbId, i64)> = self
                        .fetch_all(
                            audit_sink_cursors::table
                                .filter(audit_sink_cursors::sink.eq(sink))
                                .select((audit_sink_cursors::chain_key, audit_sink_cursors::seq))
                                .order(audit_sink_cursors::chain_key.asc()),
                        )
                        .await?;
                    rows.into_iter()
                        .map(|(key, seq)| {
                            Ok((
                                AuditChain::from_key(key.decode("audit_sink_cursors.chain_key")?),
                                u64::try_from(seq).map_err(|_| {
                                    $crate::columns::undecodable("audit_sink_cursors.seq")
                                })?,
                            ))
                        })
                        .collect()
                }

                async fn save_sink_cursor(
                    &self,
                    sink: &str,
                    chain: AuditChain,
                    seq: u64,
                ) -> Result<(), StoreError> {
                    let seq = i64::try_from(seq)
                        .map_err(|_| $crate::columns::unencodable("audit_sink_cursors.seq"))?;
                    // One statement, so two savers racing (a sink's replicas, or a retry
                    // overtaking) leave the higher number whatever their order: the WHERE
                    // of DO UPDATE leaves a row holding a higher (or the same) number as it
                    // is, and the cursor never moves back.
                    let upsert = diesel::insert_into(audit_sink_cursors::table)
                        .values((
                            audit_sink_cursors::sink.eq(sink.to_owned()),
                            audit_sink_cursors::chain_key.eq(DbId::from(chain.key())),
                            audit_sink_cursors::seq.eq(seq),
                        ))
                        .on_conflict((audit_sink_cursors::sink, audit_sink_cursors::chain_key))
                        .do_update()
                        .set(audit_sink_cursors::seq.eq(excluded(audit_sink_cursors::seq)));
                    // `FilterDsl` by name: the insert statement has no `QueryDsl::filter`.
                    self.execute(diesel::query_dsl::methods::FilterDsl::filter(
                        upsert,
                        audit_sink_cursors::seq.lt(excluded(audit_sink_cursors::seq)),
                    ))
                    .await?;
                    Ok(())
                }

                async fn cut_chain(&self, checkpoint: &Checkpoint) -> Result<u64, StoreError> {
                    SqlStore::cut_chain_rows(self, CheckpointRow::encode(checkpoint)?).await
                }
            }
        };
    };
}
