/// Little helpers for the ledger's binary record layouts. Integers are stored little-endian in values
/// and big-endian in keys (so memcmp order is numeric order).
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }
    mutating func u16(_ value: UInt16) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ value: Int64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }

    /// A string with a 16-bit length prefix (callers bound the length first).
    mutating func string16(_ value: String) {
        let utf8 = Array(value.utf8.prefix(Int(UInt16.max)))
        u16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads a value written by `ByteWriter`; any overrun is reported as a corrupted record.
struct ByteReader: ~Copyable {
    private let buffer: UnsafeRawBufferPointer
    private var offset = 0
    let record: String

    init(_ buffer: UnsafeRawBufferPointer, record: String) {
        self.buffer = buffer
        self.record = record
    }

    private mutating func take(_ count: Int) throws(LedgerError) -> UnsafeRawBufferPointer {
        guard count >= 0, offset + count <= buffer.count else {
            throw LedgerError(code: .corrupted, operation: "decode \(record)", message: "record is truncated")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count])
    }

    /// Bytes not read yet.
    var remaining: Int { buffer.count - offset }

    mutating func u8() throws(LedgerError) -> UInt8 { try take(1)[0] }
    mutating func u16() throws(LedgerError) -> UInt16 { UInt16(littleEndian: try take(2).loadUnaligned(as: UInt16.self)) }
    mutating func u64() throws(LedgerError) -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }
    mutating func i64() throws(LedgerError) -> Int64 { Int64(littleEndian: try take(8).loadUnaligned(as: Int64.self)) }

    mutating func skipString16() throws(LedgerError) {
        _ = try take(Int(try u16()))
    }

    mutating func string16() throws(LedgerError) -> String {
        let count = Int(try u16())
        return String(decoding: try take(count), as: UTF8.self)
    }
}

extension UnsafeRawBufferPointer {
    /// A little-endian `Int64` at `offset` (the caller has checked the record's length).
    @inline(__always) func int64(at offset: Int) -> Int64 { Int64(littleEndian: loadUnaligned(fromByteOffset: offset, as: Int64.self)) }
    @inline(__always) func uint64(at offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    @inline(__always) func uint32(at offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    @inline(__always) func uint16(at offset: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }

    /// `count` bytes at `offset` as UTF-8 (short strings stay inline, without allocating).
    @inline(__always) func string(at offset: Int, count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: self[offset..<offset + count]), as: UTF8.self)
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always) func setInt64(_ value: Int64, at offset: Int) { storeBytes(of: value.littleEndian, toByteOffset: offset, as: Int64.self) }
    @inline(__always) func setUInt64(_ value: UInt64, at offset: Int) { storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self) }
    @inline(__always) func setUInt32(_ value: UInt32, at offset: Int) { storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self) }
    @inline(__always) func setUInt16(_ value: UInt16, at offset: Int) { storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self) }

    /// Copies at most `limit` bytes of `text`'s UTF-8 to `offset`; returns how many were written.
    @discardableResult
    func setString(_ text: String, at offset: Int, limit: Int) -> Int {
        var text = text
        return text.withUTF8 { utf8 in
            let count = Swift.min(utf8.count, limit)
            if count > 0 { (baseAddress! + offset).copyMemory(from: utf8.baseAddress!, byteCount: count) }
            return count
        }
    }
}

extension UInt64: LMDBKey {
    /// Integer keys are big-endian so that LMDB's byte order is numeric order.
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        let bigEndian = self.bigEndian
        return try withUnsafeBytes(of: bigEndian) { (bytes) throws(LedgerError) -> Result in try body(bytes) }
    }
}

extension Array: LMDBKey where Element == UInt8 {
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        // `Array.withUnsafeBytes` rethrows untyped errors; carry the typed one through a `Result`.
        let outcome = withUnsafeBytes { bytes in Swift.Result { () throws(LedgerError) -> Result in try body(bytes) } }
        return try outcome.get()
    }
}

extension String: LMDBKey {
    func withKeyBytes<Result>(_ body: (UnsafeRawBufferPointer) throws(LedgerError) -> Result) throws(LedgerError) -> Result {
        var copy = self
        let outcome = copy.withUTF8 { utf8 in Swift.Result { () throws(LedgerError) -> Result in try body(UnsafeRawBufferPointer(utf8)) } }
        return try outcome.get()
    }
}

/// The 8-byte big-endian prefix shared by every `user_keys` entry of `userId`.
func userKeyPrefix(_ userId: UInt64) -> [UInt8] { withUnsafeBytes(of: userId.bigEndian) { Array($0) } }

extension UnsafeRawBufferPointer {
    /// A big-endian `UInt64` key.
    var bigEndianUInt64: UInt64? {
        count == 8 ? UInt64(bigEndian: loadUnaligned(as: UInt64.self)) : nil
    }
}
