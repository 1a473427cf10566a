/// The token mutations, applied inside a batch. Each checks every refusal before its first write.
extension LedgerBatch {
    /// Settles a hold (claimed from `OpenHoldTable`) by charging `amount` tokens (default: all of it);
    /// the rest becomes available again once the hold writer drops the hold.
    mutating func charge(holdId: UInt64, hold: HoldRecord, operation: String, amount: Int64?) throws(LedgerError) -> ChargeReceipt {
        let charged = amount ?? hold.amount
        guard charged > 0, charged <= hold.amount else {
            throw .refusal(.invalidAmount, "charge", "a charge must be between 1 and the \(hold.amount) tokens held, not \(charged)")
        }
        guard var record = try balance(hold.userId) else { throw .refusal(.unknownUser, "charge", "hold \(holdId) names a missing user") }
        record.held -= hold.amount
        noteSettled(hold.amount, userId: hold.userId)
        record.balance -= charged
        let entry = try append(TransactionRecord(kind: .charge, delta: -charged, balanceAfter: record.balance, timeMs: nowMs, holdId: holdId,
                                                 operation: operation, requestId: hold.requestId, actor: hold.actor, memo: ""),
                               userId: hold.userId, record: &record)
        setBalance(record, userId: hold.userId)
        return ChargeReceipt(holdId: HoldID(rawValue: holdId), userId: UserID(rawValue: hold.userId), charged: charged,
                             balance: record.balance, available: record.balance - record.held, sequence: entry.sequence)
    }

    /// Charges `amount` tokens without a hold (the portal's direct spend), if `balance − held` covers them.
    /// Takes the hold store's lock first: nothing may be held meanwhile in any process.
    mutating func spend(userId: UInt64, amount: Int64, operation: String, requestId: String, actor: String) throws(LedgerError) -> ChargeReceipt {
        guard amount > 0 else { throw .refusal(.invalidAmount, "spend", "a spend must be for a positive amount, not \(amount)") }
        guard var record = try balance(userId) else { throw .refusal(.unknownUser, "spend", "no user with id \(userId)") }
        try exactHeld(&record, userId: userId)
        let available = record.balance - record.held
        guard available >= amount else {
            throw LedgerError(code: .insufficientTokens, operation: "spend", message: "insufficient tokens: \(amount) required, \(available) available",
                              insufficient: .init(required: amount, available: max(0, available)))
        }
        record.balance -= amount
        let entry = try append(TransactionRecord(kind: .charge, delta: -amount, balanceAfter: record.balance, timeMs: nowMs, holdId: 0,
                                                 operation: operation, requestId: requestId, actor: actor, memo: ""),
                               userId: userId, record: &record)
        setBalance(record, userId: userId)
        return ChargeReceipt(holdId: HoldID(rawValue: 0), userId: UserID(rawValue: userId), charged: amount,
                             balance: record.balance, available: record.balance - record.held, sequence: entry.sequence)
    }

    /// Adds tokens to a balance (kind `grant`), or with `kind: .adjustment` adds or removes them.
    mutating func credit(userId: UInt64, delta: Int64, kind: TransactionKind, reason: String, actor: String) throws(LedgerError) -> LedgerTransaction {
        let operation = kind == .grant ? "grant" : "adjust"
        guard delta != 0, kind == .adjustment || delta > 0 else {
            throw .refusal(.invalidAmount, operation, "the amount must be positive, not \(delta)")
        }
        guard var record = try balance(userId) else { throw .refusal(.unknownUser, operation, "no user with id \(userId)") }
        if delta < 0 { try exactHeld(&record, userId: userId) }
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
        try exactHeld(&record, userId: userId)
        user.plan = plan.name
        try txn.put(schema.users, userId, bytes: user.encoded())
        noteWrite()
        for transaction in PlanRenewal.changePlan(&record, to: plan, nowMs: nowMs, actor: actor) {
            _ = try append(transaction, userId: userId, record: &record)
        }
        setBalance(record, userId: userId)
        return record.view(userId: userId)
    }
}
