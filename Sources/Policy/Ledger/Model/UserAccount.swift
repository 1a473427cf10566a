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
