import Foundation
import Testing
@testable import Policy

/// Users, passwords, sessions, API keys and the hot-path reader.
@Suite struct LedgerAccountTests {
    @Test func emailsAreUniqueInAnyLetterCase() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let ada = try ledger.createUser(email: "  Ada@Example.COM ", plan: "basic", role: .admin, name: "Ada", hasher: cheapHasher)
        #expect(ada.email == "ada@example.com" && ada.plan == "basic" && ada.role == .admin && ada.name == "Ada")
        let duplicate = #expect(throws: LedgerError.self) { try ledger.createUser(email: "ADA@example.com", hasher: cheapHasher) }
        #expect(duplicate?.code == .duplicateEmail)
        let badPlan = #expect(throws: LedgerError.self) { try ledger.createUser(email: "b@example.com", plan: "gold", hasher: cheapHasher) }
        #expect(badPlan?.code == .unknownPlan)
        for bad in ["", "no-at-sign", "a@b", "two@@example.com", "sp ace@example.com", "@example.com"] {
            let invalid = #expect(throws: LedgerError.self) { try ledger.createUser(email: bad, hasher: cheapHasher) }
            #expect(invalid?.code == .invalidEmail, "\(bad)")
        }
        #expect(try ledger.users().map(\.email) == ["ada@example.com"])
        #expect(try ledger.user(email: "ADA@EXAMPLE.COM")?.id == ada.id)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func passwordsVerifyWithScrypt() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        _ = try ledger.createUser(email: "pw@example.com", password: "correct horse", hasher: cheapHasher)
        _ = try ledger.createUser(email: "nopw@example.com", hasher: cheapHasher)
        #expect(try ledger.verifyPassword(email: "PW@example.com", password: "correct horse")?.email == "pw@example.com")
        #expect(try ledger.verifyPassword(email: "pw@example.com", password: "correct horsE") == nil)
        #expect(try ledger.verifyPassword(email: "nopw@example.com", password: "") == nil)
        #expect(try ledger.verifyPassword(email: "ghost@example.com", password: "x") == nil)
    }

    @Test func passwordHashesAreSaltedAndParameterised() throws {
        let hasher = PasswordHasher()  // the standard cost, once
        let first = try hasher.hash(password: "secret")
        let second = try hasher.hash(password: "secret")
        #expect(first != second)
        #expect(first.hasPrefix("$scrypt$ln=15,r=8,p=1$"))
        #expect(PasswordHasher.verify(password: "secret", against: first))
        #expect(!PasswordHasher.verify(password: "Secret", against: first))
        #expect(PasswordHasher.parse(PasswordHasher.decoy) != nil)
        #expect(!PasswordHasher.verify(password: "secret", against: "$scrypt$ln=40,r=8,p=1$AAAA$AAAA"))
        #expect(!PasswordHasher.verify(password: "secret", against: "plain"))
    }

    @Test func sessionsAuthenticateAndSlide() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 3, 1))
        let ledger = try openLedger(directory, clock: clock.ledgerClock, options: LedgerOptions(sessionRefreshInterval: 60))
        defer { ledger.close() }
        let user = try ledger.createUser(email: "s@example.com", hasher: cheapHasher)
        let session = try ledger.createSession(userId: user.id, lifetime: 3600)
        #expect(session.token.count == 43)
        let hash = SecretHash.sha256(session.token)
        let reader = try ledger.makeReader()

        let fresh = try #require(try reader.principal(sessionTokenHash: hash, now: clock.now))
        #expect(fresh.userId == user.id && fresh.email == "s@example.com" && fresh.plan == "free" && fresh.keyId == nil)
        #expect(!fresh.sessionRefreshDue)

        clock.set(clock.now.addingTimeInterval(3000))
        let due = try #require(try reader.principal(sessionTokenHash: hash, now: clock.now))
        #expect(due.sessionRefreshDue)
        let newExpiry = try ledger.waitFor { ledger.touchSession(tokenHash: hash, completion: $0) }
        #expect(newExpiry == clock.now.addingTimeInterval(3600))

        clock.set(clock.now.addingTimeInterval(3000))  // past the original expiry, within the slid one
        #expect(try reader.principal(sessionTokenHash: hash, now: clock.now) != nil)
        clock.set(clock.now.addingTimeInterval(4000))
        #expect(try reader.principal(sessionTokenHash: hash, now: clock.now) == nil)

        let other = try ledger.createSession(userId: user.id)
        #expect(try ledger.deleteSession(tokenHash: SecretHash.sha256(other.token)))
        #expect(try reader.principal(sessionTokenHash: SecretHash.sha256(other.token), now: clock.now) == nil)
        #expect(try reader.principal(sessionTokenHash: SecretHash.sha256("not a token"), now: clock.now) == nil)
    }

    @Test func apiKeysAreShownOnceStoredHashedAndRevocable() throws {
        let directory = TemporaryDirectory()
        let ledger = try openLedger(directory)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "k@example.com", plan: "professional", hasher: cheapHasher)
        let issued = try ledger.createAPIKey(userId: user.id, name: "laptop")
        #expect(issued.key.hasPrefix("rk_" + issued.info.keyId + "_"))
        #expect(issued.key.utf8.count == 3 + 16 + 1 + 43)
        let looksRight = Array(issued.key.utf8).withUnsafeBytes { SecretTokens.looksLikeAPIKey($0) }
        #expect(looksRight)
        #expect(issued.info.visiblePrefix == "rk_" + issued.info.keyId)

        // The secret is nowhere in the data file, only its digest.
        let data = try Data(contentsOf: URL(fileURLWithPath: directory.file("data.mdb")))
        #expect(data.range(of: Data(issued.key.utf8)) == nil)

        let reader = try ledger.makeReader()
        let hash = Array(issued.key.utf8).withUnsafeBytes { SecretHash.sha256(bytes: $0) }
        #expect(hash == SecretHash.sha256(issued.key))
        let principal = try #require(try reader.principal(apiKeyHash: hash))
        #expect(principal.userId == user.id && principal.plan == "professional" && principal.keyId == issued.info.keyId)
        #expect(try reader.principal(apiKeyHash: SecretHash.sha256(issued.key + "x")) == nil)

        #expect(try ledger.apiKeys(userId: user.id).map(\.name) == ["laptop"])
        let revoked = try ledger.revokeAPIKey(keyId: issued.info.keyId)
        #expect(revoked.revokedAt != nil)
        #expect(try reader.principal(apiKeyHash: hash) == nil)
        #expect(try ledger.revokeAPIKey(keyId: issued.info.keyId).revokedAt == revoked.revokedAt)
        let unknown = #expect(throws: LedgerError.self) { try ledger.revokeAPIKey(keyId: "0000000000000000") }
        #expect(unknown?.code == .unknownKey)
        #expect(try ledger.verify().isConsistent)
    }

    @Test func readerSeesCommitsAndProjectsRenewals() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock(utc(2026, 1, 31))
        let ledger = try openLedger(directory, clock: clock.ledgerClock)
        defer { ledger.close() }
        let user = try ledger.createUser(email: "r@example.com", hasher: cheapHasher)
        let reader = try ledger.makeReader()
        _ = try ledger.hold(userId: user.id, amount: 150, requestId: "")
        let now = try #require(try reader.balance(userId: user.id, now: clock.now))
        #expect(now.balance == 200 && now.held == 150 && now.available == 50)
        #expect(now.periodEnd == utc(2026, 2, 28))
        #expect(try reader.balance(userId: user.id) == now)  // defaults to the ledger's clock
        // After the period ends the reader shows what the next write will do (free: back to 200).
        let later = try #require(try reader.balance(userId: user.id, now: utc(2026, 3, 1)))
        #expect(later.balance == 200 && later.held == 150 && later.periodStart == utc(2026, 2, 28))
        #expect(try reader.balance(userId: UserID(rawValue: 77), now: clock.now) == nil)
    }

    @Test func secretsLookRightAndDigestsPrintShort() throws {
        let token = try SecretTokens.newSessionToken()
        #expect(token.count == 43 && token.allSatisfy { $0.isLetter || $0.isNumber })
        let (key, keyId) = try SecretTokens.newAPIKey()
        #expect(SecretTokens.isKeyId(keyId) && key.hasPrefix("rk_\(keyId)_"))
        let digest = SecretHash.sha256("abc")
        #expect(digest.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest.description == "sha256:ba7816bf…")
        #expect(SHA256Digest(bytes: digest.bytes) == digest)
    }
}
