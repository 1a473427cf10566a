public import Foundation

/// Who a request acts for, as resolved from a session cookie or an API key by `LedgerReader`.
public struct Principal: Sendable, Equatable {
    public var userId: UserID
    public var email: String
    public var plan: String
    public var role: UserRole
    /// The API key's id when the request authenticated with a key.
    public var keyId: String?
    /// When the session expires, when the request authenticated with a session.
    public var sessionExpiresAt: Date?
    /// True when the session has not been touched for a while: call `Ledger.touchSession` to slide its expiry.
    public var sessionRefreshDue: Bool
}
