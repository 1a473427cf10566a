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
            if b[i] == UInt8(ascii: ";") || b[i] == HTTPBytes.sp || b[i] == HTTPBytes.htab {
                // Extensions: ignored, but must be printable; bounded by maxChunkLineBytes.
                while i < limit, b[i] != HTTPBytes.cr {
                    guard HTTPBytes.isFieldValue(b[i]) else { throw b[i] == HTTPBytes.lf ? .invalidChunk : .invalidChunk }
                    i += 1
                }
                if i == limit { return b.count >= maxChunkLineBytes ? .some(nil) : nil }
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
