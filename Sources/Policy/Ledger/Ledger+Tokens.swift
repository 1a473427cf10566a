public import Foundation

/// Blocking forms of the token mutations, and balance, history and usage queries (CLI and off-loop use).
extension Ledger {
    /// Blocking `hold`.
    @available(*, noasync)
    public func hold(userId: UserID, amount: Int64, requestId: String, actor: String = "") throws(LedgerError) -> HoldReceipt {
        try waitFor { hold(userId: userId, amount: amount, requestId: requestId, actor: actor, completion: $0) }
    }

    /// Blocking `charge`.
    @available(*, noasync)
    public func charge(holdId: HoldID, operation: String, amount: Int64? = nil) throws(LedgerError) -> ChargeReceipt {
        try waitFor { charge(holdId: holdId, operation: operation, amount: amount, completion: $0) }
    }

    /// Blocking `release`.
    @available(*, noasync)
    public func release(holdId: HoldID) throws(LedgerError) -> ReleaseReceipt {
        try waitFor { release(holdId: holdId, completion: $0) }
    }

    /// Blocking `grant`.
    @available(*, noasync)
    public func grant(userId: UserID, amount: Int64, reason: String, actor: String) throws(LedgerError) -> LedgerTransaction {
        try waitFor { grant(userId: userId, amount: amount, reason: reason, actor: actor, completion: $0) }
    }

    /// Adds (positive) or removes (negative) tokens as an `adjustment`; refused if the balance would drop
    /// below what is held. Admin only — check the caller's role.
    @available(*, noasync)
    public func adjust(userId: UserID, delta: Int64, reason: String, actor: String) throws(LedgerError) -> LedgerTransaction {
        try waitFor { adjust(userId: userId, delta: delta, reason: reason, actor: actor, completion: $0) }
    }

    /// `adjust` for callers that must not block (the edge refunding a charge it could not make durable);
    /// `completion` runs on a ledger thread once the adjustment is durable.
    public func adjust(userId: UserID, delta: Int64, reason: String, actor: String,
                       completion: @escaping @Sendable (Result<LedgerTransaction, LedgerError>) -> Void) {
        submit(completion: completion) { (batch) throws(LedgerError) in
            try batch.credit(userId: userId.rawValue, delta: delta, kind: .adjustment, reason: reason, actor: actor)
        }
    }

    /// The balance now, with any due renewal shown as it will be applied by the next write; nil for no such user.
    public func balance(userId: UserID) throws(LedgerError) -> LedgerBalance? {
        let nowMs = self.nowMs
        let held = try holdStore.environment.read { (txn) throws(LedgerError) in try holdStore.held(of: userId.rawValue, in: txn) }
        return try environment.read { (txn) throws(LedgerError) in
            try txn.get(schema.balances, userId.rawValue) { (bytes) throws(LedgerError) in
                var record = try BalanceRecord(bytes)
                record.held = held
                return PlanRenewal.projected(record, plans: plans, nowMs: nowMs).view(userId: userId.rawValue)
            }
        }
    }

    /// The user's most recent transactions, newest first.
    ///
    /// - Parameters:
    ///   - limit: At most this many.
    ///   - before: Only transactions with a smaller sequence number (for paging); nil for the newest.
    public func history(userId: UserID, limit: Int, before: UInt64? = nil) throws(LedgerError) -> [LedgerTransaction] {
        guard limit > 0 else { return [] }
        return try environment.read { (txn) throws(LedgerError) in
            var entries: [LedgerTransaction] = []
            try schema.walkHistory(userId: userId.rawValue, in: txn) { (header, bytes) throws(LedgerError) -> Bool in
                if let before, header.sequence >= before { return true }
                entries.append(try TransactionRecord(bytes).view())
                return entries.count < limit
            }
            return entries
        }
    }

    /// Charges per UTC day and operation between `from` (inclusive) and `to` (exclusive), oldest day first.
    /// Walks the user's history backwards from the newest entry and stops at the first entry before `from`.
    public func usage(userId: UserID, from: Date, to: Date) throws(LedgerError) -> [UsageRow] {
        let fromMs = from.ledgerMilliseconds, toMs = to.ledgerMilliseconds
        return try environment.read { (txn) throws(LedgerError) in
            var totals: [String: [String: (count: Int, tokens: Int64)]] = [:]
            try schema.walkHistory(userId: userId.rawValue, in: txn) { (header, bytes) throws(LedgerError) -> Bool in
                if header.timeMs < fromMs { return false }
                guard header.timeMs < toMs, header.kind == .charge else { return true }
                let day = PlanCalendar.dayString(header.timeMs)
                let operation = TransactionRecord.operation(bytes)
                let current = totals[day, default: [:]][operation] ?? (0, 0)
                totals[day, default: [:]][operation] = (current.count + 1, current.tokens - header.delta)
                return true
            }
            return totals.keys.sorted().flatMap { day in
                totals[day]!.keys.sorted().map { operation in
                    let total = totals[day]![operation]!
                    return UsageRow(day: day, operation: operation, count: total.count, tokens: total.tokens)
                }
            }
        }
    }

    /// Applies every due renewal now (what `edgeproxy ledger renew` runs), in chunks of `chunkSize`
    /// balances per write transaction so a large ledger never holds the write lock for long.
    @available(*, noasync)
    public func renewAll(chunkSize: Int = 1000) throws(LedgerError) -> RenewalSummary {
        var summary = RenewalSummary(examined: 0, renewed: 0)
        var after: UInt64 = 0
        while true {
            let start = after
            let chunk = try perform { (batch) throws(LedgerError) -> (examined: Int, renewed: Int, last: UInt64?) in
                var ids: [UInt64] = []
                let from = withUnsafeBytes(of: (start + 1).bigEndian) { Array($0) }
                try batch.txn.scan(batch.schema.balances, prefix: [], from: from) { (key, _) throws(LedgerError) -> Bool in
                    if let id = key.bigEndianUInt64 { ids.append(id) }
                    return ids.count < chunkSize
                }
                var renewed = 0
                for id in ids {
                    let before = try batch.txn.get(batch.schema.balances, id) { (bytes) throws(LedgerError) in try BalanceRecord(bytes).periodIndex }
                    if let after = try batch.balance(id), after.periodIndex != before { renewed += 1 }
                }
                return (ids.count, renewed, ids.last)
            }
            summary.examined += chunk.examined
            summary.renewed += chunk.renewed
            guard let last = chunk.last, chunk.examined == chunkSize else { return summary }
            after = last
        }
    }
}
