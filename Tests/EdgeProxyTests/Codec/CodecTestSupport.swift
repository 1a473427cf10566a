@testable import EdgeProxy
import NIOCore

/// What one offer of bytes to `RequestHeadParser` produced.
enum HeadParse {
    /// A head was parsed; `rest` are the bytes left in the buffer (the next message's).
    case complete(RequestHead, rest: [UInt8])
    case needMore
    case error(HTTPHeadError)

    var error: HTTPHeadError? {
        if case .error(let e) = self { return e }
        return nil
    }

    var head: RequestHead? {
        if case .complete(let h, _) = self { return h }
        return nil
    }

    var rest: [UInt8]? {
        if case .complete(_, let r) = self { return r }
        return nil
    }

    /// A comparable summary: verdict, error code, and for a head its bytes, fields, framing and rest.
    var fingerprint: String {
        switch self {
        case .needMore: return "needMore"
        case .error(let e): return "error \(e.status) \(e.code)"
        case .complete(let h, let rest):
            let fields = h.withBytes { b in
                h.fields.map { f in
                    "\(Array(b[Int(f.nameStart)..<Int(f.nameEnd)]))=\(Array(b[Int(f.valueStart)..<Int(f.valueEnd)]))/\(f.listedInConnection)"
                }.joined(separator: ",")
            }
            return "complete \(h.methodString) \(h.targetString) 1.\(h.isHTTP10 ? 0 : 1) \(h.framing) expect=\(h.expectsContinue) "
                + "head=\(Array(h.bytes.readableBytesView)) fields=[\(fields)] rest=\(rest)"
        }
    }
}

/// Offers `input` to a fresh parser the way the connection handler does: `cuts` split it into
/// reads, each appended to one buffer that is re-offered until a head completes or fails.
func parseHead(_ input: [UInt8], cuts: [Int] = [], maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100) -> HeadParse {
    var parser = RequestHeadParser(maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount)
    var head = RequestHead()
    var buffer = ByteBuffer()
    var start = 0
    for end in Set(cuts + [input.count]).sorted() where end > start && end <= input.count {
        buffer.writeBytes(input[start..<end])
        start = end
        guard buffer.readableBytes > 0 else { continue }
        do {
            if case .complete = try parser.parse(&buffer, into: &head) {
                // A complete head consumes only its own bytes; the rest of the input stays.
                buffer.writeBytes(input[start...])
                return .complete(head, rest: Array(buffer.readableBytesView))
            }
        } catch {
            return .error(error)
        }
    }
    return .needMore
}

/// `parseHead` with the input delivered one byte per read.
func parseHeadByteByByte(_ input: [UInt8], maxHeaderBytes: Int = 16_384, maxHeaderCount: Int = 100) -> HeadParse {
    parseHead(input, cuts: Array(0..<input.count), maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount)
}

/// What a body decoder made of some bytes.
struct BodyDecode: Equatable {
    var body: [UInt8]
    var ended: Bool
    var error: HTTPHeadError?
    /// Bytes left after the body ended (or unread when it did not).
    var rest: [UInt8]
}

/// Feeds `wire` to a `BodyDecoder` in reads cut at `cuts`, as the connection handler does.
func decodeBody(
    _ wire: [UInt8], framing: BodyFraming, cuts: [Int] = [], maxChunkLineBytes: Int = 1024, maxTrailerBytes: Int = 8192
) -> BodyDecode {
    var decoder = BodyDecoder(framing: framing, maxChunkLineBytes: maxChunkLineBytes, maxTrailerBytes: maxTrailerBytes)
    var buffer = ByteBuffer()
    var body: [UInt8] = []
    var start = 0
    // At least one read, so that a body needing no bytes (Content-Length: 0) is seen to end.
    for end in Set(cuts + [wire.count]).sorted() where (end > start || end == wire.count) && end <= wire.count {
        buffer.writeBytes(wire[start..<end])
        start = end
        reading: while true {
            let event: BodyDecoder.Event
            do {
                event = try decoder.next(&buffer)
            } catch {
                return BodyDecode(body: body, ended: false, error: error, rest: Array(buffer.readableBytesView) + wire[start...])
            }
            switch event {
            case .data(let slice): body += slice.readableBytesView
            case .needMore: break reading
            case .end: return BodyDecode(body: body, ended: true, error: nil, rest: Array(buffer.readableBytesView) + wire[start...])
            }
        }
    }
    return BodyDecode(body: body, ended: false, error: nil, rest: Array(buffer.readableBytesView))
}

/// A small deterministic PRNG (SplitMix64) so generated cases are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Array where Element == UInt8 {
    /// Printable form for failure messages: ASCII as is, everything else as \xNN.
    var escaped: String {
        var s = ""
        for c in self {
            switch c {
            case 0x0D: s += "\\r"
            case 0x0A: s += "\\n"
            case 0x09: s += "\\t"
            case 0x20...0x7E: s += String(UnicodeScalar(c))
            default: s += "\\x" + String(c, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return s
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: Swift.max(0, width - count)) + self }
}
