import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Takes the ledger's checkpoints on their own thread, so that no charge ever waits behind one: under
/// load a checkpoint flushes tens of megabytes of pages written since the last (tens of milliseconds),
/// while a journal write takes a tenth of a millisecond.
///
/// A checkpoint is taken when the flusher asks (its ring filled by a quarter since the last request,
/// or it has no room at all and waits), when commits that only a checkpoint makes durable are handed
/// over (jobs: their completions run here, after it), `interval` seconds after a commit no checkpoint
/// covers yet, and once more on a clean stop (then the journal is retired). While idle it grows the
/// journal's ring.
///
/// `@unchecked Sendable`: every mutable property is only touched with `condition` locked; the thread
/// itself owns nothing else.
final class CheckpointThread: @unchecked Sendable {
    let checkpointer: Checkpointer
    /// Failures of checkpoints and of the journal's writes (the flusher reports its own here).
    let health = DurabilityHealth()
    private let interval: Double
    private let afterRound: (@Sendable () -> Void)?
    private let onCheckpoint: (@Sendable (_ nanoseconds: Int64) -> Void)?
    private let condition = NSCondition()
    private var requested = false
    private var waiting: [DurabilityUnit] = []
    /// When a commit no checkpoint covers was first noted (`systemUptime`).
    private var uncoveredSince: Double?
    private var started = 0
    private var completed = 0
    private var completionRounds = 0
    private var lastError: LedgerError?
    private var stopping = false
    private var finalCheckpoint = true
    private var exited = false
    private var thread: pthread_t?
    /// How often dirty data-file pages are pushed towards the disk between checkpoints (seconds).
    static let writebackPeriod = 0.005

    init(checkpointer: Checkpointer, interval: Double, afterRound: (@Sendable () -> Void)?,
         onCheckpoint: (@Sendable (_ nanoseconds: Int64) -> Void)? = nil) {
        self.checkpointer = checkpointer
        self.interval = interval
        self.afterRound = afterRound
        self.onCheckpoint = onCheckpoint
    }

    func start() {
        LedgerThread.start(named: "ledger-checkpt") { [self] in run() }
    }

    /// Asks for a checkpoint soon (never blocks).
    func request() {
        condition.lock()
        requested = true
        condition.signal()
        condition.unlock()
    }

    /// Notes a commit that no checkpoint covers yet: one follows within `interval`.
    func noteCommit() {
        condition.lock()
        if uncoveredSince == nil {
            uncoveredSince = ProcessInfo.processInfo.systemUptime
            condition.signal()
        }
        condition.unlock()
    }

    /// Completes `units` (already committed) after the next checkpoint, on this thread.
    func completeAfterCheckpoint(_ units: [DurabilityUnit]) {
        condition.lock()
        waiting.append(contentsOf: units)
        condition.signal()
        condition.unlock()
    }

    /// Blocks until a checkpoint that began after this call has finished (the flusher, out of ring).
    func checkpointNow() throws(LedgerError) {
        condition.lock()
        defer { condition.unlock() }
        let needed = started + 1
        requested = true
        condition.signal()
        while completed < needed && !exited { condition.wait() }
        if let lastError { throw lastError }
        if completed < needed { throw LedgerError(code: .unavailable, operation: "checkpoint", message: "the ledger is closed") }
    }

    /// Stops the thread after a last checkpoint (which retires the journal) or, for crash tests, none.
    /// Waits for it.
    func stop(finalCheckpoint: Bool) {
        condition.lock()
        stopping = true
        self.finalCheckpoint = finalCheckpoint
        condition.broadcast()
        while !exited { condition.wait() }
        condition.unlock()
    }

    /// Checkpoints after which handed-over units were completed, so far.
    var roundsCompleted: Int {
        condition.lock()
        defer { condition.unlock() }
        return completionRounds
    }

    /// Whether the calling thread is this one (where blocking on the ledger would deadlock).
    var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    private func run() {
        condition.lock()
        thread = pthread_self()
        while true {
            // Wait for a reason to checkpoint; grow the journal meanwhile.
            while !(requested || !waiting.isEmpty || stopping || intervalPassed()) {
                if checkpointer.journal.canGrow {
                    condition.unlock()
                    try? checkpointer.journal.grow()
                    condition.lock()
                    continue
                }
                if let since = uncoveredSince {
                    // Meanwhile keep the data file's writeback flowing, a little at a time.
                    condition.unlock()
                    checkpointer.environment.startWriteback()
                    condition.lock()
                    let due = since + interval - ProcessInfo.processInfo.systemUptime
                    _ = condition.wait(until: Date(timeIntervalSinceNow: max(0.001, min(Self.writebackPeriod, due))))
                } else {
                    condition.wait()
                }
            }
            if stopping && !finalCheckpoint { break }
            let units = waiting
            waiting.removeAll()
            let last = stopping
            requested = false
            uncoveredSince = nil
            started += 1
            condition.unlock()

            var failure: LedgerError?
            let checkpointStarted = DispatchTime.now().uptimeNanoseconds
            do { try checkpointer.checkpoint() } catch { failure = error }
            if let failure {
                health.failed(.checkpoint, failure)
            } else {
                health.succeeded(.checkpoint)
                onCheckpoint?(Int64(DispatchTime.now().uptimeNanoseconds &- checkpointStarted))
            }
            if !units.isEmpty {
                // Counted before the completions run, so a caller that saw a result sees it counted.
                condition.lock()
                completionRounds += 1
                condition.unlock()
            }
            for unit in units {
                for (mutation, outcome) in unit.results {
                    if let failure {
                        LedgerWriter.completeUndurable(mutation, outcome, cause: failure)
                    } else {
                        LedgerWriter.complete(mutation, outcome)
                    }
                }
            }
            if last && failure == nil { try? checkpointer.journal.retire() }
            if !units.isEmpty { afterRound?() }

            condition.lock()
            completed += 1
            lastError = failure
            condition.broadcast()
            if last { break }
        }
        let unavailable = LedgerError(code: .unavailable, operation: "checkpoint", message: "the ledger is closed")
        let abandoned = waiting
        waiting.removeAll()
        exited = true
        condition.broadcast()
        condition.unlock()
        for unit in abandoned {
            for (mutation, _) in unit.results { mutation.fail(unavailable) }
        }
    }

    private func intervalPassed() -> Bool {
        guard let since = uncoveredSince else { return false }
        return ProcessInfo.processInfo.systemUptime - since >= interval
    }
}
