import EdgeProxy
import NIOCore
import Testing

/// The body decoder as the connection handler drives it over real TLS: framing must survive any
/// cut between reads, including in a body the edge reads and drops after answering locally.
@Suite struct CodecConnectionFramingTests {
    /// Where the request's bytes are cut between two reads (the second part is written only after
    /// the 404 arrived, so the cut is a real read boundary).
    enum Cut: String, CaseIterable, CustomTestStringConvertible {
        case none, insideChunkData, insideSizeLine, betweenDataCRAndLF, insideLastChunkLine, insideTrailer

        var testDescription: String { rawValue }

        /// Offset of the cut in `request`.
        var offset: Int? {
            let r = CodecConnectionFramingTests.request
            func after(_ marker: String, _ extra: Int) -> Int { r.utf8.count - r.split(separator: marker, maxSplits: 1)[1].utf8.count + extra }
            switch self {
            case .none: return nil
            case .insideChunkData: return after("\r\n1a\r\n", 5)
            case .insideSizeLine: return after("chunked\r\n\r\n", 1)
            case .betweenDataCRAndLF: return after("mnop", 1)
            case .insideLastChunkLine: return after("mnop\r\n", 1)
            case .insideTrailer: return after("0\r\n", 4)
            }
        }
    }

    static let request = "POST /v1/not-a-route HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "1a\r\n0123456789abcdefghijklmnop\r\n0\r\nX-T: 1\r\n\r\n"
    static let next = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"

    /// A request answered locally (404, never forwarded) keeps its connection: the edge reads and
    /// drops its chunked body, then answers the next request on the connection.
    @Test(arguments: Cut.allCases) func discardedChunkedBodyThenNextRequest(_ cut: Cut) async throws {
        try await withEdge { edge in
            let raw = try await edge.raw()
            let bytes = Array((Self.request + Self.next).utf8)
            if let offset = cut.offset {
                try await raw.write(Array(bytes[..<offset]))
                _ = await raw.read(untilContains: "HTTP/1.1 404 ", timeout: .seconds(3))
                try await raw.write(Array(bytes[offset...]))
            } else {
                try await raw.write(bytes)
            }
            let answer = await raw.read(untilContains: "HTTP/1.1 ", count: 2, timeout: .seconds(3)).text
            await raw.close()
            #expect(answer.hasPrefix("HTTP/1.1 404 "))
            #expect(answer.contains("HTTP/1.1 200 "), "the request after the dropped body was not answered")
        }
    }
}
