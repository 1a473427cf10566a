import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// Realistic scenarios through the real edge (TLS, LMDB ledger, stand-in Recraft). Every answer —
/// success or refusal — is checked against docs/openapi.yaml by `OpenAPIContractClient`: the path
/// and method are documented, the status is documented for them, required headers are there, and
/// the JSON body validates against the documented schema (`additionalProperties: false` on the
/// portal's own objects, so an undocumented field fails).
@Suite("OpenAPI conformance: the real edge answers as docs/openapi.yaml says")
struct OpenAPIConformanceTests {
    static let password = "correct horse battery"
    static let unknownKey = "rk_0000000000000000_" + String(repeating: "a", count: 43)

    @Test("Accounts: register, login, session, tokens, keys, usage, users/me, admin, logout — answers and refusals conform")
    func accountScenario() async throws {
        let document = try OpenAPIDocument.load()
        try await withEdge { edge in
            let api = try await OpenAPIContractClient(edge, document: document)
            try await api.call(.GET, "/healthz", expect: 200)

            // Sign-up and sign-in.
            let registered = try await api.call(.POST, "/api/auth/register", json: ["email": " Ada@Example.com ", "password": Self.password, "name": "Ada"], expect: 201)
            let firstSession = try #require(registered.sessionCookie())
            let adaId = try #require(registered.json["user"]?["id"]?.string)
            #expect(try await api.call(.POST, "/api/auth/register", json: ["email": "ADA@example.com", "password": "another long password"], expect: 409).errorField == "email")
            #expect(try await api.call(.POST, "/api/auth/register", json: ["email": "not-an-address", "password": Self.password], expect: 400).errorField == "email")
            #expect(try await api.call(.POST, "/api/auth/register", json: ["email": "b@example.com", "password": "short"], expect: 400).errorField == "password")
            #expect(try await api.call(.POST, "/api/auth/register", json: ["email": "b@example.com"], expect: 400).errorField == "password")
            try await api.call(.POST, "/api/auth/register", raw: ByteBuffer(string: "email=b@example.com"), headers: ["Content-Type": "text/plain"], expect: 415)
            try await api.call(.POST, "/api/auth/register", json: ["email": "big@example.com", "password": String(repeating: "x", count: 20_000)], expect: 413)
            try await api.call(.POST, "/api/auth/register", json: ["email": "evil@example.com", "password": Self.password],
                               headers: ["Origin": "https://evil.example"], expect: 403)
            let login = try await api.call(.POST, "/api/auth/login", json: ["email": "ada@example.com", "password": Self.password], expect: 200)
            let browser = browserHeaders(edge, session: try #require(login.sessionCookie()))
            #expect(try await api.call(.POST, "/api/auth/login", json: ["email": "ada@example.com", "password": "not the password"], expect: 401).errorCode == "invalid_credentials")
            #expect(try await api.call(.GET, "/api/auth/session", headers: browser, expect: 200).json["user"]?["name"] == .string("Ada"))
            #expect(try await api.call(.GET, "/api/auth/session", expect: 200).bodyText == "{}")

            // Balance and the credentials every authenticated route refuses.
            let balance = try await api.call(.GET, "/api/tokens", headers: browser, expect: 200)
            #expect(balance.json["available"] == .integer(200))
            #expect(try await api.call(.GET, "/api/tokens?limit=0", headers: browser, expect: 400).errorField == "limit")
            #expect(try await api.call(.GET, "/api/tokens?before=x", headers: browser, expect: 400).errorField == "before")
            #expect(try await api.call(.GET, "/api/tokens", expect: 401).errorCode == "missing_credentials")
            #expect(try await api.call(.GET, "/api/tokens", headers: ["Authorization": "Bearer \(Self.unknownKey)"], expect: 401).errorCode == "invalid_api_key")

            // API keys: created with the browser session, then used as a bearer key.
            let created = try await api.call(.POST, "/api/keys", json: ["name": "laptop"], headers: browser, expect: 201)
            let keyId = try #require(created.json["key"]?["id"]?.string)
            let ada: HTTPHeaders = ["Authorization": "Bearer \(try #require(created.json["secret"]?.string))"]
            #expect(try await api.call(.GET, "/api/keys", headers: ada, expect: 200).json["keys"]?.array?.count == 1)
            #expect(try await api.call(.POST, "/api/keys", json: ["name": " "], headers: browser, expect: 400).errorField == "name")
            var foreign = browser
            foreign.replaceOrAdd(name: "Origin", value: "https://evil.example")
            #expect(try await api.call(.POST, "/api/keys", json: ["name": "csrf"], headers: foreign, expect: 403).errorCode == "origin_not_allowed")

            // Spending, with an idempotent replay and a conflicting reuse of the key.
            var order = ada
            order.add(name: "Idempotency-Key", value: "order-1")
            let spent = try await api.call(.POST, "/api/tokens", json: ["operation": "raster_generation", "quantity": 2], headers: order, expect: 200)
            #expect(spent.headers["X-Tokens-Charged"].first == "8" && spent.json["available"] == .integer(192))
            let replayed = try await api.call(.POST, "/api/tokens", json: ["operation": "raster_generation", "quantity": 2], headers: order, expect: 200)
            #expect(replayed.headers["Idempotent-Replayed"].first == "true" && replayed.headers["X-Tokens-Charged"].first == "0")
            #expect(try await api.call(.POST, "/api/tokens", json: ["operation": "raster_generation", "quantity": 3], headers: order, expect: 422).errorCode == "idempotency_conflict")
            var badKey = ada
            badKey.add(name: "Idempotency-Key", value: "has space")
            #expect(try await api.call(.POST, "/api/tokens", json: ["operation": "raster_generation"], headers: badKey, expect: 400).errorField == "Idempotency-Key")
            #expect(try await api.call(.POST, "/api/tokens", json: ["operation": "free_lunch"], headers: ada, expect: 400).errorCode == "invalid_operation")
            #expect(try await api.call(.POST, "/api/tokens", json: ["operation": "raster_generation", "quantity": "2"], headers: ada, expect: 400).errorField == "quantity")
            let short = try await api.call(.POST, "/api/tokens", json: ["operation": "generative_upscale", "quantity": 10], headers: ada, expect: 402)
            #expect(short.json["error"]?["required"] == .integer(800) && short.json["error"]?["balance"] == .integer(192))
            let page = try await api.call(.GET, "/api/tokens?limit=1", headers: ada, expect: 200)
            let next = try #require(page.json["nextBefore"]?.string)
            #expect(try await api.call(.GET, "/api/tokens?limit=1&before=\(next)", headers: ada, expect: 200).json["history"]?.array?.first?["kind"] == .string("renewal"))

            // Usage and Recraft's "current user".
            #expect(try await api.call(.GET, "/api/usage", headers: ada, expect: 200).json["days"]?.array?.isEmpty == false)
            try await api.call(.GET, "/api/usage?from=2026-01-01&to=2026-01-31", headers: browser, expect: 200)
            #expect(try await api.call(.GET, "/api/usage?from=2026-02-30", headers: ada, expect: 400).errorField == "from")
            #expect(try await api.call(.GET, "/v1/users/me", headers: ada, expect: 200).json["credits"] == .integer(192))

            // Administration: find, change plan, grant (idempotent); everyone else is refused.
            let root = try edge.makeAccount("root@example.com", role: .admin)
            let admin: HTTPHeaders = ["Authorization": "Bearer \(try edge.makeKey(root))"]
            #expect(try await api.call(.GET, "/api/admin/users?email=ADA%40example.com", headers: admin, expect: 200).json["users"]?.array?.count == 1)
            #expect(try await api.call(.GET, "/api/admin/users?email=nobody%40example.com", headers: admin, expect: 200).json["users"]?.array?.count == 0)
            #expect(try await api.call(.GET, "/api/admin/users", headers: admin, expect: 400).errorField == "email")
            #expect(try await api.call(.GET, "/api/admin/users?email=root%40example.com", headers: ada, expect: 403).errorCode == "forbidden")
            #expect(try await api.call(.PATCH, "/api/admin/users/\(adaId)", json: ["plan": "basic"], headers: admin, expect: 200).json["user"]?["plan"] == .string("basic"))
            #expect(try await api.call(.PATCH, "/api/admin/users/\(adaId)", json: ["plan": "platinum"], headers: admin, expect: 400).errorCode == "unknown_plan")
            try await api.call(.PATCH, "/api/admin/users/999999", json: ["plan": "basic"], headers: admin, expect: 404)
            try await api.call(.PATCH, "/api/admin/users/\(root.id.rawValue)", json: ["plan": "professional"], headers: ada, expect: 403)
            var grant = admin
            grant.add(name: "Idempotency-Key", value: "grant-1")
            let granted = try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "amount": 50, "reason": "welcome"], headers: grant, expect: 200)
            #expect(granted.json["granted"] == .integer(50))
            let regranted = try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "amount": 50, "reason": "welcome"], headers: grant, expect: 200)
            #expect(regranted.headers["Idempotent-Replayed"].first == "true" && regranted.json == granted.json)
            try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "amount": 60, "reason": "welcome"], headers: grant, expect: 422)
            try await api.call(.PUT, "/api/tokens", json: ["userId": adaId, "amount": 5], headers: admin, expect: 200)
            #expect(try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "amount": 5], headers: ada, expect: 403).errorCode == "forbidden")
            #expect(try await api.call(.PUT, "/api/tokens", json: ["email": "ghost@example.com", "amount": 5], headers: admin, expect: 404).errorCode == "unknown_user")
            #expect(try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "amount": 0], headers: admin, expect: 400).errorField == "amount")
            try await api.call(.PUT, "/api/tokens", json: ["email": "ada@example.com", "userId": adaId, "amount": 5], headers: admin, expect: 400)

            // Revoking a key and signing out: both take effect at once.
            try await api.call(.DELETE, "/api/keys/\(keyId)", headers: browser, expect: 204)
            try await api.call(.DELETE, "/api/keys/\(keyId)", headers: browser, expect: 204)
            #expect(try await api.call(.DELETE, "/api/keys/0123456789abcdef", headers: browser, expect: 404).errorCode == "unknown_key")
            #expect(try await api.call(.GET, "/v1/users/me", headers: ada, expect: 401).errorCode == "invalid_api_key")
            var foreignLogout = browserHeaders(edge, session: firstSession)
            foreignLogout.replaceOrAdd(name: "Origin", value: "https://evil.example")
            try await api.call(.POST, "/api/auth/logout", headers: foreignLogout, expect: 403)
            let out = try await api.call(.POST, "/api/auth/logout", headers: browser, expect: 204)
            #expect(out.headers["Set-Cookie"].first?.contains("Max-Age=0") == true)
            #expect(try await api.call(.GET, "/api/tokens", headers: browser, expect: 401).errorCode == "session_expired")
            try await api.call(.POST, "/api/auth/logout", expect: 204)

            // Sign-in attempts are limited: 401 until the bucket is empty, then 429 with Retry-After.
            var limited: TestResponse?
            for _ in 0..<20 where limited == nil {
                let attempt = try await api.call(.POST, "/api/auth/login", json: ["email": "ada@example.com", "password": "guess guess guess"], expectOneOf: [401, 429])
                if attempt.status == .tooManyRequests { limited = attempt }
            }
            #expect(limited?.json["error"]?["retry_after"] != nil)

            Self.expectCoverage(api, document: document, statuses: [200, 201, 204, 400, 401, 402, 403, 404, 409, 413, 415, 422, 429])
            await api.close()
        }
    }

    @Test("Metered Recraft routes: charged successes, 402, edge refusals and Recraft's own answers conform")
    func meteredScenario() async throws {
        let document = try OpenAPIDocument.load()
        try await withEdge { edge in
            let api = try await OpenAPIContractClient(edge, document: document)
            let (rich, richKey) = try edge.makeUser("rich@example.com", tokens: 1000)
            let (_, poorKey) = try edge.makeUser("poor@example.com", tokens: 3)
            let key: HTTPHeaders = ["Authorization": "Bearer \(richKey)"]
            let poor: HTTPHeaders = ["Authorization": "Bearer \(poorKey)"]

            let portal = try await api.call(.POST, "/api/recraft/generations", json: ["prompt": "a lighthouse at dusk", "n": 2], headers: key, expect: 200)
            #expect(portal.headers["X-Tokens-Charged"].first == "8" && portal.headers["X-Tokens-Remaining"].first == "992")
            #expect(portal.json["data"]?.array?.count == 2)
            let vector = try await api.call(.POST, "/v1/images/generations", json: ["prompt": "a fox", "style": "vector_illustration"], headers: key, expect: 200)
            #expect(vector.headers["X-Tokens-Charged"].first == "8")
            try await api.call(.POST, "/v1/images/generations/vector", json: ["prompt": "a fox"], headers: key, expect: 200)
            try await api.call(.POST, "/v1/images/generations/raster", json: ["prompt": "a fox", "model": "recraftv3"], headers: key, expect: 200)

            // The browser flow: the session cookie pays, from the edge's own page only.
            let browser = browserHeaders(edge, session: try edge.signIn(rich))
            try await api.call(.POST, "/api/recraft/generations", json: ["prompt": "from the portal"], headers: browser, expect: 200)
            var noOrigin = browser
            noOrigin.remove(name: "Origin")
            #expect(try await api.call(.POST, "/api/recraft/generations", json: ["prompt": "csrf"], headers: noOrigin, expect: 403).errorCode == "origin_not_allowed")

            // Refused at the edge: nothing forwarded, nothing charged.
            let broke = try await api.call(.POST, "/v1/images/generations", json: ["prompt": "a fox"], headers: poor, expect: 402)
            #expect(broke.json["error"]?["required"] == .integer(4) && broke.json["error"]?["balance"] == .integer(3))
            #expect(try await api.call(.POST, "/v1/images/generations", json: ["prompt": "a fox", "n": 7], headers: key, expect: 400).errorCode == "invalid_request")
            try await api.call(.POST, "/api/recraft/generations", json: "{not json", headers: key, expect: 400)
            try await api.call(.POST, "/v1/images/generations", json: ["prompt": String(repeating: "p", count: 70_000)], headers: key, expect: 413)
            #expect(try await api.call(.POST, "/v1/images/vectorize", raw: ByteBuffer(string: "x"), headers: [:], expect: 401).errorCode == "missing_credentials")
            try await api.call(.POST, "/v1/styles", raw: ByteBuffer(string: "x"), headers: ["Authorization": "Bearer \(Self.unknownKey)"], expect: 401)

            // Image operations stream their (multipart) bodies.
            let boundary = "edge-contract"
            var upload = key
            upload.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
            let form = ByteBuffer(string: "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\nPNG-BYTES\r\n--\(boundary)--\r\n")
            for (path, price) in [("/v1/images/vectorize", "4"), ("/api/recraft/vectorize", "4"), ("/api/recraft/remove-background", "4"),
                                  ("/v1/images/removeBackground", "4"), ("/api/recraft/upscale", "4"), ("/v1/images/crispUpscale", "4"),
                                  ("/v1/images/clarityUpscale", "4"), ("/api/recraft/generative-upscale", "80"), ("/v1/images/creativeUpscale", "80"),
                                  ("/v1/images/generativeUpscale", "80"), ("/api/recraft/styles", "4"), ("/v1/styles", "4")] {
                let answer = try await api.call(.POST, path, raw: form, headers: upload, expect: 200)
                #expect(answer.headers["X-Tokens-Charged"].first == price, "\(path)")
            }

            // Recraft's own refusal passes through, released; Recraft refusing the service token is a 502.
            var refused = upload
            refused.add(name: "X-StandIn-Status", value: "422")
            #expect(try await api.call(.POST, "/v1/images/vectorize", raw: form, headers: refused, expect: 422).headers["X-Tokens-Charged"].first == "0")
            refused.replaceOrAdd(name: "X-StandIn-Status", value: "401")
            #expect(try await api.call(.POST, "/v1/images/crispUpscale", raw: form, headers: refused, expect: 502).errorCode == "upstream_unauthorized")
            #expect(try await api.call(.GET, "/v1/users/me", headers: key, expect: 200).json["credits"] == .integer(Int64(try edge.balance(rich).balance)))

            // The generation class's per-user bucket: 402 (short of tokens) until it is empty, then 429.
            var limited: TestResponse?
            for _ in 0..<60 where limited == nil {
                let attempt = try await api.call(.POST, "/v1/images/generations", json: ["prompt": "again"], headers: poor, expectOneOf: [402, 429])
                if attempt.status == .tooManyRequests { limited = attempt }
            }
            let tooMany = try #require(limited)
            #expect(tooMany.headers["RateLimit-Remaining"].first == "0" && tooMany.json["error"]?["retry_after"] != nil)

            Self.expectCoverage(api, document: document, statuses: [200, 400, 401, 402, 403, 413, 422, 429, 502])
            await api.close()
        }
    }

    /// Every status in `statuses` was seen and checked; for the account scenario, every portal
    /// operation answered at least one success; for the metered one, every Recraft path did.
    static func expectCoverage(_ api: OpenAPIContractClient, document: OpenAPIDocument, statuses: Set<UInt>,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(statuses.isSubset(of: api.statuses), "not exercised: \(statuses.subtracting(api.statuses).sorted())", sourceLocation: sourceLocation)
        let metered = api.exercised.keys.contains { $0.contains("/recraft/") }
        let expected = document.operations.map { "\($0.method) \($0.path)" }.filter { operation in
            let isRecraft = operation.contains("/api/recraft/") || operation.contains("/v1/images/") || operation.contains("/v1/styles")
            return metered ? isRecraft : !isRecraft
        }
        let unexercised = expected.filter { api.exercised[$0]?.contains(where: { (200..<300).contains($0) }) != true }
        #expect(unexercised.isEmpty, "operations without a checked success: \(unexercised)", sourceLocation: sourceLocation)
    }
}
