import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The hand-off between callers and one of the ledger's own threads (durable writer, hold writer,
/// flusher): callers append under one lock, the thread takes everything queued as its next batch.
/// Also knows that thread, so blocking ledger calls can refuse to run on it rather than deadlock.
///
/// `@unchecked Sendable`: every stored property is only touched with `condition` locked.
final class LedgerWorkQueue<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [Item] = []
    private var stopping = false
    private var exited = false
    private var thread: pthread_t?

    /// Appends `items`, waking the thread if it waited for work (unless `wake` is false: then the caller
    /// owes a `wake()` soon); false once `stop()` began (the caller then fails them). A waking submission
    /// signals even when items queued without a wake wait already, so it never waits for someone else's
    /// deferred wake (glibc's signal makes no system call while the thread is busy). The signal comes
    /// after the unlock: signalled under the lock, the woken thread would at once block on the lock
    /// still held here and need a second wake-up (two futex calls per hand-off instead of one). The
    /// thread re-checks `pending` under the lock, so nothing is missed.
    func submit(_ items: some Collection<Item>, wake: Bool = true) -> Bool {
        condition.lock()
        guard !stopping else {
            condition.unlock()
            return false
        }
        pending.append(contentsOf: items)
        let signal = wake && !pending.isEmpty
        condition.unlock()
        if signal { condition.signal() }
        return true
    }

    /// Appends one item (see `submit(_:wake:)` for collections).
    func submit(_ item: Item, wake: Bool = true) -> Bool { submit(CollectionOfOne(item), wake: wake) }

    /// Wakes the thread for items submitted with `wake: false` (no system call when it is not waiting:
    /// glibc's signal returns at once without waiters).
    func wake() {
        condition.lock()
        let signal = !pending.isEmpty
        condition.unlock()
        if signal { condition.signal() }
    }

    /// What the thread's wait for its next batch ended with.
    enum Wake {
        /// `batch` holds the next items.
        case work
        /// `stop()` was called and nothing is left.
        case stopped
    }

    /// On the thread: waits for work, then moves up to `maxCount` items into `batch` (which must be
    /// empty). The first call registers the calling thread as the queue's.
    func next(into batch: inout [Item], maxCount: Int) -> Wake {
        condition.lock()
        defer { condition.unlock() }
        if thread == nil { thread = pthread_self() }
        while pending.isEmpty && !stopping { condition.wait() }
        if pending.isEmpty { return .stopped }
        if pending.count <= maxCount {
            swap(&batch, &pending)
        } else {
            batch.append(contentsOf: pending.prefix(maxCount))
            pending.removeFirst(maxCount)
        }
        return .work
    }

    /// False once `stop()` was called.
    var isAcceptingWork: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !stopping
    }

    /// Whether the calling thread is the queue's thread.
    var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let thread else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// On the thread, last: it is done, and `stop()` may return.
    func markExited() {
        condition.lock()
        exited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Refuses new work; the thread drains what is queued and exits. Waits for that unless called on
    /// the thread itself (so the thread must have been started).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        let wait = thread.map { pthread_equal($0, pthread_self()) == 0 } ?? true
        while wait && !exited { condition.wait() }
        condition.unlock()
    }
}
