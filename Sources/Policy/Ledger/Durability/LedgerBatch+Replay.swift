extension LedgerBatch {
    /// Applies a journaled charge again after a power loss undid its commit (see `LedgerRecovery`).
    /// The batch's `nowMs` must be the entry's, so renewals fall as they did. Hold bookkeeping is
    /// skipped (holds did not survive the power loss); the charge is applied even if it overdraws —
    /// its result was delivered, and `ledger verify` reports the overdraft. Returns false for a charge
    /// of a user who no longer exists (nothing to apply it to).
    mutating func replay(_ charge: JournaledCharge) throws(LedgerError) -> Bool {
        guard var record = try balance(charge.userId) else { return false }
        record.balance -= charge.amount
        _ = try append(TransactionRecord(kind: .charge, delta: -charge.amount, balanceAfter: record.balance, timeMs: nowMs, holdId: charge.holdId,
                                         operation: charge.operation, requestId: charge.requestId, actor: charge.actor, memo: ""),
                       userId: charge.userId, record: &record)
        setBalance(record, userId: charge.userId)
        return true
    }
}
