public import NIOCore
import Policy

/// A parsed request head: the raw head bytes plus offsets into them; nothing is copied into Strings.
///
/// One instance lives per connection and is reused for every request on it (its `fields` array
/// keeps its capacity), so parsing a head allocates nothing in the steady state.
public struct RequestHead {
    /// The head's bytes, from the request line through the empty line (a slice of what was read).
    public internal(set) var bytes: ByteBuffer = ByteBuffer()
    var methodEnd = 0
    var targetStart = 0
    var targetEnd = 0
    /// End of the path within the target (start of `?query`, or `targetEnd`).
    var pathEnd = 0
    public internal(set) var isHTTP10 = false
    var fields: [HeaderField] = []
    var summary = HeaderSectionParser.Summary()
    var framing: BodyFraming = .none
    /// Whether the client expects `100 Continue` before it sends the body.
    var expectsContinue = false
    var method: HTTPMethodKind = .get

    public init() {}

    /// Drops the reference to the received bytes once the exchange is over (the offsets are reset
    /// with them, so every accessor sees an empty head until the next one is parsed).
    mutating func releaseBytes() {
        bytes = ByteBuffer()
        methodEnd = 0
        targetStart = 0
        targetEnd = 0
        pathEnd = 0
        fields.removeAll(keepingCapacity: true)
    }

    /// Whether the client asked to keep the connection open after this exchange.
    var clientKeepAlive: Bool {
        if summary.connectionClose { return false }
        return isHTTP10 ? summary.connectionKeepAlive : true
    }

    /// Calls `body` with the head's raw bytes.
    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeReadableBytes(body)
    }

    /// The method as text (for logs and tools).
    public var methodString: String { String(buffer: bytes.getSlice(at: bytes.readerIndex, length: methodEnd)!) }
    /// The request target (path and query) as text (for logs and tools).
    public var targetString: String {
        String(buffer: bytes.getSlice(at: bytes.readerIndex + targetStart, length: targetEnd - targetStart)!)
    }

    /// Value of the first header named `name` (lower-case), as text; for tools and tests.
    public func headerValue(_ name: String) -> String? {
        withBytes { b in
            for f in fields {
                let n = String(decoding: UnsafeRawBufferPointer(rebasing: b[Int(f.nameStart)..<Int(f.nameEnd)]), as: UTF8.self)
                if n.lowercased() == name {
                    return String(decoding: UnsafeRawBufferPointer(rebasing: b[Int(f.valueStart)..<Int(f.valueEnd)]), as: UTF8.self)
                }
            }
            return nil
        }
    }
}

/// The methods the edge accepts; anything else is answered 501 without being forwarded.
enum HTTPMethodKind: UInt8 {
    case get, head, post, put, delete, options, patch

    static func classify(_ b: UnsafeRawBufferPointer, _ end: Int) -> HTTPMethodKind? {
        switch end {
        case 3:
            if b[0] == UInt8(ascii: "G"), b[1] == UInt8(ascii: "E"), b[2] == UInt8(ascii: "T") { return .get }
            if b[0] == UInt8(ascii: "P"), b[1] == UInt8(ascii: "U"), b[2] == UInt8(ascii: "T") { return .put }
        case 4:
            if b[0] == UInt8(ascii: "P"), b[1] == UInt8(ascii: "O"), b[2] == UInt8(ascii: "S"), b[3] == UInt8(ascii: "T") { return .post }
            if b[0] == UInt8(ascii: "H"), b[1] == UInt8(ascii: "E"), b[2] == UInt8(ascii: "A"), b[3] == UInt8(ascii: "D") { return .head }
        case 5:
            if memEquals(b, "PATCH") { return .patch }
        case 6:
            if memEquals(b, "DELETE") { return .delete }
        case 7:
            if memEquals(b, "OPTIONS") { return .options }
        default:
            break
        }
        return nil
    }

    private static func memEquals(_ b: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let p = literal.utf8Start
        for i in 0..<literal.utf8CodeUnitCount where b[i] != p[i] { return false }
        return true
    }
}

/// Finds the end of a head in bytes received so far, remembering where it stopped between reads.
struct HeadBoundaryScanner {
    /// Bytes already searched without finding the end.
    private var scanned = 0

    mutating func reset() { scanned = 0 }

    /// Returns the head's length (through the blank line) when complete. A blank line made of a
    /// bare LF also ends the scan so the strict parser can refuse it rather than wait for more.
    mutating func findEnd(_ b: UnsafeRawBufferPointer) -> Int? {
        var i = max(scanned, 1)
        let count = b.count
        while i < count {
            if b[i] == HTTPBytes.lf {
                var j = i - 1
                if b[j] == HTTPBytes.cr {
                    if j == 0 { i += 1; continue }
                    j -= 1
                }
                if b[j] == HTTPBytes.lf { scanned = 0; return i + 1 }
            }
            i += 1
        }
        scanned = count
        return nil
    }
}

/// Strict RFC 9112 request-head parser over raw bytes.
struct RequestHeadParser {
    var maxHeaderBytes: Int
    var maxHeaderCount: Int
    var scanner = HeadBoundaryScanner()
    /// While a head is incomplete: bytes already searched for the end of its request line, or -1
    /// once that line was found and validated.
    private var requestLineScanned = 0

    init(maxHeaderBytes: Int, maxHeaderCount: Int) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
    }

    /// Outcome of offering the parser the bytes received so far.
    enum Outcome {
        /// The head is incomplete; keep the bytes and read more.
        case needMore
        /// A head was parsed into `head`; its bytes were read from the buffer.
        case complete
    }

    /// Parses one request head from `buffer` into `head`, consuming its bytes on success.
    mutating func parse(_ buffer: inout ByteBuffer, into head: inout RequestHead) throws(HTTPHeadError) -> Outcome {
        // Tolerate empty lines before a request line (RFC 9112 §2.2), as every server does.
        while buffer.readableBytes >= 2, buffer.getInteger(at: buffer.readerIndex, as: UInt16.self) == 0x0D0A {
            buffer.moveReaderIndex(forwardBy: 2)
            scanner.reset()
            requestLineScanned = 0
        }
        let headLength: Int? = buffer.withUnsafeReadableBytes { scanner.findEnd($0) }
        // A request line that ends within the size limit is judged before the limit, so the verdict
        // does not depend on how the head was cut into reads.
        guard let headLength else {
            if requestLineScanned >= 0 { try checkRequestLine(buffer) }
            if buffer.readableBytes > maxHeaderBytes { throw .headersTooLarge }
            return .needMore
        }
        guard headLength <= maxHeaderBytes else {
            if requestLineScanned >= 0 { try checkRequestLine(buffer) }
            throw .headersTooLarge
        }
        requestLineScanned = 0
        head.bytes = buffer.readSlice(length: headLength)!
        head.fields.removeAll(keepingCapacity: true)
        head.summary = HeaderSectionParser.Summary()
        try head.bytes.withUnsafeReadableBytes { (b) throws(HTTPHeadError) in
            try Self.parseRequestLine(b, into: &head)
            var lineEnd = head.targetEnd
            // request line ends with " HTTP/1.x\r\n"
            lineEnd += 11
            try HeaderSectionParser.parse(b, from: lineEnd, end: b.count, maxCount: maxHeaderCount, into: &head.fields, summary: &head.summary)
            if head.summary.connectionListsOthers { HeaderSectionParser.markConnectionListed(b, &head.fields) }
            try Self.validateHostAndFraming(b, &head)
        }
        return .complete
    }

    /// Refuses a bad request line as soon as the line is complete, without waiting for the rest of
    /// the head: an HTTP/0.9 request (`GET /\r\n`) or garbage would otherwise wait for a blank
    /// line until the header timeout. Runs only while a head spans reads (or is over the limit);
    /// each byte is searched once, and only the first `maxHeaderBytes`.
    private mutating func checkRequestLine(_ buffer: ByteBuffer) throws(HTTPHeadError) {
        let lineEnd: Int? = buffer.withUnsafeReadableBytes { b in
            let end = min(b.count, maxHeaderBytes)
            var i = min(requestLineScanned, end)
            while i < end, b[i] != HTTPBytes.lf { i += 1 }
            requestLineScanned = i
            return i < end ? i + 1 : nil
        }
        guard let lineEnd else { return }
        requestLineScanned = -1
        var scratch = RequestHead()
        try buffer.withUnsafeReadableBytes { (b) throws(HTTPHeadError) in
            try Self.parseRequestLine(UnsafeRawBufferPointer(rebasing: b[0..<lineEnd]), into: &scratch)
        }
    }

    /// Parses and validates the request line at the start of `b`. Reads nothing past the line's
    /// first LF, so the line alone gives the same verdict as the whole head.
    static func parseRequestLine(_ b: UnsafeRawBufferPointer, into head: inout RequestHead) throws(HTTPHeadError) {
        var i = 0
        let n = b.count
        while i < n, HTTPBytes.isToken(b[i]) { i += 1 }
        guard i > 0, i < n else { throw .malformedRequestLine }
        guard b[i] == HTTPBytes.sp else {
            throw (b[i] == HTTPBytes.cr || b[i] == HTTPBytes.lf) ? .malformedRequestLine : .malformedRequestLine
        }
        let methodEnd = i
        guard let method = HTTPMethodKind.classify(b, methodEnd) else { throw .methodNotImplemented }
        i += 1
        let targetStart = i
        while i < n, HTTPBytes.isTarget(b[i]) { i += 1 }
        guard i > targetStart, i < n, b[i] == HTTPBytes.sp else {
            // HTTP/0.9 ("GET /\r\n"), a missing version, or a bad character in the target.
            throw .malformedRequestLine
        }
        let targetEnd = i
        i += 1
        // Exactly "HTTP/1.1" or "HTTP/1.0" followed by CRLF. (9, not 10: b[i + 9] is read only after
        // b[i + 8] is a CR, which is never the line's last byte.)
        guard n - i >= 9,
              b[i] == UInt8(ascii: "H"), b[i + 1] == UInt8(ascii: "T"), b[i + 2] == UInt8(ascii: "T"),
              b[i + 3] == UInt8(ascii: "P"), b[i + 4] == UInt8(ascii: "/")
        else { throw .malformedRequestLine }
        let major = b[i + 5], dot = b[i + 6], minor = b[i + 7]
        guard dot == UInt8(ascii: "."), major >= UInt8(ascii: "0"), major <= UInt8(ascii: "9"),
              minor >= UInt8(ascii: "0"), minor <= UInt8(ascii: "9")
        else { throw .malformedRequestLine }
        guard b[i + 8] == HTTPBytes.cr, b[i + 9] == HTTPBytes.lf else {
            throw b[i + 8] == HTTPBytes.lf ? .bareLineBreak : .malformedRequestLine
        }
        guard major == UInt8(ascii: "1"), minor == UInt8(ascii: "1") || minor == UInt8(ascii: "0") else { throw .unsupportedVersion }

        // The target: origin-form only (and "*" for OPTIONS, which the edge answers itself).
        let target = UnsafeRawBufferPointer(rebasing: b[targetStart..<targetEnd])
        var pathEnd = targetEnd
        if target.count == 1, target[0] == UInt8(ascii: "*") {
            guard method == .options else { throw .invalidTarget }
        } else {
            switch RequestTarget.validate(target) {
            case .success(let length): pathEnd = targetStart + length
            case .failure: throw .invalidTarget
            }
        }
        head.method = method
        head.methodEnd = methodEnd
        head.targetStart = targetStart
        head.targetEnd = targetEnd
        head.pathEnd = pathEnd
        head.isHTTP10 = minor == UInt8(ascii: "0")
    }

    static func validateHostAndFraming(_ b: UnsafeRawBufferPointer, _ head: inout RequestHead) throws(HTTPHeadError) {
        let s = head.summary
        guard s.hostCount > 0 else { throw .missingHost }
        guard s.hostCount == 1 else { throw .duplicateHost }
        let host = head.fields[s.hostIndex]
        guard isValidHost(b, Int(host.valueStart), Int(host.valueEnd)) else { throw .invalidHost }
        if s.sawTransferEncoding {
            guard s.contentLength == nil else { throw .contentLengthWithTransferEncoding }
            guard !head.isHTTP10 else { throw .unsupportedTransferEncoding }
            head.framing = .chunked
        } else if let length = s.contentLength {
            head.framing = length > 0 ? .contentLength(length) : .none
        } else {
            head.framing = .none
        }
        head.expectsContinue = false
        if s.expectIndex >= 0 {
            guard !s.expectsOtherThanContinue else { throw .unsupportedExpectation }
            head.expectsContinue = !head.isHTTP10 && head.framing != .none
        }
    }

    /// host = reg-name / IPv4 / "[" IPv6 "]", optionally ":" port (RFC 9110 §7.2).
    static func isValidHost(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        guard end > start, end - start <= 255 else { return false }
        var i = start
        if b[i] == UInt8(ascii: "[") {
            i += 1
            let ipStart = i
            while i < end, b[i] != UInt8(ascii: "]") {
                let c = b[i] | 0x20
                guard (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
                        || b[i] == UInt8(ascii: ":") || b[i] == UInt8(ascii: ".")
                else { return false }
                i += 1
            }
            guard i < end, i > ipStart else { return false }
            i += 1
        } else {
            while i < end, b[i] != UInt8(ascii: ":") {
                guard HTTPBytes.isHost(b[i]) else { return false }
                i += 1
            }
            guard i > start else { return false }
        }
        if i == end { return true }
        guard b[i] == UInt8(ascii: ":") else { return false }
        i += 1
        guard end - i <= 5 else { return false }
        while i < end {
            guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return false }
            i += 1
        }
        return true
    }
}
