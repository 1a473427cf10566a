/// Environment flags for `mdb_env_open`, written as the literal values from lmdb.h 0.9.x.
///
/// They are spelled as literals rather than as the imported macros so that `LedgerFlagTests` can compare
/// every one against its C constant: a mapping bug (an environment flag used as a database flag, or a
/// wrong constant) fails a test instead of silently changing durability.
struct LMDBEnvironmentFlags: OptionSet, Sendable {
    let rawValue: UInt32

    /// `MDB_NOSUBDIR`: the path is the data file itself, not a directory.
    static let noSubdirectory = LMDBEnvironmentFlags(rawValue: 0x4000)
    /// `MDB_NOSYNC`: commit without fsync; a system crash may lose recent commits.
    static let noSync = LMDBEnvironmentFlags(rawValue: 0x10000)
    /// `MDB_RDONLY`: open read-only.
    static let readOnly = LMDBEnvironmentFlags(rawValue: 0x20000)
    /// `MDB_NOMETASYNC`: fsync data pages but not the meta page on commit.
    static let noMetaSync = LMDBEnvironmentFlags(rawValue: 0x40000)
    /// `MDB_WRITEMAP`: write through a writable memory map.
    static let writeMap = LMDBEnvironmentFlags(rawValue: 0x80000)
    /// `MDB_NOTLS`: read transactions are not tied to threads (needed for reset/renew on event loops).
    static let noTLS = LMDBEnvironmentFlags(rawValue: 0x200000)
    /// `MDB_NOLOCK`: no locking at all (never used: the ledger is multi-process).
    static let noLock = LMDBEnvironmentFlags(rawValue: 0x400000)
    /// `MDB_NORDAHEAD`: no read-ahead on the map.
    static let noReadAhead = LMDBEnvironmentFlags(rawValue: 0x800000)
}

/// Database flags for `mdb_dbi_open`, as literal values from lmdb.h.
struct LMDBDatabaseFlags: OptionSet, Sendable {
    let rawValue: UInt32

    /// `MDB_REVERSEKEY`: compare keys from the end.
    static let reverseKey = LMDBDatabaseFlags(rawValue: 0x02)
    /// `MDB_DUPSORT`: several sorted values per key.
    static let duplicateSort = LMDBDatabaseFlags(rawValue: 0x04)
    /// `MDB_INTEGERKEY`: keys are native unsigned integers.
    static let integerKey = LMDBDatabaseFlags(rawValue: 0x08)
    /// `MDB_CREATE`: create the named database if missing.
    static let create = LMDBDatabaseFlags(rawValue: 0x40000)
}

/// Flags for `mdb_put` / `mdb_cursor_put`, as literal values from lmdb.h.
struct LMDBWriteFlags: OptionSet, Sendable {
    let rawValue: UInt32

    /// `MDB_NOOVERWRITE`: fail with `MDB_KEYEXIST` when the key exists.
    static let noOverwrite = LMDBWriteFlags(rawValue: 0x10)
    /// `MDB_CURRENT`: replace the item at the cursor.
    static let current = LMDBWriteFlags(rawValue: 0x40)
    /// `MDB_RESERVE`: reserve space and let the caller fill it in place.
    static let reserve = LMDBWriteFlags(rawValue: 0x10000)
    /// `MDB_APPEND`: the key sorts after every existing key.
    static let append = LMDBWriteFlags(rawValue: 0x20000)
}

/// Statuses the wrapper reacts to, as literal values from lmdb.h.
enum LMDBStatus {
    /// `MDB_SUCCESS`.
    static let success: Int32 = 0
    /// `MDB_KEYEXIST`.
    static let keyExists: Int32 = -30799
    /// `MDB_NOTFOUND`.
    static let notFound: Int32 = -30798
    /// `MDB_CORRUPTED`.
    static let corrupted: Int32 = -30796
    /// `MDB_PANIC`.
    static let panic: Int32 = -30795
    /// `MDB_VERSION_MISMATCH`.
    static let versionMismatch: Int32 = -30794
    /// `MDB_INVALID`.
    static let invalid: Int32 = -30793
    /// `MDB_MAP_FULL`.
    static let mapFull: Int32 = -30792
    /// `MDB_READERS_FULL`.
    static let readersFull: Int32 = -30790
    /// `MDB_MAP_RESIZED`.
    static let mapResized: Int32 = -30785
    /// `MDB_BAD_TXN`.
    static let badTransaction: Int32 = -30782
}
