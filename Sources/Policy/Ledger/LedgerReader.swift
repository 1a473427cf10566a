public import Foundation

/// Hot-path lookups for one thread (one event loop): authenticate a session or API key, read a balance.
///
/// Keeps one LMDB read transaction and renews it for each lookup, resetting it afterwards so it never
/// pins old pages (`MDB_NOTLS` makes that legal from any thread). A lookup is a few B-tree probes in
/// mapped memory — microseconds, no I/O, no lock, nothing allocated beyond the returned value. Not
/// `Sendable`: create one per event loop with `Ledger.makeReader()`.
public final class LedgerReader {
    private let environment: LMDBEnvironment
    private let schema: LedgerSchema
    private let plans: PlanCatalog
    private let clock: LedgerClock
    private let refreshIntervalMs: Int64
    private let transaction: OpaquePointer
    private let holdStore: HoldStore
    private let holdTransaction: OpaquePointer

    init(environment: LMDBEnvironment, schema: LedgerSchema, plans: PlanCatalog, clock: LedgerClock, holdStore: HoldStore,
         refreshIntervalMs: Int64) throws(LedgerError) {
        self.environment = environment
        self.schema = schema
        self.plans = plans
        self.clock = clock
        self.refreshIntervalMs = refreshIntervalMs
        self.holdStore = holdStore
        self.transaction = try environment.begin(readOnly: true)
        environment.reset(transaction)
        do {
            self.holdTransaction = try holdStore.environment.begin(readOnly: true)
        } catch {
            environment.abort(transaction)
            throw error
        }
        holdStore.environment.reset(holdTransaction)
    }

    deinit {
        environment.abort(transaction)
        holdStore.environment.abort(holdTransaction)
    }

    /// The user's held total, from a fresh snapshot of the hold store.
    private func held(of userId: UInt64) throws(LedgerError) -> Int64 {
        try holdStore.environment.renew(holdTransaction)
        defer { holdStore.environment.reset(holdTransaction) }
        return try holdStore.held(of: userId, in: LMDBTransaction(handle: holdTransaction))
    }

    /// Runs `body` on a fresh snapshot of the ledger.
    private func withSnapshot<Result>(_ body: (borrowing LMDBTransaction) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        try environment.renew(transaction)
        defer { environment.reset(transaction) }
        return try body(LMDBTransaction(handle: transaction))
    }

    /// Who an API key belongs to, given the SHA-256 of the whole key (`SecretHash.sha256(bytes:)`);
    /// nil for an unknown or revoked key.
    public func principal(apiKeyHash: SHA256Digest) throws(LedgerError) -> Principal? {
        try withSnapshot { (txn) throws(LedgerError) -> Principal? in
            guard let key = try txn.get(schema.apiKeys, apiKeyHash, { (bytes) throws(LedgerError) in try APIKeyRecord.peek(bytes) }),
                  !key.revoked,
                  var principal = try principal(userId: key.userId, in: txn) else { return nil }
            principal.keyId = key.keyId
            return principal
        }
    }

    /// Who a session token belongs to, given the SHA-256 of the token; nil when unknown or expired at
    /// `now` (default: the ledger's clock). `sessionRefreshDue` says whether to call `Ledger.touchSession`.
    public func principal(sessionTokenHash: SHA256Digest, now: Date? = nil) throws(LedgerError) -> Principal? {
        let nowMs = (now ?? clock.now()).ledgerMilliseconds
        return try withSnapshot { (txn) throws(LedgerError) -> Principal? in
            guard let session = try txn.get(schema.sessions, sessionTokenHash, { (bytes) throws(LedgerError) in try SessionRecord(bytes) }),
                  session.expiresMs > nowMs,
                  var principal = try principal(userId: session.userId, in: txn) else { return nil }
            principal.sessionExpiresAt = Date(ledgerMilliseconds: session.expiresMs)
            principal.sessionRefreshDue = nowMs - session.lastSeenMs >= refreshIntervalMs
            return principal
        }
    }

    /// The user's balance at `now` (default: the ledger's clock), a due renewal shown as the next write
    /// will apply it; nil for no such user.
    public func balance(userId: UserID, now: Date? = nil) throws(LedgerError) -> LedgerBalance? {
        let nowMs = (now ?? clock.now()).ledgerMilliseconds
        let held = try held(of: userId.rawValue)
        return try withSnapshot { (txn) throws(LedgerError) in
            try txn.get(schema.balances, userId.rawValue) { (bytes) throws(LedgerError) -> LedgerBalance in
                var record = try BalanceRecord(bytes)
                record.held = held
                if nowMs >= record.periodEndMs { record = PlanRenewal.projected(record, plans: plans, nowMs: nowMs) }
                return record.view(userId: userId.rawValue)
            }
        }
    }

    /// The account with this id, or nil.
    public func user(id: UserID) throws(LedgerError) -> UserAccount? {
        try withSnapshot { (txn) throws(LedgerError) in
            try txn.get(schema.users, id.rawValue) { (bytes) throws(LedgerError) in try UserRecord(bytes).account }
        }
    }

    private func principal(userId: UInt64, in txn: borrowing LMDBTransaction) throws(LedgerError) -> Principal? {
        try txn.get(schema.users, userId) { (bytes) throws(LedgerError) -> Principal in
            let fields = try UserRecord.principalFields(bytes)
            return Principal(userId: UserID(rawValue: userId), email: fields.email, plan: fields.plan, role: fields.role,
                             keyId: nil, sessionExpiresAt: nil, sessionRefreshDue: false)
        }
    }
}

@available(*, unavailable, message: "a LedgerReader belongs to one thread; make one per event loop")
extension LedgerReader: Sendable {}
