/// The result of a successful hold: tokens reserved, to be charged or released exactly once.
public struct HoldReceipt: Sendable, Equatable {
    public var holdId: HoldID
    public var userId: UserID
    public var amount: Int64
    /// The balance (unchanged by a hold).
    public var balance: Int64
    /// What remains available after this hold.
    public var available: Int64
}

/// The result of charging a hold.
public struct ChargeReceipt: Sendable, Equatable {
    public var holdId: HoldID
    public var userId: UserID
    /// Tokens charged (at most the amount held).
    public var charged: Int64
    /// The balance after the charge.
    public var balance: Int64
    /// Available after the charge (the uncharged part of the hold is available again).
    public var available: Int64
    /// The charge's position in the user's history.
    public var sequence: UInt64
}

/// The result of releasing a hold unspent.
public struct ReleaseReceipt: Sendable, Equatable {
    public var holdId: HoldID
    public var userId: UserID
    public var released: Int64
    /// Available after the release.
    public var available: Int64
}

/// Counts from `Ledger.renewAll()`.
public struct RenewalSummary: Sendable, Equatable {
    /// Balances looked at.
    public var examined: Int
    /// Balances that were due and renewed.
    public var renewed: Int
}

/// How much the group-commit writer has done: commits, and mutations applied in them.
public struct LedgerWriterStatistics: Sendable, Equatable {
    public var commits: Int
    public var mutations: Int
    /// Journal writes and checkpoints that made committed results durable before their completions ran.
    public var syncs: Int = 0
}

/// Holds released because the processes that made them are gone.
public struct RecoveredHolds: Sendable, Equatable {
    /// Dead processes forgotten.
    public var processes: Int
    /// Their open holds, now released.
    public var holds: Int
    /// Tokens those holds reserved, available again.
    public var tokens: Int64
}
