import Foundation

/// The state of one write transaction of the group-commit writer: the transaction, the time of the
/// batch, and caches that let many mutations of one batch share a balance read and write.
///
/// Balances are read at most once per batch (fresh from LMDB inside the write transaction, so decisions
/// see every other process's commits) and written back once by `flush()`. Lazy renewal happens here, the
/// first time a batch touches a balance whose period has ended.
///
/// Discipline for mutations: check everything that can refuse *before* the first write. `writes` counts
/// writes made on behalf of mutations (renewals excluded, as they are complete on their own); the writer
/// treats a refusal after a write as a fault and re-runs each mutation of the batch in its own transaction.
struct LedgerBatch: ~Copyable {
    let rawTransaction: OpaquePointer
    let schema: LedgerSchema
    let plans: PlanCatalog
    let nowMs: Int64
    /// This process's instance number (owner of the holds it creates).
    let instance: UInt64
    /// Held totals from the hold store (a snapshot, or exact under its lock).
    let heldView: HeldView
    /// Writes done on behalf of mutations.
    var writes = 0

    private var balances = [UInt64: CachedBalance](minimumCapacity: 64)
    /// Tokens of holds this batch has charged, per user: still in the hold store until the hold writer
    /// drops them after the commit, so subtracted from what the store says.
    private var settledHeld: [UInt64: Int64] = [:]
    /// The next transaction id, once read in this batch (from the log's last key: no counter to write).
    private var nextTransaction: UInt64?

    private struct CachedBalance {
        var record: BalanceRecord
        var dirty: Bool
    }

    init(rawTransaction: OpaquePointer, schema: LedgerSchema, plans: PlanCatalog, nowMs: Int64, instance: UInt64, heldView: HeldView) {
        self.heldView = heldView
        self.rawTransaction = rawTransaction
        self.schema = schema
        self.plans = plans
        self.nowMs = nowMs
        self.instance = instance
    }

    /// The batch's transaction.
    var txn: LMDBTransaction { LMDBTransaction(handle: rawTransaction) }

    /// The user's balance as of this batch, with due renewals applied (and recorded); nil for no such user.
    /// `held` comes from the hold store (the stored field is unused since format 2); a due renewal takes
    /// the store's lock first, as it may lower the balance.
    mutating func balance(_ userId: UInt64) throws(LedgerError) -> BalanceRecord? {
        if let cached = balances[userId] { return cached.record }
        guard var record = try txn.get(schema.balances, userId, { (bytes) throws(LedgerError) in try BalanceRecord(bytes) }) else {
            return nil
        }
        var dirty = false
        if nowMs >= record.periodEndMs { try heldView.lockExact() }
        record.held = try heldView.held(of: userId) - settledHeld[userId, default: 0]
        if nowMs >= record.periodEndMs {
            let before = record
            for transaction in PlanRenewal.renewIfDue(&record, plans: plans, nowMs: nowMs) {
                try putTransaction(transaction, userId: userId, record: &record)
            }
            dirty = record != before
        }
        balances[userId] = CachedBalance(record: record, dirty: dirty)
        return record
    }

    /// Makes `record.held` exact before a change that lowers what is available (negative adjustment,
    /// plan change): takes the hold store's lock until the batch ends, so no process can hold meanwhile.
    mutating func exactHeld(_ record: inout BalanceRecord, userId: UInt64) throws(LedgerError) {
        try heldView.lockExact()
        record.held = try heldView.held(of: userId) - settledHeld[userId, default: 0]
    }

    /// Notes that this batch charged a hold of `amount` tokens of `userId` (see `settledHeld`).
    mutating func noteSettled(_ amount: Int64, userId: UInt64) {
        settledHeld[userId, default: 0] += amount
    }

    /// Replaces the cached balance of `userId`; written by `flush()`.
    mutating func setBalance(_ record: BalanceRecord, userId: UInt64) {
        balances[userId] = CachedBalance(record: record, dirty: true)
        writes += 1
    }

    /// Appends `transaction` as the user's newest entry (see `putTransaction`); returns it as stored.
    mutating func append(_ transaction: TransactionRecord, userId: UInt64, record: inout BalanceRecord) throws(LedgerError) -> TransactionRecord {
        writes += 1
        return try putTransaction(transaction, userId: userId, record: &record)
    }

    /// Appends to the log under the next global id (`MDB_APPEND`: ids only grow, across processes too,
    /// since the counter is read inside the write transaction), chained to the user's previous entry.
    @discardableResult
    private mutating func putTransaction(_ transaction: TransactionRecord, userId: UInt64, record: inout BalanceRecord) throws(LedgerError) -> TransactionRecord {
        if record.nextSequence == 0 { record.nextSequence = 1 }
        var entry = transaction
        entry.userId = userId
        entry.sequence = record.nextSequence
        entry.previousId = record.lastTransactionId
        if nextTransaction == nil { nextTransaction = try schema.nextTransactionId(in: txn) }
        let id = nextTransaction!
        try txn.putReserving(schema.transactions, id, count: entry.encodedSize, flags: .append) { entry.encode(into: $0) }
        nextTransaction = id + 1
        record.nextSequence += 1
        record.lastTransactionId = id
        return entry
    }

    /// Counts a write made directly through `txn` on behalf of a mutation.
    mutating func noteWrite() { writes += 1 }

    /// Writes cached balances and counters back; called once before commit.
    mutating func flush() throws(LedgerError) {
        for (userId, cached) in balances where cached.dirty {
            var stored = cached.record
            stored.held = 0  // held lives in the hold store
            try txn.putReserving(schema.balances, userId, count: BalanceRecord.size) { stored.encode(into: $0) }
        }
        balances.removeAll(keepingCapacity: true)
        settledHeld.removeAll(keepingCapacity: true)
        nextTransaction = nil
    }
}
