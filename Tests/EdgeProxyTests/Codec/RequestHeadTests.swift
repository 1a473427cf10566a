@testable import EdgeProxy
import NIOCore
import Testing

/// One test per RFC 9112 rule the strict request-head parser enforces (cases in `CodecCorpus`),
/// each checked with the whole input in one read and again delivered one byte per read.
@Suite struct CodecRequestHeadRuleTests {
    private func check(_ c: CodecCorpus.RequestCase) {
        let whole = parseHead(c.input)
        switch c.expected {
        case .accept:
            #expect(whole.head != nil, "expected the head to be accepted, got \(whole.fingerprint) for \(c.input.escaped)")
        case .reject(let status, let code):
            let error = whole.error
            #expect(error?.status == status && error?.code.description == code,
                    "expected \(status) \(code), got \(whole.fingerprint) for \(c.input.escaped)")
        }
        // Incremental scanning must give exactly the same verdict, head and remaining bytes.
        let incremental = parseHeadByteByByte(c.input)
        #expect(incremental.fingerprint == whole.fingerprint, "byte by byte differs for \(c.input.escaped)")
    }

    @Test(arguments: CodecCorpus.requestLine) func requestLine(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.methods) func method(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.headerLines) func headerLine(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.hosts) func host(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.framing) func framing(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.limits) func limit(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.paths) func path(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.expectations) func expectation(_ c: CodecCorpus.RequestCase) { check(c) }
    @Test(arguments: CodecCorpus.valid) func valid(_ c: CodecCorpus.RequestCase) { check(c) }

    /// Random cut points must not change any verdict either (three cuts per case, fixed seed).
    @Test func randomSplitsGiveTheSameResult() {
        var rng = SplitMix64(seed: 0xC0DEC)
        for c in CodecCorpus.allRequests {
            let whole = parseHead(c.input).fingerprint
            for _ in 0..<8 {
                let cuts = (0..<3).map { _ in Int.random(in: 0...c.input.count, using: &rng) }
                #expect(parseHead(c.input, cuts: cuts).fingerprint == whole, "\(c.name) cut at \(cuts.sorted())")
            }
        }
    }
}

/// What an accepted head exposes, and how the parser tolerates what RFC 9112 lets it tolerate.
@Suite struct CodecRequestHeadAcceptanceTests {
    private func header(_ head: RequestHead, _ name: String) -> String? { head.headerValue(name) }

    @Test func validGet() throws {
        let result = parseHead(CodecCorpus.b("GET /v1/images?x=1&y=/a/../b HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n"))
        let head = try #require(result.head)
        #expect(head.method == .get)
        #expect(head.methodString == "GET")
        #expect(head.targetString == "/v1/images?x=1&y=/a/../b")
        #expect(head.pathEnd - head.targetStart == "/v1/images".utf8.count)
        #expect(!head.isHTTP10)
        #expect(head.framing == .none)
        #expect(head.clientKeepAlive)
        #expect(!head.expectsContinue)
        #expect(head.fields.count == 2)
        #expect(header(head, "host") == "example.com")
        #expect(header(head, "user-agent") == "t/1")
        #expect(result.rest == [])
    }

    @Test func postWithContentLengthLeavesTheBody() throws {
        let result = parseHead(CodecCorpus.get("Content-Length: 5", method: "POST") + CodecCorpus.b("helloGET"))
        let head = try #require(result.head)
        #expect(head.method == .post)
        #expect(head.framing == .contentLength(5))
        #expect(result.rest == CodecCorpus.b("helloGET"))
    }

    @Test func contentLengthZeroMeansNoBody() throws {
        let head = try #require(parseHead(CodecCorpus.get("Content-Length: 0", method: "POST")).head)
        #expect(head.framing == .none)
    }

    @Test func identicalRepeatedContentLengthsAreOneLength() throws {
        let head = try #require(parseHead(CodecCorpus.get("Content-Length: 5", "content-length: 005", method: "POST")).head)
        #expect(head.framing == .contentLength(5))
    }

    @Test func chunkedPost() throws {
        let wire = CodecCorpus.b("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let result = parseHead(CodecCorpus.get("Transfer-Encoding: chunked", method: "POST") + wire)
        let head = try #require(result.head)
        #expect(head.framing == .chunked)
        let body = decodeBody(try #require(result.rest), framing: head.framing)
        #expect(body.ended && body.error == nil)
        #expect(body.body == CodecCorpus.b("hello world"))
    }

    @Test func pipelinedHeadsAreParsedOneAtATime() throws {
        let first = CodecCorpus.get(target: "/one")
        let second = CodecCorpus.get("Content-Length: 3", target: "/two", method: "POST") + CodecCorpus.b("abc")
        let third = CodecCorpus.get(target: "/three")
        let one = parseHead(first + second + third)
        #expect(try #require(one.head).targetString == "/one")
        #expect(one.rest == second + third)
        let two = parseHead(try #require(one.rest))
        let head = try #require(two.head)
        #expect(head.targetString == "/two")
        #expect(head.framing == .contentLength(3))
        #expect(two.rest == CodecCorpus.b("abc") + third)
    }

    @Test func oneParserAcrossPipelinedHeadsAndSplitReads() throws {
        // The same parser and buffer, as on a keep-alive connection: each head parsed in turn.
        let input = CodecCorpus.get(target: "/a") + CodecCorpus.b("\r\n") + CodecCorpus.get(target: "/b") + CodecCorpus.get(target: "/c")
        var parser = RequestHeadParser(maxHeaderBytes: 16_384, maxHeaderCount: 100)
        var head = RequestHead()
        var buffer = ByteBuffer()
        var targets: [String] = []
        for byte in input {
            buffer.writeInteger(byte)
            while buffer.readableBytes > 0, case .complete = try parser.parse(&buffer, into: &head) {
                targets.append(head.targetString)
            }
        }
        #expect(targets == ["/a", "/b", "/c"])
        #expect(buffer.readableBytes == 0)
    }

    @Test func leadingEmptyLinesAreTolerated() throws {
        let result = parseHead(CodecCorpus.b("\r\n\r\n\r\n") + CodecCorpus.get(target: "/x"))
        #expect(try #require(result.head).targetString == "/x")
        // ...but a bare LF before the request line is not an empty line.
        #expect(parseHead(CodecCorpus.b("\n") + CodecCorpus.get()).error == .malformedRequestLine)
    }

    @Test func http09IsRefusedWithoutWaitingForMoreBytes() {
        #expect(parseHead(CodecCorpus.b("GET /\r\n")).error == .malformedRequestLine)
        #expect(parseHead(CodecCorpus.b("GET / HTTP/1.1\r\n")).error == nil)
        #expect(parseHead(CodecCorpus.b("GET / HTTP/2.0\r\n")).error == .unsupportedVersion)
        #expect(parseHead(CodecCorpus.b("BREW / HTTP/1.1\r\n")).error == .methodNotImplemented)
        #expect(parseHead(CodecCorpus.b("GET /a/../b HTTP/1.1\r\n")).error == .invalidTarget)
    }

    @Test func valuesAreTrimmedButKeepInnerWhitespace() throws {
        let head = try #require(parseHead(CodecCorpus.get("X-Ows: \t a\tb  c \t ")).head)
        #expect(header(head, "x-ows") == "a\tb  c")
    }

    @Test func http10KeepAliveOnlyWhenAsked() throws {
        #expect(try #require(parseHead(CodecCorpus.get(version: "HTTP/1.0")).head).clientKeepAlive == false)
        let keep = try #require(parseHead(CodecCorpus.get("Connection: Keep-Alive", version: "HTTP/1.0")).head)
        #expect(keep.isHTTP10 && keep.clientKeepAlive)
        #expect(try #require(parseHead(CodecCorpus.get("Connection: close")).head).clientKeepAlive == false)
    }

    @Test func expectContinueOnlyWhenABodyFollows() throws {
        #expect(try #require(parseHead(CodecCorpus.get("Expect: 100-continue", "Content-Length: 5", method: "POST")).head).expectsContinue)
        #expect(try #require(parseHead(CodecCorpus.get("Expect: 100-continue", "Transfer-Encoding: chunked", method: "POST")).head).expectsContinue)
        #expect(try #require(parseHead(CodecCorpus.get("Expect: 100-continue")).head).expectsContinue == false)
        let http10 = CodecCorpus.get("Expect: 100-continue", "Content-Length: 5", method: "POST", version: "HTTP/1.0")
        #expect(try #require(parseHead(http10).head).expectsContinue == false)
    }

    @Test func connectionNamesFieldsAsHopByHop() throws {
        let head = try #require(parseHead(CodecCorpus.get(
            "Connection: close, x-hop ,, Cookie", "X-Hop: 1", "X-End: 2", "cookie: s=1", "Content-Type: a/b")).head)
        let listed = head.withBytes { b in
            head.fields.filter(\.listedInConnection).map { String(decoding: b[Int($0.nameStart)..<Int($0.nameEnd)], as: UTF8.self) }
        }
        #expect(listed == ["X-Hop", "cookie"])
        #expect(!head.clientKeepAlive)
    }

    @Test func headAtTheLimitIsAcceptedAndOneByteMoreIsNot() throws {
        let base = CodecCorpus.get("X-Pad: ")
        let limit = base.count + 10
        let atLimit = CodecCorpus.get("X-Pad: " + String(repeating: "p", count: 10))
        #expect(atLimit.count == limit)
        #expect(parseHead(atLimit, maxHeaderBytes: limit).head != nil)
        #expect(parseHeadByteByByte(atLimit, maxHeaderBytes: limit).head != nil)
        let over = CodecCorpus.get("X-Pad: " + String(repeating: "p", count: 11))
        #expect(parseHead(over, maxHeaderBytes: limit).error == .headersTooLarge)
        #expect(parseHeadByteByByte(over, maxHeaderBytes: limit).error == .headersTooLarge)
        // An unfinished head is refused as soon as it outgrows the limit, not when it ends.
        let unfinished = Array(CodecCorpus.get("X-Pad: " + String(repeating: "p", count: 13)).dropLast(2))
        #expect(unfinished.count == limit + 1)
        #expect(parseHead(unfinished, maxHeaderBytes: limit).error == .headersTooLarge)
        #expect(parseHead(Array(atLimit.dropLast(2)), maxHeaderBytes: limit).error == nil)
    }

    @Test func fieldCountLimitIsExact() {
        let eight = CodecCorpus.b("GET / HTTP/1.1\r\nHost: a\r\n" + (0..<7).map { "X-\($0): 1\r\n" }.joined() + "\r\n")
        let nine = CodecCorpus.b("GET / HTTP/1.1\r\nHost: a\r\n" + (0..<8).map { "X-\($0): 1\r\n" }.joined() + "\r\n")
        #expect(parseHead(eight, maxHeaderCount: 8).head != nil)
        #expect(parseHead(nine, maxHeaderCount: 8).error == .tooManyHeaders)
    }

    @Test func scannerFindsTheEndAcrossReads() {
        var scanner = HeadBoundaryScanner()
        let head = CodecCorpus.get()
        for end in 1..<head.count {
            let found = head[0..<end].withUnsafeBytes { scanner.findEnd($0) }
            #expect(found == nil, "ended early at \(end)")
        }
        #expect(head.withUnsafeBytes { scanner.findEnd($0) } == head.count)
        // A blank line of a bare LF also ends the scan (the parser then refuses it).
        scanner.reset()
        #expect(CodecCorpus.b("GET / HTTP/1.1\nHost: a\n\nrest").withUnsafeBytes { scanner.findEnd($0) } == 24)
    }
}
