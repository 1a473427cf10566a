import Foundation

/// A mutation a caller has queued for the writer; its completion runs on the writer thread once durable.
enum LedgerMutation {
    /// Charges a hold already claimed from `OpenHoldTable`.
    case charge(holdId: UInt64, hold: HoldRecord, operation: String, amount: Int64?, completion: @Sendable (Result<ChargeReceipt, LedgerError>) -> Void)
    case job(any LedgerJob)

    /// Completes the mutation with `error` (used when its batch could not commit).
    func fail(_ error: LedgerError) {
        switch self {
        case .charge(_, _, _, _, let completion): completion(.failure(error))
        case .job(let job): job.fail(error)
        }
    }
}

/// The group-commit writer: one thread per `Ledger` that drains the queue of mutations, applies each
/// drained batch in one LMDB write transaction, commits once, and only then runs the completions.
/// Mutations succeed or fail on their own: a refusal (not enough tokens, a settled hold) fails only its
/// own completion; a storage fault, or a refusal after a write, aborts the batch and re-runs each
/// mutation in its own transaction.
///
/// Holds and releases never come here: they live in the volatile `HoldStore` (see `HoldWriter`). A
/// charge arrives with its hold already claimed; right after the commit this thread drops the hold.
///
/// Commits never wait for the disk (`MDB_NOSYNC`): in durable mode each commit becomes a
/// `DurabilityUnit` — its charges as a journal entry, and whether it carried other writes — that the
/// `DurabilityFlusher` thread makes durable (one journal write, or a checkpoint) while this thread
/// applies the next batch; only then do the completions run. Without durability the completions run
/// at once and a checkpoint follows within `lazySyncInterval` (`CheckpointThread`). What a power loss
/// can undo is a commit whose results nobody has been told yet (see `LedgerRecovery`).
///
/// `@unchecked Sendable`: `statistics` is only touched with `statisticsLock` held; the queue locks
/// itself; `outcomes`, the awaiting results and everything the batch does happen on the writer thread
/// alone; the remaining properties are immutable `Sendable` values.
final class LedgerWriter: @unchecked Sendable {
    let environment: LMDBEnvironment
    let schema: LedgerSchema
    let plans: PlanCatalog
    let clock: LedgerClock
    let instance: UInt64
    let maxBatchSize: Int
    /// Takes checkpoints (see `Checkpointer`) beside this thread and the flusher.
    let checkpoints: CheckpointThread
    /// Called after each batch's completions (`LedgerOptions.afterBatch`).
    let afterBatch: (@Sendable () -> Void)?
    /// `LedgerOptions.onCommit`.
    let onCommit: (@Sendable (_ mutations: Int, _ nanoseconds: Int64) -> Void)?
    /// Held totals for the batches (writer thread only).
    let heldView: HeldView
    /// This process's open holds: a failed charge gives its hold back.
    let table: OpenHoldTable

    private let queue = LedgerWorkQueue<LedgerMutation>()
    private let statisticsLock = NSLock()

    // Writer-thread state.
    private var outcomes: [Outcome] = []
    /// Tests of crash recovery: stop without releasing holds, deregistering or a last checkpoint, as a
    /// killed process would. Set before `stop()`.
    var stopsAsIfKilled = false {
        didSet { flusher?.stopsAsIfKilled = stopsAsIfKilled }
    }
    /// Durable mode: this round's commits, waiting to be handed to `flusher`.
    private var awaitingSync: [DurabilityUnit] = []

    /// Commits and mutations so far; updated under `statisticsLock` after each commit.
    private var statistics = LedgerWriterStatistics(commits: 0, mutations: 0)

    /// What a mutation's application produced, delivered by its completion.
    enum Outcome {
        case charge(Result<ChargeReceipt, LedgerError>)
        case job
    }

    /// Durable mode: makes committed results durable on its own thread while the writer applies the
    /// next batch, then completes them. nil without durability.
    let flusher: DurabilityFlusher?

    init(environment: LMDBEnvironment, schema: LedgerSchema, plans: PlanCatalog, clock: LedgerClock, instance: UInt64,
         maxBatchSize: Int, durable: Bool, lazySyncInterval: Double, checkpointer: Checkpointer, afterBatch: (@Sendable () -> Void)?,
         onCommit: (@Sendable (_ mutations: Int, _ nanoseconds: Int64) -> Void)? = nil,
         onJournalWrite: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil, onCheckpoint: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil,
         holdStore: HoldStore, table: OpenHoldTable) {
        self.heldView = HeldView(store: holdStore)
        let checkpoints = CheckpointThread(checkpointer: checkpointer, interval: lazySyncInterval, afterRound: afterBatch, onCheckpoint: onCheckpoint)
        self.checkpoints = checkpoints
        self.flusher = durable ? DurabilityFlusher(checkpoints: checkpoints, maxRound: maxBatchSize == 1 ? 1 : .max, afterRound: afterBatch,
                                                   onJournalWrite: onJournalWrite) : nil
        self.table = table
        self.onCommit = onCommit
        self.environment = environment
        self.schema = schema
        self.plans = plans
        self.clock = clock
        self.instance = instance
        self.maxBatchSize = maxBatchSize
        self.afterBatch = afterBatch
    }

    func start() {
        checkpoints.start()
        flusher?.start()
        LedgerThread.start(named: "ledger-writer") { [self] in run() }
    }

    /// Queues a mutation (`wake: false`: the caller calls `wake()` soon). After `stop()`, completes it at
    /// once (on the caller's thread) with `unavailable`.
    func submit(_ mutation: LedgerMutation, wake: Bool = true) {
        guard queue.submit(mutation, wake: wake) else {
            mutation.fail(LedgerError(code: .unavailable, operation: "submit", message: "the ledger is closed"))
            return
        }
    }

    /// Wakes the thread for mutations submitted with `wake: false`.
    func wake() { queue.wake() }

    /// False once `stop()` was called.
    var isAcceptingWork: Bool { queue.isAcceptingWork }

    /// Whether the calling thread is the writer, its flusher or its checkpoint thread (where blocking on
    /// the writer would deadlock).
    var isCurrentThread: Bool { queue.isCurrentThread || flusher?.isCurrentThread == true || checkpoints.isCurrentThread }

    /// Finishes queued work, releases this process's remaining holds, deregisters it and stops the thread.
    /// Waits for that unless called on the writer thread itself.
    func stop() { queue.stop() }

    private func run() {
        var batch: [LedgerMutation] = []
        while queue.next(into: &batch, maxCount: maxBatchSize) == .work {
            process(batch)
            afterBatch?()
            batch.removeAll(keepingCapacity: true)
            handOffAwaiting()
        }
        if !stopsAsIfKilled { finish() }
        handOffAwaiting()
        // Durable: the flusher stops the checkpoint thread once it made everything durable. Either way
        // a clean stop ends with a checkpoint and a retired journal record.
        if let flusher { flusher.stop() } else { checkpoints.stop(finalCheckpoint: !stopsAsIfKilled) }
        // Released now rather than whenever the last reference goes: the next opener must see this
        // process as gone.
        checkpoints.checkpointer.journal.closeFile()
        queue.markExited()
    }

    /// Applies `batch` in one transaction and one commit, then completes every mutation.
    private func process(_ batch: [LedgerMutation]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let nowMs = clock.now().ledgerMilliseconds
        let raw: OpaquePointer
        do { raw = try environment.begin(readOnly: false) } catch {
            for mutation in batch { abandon(mutation, error) }
            return
        }
        var context = LedgerBatch(rawTransaction: raw, schema: schema, plans: plans, nowMs: nowMs, instance: instance, heldView: heldView)
        outcomes.removeAll(keepingCapacity: true)
        var fault: LedgerError?
        for mutation in batch {
            switch apply(mutation, &context) {
            case .success(let outcome): outcomes.append(outcome)
            case .failure(let error): fault = error
            }
            if fault != nil { break }
        }
        if fault == nil {
            do { try context.flush() } catch { fault = error }
        }
        if fault != nil {
            environment.abort(raw)
            try? heldView.end(commit: false)
            for mutation in batch { processAlone(mutation, nowMs: nowMs) }
            return
        }
        let transactionId = environment.transactionId(raw)
        do { try environment.commit(raw) } catch {
            try? heldView.end(commit: false)
            for mutation in batch { abandon(mutation, error) }
            return
        }
        committed(mutations: batch.count)
        onCommit?(batch.count, Int64(DispatchTime.now().uptimeNanoseconds &- started))
        settleHolds(batch, outcomes)
        deliver(batch, outcomes, transactionId: transactionId, nowMs: nowMs)
    }

    /// After the durable commit: drops every charged hold from the hold store (under its lock, a few
    /// microseconds — so a balance read after the charge's completion never still counts the hold) and
    /// commits the batch's hold-store changes; a refused charge gives its hold back. If the hold store
    /// cannot be written, the charged holds stay reserved (never spendable twice) until this process exits.
    private func settleHolds(_ batch: some Collection<LedgerMutation>, _ outcomes: some Collection<Outcome>) {
        var settled: [(id: UInt64, userId: UInt64, amount: Int64)] = []
        for (mutation, outcome) in zip(batch, outcomes) {
            guard case .charge(let holdId, let hold, _, _, _) = mutation, case .charge(let result) = outcome else { continue }
            switch result {
            case .success: settled.append((holdId, hold.userId, hold.amount))
            case .failure: table.unclaim(holdId)
            }
        }
        do throws(LedgerError) {
            if !settled.isEmpty {
                _ = try heldView.write { (holds) throws(LedgerError) in try heldView.store.drop(settled, in: holds) }
            }
            try heldView.end(commit: true)
        } catch {
            try? heldView.end(commit: false)
        }
        if !settled.isEmpty { table.remove(settled.map(\.id)) }
    }

    /// Fails a mutation whose batch could not commit; a charge gives its hold back.
    private func abandon(_ mutation: LedgerMutation, _ error: LedgerError) {
        if case .charge(let holdId, _, _, _, _) = mutation { table.unclaim(holdId) }
        mutation.fail(error)
    }

    /// Re-runs one mutation in its own transaction after its batch faulted.
    private func processAlone(_ mutation: LedgerMutation, nowMs: Int64) {
        do throws(LedgerError) {
            let raw = try environment.begin(readOnly: false)
            var context = LedgerBatch(rawTransaction: raw, schema: schema, plans: plans, nowMs: nowMs, instance: instance, heldView: heldView)
            switch apply(mutation, &context) {
            case .failure(let error):
                environment.abort(raw)
                try? heldView.end(commit: false)
                abandon(mutation, error)
            case .success(let outcome):
                do { try context.flush() } catch {
                    environment.abort(raw)
                    try? heldView.end(commit: false)
                    throw error
                }
                let transactionId = environment.transactionId(raw)
                do { try environment.commit(raw) } catch {
                    try? heldView.end(commit: false)
                    throw error
                }
                committed(mutations: 1)
                settleHolds(CollectionOfOne(mutation), CollectionOfOne(outcome))
                deliver(CollectionOfOne(mutation), CollectionOfOne(outcome), transactionId: transactionId, nowMs: nowMs)
            }
        } catch {
            abandon(mutation, error)
        }
    }

    /// Applies one mutation. A refusal made before any write is an outcome; a storage fault, or a
    /// refusal after a write, is a failure that poisons the transaction.
    private func apply(_ mutation: LedgerMutation, _ context: inout LedgerBatch) -> Result<Outcome, LedgerError> {
        let writesBefore = context.writes
        func settle<Value>(_ body: (inout LedgerBatch) throws(LedgerError) -> Value, _ wrap: (Result<Value, LedgerError>) -> Outcome) -> Result<Outcome, LedgerError> {
            do {
                return .success(wrap(.success(try body(&context))))
            } catch {
                if error.isStorageFault || context.writes != writesBefore { return .failure(error) }
                return .success(wrap(.failure(error)))
            }
        }
        switch mutation {
        case .charge(let holdId, let hold, let operation, let amount, _):
            return settle({ (batch) throws(LedgerError) in try batch.charge(holdId: holdId, hold: hold, operation: operation, amount: amount) }, Outcome.charge)
        case .job(let job):
            return settle({ (batch) throws(LedgerError) in try job.apply(&batch) }, { _ in Outcome.job })
        }
    }

    /// Runs a commit's completions now (without durability), or once its unit is durable: its charges
    /// become one journal entry under the commit's transaction id.
    private func deliver(_ batch: some Collection<LedgerMutation>, _ outcomes: some Collection<Outcome>, transactionId: UInt64, nowMs: Int64) {
        guard flusher != nil else {
            for (mutation, outcome) in zip(batch, outcomes) { Self.complete(mutation, outcome) }
            return
        }
        var unit = DurabilityUnit(results: [], entry: nil, needsCheckpoint: false)
        unit.results.reserveCapacity(batch.count)
        var payload = ByteWriter(capacity: 0)
        for (mutation, outcome) in zip(batch, outcomes) {
            switch (mutation, outcome) {
            case (.charge(let holdId, let hold, let operation, _, _), .charge(.success(let receipt))):
                JournalEntry.encode(JournaledCharge(userId: hold.userId, holdId: holdId, amount: receipt.charged, operation: operation,
                                                    requestId: hold.requestId, actor: hold.actor), into: &payload)
            case (.job, _):
                unit.needsCheckpoint = true
            default:
                break
            }
            unit.results.append((mutation, outcome))
        }
        if !payload.bytes.isEmpty { unit.entry = JournalEntry(transactionId: transactionId, nowMs: nowMs, payload: payload.bytes) }
        awaitingSync.append(unit)
    }

    /// Gives the commits that wait to be durable to the flusher (one hand-off per round).
    private func handOffAwaiting() {
        guard let flusher, !awaitingSync.isEmpty else { return }
        flusher.enqueue(awaitingSync)
        awaitingSync.removeAll(keepingCapacity: true)
    }

    static func complete(_ mutation: LedgerMutation, _ outcome: Outcome) {
        switch (mutation, outcome) {
        case (.charge(_, _, _, _, let completion), .charge(let result)): completion(result)
        case (.job(let job), _): job.finish()
        default: mutation.fail(LedgerError(code: .storage, operation: "complete", message: "internal mismatch of mutation and outcome"))
        }
    }

    /// Completes a committed mutation whose commit could not be made durable (`cause`): a refused charge
    /// changed nothing and gets its refusal; everything else stands undurable and fails with `notDurable`.
    static func completeUndurable(_ mutation: LedgerMutation, _ outcome: Outcome, cause: LedgerError) {
        if case .charge(.failure) = outcome {
            complete(mutation, outcome)
        } else {
            mutation.fail(.notDurable(cause))
        }
    }

    /// Commits and mutations so far.
    var currentStatistics: LedgerWriterStatistics {
        statisticsLock.lock()
        var current = statistics
        statisticsLock.unlock()
        current.syncs += (flusher?.syncs ?? 0) + checkpoints.roundsCompleted
        return current
    }

    /// Counts a commit (before its completions run, so a caller that saw a result sees it counted).
    private func committed(mutations: Int) {
        statisticsLock.lock()
        statistics.commits += 1
        statistics.mutations += mutations
        statisticsLock.unlock()
        if flusher == nil { checkpoints.noteCommit() }
    }

    /// On the way out: release this process's open holds and any dead process's, deregister.
    private func finish() {
        let nowMs = clock.now().ledgerMilliseconds
        do {
            try environment.write { (txn) throws(LedgerError) in
                var context = LedgerBatch(rawTransaction: txn.handle, schema: schema, plans: plans, nowMs: nowMs, instance: instance, heldView: heldView)
                _ = try context.releaseHolds(ofDeadProcessesAnd: instance)
                try context.flush()
            }
            try? heldView.end(commit: true)
        } catch {
            try? heldView.end(commit: false)
            // The next process to open the ledger releases these holds instead.
        }
    }
}

/// A generic write run by the writer inside a batch, with its result delivered after the commit.
protocol LedgerJob: AnyObject, Sendable {
    /// Applies the job to the batch (on the writer thread); keeps the result until `finish()`.
    func apply(_ batch: inout LedgerBatch) throws(LedgerError)
    /// Delivers the kept result after a successful commit.
    func finish()
    /// Delivers `error` instead (the batch did not commit).
    func fail(_ error: LedgerError)
}

/// A `LedgerJob` around a closure.
///
/// `@unchecked Sendable`: `result` is written in `apply` and read in `finish`, both on the writer thread.
final class ClosureJob<Value: Sendable>: LedgerJob, @unchecked Sendable {
    private let body: @Sendable (inout LedgerBatch) throws(LedgerError) -> Value
    private let completion: @Sendable (Result<Value, LedgerError>) -> Void
    private var result: Result<Value, LedgerError>?

    init(_ body: @escaping @Sendable (inout LedgerBatch) throws(LedgerError) -> Value, completion: @escaping @Sendable (Result<Value, LedgerError>) -> Void) {
        self.body = body
        self.completion = completion
    }

    func apply(_ batch: inout LedgerBatch) throws(LedgerError) {
        do {
            result = .success(try body(&batch))
        } catch {
            result = .failure(error)
            throw error
        }
    }

    func finish() {
        completion(result ?? .failure(LedgerError(code: .storage, operation: "job", message: "job finished without running")))
    }

    func fail(_ error: LedgerError) { completion(.failure(error)) }
}
