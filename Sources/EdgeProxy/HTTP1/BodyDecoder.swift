import NIOCore
import Policy

/// Cuts a message body out of received bytes as zero-copy slices, for either framing.
///
/// Content-Length bodies are sliced as they arrive; chunked bodies are validated strictly (size
/// lines and trailers bounded, CRLF only) and yield their data without the chunk framing, so the
/// writer side can re-frame them. Trailers are validated and dropped.
struct BodyDecoder {
    /// What the decoder found next in the buffer.
    enum Event {
        /// Body bytes (a slice of the received buffer; not copied).
        case data(ByteBuffer)
        /// The bytes so far end inside framing; read more.
        case needMore
        /// The body is complete; bytes after it belong to the next message.
        case end
    }

    private enum State {
        case length(remaining: Int64)
        case chunkSize
        case chunkData(remaining: Int64)
        case chunkDataEnd
        case trailers(seen: Int)
        case untilClose
        case done
    }

    private var state: State
    let maxChunkLineBytes: Int
    let maxTrailerBytes: Int

    init(framing: BodyFraming, maxChunkLineBytes: Int, maxTrailerBytes: Int) {
        switch framing {
        case .none: state = .done
        case .contentLength(let n): state = n > 0 ? .length(remaining: n) : .done
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
        self.maxChunkLineBytes = maxChunkLineBytes
        self.maxTrailerBytes = maxTrailerBytes
    }

    var isComplete: Bool { if case .done = state { return true } else { return false } }
    var isUntilClose: Bool { if case .untilClose = state { return true } else { return false } }

    /// Returns the next event, consuming what it covers from `buffer`.
    mutating func next(_ buffer: inout ByteBuffer) throws(HTTPHeadError) -> Event {
        while true {
            switch state {
            case .done:
                return .end
            case .untilClose:
                guard buffer.readableBytes > 0 else { return .needMore }
                return .data(buffer.readSlice(length: buffer.readableBytes)!)
            case .length(let remaining):
                guard buffer.readableBytes > 0 else { return .needMore }
                let n = Int(min(Int64(buffer.readableBytes), remaining))
                let slice = buffer.readSlice(length: n)!
                state = remaining - Int64(n) == 0 ? .done : .length(remaining: remaining - Int64(n))
                return .data(slice)
            case .chunkData(let remaining):
                guard buffer.readableBytes > 0 else { return .needMore }
                let n = Int(min(Int64(buffer.readableBytes), remaining))
                let slice = buffer.readSlice(length: n)!
                state = remaining - Int64(n) == 0 ? .chunkDataEnd : .chunkData(remaining: remaining - Int64(n))
                return .data(slice)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else {
                    if buffer.readableBytes == 1, buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) != HTTPBytes.cr { throw .invalidChunk }
                    return .needMore
                }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw .invalidChunk }
                state = .chunkSize
            case .chunkSize:
                guard let size = try readChunkSizeLine(&buffer) else { return .needMore }
                state = size == 0 ? .trailers(seen: 0) : .chunkData(remaining: size)
            case .trailers(let seen):
                guard let (lineLength, isEmpty) = try readTrailerLine(&buffer, alreadySeen: seen) else { return .needMore }
                state = isEmpty ? .done : .trailers(seen: seen + lineLength)
            }
        }
    }

    /// chunk-size [ chunk-ext ] CRLF, where the extension is bounded and free of control characters.
    private func readChunkSizeLine(_ buffer: inout ByteBuffer) throws(HTTPHeadError) -> Int64? {
        let result: (Int64, Int)?? = try buffer.withUnsafeReadableBytes { (b) throws(HTTPHeadError) -> (Int64, Int)?? in
            let limit = min(b.count, maxChunkLineBytes)
            var i = 0
            var size: Int64 = 0
            var digits = 0
            while i < limit, let v = RequestTarget.hexValue(b[i]) {
                digits += 1
                guard digits <= 15 else { throw .invalidChunk }
                size = size << 4 | Int64(v)
                i += 1
            }
            if i == limit { return b.count >= maxChunkLineBytes ? .some(nil) : nil }
            guard digits > 0 else { throw .invalidChunk }
            if b[i] == UInt8(ascii: ";") {
                // Extensions: ignored, but well formed; bounded by maxChunkLineBytes.
                guard let end = try Self.scanChunkExtensions(b, from: i, limit: limit) else {
                    return b.count >= maxChunkLineBytes ? .some(nil) : nil
                }
                i = end
            }
            guard b[i] == HTTPBytes.cr else { throw .invalidChunk }
            guard i + 1 < b.count else { return nil }
            guard b[i + 1] == HTTPBytes.lf else { throw .invalidChunk }
            return .some((size, i + 2))
        }
        switch result {
        case .none: return nil
        case .some(.none): throw .chunkLineTooLong
        case .some(.some(let (size, consumed))):
            buffer.moveReaderIndex(forwardBy: consumed)
            return size
        }
    }

    /// Validates `*( ";" token [ "=" ( token / quoted-string ) ] )` from `b[start]` (a ";") and
    /// returns the offset of the CR that ends it, or nil when `limit` comes first. No whitespace
    /// anywhere (RFC 9112 §7.1.1 allows BWS around ";" and "="; llhttp, the differential oracle,
    /// refuses it, and the edge drops extensions anyway).
    private static func scanChunkExtensions(_ b: UnsafeRawBufferPointer, from start: Int, limit: Int) throws(HTTPHeadError) -> Int? {
        var i = start
        while true {
            // b[i] is ";" here.
            i += 1
            let nameStart = i
            while i < limit, HTTPBytes.isToken(b[i]) { i += 1 }
            guard i < limit else { return nil }
            guard i > nameStart else { throw .invalidChunk }
            if b[i] == UInt8(ascii: "=") {
                i += 1
                guard i < limit else { return nil }
                if b[i] == UInt8(ascii: "\"") {
                    i += 1
                    while true {
                        guard i < limit else { return nil }
                        let c = b[i]
                        i += 1
                        if c == UInt8(ascii: "\"") { break }
                        if c == UInt8(ascii: "\\") {
                            guard i < limit else { return nil }
                            guard isQuotedText(b[i]) else { throw .invalidChunk }
                            i += 1
                        } else {
                            guard isQuotedText(c) else { throw .invalidChunk }
                        }
                    }
                } else {
                    let valueStart = i
                    while i < limit, HTTPBytes.isToken(b[i]) { i += 1 }
                    guard i > valueStart else { throw .invalidChunk }
                }
                guard i < limit else { return nil }
            }
            if b[i] == HTTPBytes.cr { return i }
            guard b[i] == UInt8(ascii: ";") else { throw .invalidChunk }
        }
    }

    /// HTAB, SP, visible ASCII and obs-text: what a quoted-string may hold (quotes and
    /// backslashes are handled by the caller).
    @inline(__always) private static func isQuotedText(_ c: UInt8) -> Bool {
        c == HTTPBytes.htab || (c >= 0x20 && c != 0x7F)
    }

    /// One trailer field line (validated like a header) or the final empty line.
    private func readTrailerLine(_ buffer: inout ByteBuffer, alreadySeen: Int) throws(HTTPHeadError) -> (Int, Bool)? {
        let budget = maxTrailerBytes - alreadySeen + 2
        let found: Int? = try buffer.withUnsafeReadableBytes { (b) throws(HTTPHeadError) -> Int? in
            var i = 0
            while i < b.count, b[i] != HTTPBytes.lf {
                guard i < budget else { throw .trailersTooLarge }
                i += 1
            }
            guard i < b.count else {
                if b.count > budget { throw .trailersTooLarge }
                return nil
            }
            guard i >= 1, b[i - 1] == HTTPBytes.cr else { throw .invalidChunk }
            if i == 1 { return 2 }
            // name ":" OWS value OWS — same rules as a header line.
            var k = 0
            while k < i - 1, HTTPBytes.isToken(b[k]) { k += 1 }
            guard k > 0, b[k] == HTTPBytes.colon else { throw .invalidChunk }
            // Framing fields have no place in trailers (RFC 9110 §6.5.1); llhttp refuses them too.
            if HTTPBytes.equalsLowercase(b, 0, k, "content-length") || HTTPBytes.equalsLowercase(b, 0, k, "transfer-encoding") {
                throw .invalidChunk
            }
            k += 1
            while k < i - 1 {
                guard HTTPBytes.isFieldValue(b[k]) else { throw .invalidChunk }
                k += 1
            }
            return i + 1
        }
        guard let length = found else { return nil }
        buffer.moveReaderIndex(forwardBy: length)
        return (length, length == 2)
    }
}

/// Writes chunked framing around body slices (the slices themselves are forwarded, never copied).
///
/// The CRLF that closes one chunk is merged into the next chunk's size line, so each chunk costs
/// one small framing buffer.
struct ChunkedEncoder {
    private var chunkOpen = false

    /// The framing to write before a data slice of `length` bytes (length > 0).
    mutating func framing(beforeChunkOf length: Int, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 20)
        if chunkOpen { buffer.writeStaticString("\r\n") }
        Self.writeHex(length, into: &buffer)
        buffer.writeStaticString("\r\n")
        chunkOpen = true
        return buffer
    }

    /// The framing that ends the body: the open chunk's CRLF, the last chunk, and an empty trailer.
    mutating func finish(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 8)
        if chunkOpen { buffer.writeStaticString("\r\n") }
        buffer.writeStaticString("0\r\n\r\n")
        chunkOpen = false
        return buffer
    }

    static func writeHex(_ value: Int, into buffer: inout ByteBuffer) {
        let digits: StaticString = "0123456789abcdef"
        var shift = (Int.bitWidth - value.leadingZeroBitCount + 3) / 4 * 4 - 4
        if shift < 0 { shift = 0 }
        while shift >= 0 {
            buffer.writeInteger(digits.utf8Start[(value >> shift) & 0xF])
            shift -= 4
        }
    }
}
