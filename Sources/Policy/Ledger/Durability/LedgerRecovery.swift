import Foundation

/// What opening a data directory does about durability before LMDB opens it, under `CheckpointLock`:
/// which journal epoch this process joins, and whether a power loss must be repaired.
///
/// - A live process (one holding its journal's lock) means the machine has not rebooted since it
///   started: join its epoch, repair nothing.
/// - Otherwise, if the newest checkpoint any dead process recorded was taken in another boot, the
///   machine lost power or rebooted while that process ran: the data file's meta pages may name pages
///   that never reached the disk, so the checkpoint's meta page is written back (the file then opens at
///   that pinned, intact snapshot) and the journals' later charges are replayed (`LedgerBatch.replay`).
///   A new epoch then makes those journal entries stale for good.
/// - A process that merely crashed (same boot) left everything in the page cache: nothing to repair.
struct LedgerRecovery {
    /// The epoch this process's journal writes under.
    let epoch: UInt64
    /// Charges to apply again, in commit order (empty unless the meta pages were restored).
    let replay: [JournalEntry]

    /// Decides (and, after a power loss, resets the data file's meta pages). Call before LMDB opens the
    /// environment, with `CheckpointLock` held.
    static func prepare(directory: String, bootId: String) throws(LedgerError) -> LedgerRecovery {
        let journals = ChargeJournal.survey(in: directory)
        let newEpoch = UInt64.random(in: 1...UInt64.max)
        if journals.contains(where: \.live) {
            let epoch = journals.first(where: { $0.live && $0.checkpoint != nil })?.checkpoint?.epoch
            return LedgerRecovery(epoch: epoch ?? newEpoch, replay: [])
        }
        let newest = journals.compactMap(\.checkpoint).max { $0.transactionId < $1.transactionId }
        guard let newest, newest.bootId != bootId else { return LedgerRecovery(epoch: newEpoch, replay: []) }
        let dataPath = (directory as NSString).appendingPathComponent("data.mdb")
        try newest.meta.restore(dataPath: dataPath)
        let replay = ChargeJournal.entries(in: directory, epoch: newest.epoch, after: newest.transactionId)
        return LedgerRecovery(epoch: newEpoch, replay: replay)
    }
}
