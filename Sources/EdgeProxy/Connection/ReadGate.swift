/// Decides whether a channel may read: reads are withheld (never buffered) while any reason holds.
///
/// The `BackPressureHandler` shape from swift-nio: a swallowed `read()` is remembered and re-issued
/// exactly once when the last reason clears.
struct ReadGate {
    /// Why reading is paused; several can hold at once.
    struct Reasons: OptionSet {
        let rawValue: UInt8
        /// The peer channel we forward into is not writable.
        static let peerUnwritable = Reasons(rawValue: 1 << 0)
        /// The request head was accepted, and no upstream connection is ready yet.
        static let awaitingUpstream = Reasons(rawValue: 1 << 1)
        /// Too many bytes are queued ahead of the request being served (pipelining).
        static let pipelineFull = Reasons(rawValue: 1 << 2)
    }

    private(set) var reasons: Reasons = []
    /// A `read()` arrived while closed and must be re-issued on open.
    private var readPending = false

    var isOpen: Bool { reasons.isEmpty }

    /// Call from `read(context:)`; returns true when the read should pass through now.
    mutating func shouldPassRead() -> Bool {
        if reasons.isEmpty { return true }
        readPending = true
        return false
    }

    mutating func close(_ reason: Reasons) { reasons.insert(reason) }

    /// Clears `reason`; returns true when a withheld read must now be issued.
    mutating func open(_ reason: Reasons) -> Bool {
        reasons.remove(reason)
        if reasons.isEmpty && readPending {
            readPending = false
            return true
        }
        return false
    }

    /// Clears everything (handler removal, connection reuse); returns true when a read is owed.
    mutating func reset() -> Bool {
        reasons = []
        defer { readPending = false }
        return readPending
    }
}
