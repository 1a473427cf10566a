import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// The metered path end to end: real TLS, a real LMDB ledger, the stand-in Recraft.
@Suite("Authentication, pricing and metering through the real edge")
struct MeteringTests {
    static func generation(_ json: String) -> ByteBuffer { ByteBuffer(string: json) }

    static func bearer(_ key: String) -> HTTPHeaders {
        ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
    }

    @Test("No, unknown or revoked credentials → 401 with WWW-Authenticate, nothing forwarded")
    func unauthenticated() async throws {
        try await withEdge { edge in
            let (_, key) = try edge.makeUser("revoked@example.com", tokens: 100)
            try edge.revokeKeys(of: "revoked@example.com")
            let client = try await edge.client()
            for headers: HTTPHeaders in [[:], ["Authorization": "Bearer rk_not_a_real_key"], ["Authorization": "Basic dTpw"], Self.bearer(key)] {
                let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: headers, body: ByteBuffer(string: "{}"))
                #expect(response.status == .unauthorized, "\(headers)")
                #expect(response.headers["WWW-Authenticate"].first?.hasPrefix("Bearer") == true)
                #expect(try (response.jsonObject()["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            }
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }

    @Test("Prices: raster 4, vector_illustration ×2 = 16, a *_vector model 8, /generations/vector 8, generative upscale 80")
    func prices() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("prices@example.com", tokens: 1000)
            let client = try await edge.client()
            let cases: [(String, String, Int64)] = [
                ("/v1/images/generations", #"{"prompt":"a fox"}"#, 4),
                ("/api/recraft/generations", #"{"prompt":"a fox","style":"vector_illustration","n":2}"#, 16),
                ("/v1/images/generations", #"{"prompt":"a fox","model":"recraftv4_vector"}"#, 8),
                ("/v1/images/generations/vector", #"{"prompt":"a fox"}"#, 8),
                ("/v1/images/generations", #"{"prompt":"a fox","style":"icon","n":3}"#, 24),
                ("/v1/images/creativeUpscale", "--multipart-ish-bytes--", 80),
                ("/api/recraft/remove-background", "image-bytes", 4),
            ]
            var expected: Int64 = 1000
            for (path, body, price) in cases {
                let response = try await client.send(method: .POST, path: path, headers: Self.bearer(key), body: Self.generation(body))
                #expect(response.status == .ok, "\(path) \(body): \(response.bodyText)")
                expected -= price
                #expect(response.headers["X-Tokens-Charged"].first == String(price), "\(path) \(body)")
                #expect(response.headers["X-Tokens-Remaining"].first == String(expected))
            }
            #expect(try edge.balance(user) == (expected, 0))
            await client.close()
        }
    }

    @Test("An API key spends its owner's tokens and never another user's")
    func keyOwnerPays() async throws {
        try await withEdge { edge in
            let (alice, aliceKey) = try edge.makeUser("alice@example.com", tokens: 50)
            let (bob, _) = try edge.makeUser("bob@example.com", tokens: 50)
            let client = try await edge.client()
            var headers = Self.bearer(aliceKey)
            // Nothing the client sends names the payer: these are ignored and stripped.
            headers.add(name: "X-User-Id", value: "\(bob.id)")
            headers.add(name: "Cookie", value: "edge_session=forged")
            let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: headers, body: ByteBuffer(string: "x"))
            #expect(response.status == .ok)
            #expect(try edge.balance(alice) == (46, 0))
            #expect(try edge.balance(bob) == (50, 0))
            await client.close()
        }
    }

    @Test("Short on tokens → 402 insufficient_tokens with required and balance; nothing forwarded")
    func insufficient() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("poor@example.com", tokens: 10)
            let client = try await edge.client()
            let response = try await client.send(method: .POST, path: "/v1/images/generativeUpscale", headers: Self.bearer(key), body: ByteBuffer(string: "x"))
            #expect(response.status == .paymentRequired)
            let error = try #require(try response.jsonObject()["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_tokens")
            #expect(error["required"] as? Int == 80)
            #expect(error["balance"] as? Int == 10)
            #expect(edge.standIn.requestCount == 0)
            #expect(try edge.balance(user) == (10, 0))
            await client.close()
        }
    }

    @Test("Upstream 500, 400 and a reset before the answer refund the hold", arguments: [
        ("X-StandIn-Status", "500"), ("X-StandIn-Status", "400"), ("X-StandIn-Reset", "1"),
    ])
    func refunds(header: String, value: String) async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("refund@example.com", tokens: 20)
            let client = try await edge.client()
            var headers = Self.bearer(key)
            headers.add(name: header, value: value)
            let response = try await client.send(method: .POST, path: "/v1/images/generations", headers: headers, body: Self.generation(#"{"prompt":"x"}"#))
            #expect(response.status.code >= 400)
            #expect(response.headers["X-Tokens-Charged"].first ?? "0" == "0")
            #expect(try edge.balance(user) == (20, 0))
            await client.close()
        }
    }

    @Test("Recraft refusing the service token → 502 upstream_unauthorized (never 401), refunded")
    func upstreamUnauthorized() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("svc@example.com", tokens: 20)
            let client = try await edge.client()
            var headers = Self.bearer(key)
            headers.add(name: "X-StandIn-Status", value: "401")
            let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: headers, body: ByteBuffer(string: "x"))
            #expect(response.status == .badGateway)
            #expect(response.bodyText.contains("upstream_unauthorized"))
            #expect(try edge.balance(user) == (20, 0))
            await client.close()
        }
    }

    @Test("A user with 40 tokens sending 64 concurrent 8-token generations gets exactly five 200s and ends at 0")
    func concurrentHoldsNeverOverspend() async throws {
        // About holds, not rate limits: 64 at once would exceed the generation class's burst.
        try await withEdge(adjust: { $0.rateLimits.classes["generation"] = .init(perUser: nil, perIP: nil) }) { edge in
            let (user, key) = try edge.makeUser("racer@example.com", tokens: 40)
            let clients = try await withThrowingTaskGroup(of: TestHTTPSClient.self) { group in
                for _ in 0..<64 { group.addTask { try await edge.client() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = try await withThrowingTaskGroup(of: UInt.self) { group in
                for client in clients {
                    group.addTask {
                        try await client.send(
                            method: .POST, path: "/v1/images/generations", headers: Self.bearer(key),
                            body: Self.generation(#"{"prompt":"race","model":"recraftv4_vector"}"#)).status.code
                    }
                }
                return try await group.reduce(into: [UInt]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 5)
            #expect(statuses.filter { $0 == 402 }.count == 59)
            #expect(try edge.balance(user) == (0, 0))
            #expect(edge.standIn.requestCount == 5)
            for client in clients { await client.close() }
        }
    }

    @Test("The client's credentials never reach Recraft; the service token does")
    func credentialsStayAtTheEdge() async throws {
        try await withEdge { edge in
            let (_, key) = try edge.makeUser("secret@example.com", tokens: 20)
            let client = try await edge.client()
            var headers = Self.bearer(key)
            headers.add(name: "Cookie", value: "edge_session=whatever; other=1")
            _ = try await client.send(method: .POST, path: "/api/recraft/vectorize", headers: headers, body: ByteBuffer(string: "x"))
            let seen = try #require(edge.standIn.requests.last)
            #expect(seen.values("Authorization") == ["Bearer \(EdgeHarness.recraftToken)"])
            #expect(seen.values("Cookie").isEmpty)
            #expect(!seen.headers.contains { $0.value.contains(key) })
            await client.close()
        }
    }

    @Test("A signed-in session cookie spends the session owner's tokens")
    func sessionCookie() async throws {
        try await withEdge { edge in
            let (user, _) = try edge.makeUser("cookie@example.com", tokens: 20)
            let sessionToken = try edge.signIn(user)
            let client = try await edge.client()
            let response = try await client.send(
                method: .POST, path: "/api/recraft/vectorize",
                // A cookie POST must come from an allowed page (CSRF): NEXT_PUBLIC_APP_URL's origin.
                headers: ["Cookie": "theme=dark; edge_session=\(sessionToken)", "Origin": "https://localhost:\(edge.standIn.port)"],
                body: ByteBuffer(string: "x"))
            #expect(response.status == .ok)
            #expect(try edge.balance(user) == (16, 0))
            let expired = try await client.send(
                method: .POST, path: "/api/recraft/vectorize", headers: ["Cookie": "edge_session=nope"], body: ByteBuffer(string: "x"))
            #expect(expired.status == .unauthorized)
            #expect(expired.headers["WWW-Authenticate"].isEmpty)
            await client.close()
        }
    }

    @Test("Bad generation bodies: invalid JSON, wrong types, n out of range → 400; too big → 413; nothing forwarded or held")
    func badGenerationBodies() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("bad@example.com", tokens: 100)
            let cases: [(String, UInt)] = [
                ("{not json", 400), (#"{"n":"2"}"#, 400), (#"{"n":2.5}"#, 400), (#"{"n":0}"#, 400), (#"{"n":7}"#, 400),
                (#"{"style":5}"#, 400), ("[1,2]", 400),
                ("{\"prompt\":\"" + String(repeating: "a", count: 70_000) + "\"}", 413),
            ]
            for (body, status) in cases {
                let client = try await edge.client()
                let response = try await client.send(method: .POST, path: "/v1/images/generations", headers: Self.bearer(key), body: Self.generation(body))
                #expect(response.status.code == status, "\(body.prefix(30)) → \(response.status) \(response.bodyText)")
                await client.close()
            }
            #expect(edge.standIn.requestCount == 0)
            #expect(try edge.balance(user) == (100, 0))
        }
    }

    @Test("A chunked generation body is held whole, priced, and forwarded with a Content-Length")
    func chunkedGeneration() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("chunky@example.com", tokens: 100)
            let raw = try await edge.raw()
            let json = #"{"prompt":"a cat","n":2}"#
            let size = String(json.utf8.count, radix: 16)
            try await raw.write("POST /v1/images/generations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\(size)\r\n\(json)\r\n0\r\n\r\n")
            let answer = await raw.readUntilClose().text
            #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
            #expect(answer.contains("X-Tokens-Charged: 8"))
            let seen = try #require(edge.standIn.requests.last)
            #expect(seen.values("Content-Length") == ["\(json.utf8.count)"])
            #expect(seen.values("Transfer-Encoding").isEmpty)
            #expect(try edge.balance(user) == (92, 0))
            await raw.close()
        }
    }
}
