/// How a plan period's allocation is applied to a balance: the pure arithmetic behind lazy renewal,
/// `ledger renew`, plan changes, and the renewal a reader projects for display.
///
/// Renewing after *k* elapsed periods of plan *P* (monthly allocation *m*):
/// - plans without rollover end at `max(m, held)` — unused tokens lapse;
/// - plans with rollover end at `min(balance + k·m, rollover_cap)`, never below `held`.
/// Recorded as a `renewal` transaction (+allocation) followed, when tokens lapse, by an `expiry`
/// transaction (the negative difference), so the balance stays the sum of its transactions and never
/// drops below what open holds reserve.
enum PlanRenewal {
    /// The result of one allocation: the new balance and the transactions that explain it.
    struct Outcome {
        var added: Int64
        var expired: Int64
        var finalBalance: Int64
    }

    /// Computes an allocation of `periods` periods of `plan` to a balance of `balance` with `held` reserved.
    static func allocate(plan: Plan, periods: Int64, balance: Int64, held: Int64) -> Outcome {
        let headroom = Int64.max - max(balance, 0)
        let (product, overflow) = plan.monthlyTokens.multipliedReportingOverflow(by: max(periods, 1))
        var added = plan.rollover ? (overflow ? Int64.max : product) : plan.monthlyTokens
        added = min(added, headroom)
        var final = plan.rollover ? min(balance + added, plan.rolloverCap ?? Int64.max) : plan.monthlyTokens
        final = max(final, held)
        return Outcome(added: added, expired: final - balance - added, finalBalance: final)
    }

    /// Applies every renewal due at `nowMs` to `record`: advances its period and returns the transactions
    /// to append (empty when nothing is due, or when its plan is no longer in the catalog — then the
    /// period is left expired and renews once the plan is back).
    static func renewIfDue(_ record: inout BalanceRecord, plans: PlanCatalog, nowMs: Int64) -> [TransactionRecord] {
        guard nowMs >= record.periodEndMs, let plan = plans.plan(named: record.plan) else { return [] }
        let index = PlanCalendar.periodIndex(containing: nowMs, anchorMs: record.anchorMs, atLeast: record.periodIndex)
        let periods = Int64(index) - Int64(record.periodIndex)
        guard periods > 0 else { return [] }
        let (startMs, endMs) = PlanCalendar.period(index, anchorMs: record.anchorMs)
        record.periodIndex = index
        record.periodStartMs = startMs
        record.periodEndMs = endMs
        let memo = "period \(index + 1) from \(PlanCalendar.dayString(startMs))" + (periods > 1 ? " (\(periods) periods elapsed)" : "")
        return apply(allocate(plan: plan, periods: periods, balance: record.balance, held: record.held), to: &record, plan: plan.name, memo: memo, nowMs: nowMs)
    }

    /// Moves `record` to `plan`, starting a new period at `nowMs` with the new plan's allocation.
    static func changePlan(_ record: inout BalanceRecord, to plan: Plan, nowMs: Int64, actor: String) -> [TransactionRecord] {
        let previous = record.plan
        record.plan = plan.name
        record.anchorMs = nowMs
        record.periodIndex = 0
        (record.periodStartMs, record.periodEndMs) = PlanCalendar.period(0, anchorMs: nowMs)
        var transactions = apply(allocate(plan: plan, periods: 1, balance: record.balance, held: record.held),
                                 to: &record, plan: plan.name, memo: "plan changed from \(previous) to \(plan.name)", nowMs: nowMs)
        for index in transactions.indices { transactions[index].actor = actor }
        return transactions
    }

    private static func apply(_ outcome: Outcome, to record: inout BalanceRecord, plan: String, memo: String, nowMs: Int64) -> [TransactionRecord] {
        var transactions: [TransactionRecord] = []
        if outcome.added != 0 {
            record.balance += outcome.added
            transactions.append(TransactionRecord(kind: .renewal, delta: outcome.added, balanceAfter: record.balance, timeMs: nowMs,
                                                  holdId: 0, operation: plan, requestId: "", actor: "system", memo: memo))
        }
        if outcome.expired != 0 {
            record.balance += outcome.expired
            transactions.append(TransactionRecord(kind: .expiry, delta: outcome.expired, balanceAfter: record.balance, timeMs: nowMs,
                                                  holdId: 0, operation: plan, requestId: "", actor: "system", memo: memo))
        }
        return transactions
    }

    /// The balance a reader should show: `record` with due renewals applied in memory only.
    static func projected(_ record: BalanceRecord, plans: PlanCatalog, nowMs: Int64) -> BalanceRecord {
        var copy = record
        _ = renewIfDue(&copy, plans: plans, nowMs: nowMs)
        return copy
    }
}
