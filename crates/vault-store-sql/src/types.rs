//! The three kinds of column that SQLite and PostgreSQL store differently, as one SQL type
//! each, so that one schema and one set of rows serve both stores:
//!
//! | SQL type | SQLite | PostgreSQL | Rust value |
//! |---|---|---|---|
//! | [`Id`] | a 16-byte `BLOB` | `uuid` | [`DbId`] |
//! | [`Instant`] | an `INTEGER` of Unix microseconds | `timestamptz` | [`DbTime`] |
//! | [`Json`] | `TEXT` | `json` | [`DbJson`] |
//!
//! Values cross in each database's own format, exactly as diesel's `Binary`, `BigInt`,
//! `Text`, `Uuid`, `Timestamptz` and `Json` would send them: nothing stored changes. Each
//! PostgreSQL type names its fixed OID, so binding one costs no lookup. A value read that
//! the domain cannot hold (a `BLOB` of another length, PostgreSQL's `infinity`) is kept as
//! it is, for the row's decoding to refuse with an error naming the column.

use std::io::Write as _;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::query_builder::QueryId;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{BigInt, SqlType};
use diesel::sqlite::{Sqlite, SqliteValue};
use time::OffsetDateTime;
use uuid::Uuid;
use vault_core::ids::{
    AccessKeyId, CredentialId, GrantId, OrganizationId, WebhookDeliveryId, WebhookId,
};
use vault_core::store::StoreError;

use crate::columns::{from_json, to_json, undecodable, unencodable};

/// A UUID column: `uuid` on PostgreSQL, a 16-byte `BLOB` on SQLite (which compares BLOBs
/// bytewise, as PostgreSQL orders `uuid`s: UUID v7 ids sort by time on both).
#[derive(Clone, Copy, Debug, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Binary"))]
pub struct Id;

/// A point in time, to the microsecond: `timestamptz` on PostgreSQL, an `INTEGER` of Unix
/// microseconds on SQLite.
#[derive(Clone, Copy, Debug, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Long"))]
pub struct Instant;

/// JSON text: `json` on PostgreSQL (stored as written), `TEXT` on SQLite.
#[derive(Clone, Copy, Debug, Default, QueryId, SqlType)]
#[diesel(postgres_type(oid = 114, array_oid = 199))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Json;

/// The value of an [`Id`] column. `None` only when read: a stored value that is no UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Id)]
pub struct DbId(Option<Uuid>);

impl DbId {
    /// The UUID.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming `column` when the stored value is no UUID.
    pub fn decode(self, column: &'static str) -> Result<Uuid, StoreError> {
        self.0.ok_or_else(|| undecodable(column))
    }

    fn bytes(&self) -> Result<&[u8], Box<dyn std::error::Error + Send + Sync>> {
        match &self.0 {
            Some(id) => Ok(id.as_bytes()),
            None => Err("an id that did not decode cannot be written".into()),
        }
    }
}

impl From<Uuid> for DbId {
    fn from(id: Uuid) -> Self {
        Self(Some(id))
    }
}

/// `From` each id newtype of the domain.
macro_rules! db_id_from {
    ($($id:ty),+ $(,)?) => {
        $(
            impl From<$id> for DbId {
                fn from(id: $id) -> Self {
                    Self(Some(*id.as_uuid()))
                }
            }
        )+
    };
}

db_id_from!(
    OrganizationId,
    CredentialId,
    AccessKeyId,
    GrantId,
    WebhookId,
    WebhookDeliveryId,
);

impl ToSql<Id, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.bytes()?);
        Ok(IsNull::No)
    }
}

impl ToSql<Id, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(self.bytes()?)?;
        Ok(IsNull::No)
    }
}

impl FromSql<Id, Sqlite> for DbId {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Self(Uuid::from_slice(value.read_blob()).ok()))
    }
}

impl FromSql<Id, Pg> for DbId {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(Uuid::from_slice(value.as_bytes()).ok()))
    }
}

/// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in Unix microseconds.
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// The value of an [`Instant`] column: Unix microseconds, the precision every store keeps
/// (`vault_core::clock`), so what is read back equals what was written. Converted here
/// rather than by diesel's `time` feature so that a value out of range is an error naming
/// the column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Instant)]
pub struct DbTime(i64);

impl DbTime {
    /// `t`, to the microsecond.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming `column` for a time out of range.
    pub fn encode(t: OffsetDateTime, column: &'static str) -> Result<Self, StoreError> {
        i64::try_from(t.unix_timestamp_nanos().div_euclid(1_000))
            .map(Self)
            .map_err(|_| unencodable(column))
    }

    /// [`DbTime::encode`] of a time that may be absent.
    ///
    /// # Errors
    /// As [`DbTime::encode`].
    pub fn encode_optional(
        t: Option<OffsetDateTime>,
        column: &'static str,
    ) -> Result<Option<Self>, StoreError> {
        t.map(|t| Self::encode(t, column)).transpose()
    }

    /// The time.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming `column` for a stored value out of range.
    pub fn decode(self, column: &'static str) -> Result<OffsetDateTime, StoreError> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000)
            .map_err(|_| undecodable(column))
    }

    /// [`DbTime::decode`] of a time that may be absent.
    ///
    /// # Errors
    /// As [`DbTime::decode`].
    pub fn decode_optional(
        t: Option<Self>,
        column: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        t.map(|t| t.decode(column)).transpose()
    }
}

impl ToSql<Instant, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0);
        Ok(IsNull::No)
    }
}

/// Microseconds since PostgreSQL's epoch, as `timestamptz`'s binary format has them.
impl ToSql<Instant, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // Never out of range: a time the domain holds (years 1 to 9999) is far from
        // i64's ends.
        let pg = self
            .0
            .checked_sub(PG_EPOCH_UNIX_MICROS)
            .ok_or("a time out of PostgreSQL's range")?;
        out.write_all(&pg.to_be_bytes())?;
        Ok(IsNull::No)
    }
}

impl FromSql<Instant, Sqlite> for DbTime {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Self(value.read_long()))
    }
}

impl FromSql<Instant, Pg> for DbTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let pg = <i64 as FromSql<BigInt, Pg>>::from_sql(value)?;
        // Saturating: a value beyond i64 once moved to the Unix epoch (`infinity` is
        // i64::MAX) stays far out of the domain's range, and fails to decode.
        Ok(Self(pg.saturating_add(PG_EPOCH_UNIX_MICROS)))
    }
}

/// The value of a [`Json`] column: the text exactly as written or stored. Decoding happens
/// in the rows, where an error can name the column.
#[derive(Clone, Debug, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Json)]
pub struct DbJson(Vec<u8>);

impl DbJson {
    /// `value` as JSON text.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming `column` if it does not serialize (the domain's types
    /// always do).
    pub fn encode<T: serde::Serialize>(
        value: &T,
        column: &'static str,
    ) -> Result<Self, StoreError> {
        to_json(value, column).map(|text| Self(text.into_bytes()))
    }

    /// The value of the text.
    ///
    /// # Errors
    /// [`StoreError::Backend`] naming `column` when it is not JSON of that shape.
    pub fn decode<T: serde::de::DeserializeOwned>(
        &self,
        column: &'static str,
    ) -> Result<T, StoreError> {
        from_json(&self.0, column)
    }

    /// The text, as bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl ToSql<Json, Sqlite> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        // Always UTF-8: the text comes from `serde_json`, or was read from a `TEXT` column.
        out.set_value(std::str::from_utf8(&self.0)?);
        Ok(IsNull::No)
    }
}

/// PostgreSQL's binary format for `json` is the text itself.
impl ToSql<Json, Pg> for DbJson {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&self.0)?;
        Ok(IsNull::No)
    }
}

impl FromSql<Json, Sqlite> for DbJson {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        Ok(Self(value.read_text().as_bytes().to_vec()))
    }
}

impl FromSql<Json, Pg> for DbJson {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(value.as_bytes().to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_to_the_microsecond_and_out_of_range_names_the_column() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_764_115_200_123_456_000)
            .expect("a valid time");
        let stored = DbTime::encode(t, "c").expect("in range");
        assert_eq!(stored.decode("c").expect("decodes"), t);
        // PostgreSQL's `infinity` is i64::MAX microseconds past its epoch.
        let infinity = DbTime(i64::MAX.saturating_add(PG_EPOCH_UNIX_MICROS));
        let error = infinity
            .decode("credentials.expires_at")
            .expect_err("infinity is no OffsetDateTime");
        assert!(
            format!("{error:?}").contains("credentials.expires_at"),
            "{error:?}"
        );
    }

    #[test]
    fn an_id_that_is_no_uuid_names_the_column() {
        let error = DbId(None).decode("credentials.id").expect_err("no UUID");
        assert!(format!("{error:?}").contains("credentials.id"), "{error:?}");
    }
}
