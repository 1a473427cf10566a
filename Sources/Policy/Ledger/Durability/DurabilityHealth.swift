import Foundation

/// Whether the ledger can still make commits durable: the latest failure of the charge journal's
/// writes and of checkpoints, each kept until that kind of write next succeeds. `/readyz` reports it,
/// so a load balancer drains an edge whose disk fails before more results wait behind it.
///
/// `@unchecked Sendable`: `faults` is only touched with `lock` held.
final class DurabilityHealth: @unchecked Sendable {
    /// What failed to make commits durable.
    enum Source: Hashable {
        case journal
        case checkpoint
    }

    private let lock = NSLock()
    private var faults: [Source: LedgerError] = [:]

    func failed(_ source: Source, _ error: LedgerError) {
        lock.lock()
        faults[source] = error
        lock.unlock()
    }

    func succeeded(_ source: Source) {
        lock.lock()
        if !faults.isEmpty { faults[source] = nil }
        lock.unlock()
    }

    /// The journal's failure if any, else the checkpoints'; nil while both succeed.
    var fault: LedgerError? {
        lock.lock()
        defer { lock.unlock() }
        return faults[.journal] ?? faults[.checkpoint]
    }
}
