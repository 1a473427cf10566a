@testable import EdgeProxy
import NIOCore
import Testing

/// The body decoder: chunked framing (sizes, extensions, trailers, CRLFs, bounds) and
/// Content-Length slicing, whole and sliced into reads of every size.
@Suite struct CodecChunkedDecoderTests {
    private static let next = CodecCorpus.b("GET /next HTTP/1.1\r\n")

    @Test(arguments: CodecCorpus.chunked) func chunkedRule(_ c: CodecCorpus.ChunkedCase) {
        let whole = decodeBody(c.wire + Self.next, framing: .chunked)
        if let body = c.body {
            #expect(whole.error == nil, "\(c.wire.escaped)")
            #expect(whole.ended)
            #expect(whole.body == body)
            #expect(whole.rest == Self.next, "the decoder must stop exactly at the end of the body")
        } else if case .reject(let status, let code) = c.error {
            #expect(whole.error?.status == status && whole.error?.code.description == code, "got \(String(describing: whole.error)) for \(c.wire.escaped)")
        }
        let byteByByte = decodeBody(c.wire + Self.next, framing: .chunked, cuts: Array(0..<(c.wire.count + Self.next.count)))
        #expect(byteByByte.body == whole.body || c.body == nil)
        #expect(byteByByte.error == whole.error)
        #expect(byteByByte.ended == whole.ended)
        if whole.ended { #expect(byteByByte.rest == whole.rest) }
    }

    @Test func dataSlicedAcrossReadsYieldsTheExactBody() {
        var rng = SplitMix64(seed: 42)
        for round in 0..<50 {
            let pieces = (0..<Int.random(in: 1...6, using: &rng)).map { _ in
                (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            var wire: [UInt8] = []
            for p in pieces {
                let size = String(p.count, radix: 16, uppercase: round % 2 == 0)
                wire += CodecCorpus.b(size + (round % 3 == 0 ? ";r=\(round)" : "") + "\r\n") + p + CodecCorpus.b("\r\n")
            }
            wire += CodecCorpus.b("0\r\nX-Round: \(round)\r\n\r\n")
            let cuts = (0..<Int.random(in: 0...20, using: &rng)).map { _ in Int.random(in: 0...wire.count, using: &rng) }
            let decoded = decodeBody(wire, framing: .chunked, cuts: cuts)
            #expect(decoded.ended && decoded.error == nil && decoded.rest.isEmpty)
            #expect(decoded.body == pieces.flatMap { $0 }, "round \(round)")
        }
    }

    @Test func fifteenHexDigitsAreASizeAndSixteenAreNot() {
        let fifteen = decodeBody(CodecCorpus.b("FFFFFFFFFFFFFFF\r\nabc"), framing: .chunked)
        #expect(fifteen.error == nil && !fifteen.ended && fifteen.body == CodecCorpus.b("abc"))
        let sixteen = decodeBody(CodecCorpus.b("1000000000000000\r\nabc"), framing: .chunked)
        #expect(sixteen.error == .invalidChunk)
    }

    @Test func sizeLineIsBoundedByMaxChunkLineBytes() {
        let ext = ";" + String(repeating: "e", count: 20)
        #expect(decodeBody(CodecCorpus.b("1\(ext)\r\nx\r\n0\r\n\r\n"), framing: .chunked, maxChunkLineBytes: 32).ended)
        let long = ";" + String(repeating: "e", count: 40)
        #expect(decodeBody(CodecCorpus.b("1\(long)\r\nx\r\n0\r\n\r\n"), framing: .chunked, maxChunkLineBytes: 32).error == .chunkLineTooLong)
        // An unfinished line is refused as soon as it reaches the bound, without waiting for its end.
        #expect(decodeBody(CodecCorpus.b("1\(long)"), framing: .chunked, maxChunkLineBytes: 32).error == .chunkLineTooLong)
        #expect(decodeBody(CodecCorpus.b("1\(long)"), framing: .chunked, cuts: Array(0..<42), maxChunkLineBytes: 32).error == .chunkLineTooLong)
        // Leading zeros count against the bound too.
        #expect(decodeBody(CodecCorpus.b(String(repeating: "0", count: 14) + "1\r\nx\r\n0\r\n\r\n"), framing: .chunked, maxChunkLineBytes: 32).ended)
    }

    @Test func trailersAreBoundedByMaxTrailerBytes() {
        let small = CodecCorpus.b("0\r\nX-A: " + String(repeating: "a", count: 40) + "\r\n\r\n")
        #expect(decodeBody(small, framing: .chunked, maxTrailerBytes: 64).ended)
        let big = CodecCorpus.b("0\r\nX-A: " + String(repeating: "a", count: 40) + "\r\nX-B: " + String(repeating: "b", count: 40) + "\r\n\r\n")
        #expect(decodeBody(big, framing: .chunked, maxTrailerBytes: 64).error == .trailersTooLarge)
        #expect(decodeBody(big, framing: .chunked, cuts: Array(0..<big.count), maxTrailerBytes: 64).error == .trailersTooLarge)
        // No trailers allowed at all: the empty trailer section still ends the body.
        #expect(decodeBody(CodecCorpus.b("0\r\n\r\n"), framing: .chunked, maxTrailerBytes: 0).ended)
        #expect(decodeBody(CodecCorpus.b("0\r\nX: 1\r\n\r\n"), framing: .chunked, maxTrailerBytes: 0).error == .trailersTooLarge)
    }

    @Test func aLoneCRAfterDataWaitsAndAnythingElseFails() {
        #expect(decodeBody(CodecCorpus.b("1\r\nx\r"), framing: .chunked).error == nil)
        #expect(decodeBody(CodecCorpus.b("1\r\nxy"), framing: .chunked).error == .invalidChunk)
        #expect(decodeBody(CodecCorpus.b("1\r\nx\rx"), framing: .chunked).error == .invalidChunk)
        #expect(decodeBody(CodecCorpus.b("1\r\nx\n"), framing: .chunked).error == .invalidChunk)
    }
}

@Suite struct CodecContentLengthDecoderTests {
    @Test func stopsExactlyAtTheLengthLeavingPipelinedBytes() {
        let body = Array(0..<200).map { UInt8($0) }
        let next = CodecCorpus.get(target: "/next")
        let whole = decodeBody(body + next, framing: .contentLength(200))
        #expect(whole.ended && whole.body == body && whole.rest == next)
        let sliced = decodeBody(body + next, framing: .contentLength(200), cuts: Array(0..<(body.count + next.count)))
        #expect(sliced.ended && sliced.body == body && sliced.rest == next)
    }

    @Test func shortBodyWaits() {
        let partial = decodeBody(CodecCorpus.b("abc"), framing: .contentLength(5))
        #expect(!partial.ended && partial.error == nil && partial.body == CodecCorpus.b("abc"))
    }

    @Test func noBodyEndsAtOnce() {
        let none = decodeBody(CodecCorpus.b("GET"), framing: .none)
        #expect(none.ended && none.body.isEmpty && none.rest == CodecCorpus.b("GET"))
        #expect(decodeBody([], framing: .contentLength(0)).ended)
    }
}

@Suite struct CodecChunkedEncoderTests {
    @Test func encodedBodiesDecodeBackToTheOriginal() {
        var rng = SplitMix64(seed: 7)
        for _ in 0..<100 {
            let pieces = (0..<Int.random(in: 0...8, using: &rng)).map { _ in
                (0..<Int.random(in: 0...5000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            }
            let wire = HTTP1Conformance.chunkedEncode(pieces)
            let decoded = decodeBody(wire, framing: .chunked)
            #expect(decoded.ended && decoded.error == nil && decoded.rest.isEmpty)
            #expect(decoded.body == pieces.flatMap { $0 })
        }
    }

    @Test func framingBytes() {
        let allocator = ByteBufferAllocator()
        var encoder = ChunkedEncoder()
        #expect(String(buffer: encoder.framing(beforeChunkOf: 1, allocator: allocator)) == "1\r\n")
        #expect(String(buffer: encoder.framing(beforeChunkOf: 255, allocator: allocator)) == "\r\nff\r\n")
        #expect(String(buffer: encoder.framing(beforeChunkOf: 4096, allocator: allocator)) == "\r\n1000\r\n")
        #expect(String(buffer: encoder.finish(allocator: allocator)) == "\r\n0\r\n\r\n")
        var empty = ChunkedEncoder()
        #expect(String(buffer: empty.finish(allocator: allocator)) == "0\r\n\r\n")
        for value in [1, 15, 16, 17, 255, 256, 65_535, Int(Int32.max), Int.max] {
            var buffer = ByteBuffer()
            ChunkedEncoder.writeHex(value, into: &buffer)
            #expect(String(buffer: buffer) == String(value, radix: 16))
        }
    }
}
