/// Identifies a user account; assigned in creation order and never reused.
public struct UserID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}

/// Identifies one hold (a reservation of tokens); unique across every process sharing the data directory.
public struct HoldID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public static func < (lhs: HoldID, rhs: HoldID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}

/// What an account may do.
public enum UserRole: String, Sendable, Equatable, CaseIterable {
    /// An ordinary customer.
    case user
    /// May use the admin portal and change plans and balances.
    case admin
}
