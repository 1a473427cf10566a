import Foundation

/// This process's open holds, in memory: what a charge needs to know about its hold (user, amount,
/// request, actor) without a lookup, and the one place that decides a hold is settled exactly once —
/// the first charge or release to claim it wins, on whatever thread it is called.
///
/// `@unchecked Sendable`: `entries` is only touched with `lock` held (a few dictionary operations).
final class OpenHoldTable: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [UInt64: Entry] = [:]

    private struct Entry {
        var hold: HoldRecord
        var settling: Bool
    }

    /// What claiming a hold for settlement found.
    enum Claim {
        /// Open until now; the caller settles it.
        case claimed(HoldRecord)
        /// A charge or release already claimed it.
        case alreadySettling
        /// Not one of this process's open holds.
        case notHere
    }

    /// Records a hold the hold writer has committed (before its receipt is delivered).
    func insert(_ id: UInt64, _ hold: HoldRecord) {
        lock.lock()
        entries[id] = Entry(hold: hold, settling: false)
        lock.unlock()
    }

    /// Claims the hold for a charge or release.
    func claim(_ id: UInt64) -> Claim {
        lock.lock()
        defer { lock.unlock() }
        guard var entry = entries[id] else { return .notHere }
        guard !entry.settling else { return .alreadySettling }
        entry.settling = true
        entries[id] = entry
        return .claimed(entry.hold)
    }

    /// Gives a claimed hold back (its charge failed): it can be charged or released again.
    func unclaim(_ id: UInt64) {
        lock.lock()
        entries[id]?.settling = false
        lock.unlock()
    }

    /// Forgets a settled hold.
    func remove(_ id: UInt64) {
        lock.lock()
        entries[id] = nil
        lock.unlock()
    }

    /// Forgets a batch of settled holds.
    func remove(_ ids: [UInt64]) {
        lock.lock()
        for id in ids { entries[id] = nil }
        lock.unlock()
    }
}
