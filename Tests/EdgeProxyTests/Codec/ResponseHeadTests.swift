@testable import EdgeProxy
import NIOCore
import Testing

/// The upstream response-head parser: status-line variants and how the status, the request method
/// and the framing headers decide whether (and how) a body follows.
@Suite struct CodecResponseHeadTests {
    @Test(arguments: CodecCorpus.responses) func responseRule(_ c: CodecCorpus.ResponseCase) throws {
        let whole = HTTP1Conformance.decodeResponse(c.input, requestWasHEAD: c.requestWasHEAD)
        let sliced = HTTP1Conformance.decodeResponse(c.input, requestWasHEAD: c.requestWasHEAD, splitAt: Array(0..<c.input.count))
        guard let status = c.status else {
            #expect(whole.response == nil && whole.rejection != nil, "\(c.input.escaped) was accepted")
            #expect(sliced.rejection == whole.rejection)
            return
        }
        let response = try #require(whole.response, "\(String(describing: whole.rejection)) for \(c.input.escaped)")
        #expect(response.status == status)
        #expect(response.framing == c.framing)
        #expect(whole.body == c.body)
        #expect(sliced.response?.status == status && sliced.response?.framing == c.framing && sliced.body == c.body)
        #expect(whole.consumed == sliced.consumed)
    }

    @Test func statusLineParts() throws {
        var parser = ResponseHeadParser(maxHeaderBytes: 16_384, maxHeaderCount: 100)
        var head = ResponseHead()
        var buffer = ByteBuffer(string: "HTTP/1.0 201 Created Now\r\nX-A: 1\r\n\r\nbody")
        #expect(try parser.parse(&buffer, requestWasHEAD: false, into: &head) == .complete)
        #expect(head.status == 201 && head.isHTTP10)
        #expect(String(buffer: head.bytes.getSlice(at: head.reasonStart, length: head.reasonEnd - head.reasonStart)!) == "Created Now")
        #expect(head.framing == .untilClose && !head.upstreamKeepAlive)
        #expect(String(buffer: buffer) == "body")
    }

    @Test func keepAliveFollowsVersionConnectionAndFraming() throws {
        func keepAlive(_ text: String) throws -> Bool {
            var parser = ResponseHeadParser(maxHeaderBytes: 16_384, maxHeaderCount: 100)
            var head = ResponseHead()
            var buffer = ByteBuffer(string: text)
            _ = try parser.parse(&buffer, requestWasHEAD: false, into: &head)
            return head.upstreamKeepAlive
        }
        #expect(try keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(try !keepAlive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        #expect(try !keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"))
        #expect(try keepAlive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"))
        #expect(try !keepAlive("HTTP/1.1 200 OK\r\n\r\n"))
    }

    @Test func oversizedResponseHeadIsRefused() {
        let head = CodecCorpus.b("HTTP/1.1 200 OK\r\nX-Big: " + String(repeating: "b", count: 200) + "\r\n\r\n")
        let limits = HTTP1Conformance.Limits(maxHeaderBytes: 100)
        #expect(HTTP1Conformance.decodeResponse(head, limits: limits).rejection?.status == 431)
        #expect(HTTP1Conformance.decodeResponse(Array(head.prefix(150)), limits: limits).rejection?.status == 431)
    }
}

/// Header names the rewrite acts on are recognised at every length.
@Suite struct CodecKnownHeaderTests {
    @Test(arguments: [
        ("Proxy-", KnownHeader.proxyPrefixed), ("proxy-x", .proxyPrefixed), ("Proxy-Connection", .proxyPrefixed),
        ("X-Tokens-", .xTokensPrefixed), ("x-tokens-charged", .xTokensPrefixed), ("TE", .te), ("Host", .host),
        ("Cookie", .cookie), ("Trailer", .trailer), ("Referer", .referer), ("Proxies", .other), ("X-Token", .other),
    ])
    func classify(_ name: String, _ expected: KnownHeader) {
        let bytes = Array(name.utf8)
        #expect(bytes.withUnsafeBytes { KnownHeader.classify($0, 0, bytes.count) } == expected)
    }
}

/// The public façade used by the fuzzer, and the request rewrite it exposes.
@Suite struct CodecConformanceFacadeTests {
    private func fieldNames(_ head: [UInt8]) -> [String] {
        let result = HTTP1Conformance.decodeRequest(head)
        return (result.request?.fields ?? []).map { String(decoding: $0.name, as: UTF8.self).lowercased() }
    }

    @Test func decodesOneMessageAndReportsWhatItConsumed() throws {
        let first = CodecCorpus.b("\r\n") + CodecCorpus.get("Transfer-Encoding: chunked", method: "POST") + CodecCorpus.b("3\r\nabc\r\n0\r\n\r\n")
        let second = CodecCorpus.get(target: "/second")
        let result = HTTP1Conformance.decodeRequest(first + second)
        let request = try #require(result.request)
        #expect(request.method == CodecCorpus.b("POST"))
        #expect(request.framing == .chunked)
        #expect(result.body == CodecCorpus.b("abc"))
        #expect(result.complete && result.rejection == nil)
        #expect(result.consumed == first.count)
        let split = HTTP1Conformance.decodeRequest(first + second, splitAt: Array(0..<(first.count + second.count)))
        #expect(split.consumed == first.count && split.body == result.body)
    }

    @Test func rewriteDropsHopByHopConnectionListedAndCredentialFields() throws {
        let input = CodecCorpus.get(
            "Connection: x-hop, cookie", "X-Hop: 1", "X-End: 2", "Cookie: s=1", "Authorization: Bearer client",
            "Keep-Alive: 5", "Proxy-Authorization: p", "Proxy-X: 1", "proxy-: 2", "TE: trailers", "Upgrade: h2c", "X-Request-Id: abc-1",
            "X-Forwarded-For: 6.6.6.6", "Expect: 100-continue", "Content-Length: 1", target: "/v1/x?q=1", method: "POST") + CodecCorpus.b("z")
        let request = try #require(HTTP1Conformance.decodeRequest(input).request)
        let app = String(decoding: request.upstreamHead, as: UTF8.self)
        #expect(app.hasPrefix("POST /v1/x?q=1 HTTP/1.1\r\nHost: app.test\r\n"))
        #expect(fieldNames(request.upstreamHead) == [
            "host", "x-end", "authorization", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "content-length",
        ])
        #expect(app.contains("X-Request-Id: abc-1\r\n") && app.contains("X-Forwarded-For: 192.0.2.1\r\n"))
        let recraft = String(decoding: request.upstreamHeadWithCredential, as: UTF8.self)
        #expect(recraft.hasPrefix("POST /base/mapped?q=1 HTTP/1.1\r\nHost: recraft.test:8080\r\n"))
        #expect(recraft.contains("Authorization: Bearer fuzz-token\r\n") && !recraft.contains("client"))
        #expect(fieldNames(request.upstreamHeadWithCredential) == [
            "host", "x-end", "authorization", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "content-length",
        ])
    }
}
