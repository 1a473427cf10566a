import NIOCore
import Policy

/// Wakes the ledger's threads once per event-loop tick for all the holds, charges and releases this
/// loop queued during the tick, instead of once per request (see `Ledger.wakeDeferred()`).
///
/// NIO runs a task scheduled from the loop itself after the tick's I/O and before it waits again, so
/// a submission waits at most for the rest of the tick — under load a batch the writers take whole,
/// when idle a single request, woken at once. A loop that is shutting down drops the task; what it
/// queued is then taken by the next wake from another loop, or drained when the ledger closes.
final class LedgerWakeDeferral {
    private let ledger: Ledger
    private let eventLoop: any EventLoop
    private var scheduled = false

    init(ledger: Ledger, eventLoop: any EventLoop) {
        self.ledger = ledger
        self.eventLoop = eventLoop
    }

    /// On the loop, right after queuing with `wakeLater: true`: makes sure this tick ends with a wake.
    func noteQueued() {
        guard !scheduled else { return }
        scheduled = true
        eventLoop.assumeIsolated().execute { [self] in
            scheduled = false
            ledger.wakeDeferred()
        }
    }
}

@available(*, unavailable)
extension LedgerWakeDeferral: Sendable {}

extension EdgeServices {
    /// Runs `submit` (one ledger hold, charge or release) telling it whether it may queue without waking
    /// the ledger's threads; if so, they are woken at the end of this tick.
    func submitToLedger(_ submit: (_ wakeLater: Bool) -> Void) {
        submit(ledgerWakes != nil)
        ledgerWakes?.noteQueued()
    }
}
