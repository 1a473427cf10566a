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
/// one and makes them durable at once: if they are only charges, by one synchronous write of their
/// entries to this process's `ChargeJournal`; if any carries another write (a job), or the ring has no
/// room, by a checkpoint (`Checkpointer`), which covers every commit so far. Then it runs their
/// completions. Units handed over during a round ride the next one, so rounds batch themselves under load.
/// While idle it grows the journal's ring and, once `checkpointInterval` has passed since a commit,
/// takes a checkpoint, so the data file never lags far behind and a recovery has little to replay.
///
/// `@unchecked Sendable`: `statistics` is only touched with `lock` held; the queue locks itself; the
/// journal is only used on this thread; the rest is immutable.
final class DurabilityFlusher: @unchecked Sendable {
    private let checkpointer: Checkpointer
    private let journal: ChargeJournal
    private let checkpointInterval: Double
    /// Most commits made durable by one round (`LedgerOptions.maxBatchSize`: 1 turns group commit off
    /// here too, for the benchmark's one-write-per-mutation comparison).
    private let maxRound: Int
    private let afterRound: (@Sendable () -> Void)?
    private let queue = LedgerWorkQueue<DurabilityUnit>()
    private let lock = NSLock()
    private var rounds = 0
    /// Tests of power-loss recovery: stop without the last checkpoint, leaving the journal as a killed
    /// process would. Set before `stop()`.
    var stopsAsIfKilled = false
    /// Set when a round journaled commits no checkpoint covers yet.
    private var uncheckpointedSince: Double?

    init(checkpointer: Checkpointer, checkpointInterval: Double, maxRound: Int, afterRound: (@Sendable () -> Void)?) {
        self.maxRound = maxRound
        self.checkpointer = checkpointer
        self.journal = checkpointer.journal
        self.checkpointInterval = checkpointInterval
        self.afterRound = afterRound
    }

    /// Rounds of completions so far (each after a journal write or a checkpoint, if it needed one).
    var syncs: Int {
        lock.lock()
        defer { lock.unlock() }
        return rounds
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "ledger-flusher"
        thread.start()
    }

    /// Hands committed results over; they complete once durable. (Never refused: the writer stops the
    /// flusher only after its own last hand-off.)
    func enqueue(_ units: [DurabilityUnit]) {
        _ = queue.submit(units)
    }

    /// Makes what was handed over durable and completes it, checkpoints once more (covering the
    /// writer's last commit), retires the journal and stops the thread.
    func stop() { queue.stop() }

    /// Whether the calling thread is the flusher (where blocking on the ledger would deadlock).
    var isCurrentThread: Bool { queue.isCurrentThread }

    private func run() {
        var round: [DurabilityUnit] = []
        while true {
            let wake = queue.next(into: &round, maxCount: maxRound, deadline: idleDeadline())
            if wake == .stopped { break }
            if wake == .timedOut {
                idle()
                continue
            }
            do {
                try makeDurable(round)
                // Counted before the completions run, so a caller that saw a result sees it counted.
                lock.lock()
                rounds += 1
                lock.unlock()
                for unit in round {
                    for (mutation, outcome) in unit.results { LedgerWriter.complete(mutation, outcome) }
                }
            } catch {
                // Committed but not known to be durable: report the failure (a charged hold is gone either way).
                for unit in round {
                    for (mutation, _) in unit.results { mutation.fail(error) }
                }
            }
            round.removeAll(keepingCapacity: true)
            afterRound?()
        }
        if !stopsAsIfKilled, (try? checkpointer.checkpoint()) != nil { try? journal.retire() }
        queue.markExited()
    }

    private func makeDurable(_ round: [DurabilityUnit]) throws(LedgerError) {
        let entries = round.compactMap(\.entry)
        let blocks = entries.reduce(0) { $0 + ChargeJournal.blocks(forPayload: $1.payload.count) }
        if round.contains(where: \.needsCheckpoint) || !journal.fits(blocks: blocks, durableThrough: checkpointer.durableTransactionId) {
            try checkpointer.checkpoint()
            uncheckpointedSince = nil
        } else if !entries.isEmpty {
            try journal.append(entries)
            if uncheckpointedSince == nil { uncheckpointedSince = ProcessInfo.processInfo.systemUptime }
        }
    }

    /// When to wake without work: now while the ring can grow, at the checkpoint interval while
    /// journaled commits wait for one, otherwise never.
    private func idleDeadline() -> Date? {
        if journal.canGrow { return Date() }
        guard let since = uncheckpointedSince else { return nil }
        return Date(timeIntervalSinceNow: max(0, since + checkpointInterval - ProcessInfo.processInfo.systemUptime))
    }

    private func idle() {
        if journal.canGrow {
            try? journal.grow()
            if journal.canGrow { return }
        }
        if let since = uncheckpointedSince, ProcessInfo.processInfo.systemUptime - since >= checkpointInterval {
            if (try? checkpointer.checkpoint()) != nil { uncheckpointedSince = nil }
        }
    }
}
