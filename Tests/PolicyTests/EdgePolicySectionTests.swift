import Foundation
import Policy
import Testing

/// The pure decisions behind the cors, rate_limit, protect and security_headers filters.
@Suite("CORS, rate limits, protected app paths and security headers: policy and pure decisions")
struct EdgePolicySectionTests {
    /// A clock tests move by hand.
    final class FakeClock: @unchecked Sendable {
        var now: Double = 1000
    }

    static func policy(_ env: [String: String] = [:]) throws -> EdgePolicy {
        try PolicyLoader.load(path: PolicyLoaderTests.defaultPolicyPath, environment: EdgeEnvironment(values: env))
    }

    @Test("Token bucket: burst, then refill at the rate (no sleeping), capped at the burst")
    func bucketRefills() {
        let rule = RateLimitRule(ratePerMinute: 60, burst: 3)
        var bucket = TokenBucket(rule: rule, now: 0)
        for _ in 0..<3 {
            #expect(bucket.hasToken)
            bucket.take()
        }
        #expect(!bucket.hasToken)
        #expect(bucket.secondsUntilToken(rule: rule) == 1)
        #expect(bucket.secondsUntilFull(rule: rule) == 3)
        bucket.refill(rule: rule, now: 0.5)
        #expect(!bucket.hasToken)
        bucket.refill(rule: rule, now: 1)
        #expect(bucket.hasToken)
        bucket.refill(rule: rule, now: 100)
        #expect(bucket.tokens == 3)
    }

    @Test("Rate limiter: per user and per IP, 429 numbers, refill with an injected clock")
    func limiter() {
        let clock = FakeClock()
        let settings = RateLimitSettings(classes: [
            "default": .init(perUser: RateLimitRule(ratePerMinute: 6, burst: 2), perIP: RateLimitRule(ratePerMinute: 60, burst: 10)),
        ], maxBucketsPerLoop: 100)
        let limiter = RateLimiter(settings: settings, clock: { clock.now })
        let alice = UserID(rawValue: 1), bob = UserID(rawValue: 2)
        #expect(limiter.check(routeClass: "default", user: alice, ip: "10.0.0.1") == .allowed(RateLimitState(limit: 2, remaining: 1, resetSeconds: 10)))
        #expect(limiter.check(routeClass: "default", user: alice, ip: "10.0.0.1") == .allowed(RateLimitState(limit: 2, remaining: 0, resetSeconds: 20)))
        guard case .limited(let state, let retry) = limiter.check(routeClass: "default", user: alice, ip: "10.0.0.1") else {
            Issue.record("expected limited")
            return
        }
        #expect(state.remaining == 0 && state.limit == 2 && retry == 10)
        // Another user on the same IP still has tokens (the IP bucket has 8 left).
        #expect(limiter.check(routeClass: "default", user: bob, ip: "10.0.0.1") != .unlimited)
        if case .limited = limiter.check(routeClass: "default", user: bob, ip: "10.0.0.1") { Issue.record("bob limited") }
        clock.now += 10
        if case .limited = limiter.check(routeClass: "default", user: alice, ip: "10.0.0.1") { Issue.record("alice should have refilled one token") }
        // Unknown class, or a class whose rules do not apply: unlimited.
        #expect(limiter.check(routeClass: "nope", user: alice, ip: "10.0.0.1") == .unlimited)
    }

    @Test("Login class: strict per IP and per e-mail address (subject); the default policy defines it")
    func loginClass() throws {
        let policy = try Self.policy()
        let login = try #require(policy.rateLimits.classes["login"])
        #expect(login.perUser == RateLimitRule(ratePerMinute: 10, burst: 5))
        #expect(login.perIP == RateLimitRule(ratePerMinute: 10, burst: 5))
        do {
            // The per-subject bucket (an e-mail address named by sign-ins) is its own.
            let clock = FakeClock()
            let limiter = RateLimiter(settings: policy.rateLimits, clock: { clock.now })
            for _ in 0..<5 {
                guard case .allowed = limiter.check(routeClass: "login", subject: "a@example.com") else { Issue.record("expected allowed"); return }
            }
            guard case .limited(_, let retry) = limiter.check(routeClass: "login", subject: "a@example.com") else { Issue.record("expected limited"); return }
            #expect(retry == 6)
            guard case .allowed = limiter.check(routeClass: "login", subject: "b@example.com") else { Issue.record("b has its own bucket"); return }
            #expect(limiter.check(routeClass: "default", subject: "a@example.com") != .unlimited)
            #expect(limiter.check(routeClass: "nope", subject: "a@example.com") == .unlimited)
        }
        let clock = FakeClock()
        let limiter = RateLimiter(settings: policy.rateLimits, clock: { clock.now })
        for _ in 0..<5 {
            guard case .allowed = limiter.check(routeClass: "login", user: nil, ip: "192.0.2.7") else { Issue.record("expected allowed"); return }
        }
        guard case .limited(_, let retry) = limiter.check(routeClass: "login", user: nil, ip: "192.0.2.7") else { Issue.record("expected limited"); return }
        #expect(retry == 6)
        // A different IP is unaffected; the first refills after Retry-After.
        guard case .allowed = limiter.check(routeClass: "login", user: nil, ip: "192.0.2.8") else { Issue.record("other ip"); return }
        clock.now += 6
        guard case .allowed = limiter.check(routeClass: "login", user: nil, ip: "192.0.2.7") else { Issue.record("refilled"); return }
    }

    @Test("Rate limiter stays bounded: idle buckets expire, the table never exceeds its bound")
    func limiterBounded() {
        let clock = FakeClock()
        let settings = RateLimitSettings(classes: ["default": .init(perUser: nil, perIP: RateLimitRule(ratePerMinute: 60, burst: 5))], maxBucketsPerLoop: 32)
        let limiter = RateLimiter(settings: settings, clock: { clock.now })
        for i in 0..<1000 { _ = limiter.check(routeClass: "default", user: nil, ip: "10.0.\(i / 256).\(i % 256)") }
        #expect(limiter.count <= 32)
        clock.now += 10
        limiter.sweep(now: clock.now)
        #expect(limiter.count == 0)
    }

    @Test("CORS origins: policy list plus NEXT_PUBLIC_APP_URL and NEXTAUTH_URL, exact and case-insensitive")
    func corsOrigins() throws {
        let policy = try Self.policy(["NEXT_PUBLIC_APP_URL": "https://App.example.com/base", "NEXTAUTH_URL": "https://portal.example.com:443"])
        #expect(policy.cors.allowedOrigins == ["https://app.example.com", "https://portal.example.com"])
        #expect(policy.cors.allowedOrigin("https://APP.example.com") == "https://app.example.com")
        #expect(policy.cors.allowedOrigin("https://app.example.com:8443") == nil)
        #expect(policy.cors.allowedOrigin("https://evil.example") == nil)
        #expect(policy.cors.allowedOrigin("null") == nil)
        #expect(policy.cors.checkStateChange(origin: "https://portal.example.com", referer: nil) == .allowed("https://portal.example.com"))
        #expect(policy.cors.checkStateChange(origin: "https://evil.example", referer: "https://portal.example.com/x") == .notAllowed)
        #expect(policy.cors.checkStateChange(origin: nil, referer: "https://portal.example.com/studio?x=1") == .allowed("https://portal.example.com"))
        #expect(policy.cors.checkStateChange(origin: nil, referer: "https://portal.example.com.evil.example/") == .notAllowed)
        #expect(policy.cors.checkStateChange(origin: String?.none, referer: String?.none) == .missing)
    }

    @Test("Policy refuses '*' origins, cors not first, unknown rate-limit classes")
    func validation() throws {
        let yaml = try PolicyLoaderTests.defaultYAML()
        func refused(_ from: String, _ to: String) -> PolicyError? {
            do {
                _ = try PolicyLoader.parse(yaml: yaml.replacingOccurrences(of: from, with: to), environment: EdgeEnvironment(values: [:]))
                return nil
            } catch { return error }
        }
        #expect(refused("allowed_origins: []", "allowed_origins: [\"*\"]")?.keyPath == "cors.allowed_origins[0]")
        #expect(refused("filters: [cors, authenticate, rate_limit, meter] }\n  - { id: portal_vectorize",
                        "filters: [authenticate, cors, rate_limit, meter] }\n  - { id: portal_vectorize")?.keyPath == "routes[0].filters[1]")
        #expect(refused("rate_limit_class: generation", "rate_limit_class: nonesuch")?.keyPath == "routes[0].rate_limit_class")
    }

    @Test("App paths: protected prefixes on segment boundaries; sign-in location encodes the path")
    func appProtection() throws {
        let app = try Self.policy().app
        #expect(app.protection(of: "/dashboard") == .sessionRequired)
        #expect(app.protection(of: "/dashboard/projects/7") == .sessionRequired)
        #expect(app.protection(of: "/dashboards") == .public)
        #expect(app.protection(of: "/") == .public)
        #expect(app.protection(of: "/auth/signin") == .public)
        #expect(app.signInLocation(returningTo: "/dashboard/a b") == "/auth/signin?callbackUrl=%2Fdashboard%2Fa%20b")
    }

    @Test("Security headers: CSP frame-ancestors names the app and portal origins")
    func securityHeaders() throws {
        let headers = try Self.policy(["NEXT_PUBLIC_APP_URL": "https://app.example.com", "NEXTAUTH_URL": "https://portal.example.com"]).securityHeaders.headers
        let csp = try #require(headers.first { $0.0 == "Content-Security-Policy" }?.1)
        #expect(csp == "frame-ancestors 'self' https://app.example.com https://portal.example.com")
        #expect(headers.contains { $0.0 == "X-Content-Type-Options" && $0.1 == "nosniff" })
        #expect(headers.contains { $0.0 == "Strict-Transport-Security" })
        let bare = try Self.policy().securityHeaders.headers.first { $0.0 == "Content-Security-Policy" }?.1
        #expect(bare == "frame-ancestors 'self'")
    }

    @Test("Routing: OPTIONS on a route whose chain starts with cors is a preflight candidate; others stay 405")
    func preflightRouting() throws {
        let routes = try Self.policy().routes
        guard case .preflight(let route, let allowed) = routes.decide(method: "OPTIONS", path: "/v1/images/generations") else {
            Issue.record("expected preflight")
            return
        }
        #expect(route.id == "v1_generations" && allowed == ["POST"])
        guard case .methodNotAllowed = routes.decide(method: "GET", path: "/v1/images/generations") else { Issue.record("GET"); return }
        let bare = RouteTable([Route(id: "x", methods: ["POST"], path: .exact("/x"), action: .respond(status: 404, code: "x", message: "x"), operation: nil, maxBodyBytes: 0, filters: ["authenticate"])])
        guard case .methodNotAllowed = bare.decide(method: "OPTIONS", path: "/x") else { Issue.record("no cors → 405"); return }
    }
}
