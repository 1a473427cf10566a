import Foundation
import Policy

/// The offline demo's signed-up user: created on the first offline start with tokens to spend,
/// and given a fresh password and API key on every offline start (only their hashes are stored,
/// so the credentials are printed, never saved).
struct DemoAccount {
    static let email = "demo@recraftor.local"
    static let startingTokens: Int64 = 1000

    let email: String
    let password: String
    let apiKey: String

    /// Makes sure the demo user exists, then rotates its password and API key.
    static func prepare(in ledger: Ledger) throws -> DemoAccount {
        let password = try SecretTokens.newSessionToken().prefix(20).description
        let user: UserAccount
        if let existing = try ledger.user(email: email) {
            user = existing
            try ledger.setPassword(userId: user.id, password: password)
        } else {
            user = try ledger.createUser(email: email, password: password, name: "Demo User")
            _ = try ledger.grant(userId: user.id, amount: startingTokens, reason: "offline demo", actor: "system")
        }
        for key in try ledger.apiKeys(userId: user.id) where key.revokedAt == nil && key.name == "demo" {
            _ = try ledger.revokeAPIKey(keyId: key.keyId)
        }
        let key = try ledger.createAPIKey(userId: user.id, name: "demo").key
        return DemoAccount(email: email, password: password, apiKey: key)
    }
}
