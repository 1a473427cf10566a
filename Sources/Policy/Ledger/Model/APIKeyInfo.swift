public import Foundation

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
