import Foundation

/// Users, passwords, sessions and API keys. All of these block the caller: CLI and off-loop use only.
extension Ledger {
    /// Creates a user with a normalised, unique e-mail address and the plan's first allocation.
    ///
    /// - Parameters:
    ///   - email: Any letter case; stored trimmed and lowercased. Refused when another user has it in any case.
    ///   - password: Hashed with scrypt on the calling thread before anything is written; nil for none.
    ///   - plan: A plan from the catalog; nil for the catalog's default.
    ///   - role: `.user` or `.admin`.
    ///   - name: Optional display name (≤ 200 bytes).
    ///   - hasher: scrypt cost (tests use a cheaper one).
    @available(*, noasync)
    public func createUser(email: String, password: String? = nil, plan: String? = nil, role: UserRole = .user, name: String? = nil,
                           emailVerified: Bool = false, hasher: PasswordHasher = PasswordHasher()) throws(LedgerError) -> UserAccount {
        guard let normalized = UserAccount.normalizedEmail(email) else {
            throw .refusal(.invalidEmail, "create user", "'\(email)' is not a valid e-mail address")
        }
        let plan = plan ?? plans.defaultPlan
        let passwordHash = try password.map { (password) throws(LedgerError) in try hasher.hash(password: password) } ?? ""
        return try perform { (batch) throws(LedgerError) in
            try batch.createUser(email: normalized, passwordHash: passwordHash, plan: plan, role: role, name: name, emailVerified: emailVerified)
        }
    }

    /// The user with this id, or nil.
    public func user(id: UserID) throws(LedgerError) -> UserAccount? {
        try environment.read { (txn) throws(LedgerError) in
            try txn.get(schema.users, id.rawValue) { (bytes) throws(LedgerError) in try UserRecord(bytes).account }
        }
    }

    /// The user with this e-mail address (any letter case), or nil.
    public func user(email: String) throws(LedgerError) -> UserAccount? {
        guard let normalized = UserAccount.normalizedEmail(email) else { return nil }
        return try environment.read { (txn) throws(LedgerError) in try userRecord(email: normalized, in: txn)?.account }
    }

    /// Every user, in id order.
    public func users() throws(LedgerError) -> [UserAccount] {
        try environment.read { (txn) throws(LedgerError) in
            var accounts: [UserAccount] = []
            try txn.scan(schema.users, prefix: []) { (_, value) throws(LedgerError) -> Bool in
                accounts.append(try UserRecord(value).account)
                return true
            }
            return accounts
        }
    }

    /// Checks a password; returns the account when it matches. Runs scrypt (≈0.1 s) on the calling thread,
    /// and spends the same time when the user does not exist or has no password.
    @available(*, noasync, message: "scrypt blocks; run on a thread pool")
    public func verifyPassword(email: String, password: String) throws(LedgerError) -> UserAccount? {
        let record = try UserAccount.normalizedEmail(email).flatMap { (normalized) throws(LedgerError) in
            try environment.read { (txn) throws(LedgerError) in try userRecord(email: normalized, in: txn) }
        }
        guard let record, !record.passwordHash.isEmpty else {
            _ = PasswordHasher.verify(password: password, against: PasswordHasher.decoy)
            return nil
        }
        return PasswordHasher.verify(password: password, against: record.passwordHash) ? record.account : nil
    }

    /// Replaces a user's password (scrypt on the calling thread) and ends all of their sessions, so
    /// whoever knew the old one is signed out everywhere.
    @available(*, noasync)
    public func setPassword(userId: UserID, password: String, hasher: PasswordHasher = PasswordHasher()) throws(LedgerError) {
        let hash = try hasher.hash(password: password)
        try perform { (batch) throws(LedgerError) in
            guard var record = try batch.txn.get(batch.schema.users, userId.rawValue, { (bytes) throws(LedgerError) in try UserRecord(bytes) }) else {
                throw .refusal(.unknownUser, "set password", "no user with id \(userId)")
            }
            record.passwordHash = hash
            _ = try batch.txn.put(batch.schema.users, userId.rawValue, bytes: record.encoded())
            batch.noteWrite()
            var doomed: [[UInt8]] = []
            try batch.txn.scan(batch.schema.sessions, prefix: []) { (key, value) throws(LedgerError) -> Bool in
                if try SessionRecord(value).userId == userId.rawValue { doomed.append(Array(key)) }
                return true
            }
            for key in doomed { _ = try batch.txn.delete(batch.schema.sessions, key) }
        }
    }

    /// Moves a user to another plan now: a new period starts with the new plan's allocation (rollover plans
    /// keep the balance up to their cap; others restart at the allocation). Admin only — check the caller's role.
    @available(*, noasync)
    public func changePlan(userId: UserID, to plan: String, actor: String) throws(LedgerError) -> LedgerBalance {
        try perform { (batch) throws(LedgerError) in try batch.changePlan(userId: userId.rawValue, to: plan, actor: actor) }
    }

    // MARK: Sessions

    /// Creates a session; the returned token is the cookie value (only its SHA-256 is stored).
    @available(*, noasync)
    public func createSession(userId: UserID, lifetime: Double? = nil) throws(LedgerError) -> IssuedSession {
        let token = try SecretTokens.newSessionToken()
        let hash = SecretHash.sha256(token)
        let lifetimeMs = Int64((lifetime ?? options.sessionLifetime) * 1000)
        var session = try perform { (batch) throws(LedgerError) in
            try batch.createSession(tokenHash: hash, userId: userId.rawValue, lifetimeMs: lifetimeMs)
        }
        session.token = token
        return session
    }

    /// Deletes a session (sign-out); false when there was none.
    @available(*, noasync)
    public func deleteSession(tokenHash: SHA256Digest) throws(LedgerError) -> Bool {
        try perform { (batch) throws(LedgerError) in
            let deleted = try batch.txn.delete(batch.schema.sessions, tokenHash)
            batch.noteWrite()
            return deleted
        }
    }

    // MARK: API keys

    /// Creates an API key `rk_<key id>_<secret>` for a user. The key is in the result only: show it once.
    @available(*, noasync)
    public func createAPIKey(userId: UserID, name: String) throws(LedgerError) -> IssuedAPIKey {
        let (key, keyId) = try SecretTokens.newAPIKey()
        let hash = SecretHash.sha256(key)
        let info = try perform { (batch) throws(LedgerError) in
            try batch.createAPIKey(keyHash: hash, keyId: keyId, userId: userId.rawValue, name: name)
        }
        return IssuedAPIKey(key: key, info: info)
    }

    /// A user's API keys (active and revoked), oldest first.
    public func apiKeys(userId: UserID) throws(LedgerError) -> [APIKeyInfo] {
        try environment.read { (txn) throws(LedgerError) in
            var keyIds: [String] = []
            try txn.scan(schema.userKeys, prefix: userKeyPrefix(userId.rawValue)) { (key, _) throws(LedgerError) -> Bool in
                keyIds.append(key.string(at: 8, count: key.count - 8))
                return true
            }
            var infos: [APIKeyInfo] = []
            for keyId in keyIds {
                guard let hash = try txn.get(schema.keyIds, keyId, { SHA256Digest(bytes: $0) }) ?? nil,
                      let info = try txn.get(schema.apiKeys, hash, { (bytes) throws(LedgerError) in try APIKeyRecord(bytes).info() }) else { continue }
                infos.append(info)
            }
            return infos.sorted { $0.createdAt < $1.createdAt }
        }
    }

    /// Revokes a key by its id; revoking twice is harmless. Fails with `unknownKey` for an unknown id.
    @available(*, noasync)
    public func revokeAPIKey(keyId: String) throws(LedgerError) -> APIKeyInfo {
        try perform { (batch) throws(LedgerError) in try batch.revokeAPIKey(keyId: keyId) }
    }

    /// Revokes a key only when `userId` owns it (checked in the same transaction): another user's
    /// key id fails with `unknownKey`, exactly as an unknown one does.
    @available(*, noasync)
    public func revokeAPIKey(keyId: String, ownedBy userId: UserID) throws(LedgerError) -> APIKeyInfo {
        let ownership = userKeyPrefix(userId.rawValue) + Array(keyId.utf8)
        return try perform { (batch) throws(LedgerError) in
            guard try batch.txn.contains(batch.schema.userKeys, ownership) else {
                throw .refusal(.unknownKey, "revoke key", "no API key '\(keyId)' for this user")
            }
            return try batch.revokeAPIKey(keyId: keyId)
        }
    }

    func userRecord(email: String, in txn: borrowing LMDBTransaction) throws(LedgerError) -> UserRecord? {
        guard let id = try txn.get(schema.emails, email, { $0.count == 8 ? $0.uint64(at: 0) : nil }) ?? nil else { return nil }
        return try txn.get(schema.users, id) { (bytes) throws(LedgerError) in try UserRecord(bytes) }
    }
}
