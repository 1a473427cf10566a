public import Foundation

/// A user's token account at one moment.
public struct LedgerBalance: Sendable, Equatable {
    public var userId: UserID
    /// Tokens owned (the sum of the user's transactions).
    public var balance: Int64
    /// Tokens reserved by open holds.
    public var held: Int64
    /// Tokens that may still be reserved: `balance − held`, never negative.
    public var available: Int64 { balance - held }
    public var plan: String
    /// Start of the current plan period (inclusive).
    public var periodStart: Date
    /// End of the current plan period (exclusive): the next renewal.
    public var periodEnd: Date
}
