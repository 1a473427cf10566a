import EdgeProxy
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Proves the stand-in and the shared fixtures (test CA, HTTPS client, raw TLS client) work through
/// real sockets and real TLS.
@Suite struct StandInTests {
    /// Starts a TLS stand-in with a fresh test CA, runs `body`, and shuts everything down (the stand-in's
    /// shutdown closes its side of every connection, so the test's clients end with it).
    private func withStandIn(
        sendBufferBytes: Int? = nil,
        _ body: (RecraftStandIn, TestCertificateAuthority) async throws -> Void
    ) async throws {
        let ca = try TestCertificateAuthority()
        let standIn = try await RecraftStandIn.start(
            .init(tlsCertificatePath: ca.leafCertificatePath, tlsKeyPath: ca.leafKeyPath, sendBufferBytes: sendBufferBytes))
        do {
            try await body(standIn, ca)
        } catch {
            try await standIn.shutdown()
            throw error
        }
        try await standIn.shutdown()
    }

    @Test func generationsReturnOneURLPerImage() async throws {
        try await withStandIn { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca)
            let response = try await client.send(
                method: .POST, path: "/v1/images/generations", headers: ["content-type": "application/json"],
                body: ByteBuffer(string: #"{"prompt": "a red fox", "n": 3, "style": "digital_illustration"}"#))
            #expect(response.status == .ok)
            let json = try response.jsonObject()
            let data = try #require(json["data"] as? [[String: Any]])
            #expect(data.count == 3)
            for item in data {
                let url = try #require(item["url"] as? String)
                #expect(url.hasPrefix("https://img.recraft.invalid/") && url.hasSuffix(".png"))
            }
            #expect(json["created"] is Int)

            let invalid = try await client.send(
                method: .POST, path: "/v1/images/generations", body: ByteBuffer(string: "{not json"))
            #expect(invalid.status == .badRequest)
            #expect(try invalid.jsonObject()["code"] as? String == "invalid_json")
            #expect(standIn.requestCount == 2)
        }
    }

    @Test func echoReportsHeadersAndBodyDigestExactly() async throws {
        try await withStandIn { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca)
            let size = 5 * 1024 * 1024
            let upload = try await client.sendGenerated(
                method: .PUT, path: "/echo/upload?x=1", headers: ["X-Custom-Header": "Value One"], bodyBytes: size, seed: 7)
            #expect(upload.sentBytes == size)
            #expect(upload.sentSHA256 == RecraftStandIn.downloadSHA256(bytes: size, seed: 7))
            #expect(upload.response.status == .ok)
            let json = try upload.response.jsonObject()
            #expect(json["method"] as? String == "PUT")
            #expect(json["path"] as? String == "/echo/upload?x=1")
            #expect(json["bytes"] as? Int == size)
            #expect(json["sha256"] as? String == upload.sentSHA256)
            let headers = try #require(json["headers"] as? [[String]])
            #expect(headers.contains(["X-Custom-Header", "Value One"]))
            #expect(headers.contains(["content-length", String(size)]))

            let recorded = try #require(standIn.requests.last)
            #expect(recorded.bodySHA256 == upload.sentSHA256)
            #expect(recorded.header("x-custom-header") == "Value One")
            #expect(recorded.isComplete)

            let chunked = try await client.sendGenerated(path: "/echo", bodyBytes: 1_000_001, seed: 1, chunked: true, pieceBytes: 10_000)
            #expect(try chunked.response.jsonObject()["sha256"] as? String == RecraftStandIn.downloadSHA256(bytes: 1_000_001, seed: 1))
            #expect(standIn.requests.last?.header("transfer-encoding") == "chunked")
        }
    }

    @Test(arguments: ["length", "chunked", "close"])
    func downloadMatchesPublishedDigest(framing: String) async throws {
        try await withStandIn { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca)
            let size = 8 * 1024 * 1024 + 123
            let response = try await client.send(path: "/download?bytes=\(size)&seed=42&framing=\(framing)", collectBody: false)
            #expect(response.status == .ok)
            #expect(response.bodyByteCount == size)
            #expect(response.bodySHA256 == RecraftStandIn.downloadSHA256(bytes: size, seed: 42))
            // Counted as each write completes on the stand-in's loop, which may trail the client's read a little.
            #expect(await eventually { standIn.downloadBytesAccepted == size })
        }
    }

    @Test func forcedStatusIsAnsweredAfterTheBody() async throws {
        try await withStandIn { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca)
            let response = try await client.send(
                method: .POST, path: "/v1/images/vectorize", headers: ["X-StandIn-Status": "500"],
                body: ByteBuffer(repeating: 0x41, count: 1000))
            #expect(response.status == .internalServerError)
            #expect(try response.jsonObject()["code"] as? String == "internal_error")
            // The connection stays usable.
            let me = try await client.send(path: "/v1/users/me")
            #expect(me.status == .ok)
            #expect(try me.jsonObject()["credits"] as? Int == 1_000_000)
            #expect(standIn.requests.first?.bodyByteCount == 1000)
        }
    }

    @Test func resetClosesWithoutAnswering() async throws {
        try await withStandIn { standIn, ca in
            let raw = try await RawTLSClient.connect(port: standIn.port, tls: ca.clientTLSConfiguration())
            try await raw.write("GET /v1/users/me HTTP/1.1\r\nHost: localhost\r\nX-StandIn-Reset: 1\r\n\r\n")
            let received = await raw.readUntilClose()
            #expect(received.isClosed)
            #expect(received.bytes.readableBytes == 0)
            #expect(standIn.requests.first?.isComplete == false)
        }
    }

    @Test func pipelinedRequestsInPiecesAreAnsweredInOrder() async throws {
        try await withStandIn { standIn, ca in
            let raw = try await RawTLSClient.connect(port: standIn.port, tls: ca.clientTLSConfiguration())
            try await raw.write(
                pieces: ["GET /first HTTP/1.1\r\nHo", "st: localhost\r\n\r\nGET /v1/nope HTTP/1.1\r\nHost: localhost\r\n\r\n"],
                pause: .milliseconds(50))
            let received = await raw.read(untilContains: "HTTP/1.1 ", count: 2)
            let text = received.text
            let first = try #require(text.range(of: "HTTP/1.1 200 OK"))
            let second = try #require(text.range(of: "HTTP/1.1 404 Not Found"))
            #expect(first.lowerBound < second.lowerBound)
            #expect(text.contains("/first"))
        }
    }

    @Test func delaysAndTrickleAreHonoured() async throws {
        try await withStandIn { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca)
            let clock = ContinuousClock()
            let start = clock.now
            let delayed = try await client.send(path: "/v1/users/me", headers: ["X-StandIn-Delay-Ms": "150"])
            #expect(delayed.status == .ok)
            #expect(clock.now - start >= .milliseconds(150))

            let trickleStart = clock.now
            let trickled = try await client.send(
                path: "/app/page", headers: ["X-StandIn-Body-Delay-Ms": "20", "X-StandIn-Body-Piece-Bytes": "64"])
            #expect(trickled.status == .ok)
            #expect(trickled.bodyText.contains("Recraftor app (stand-in)"))
            #expect(trickled.bodyText.contains("/app/page"))
            let pieces = (trickled.bodyByteCount + 63) / 64
            #expect(clock.now - trickleStart >= .milliseconds(20 * pieces))
        }
    }

    @Test func slowReaderHoldsTheDownloadBack() async throws {
        try await withStandIn(sendBufferBytes: 64 * 1024) { standIn, ca in
            let client = try await TestHTTPSClient.connect(to: standIn, ca: ca, receiveBufferBytes: 64 * 1024)
            let size = 256 * 1024 * 1024
            let download = Task {
                try await client.send(
                    path: "/download?bytes=\(size)", collectBody: false, readPause: .milliseconds(20), timeout: .seconds(60))
            }
            // Wait (bounded) until the slow reader has taken something: under CPU load the first
            // bytes can take longer than any fixed pause.
            let waitStart = ContinuousClock.now
            while client.bodyBytesReceived == 0 && ContinuousClock.now - waitStart < .seconds(20) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(500))
            let accepted = standIn.downloadBytesAccepted
            let received = client.bodyBytesReceived
            #expect(received > 0)
            // Only what the reader took plus socket buffers and one watermark may have left the stand-in.
            #expect(accepted < received + 4 * 1024 * 1024)
            #expect(accepted < size / 16)
            await client.close()
            _ = await download.result
        }
    }

    @Test func plainStandInFramesContinueHeadAndClose() async throws {
        let standIn = try await RecraftStandIn.start(.init())
        #expect(!standIn.isTLS && standIn.baseURL == "http://127.0.0.1:\(standIn.port)")
        let raw = try await RawTLSClient.connect(port: standIn.port, tls: nil)
        try await raw.write(
            "POST /v1/styles HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = await raw.read(untilContains: "HTTP/1.1 100 Continue\r\n\r\n")
        #expect(interim.text == "HTTP/1.1 100 Continue\r\n\r\n")
        try await raw.write("hello")
        _ = await raw.read(untilContains: "HTTP/1.1 200 OK")
        try await raw.write("HEAD /download?bytes=10 HTTP/1.1\r\nHost: x\r\n\r\n")
        try await raw.write("GET /some/page HTTP/1.1\r\nHost: x\r\nX-StandIn-Close: 1\r\n\r\n")
        let all = await raw.readUntilClose()
        #expect(all.isClosed)
        let responses = all.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0) }
        try #require(responses.count == 4)
        #expect(responses[2].hasPrefix("200 OK") && responses[2].contains("content-length: 10\r\n"))
        #expect(responses[2].hasSuffix("\r\n\r\n"))  // HEAD: framing kept, no body
        #expect(responses[3].contains("connection: close") && responses[3].contains("Recraftor app (stand-in)"))
        #expect(standIn.requests.map(\.path) == ["/v1/styles", "/download?bytes=10", "/some/page"])
        #expect(standIn.requests.first?.bodyByteCount == 5)
        try await standIn.shutdown()
    }
}
