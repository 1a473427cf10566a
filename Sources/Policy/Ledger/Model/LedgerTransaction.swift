public import Foundation

/// What moved tokens.
public enum TransactionKind: UInt8, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    /// A settled hold: tokens spent on an operation (negative delta).
    case charge = 1
    /// Tokens given by an operator or the portal (positive delta).
    case grant = 2
    /// A plan period's allocation (positive delta).
    case renewal = 3
    /// Unused tokens that lapse at a renewal: all of them on plans without rollover, what exceeds
    /// `rollover_cap` on plans with it (negative delta).
    case expiry = 4
    /// A manual correction by an administrator (either sign).
    case adjustment = 5

    public var description: String {
        switch self {
        case .charge: "charge"
        case .grant: "grant"
        case .renewal: "renewal"
        case .expiry: "expiry"
        case .adjustment: "adjustment"
        }
    }
}

/// One entry of a user's token history; the balance is the sum of all of them.
public struct LedgerTransaction: Sendable, Equatable {
    public var userId: UserID
    /// Position in the user's history, from 1, gap-free.
    public var sequence: UInt64
    public var kind: TransactionKind
    /// The priced operation for charges (e.g. `raster_generation`), the plan name for renewals/expiries.
    public var operation: String
    /// Tokens added (positive) or removed (negative).
    public var delta: Int64
    /// The balance right after this transaction.
    public var balanceAfter: Int64
    public var time: Date
    /// The request id for charges; empty otherwise.
    public var requestId: String
    /// Who caused it: `cli:<user>`, `key:<id>`, `session`, `system` …
    public var actor: String
    /// Free text: a grant's reason, a renewal's period.
    public var memo: String
    /// The settled hold, for charges.
    public var holdId: HoldID?
}

/// Tokens spent on one operation on one UTC day.
public struct UsageRow: Sendable, Equatable {
    /// The UTC day, `YYYY-MM-DD`.
    public var day: String
    public var operation: String
    /// How many charges.
    public var count: Int
    /// Tokens charged in total.
    public var tokens: Int64
}
