import EdgeProxy
import Foundation
import NIOCore
import Policy
import NIOHTTP1
import Testing

extension StandInRecordedRequest {
    /// All values of a header (case-insensitive name).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

@Suite("Routing and header rewriting through the real edge")
struct RoutingAndRewriteTests {
    @Test("Portal and older Recraft paths map to Recraft's current paths; the query is kept")
    func pathMapping() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let cases: [(String, String)] = [
                ("/api/recraft/generations", "/v1/images/generations"),
                ("/api/recraft/vectorize", "/v1/images/vectorize"),
                ("/api/recraft/remove-background", "/v1/images/removeBackground"),
                ("/api/recraft/upscale", "/v1/images/crispUpscale"),
                ("/api/recraft/generative-upscale", "/v1/images/creativeUpscale"),
                ("/api/recraft/styles", "/v1/styles"),
                ("/v1/images/clarityUpscale", "/v1/images/crispUpscale"),
                ("/v1/images/generativeUpscale", "/v1/images/creativeUpscale"),
                ("/v1/images/generations/vector", "/v1/images/generations"),
                ("/v1/images/vectorize?x=1&y=two", "/v1/images/vectorize?x=1&y=two"),
            ]
            for (clientPath, upstreamPath) in cases {
                edge.standIn.resetRecordings()
                let response = try await client.send(
                    method: .POST, path: clientPath, headers: edge.authorized(["Content-Type": "application/json"]),
                    body: ByteBuffer(string: #"{"prompt":"a red fox","n":1}"#))
                #expect(response.status == .ok, "\(clientPath) → \(response.status) \(response.bodyText)")
                #expect(edge.standIn.requests.last?.path == upstreamPath, "\(clientPath)")
            }
            await client.close()
        }
    }

    @Test("Unnamed /v1 and /api paths are refused at the edge with JSON 404 and never forwarded")
    func unknownPathsAreNotForwarded() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            for path in ["/v1/images/secretAdminThing", "/v1/", "/api/unknown", "/api/recraft/other"] {
                let response = try await client.send(method: .POST, path: path, body: ByteBuffer(string: "{}"))
                #expect(response.status == .notFound, "\(path)")
                let error = try #require(try response.jsonObject()["error"] as? [String: Any])
                #expect(error["code"] as? String != nil && error["message"] as? String != nil && error["type"] as? String != nil)
            }
            let wrongMethod = try await client.send(method: .GET, path: "/v1/images/vectorize")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers["Allow"].first == "POST")
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }

    @Test("Toward Recraft: client credentials and hop-by-hop headers are removed, the service token and X-Forwarded-* set")
    func headerRewriting() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let response = try await client.send(
                method: .POST, path: "/v1/images/vectorize",
                headers: ([
                    "Cookie": "next-auth.session-token=secret-cookie",
                    "Connection": "keep-alive, X-Drop-Me",
                    "X-Drop-Me": "1",
                    "Keep-Alive": "timeout=5",
                    "TE": "trailers",
                    "Proxy-Authorization": "Basic Zm9vOmJhcg==",
                    "X-Forwarded-For": "6.6.6.6",
                    "X-Forwarded-Proto": "http",
                    "X-Request-Id": "client-req-42",
                    "X-Keep-Me": "yes",
                    "Content-Type": "application/json",
                ] as HTTPHeaders).reduce(into: edge.authorized()) { $0.add(name: $1.name, value: $1.value) },
                body: ByteBuffer(string: #"{"image":"data:image/png;base64,AAAA"}"#))
            #expect(response.status == .ok)
            #expect(response.headers["X-Request-Id"].first == "client-req-42")
            let seen = try #require(edge.standIn.requests.last)
            #expect(seen.values("Authorization") == ["Bearer \(EdgeHarness.recraftToken)"])
            #expect(seen.values("Cookie").isEmpty)
            #expect(!seen.headers.contains { $0.value.contains(edge.apiKey) })
            #expect(seen.values("X-Drop-Me").isEmpty)
            #expect(seen.values("Keep-Alive").isEmpty)
            #expect(seen.values("TE").isEmpty)
            #expect(seen.values("Proxy-Authorization").isEmpty)
            #expect(seen.values("Connection").isEmpty)
            #expect(seen.values("X-Forwarded-For") == ["127.0.0.1"])
            #expect(seen.values("X-Forwarded-Proto") == ["https"])
            #expect(seen.values("X-Request-Id") == ["client-req-42"])
            #expect(seen.values("X-Keep-Me") == ["yes"])
            #expect(seen.values("Host") == ["localhost:\(edge.standIn.port)"])
            await client.close()
        }
    }

    @Test("An insane client X-Request-Id is replaced by a generated one, echoed to client and upstream")
    func requestIDIsSanitised() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let response = try await client.send(
                method: .POST, path: "/v1/images/vectorize",
                headers: edge.authorized(["X-Request-Id": "bad id with spaces {}"]), body: ByteBuffer(string: "{}"))
            let id = try #require(response.headers["X-Request-Id"].first)
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
            #expect(edge.standIn.requests.last?.values("X-Request-Id") == [id])
            await client.close()
        }
    }

    @Test("Everything else goes to the app upstream with the client's cookies intact")
    func appRoutes() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            // A public app path (/dashboard is protected: EdgePolicyFilterTests covers it).
            let page = try await client.send(method: .GET, path: "/gallery?tab=usage", headers: ["Cookie": "theme=dark"])
            #expect(page.status == .ok)
            #expect(page.bodyText.contains("Recraftor app"))
            let seen = try #require(edge.standIn.requests.last)
            #expect(seen.path == "/gallery?tab=usage")
            #expect(seen.values("Cookie") == ["theme=dark"])
            #expect(seen.values("Authorization").isEmpty)
            await client.close()
        }
    }

    @Test("Without an app upstream, app paths answer a JSON 404")
    func noAppUpstream() async throws {
        try await withEdge(adjust: { policy in policy.upstreams["app"]?.url = nil }) { edge in
            let client = try await edge.client()
            let response = try await client.send(method: .GET, path: "/")
            #expect(response.status == .notFound)
            #expect(response.bodyText.contains("upstream_not_configured"))
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }

    @Test("GET /healthz is answered by the edge itself")
    func health() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let response = try await client.send(method: .GET, path: "/healthz")
            #expect(response.status == .ok)
            #expect(response.bodyText == #"{"status":"ok"}"#)
            #expect(edge.standIn.requestCount == 0)
            await client.close()
        }
    }
}
