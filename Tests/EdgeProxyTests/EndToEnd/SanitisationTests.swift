import EdgeProxy
import Foundation
import NIOCore
import Policy
import Testing

/// Each malformed request gets its 4xx JSON error over a real TLS connection, and nothing reaches
/// the upstream.
@Suite("Sanitisation: rejected requests never reach an upstream")
struct SanitisationTests {
    static let cases: [(name: String, request: String, status: Int)] = [
        ("both CL and TE", "POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ("differing CLs", "POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400),
        ("TE gzip", "POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        ("TE chunked, gzip", "POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded\r\n\r\n", 400),
        ("bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400),
        ("bare CR", "GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400),
        ("space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        ("non-token name", "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400),
        ("control char in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n", 400),
        ("missing Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("invalid Host", "GET / HTTP/1.1\r\nHost: a b@c\r\n\r\n", 400),
        ("HTTP/0.9", "GET /\r\n\r\n", 400),
        ("HTTP/2.0 line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400),
        ("double space", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("dot segment", "GET /v1/../admin HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        ("encoded slash", "POST /v1/images%2Fvectorize HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 400),
        ("unknown method", "BREW / HTTP/1.1\r\nHost: a\r\n\r\n", 501),
        ("bad chunk size", "POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\n{AUTH}Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ]

    @Test("Each malformed request gets a JSON 4xx/5xx and is not forwarded")
    func malformedRequests() async throws {
        try await withEdge { edge in
            for c in Self.cases {
                let raw = try await edge.raw()
                try await raw.write(c.request.replacingOccurrences(of: "{AUTH}", with: edge.authorizationLine))
                let answer = await raw.readUntilClose().text
                #expect(answer.hasPrefix("HTTP/1.1 \(c.status) "), "\(c.name): \(answer.prefix(80))")
                #expect(answer.contains("\"error\":{\"code\":"), "\(c.name)")
                #expect(answer.contains("Connection: close"), "\(c.name)")
                await raw.close()
            }
            // The chunked case sends a valid head first; its upstream exchange must never complete.
            #expect(edge.standIn.requests.allSatisfy { !$0.isComplete })
            #expect(edge.standIn.requests.filter(\.isComplete).isEmpty)
        }
    }

    @Test("A header section over the limit gets 431")
    func headersTooLarge() async throws {
        try await withEdge { edge in
            let raw = try await edge.raw()
            let big = String(repeating: "x", count: edge.policy.limits.maxHeaderBytes)
            try await raw.write("GET / HTTP/1.1\r\nHost: a\r\nX-Big: \(big)\r\n\r\n")
            let answer = await raw.readUntilClose().text
            #expect(answer.hasPrefix("HTTP/1.1 431 "))
            #expect(edge.standIn.requestCount == 0)
            await raw.close()
        }
    }

    @Test("A body over the route's limit gets 413: declared up front, or discovered while chunked")
    func bodyTooLarge() async throws {
        try await withEdge(adjust: { policy in
            var routes = policy.routes.routes
            for i in routes.indices where routes[i].id == "v1_vectorize" { routes[i].maxBodyBytes = 1000 }
            policy.routes = RouteTable(routes)
        }) { edge in
            let declared = try await edge.raw()
            try await declared.write("POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n")
            #expect(await declared.readUntilClose().text.hasPrefix("HTTP/1.1 413 "))
            await declared.close()
            #expect(edge.standIn.requestCount == 0)

            let chunked = try await edge.raw()
            let piece = String(repeating: "a", count: 600)
            try await chunked.write("POST /v1/images/vectorize HTTP/1.1\r\nHost: a\r\n\(edge.authorizationLine)Transfer-Encoding: chunked\r\n\r\n258\r\n\(piece)\r\n258\r\n\(piece)\r\n0\r\n\r\n")
            #expect(await chunked.readUntilClose().text.hasPrefix("HTTP/1.1 413 "))
            await chunked.close()
            #expect(edge.standIn.requests.allSatisfy { !$0.isComplete })
        }
    }

    @Test("A slow request head is cut off with 408")
    func headerReadTimeout() async throws {
        // The header deadline starts at accept (before the TLS handshake), so leave the handshake
        // room even on a loaded machine.
        try await withEdge(adjust: { $0.timeouts.headerReadSeconds = 4 }) { edge in
            let raw = try await edge.raw()
            try await raw.write("GET / HTTP/1.1\r\nHost: a\r\n")
            let answer = await raw.readUntilClose(timeout: .seconds(10)).text
            #expect(answer.hasPrefix("HTTP/1.1 408 "))
            #expect(edge.standIn.requestCount == 0)
            await raw.close()
        }
    }
}
