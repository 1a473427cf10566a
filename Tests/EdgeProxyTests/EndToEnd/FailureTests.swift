import EdgeProxy
import Foundation
import NIOCore
import Policy
import NIOHTTP1
import Testing

@Suite("Upstream failures become JSON 502/504")
struct FailureTests {
    @Test("An unreachable upstream answers 502 upstream_unreachable")
    func connectFailure() async throws {
        try await withEdge(recraftURL: "https://localhost:1") { edge in
            let client = try await edge.client()
            let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(), body: ByteBuffer(string: "{}"))
            #expect(response.status == .badGateway)
            let error = try #require(try response.jsonObject()["error"] as? [String: Any])
            #expect(error["code"] as? String == "upstream_unreachable")
            #expect(error["type"] as? String == "upstream_error")
            await client.close()
        }
    }

    @Test("An upstream that answers too slowly gets 504 upstream_timeout")
    func responseTimeout() async throws {
        try await withEdge(adjust: { $0.timeouts.upstreamResponseSeconds = 0.5 }) { edge in
            let client = try await edge.client()
            let response = try await client.send(
                method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(["X-StandIn-Delay-Ms": "3000"]),
                body: ByteBuffer(string: "{}"))
            #expect(response.status == .gatewayTimeout)
            #expect(response.bodyText.contains("upstream_timeout"))
            await client.close()
        }
    }

    @Test("A reset before the response head answers 502 upstream_reset")
    func resetBeforeHead() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let response = try await client.send(
                method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(["X-StandIn-Reset": "1"]),
                body: ByteBuffer(string: "{}"))
            #expect(response.status == .badGateway)
            #expect(response.bodyText.contains("upstream_reset"))
            await client.close()
        }
    }

    @Test("Upstream error statuses pass through unchanged, and the pooled connection stays usable")
    func upstreamErrorsPassThrough() async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let failed = try await client.send(
                method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(["X-StandIn-Status": "500"]), body: ByteBuffer(string: "{}"))
            #expect(failed.status == .internalServerError)
            let ok = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(), body: ByteBuffer(string: "{}"))
            #expect(ok.status == .ok)
            await client.close()
        }
    }

    @Test("An untrusted upstream certificate is refused: 502 and nothing delivered")
    func untrustedUpstream() async throws {
        // The edge trusts only the system roots here, not the test CA the stand-in's certificate comes from.
        let other = try TestCertificateAuthority()
        let standIn = try await RecraftStandIn.start(.init(tlsCertificatePath: other.leafCertificatePath, tlsKeyPath: other.leafKeyPath))
        try await withEdge(recraftURL: "https://localhost:\(standIn.port)") { edge in
            let client = try await edge.client()
            let response = try await client.send(method: .POST, path: "/v1/images/vectorize", headers: edge.authorized(), body: ByteBuffer(string: "{}"))
            #expect(response.status == .badGateway)
            #expect(standIn.requestCount == 0)
            await client.close()
        }
        try await standIn.shutdown()
    }
}
