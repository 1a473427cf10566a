public import NIOCore

/// A read-only view of the request head for filters: method, path and headers as views into the
/// received bytes, so a filter pays for a `String` only when it asks for one.
public struct EdgeRequest {
    let head: RequestHead

    /// The method (upper case) as text.
    public var method: String { head.methodString }
    /// The path (without the query) as text.
    public var path: String {
        String(buffer: head.bytes.getSlice(at: head.bytes.readerIndex + head.targetStart, length: head.pathEnd - head.targetStart)!)
    }

    /// The query (after `?`, without it) as text, or nil when the target has none.
    public var query: String? {
        guard head.targetEnd > head.pathEnd + 1 else { return nil }
        return String(buffer: head.bytes.getSlice(at: head.bytes.readerIndex + head.pathEnd + 1, length: head.targetEnd - head.pathEnd - 1)!)
    }

    /// The first value of the header `name` as text, or nil.
    public func headerString(_ name: String) -> String? { header(name).map { String(buffer: $0) } }

    /// The first value of the header `name` (case-insensitive) as a slice of the head, or nil.
    public func header(_ name: String) -> ByteBuffer? {
        let lower = Array(name.lowercased().utf8)
        return head.withBytes { b -> ByteBuffer? in
            for f in head.fields where Int(f.nameEnd - f.nameStart) == lower.count {
                var same = true
                for k in 0..<lower.count where b[Int(f.nameStart) + k] | 0x20 != lower[k] | 0x20 {
                    same = false
                    break
                }
                if same {
                    return head.bytes.getSlice(at: head.bytes.readerIndex + Int(f.valueStart), length: Int(f.valueEnd - f.valueStart))
                }
            }
            return nil
        }
    }

    /// The value of `Authorization: Bearer <token>` as a slice, or nil.
    public var bearerToken: ByteBuffer? {
        for f in head.fields where f.known == .authorization {
            let start = head.bytes.readerIndex + Int(f.valueStart)
            let length = Int(f.valueEnd - f.valueStart)
            guard length > 7, let value = head.bytes.getSlice(at: start, length: length) else { return nil }
            let isBearer = value.withUnsafeReadableBytes { b in HTTPBytes.hasLowercasePrefix(b, 0, b.count, "bearer ") }
            guard isBearer else { return nil }
            var token = value.getSlice(at: value.readerIndex + 7, length: length - 7)!
            while token.readableBytes > 0, token.getInteger(at: token.readerIndex, as: UInt8.self) == HTTPBytes.sp {
                token.moveReaderIndex(forwardBy: 1)
            }
            return token
        }
        return nil
    }

    /// The value of the cookie `name`, or nil (the first match across Cookie headers).
    public func cookie(_ name: String) -> String? {
        for f in head.fields where f.known == .cookie {
            guard let value = head.bytes.getSlice(at: head.bytes.readerIndex + Int(f.valueStart), length: Int(f.valueEnd - f.valueStart)) else { continue }
            for pair in String(buffer: value).split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let eq = trimmed.firstIndex(of: "="), trimmed[..<eq] == name else { continue }
                return String(trimmed[trimmed.index(after: eq)...])
            }
        }
        return nil
    }

    /// Whether the request carries any Cookie header.
    public var hasCookie: Bool { head.fields.contains { $0.known == .cookie } }
}
