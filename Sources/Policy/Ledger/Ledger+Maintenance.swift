/// What `Ledger.purgeExpired()` removed.
public struct PurgeSummary: Sendable, Equatable {
    /// Sessions past their expiry (already dead for authentication; now gone from disk).
    public var sessions = 0
    /// Idempotency records older than `Ledger.idempotencyWindowMs` (a retry after that is a new request).
    public var idempotencyRecords = 0
}

extension Ledger {
    /// Deletes expired sessions and idempotency records, in chunks of `chunkSize` deletions per
    /// write transaction so the write lock is never held for long. `edgeproxy serve` runs it every
    /// few minutes; `edgeproxy ledger purge` runs it on demand. Nothing live is touched: an expired
    /// session already fails authentication, and a stored result older than the window is never replayed.
    @available(*, noasync)
    public func purgeExpired(chunkSize: Int = 1000) throws(LedgerError) -> PurgeSummary {
        var summary = PurgeSummary()
        while true {
            let removed = try perform { (batch) throws(LedgerError) -> Int in
                var doomed: [[UInt8]] = []
                try batch.txn.scan(batch.schema.sessions, prefix: []) { (key, value) throws(LedgerError) -> Bool in
                    if try SessionRecord(value).expiresMs <= batch.nowMs { doomed.append(Array(key)) }
                    return doomed.count < chunkSize
                }
                for key in doomed { _ = try batch.txn.delete(batch.schema.sessions, key) }
                if !doomed.isEmpty { batch.noteWrite() }
                return doomed.count
            }
            summary.sessions += removed
            if removed < chunkSize { break }
        }
        while true {
            let removed = try perform { (batch) throws(LedgerError) -> Int in
                var doomed: [[UInt8]] = []
                let cutoff = batch.nowMs - Self.idempotencyWindowMs
                try batch.txn.scan(batch.schema.idempotency, prefix: []) { (key, value) throws(LedgerError) -> Bool in
                    if value.count >= 8, value.int64(at: 0) <= cutoff { doomed.append(Array(key)) }
                    return doomed.count < chunkSize
                }
                for key in doomed { _ = try batch.txn.delete(batch.schema.idempotency, key) }
                if !doomed.isEmpty { batch.noteWrite() }
                return doomed.count
            }
            summary.idempotencyRecords += removed
            if removed < chunkSize { break }
        }
        return summary
    }
}
