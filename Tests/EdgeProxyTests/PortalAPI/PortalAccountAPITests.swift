import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// Tokens, keys, usage, /v1/users/me and the admin APIs through real TLS and a real LMDB ledger,
/// including the boundaries: nobody reads, spends, grants or revokes what is not theirs.
@Suite("Portal account APIs: tokens, keys, usage, users/me, admin")
struct PortalAccountAPITests {
    @Test("GET /api/tokens shows balance, held, plan, period and history, paged with limit/before")
    func tokensBalanceAndHistory() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("history@example.com", tokens: 100)
            for amount in [5, 6, 7] as [Int64] { try edge.grant(user, amount, reason: "r\(amount)") }
            let client = try await edge.client()
            let auth: HTTPHeaders = ["Authorization": "Bearer \(key)"]
            let first = try await client.send(path: "/api/tokens?limit=2", headers: auth)
            #expect(first.status == .ok, "\(first.bodyText)")
            let json = try first.jsonObject()
            #expect(json["balance"] as? Int == 118)
            #expect(json["held"] as? Int == 0)
            #expect(json["available"] as? Int == 118)
            #expect(json["plan"] as? String == EdgeHarness.emptyPlan.name)
            let period = try #require(json["period"] as? [String: Any])
            #expect(period["start"] is String && period["end"] is String)
            let history = try #require(json["history"] as? [[String: Any]])
            #expect(history.map { $0["delta"] as? Int } == [7, 6])
            #expect(history.first?["balanceAfter"] as? Int == 118)
            #expect(history.first?["kind"] as? String == "grant")
            #expect(history.first?["reason"] as? String == "r7")
            #expect(history.first?["createdAt"] is String)
            let next = try #require(json["nextBefore"] as? String)
            let second = try await client.send(path: "/api/tokens?limit=2&before=\(next)", headers: auth)
            let rest = try #require(try second.jsonObject()["history"] as? [[String: Any]])
            #expect(rest.map { $0["delta"] as? Int } == [5, 100])
            for bad in ["limit=0", "limit=abc", "limit=100000", "before=-1"] {
                let response = try await client.send(path: "/api/tokens?\(bad)", headers: auth)
                #expect(response.status == .badRequest, "\(bad)")
            }
            #expect(try await client.send(path: "/api/tokens").status == .unauthorized)
            await client.close()
        }
    }

    @Test("POST /api/tokens spends the caller's own tokens; 400 invalid_operation; 402 with required/balance; nothing changes on refusal")
    func spend() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("spender@example.com", tokens: 10)
            let client = try await edge.client()
            let auth: HTTPHeaders = ["Authorization": "Bearer \(key)"]
            let ok = try await client.sendJSON(.POST, "/api/tokens", ["operation": "raster_generation", "quantity": 2], headers: auth)
            #expect(ok.status == .ok, "\(ok.bodyText)")
            #expect(try ok.jsonObject()["charged"] as? Int == 8)
            #expect(try ok.jsonObject()["balance"] as? Int == 2)
            let unknown = try await client.sendJSON(.POST, "/api/tokens", ["operation": "free_lunch"], headers: auth)
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorCode == "invalid_operation")
            let short = try await client.sendJSON(.POST, "/api/tokens", ["operation": "generative_upscale"], headers: auth)
            #expect(short.status == .paymentRequired)
            let error = try #require(try short.jsonObject()["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_tokens")
            #expect(error["required"] as? Int == 80)
            #expect(error["balance"] as? Int == 2)
            for body in [["operation": "raster_generation", "quantity": 0], ["operation": "raster_generation", "quantity": "2"], ["operation": 4]] as [[String: Any]] {
                let response = try await client.sendJSON(.POST, "/api/tokens", body, headers: auth)
                #expect(response.status == .badRequest, "\(body)")
            }
            #expect(try edge.balance(user) == (2, 0))
            let history = try edge.ledger.history(userId: user.id, limit: 10)
            #expect(history.first?.kind == .charge && history.first?.operation == "raster_generation" && history.first?.delta == -8)
            await client.close()
        }
    }

    @Test("Idempotency-Key: a retried POST or PUT charges or grants once; the same key with another body → 422")
    func idempotency() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("retry@example.com", tokens: 20)
            let admin = try edge.makeAccount("admin-idem@example.com", role: .admin)
            let adminKey = try edge.makeKey(admin)
            let client = try await edge.client()
            var auth: HTTPHeaders = ["Authorization": "Bearer \(key)", "Idempotency-Key": "spend-1"]
            let first = try await client.sendJSON(.POST, "/api/tokens", ["operation": "vectorization"], headers: auth)
            let retry = try await client.sendJSON(.POST, "/api/tokens", ["operation": "vectorization"], headers: auth)
            #expect(first.status == .ok && retry.status == .ok)
            #expect(retry.headers["Idempotent-Replayed"].first == "true")
            #expect(first.headers["Idempotent-Replayed"].isEmpty)
            #expect(try retry.jsonObject()["balance"] as? Int == 16)
            let conflict = try await client.sendJSON(.POST, "/api/tokens", ["operation": "vectorization", "quantity": 2], headers: auth)
            #expect(conflict.status.code == 422)
            #expect(conflict.errorCode == "idempotency_conflict")
            #expect(try edge.balance(user) == (16, 0))
            auth.replaceOrAdd(name: "Idempotency-Key", value: String(repeating: "k", count: 300))
            #expect(try await client.sendJSON(.POST, "/api/tokens", ["operation": "vectorization"], headers: auth).status == .badRequest)

            let grantHeaders: HTTPHeaders = ["Authorization": "Bearer \(adminKey)", "Idempotency-Key": "grant-1"]
            for _ in 0..<3 {
                let granted = try await client.sendJSON(.PUT, "/api/tokens", ["email": "retry@example.com", "amount": 50, "reason": "support"], headers: grantHeaders)
                #expect(granted.status == .ok, "\(granted.bodyText)")
                #expect(try granted.jsonObject()["balance"] as? Int == 66)
            }
            #expect(try edge.balance(user) == (66, 0))
            await client.close()
        }
    }

    @Test("PUT /api/tokens: admins grant (by e-mail or id); a non-admin gets 403 and nothing changes; bad amounts → 400")
    func grants() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("plain@example.com", tokens: 5)
            let admin = try edge.makeAccount("boss@example.com", role: .admin)
            let adminSession = try edge.signIn(admin)
            let client = try await edge.client()
            let selfGrant = try await client.sendJSON(.PUT, "/api/tokens", ["email": "plain@example.com", "amount": 1000], headers: ["Authorization": "Bearer \(key)"])
            #expect(selfGrant.status == .forbidden)
            #expect(try edge.balance(user) == (5, 0))
            let byAdmin = browserHeaders(edge, session: adminSession)
            let granted = try await client.sendJSON(.PUT, "/api/tokens", ["userId": String(user.id.rawValue), "amount": 10, "reason": "welcome"], headers: byAdmin)
            #expect(granted.status == .ok, "\(granted.bodyText)")
            #expect(try granted.jsonObject()["granted"] as? Int == 10)
            #expect(try edge.balance(user) == (15, 0))
            let history = try edge.ledger.history(userId: user.id, limit: 1)
            #expect(history.first?.memo == "welcome" && history.first?.actor == "admin:\(admin.id)")
            for body in [["email": "plain@example.com", "amount": 0], ["email": "plain@example.com", "amount": -5],
                         ["email": "plain@example.com", "amount": 1.5], ["email": "plain@example.com", "amount": "10"],
                         ["email": "plain@example.com", "amount": 99_999_999_999_999]] as [[String: Any]] {
                let response = try await client.sendJSON(.PUT, "/api/tokens", body, headers: byAdmin)
                #expect(response.status == .badRequest, "\(body): \(response.bodyText)")
            }
            let nobody = try await client.sendJSON(.PUT, "/api/tokens", ["email": "ghost@example.com", "amount": 5], headers: byAdmin)
            #expect(nobody.status == .notFound)
            // Cookie + a foreign Origin never grants (CSRF).
            var foreign = byAdmin
            foreign.replaceOrAdd(name: "Origin", value: "https://evil.example")
            let csrf = try await client.sendJSON(.PUT, "/api/tokens", ["email": "plain@example.com", "amount": 5], headers: foreign)
            #expect(csrf.status == .forbidden)
            #expect(try edge.balance(user) == (15, 0))
            await client.close()
        }
    }

    @Test("API keys: create shows the key once, list never shows it, the key works; users see and revoke only their own")
    func keys() async throws {
        try await withEdge { edge in
            let alice = try edge.makeAccount("alice@example.com", plan: EdgeHarness.emptyPlan.name)
            try edge.grant(alice, 40)
            let (bob, bobKey) = try edge.makeUser("bob@example.com", tokens: 40)
            let aliceHeaders = browserHeaders(edge, session: try edge.signIn(alice))
            let client = try await edge.client()
            let created = try await client.sendJSON(.POST, "/api/keys", ["name": "laptop"], headers: aliceHeaders)
            #expect(created.status == .created, "\(created.bodyText)")
            let secret = try #require(try created.jsonObject()["secret"] as? String)
            #expect(secret.hasPrefix("rk_"))
            let keyJSON = try #require(try created.jsonObject()["key"] as? [String: Any])
            let keyId = try #require(keyJSON["id"] as? String)
            #expect((keyJSON["prefix"] as? String).map { secret.hasPrefix($0) } == true)
            let listed = try await client.send(path: "/api/keys", headers: aliceHeaders)
            #expect(!listed.bodyText.contains(secret))
            #expect((try listed.jsonObject()["keys"] as? [[String: Any]])?.map { $0["name"] as? String } == ["laptop"])
            // The new key spends Alice's tokens.
            let me = try await client.send(path: "/v1/users/me", headers: ["Authorization": "Bearer \(secret)"])
            #expect(try me.jsonObject()["email"] as? String == "alice@example.com")
            #expect(try me.jsonObject()["credits"] as? Int == 40)
            // Bob cannot see or revoke Alice's key; the answer is the same as for an unknown key.
            let bobList = try await client.send(path: "/api/keys", headers: ["Authorization": "Bearer \(bobKey)"])
            #expect(!bobList.bodyText.contains(keyId))
            let bobRevoke = try await client.send(method: .DELETE, path: "/api/keys/\(keyId)", headers: ["Authorization": "Bearer \(bobKey)"])
            #expect(bobRevoke.status == .notFound)
            let unknown = try await client.send(method: .DELETE, path: "/api/keys/0123456789abcdef", headers: ["Authorization": "Bearer \(bobKey)"])
            #expect(unknown.status == .notFound && unknown.bodyText == bobRevoke.bodyText.replacingOccurrences(of: keyId, with: "0123456789abcdef"))
            #expect(try await client.send(path: "/v1/users/me", headers: ["Authorization": "Bearer \(secret)"]).status == .ok)
            // Alice revokes it: dead at once.
            let revoked = try await client.send(method: .DELETE, path: "/api/keys/\(keyId)", headers: aliceHeaders)
            #expect(revoked.status == .noContent)
            #expect(try await client.send(path: "/v1/users/me", headers: ["Authorization": "Bearer \(secret)"]).status == .unauthorized)
            let after = try await client.send(path: "/api/keys", headers: aliceHeaders)
            #expect((try after.jsonObject()["keys"] as? [[String: Any]])?.first?["revoked"] as? Bool == true)
            for bad in [["name": ""], ["name": String(repeating: "n", count: 200)], ["name": 5]] as [[String: Any]] {
                #expect(try await client.sendJSON(.POST, "/api/keys", bad, headers: aliceHeaders).status == .badRequest)
            }
            _ = bob
            await client.close()
        }
    }

    @Test("GET /api/usage: per day and operation, only the caller's; bad dates → 400")
    func usage() async throws {
        try await withEdge { edge in
            let (alice, aliceKey) = try edge.makeUser("usage-a@example.com", tokens: 100)
            let (_, bobKey) = try edge.makeUser("usage-b@example.com", tokens: 100)
            let client = try await edge.client()
            for (key, operation) in [(aliceKey, "raster_generation"), (aliceKey, "raster_generation"), (aliceKey, "vectorization"), (bobKey, "generative_upscale")] {
                #expect(try await client.sendJSON(.POST, "/api/tokens", ["operation": operation], headers: ["Authorization": "Bearer \(key)"]).status == .ok)
            }
            let response = try await client.send(path: "/api/usage", headers: ["Authorization": "Bearer \(aliceKey)"])
            #expect(response.status == .ok, "\(response.bodyText)")
            let days = try #require(try response.jsonObject()["days"] as? [[String: Any]])
            let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
            #expect(days.count == 2)
            #expect(days.allSatisfy { $0["date"] as? String == today })
            let raster = days.first { $0["operation"] as? String == "raster_generation" }
            #expect(raster?["count"] as? Int == 2 && raster?["tokens"] as? Int == 8)
            #expect(!response.bodyText.contains("generative_upscale"))
            _ = alice
            for bad in ["from=2026-13-01", "from=yesterday", "from=2026-02-30", "from=2026-05-02&to=2026-05-01", "from=2020-01-01&to=2026-01-01"] {
                #expect(try await client.send(path: "/api/usage?\(bad)", headers: ["Authorization": "Bearer \(aliceKey)"]).status == .badRequest, "\(bad)")
            }
            await client.close()
        }
    }

    @Test("GET /v1/users/me is answered at the edge with the caller's own credits, never forwarded")
    func usersMe() async throws {
        try await withEdge { edge in
            let (_, key) = try edge.makeUser("me@example.com", tokens: 33)
            let client = try await edge.client()
            let me = try await client.send(path: "/v1/users/me", headers: ["Authorization": "Bearer \(key)"])
            #expect(me.status == .ok)
            #expect(try me.jsonObject()["credits"] as? Int == 33)
            #expect(try me.jsonObject()["email"] as? String == "me@example.com")
            #expect(try await client.send(path: "/v1/users/me").status == .unauthorized)
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }

    @Test("Admin users API: find by e-mail and change plan; non-admins 403; unknown plan 400")
    func adminUsers() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("member@example.com", tokens: 7)
            let admin = try edge.makeAccount("root@example.com", role: .admin)
            let adminKey = try edge.makeKey(admin)
            let client = try await edge.client()
            let asAdmin: HTTPHeaders = ["Authorization": "Bearer \(adminKey)"]
            let found = try await client.send(path: "/api/admin/users?email=MEMBER%40example.com", headers: asAdmin)
            #expect(found.status == .ok, "\(found.bodyText)")
            let users = try #require(try found.jsonObject()["users"] as? [[String: Any]])
            #expect(users.first?["balance"] as? Int == 7)
            let changed = try await client.sendJSON(.PATCH, "/api/admin/users/\(user.id.rawValue)", ["plan": "basic"], headers: asAdmin)
            #expect(changed.status == .ok, "\(changed.bodyText)")
            #expect(try edge.ledger.user(id: user.id)?.plan == "basic")
            #expect(try await client.sendJSON(.PATCH, "/api/admin/users/\(user.id.rawValue)", ["plan": "platinum"], headers: asAdmin).status == .badRequest)
            #expect(try await client.sendJSON(.PATCH, "/api/admin/users/999999", ["plan": "basic"], headers: asAdmin).status == .notFound)
            let asUser: HTTPHeaders = ["Authorization": "Bearer \(key)"]
            #expect(try await client.send(path: "/api/admin/users?email=root%40example.com", headers: asUser).status == .forbidden)
            #expect(try await client.sendJSON(.PATCH, "/api/admin/users/\(admin.id.rawValue)", ["plan": "free"], headers: asUser).status == .forbidden)
            #expect(try edge.ledger.user(id: admin.id)?.plan == "free")
            await client.close()
        }
    }
}
