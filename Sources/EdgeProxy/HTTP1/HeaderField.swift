/// Header names the proxy acts on, recognised once while the head is scanned.
enum KnownHeader: UInt8 {
    case other
    case host, contentLength, transferEncoding, connection, keepAlive, proxyPrefixed, te, trailer, upgrade
    case cookie, authorization, expect, origin, referer, contentType
    case xRequestID, xForwardedFor, xForwardedProto, xTokensPrefixed

    /// Hop-by-hop per RFC 9110 §7.6.1 (plus Proxy-*): never forwarded in either direction.
    var isHopByHop: Bool {
        switch self {
        case .connection, .keepAlive, .proxyPrefixed, .te, .trailer, .upgrade, .transferEncoding: return true
        default: return false
        }
    }

    static func classify(_ b: UnsafeRawBufferPointer, _ s: Int, _ e: Int) -> KnownHeader {
        switch e - s {
        case 2: return HTTPBytes.equalsLowercase(b, s, e, "te") ? .te : .other
        case 4: return HTTPBytes.equalsLowercase(b, s, e, "host") ? .host : .other
        case 6:
            // No early `.other` here or for 7: "Proxy-" and "Proxy-X" must reach the prefix check.
            if HTTPBytes.equalsLowercase(b, s, e, "cookie") { return .cookie }
            if HTTPBytes.equalsLowercase(b, s, e, "expect") { return .expect }
            if HTTPBytes.equalsLowercase(b, s, e, "origin") { return .origin }
        case 7:
            if HTTPBytes.equalsLowercase(b, s, e, "trailer") { return .trailer }
            if HTTPBytes.equalsLowercase(b, s, e, "upgrade") { return .upgrade }
            if HTTPBytes.equalsLowercase(b, s, e, "referer") { return .referer }
        case 10:
            if HTTPBytes.equalsLowercase(b, s, e, "connection") { return .connection }
            if HTTPBytes.equalsLowercase(b, s, e, "keep-alive") { return .keepAlive }
        case 12:
            if HTTPBytes.equalsLowercase(b, s, e, "x-request-id") { return .xRequestID }
            if HTTPBytes.equalsLowercase(b, s, e, "content-type") { return .contentType }
        case 13: if HTTPBytes.equalsLowercase(b, s, e, "authorization") { return .authorization }
        case 14: if HTTPBytes.equalsLowercase(b, s, e, "content-length") { return .contentLength }
        case 15: if HTTPBytes.equalsLowercase(b, s, e, "x-forwarded-for") { return .xForwardedFor }
        case 17:
            if HTTPBytes.equalsLowercase(b, s, e, "transfer-encoding") { return .transferEncoding }
            if HTTPBytes.equalsLowercase(b, s, e, "x-forwarded-proto") { return .xForwardedProto }
        default: break
        }
        if HTTPBytes.hasLowercasePrefix(b, s, e, "proxy-") { return .proxyPrefixed }
        if HTTPBytes.hasLowercasePrefix(b, s, e, "x-tokens-") { return .xTokensPrefixed }
        return .other
    }
}

/// One header line of a parsed head, as offsets into the head's bytes (no String is made).
struct HeaderField {
    /// Offset of the name's first byte.
    var nameStart: Int32
    var nameEnd: Int32
    /// Offsets of the value with surrounding whitespace trimmed.
    var valueStart: Int32
    var valueEnd: Int32
    var known: KnownHeader
    /// Set when a `Connection` header names this field: it is hop-by-hop for this message.
    var listedInConnection: Bool = false
}

/// Framing of a message body as declared by its head.
enum BodyFraming: Equatable {
    case none
    case contentLength(Int64)
    case chunked
    /// Responses only: the body ends when the upstream closes.
    case untilClose
}

/// Parses the header section shared by requests and responses: strict RFC 9112 §5.
enum HeaderSectionParser {
    /// Facts gathered while parsing, used for framing and rewriting.
    struct Summary {
        var contentLength: Int64? = nil
        var sawTransferEncoding = false
        var transferEncodingChunked = false
        var hostCount = 0
        var hostIndex = -1
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionListsOthers = false
        var expectIndex = -1
        /// Some `Expect` field (not necessarily the last) asks for something other than 100-continue.
        var expectsOtherThanContinue = false
    }

    /// Parses header lines from `start` up to and including the empty line; `end` is the head's length.
    static func parse(
        _ b: UnsafeRawBufferPointer, from start: Int, end: Int, maxCount: Int,
        into fields: inout [HeaderField], summary: inout Summary
    ) throws(HTTPHeadError) {
        var i = start
        while true {
            guard i < end else { throw .bareLineBreak }
            let first = b[i]
            if first == HTTPBytes.cr {
                guard i + 1 < end, b[i + 1] == HTTPBytes.lf else { throw .bareLineBreak }
                return
            }
            if first == HTTPBytes.lf { throw .bareLineBreak }
            if first == HTTPBytes.sp || first == HTTPBytes.htab { throw .obsFold }
            // Name: token characters up to ':'.
            let nameStart = i
            while i < end, HTTPBytes.isToken(b[i]) { i += 1 }
            guard i < end else { throw .bareLineBreak }
            let nameEnd = i
            if b[i] != HTTPBytes.colon {
                if b[i] == HTTPBytes.sp || b[i] == HTTPBytes.htab { throw .whitespaceBeforeColon }
                if b[i] == HTTPBytes.cr || b[i] == HTTPBytes.lf { throw .invalidHeaderName }
                throw .invalidHeaderName
            }
            guard nameEnd > nameStart else { throw .invalidHeaderName }
            i += 1
            while i < end, b[i] == HTTPBytes.sp || b[i] == HTTPBytes.htab { i += 1 }
            let valueStart = i
            var valueEnd = i
            while i < end {
                let c = b[i]
                if c == HTTPBytes.cr { break }
                guard HTTPBytes.isFieldValue(c) else { throw c == HTTPBytes.lf ? .bareLineBreak : .invalidHeaderValue }
                if c != HTTPBytes.sp && c != HTTPBytes.htab { valueEnd = i + 1 }
                i += 1
            }
            guard i + 1 < end, b[i + 1] == HTTPBytes.lf else { throw .bareLineBreak }
            i += 2
            guard fields.count < maxCount else { throw .tooManyHeaders }
            let known = KnownHeader.classify(b, nameStart, nameEnd)
            fields.append(HeaderField(
                nameStart: Int32(nameStart), nameEnd: Int32(nameEnd),
                valueStart: Int32(valueStart), valueEnd: Int32(valueEnd), known: known))
            try summarize(b, fields.count - 1, fields[fields.count - 1], &summary)
        }
    }

    private static func summarize(_ b: UnsafeRawBufferPointer, _ index: Int, _ f: HeaderField, _ s: inout Summary) throws(HTTPHeadError) {
        let vs = Int(f.valueStart), ve = Int(f.valueEnd)
        switch f.known {
        case .contentLength:
            guard let value = HTTPBytes.parseDecimal(b, vs, ve) else { throw .invalidContentLength }
            if let existing = s.contentLength, existing != value { throw .conflictingContentLength }
            s.contentLength = value
        case .transferEncoding:
            if s.sawTransferEncoding { throw .unsupportedTransferEncoding }
            s.sawTransferEncoding = true
            guard HTTPBytes.equalsLowercase(b, vs, ve, "chunked") else { throw .unsupportedTransferEncoding }
            s.transferEncodingChunked = true
        case .host:
            s.hostCount += 1
            s.hostIndex = index
        case .connection:
            forEachToken(b, vs, ve) { ts, te in
                if HTTPBytes.equalsLowercase(b, ts, te, "close") {
                    s.connectionClose = true
                } else if HTTPBytes.equalsLowercase(b, ts, te, "keep-alive") {
                    s.connectionKeepAlive = true
                } else {
                    s.connectionListsOthers = true
                }
            }
        case .expect:
            s.expectIndex = index
            if !HTTPBytes.equalsLowercase(b, vs, ve, "100-continue") { s.expectsOtherThanContinue = true }
        default:
            break
        }
    }

    /// Calls `body` with the bounds of each comma-separated, whitespace-trimmed, non-empty element.
    @inline(__always)
    static func forEachToken(_ b: UnsafeRawBufferPointer, _ start: Int, _ end: Int, _ body: (Int, Int) -> Void) {
        var i = start
        while i < end {
            while i < end, b[i] == HTTPBytes.sp || b[i] == HTTPBytes.htab || b[i] == UInt8(ascii: ",") { i += 1 }
            let ts = i
            while i < end, b[i] != UInt8(ascii: ",") { i += 1 }
            var te = i
            while te > ts, b[te - 1] == HTTPBytes.sp || b[te - 1] == HTTPBytes.htab { te -= 1 }
            if te > ts { body(ts, te) }
        }
    }

    /// Marks fields named by `Connection` tokens (other than close/keep-alive) as hop-by-hop.
    /// Every kind counts (RFC 9110 §7.6.1), known end-to-end ones such as Cookie or Content-Type
    /// included; fields the edge replaces anyway (Host, Content-Length …) are unaffected by the mark.
    static func markConnectionListed(_ b: UnsafeRawBufferPointer, _ fields: inout [HeaderField]) {
        for ci in fields.indices where fields[ci].known == .connection {
            let vs = Int(fields[ci].valueStart), ve = Int(fields[ci].valueEnd)
            forEachToken(b, vs, ve) { ts, te in
                for fi in fields.indices where fields[fi].known != .connection {
                    let ns = Int(fields[fi].nameStart), ne = Int(fields[fi].nameEnd)
                    guard ne - ns == te - ts else { continue }
                    var same = true
                    for k in 0..<(te - ts) where b[ns + k] | 0x20 != b[ts + k] | 0x20 || (b[ns + k] != b[ts + k] && !HTTPBytes.isLetter(b[ns + k])) {
                        same = false
                        break
                    }
                    if same { fields[fi].listedInConnection = true }
                }
            }
        }
    }
}
