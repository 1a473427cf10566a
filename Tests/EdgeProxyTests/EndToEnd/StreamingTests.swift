import EdgeProxy
import Foundation
import NIOCore
import Policy
import NIOHTTP1
import Testing

@Suite("Byte-exact streaming with back-pressure")
struct StreamingTests {
    @Test("Multi-MiB uploads arrive byte-exact, with Content-Length and chunked framing", arguments: [false, true])
    func upload(chunked: Bool) async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let size = 24 * 1024 * 1024 + 12_345
            let result = try await client.sendGenerated(
                path: "/v1/images/vectorize", headers: edge.authorized(["Content-Type": "application/octet-stream"]),
                bodyBytes: size, seed: 7, chunked: chunked)
            #expect(result.response.status == .ok)
            let body = try result.response.jsonObject()
            #expect(body["bytes"] as? Int == size)
            #expect(body["sha256"] as? String == result.sentSHA256)
            let seen = try #require(edge.standIn.requests.last)
            #expect(seen.bodyByteCount == size && seen.bodySHA256 == result.sentSHA256)
            #expect(seen.values("Transfer-Encoding") == (chunked ? ["chunked"] : []))
            await client.close()
        }
    }

    @Test("Multi-MiB downloads arrive byte-exact whatever the upstream's framing",
          arguments: ["length", "chunked", "close"])
    func download(framing: String) async throws {
        try await withEdge { edge in
            let client = try await edge.client()
            let size = 20 * 1024 * 1024 + 999
            let response = try await client.send(
                method: .GET, path: "/download?bytes=\(size)&seed=3&framing=\(framing)", collectBody: false)
            #expect(response.status == .ok)
            #expect(response.bodyByteCount == size)
            #expect(response.bodySHA256 == RecraftStandIn.downloadSHA256(bytes: size, seed: 3))
            // The connection stays usable after every framing (close-delimited is re-framed as chunked).
            let again = try await client.send(method: .GET, path: "/healthz")
            #expect(again.status == .ok)
            await client.close()
        }
    }

    @Test("A slow reader holds the upstream back instead of the edge buffering the download")
    func slowReaderBackPressure() async throws {
        try await withEdge { edge in
            let client = try await edge.client(receiveBufferBytes: 32 * 1024)
            let size = 96 * 1024 * 1024
            async let response = client.send(
                method: .GET, path: "/download?bytes=\(size)&seed=9", collectBody: false,
                readPause: .milliseconds(2), timeout: .seconds(120))
            try await Task.sleep(for: .seconds(2))
            let acceptedWhileSlow = edge.standIn.downloadBytesAccepted
            let receivedWhileSlow = client.bodyBytesReceived
            // Without back-pressure the edge would drain the upstream at loopback speed (all 96 MiB in
            // well under 2 s). With it, the upstream is ahead of the reader by socket buffers only.
            #expect(acceptedWhileSlow - receivedWhileSlow < 32 * 1024 * 1024,
                    "upstream wrote \(acceptedWhileSlow) B while the client had read \(receivedWhileSlow) B")
            #expect(acceptedWhileSlow < size)
            let finished = try await response
            #expect(finished.bodyByteCount == size)
            #expect(finished.bodySHA256 == RecraftStandIn.downloadSHA256(bytes: size, seed: 9))
            await client.close()
        }
    }

    @Test("Expect: 100-continue is answered by the edge before the body is read")
    func expectContinue() async throws {
        try await withEdge { edge in
            let raw = try await edge.raw()
            try await raw.write("POST /v1/images/vectorize HTTP/1.1\r\nHost: localhost\r\n\(edge.authorizationLine)Content-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
            let interim = await raw.read(untilContains: "100 Continue")
            #expect(interim.text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
            try await raw.write("hello")
            let all = await raw.readUntilClose()
            #expect(all.text.contains("HTTP/1.1 200 OK"))
            #expect(edge.standIn.requests.last?.bodyByteCount == 5)
            #expect(edge.standIn.requests.last?.values("Expect").isEmpty == true)
            await raw.close()
        }
    }

    @Test("Pipelined requests are answered in order on one connection")
    func pipelining() async throws {
        try await withEdge { edge in
            let raw = try await edge.raw()
            try await raw.write(
                "POST /echo/one HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
                + "POST /echo/three HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n"
                + "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            let all = await raw.readUntilClose(timeout: .seconds(10)).text
            let one = try #require(all.range(of: "\"path\":\"/echo/one\""))
            let health = try #require(all.range(of: "{\"status\":\"ok\"}"))
            let three = try #require(all.range(of: "\"path\":\"/echo/three\""))
            #expect(one.lowerBound < health.lowerBound && health.lowerBound < three.lowerBound)
            #expect(all.components(separatedBy: "HTTP/1.1 200 OK").count == 5)
            await raw.close()
        }
    }
}
