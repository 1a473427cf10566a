import Foundation

/// The durable writer's second thread: makes committed results durable and completes them.
///
/// With `MDB_NOMETASYNC` a commit fdatasyncs its data pages but not its meta page, so its results
/// are durable only after a later flush. Rather than wait for the writer's next commit (a whole batch
/// of CPU work later), the flusher calls `mdb_env_sync` as soon as results are handed to it — while
/// the writer already applies the next batch — then runs their completions. Results handed over
/// during a flush ride the next one, so flushes batch themselves under load.
///
/// Safe alongside commits: LMDB writes a commit's meta page only after its own data pages were
/// fdatasynced, so no flush can make a meta page durable ahead of the pages it points to.
///
/// `@unchecked Sendable`: `flushes` is only touched with `lock` held; the queue locks itself; the rest
/// is immutable.
final class DurabilityFlusher: @unchecked Sendable {
    private let environment: LMDBEnvironment
    private let afterRound: (@Sendable () -> Void)?
    private let queue = LedgerWorkQueue<(LedgerMutation, LedgerWriter.Outcome)>()
    private let lock = NSLock()
    private var flushes = 0

    init(environment: LMDBEnvironment, afterRound: (@Sendable () -> Void)?) {
        self.environment = environment
        self.afterRound = afterRound
    }

    /// Flushes that completed results so far.
    var syncs: Int {
        lock.lock()
        defer { lock.unlock() }
        return flushes
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "ledger-flusher"
        thread.start()
    }

    /// Hands committed results over; they complete after the next flush. (Never refused: the writer
    /// stops the flusher only after its own last hand-off.)
    func enqueue(_ results: [(LedgerMutation, LedgerWriter.Outcome)]) {
        _ = queue.submit(results)
    }

    /// Flushes and completes what was handed over, flushes once more (the last commit's meta page),
    /// and stops the thread.
    func stop() { queue.stop() }

    /// Whether the calling thread is the flusher (where blocking on the ledger would deadlock).
    var isCurrentThread: Bool { queue.isCurrentThread }

    private func run() {
        var round: [(LedgerMutation, LedgerWriter.Outcome)] = []
        while queue.next(into: &round, maxCount: .max) == .work {
            do {
                try environment.sync()
                lock.lock()
                flushes += 1
                lock.unlock()
                for (mutation, outcome) in round { LedgerWriter.complete(mutation, outcome) }
            } catch {
                // Committed but not known to be durable: report the failure (a charged hold is gone either way).
                for (mutation, _) in round { mutation.fail(error) }
            }
            round.removeAll(keepingCapacity: true)
            afterRound?()
        }
        try? environment.sync()
        queue.markExited()
    }
}
