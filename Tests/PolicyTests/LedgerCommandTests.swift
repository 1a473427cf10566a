import Foundation
import Testing
@testable import Policy

/// The ledger commands of the built `edgeproxy` binary, against a temporary data directory.
@Suite(.serialized) struct LedgerCommandTests {
    @Test func usersKeysAndTokensFromTheCommandLine() throws {
        let directory = TemporaryDirectory("cli")
        let data = directory.file("data")
        let added = try runEdgeproxy(["users", "add", "Grace@Example.com", "--plan", "professional", "--admin", "--password-stdin"], dataDir: data, stdin: "s3cret\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("grace@example.com plan=professional role=admin balance=10000"))

        let key = try runEdgeproxy(["keys", "create", "grace@example.com", "--name", "ci"], dataDir: data)
        #expect(key.status == 0, "\(key.stderr)")
        let secret = try #require(key.lines.last)
        #expect(secret.hasPrefix("rk_") && !secret.contains(" "))

        let grant = try runEdgeproxy(["tokens", "grant", "GRACE@example.com", "250", "--reason", "welcome"], dataDir: data)
        #expect(grant.status == 0, "\(grant.stderr)")
        let show = try runEdgeproxy(["tokens", "show", "grace@example.com", "--json", "--history", "5"], dataDir: data)
        #expect(show.status == 0, "\(show.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(json["balance"] as? Int == 10_250)
        #expect(json["held"] as? Int == 0)
        #expect(json["plan"] as? String == "professional")
        #expect((json["history"] as? [[String: Any]])?.first?["memo"] as? String == "welcome")

        let list = try runEdgeproxy(["users", "list"], dataDir: data)
        #expect(list.lines.count == 2 && list.lines[1].contains("grace@example.com\tprofessional\tadmin\t10250"))

        // The key authenticates through a reader; revoking it by id stops that.
        let keyId = String(secret.dropFirst(3).prefix(16))
        let revoke = try runEdgeproxy(["keys", "revoke", keyId], dataDir: data)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let ledger = try Ledger.open(directory: data, settings: .standard, plans: testPlans)
        defer { ledger.close() }
        #expect(try ledger.verifyPassword(email: "grace@example.com", password: "s3cret") != nil)
        #expect(try ledger.makeReader().principal(apiKeyHash: SecretHash.sha256(secret)) == nil)
        #expect(try ledger.apiKeys(userId: try #require(try ledger.user(email: "grace@example.com")).id).first?.revokedAt != nil)
        let verify = try runEdgeproxy(["ledger", "verify"], dataDir: data)
        #expect(verify.status == 0 && verify.stdout.contains("OK"), "\(verify.stderr)")
        let renew = try runEdgeproxy(["ledger", "renew"], dataDir: data)
        #expect(renew.status == 0 && renew.stdout.contains("examined 1 balances, renewed 0"), "\(renew.stderr)")
    }

    @Test(arguments: [
        (["tokens", "grant", "nobody@example.com", "10"], "no user with e-mail"),
        (["tokens", "grant", "ann@example.com", "0"], "greater than zero"),
        (["tokens", "grant", "ann@example.com", "-5"], "positive"),
        (["tokens", "grant", "ann@example.com", "12abc"], "not a whole number"),
        (["tokens", "grant", "ann@example.com", "1.5"], "not a whole number"),
        (["tokens", "grant", "ann@example.com", "99999999999999999999"], "too large"),
        (["tokens", "grant", "ann@example.com", "9223372036854775807"], "overflow"),
        (["users", "add", "ANN@example.com"], "already exists"),
        (["users", "add", "not-an-email"], "not a valid e-mail"),
        (["users", "add", "bob@example.com", "--plan", "gold"], "no plan named"),
        (["keys", "create", "nobody@example.com"], "no user with e-mail"),
        (["keys", "revoke", "0123456789abcdef"], "no API key"),
        (["keys", "revoke", "xyz"], "not a key id"),
        (["tokens", "show", "nobody@example.com"], "no user with e-mail"),
    ])
    func badInputIsRefusedAndChangesNothing(arguments: [String], message: String) throws {
        let directory = TemporaryDirectory("bad")
        let data = directory.file("data")
        let setup = try runEdgeproxy(["users", "add", "ann@example.com"], dataDir: data)
        #expect(setup.status == 0, "\(setup.stderr)")
        let before = try snapshot(data)
        let run = try runEdgeproxy(arguments, dataDir: data)
        #expect(run.status != 0)
        #expect(run.stderr.contains(message), "stderr: \(run.stderr)")
        #expect(try snapshot(data) == before)
    }

    @Test func verifyFailsOnABrokenInvariant() throws {
        let directory = TemporaryDirectory("broken")
        let data = directory.file("data")
        do {
            let ledger = try Ledger.open(directory: data, settings: .standard, plans: testPlans)
            let user = try ledger.createUser(email: "x@example.com", hasher: cheapHasher)
            // Corrupt the balance behind the ledger's back: 5 tokens that no transaction explains.
            let stored = try ledger.environment.read { (txn) throws(LedgerError) in
                try txn.get(ledger.schema.balances, user.id.rawValue) { (bytes) throws(LedgerError) in try BalanceRecord(bytes) }
            }
            var record = try #require(stored)
            record.balance += 5
            try ledger.environment.write { (txn) throws(LedgerError) in
                try txn.putReserving(ledger.schema.balances, user.id.rawValue, count: BalanceRecord.size) { record.encode(into: $0) }
            }
            ledger.close()
        }
        let verify = try runEdgeproxy(["ledger", "verify"], dataDir: data)
        #expect(verify.status == 1)
        #expect(verify.stderr.contains("balance is 205 but transactions sum to 200"), "\(verify.stderr)")
    }

    /// Users and balances as the CLI sees them (to show a refused command changed nothing).
    private func snapshot(_ data: String) throws -> String {
        let list = try runEdgeproxy(["users", "list", "--json"], dataDir: data)
        let show = try runEdgeproxy(["tokens", "show", "ann@example.com", "--json", "--history", "10"], dataDir: data)
        return list.stdout + show.stdout
    }
}
