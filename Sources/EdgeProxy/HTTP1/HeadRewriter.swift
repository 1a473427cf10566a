import NIOCore

/// Splices rewritten heads: copies the kept header lines byte for byte, drops what must not cross
/// the edge, and appends what the edge sets. Bodies never pass through here.
enum HeadRewriter {
    /// The request head sent upstream.
    ///
    /// Dropped: Host (replaced), hop-by-hop fields and those named by Connection, Content-Length
    /// and Transfer-Encoding (re-framed), Expect (the edge answers 100-continue itself),
    /// X-Request-Id / X-Forwarded-* (set by the edge, so a client cannot spoof them) and, toward an
    /// upstream with its own credential, the client's Cookie and Authorization.
    static func upstreamRequestHead(
        _ head: RequestHead, upstreamPath: [UInt8]?, endpoint: UpstreamEndpoint,
        requestID: RequestID, forwardedFor: [UInt8], heldBodyLength: Int64? = nil, allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var out = allocator.buffer(capacity: head.bytes.readableBytes + 192 + (endpoint.credentialLine?.count ?? 0))
        let stripCredentials = endpoint.stripsClientCredentials
        head.withBytes { b in
            out.writeBytes(UnsafeRawBufferPointer(rebasing: b[0..<head.methodEnd]))
            out.writeInteger(HTTPBytes.sp)
            out.writeBytes(endpoint.basePath)
            if let mapped = upstreamPath {
                out.writeBytes(mapped)
                out.writeBytes(UnsafeRawBufferPointer(rebasing: b[head.pathEnd..<head.targetEnd]))
            } else {
                out.writeBytes(UnsafeRawBufferPointer(rebasing: b[head.targetStart..<head.targetEnd]))
            }
            out.writeStaticString(" HTTP/1.1\r\n")
            out.writeBytes(endpoint.hostHeaderLine)
            var run = KeptLines()
            for field in head.fields {
                switch field.known {
                case .host, .contentLength, .expect, .xRequestID, .xForwardedFor, .xForwardedProto:
                    continue
                case .cookie where stripCredentials, .authorization where stripCredentials:
                    continue
                default:
                    if field.known.isHopByHop || field.listedInConnection { continue }
                }
                run.keep(field, b, into: &out)
            }
            run.flush(b, into: &out)
        }
        if let credential = endpoint.credentialLine { out.writeBytes(credential) }
        out.writeStaticString("X-Request-Id: ")
        requestID.write(into: &out)
        out.writeStaticString("\r\n")
        out.writeBytes(forwardedFor)
        out.writeStaticString("X-Forwarded-Proto: https\r\n")
        if let held = heldBodyLength {
            // A held body is sent whole, so its length is known even if the client sent it chunked.
            out.writeStaticString("Content-Length: ")
            writeDecimal(held, into: &out)
            out.writeStaticString("\r\n\r\n")
            return out
        }
        switch head.framing {
        case .contentLength(let n):
            out.writeStaticString("Content-Length: ")
            writeDecimal(n, into: &out)
            out.writeStaticString("\r\n")
        case .chunked:
            out.writeStaticString("Transfer-Encoding: chunked\r\n")
        case .none, .untilClose:
            switch head.method {
            case .post, .put, .patch: out.writeStaticString("Content-Length: 0\r\n")
            default: break
            }
        }
        out.writeStaticString("\r\n")
        return out
    }

    /// How the response body is framed toward the client.
    enum ClientFraming {
        case none
        case contentLength(Int64)
        case chunked
        /// HTTP/1.0 client and a close-delimited upstream body: close after it.
        case untilClose
    }

    /// Chooses the client-side framing for an upstream response.
    static func clientFraming(for response: ResponseHead, clientIsHTTP10: Bool) -> ClientFraming {
        switch response.framing {
        case .none: return .none
        case .contentLength(let n): return .contentLength(n)
        case .chunked, .untilClose: return clientIsHTTP10 ? .untilClose : .chunked
        }
    }

    /// The response head sent to the client. `extraLines` are complete `Name: value\r\n` lines.
    /// Whether the `Name: value\r\n` lines in `lines` set the header named `name[start..<end]`
    /// (letter case aside). `Vary` never counts: it is a list, and both lines are kept.
    static func lines(_ lines: UnsafeRawBufferPointer, name: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        let length = end - start
        if HTTPBytes.equalsLowercase(name, start, end, "vary") { return false }
        let count = lines.count
        var lineStart = 0
        while lineStart + length < count {
            if lines[lineStart + length] == HTTPBytes.colon {
                var k = 0
                while k < length, lines[lineStart + k] | 0x20 == name[start + k] | 0x20 { k += 1 }
                if k == length { return true }
            }
            // Next line.
            var i = lineStart
            while i < count, lines[i] != HTTPBytes.lf { i += 1 }
            lineStart = i + 1
        }
        return false
    }

    static func clientResponseHead(
        _ r: ResponseHead, framing: ClientFraming, requestID: RequestID, isHEAD: Bool,
        closeConnection: Bool, clientIsHTTP10: Bool, extraLines: ByteBuffer?, extraNames: UInt64 = ~0,
        allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        var out = allocator.buffer(capacity: r.bytes.readableBytes + 128 + (extraLines?.readableBytes ?? 0))
        withOptionalBytes(extraLines) { extra in
            r.bytes.withUnsafeReadableBytes { b in
                out.writeStaticString("HTTP/1.1 ")
                out.writeBytes(UnsafeRawBufferPointer(rebasing: b[9..<12]))
                out.writeInteger(HTTPBytes.sp)
                out.writeBytes(UnsafeRawBufferPointer(rebasing: b[r.reasonStart..<r.reasonEnd]))
                out.writeStaticString("\r\n")
                var run = KeptLines()
                for field in r.fields {
                    switch field.known {
                    case .contentLength, .xRequestID, .xTokensPrefixed: continue
                    default: if field.known.isHopByHop || field.listedInConnection { continue }
                    }
                    // A header the edge sets itself (CORS, security headers, rate limits) replaces the upstream's.
                    // `extraNames` (see `ResponseHeaderLines.nameBit`) rules most names out without a scan.
                    if let extra,
                       extraNames & ResponseHeaderLines.nameBit(first: b[Int(field.nameStart)], count: Int(field.nameEnd - field.nameStart)) != 0,
                       Self.lines(extra, name: b, Int(field.nameStart), Int(field.nameEnd)) { continue }
                    run.keep(field, b, into: &out)
                }
                run.flush(b, into: &out)
            }
        }
        switch framing {
        case .contentLength(let n):
            out.writeStaticString("Content-Length: ")
            writeDecimal(n, into: &out)
            out.writeStaticString("\r\n")
        case .chunked:
            out.writeStaticString("Transfer-Encoding: chunked\r\n")
        case .none:
            if let declared = r.summary.contentLength, isHEAD || r.status == 304 {
                out.writeStaticString("Content-Length: ")
                writeDecimal(declared, into: &out)
                out.writeStaticString("\r\n")
            } else if r.status != 204 && r.status != 304 && !isHEAD {
                out.writeStaticString("Content-Length: 0\r\n")
            }
        case .untilClose:
            break
        }
        out.writeStaticString("X-Request-Id: ")
        requestID.write(into: &out)
        out.writeStaticString("\r\n")
        if var extra = extraLines { out.writeBuffer(&extra) }
        if closeConnection {
            out.writeStaticString("Connection: close\r\n")
        } else if clientIsHTTP10 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
        out.writeStaticString("\r\n")
        return out
    }

    static func writeDecimal(_ value: Int64, into buffer: inout ByteBuffer) {
        if value < 10 {
            buffer.writeInteger(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var v = value
        withUnsafeMutableBytes(of: &digits) { d in
            while v > 0 {
                d[19 - count] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
                count += 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: d[(20 - count)...]))
        }
    }
}

/// Copies kept header lines, each as `name: value\r\n` (trailing whitespace of the value dropped),
/// with one write per run of adjacent lines instead of two writes per line: a line whose value
/// ends right at its CRLF is copied with that CRLF, and joins the run when it starts where the
/// previous kept line ended. The output is byte for byte the same as line by line.
struct KeptLines {
    private var start = 0
    private var end = 0

    mutating func keep(_ field: HeaderField, _ b: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        let nameStart = Int(field.nameStart)
        let valueEnd = Int(field.valueEnd)
        // The strict parser ends every line with CRLF, so a CR right after the value is its CRLF.
        if valueEnd < b.count, b[valueEnd] == HTTPBytes.cr {
            if end == nameStart && end > start {
                end = valueEnd + 2
            } else {
                flush(b, into: &out)
                start = nameStart
                end = valueEnd + 2
            }
            return
        }
        flush(b, into: &out)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: b[nameStart..<valueEnd]))
        out.writeStaticString("\r\n")
    }

    mutating func flush(_ b: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        guard end > start else { return }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: b[start..<end]))
        start = 0
        end = 0
    }
}
