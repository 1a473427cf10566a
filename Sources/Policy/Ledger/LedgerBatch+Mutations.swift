/// The token mutations, applied inside a batch. Each checks every refusal before its first write.
extension LedgerBatch {
    /// Reserves `amount` tokens of `userId` if `balance − held ≥ amount` (decided inside the write
    /// transaction, so no other thread or process can interleave).
    mutating func hold(userId: UInt64, amount: Int64, requestId: String, actor: String) throws(LedgerError) -> HoldReceipt {
        guard amount > 0 else { throw .refusal(.invalidAmount, "hold", "a hold must be for a positive amount, not \(amount)") }
        guard var record = try balance(userId) else { throw .refusal(.unknownUser, "hold", "no user with id \(userId)") }
        let available = record.balance - record.held
        guard available >= amount else {
            throw LedgerError(code: .insufficientTokens, operation: "hold", message: "insufficient tokens: \(amount) required, \(available) available",
                              insufficient: .init(required: amount, available: available))
        }
        let id = try allocateHoldId()
        let hold = HoldRecord(userId: userId, amount: amount, createdMs: nowMs, owner: instance, requestId: requestId, actor: actor)
        try txn.putReserving(schema.holds, id, count: hold.encodedSize, flags: .noOverwrite) { hold.encode(into: $0) }
        noteWrite()
        record.held += amount
        setBalance(record, userId: userId)
        return HoldReceipt(holdId: HoldID(rawValue: id), userId: UserID(rawValue: userId), amount: amount,
                           balance: record.balance, available: record.balance - record.held)
    }

    /// Settles a hold by charging `amount` (default: all of it); the rest becomes available again.
    mutating func charge(holdId: UInt64, operation: String, amount: Int64?) throws(LedgerError) -> ChargeReceipt {
        let hold = try openHold(holdId, "charge")
        let charged = amount ?? hold.amount
        guard charged > 0, charged <= hold.amount else {
            throw .refusal(.invalidAmount, "charge", "a charge must be between 1 and the \(hold.amount) tokens held, not \(charged)")
        }
        guard var record = try balance(hold.userId) else { throw .refusal(.unknownUser, "charge", "hold \(holdId) names a missing user") }
        try txn.delete(schema.holds, holdId)
        noteWrite()
        record.held -= hold.amount
        record.balance -= charged
        let entry = try append(TransactionRecord(kind: .charge, delta: -charged, balanceAfter: record.balance, timeMs: nowMs, holdId: holdId,
                                                 operation: operation, requestId: hold.requestId, actor: hold.actor, memo: ""),
                               userId: hold.userId, record: &record)
        setBalance(record, userId: hold.userId)
        return ChargeReceipt(holdId: HoldID(rawValue: holdId), userId: UserID(rawValue: hold.userId), charged: charged,
                             balance: record.balance, available: record.balance - record.held, sequence: entry.sequence)
    }

    /// Settles a hold without charging: its tokens are available again.
    mutating func release(holdId: UInt64) throws(LedgerError) -> ReleaseReceipt {
        let hold = try openHold(holdId, "release")
        guard var record = try balance(hold.userId) else { throw .refusal(.unknownUser, "release", "hold \(holdId) names a missing user") }
        try txn.delete(schema.holds, holdId)
        noteWrite()
        record.held -= hold.amount
        setBalance(record, userId: hold.userId)
        return ReleaseReceipt(holdId: HoldID(rawValue: holdId), userId: UserID(rawValue: hold.userId), released: hold.amount,
                              available: record.balance - record.held)
    }

    /// Adds tokens to a balance (kind `grant`), or with `kind: .adjustment` adds or removes them.
    mutating func credit(userId: UInt64, delta: Int64, kind: TransactionKind, reason: String, actor: String) throws(LedgerError) -> LedgerTransaction {
        let operation = kind == .grant ? "grant" : "adjust"
        guard delta != 0, kind == .adjustment || delta > 0 else {
            throw .refusal(.invalidAmount, operation, "the amount must be positive, not \(delta)")
        }
        guard var record = try balance(userId) else { throw .refusal(.unknownUser, operation, "no user with id \(userId)") }
        let (after, overflow) = record.balance.addingReportingOverflow(delta)
        guard !overflow else { throw .refusal(.invalidAmount, operation, "the balance would overflow") }
        guard after >= record.held else {
            throw .refusal(.invalidAmount, operation, "the balance would fall below the \(record.held) tokens held")
        }
        record.balance = after
        let entry = try append(TransactionRecord(kind: kind, delta: delta, balanceAfter: after, timeMs: nowMs, holdId: 0,
                                                 operation: operation, requestId: "", actor: actor, memo: reason),
                               userId: userId, record: &record)
        setBalance(record, userId: userId)
        return entry.view()
    }

    /// Moves a user to another plan, starting a new period now (see `PlanRenewal.changePlan`).
    mutating func changePlan(userId: UInt64, to planName: String, actor: String) throws(LedgerError) -> LedgerBalance {
        guard let plan = plans.plan(named: planName) else { throw .refusal(.unknownPlan, "change plan", "no plan named '\(planName)' in the policy") }
        guard plan.name.utf8.count <= BalanceRecord.maxPlanBytes else { throw .refusal(.invalidArgument, "change plan", "plan name too long") }
        guard var user = try txn.get(schema.users, userId, { (bytes) throws(LedgerError) in try UserRecord(bytes) }),
              var record = try balance(userId) else { throw .refusal(.unknownUser, "change plan", "no user with id \(userId)") }
        user.plan = plan.name
        try txn.put(schema.users, userId, bytes: user.encoded())
        noteWrite()
        for transaction in PlanRenewal.changePlan(&record, to: plan, nowMs: nowMs, actor: actor) {
            _ = try append(transaction, userId: userId, record: &record)
        }
        setBalance(record, userId: userId)
        return record.view(userId: userId)
    }

    /// Reads an open hold, or refuses: `holdAlreadySettled` for an issued id that is gone, else `unknownHold`.
    private mutating func openHold(_ holdId: UInt64, _ operation: String) throws(LedgerError) -> HoldRecord {
        if let hold = try txn.get(schema.holds, holdId, { (bytes) throws(LedgerError) in try HoldRecord(bytes) }) { return hold }
        if holdId > 0, holdId < (try peekNextHoldId()) {
            throw .refusal(.holdAlreadySettled, operation, "hold \(holdId) was already settled")
        }
        throw .refusal(.unknownHold, operation, "no hold with id \(holdId)")
    }
}
