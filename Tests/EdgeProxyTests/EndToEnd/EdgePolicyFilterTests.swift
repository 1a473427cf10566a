import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// cors, CSRF, rate_limit, protect and security_headers end to end: real TLS, a real LMDB ledger,
/// the stand-in as Recraft and as the app.
@Suite("CORS, origin checks, rate limits and app routes through the real edge")
struct EdgePolicyFilterTests {
    static let foreign = "https://evil.example"

    /// The allowed origin every harness has: NEXT_PUBLIC_APP_URL's (the stand-in).
    static func appOrigin(_ edge: EdgeHarness) -> String { "https://localhost:\(edge.standIn.port)" }

    static func preflight(_ origin: String) -> HTTPHeaders {
        ["Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"]
    }

    @Test("Preflight from an allowed origin → 204 with the CORS headers; never forwarded, authenticated or charged")
    func preflightAnswered() async throws {
        try await withEdge { edge in
            let (user, _) = try edge.makeUser("preflight@example.com", tokens: 40)
            let session = try edge.signIn(user)
            let client = try await edge.client()
            let origin = Self.appOrigin(edge)
            for path in ["/v1/images/generations", "/api/recraft/vectorize"] {
                var headers = Self.preflight(origin)
                headers.add(name: "Cookie", value: "edge_session=\(session)")
                let response = try await client.send(method: .OPTIONS, path: path, headers: headers)
                #expect(response.status == .noContent, "\(path): \(response.bodyText)")
                #expect(response.headers["Access-Control-Allow-Origin"] == [origin])
                #expect(response.headers["Access-Control-Allow-Methods"].first == "POST")
                #expect(response.headers["Access-Control-Allow-Headers"].first?.contains("Content-Type") == true)
                #expect(response.headers["Access-Control-Max-Age"].first == "600")
                #expect(response.headers["Access-Control-Allow-Credentials"].first == "true")
                #expect(response.headers["Vary"].contains("Origin"))
                #expect(response.body.readableBytes == 0)
            }
            // The connection is still usable after the bodiless 204s.
            let after = try await client.send(method: .OPTIONS, path: "/v1/styles", headers: Self.preflight(origin))
            #expect(after.status == .noContent)
            #expect(edge.standIn.requestCount == 0)
            #expect(try edge.balance(user) == (40, 0))
            // OPTIONS that is not a preflight is still 405 on a POST-only route.
            let plain = try await client.send(method: .OPTIONS, path: "/v1/images/generations")
            #expect(plain.status == .methodNotAllowed)
            await client.close()
        }
    }

    @Test("A foreign origin gets no CORS headers: preflight → 403 origin_not_allowed, actual response without ACAO")
    func foreignOrigin() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let pre = try await client.send(method: .OPTIONS, path: "/v1/images/vectorize", headers: Self.preflight(Self.foreign))
            #expect(pre.status == .forbidden)
            #expect(pre.bodyText.contains("origin_not_allowed"))
            #expect(pre.headers["Access-Control-Allow-Origin"].isEmpty)
            #expect(pre.headers["Access-Control-Allow-Credentials"].isEmpty)
            // An API-key call with a foreign Origin is served (no CSRF risk) but gets no CORS headers.
            let actual = try await client.send(method: .POST, path: "/v1/images/vectorize",
                                               headers: edge.authorized(["Origin": Self.foreign]), body: ByteBuffer(string: "x"))
            #expect(actual.status == .ok)
            #expect(actual.headers["Access-Control-Allow-Origin"].isEmpty)
            #expect(edge.standIn.requestCount == 1)
            await client.close()
        }
    }

    @Test("CSRF: a session-cookie POST from a foreign or missing Origin → 403, nothing forwarded or charged")
    func csrf() async throws {
        try await withEdge { edge in
            let (user, key) = try edge.makeUser("csrf@example.com", tokens: 40)
            let session = try edge.signIn(user)
            let client = try await edge.client()
            let cases: [HTTPHeaders] = [
                ["Cookie": "edge_session=\(session)", "Origin": Self.foreign],
                ["Cookie": "edge_session=\(session)"],
                ["Cookie": "edge_session=\(session)", "Referer": "\(Self.foreign)/page"],
                ["Cookie": "edge_session=\(session)", "Origin": "null"],
            ]
            for headers in cases {
                let response = try await client.send(method: .POST, path: "/api/recraft/vectorize", headers: headers, body: ByteBuffer(string: "x"))
                #expect(response.status == .forbidden, "\(headers)")
                #expect(response.bodyText.contains("origin_not_allowed"))
            }
            #expect(edge.standIn.requestCount == 0)
            #expect(try edge.balance(user) == (40, 0))

            // The same POST with the API key and no Origin is fine.
            let withKey = try await client.send(method: .POST, path: "/api/recraft/vectorize",
                                                headers: ["Authorization": "Bearer \(key)"], body: ByteBuffer(string: "x"))
            #expect(withKey.status == .ok)
            #expect(try edge.balance(user) == (36, 0))

            // A cookie from an allowed Origin (or, without Origin, an allowed Referer) → 200 with ACAO and Vary.
            let origin = Self.appOrigin(edge)
            let allowed = try await client.send(method: .POST, path: "/api/recraft/vectorize",
                                                headers: ["Cookie": "edge_session=\(session)", "Origin": origin], body: ByteBuffer(string: "x"))
            #expect(allowed.status == .ok)
            #expect(allowed.headers["Access-Control-Allow-Origin"] == [origin])
            #expect(allowed.headers["Access-Control-Allow-Credentials"].first == "true")
            #expect(allowed.headers["Vary"].contains("Origin"))
            #expect(allowed.headers["X-Tokens-Charged"].first == "4")
            let referred = try await client.send(method: .POST, path: "/api/recraft/vectorize",
                                                 headers: ["Cookie": "edge_session=\(session)", "Referer": "\(origin)/studio"], body: ByteBuffer(string: "x"))
            #expect(referred.status == .ok)
            #expect(try edge.balance(user) == (28, 0))
            #expect(edge.standIn.requestCount == 3)
            await client.close()
        }
    }

    @Test("Local replies to an allowed origin carry CORS headers (a browser can read the 401/402)")
    func localRepliesCarryCORS() async throws {
        try await withEdge { edge in
            let (_, key) = try edge.makeUser("short@example.com", tokens: 1)
            let client = try await edge.client()
            let origin = Self.appOrigin(edge)
            let unauthorized = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: ["Origin": origin], body: ByteBuffer(string: "x"))
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.headers["Access-Control-Allow-Origin"] == [origin])
            let short = try await client.send(method: .POST, path: "/v1/images/vectorize",
                                              headers: ["Origin": origin, "Authorization": "Bearer \(key)"], body: ByteBuffer(string: "x"))
            #expect(short.status == .paymentRequired)
            #expect(short.headers["Access-Control-Allow-Origin"] == [origin])
            #expect(short.headers["Access-Control-Expose-Headers"].first?.contains("X-Tokens-Remaining") == true)
            await client.close()
        }
    }

    @Test("Past the limit → 429 rate_limited with Retry-After and RateLimit-*; nothing forwarded or charged")
    func rateLimited() async throws {
        try await withEdge(adjust: { policy in
            policy.rateLimits.classes["default"] = .init(perUser: RateLimitRule(ratePerMinute: 6, burst: 3), perIP: RateLimitRule(ratePerMinute: 600, burst: 100))
        }) { edge in
            let (user, key) = try edge.makeUser("limited@example.com", tokens: 100)
            let client = try await edge.client()
            for remaining in [2, 1, 0] {
                let ok = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: MeteringTests.bearer(key), body: ByteBuffer(string: "x"))
                #expect(ok.status == .ok)
                #expect(ok.headers["RateLimit-Limit"].first == "3")
                #expect(ok.headers["RateLimit-Remaining"].first == String(remaining))
                #expect(Int(ok.headers["RateLimit-Reset"].first ?? "") ?? 0 >= 1)
            }
            let limited = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: MeteringTests.bearer(key), body: ByteBuffer(string: "x"))
            #expect(limited.status == .tooManyRequests)
            #expect(limited.bodyText.contains("rate_limited"))
            let retryAfter = try #require(Int(limited.headers["Retry-After"].first ?? ""))
            #expect(retryAfter >= 1 && retryAfter <= 10)
            #expect(limited.headers["RateLimit-Limit"].first == "3")
            #expect(limited.headers["RateLimit-Remaining"].first == "0")
            #expect(limited.headers["RateLimit-Reset"].first != nil)
            #expect(edge.standIn.requestCount == 3)
            #expect(try edge.balance(user) == (88, 0))
            // Another user is not affected by this user's bucket.
            let other = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(), body: ByteBuffer(string: "x"))
            #expect(other.status == .ok)
            await client.close()
        }
    }

    @Test("Protected app path without a session: HTML → redirect to sign-in with callbackUrl, others → 401")
    func protectedWithoutSession() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let html = try await client.send(method: .GET, path: "/dashboard/projects", headers: ["Accept": "text/html,application/xhtml+xml"])
            #expect(html.status == .found)
            #expect(html.headers["Location"].first == "/auth/signin?callbackUrl=%2Fdashboard%2Fprojects")
            #expect(html.headers["X-Frame-Options"].isEmpty)
            #expect(html.headers["Content-Security-Policy"].first?.hasPrefix("frame-ancestors 'self'") == true)
            let json = try await client.send(method: .GET, path: "/dashboard/projects", headers: ["Accept": "application/json"])
            #expect(json.status == .unauthorized)
            #expect(json.bodyText.contains("session_required"))
            let expired = try await client.send(method: .GET, path: "/admin/users", headers: ["Cookie": "edge_session=not-a-session"])
            #expect(expired.status == .unauthorized)
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }

    @Test("Protected path with a session is forwarded; public app paths pass without auth; security headers on app responses")
    func protectedWithSession() async throws {
        try await withEdge { edge in
            let (user, _) = try edge.makeUser("app@example.com", tokens: 0)
            let session = try edge.signIn(user)
            let client = try await edge.client()
            let signedIn = try await client.send(method: .GET, path: "/dashboard/projects", headers: ["Cookie": "edge_session=\(session)", "Accept": "text/html"])
            #expect(signedIn.status == .ok)
            #expect(edge.standIn.requestCount == 1)
            #expect(edge.standIn.requests.last?.path == "/dashboard/projects")
            let open = try await client.send(method: .GET, path: "/about")
            #expect(open.status == .ok)
            #expect(edge.standIn.requestCount == 2)
            for response in [signedIn, open] {
                #expect(response.headers["Strict-Transport-Security"].first?.hasPrefix("max-age=") == true)
                #expect(response.headers["X-Content-Type-Options"].contains("nosniff"))
                #expect(response.headers["Referrer-Policy"].first == "strict-origin-when-cross-origin")
                #expect(response.headers["Content-Security-Policy"].first == "frame-ancestors 'self' \(Self.appOrigin(edge))")
            }
            await client.close()
        }
    }

    @Test("Headers the edge sets replace the upstream's (one CSP, one CORS origin, no forged X-Tokens-*); Vary lists are kept")
    func edgeHeadersReplaceUpstreams() async throws {
        try await withEdge { edge in
            let (_, key) = try edge.makeUser("headers@example.com", tokens: 40)
            let client = try await edge.client()
            var headers: HTTPHeaders = ["Origin": Self.appOrigin(edge)]
            for line in ["Content-Security-Policy: default-src *", "X-Content-Type-Options: sniff-away",
                         "Access-Control-Allow-Origin: *", "Vary: Accept-Encoding", "X-App-Own: kept"] {
                headers.add(name: "X-StandIn-Response-Header", value: line)
            }
            let page = try await client.send(method: .GET, path: "/about", headers: headers)
            #expect(page.status == .ok)
            #expect(page.headers["Content-Security-Policy"] == ["frame-ancestors 'self' \(Self.appOrigin(edge))"])
            #expect(page.headers["X-Content-Type-Options"] == ["nosniff"])
            #expect(page.headers["X-App-Own"] == ["kept"])

            var metered = headers
            metered.add(name: "Authorization", value: "Bearer \(key)")
            metered.add(name: "X-StandIn-Response-Header", value: "X-Tokens-Remaining: 999999")
            let generation = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: metered, body: ByteBuffer(string: "{}"))
            #expect(generation.status == .ok)
            #expect(generation.headers["Access-Control-Allow-Origin"] == [Self.appOrigin(edge)])
            #expect(generation.headers["X-Tokens-Remaining"] == ["36"])
            #expect(generation.headers["Vary"].contains("Accept-Encoding") && generation.headers["Vary"].contains("Origin"))
            await client.close()
        }
    }
}
