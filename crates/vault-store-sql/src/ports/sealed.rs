//! `SealedStore`, as [`sql_store_ports!`](crate::sql_store_ports) implements it.

/// Part of [`sql_store_ports!`](crate::sql_store_ports).
#[doc(hidden)]
#[macro_export]
macro_rules! __sql_store_sealed {
    ($store:ty) => {
        const _: () = {
            use $crate::__private::diesel;
            use $crate::__private::diesel::prelude::*;
            use $crate::__private::vault_core::cipher::{KeyId, SealedBlob};
            use $crate::__private::vault_core::credential::Credential;
            use $crate::__private::vault_core::ids::OrganizationId;
            use $crate::__private::vault_core::store::{SealedStore, StoreError};
            use $crate::__private::vault_core::versions::{
                KeyUsage, SealedKind, SealedRef, SealedRow,
            };
            use $crate::ports::cursor_of_another_kind;
            use $crate::rows::{
                KeyCountRow, MetaRow, SealedConnectionRow, SealedCredentialRow, SealedVersionRow,
                SealedWebhookRow,
            };
            use $crate::schema::{
                credential_versions, credentials, oauth_connections, vault_meta, webhooks,
            };
            use $crate::statements::{KEY_USAGE_SQL, ORGANIZATION_KEY_USAGE_SQL};
            use $crate::types::{DbId, Id};

            impl SealedStore for $store {
                async fn key_usage(&self) -> Result<Vec<KeyUsage>, StoreError> {
                    let rows: Vec<KeyCountRow> =
                        self.fetch_all(diesel::sql_query(KEY_USAGE_SQL)).await?;
                    KeyCountRow::fold(rows)
                }

                async fn organization_key_usage(
                    &self,
                    organization: OrganizationId,
                ) -> Result<Vec<KeyUsage>, StoreError> {
                    let rows: Vec<KeyCountRow> = self
                        .fetch_all(
                            diesel::sql_query(ORGANIZATION_KEY_USAGE_SQL)
                                .bind::<Id, _>(DbId::from(organization)),
                        )
                        .await?;
                    KeyCountRow::fold(rows)
                }

                async fn sealed_batch(
                    &self,
                    kind: SealedKind,
                    not_under: &KeyId,
                    after: Option<&SealedRef>,
                    limit: usize,
                ) -> Result<Vec<SealedRow>, StoreError> {
                    let not_under = not_under.as_str().to_owned();
                    let limit = $crate::limit(limit);
                    match kind {
                        SealedKind::Meta => {
                            let mut select = vault_meta::table
                                .filter(vault_meta::key_id.ne(not_under))
                                .select(MetaRow::as_select())
                                .into_boxed();
                            match after {
                                None => {}
                                Some(SealedRef::Meta(name)) => {
                                    select = select.filter(vault_meta::name.gt(name.clone()));
                                }
                                Some(_) => return Err(cursor_of_another_kind()),
                            }
                            let rows: Vec<MetaRow> = self
                                .fetch_all(select.order(vault_meta::name.asc()).limit(limit))
                                .await?;
                            Ok(rows.into_iter().map(MetaRow::into_sealed_row).collect())
                        }
                        SealedKind::Credential => {
                            let mut select = credentials::table
                                .filter(credentials::key_id.ne(not_under))
                                .select(SealedCredentialRow::as_select())
                                .into_boxed();
                            match after {
                                None => {}
                                Some(SealedRef::Credential { id, .. }) => {
                                    select = select.filter(credentials::id.gt(DbId::from(*id)));
                                }
                                Some(_) => return Err(cursor_of_another_kind()),
                            }
                            let rows: Vec<SealedCredentialRow> = self
                                .fetch_all(select.order(credentials::id.asc()).limit(limit))
                                .await?;
                            rows.into_iter().map(SealedCredentialRow::decode).collect()
                        }
                        SealedKind::Version => {
                            let mut select = credential_versions::table
                                .filter(credential_versions::key_id.ne(not_under))
                                .select(SealedVersionRow::as_select())
                                .into_boxed();
                            match after {
                                None => {}
                                Some(SealedRef::Version {
                                    credential_id,
                                    number,
                                    ..
                                }) => {
                                    // (credential_id, number) > (c, n), spelled out for
                                    // diesel; the first half lets the planner start a
                                    // primary-key range scan at c.
                                    let credential = DbId::from(*credential_id);
                                    select = select.filter(
                                        credential_versions::credential_id.ge(credential).and(
                                            credential_versions::credential_id
                                                .gt(credential)
                                                .or(credential_versions::number.gt(*number)),
                                        ),
                                    );
                                }
                                Some(_) => return Err(cursor_of_another_kind()),
                            }
                            let rows: Vec<SealedVersionRow> = self
                                .fetch_all(
                                    select
                                        .order((
                                            credential_versions::credential_id.asc(),
                                            credential_versions::number.asc(),
                                        ))
                                        .limit(limit),
                                )
                                .await?;
                            rows.into_iter().map(SealedVersionRow::decode).collect()
                        }
                        SealedKind::Connection => {
                            // A connection without tokens has a NULL key id, which `<>`
                            // never matches: it is no sealed row.
                            let mut select = oauth_connections::table
                                .filter(oauth_connections::key_id.ne(not_under))
                                .select(SealedConnectionRow::as_select())
                                .into_boxed();
                            match after {
                                None => {}
                                Some(SealedRef::Connection { credential_id, .. }) => {
                                    select = select.filter(
                                        oauth_connections::credential_id
                                            .gt(DbId::from(*credential_id)),
                                    );
                                }
                                Some(_) => return Err(cursor_of_another_kind()),
                            }
                            let rows: Vec<SealedConnectionRow> = self
                                .fetch_all(
                                    select
                                        .order(oauth_connections::credential_id.asc())
                                        .limit(limit),
                                )
                                .await?;
                            rows.into_iter().map(SealedConnectionRow::decode).collect()
                        }
                        SealedKind::Webhook => {
                            let mut select = webhooks::table
                                .filter(webhooks::key_id.ne(not_under))
                                .select(SealedWebhookRow::as_select())
                                .into_boxed();
                            match after {
                                None => {}
                                Some(SealedRef::Webhook { id, .. }) => {
                                    select = select.filter(webhooks::id.gt(DbId::from(*id)));
                                }
                                Some(_) => return Err(cursor_of_another_kind()),
                            }
                            let rows: Vec<SealedWebhookRow> = self
                                .fetch_all(select.order(webhooks::id.asc()).limit(limit))
                                .await?;
                            rows.into_iter().map(SealedWebhookRow::decode).collect()
                        }
                    }
                }

                async fn replace_sealed(
                    &self,
                    row: &SealedRow,
                    new: &SealedBlob,
                ) -> Result<bool, StoreError> {
                    let old = row.sealed.bytes.clone();
                    let bytes = new.bytes.clone();
                    let key_id = new.key_id.as_str().to_owned();
                    // Each is one UPDATE whose WHERE compares the stored bytes: the compare
                    // and the set are one atomic statement (a concurrent writer of the row
                    // waits for the row lock, then finds other bytes and matches nothing).
                    let written = match &row.reference {
                        SealedRef::Meta(name) => {
                            self.execute(
                                diesel::update(
                                    vault_meta::table
                                        .filter(vault_meta::name.eq(name.clone()))
                                        .filter(vault_meta::value.eq(old)),
                                )
                                .set((vault_meta::value.eq(bytes), vault_meta::key_id.eq(key_id))),
                            )
                            .await?
                        }
                        // The new blob is bound to that version: another version must not
                        // get it. A credential's row changed: the store's cache hears of it.
                        SealedRef::Credential {
                            organization_id,
                            id,
                            version,
                        } => {
                            self.execute_changing(
                                *id,
                                diesel::update(
                                    credentials::table
                                        .filter(
                                            credentials::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(credentials::id.eq(DbId::from(*id)))
                                        .filter(credentials::version.eq(*version))
                                        .filter(credentials::sealed.eq(old)),
                                )
                                .set((
                                    credentials::sealed.eq(bytes),
                                    credentials::key_id.eq(key_id),
                                )),
                            )
                            .await?
                        }
                        SealedRef::Version {
                            organization_id,
                            credential_id,
                            number,
                        } => {
                            self.execute(
                                diesel::update(
                                    credential_versions::table
                                        .filter(
                                            credential_versions::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(
                                            credential_versions::credential_id
                                                .eq(DbId::from(*credential_id)),
                                        )
                                        .filter(credential_versions::number.eq(*number))
                                        .filter(credential_versions::sealed.eq(old)),
                                )
                                .set((
                                    credential_versions::sealed.eq(bytes),
                                    credential_versions::key_id.eq(key_id),
                                )),
                            )
                            .await?
                        }
                        // The tokens are bound to that generation: a refresh since wrote
                        // others (sealed under the current key), which must stay.
                        SealedRef::Connection {
                            organization_id,
                            credential_id,
                            generation,
                        } => {
                            self.execute(
                                diesel::update(
                                    oauth_connections::table
                                        .filter(
                                            oauth_connections::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(
                                            oauth_connections::credential_id
                                                .eq(DbId::from(*credential_id)),
                                        )
                                        .filter(oauth_connections::generation.eq(*generation))
                                        .filter(oauth_connections::sealed.eq(old)),
                                )
                                .set((
                                    oauth_connections::sealed.eq(bytes),
                                    oauth_connections::key_id.eq(key_id),
                                )),
                            )
                            .await?
                        }
                        SealedRef::Webhook {
                            organization_id,
                            id,
                        } => {
                            self.execute(
                                diesel::update(
                                    webhooks::table
                                        .filter(
                                            webhooks::organization_id
                                                .eq(DbId::from(*organization_id)),
                                        )
                                        .filter(webhooks::id.eq(DbId::from(*id)))
                                        .filter(webhooks::sealed.eq(old)),
                                )
                                .set((webhooks::sealed.eq(bytes), webhooks::key_id.eq(key_id))),
                            )
                            .await?
                        }
                    };
                    Ok(written == 1)
                }
            }
        };
    };
}
