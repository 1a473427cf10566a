import Foundation

/// A client's `Idempotency-Key` for one kind of request, with a fingerprint of what it asked for.
public struct IdempotencyKey: Sendable, Equatable {
    /// Which endpoint the key belongs to (e.g. `POST /api/tokens`): the same key on another endpoint is another key.
    public var scope: String
    public var key: String
    /// SHA-256 of the request's meaning (e.g. its body): a retry must ask for the same thing.
    public var fingerprint: SHA256Digest

    public init(scope: String, key: String, fingerprint: SHA256Digest) {
        self.scope = scope
        self.key = key
        self.fingerprint = fingerprint
    }

    /// Whether `key` is acceptable as an idempotency key: 1…255 visible ASCII characters.
    public static func isValid(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 255 && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// The result of an idempotent mutation: the stored result of the first attempt when `replayed`.
public struct IdempotentOutcome<Value: Sendable>: Sendable {
    public var value: Value
    /// True when this is a retry: nothing was changed, `value` is what the first attempt returned.
    public var replayed: Bool
}

/// A direct spend of tokens (no upstream call): what `POST /api/tokens` charges.
public struct SpendReceipt: Sendable, Equatable, Codable {
    public var operation: String
    public var charged: Int64
    /// The balance after the charge.
    public var balance: Int64
    /// The available tokens after the charge (balance − held).
    public var available: Int64
}

/// Tokens added to a user's balance by an administrator.
public struct GrantReceipt: Sendable, Equatable, Codable {
    public var userId: UInt64
    public var granted: Int64
    public var balance: Int64
}

extension Ledger {
    /// How long a stored idempotent result is replayed (a retry after this is a new request).
    public static let idempotencyWindowMs: Int64 = 24 * 3600 * 1000

    /// Charges `amount` tokens for `operation` straight away (no hold: decided under the hold store's lock),
    /// at most once per idempotency key. Fails with `insufficientTokens` (nothing changed) when short,
    /// and `idempotencyConflict` when the key was used before for a different request.
    public func spend(userId: UserID, operation: String, amount: Int64, requestId: String, actor: String,
                      idempotency: IdempotencyKey?,
                      completion: @escaping @Sendable (Result<IdempotentOutcome<SpendReceipt>, LedgerError>) -> Void) {
        idempotent(userId: userId.rawValue, idempotency, completion: completion) { (batch) throws(LedgerError) in
            let charge = try batch.spend(userId: userId.rawValue, amount: amount, operation: operation, requestId: requestId, actor: actor)
            return SpendReceipt(operation: operation, charged: charge.charged, balance: charge.balance, available: charge.available)
        }
    }

    /// Adds `amount` tokens to `userId`'s balance as a grant, at most once per idempotency key.
    public func grant(userId: UserID, amount: Int64, reason: String, actor: String, idempotency: IdempotencyKey?,
                      completion: @escaping @Sendable (Result<IdempotentOutcome<GrantReceipt>, LedgerError>) -> Void) {
        idempotent(userId: userId.rawValue, idempotency, completion: completion) { (batch) throws(LedgerError) in
            let transaction = try batch.credit(userId: userId.rawValue, delta: amount, kind: .grant, reason: reason, actor: actor)
            return GrantReceipt(userId: userId.rawValue, granted: amount, balance: transaction.balanceAfter)
        }
    }

    /// Runs `body` in a batch unless `key` was seen for this user within the window: then the stored
    /// result is returned (same fingerprint) or the request is refused (another fingerprint). The
    /// result is stored in the same transaction as the change, so a crash never separates them.
    func idempotent<Value: Codable & Sendable>(
        userId: UInt64, _ key: IdempotencyKey?,
        completion: @escaping @Sendable (Result<IdempotentOutcome<Value>, LedgerError>) -> Void,
        _ body: @escaping @Sendable (inout LedgerBatch) throws(LedgerError) -> Value
    ) {
        submit(completion: completion) { (batch) throws(LedgerError) in
            guard let key else { return IdempotentOutcome(value: try body(&batch), replayed: false) }
            let storageKey = IdempotencyRecord.storageKey(userId: userId, key)
            let stored = try batch.txn.get(batch.schema.idempotency, storageKey) { (bytes) throws(LedgerError) in try IdempotencyRecord(bytes) }
            if let stored, stored.createdMs + Self.idempotencyWindowMs > batch.nowMs {
                guard stored.fingerprint == key.fingerprint else {
                    throw .refusal(.idempotencyConflict, "idempotent request",
                                   "this Idempotency-Key was already used for a different request")
                }
                do {
                    return IdempotentOutcome(value: try JSONDecoder().decode(Value.self, from: Data(stored.payload)), replayed: true)
                } catch {
                    throw LedgerError(code: .corrupted, operation: "idempotent request", message: "a stored idempotent result does not decode")
                }
            }
            let value = try body(&batch)
            let payload: [UInt8]
            do { payload = Array(try JSONEncoder().encode(value)) } catch {
                throw LedgerError(code: .storage, operation: "idempotent request", message: "the result could not be encoded")
            }
            let record = IdempotencyRecord(createdMs: batch.nowMs, fingerprint: key.fingerprint, payload: payload)
            _ = try batch.txn.put(batch.schema.idempotency, storageKey, bytes: record.encoded())
            batch.noteWrite()
            return IdempotentOutcome(value: value, replayed: false)
        }
    }
}
