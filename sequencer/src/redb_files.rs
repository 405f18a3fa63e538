//! What the node's two redb files (`blockstore`, `history_store`) share: a write
//! transaction with the durability the caller asks for, the `meta` table's layout
//! version check on open, and the `From` impls that fold redb's error types into a
//! store's own error.
//!
//! What it is not: it holds no tables or records of either store.

use redb::{Durability, ReadableTable, TableDefinition, WriteTransaction};

/// The `meta` table each file keeps (`format` = layout version, plus the store's own keys).
pub const META: TableDefinition<'static, &str, u64> = TableDefinition::new("meta");

/// A write transaction: `durable` commits with fsync (and quick repair, so a crash
/// reopens from it without walking the whole file); otherwise without fsync, durable
/// with the next durable commit.
pub fn begin_write<E>(db: &redb::Database, durable: bool) -> Result<WriteTransaction, E>
where
    E: From<redb::TransactionError> + From<redb::SetDurabilityError>,
{
    let mut w = db.begin_write()?;
    if durable {
        w.set_quick_repair(true);
    } else {
        w.set_durability(Durability::None)?;
    }
    Ok(w)
}

/// Records `version` in a new file's `meta`, or checks an existing file's: `Err(found)`
/// when the file was written with another layout.
pub fn check_format(w: &WriteTransaction, version: u64) -> Result<Result<(), u64>, redb::Error> {
    let mut meta = w.open_table(META)?;
    let stored = meta.get("format")?.map(|g| g.value());
    Ok(match stored {
        None => {
            meta.insert("format", version)?;
            Ok(())
        }
        Some(v) if v == version => Ok(()),
        Some(v) => Err(v),
    })
}

/// `From` impls for a store error with a `Db(redb::Error)` variant, from each of redb's
/// error types listed.
macro_rules! from_redb_errors {
    ($err:ty: $($t:ty),* $(,)?) => {$(
        impl From<$t> for $err {
            fn from(e: $t) -> Self {
                Self::Db(e.into())
            }
        }
    )*};
}
pub(crate) use from_redb_errors;
