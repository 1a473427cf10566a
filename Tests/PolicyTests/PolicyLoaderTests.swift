import Foundation
import Policy
import Testing

@Suite("Policy file: parsing, validation and the route table")
struct PolicyLoaderTests {
    static var defaultPolicyPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("policies/default.yaml").path
    }

    static func defaultYAML() throws -> String { try String(contentsOfFile: defaultPolicyPath, encoding: .utf8) }

    @Test("The shipped default policy is valid and carries DESIGN.md's prices")
    func defaultPolicy() throws {
        let policy = try PolicyLoader.load(path: Self.defaultPolicyPath, environment: EdgeEnvironment(values: [:]))
        #expect(policy.operationPrices == [
            "raster_generation": 4, "vector_generation": 8, "vector_illustration": 8, "vectorization": 4,
            "background_removal": 4, "clarity_upscale": 4, "generative_upscale": 80, "style_creation": 4,
        ])
        #expect(policy.upstreams["recraft"]?.url?.description == "https://external.api.recraft.ai")
        #expect(policy.upstreams["recraft"]?.credential == .recraftAPIToken)
        #expect(policy.upstreams["app"]?.url == nil)
        #expect(policy.plans.defaultPlan == "free")
        #expect(policy.plans.plan(named: "professional")?.rolloverCap == 20000)
    }

    @Test("Environment variables override upstream URLs")
    func environmentOverrides() throws {
        let env = EdgeEnvironment(values: ["RECRAFT_API_URL": "http://127.0.0.1:9000/base/", "NEXT_PUBLIC_APP_URL": "https://app.example.com"])
        let policy = try PolicyLoader.parse(yaml: try Self.defaultYAML(), environment: env)
        let recraft = try #require(policy.upstreams["recraft"]?.url)
        #expect(recraft.useTLS == false && recraft.host == "127.0.0.1" && recraft.port == 9000 && recraft.basePath == "/base")
        #expect(policy.upstreams["app"]?.url?.hostHeader == "app.example.com")
    }

    @Test("Routes: exact paths win, prefixes in order, methods checked, unknown paths not found")
    func routeDecisions() throws {
        let routes = try PolicyLoader.load(path: Self.defaultPolicyPath, environment: EdgeEnvironment(values: [:])).routes
        func id(_ method: String, _ path: String) -> String {
            switch routes.decide(method: method, path: path) {
            case .matched(let route): return route.id
            case .methodNotAllowed(let allowed): return "405:\(allowed.joined(separator: ","))"
            case .preflight(let route, _): return "preflight:\(route.id)"
            case .notFound: return "404"
            }
        }
        #expect(id("POST", "/api/recraft/upscale") == "portal_upscale")
        #expect(id("POST", "/v1/images/clarityUpscale") == "v1_clarity_upscale")
        #expect(id("GET", "/v1/images/vectorize") == "405:POST")
        #expect(id("POST", "/v1/images/unknown") == "v1_unknown")
        #expect(id("GET", "/api/whatever") == "api_unknown")
        #expect(id("GET", "/dashboard") == "page_dashboard")
        #expect(id("GET", "/dashboard/projects") == "app")
        if case .matched(let route) = routes.decide(method: "POST", path: "/api/recraft/generative-upscale") {
            #expect(route.action == .forward(upstream: "recraft", upstreamPath: "/v1/images/creativeUpscale"))
            #expect(route.operation == "generative_upscale")
        } else {
            Issue.record("generative-upscale did not match")
        }
    }

    /// Each broken policy names the key at fault.
    static let brokenPolicies: [(String, String, String)] = [
        ("version: 1", "version: 2", "version"),
        ("    credential: recraft_api_token", "    credential: magic", "upstreams.recraft.credential"),
        ("    url: https://external.api.recraft.ai", "    url: ftp://nope", "upstreams.recraft.url"),
        ("upstream: recraft, upstream_path: /v1/images/vectorize,", "upstream: nowhere, upstream_path: /v1/images/vectorize,", "routes[1].upstream"),
        ("operation: vectorization,", "operation: teleportation,", "routes[1].operation"),
        ("operation: vectorization, filters: [cors, authenticate, rate_limit, meter]", "operation: vectorization, filters: [cors, authenticate, rate_limit]", "routes[1].filters"),
        ("  raster_generation: 4", "  raster_generation: -4", "operations.raster_generation"),
        ("  default: free", "  default: platinum", "plans.default"),
        ("  max_header_bytes: 16384", "  max_header_bytes: 10", "limits.max_header_bytes"),
        ("  header_read_seconds: 15", "  header_read_seconds: -1", "timeouts.header_read_seconds"),
        ("  - { id: portal_vectorize, ", "  - { id: portal_generations, ", "routes[1].id"),
        ("path: /api/recraft/styles,", "path: /api/recraft/../styles,", "routes[5].path"),
        ("      rollover_cap: 20000", "      rollover_cap: 5", "plans.catalog.professional.rollover_cap"),
        ("  max_body_bytes: 1073741824", "  max_body_bytes: lots", "limits.max_body_bytes"),
    ]

    @Test("Validation names the offending key", arguments: brokenPolicies)
    func brokenPolicyNamesKey(find: String, replace: String, expectedKey: String) throws {
        let yaml = try Self.defaultYAML()
        #expect(yaml.contains(find), "fixture drift: '\(find)' not in default.yaml")
        let broken = yaml.replacingOccurrences(of: find, with: replace)
        do {
            _ = try PolicyLoader.parse(yaml: broken, environment: EdgeEnvironment(values: [:]))
            Issue.record("accepted a broken policy (\(replace))")
        } catch {
            #expect(error.keyPath == expectedKey, "\(error)")
        }
    }

    @Test("A missing required key is named")
    func missingKey() {
        #expect(throws: PolicyError(keyPath: "routes", reason: "is required")) {
            _ = try PolicyLoader.parse(yaml: "version: 1\nupstreams: {}\n", environment: EdgeEnvironment(values: [:]))
        }
    }

    @Test(".env parsing: comments, export, quotes; the real environment wins")
    func dotEnv() {
        let parsed = EdgeEnvironment.parseDotEnv("""
        # comment
        export RECRAFT_API_TOKEN="abc def"
        EDGE_LISTEN=127.0.0.1:9443 # trailing comment
        NEXTAUTH_SECRET='s3cr3t'
        """)
        #expect(parsed["RECRAFT_API_TOKEN"] == "abc def")
        #expect(parsed["EDGE_LISTEN"] == "127.0.0.1:9443")
        #expect(parsed["NEXTAUTH_SECRET"] == "s3cr3t")
    }

    @Test("Request targets must be in normal form", arguments: [
        ("/v1/images/generations", true), ("/a/b?x=../y", true), ("/", true), ("/a/", true),
        ("/a/../b", false), ("/a/./b", false), ("/a//b", false), ("/a%2fb", false), ("/a%2E%2E/b", false),
        ("/a\\b", false), ("/a#frag", false), ("/a%zz", false), ("relative", false), ("/..", false),
    ])
    func requestTargets(target: String, valid: Bool) {
        let result = RequestTarget.validate(target)
        if case .success = result { #expect(valid, "\(target) accepted") } else { #expect(!valid, "\(target) refused") }
    }
}
