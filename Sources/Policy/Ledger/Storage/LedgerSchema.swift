/// The named LMDB databases of the ledger and the on-disk format version.
///
/// | database | key | value |
/// |---|---|---|
/// | `meta` | name (`format`, `next.user`, `next.hold`, `next.transaction`, `next.instance`) | u32 / u64 little-endian |
/// | `users` | user id (u64 BE) | `UserRecord` |
/// | `emails` | normalised e-mail (UTF-8) | user id (u64 LE) |
/// | `sessions` | SHA-256 of the token | `SessionRecord` (fixed) |
/// | `api_keys` | SHA-256 of the key | `APIKeyRecord` |
/// | `key_ids` | key id (UTF-8) | SHA-256 of the key |
/// | `user_keys` | user id (u64 BE) + key id | empty |
/// | `balances` | user id (u64 BE) | `BalanceRecord` (fixed) |
/// | `holds` | hold id (u64 BE) | `HoldRecord` |
/// | `transactions` | transaction id (u64 BE), append-only | `TransactionRecord` (chained per user) |
/// | `processes` | instance (u64 BE) | `ProcessRecord` (fixed) |
/// | `idempotency` | user id (u64 BE) + SHA-256 of scope and key | `IdempotencyRecord` (kept 24 h) |
struct LedgerSchema: Sendable {
    /// Bumped when a layout changes incompatibly; a ledger of another version is refused on open.
    /// 2: holds and held totals moved to the `HoldStore` (`holds` here stays empty, `BalanceRecord.held`
    /// is stored as 0); a format-1 ledger is migrated on open by releasing its open holds.
    static let formatVersion: UInt32 = 2
    static let databaseCount: UInt32 = 12

    let meta: LMDBDatabase
    let users: LMDBDatabase
    let emails: LMDBDatabase
    let sessions: LMDBDatabase
    let apiKeys: LMDBDatabase
    let keyIds: LMDBDatabase
    let userKeys: LMDBDatabase
    let balances: LMDBDatabase
    let holds: LMDBDatabase
    let transactions: LMDBDatabase
    let processes: LMDBDatabase
    let idempotency: LMDBDatabase

    /// Opens (creating when missing) every database inside `txn`.
    init(environment: LMDBEnvironment, txn: borrowing LMDBTransaction) throws(LedgerError) {
        func open(_ name: String) throws(LedgerError) -> LMDBDatabase {
            try environment.openDatabase(name, flags: .create, in: txn)
        }
        meta = try open("meta")
        users = try open("users")
        emails = try open("emails")
        sessions = try open("sessions")
        apiKeys = try open("api_keys")
        keyIds = try open("key_ids")
        userKeys = try open("user_keys")
        balances = try open("balances")
        holds = try open("holds")
        transactions = try open("transactions")
        processes = try open("processes")
        idempotency = try open("idempotency")
    }

    /// Checks the format version, writing it into a new ledger.
    func checkFormat(in txn: borrowing LMDBTransaction) throws(LedgerError) {
        let stored = try txn.get(meta, MetaKey.format) { bytes in bytes.count == 4 ? bytes.uint32(at: 0) : UInt32.max }
        if stored == 1 {
            try migrateFromFormat1(in: txn)
        } else if let stored {
            guard stored == Self.formatVersion else {
                throw LedgerError(code: .versionMismatch, operation: "open ledger",
                                  message: "the data directory holds ledger format \(stored); this build reads format \(Self.formatVersion)")
            }
        } else {
            _ = try withUnsafeBytes(of: Self.formatVersion.littleEndian) { (bytes) throws(LedgerError) in
                try txn.put(meta, MetaKey.format, bytes)
            }
        }
    }

    /// Format 1 kept holds here: release them all (their processes are gone — an older build cannot run
    /// beside this one, as it refuses format 2) and zero every stored held total.
    private func migrateFromFormat1(in txn: borrowing LMDBTransaction) throws(LedgerError) {
        var holdKeys: [[UInt8]] = []
        try txn.scan(holds, prefix: []) { (key, _) throws(LedgerError) -> Bool in
            holdKeys.append(Array(key))
            return true
        }
        for key in holdKeys { _ = try txn.delete(holds, key) }
        var heldBalances: [(UInt64, BalanceRecord)] = []
        try txn.scan(balances, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            let record = try BalanceRecord(value)
            if record.held != 0, let id = key.bigEndianUInt64 { heldBalances.append((id, record)) }
            return true
        }
        for (id, var record) in heldBalances {
            record.held = 0
            try txn.putReserving(balances, id, count: BalanceRecord.size) { record.encode(into: $0) }
        }
        _ = try withUnsafeBytes(of: Self.formatVersion.littleEndian) { (bytes) throws(LedgerError) in
            try txn.put(meta, MetaKey.format, bytes)
        }
    }

    /// The id the next appended transaction gets: one past the log's last key. (Ledgers before this
    /// also kept a `next.transaction` counter; it is read as a floor and no longer written, which saves
    /// dirtying the `meta` page on every commit.)
    func nextTransactionId(in txn: borrowing LMDBTransaction) throws(LedgerError) -> UInt64 {
        let last = try txn.withCursor(transactions) { (cursor) throws(LedgerError) -> UInt64 in
            try cursor.last() ? (cursor.key.bigEndianUInt64 ?? 0) : 0
        }
        return max(last + 1, try counter(MetaKey.nextTransaction, in: txn), 1)
    }

    /// Whether any process registered in `environment` is still running (false for a new ledger). Opens
    /// the `processes` database read-only, before the schema is set up.
    static func anyRegisteredProcessAlive(in environment: LMDBEnvironment) throws(LedgerError) -> Bool {
        try environment.read { (txn) throws(LedgerError) -> Bool in
            let processes: LMDBDatabase
            do throws(LedgerError) {
                processes = try environment.openDatabase("processes", flags: [], in: txn)
            } catch {
                if error.lmdbStatus == LMDBStatus.notFound { return false }
                throw error
            }
            var alive = false
            try txn.scan(processes, prefix: []) { (_, value) throws(LedgerError) -> Bool in
                alive = ProcessIdentity.isAlive(try ProcessRecord(value))
                return !alive
            }
            return alive
        }
    }

    /// Reads a counter from `meta` (0 when absent).
    func counter(_ key: String, in txn: borrowing LMDBTransaction) throws(LedgerError) -> UInt64 {
        try txn.get(meta, key) { bytes in bytes.count == 8 ? bytes.uint64(at: 0) : 0 } ?? 0
    }

    /// Writes a counter to `meta`.
    func setCounter(_ key: String, _ value: UInt64, in txn: borrowing LMDBTransaction) throws(LedgerError) {
        _ = try withUnsafeBytes(of: value.littleEndian) { (bytes) throws(LedgerError) in try txn.put(meta, key, bytes) }
    }
}

extension LedgerSchema {
    /// Visits `userId`'s transactions from the newest backwards (following `previousId`) until `body`
    /// returns false. Each step is one B-tree lookup.
    func walkHistory(userId: UInt64, in txn: borrowing LMDBTransaction,
                     _ body: (TransactionRecord.Header, UnsafeRawBufferPointer) throws(LedgerError) -> Bool) throws(LedgerError) {
        guard var id = try txn.get(balances, userId, { (bytes) throws(LedgerError) in try BalanceRecord(bytes).lastTransactionId }) else { return }
        while id != 0 {
            let step = try txn.get(transactions, id) { (bytes) throws(LedgerError) -> UInt64? in
                let header = try TransactionRecord.header(bytes)
                guard header.userId == userId, header.previousId < id else {
                    throw LedgerError(code: .corrupted, operation: "history", message: "transaction \(id) breaks user \(userId)'s history chain")
                }
                return try body(header, bytes) ? header.previousId : nil
            }
            guard let step else {
                throw LedgerError(code: .corrupted, operation: "history", message: "transaction \(id) of user \(userId) is missing")
            }
            guard let previous = step else { return }
            id = previous
        }
    }
}

/// Keys of the `meta` database.
enum MetaKey {
    static let format = "format"
    /// The next user id to assign (ids start at 1).
    static let nextUser = "next.user"
    /// Hold ids: in the hold store, the next id to issue (every id below it was issued, so a missing one
    /// was settled); here, the first id a new hold store may use (each new store reserves 2⁴⁰ ids, so
    /// ids never repeat across reboots and the charges in the log name distinct holds).
    static let nextHold = "next.hold"
    /// Legacy floor for transaction ids (ids start at 1; the log only ever appends; see `nextTransactionId`).
    static let nextTransaction = "next.transaction"
    /// The next process instance number.
    static let nextInstance = "next.instance"
}
