public import Foundation

/// A user account as the ledger stores it (the password hash stays inside the ledger).
public struct UserAccount: Sendable, Equatable {
    public var id: UserID
    /// Normalised (trimmed, lowercased) e-mail address; unique.
    public var email: String
    /// Optional display name.
    public var name: String?
    /// The plan the account is on (a name from the policy's plan catalog).
    public var plan: String
    public var role: UserRole
    public var createdAt: Date
    public var emailVerified: Bool
    /// Whether a password is set (accounts created by `users add` without `--password-stdin` have none).
    public var hasPassword: Bool

    /// Normalises an e-mail address for storage and lookup (trimmed, lowercased), or nil when it is not
    /// plausibly an address: one `@`, non-empty local part and a dotted domain, no spaces, ≤ 254 bytes.
    public static func normalizedEmail(_ raw: String) -> String? {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard !email.isEmpty, email.utf8.count <= 254,
              !email.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "\0" }) else { return nil }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return nil }
        return email
    }
}

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

/// An API key as listed (the key itself is never stored, only its SHA-256).
public struct APIKeyInfo: Sendable, Equatable {
    /// 16 hex digits; the middle part of `rk_<keyId>_<secret>` and the argument of `keys revoke`.
    public var keyId: String
    public var userId: UserID
    public var name: String
    /// What may be shown of the key: `rk_<keyId>`.
    public var visiblePrefix: String
    public var createdAt: Date
    /// When the key was revoked; nil while it is active.
    public var revokedAt: Date?
}

/// A newly created API key: `key` is the secret, to be shown once and then forgotten.
public struct IssuedAPIKey: Sendable {
    public var key: String
    public var info: APIKeyInfo
}

/// A newly created session: `token` is the secret cookie value; only its SHA-256 is stored.
public struct IssuedSession: Sendable {
    public var token: String
    public var userId: UserID
    public var expiresAt: Date
}
