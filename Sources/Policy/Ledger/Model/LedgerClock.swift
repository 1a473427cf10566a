public import Foundation

/// Where the ledger reads the current time: the system clock, or a controllable one in tests.
public struct LedgerClock: Sendable {
    private let read: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) { self.read = now }

    /// The current time.
    public func now() -> Date { read() }

    /// The system's wall clock.
    public static let system = LedgerClock { Date() }
}

/// Milliseconds since 1970 — how the ledger stores instants.
extension Date {
    var ledgerMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }

    init(ledgerMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(ledgerMilliseconds) / 1000) }
}
