import Foundation

/// What the hold writer applies to the hold store; completions run on its thread after the commit.
enum HoldOperation {
    case hold(userId: UInt64, amount: Int64, requestId: String, actor: String, completion: @Sendable (Result<HoldReceipt, LedgerError>) -> Void)
    /// Gives a claimed hold back unspent.
    case release(holdId: UInt64, hold: HoldRecord, completion: @Sendable (Result<ReleaseReceipt, LedgerError>) -> Void)

    func fail(_ error: LedgerError) {
        switch self {
        case .hold(_, _, _, _, let completion): completion(.failure(error))
        case .release(_, _, let completion): completion(.failure(error))
        }
    }
}

/// The hold writer: one thread per `Ledger` that group-commits holds and releases to the `HoldStore`.
///
/// A batch takes the store's write lock (which serialises every process's holds), reads each balance
/// from a fresh snapshot of the durable environment taken *after* the lock, decides each hold against
/// `balance − held` (a due renewal projected as the durable writer will apply it), and commits without
/// fsync. So a hold costs no disk wait, and two processes can never both spend the same tokens:
/// anything that lowers a balance below what is held either releases its own hold (a charge) or runs
/// under the same lock (renewals, negative adjustments and plan changes — `HeldView.lockExact()`).
///
/// `@unchecked Sendable`: `statistics` is only touched with `statisticsLock` held; the queue locks
/// itself; the transactions and caches are used on the writer thread alone; the rest is immutable.
final class HoldWriter: @unchecked Sendable {
    let store: HoldStore
    let environment: LMDBEnvironment
    let schema: LedgerSchema
    let plans: PlanCatalog
    let clock: LedgerClock
    let instance: UInt64
    let table: OpenHoldTable
    let maxBatchSize: Int
    let afterBatch: (@Sendable () -> Void)?

    private let queue = LedgerWorkQueue<HoldOperation>()
    private let statisticsLock = NSLock()
    private var statistics = LedgerWriterStatistics(commits: 0, mutations: 0)

    // Writer-thread state.
    private var balanceSnapshot: OpaquePointer?
    private var heldTotals: [UInt64: Int64] = [:]
    private var dirtyHeld: Set<UInt64> = []

    private enum Outcome {
        case hold(Result<HoldReceipt, LedgerError>, id: UInt64, record: HoldRecord?)
        case release(Result<ReleaseReceipt, LedgerError>)
    }

    init(store: HoldStore, environment: LMDBEnvironment, schema: LedgerSchema, plans: PlanCatalog, clock: LedgerClock,
         instance: UInt64, table: OpenHoldTable, maxBatchSize: Int, afterBatch: (@Sendable () -> Void)?) {
        self.store = store
        self.environment = environment
        self.schema = schema
        self.plans = plans
        self.clock = clock
        self.instance = instance
        self.table = table
        self.maxBatchSize = maxBatchSize
        self.afterBatch = afterBatch
    }

    func start() {
        LedgerThread.start(named: "ledger-holds") { [self] in run() }
    }

    /// Queues an operation (`wake: false`: the caller calls `wake()` soon). After `stop()`, fails it at
    /// once (on the caller's thread) with `unavailable`.
    func submit(_ operation: HoldOperation, wake: Bool = true) {
        guard queue.submit(operation, wake: wake) else {
            operation.fail(LedgerError(code: .unavailable, operation: "hold", message: "the ledger is closed"))
            return
        }
    }

    /// Wakes the thread for operations submitted with `wake: false`.
    func wake() { queue.wake() }

    /// Finishes queued work and stops the thread; waits for that unless called on the thread itself.
    func stop() { queue.stop() }

    /// Whether the calling thread is the hold writer.
    var isCurrentThread: Bool { queue.isCurrentThread }

    /// Commits and operations so far.
    var currentStatistics: LedgerWriterStatistics {
        statisticsLock.lock()
        defer { statisticsLock.unlock() }
        return statistics
    }

    private func run() {
        var batch: [HoldOperation] = []
        while queue.next(into: &batch, maxCount: maxBatchSize) == .work {
            process(batch)
            afterBatch?()
            batch.removeAll(keepingCapacity: true)
        }
        if let balanceSnapshot { environment.abort(balanceSnapshot) }
        queue.markExited()
    }

    /// Applies `batch` in one hold-store transaction and one commit, then completes each operation.
    private func process(_ batch: [HoldOperation]) {
        let nowMs = clock.now().ledgerMilliseconds
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        let raw: OpaquePointer
        do throws(LedgerError) {
            raw = try store.environment.begin(readOnly: false)
            // The balance snapshot is taken under the store's lock, so it includes every durable commit
            // that lowered a balance while holding that lock.
            if let balanceSnapshot {
                try environment.renew(balanceSnapshot)
            } else {
                balanceSnapshot = try environment.begin(readOnly: true)
            }
        } catch {
            fail(batch, error)
            return
        }
        defer { if let balanceSnapshot { environment.reset(balanceSnapshot) } }
        let txn = LMDBTransaction(handle: raw)
        let balances = LMDBTransaction(handle: balanceSnapshot!)
        heldTotals.removeAll(keepingCapacity: true)
        dirtyHeld.removeAll(keepingCapacity: true)
        do throws(LedgerError) {
            var nextId = try store.nextHoldId(in: txn)
            guard nextId > 0 else { throw LedgerError(code: .storage, operation: "hold", message: "the hold store was not seeded") }
            for operation in batch {
                switch operation {
                case .hold(let userId, let amount, let requestId, let actor, _):
                    let decision = try decide(userId: userId, amount: amount, nowMs: nowMs, txn: txn, balances: balances)
                    switch decision {
                    case .failure(let refusal):
                        outcomes.append(.hold(.failure(refusal), id: 0, record: nil))
                    case .success(let (balance, held)):
                        let id = nextId
                        nextId += 1
                        let record = HoldRecord(userId: userId, amount: amount, createdMs: nowMs, owner: instance, requestId: requestId, actor: actor)
                        try txn.putReserving(store.holds, id, count: record.encodedSize, flags: .noOverwrite) { record.encode(into: $0) }
                        setHeld(held + amount, of: userId)
                        outcomes.append(.hold(.success(HoldReceipt(holdId: HoldID(rawValue: id), userId: UserID(rawValue: userId), amount: amount,
                                                                   balance: balance, available: balance - held - amount)),
                                              id: id, record: record))
                    }
                case .release(let holdId, let hold, _):
                    let held = try drop(holdId, hold, txn: txn)
                    let balance = try projectedBalance(hold.userId, nowMs: nowMs, held: held, balances: balances) ?? 0
                    outcomes.append(.release(.success(ReleaseReceipt(holdId: HoldID(rawValue: holdId), userId: UserID(rawValue: hold.userId),
                                                                     released: hold.amount, available: balance - held))))
                }
            }
            for userId in dirtyHeld { try store.setHeld(heldTotals[userId] ?? 0, of: userId, in: txn) }
            try store.setNextHoldId(nextId, in: txn)
            try store.environment.commit(raw)
        } catch {
            store.environment.abort(raw)
            fail(batch, error)
            return
        }
        statisticsLock.lock()
        statistics.commits += 1
        statistics.mutations += batch.count
        statisticsLock.unlock()
        for (operation, outcome) in zip(batch, outcomes) {
            switch (operation, outcome) {
            case (.hold(_, _, _, _, let completion), .hold(let result, let id, let record)):
                if let record, case .success = result { table.insert(id, record) }
                completion(result)
            case (.release(let holdId, _, let completion), .release(let result)):
                table.remove(holdId)
                completion(result)
            default:
                operation.fail(LedgerError(code: .storage, operation: "hold", message: "internal mismatch of operation and outcome"))
            }
        }
    }

    /// Decides one hold: the user's (projected) balance and held total, or the refusal.
    private func decide(userId: UInt64, amount: Int64, nowMs: Int64, txn: borrowing LMDBTransaction,
                        balances: borrowing LMDBTransaction) throws(LedgerError) -> Result<(balance: Int64, held: Int64), LedgerError> {
        guard amount > 0 else { return .failure(.refusal(.invalidAmount, "hold", "a hold must be for a positive amount, not \(amount)")) }
        let held = try heldTotal(userId, txn: txn)
        guard let balance = try projectedBalance(userId, nowMs: nowMs, held: held, balances: balances) else {
            return .failure(.refusal(.unknownUser, "hold", "no user with id \(userId)"))
        }
        let available = balance - held
        guard available >= amount else {
            return .failure(LedgerError(code: .insufficientTokens, operation: "hold", message: "insufficient tokens: \(amount) required, \(available) available",
                                        insufficient: .init(required: amount, available: max(0, available))))
        }
        return .success((balance, held))
    }

    /// The balance as the next durable write will leave it (a due renewal applied), nil for no such user.
    private func projectedBalance(_ userId: UInt64, nowMs: Int64, held: Int64, balances: borrowing LMDBTransaction) throws(LedgerError) -> Int64? {
        try balances.get(schema.balances, userId) { (bytes) throws(LedgerError) -> Int64 in
            var record = try BalanceRecord(bytes)
            guard nowMs >= record.periodEndMs else { return record.balance }
            record.held = held
            return PlanRenewal.projected(record, plans: plans, nowMs: nowMs).balance
        }
    }

    /// Deletes a released hold and lowers its user's held total; returns the new total.
    private func drop(_ holdId: UInt64, _ hold: HoldRecord, txn: borrowing LMDBTransaction) throws(LedgerError) -> Int64 {
        let current = try heldTotal(hold.userId, txn: txn)
        guard try txn.delete(store.holds, holdId) else { return current }  // already released (the owner was taken for dead)
        let updated = max(0, current - hold.amount)
        setHeld(updated, of: hold.userId)
        return updated
    }

    private func heldTotal(_ userId: UInt64, txn: borrowing LMDBTransaction) throws(LedgerError) -> Int64 {
        if let cached = heldTotals[userId] { return cached }
        let stored = try store.held(of: userId, in: txn)
        heldTotals[userId] = stored
        return stored
    }

    private func setHeld(_ value: Int64, of userId: UInt64) {
        heldTotals[userId] = value
        dirtyHeld.insert(userId)
    }

    /// The batch could not commit: every operation fails; released holds can be settled again.
    private func fail(_ batch: [HoldOperation], _ error: LedgerError) {
        for operation in batch {
            switch operation {
            case .release(let holdId, _, _): table.unclaim(holdId)
            case .hold: break
            }
            operation.fail(error)
        }
    }
}
