@testable import EdgeProxy
import NIOCore
import Testing

/// The response rewriter's shortcuts (runs of kept lines copied at once, the name summary of the
/// edge's own lines) give exactly the bytes of the plain line-by-line rewrite.
@Suite struct HeadRewriterFastPathTests {
    private static let upstream =
        "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 04:00:00 GMT\r\nX-Trailing: a  \r\nX-Empty:\r\n"
        + "X-Blank: \r\nratelimit-limit: 7\r\nContent-Type: application/json\r\nVary: Accept\r\nx-tokens-charged: 9\r\n"
        + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\n\r\n"

    private func parsed() throws -> ResponseHead {
        var parser = ResponseHeadParser(maxHeaderBytes: 16_384, maxHeaderCount: 100)
        var head = ResponseHead()
        var buffer = ByteBuffer(string: Self.upstream)
        guard case .complete = try parser.parse(&buffer, requestWasHEAD: false, into: &head) else {
            Issue.record("head incomplete")
            return head
        }
        return head
    }

    /// One id for every rewrite, so two rewrites of the same head can be compared whole.
    private let requestID: RequestID = {
        var generator = RequestIDGenerator()
        return RequestID(generatedWith: &generator)
    }()

    private func rewrite(_ head: ResponseHead, _ lines: ResponseHeaderLines, names: UInt64) -> String {
        let bytes = HeadRewriter.clientResponseHead(
            head, framing: .contentLength(2), requestID: requestID, isHEAD: false,
            closeConnection: false, clientIsHTTP10: false, extraLines: lines.buffer, extraNames: names,
            allocator: ByteBufferAllocator())
        return String(buffer: bytes)
    }

    @Test func summaryOfTheEdgesLinesChangesNothing() throws {
        let head = try parsed()
        var lines = ResponseHeaderLines()
        lines.add("Vary", "Origin")
        lines.add("Access-Control-Allow-Origin", "https://app.example")
        lines.add("RateLimit-Limit", 100)
        lines.add("X-Tokens-Remaining", 5)
        let fast = rewrite(head, lines, names: lines.names)
        #expect(fast == rewrite(head, lines, names: ~0))
        // The edge's lines replace the upstream's, whatever the letter case; Vary is kept twice.
        #expect(!fast.contains("ratelimit-limit: 7"))
        #expect(!fast.contains("Access-Control-Allow-Origin: *"))
        #expect(fast.contains("Vary: Accept\r\n") && fast.contains("Vary: Origin\r\n"))
    }

    @Test func keptLinesAreCopiedTrimmedAndInOrder() throws {
        let head = try parsed()
        let text = rewrite(head, ResponseHeaderLines(), names: 0)
        let expectedPrefix = "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 04:00:00 GMT\r\nX-Trailing: a\r\n"
            + "X-Empty:\r\nX-Blank: \r\nratelimit-limit: 7\r\nContent-Type: application/json\r\nVary: Accept\r\n"
            + "Access-Control-Allow-Origin: *\r\nContent-Length: 2\r\nX-Request-Id: "
        #expect(text.hasPrefix(expectedPrefix), "\(text)")
    }

    @Test func integerLinesAreFormattedLikeDecimalText() {
        var lines = ResponseHeaderLines()
        for value: Int64 in [0, 7, 10, 99, 1234567890, Int64.max, -1, Int64.min] { lines.add("X-N", value) }
        let expected = [Int64(0), 7, 10, 99, 1234567890, Int64.max, -1, Int64.min].map { "X-N: \($0)\r\n" }.joined()
        #expect(lines.buffer.map { String(buffer: $0) } == expected)
    }
}
