import Foundation
import Testing
@testable import Policy

/// Idempotent spends and grants, and the purge of what has expired, on a real LMDB ledger.
@Suite struct LedgerMaintenanceTests {
    /// Runs an idempotent spend and waits for it.
    func spend(_ ledger: Ledger, _ user: UserAccount, key: String?, amount: Int64 = 4, meaning: String = "a") throws -> IdempotentOutcome<SpendReceipt> {
        let idempotency = key.map { IdempotencyKey(scope: "POST /api/tokens", key: $0, fingerprint: SecretHash.sha256(meaning)) }
        return try ledger.waitFor { done in
            ledger.spend(userId: user.id, operation: "raster_generation", amount: amount, requestId: "r", actor: "test",
                         idempotency: idempotency, completion: done)
        }
    }

    @Test func aKeyedSpendChargesOnceAndRefusesAnotherMeaning() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "idem@example.com", hasher: cheapHasher)
        let first = try spend(ledger, user, key: "k1")
        let again = try spend(ledger, user, key: "k1")
        #expect(!first.replayed && again.replayed)
        #expect(again.value == first.value)
        #expect(try ledger.balance(userId: user.id)?.balance == 196)
        #expect(throws: LedgerError.self) { try spend(ledger, user, key: "k1", amount: 8, meaning: "b") }
        // Keys are per user: another user's identical key is a new request.
        let other = try ledger.createUser(email: "other@example.com", hasher: cheapHasher)
        #expect(try !spend(ledger, other, key: "k1").replayed)
        // A refusal (not enough tokens) stores nothing: a later retry with tokens goes through.
        #expect(throws: LedgerError.self) { try spend(ledger, user, key: "big", amount: 1000, meaning: "big") }
        _ = try ledger.grant(userId: user.id, amount: 1000, reason: "top-up", actor: "test")
        #expect(try !spend(ledger, user, key: "big", amount: 1000, meaning: "big").replayed)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func purgeDeletesOnlyWhatExpired() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 3, 1, 12))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "purge@example.com", hasher: cheapHasher)
        let short = try ledger.createSession(userId: user.id, lifetime: 60)
        let long = try ledger.createSession(userId: user.id, lifetime: 7 * 86_400)
        _ = try spend(ledger, user, key: "old")

        clock.set(utc(2026, 3, 1, 14))
        #expect(try ledger.purgeExpired() == PurgeSummary(sessions: 1, idempotencyRecords: 0))
        let reader = try ledger.makeReader()
        #expect(try reader.principal(sessionTokenHash: SecretHash.sha256(short.token)) == nil)
        #expect(try reader.principal(sessionTokenHash: SecretHash.sha256(long.token)) != nil)
        #expect(try spend(ledger, user, key: "old").replayed, "within 24 h the stored result still replays")

        clock.set(utc(2026, 3, 2, 13))
        #expect(try ledger.purgeExpired() == PurgeSummary(sessions: 0, idempotencyRecords: 1))
        #expect(try !spend(ledger, user, key: "old").replayed, "after the window the key is new again")
        #expect(try ledger.verify().sessions == 1)
    }
}
