import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Policy
import Testing

/// Metrics and the access log as the real edge records them: one record per exchange, the right
/// labels and counts, and never a secret in the log.
@Suite("Edge metrics and access log through the real edge")
struct EdgeObservabilityTests {
    @Test("Requests, charges, releases and security events are counted; the access log has one clean line per request")
    func recordsEveryExchange() async throws {
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UInt64.random(in: 0...UInt64.max)).log").path
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let metrics = EdgeMetrics()
        let accessLog = try AccessLog.file(path: logPath)
        var secrets: [String] = []
        try await withEdge(metrics: metrics, accessLog: accessLog) { edge in
            let (user, key) = try edge.makeUser("observed@example.com", tokens: 10)
            let session = try edge.signIn(user)
            secrets = [key, session, EdgeHarness.recraftToken]
            let client = try await edge.client()
            let auth: HTTPHeaders = ["Authorization": "Bearer \(key)", "Content-Type": "application/json"]
            let generation = ByteBuffer(string: #"{"prompt":"a fox"}"#)
            #expect(try await client.send(method: .POST, path: "/v1/images/generations?secret=query-must-not-be-logged", headers: auth, body: generation).status == .ok)
            var refused = auth
            refused.add(name: "X-StandIn-Status", value: "500")
            #expect(try await client.send(method: .POST, path: "/v1/images/generations", headers: refused, body: generation).status == .internalServerError)
            var serviceTokenRefused = auth
            serviceTokenRefused.add(name: "X-StandIn-Status", value: "401")
            #expect(try await client.send(method: .POST, path: "/v1/images/generations", headers: serviceTokenRefused, body: generation).status == .badGateway)
            #expect(try await client.send(method: .POST, path: "/v1/images/creativeUpscale", headers: auth, body: generation).status == .paymentRequired)
            #expect(try await client.send(method: .POST, path: "/v1/images/vectorize", headers: ["Authorization": "Bearer rk_0000000000000000_nope"]).status == .unauthorized)
            let cookie: HTTPHeaders = ["Cookie": "edge_session=\(session)", "Origin": "https://evil.example", "Content-Type": "application/json"]
            #expect(try await client.send(method: .POST, path: "/api/recraft/generations", headers: cookie, body: generation).status == .forbidden)
            #expect(try await client.send(path: "/healthz").status == .ok)
            await client.close()
            let raw = try await edge.raw()
            try await raw.write(Array("GET /bad\u{01}path HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
            _ = await raw.read(untilContains: "HTTP/1.1 400", timeout: .seconds(3))
            await raw.close()
            try await Task.sleep(for: .milliseconds(100))
        }
        let text = metrics.render()
        func value(_ series: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(value(#"edge_requests_total{route="v1_generations",status="200"}"#) == 1, "\(text)")
        #expect(value(#"edge_requests_total{route="v1_generations",status="500"}"#) == 1)
        #expect(value(#"edge_requests_total{route="v1_generations",status="502"}"#) == 1)
        #expect(value(#"edge_requests_total{route="v1_creative_upscale",status="402"}"#) == 1)
        #expect(value(#"edge_requests_total{route="v1_vectorize",status="401"}"#) == 1)
        #expect(value(#"edge_requests_total{route="portal_generations",status="403"}"#) == 1)
        #expect(value(#"edge_tokens_charged_total{operation="raster_generation"}"#) == 4)
        #expect(value("edge_holds_released_total") == 2)
        #expect(value(#"edge_security_events_total{kind="auth_failure"}"#) == 1)
        #expect(value(#"edge_security_events_total{kind="origin_violation"}"#) == 1)
        #expect(value(#"edge_security_events_total{kind="upstream_unauthorized"}"#) == 1)
        #expect(value(#"edge_security_events_total{kind="rejected_request"}"#) == 1)
        #expect(value("edge_open_connections") == 0)
        #expect(text.contains("edge_upstream_duration_seconds_bucket{route=\"v1_generations\""))

        let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 8, "\(lines.joined(separator: "\n"))")
        let records = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let charged = try #require(records.first { $0["status"] as? Int == 200 && $0["route"] as? String == "v1_generations" })
        #expect(charged["tokensCharged"] as? Int == 4)
        #expect(charged["operation"] as? String == "raster_generation")
        #expect(charged["path"] as? String == "/v1/images/generations")
        #expect(charged["outcome"] as? String == "forwarded")
        #expect((charged["upstreamMs"] as? Double).map { $0 > 0 } == true)
        #expect(charged["bytesIn"] as? Int == 18)
        #expect((charged["bytesOut"] as? Int).map { $0 > 100 } == true)
        #expect(charged["userId"] as? String != nil)
        let whole = lines.joined(separator: "\n")
        for secret in secrets { #expect(!whole.contains(secret)) }
        #expect(!whole.contains("query-must-not-be-logged"))
        #expect(!whole.contains("edge_session"))
    }
}
