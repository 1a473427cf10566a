import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// Sign-up, sign-in, sign-out and the session endpoint through real TLS and a real LMDB ledger.
@Suite("Portal auth APIs: register, login, logout, session")
struct PortalAuthAPITests {
    @Test("Register → 201 with the user and a Secure HttpOnly SameSite=Lax cookie; the default plan's tokens; the cookie works")
    func register() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let response = try await client.sendJSON(.POST, "/api/auth/register",
                                                     ["email": "  New.User@Example.com ", "password": "correct horse battery", "name": "Ada"])
            #expect(response.status == .created, "\(response.bodyText)")
            let user = try #require(try response.jsonObject()["user"] as? [String: Any])
            #expect(user["email"] as? String == "new.user@example.com")
            #expect(user["name"] as? String == "Ada")
            #expect(user["plan"] as? String == "free")
            #expect(user["role"] as? String == "user")
            #expect(!response.bodyText.contains("password"))
            let setCookie = try #require(response.headers["Set-Cookie"].first)
            for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age="] {
                #expect(setCookie.contains(attribute), "\(setCookie)")
            }
            let cookie = try #require(response.sessionCookie())
            let account = try #require(try edge.ledger.user(email: "new.user@example.com"))
            #expect(try edge.balance(account) == (200, 0))
            // The cookie is a live session on the same kept-alive connection.
            let session = try await client.send(path: "/api/auth/session", headers: ["Cookie": "edge_session=\(cookie)"])
            #expect(session.status == .ok)
            let sessionUser = try #require(try session.jsonObject()["user"] as? [String: Any])
            #expect(sessionUser["email"] as? String == "new.user@example.com")
            #expect(try session.jsonObject()["expires"] is String)
            await client.close()
        }
    }

    @Test("Register refuses bad input with the field named and changes nothing; an existing e-mail in any case → 409")
    func registerRefusals() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let cases: [(Any, String?, HTTPResponseStatus)] = [
                (["email": "not-an-address", "password": "long enough password"], "email", .badRequest),
                (["email": "short@example.com", "password": "123456789"], "password", .badRequest),
                (["email": "types@example.com", "password": 1234567890123], "password", .badRequest),
                (["password": "long enough password"], "email", .badRequest),
                ("{not json", nil, .badRequest),
                ("[1,2,3]", nil, .badRequest),
            ]
            for (body, field, status) in cases {
                let response = try await client.sendJSON(.POST, "/api/auth/register", body)
                #expect(response.status == status, "\(body): \(response.bodyText)")
                let error = try response.jsonObject()["error"] as? [String: Any]
                #expect(error?["type"] as? String == "invalid_request_error")
                if let field { #expect(error?["field"] as? String == field, "\(response.bodyText)") }
                #expect(response.headers["Set-Cookie"].isEmpty)
            }
            let wrongType = try await client.send(method: .POST, path: "/api/auth/register", headers: ["Content-Type": "text/plain"],
                                                  body: ByteBuffer(string: "email=a@b.c"))
            #expect(wrongType.status == .unsupportedMediaType)
            // A body over the handler's limit → 413, and the edge closes that connection.
            let bigClient = try await edge.client()
            let huge = try await bigClient.sendJSON(.POST, "/api/auth/register", ["email": "big@example.com", "password": String(repeating: "x", count: 20_000)])
            #expect(huge.status == .payloadTooLarge)
            await bigClient.close()
            #expect(try edge.ledger.users().map(\.email) == ["default-user@example.com"])

            let first = try await client.sendJSON(.POST, "/api/auth/register", ["email": "taken@example.com", "password": "long enough password"])
            #expect(first.status == .created)
            let again = try await client.sendJSON(.POST, "/api/auth/register", ["email": "TAKEN@Example.COM", "password": "another long password"])
            #expect(again.status == .conflict)
            #expect(again.errorCode == "email_taken")
            #expect(try edge.ledger.users().count == 2)
            await client.close()
        }
    }

    @Test("Login: right password → 200 and a cookie; wrong password and unknown e-mail → the same 401")
    func login() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            _ = try await client.sendJSON(.POST, "/api/auth/register", ["email": "login@example.com", "password": "the right password"])
            let ok = try await client.sendJSON(.POST, "/api/auth/login", ["email": "LOGIN@example.com", "password": "the right password"])
            #expect(ok.status == .ok, "\(ok.bodyText)")
            #expect(ok.sessionCookie() != nil)
            let wrong = try await client.sendJSON(.POST, "/api/auth/login", ["email": "login@example.com", "password": "the wrong password"])
            let unknown = try await client.sendJSON(.POST, "/api/auth/login", ["email": "nobody@example.com", "password": "the right password"])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.bodyText == unknown.bodyText)
            #expect(wrong.errorCode == "invalid_credentials")
            #expect(wrong.headers["Set-Cookie"].isEmpty)
            await client.close()
        }
    }

    @Test("Login attempts are rate limited per client IP → 429 with Retry-After")
    func loginRateLimited() async throws {
        // The default burst (5) with a refill slow enough that a loaded machine cannot earn a token mid-test.
        try await withEdge(adjust: { policy in
            policy.rateLimits.classes["login"]?.perIP = RateLimitRule(ratePerMinute: 0.5, burst: 5)
        }) { edge in
            let client = try await edge.client()
            var statuses: [UInt] = []
            for attempt in 0..<8 {
                let response = try await client.sendJSON(.POST, "/api/auth/login", ["email": "victim\(attempt)@example.com", "password": "guess guess guess"])
                statuses.append(response.status.code)
                if response.status == .tooManyRequests {
                    #expect(response.headers["Retry-After"].first.flatMap(Int.init).map { $0 >= 1 } == true)
                    #expect(response.errorCode == "rate_limited")
                }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 401 }, "\(statuses)")
            #expect(statuses.suffix(3).allSatisfy { $0 == 429 }, "\(statuses)")
            await client.close()
        }
    }

    @Test("Login attempts naming one e-mail are limited by their own bucket, whatever the IP budget")
    func loginRateLimitedPerEmail() async throws {
        try await withEdge(adjust: { policy in
            // A generous per-IP budget, so only the per-e-mail bucket can stop the attempts.
            policy.rateLimits.classes["login"] = RateLimitSettings.RouteClass(
                perUser: RateLimitRule(ratePerMinute: 1, burst: 3), perIP: RateLimitRule(ratePerMinute: 600, burst: 100))
        }) { edge in
            let client = try await edge.client()
            var statuses: [UInt] = []
            for _ in 0..<5 {
                let response = try await client.sendJSON(.POST, "/api/auth/login", ["email": "Target@example.com", "password": "guess guess guess"])
                statuses.append(response.status.code)
                if response.status == .tooManyRequests {
                    // The account's bucket, not the (generous) per-IP one, speaks on its 429.
                    #expect(response.headers["RateLimit-Remaining"] == ["0"])
                    #expect(response.headers["RateLimit-Limit"] == ["3"])
                }
            }
            #expect(statuses == [401, 401, 401, 429, 429])
            // Another address still has its own budget.
            let other = try await client.sendJSON(.POST, "/api/auth/login", ["email": "other@example.com", "password": "guess guess guess"])
            #expect(other.status == .unauthorized)
            await client.close()
        }
    }

    @Test("Logout → 204, cookie cleared, and the session is dead at once for every route")
    func logout() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let registered = try await client.sendJSON(.POST, "/api/auth/register", ["email": "bye@example.com", "password": "long enough password"])
            let cookie = try #require(registered.sessionCookie())
            let headers = browserHeaders(edge, session: cookie)
            #expect(try await client.send(path: "/api/tokens", headers: headers).status == .ok)
            let out = try await client.send(method: .POST, path: "/api/auth/logout", headers: headers)
            #expect(out.status == .noContent)
            #expect(out.headers["Set-Cookie"].first?.contains("Max-Age=0") == true)
            let after = try await client.send(path: "/api/tokens", headers: headers)
            #expect(after.status == .unauthorized)
            let session = try await client.send(path: "/api/auth/session", headers: headers)
            #expect(session.status == .ok)
            #expect(session.bodyText == "{}")
            await client.close()
        }
    }

    @Test("A logout from a foreign page is refused (CSRF) and the session stays alive")
    func logoutForeignOrigin() async throws {
        try await withEdge { edge in
            let user = try edge.makeAccount("csrf@example.com")
            let cookie = try edge.signIn(user)
            let client = try await edge.client()
            let refused = try await client.send(method: .POST, path: "/api/auth/logout",
                                                headers: ["Cookie": "edge_session=\(cookie)", "Origin": "https://evil.example"])
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "origin_not_allowed")
            #expect(try await client.send(path: "/api/tokens", headers: browserHeaders(edge, session: cookie)).status == .ok)
            // Register from a foreign page is refused too (login CSRF).
            let foreign = try await client.sendJSON(.POST, "/api/auth/register", ["email": "x@example.com", "password": "long enough password"],
                                                    headers: ["Origin": "https://evil.example"])
            #expect(foreign.status == .forbidden)
            #expect(try edge.ledger.user(email: "x@example.com") == nil)
            await client.close()
        }
    }

    @Test("An expired session is dead: /api/auth/session answers {} and APIs 401")
    func expiredSession() async throws {
        try await withEdge { edge in
            let user = try edge.makeAccount("old@example.com")
            let token = try edge.signIn(user, lifetime: 0.05)
            try await Task.sleep(for: .milliseconds(150))
            let client = try await edge.client()
            let session = try await client.send(path: "/api/auth/session", headers: ["Cookie": "edge_session=\(token)"])
            #expect(session.bodyText == "{}")
            let tokens = try await client.send(path: "/api/tokens", headers: browserHeaders(edge, session: token))
            #expect(tokens.status == .unauthorized)
            await client.close()
        }
    }
}
