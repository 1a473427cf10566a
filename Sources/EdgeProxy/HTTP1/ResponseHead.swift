import NIOCore

/// A parsed upstream response head: raw bytes plus offsets, reused per upstream connection.
struct ResponseHead {
    var bytes = ByteBuffer()
    var status = 0
    var isHTTP10 = false
    /// Offsets of the reason phrase (may be empty).
    var reasonStart = 0
    var reasonEnd = 0
    var fields: [HeaderField] = []
    var summary = HeaderSectionParser.Summary()
    var framing: BodyFraming = .none

    /// Whether the upstream lets us reuse the connection after this response.
    var upstreamKeepAlive: Bool {
        if summary.connectionClose || framing == .untilClose { return false }
        return isHTTP10 ? summary.connectionKeepAlive : true
    }

    var isInterim: Bool { status >= 100 && status < 200 }
}

/// Strict parser for upstream response heads; anything it refuses becomes a 502 for the client.
struct ResponseHeadParser {
    var maxHeaderBytes: Int
    var maxHeaderCount: Int
    var scanner = HeadBoundaryScanner()

    enum Outcome {
        case needMore
        case complete
    }

    /// Parses one response head; `requestWasHEAD` decides whether a body follows.
    mutating func parse(_ buffer: inout ByteBuffer, requestWasHEAD: Bool, into head: inout ResponseHead) throws(HTTPHeadError) -> Outcome {
        let headLength: Int? = buffer.withUnsafeReadableBytes { scanner.findEnd($0) }
        guard let headLength else {
            if buffer.readableBytes > maxHeaderBytes { throw .headersTooLarge }
            return .needMore
        }
        guard headLength <= maxHeaderBytes else { throw .headersTooLarge }
        head.bytes = buffer.readSlice(length: headLength)!
        head.fields.removeAll(keepingCapacity: true)
        head.summary = HeaderSectionParser.Summary()
        try head.bytes.withUnsafeReadableBytes { (b) throws(HTTPHeadError) in
            let afterStatusLine = try Self.parseStatusLine(b, into: &head)
            try HeaderSectionParser.parse(b, from: afterStatusLine, end: b.count, maxCount: maxHeaderCount, into: &head.fields, summary: &head.summary)
            if head.summary.connectionListsOthers { HeaderSectionParser.markConnectionListed(b, &head.fields) }
        }
        let s = head.summary
        if head.isInterim || head.status == 204 || head.status == 304 || requestWasHEAD {
            head.framing = .none
        } else if s.sawTransferEncoding {
            guard s.contentLength == nil else { throw .contentLengthWithTransferEncoding }
            head.framing = .chunked
        } else if let length = s.contentLength {
            head.framing = length > 0 ? .contentLength(length) : .none
        } else {
            head.framing = .untilClose
        }
        return .complete
    }

    /// "HTTP/1.x SP 3DIGIT [SP reason] CRLF"; returns the offset after the line.
    static func parseStatusLine(_ b: UnsafeRawBufferPointer, into head: inout ResponseHead) throws(HTTPHeadError) -> Int {
        let n = b.count
        guard n >= 14,
              b[0] == UInt8(ascii: "H"), b[1] == UInt8(ascii: "T"), b[2] == UInt8(ascii: "T"), b[3] == UInt8(ascii: "P"),
              b[4] == UInt8(ascii: "/"), b[5] == UInt8(ascii: "1"), b[6] == UInt8(ascii: "."),
              b[7] == UInt8(ascii: "1") || b[7] == UInt8(ascii: "0"), b[8] == HTTPBytes.sp
        else { throw .malformedRequestLine }
        var status = 0
        for i in 9..<12 {
            let d = b[i] &- UInt8(ascii: "0")
            guard d <= 9 else { throw .malformedRequestLine }
            status = status * 10 + Int(d)
        }
        guard (100...599).contains(status) else { throw .malformedRequestLine }
        var i = 12
        var reasonStart = 12
        if b[i] == HTTPBytes.sp {
            i += 1
            reasonStart = i
            while i < n, b[i] != HTTPBytes.cr {
                guard HTTPBytes.isFieldValue(b[i]) else { throw b[i] == HTTPBytes.lf ? .bareLineBreak : .invalidHeaderValue }
                i += 1
            }
        }
        guard i + 1 < n, b[i] == HTTPBytes.cr, b[i + 1] == HTTPBytes.lf else { throw .bareLineBreak }
        head.status = status
        head.isHTTP10 = b[7] == UInt8(ascii: "0")
        head.reasonStart = reasonStart
        head.reasonEnd = i
        return i + 2
    }
}
