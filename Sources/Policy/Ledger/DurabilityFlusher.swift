import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
/// `@unchecked Sendable`: `queue`, `flushes`, `stopping`, `exited` and `thread` are only touched with `condition`
/// locked; the rest is immutable.
final class DurabilityFlusher: @unchecked Sendable {
    private let environment: LMDBEnvironment
    private let afterRound: (@Sendable () -> Void)?
    private var flushes = 0
    private let condition = NSCondition()
    private var queue: [(LedgerMutation, LedgerWriter.Outcome)] = []
    private var stopping = false
    private var exited = false
    private var thread: pthread_t?

    init(environment: LMDBEnvironment, afterRound: (@Sendable () -> Void)?) {
        self.environment = environment
        self.afterRound = afterRound
    }

    /// Flushes that completed results so far.
    var syncs: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushes
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "ledger-flusher"
        thread.start()
    }

    /// Hands committed results over; they complete after the next flush.
    func enqueue(_ results: [(LedgerMutation, LedgerWriter.Outcome)]) {
        condition.lock()
        let wasEmpty = queue.isEmpty
        queue.append(contentsOf: results)
        if wasEmpty { condition.signal() }
        condition.unlock()
    }

    /// Flushes and completes what was handed over, flushes once more (the last commit's meta page),
    /// and stops the thread.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil && !exited { condition.wait() }
        condition.unlock()
    }

    /// Whether the calling thread is the flusher (where blocking on the ledger would deadlock).
    var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    private func run() {
        condition.lock()
        thread = pthread_self()
        condition.unlock()
        var round: [(LedgerMutation, LedgerWriter.Outcome)] = []
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            let finishing = queue.isEmpty && stopping
            swap(&round, &queue)
            condition.unlock()
            if finishing {
                try? environment.sync()
                break
            }
            do {
                try environment.sync()
                condition.lock()
                flushes += 1
                condition.unlock()
                for (mutation, outcome) in round { LedgerWriter.complete(mutation, outcome) }
            } catch {
                // Committed but not known to be durable: report the failure (a charged hold is gone either way).
                for (mutation, _) in round { mutation.fail(error) }
            }
            round.removeAll(keepingCapacity: true)
            afterRound?()
        }
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }
}
