import Foundation

/// Committed results that wait to be durable before their completions run: one commit's.
struct DurabilityUnit {
    var results: [(LedgerMutation, LedgerWriter.Outcome)]
    /// The commit's charges, for the journal (nil: none succeeded).
    var entry: JournalEntry?
    /// The commit carried other writes (jobs), which only a checkpoint makes durable.
    var needsCheckpoint: Bool
}

/// The durable writer's second thread: makes committed results durable and completes them.
///
/// The durable environment commits without fsync. A round takes every unit handed over since the last
/// one: units of charges only are made durable together by one synchronous write of their entries to
/// this process's `ChargeJournal`, then completed here; a unit that carried another write (a job) goes
/// to the `CheckpointThread`, which completes it after its next checkpoint. Units handed over during a
/// round ride the next one, so rounds batch themselves under load. Every quarter of the ring it asks the
/// checkpoint thread for a checkpoint, so the ring rarely runs out; when it does, the round waits for one.
///
/// `@unchecked Sendable`: `rounds` is only touched with `lock` held; the queue locks itself; the
/// journal's ring is only used on this thread; the rest is immutable.
final class DurabilityFlusher: @unchecked Sendable {
    private let checkpoints: CheckpointThread
    private let journal: ChargeJournal
    /// Most commits made durable by one round (`LedgerOptions.maxBatchSize`: 1 turns group commit off
    /// here too, for the benchmark's one-write-per-mutation comparison).
    private let maxRound: Int
    private let afterRound: (@Sendable () -> Void)?
    private let onJournalWrite: (@Sendable (_ nanoseconds: Int64) -> Void)?
    private let queue = LedgerWorkQueue<DurabilityUnit>()
    private let lock = NSLock()
    private var rounds = 0
    /// Journal blocks written since the last checkpoint request.
    private var blocksSinceRequest = 0
    /// Tests of power-loss recovery: stop without the last checkpoint, leaving the journal as a killed
    /// process would. Set before `stop()`.
    var stopsAsIfKilled = false

    init(checkpoints: CheckpointThread, maxRound: Int, afterRound: (@Sendable () -> Void)?,
         onJournalWrite: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil) {
        self.checkpoints = checkpoints
        self.journal = checkpoints.checkpointer.journal
        self.maxRound = maxRound
        self.afterRound = afterRound
        self.onJournalWrite = onJournalWrite
    }

    /// Rounds of completions so far (each after a journal write or a checkpoint, if it needed one).
    var syncs: Int {
        lock.lock()
        defer { lock.unlock() }
        return rounds
    }

    func start() {
        LedgerThread.start(named: "ledger-flusher") { [self] in run() }
    }

    /// Hands committed results over; they complete once durable. (Never refused: the writer stops the
    /// flusher only after its own last hand-off.)
    func enqueue(_ units: [DurabilityUnit]) {
        _ = queue.submit(units)
    }

    /// Makes what was handed over durable and completes it, then stops the checkpoint thread (after a
    /// last checkpoint that covers the writer's last commit and retires the journal) and this thread.
    func stop() { queue.stop() }

    /// Whether the calling thread is the flusher (where blocking on the ledger would deadlock).
    var isCurrentThread: Bool { queue.isCurrentThread }

    private func run() {
        var round: [DurabilityUnit] = []
        var journaled: [DurabilityUnit] = []
        while queue.next(into: &round, maxCount: maxRound) == .work {
            journaled.removeAll(keepingCapacity: true)
            var forCheckpoint: [DurabilityUnit] = []
            for unit in round {
                if unit.needsCheckpoint { forCheckpoint.append(unit) } else { journaled.append(unit) }
            }
            if !forCheckpoint.isEmpty { checkpoints.completeAfterCheckpoint(forCheckpoint) }
            if !journaled.isEmpty {
                do {
                    try makeDurable(journaled)
                    checkpoints.health.succeeded(.journal)
                    // Counted before the completions run, so a caller that saw a result sees it counted.
                    lock.lock()
                    rounds += 1
                    lock.unlock()
                    for unit in journaled {
                        for (mutation, outcome) in unit.results { LedgerWriter.complete(mutation, outcome) }
                    }
                } catch {
                    // Committed but not known to be durable: the changes stand (a charged hold is gone either
                    // way); their callers learn it from the `notDurable` code, operators from `/readyz`.
                    checkpoints.health.failed(.journal, error)
                    for unit in journaled {
                        for (mutation, outcome) in unit.results { LedgerWriter.completeUndurable(mutation, outcome, cause: error) }
                    }
                }
                afterRound?()
            }
            round.removeAll(keepingCapacity: true)
        }
        checkpoints.stop(finalCheckpoint: !stopsAsIfKilled)
        queue.markExited()
    }

    /// Journals the units' charges in one write; without room in the ring, waits for a checkpoint
    /// (which also covers these commits, if they still do not fit).
    private func makeDurable(_ units: [DurabilityUnit]) throws(LedgerError) {
        let entries = units.compactMap(\.entry)
        guard !entries.isEmpty else { return }  // refusals only: nothing was written
        let started = DispatchTime.now().uptimeNanoseconds
        defer { onJournalWrite?(Int64(DispatchTime.now().uptimeNanoseconds &- started)) }
        checkpoints.noteCommit()
        let blocks = entries.reduce(0) { $0 + ChargeJournal.blocks(forPayload: $1.payload.count) }
        if !journal.fits(blocks: blocks, durableThrough: checkpoints.checkpointer.durableTransactionId) {
            try checkpoints.checkpointNow()
            blocksSinceRequest = 0
            if !journal.fits(blocks: blocks, durableThrough: checkpoints.checkpointer.durableTransactionId) { return }  // covered by it
        }
        try journal.append(entries)
        blocksSinceRequest += blocks
        if blocksSinceRequest >= max(1, journal.capacity / 4) {
            checkpoints.request()
            blocksSinceRequest = 0
        }
    }
}
