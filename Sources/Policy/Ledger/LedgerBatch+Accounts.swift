/// Account, session, API-key and process-registry changes, applied inside a batch.
extension LedgerBatch {
    /// Creates a user with the plan's first allocation. `email` must already be normalised.
    mutating func createUser(email: String, passwordHash: String, plan planName: String, role: UserRole, name: String?, emailVerified: Bool) throws(LedgerError) -> UserAccount {
        guard let plan = plans.plan(named: planName) else { throw .refusal(.unknownPlan, "create user", "no plan named '\(planName)' in the policy") }
        guard plan.name.utf8.count <= BalanceRecord.maxPlanBytes else { throw .refusal(.invalidArgument, "create user", "plan name too long") }
        if let name, name.utf8.count > UserRecord.maxNameBytes { throw .refusal(.invalidArgument, "create user", "the name is longer than \(UserRecord.maxNameBytes) bytes") }
        guard try !txn.contains(schema.emails, email) else {
            throw .refusal(.duplicateEmail, "create user", "a user with e-mail \(email) already exists")
        }
        let id = max(try schema.counter(MetaKey.nextUser, in: txn), 1)
        try schema.setCounter(MetaKey.nextUser, id + 1, in: txn)
        noteWrite()
        let user = UserRecord(id: id, createdMs: nowMs, role: role, emailVerified: emailVerified, email: email,
                              passwordHash: passwordHash, plan: plan.name, name: name)
        try txn.put(schema.users, id, bytes: user.encoded(), flags: .noOverwrite)
        _ = try withUnsafeBytes(of: id.littleEndian) { (bytes) throws(LedgerError) in try txn.put(schema.emails, email, bytes) }
        let (start, end) = PlanCalendar.period(0, anchorMs: nowMs)
        var record = BalanceRecord(balance: 0, held: 0, periodStartMs: start, periodEndMs: end, anchorMs: nowMs, periodIndex: 0, nextSequence: 1, plan: plan.name)
        if plan.monthlyTokens > 0 {
            record.balance = plan.monthlyTokens
            _ = try append(TransactionRecord(kind: .renewal, delta: plan.monthlyTokens, balanceAfter: record.balance, timeMs: nowMs, holdId: 0,
                                             operation: plan.name, requestId: "", actor: "system", memo: "first period"),
                           userId: id, record: &record)
        }
        setBalance(record, userId: id)
        return user.account
    }

    /// Stores a session for `userId` under the hash of its token.
    mutating func createSession(tokenHash: SHA256Digest, userId: UInt64, lifetimeMs: Int64) throws(LedgerError) -> IssuedSession {
        guard try txn.contains(schema.users, userId) else { throw .refusal(.unknownUser, "create session", "no user with id \(userId)") }
        let session = SessionRecord(userId: userId, createdMs: nowMs, lastSeenMs: nowMs, expiresMs: nowMs + lifetimeMs, lifetimeMs: lifetimeMs)
        try txn.putReserving(schema.sessions, tokenHash, count: SessionRecord.size, flags: .noOverwrite) { session.encode(into: $0) }
        noteWrite()
        return IssuedSession(token: "", userId: UserID(rawValue: userId), expiresAt: .init(ledgerMilliseconds: session.expiresMs))
    }

    /// Slides a live session's expiry; returns the new expiry, or nil when the session is gone or expired
    /// (an expired session is deleted).
    mutating func touchSession(tokenHash: SHA256Digest) throws(LedgerError) -> Int64? {
        guard var session = try txn.get(schema.sessions, tokenHash, { (bytes) throws(LedgerError) in try SessionRecord(bytes) }) else { return nil }
        noteWrite()
        guard session.expiresMs > nowMs else {
            try txn.delete(schema.sessions, tokenHash)
            return nil
        }
        session.lastSeenMs = nowMs
        session.expiresMs = nowMs + session.lifetimeMs
        try txn.putReserving(schema.sessions, tokenHash, count: SessionRecord.size) { session.encode(into: $0) }
        return session.expiresMs
    }

    /// Stores an API key (its hash) for `userId`.
    mutating func createAPIKey(keyHash: SHA256Digest, keyId: String, userId: UInt64, name: String) throws(LedgerError) -> APIKeyInfo {
        guard name.utf8.count <= APIKeyRecord.maxNameBytes else {
            throw .refusal(.invalidArgument, "create key", "the name is longer than \(APIKeyRecord.maxNameBytes) bytes")
        }
        guard try txn.contains(schema.users, userId) else { throw .refusal(.unknownUser, "create key", "no user with id \(userId)") }
        guard try !txn.contains(schema.keyIds, keyId), try !txn.contains(schema.apiKeys, keyHash) else {
            throw .refusal(.invalidArgument, "create key", "key id collision; try again")
        }
        let record = APIKeyRecord(userId: userId, createdMs: nowMs, revokedMs: 0, keyId: keyId,
                                  visiblePrefix: SecretTokens.visiblePrefix(keyId: keyId), name: name)
        try txn.put(schema.apiKeys, keyHash, bytes: record.encoded())
        noteWrite()
        _ = try keyHash.withKeyBytes { (bytes) throws(LedgerError) in try txn.put(schema.keyIds, keyId, bytes) }
        try txn.put(schema.userKeys, userKeyPrefix(userId) + Array(keyId.utf8), bytes: [])
        return record.info()
    }

    /// Marks a key revoked (idempotent: a revoked key keeps its first revocation time).
    mutating func revokeAPIKey(keyId: String) throws(LedgerError) -> APIKeyInfo {
        guard let hash = try txn.get(schema.keyIds, keyId, { SHA256Digest(bytes: $0) }) ?? nil,
              var record = try txn.get(schema.apiKeys, hash, { (bytes) throws(LedgerError) in try APIKeyRecord(bytes) }) else {
            throw .refusal(.unknownKey, "revoke key", "no API key with id \(keyId)")
        }
        if record.revokedMs == 0 {
            record.revokedMs = nowMs
            try txn.put(schema.apiKeys, hash, bytes: record.encoded())
            noteWrite()
        }
        return record.info()
    }

    /// Registers this process so the holds it creates can be told apart from a dead process's.
    mutating func registerProcess(_ record: ProcessRecord) throws(LedgerError) -> UInt64 {
        let instance = max(try schema.counter(MetaKey.nextInstance, in: txn), 1)
        try schema.setCounter(MetaKey.nextInstance, instance + 1, in: txn)
        try txn.putReserving(schema.processes, instance, count: ProcessRecord.size, flags: .noOverwrite) { record.encode(into: $0) }
        return instance
    }

    /// Releases the holds of every process that is no longer running (and of `alsoRelease`, e.g. this
    /// process when it closes), then forgets those processes. Never touches a live process's holds.
    /// The holds live in the hold store, written under its lock and committed after this batch.
    mutating func releaseHolds(ofDeadProcessesAnd alsoRelease: UInt64? = nil) throws(LedgerError) -> RecoveredHolds {
        var live: Set<UInt64> = []
        var dead: [UInt64] = []
        try txn.scan(schema.processes, prefix: []) { (key, value) throws(LedgerError) -> Bool in
            guard let instance = key.bigEndianUInt64 else { return true }
            if instance != alsoRelease, ProcessIdentity.isAlive(try ProcessRecord(value)) { live.insert(instance) } else { dead.append(instance) }
            return true
        }
        let released = try heldView.write { (holds) throws(LedgerError) in
            try heldView.store.releaseHolds(in: holds) { owner in !live.contains(owner) }
        }
        for instance in dead { try txn.delete(schema.processes, instance) }
        return RecoveredHolds(processes: dead.count, holds: released.holds, tokens: released.tokens)
    }
}
