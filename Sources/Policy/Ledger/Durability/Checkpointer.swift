import Foundation

/// Takes checkpoints of the durable environment, which commits without fsync (`MDB_NOSYNC`): flushes
/// everything committed so far and records, in the head of this process's journal, which snapshot
/// that was and the meta page that opens it.
///
/// Why this is safe without per-commit fsyncs: a checkpointed snapshot stays pinned by a read
/// transaction until a newer checkpoint is recorded, so LMDB never reuses (overwrites) its pages; a
/// clean stop deletes the journal with the record, and a crashed process's stale reader slot keeps
/// pinning until the next opener has checkpointed and deleted that journal. After a power loss the
/// data file may hold any mix of newer pages, including a meta page that points at pages that never
/// reached the disk; `LedgerRecovery` then writes the newest recorded checkpoint's meta page back, the
/// file opens at that intact snapshot, and the charge journals replay what came after.
///
/// `@unchecked Sendable`: `pin` and `sequence` are only touched with `lock` held (which serialises
/// checkpoints, disk flush included); `durable` with `progressLock` (which is never held
/// across I/O, so the flusher can read it while a checkpoint flushes).
final class Checkpointer: @unchecked Sendable {
    let environment: LMDBEnvironment
    let journal: ChargeJournal
    let epoch: UInt64
    let bootId: String
    private let lock = NSLock()
    private let progressLock = NSLock()
    /// The read transaction pinning this process's last checkpointed snapshot.
    private var pin: OpaquePointer?
    private var durable: UInt64 = 0
    private var sequence: UInt64 = 0

    init(environment: LMDBEnvironment, journal: ChargeJournal, bootId: String) {
        self.environment = environment
        self.journal = journal
        self.epoch = journal.epoch
        self.bootId = bootId
    }

    deinit {
        if let pin { environment.abort(pin) }
    }

    /// The newest snapshot this process's checkpoints made durable.
    var durableTransactionId: UInt64 {
        progressLock.lock()
        defer { progressLock.unlock() }
        return durable
    }

    /// Makes every commit so far durable and records the checkpoint; returns its snapshot. Blocks on
    /// LMDB's write lock for a moment and on the disk for the flush: never on an event loop.
    @discardableResult
    func checkpoint() throws(LedgerError) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        // Pin the newest snapshot and copy its meta page while no commit can rewrite that page.
        let writer = try environment.begin(readOnly: false)
        let reader: OpaquePointer
        let meta: LMDBMetaPage
        do throws(LedgerError) {
            reader = try environment.begin(readOnly: true)
            do { meta = try LMDBMetaPage.current(in: environment, for: reader) } catch {
                environment.abort(reader)
                throw error
            }
        } catch {
            environment.abort(writer)
            throw error
        }
        environment.abort(writer)
        if pin != nil && meta.transactionId == durableTransactionId {
            environment.abort(reader)  // nothing committed since the last checkpoint
            return meta.transactionId
        }
        do throws(LedgerError) {
            try environment.sync()
            sequence += 1
            try journal.record(CheckpointRecord(sequence: sequence, transactionId: meta.transactionId, epoch: epoch, bootId: bootId, meta: meta))
        } catch {
            environment.abort(reader)
            throw error
        }
        if let pin { environment.abort(pin) }
        pin = reader
        progressLock.lock()
        durable = meta.transactionId
        progressLock.unlock()
        return meta.transactionId
    }
}
