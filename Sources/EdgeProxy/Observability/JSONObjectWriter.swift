/// Builds one compact JSON object as UTF-8 bytes, members in the order written: the access log's encoder,
/// without Foundation's `JSONEncoder` (which allocates per value and does not keep key order).
struct JSONObjectWriter {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private(set) var bytes: [UInt8]
    private var isFirstMember = true

    init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A string member, or `null` when `value` is nil.
    mutating func string(_ key: StaticString, _ value: String?) {
        member(key)
        guard let value else { return appendNull() }
        Self.appendString(value, to: &bytes)
    }

    /// An integer member, or `null` when `value` is nil.
    mutating func integer(_ key: StaticString, _ value: Int64?) {
        member(key)
        guard let value else { return appendNull() }
        bytes.append(contentsOf: String(value).utf8)
    }

    /// A non-negative decimal with exactly three fractional digits (e.g. milliseconds to the microsecond),
    /// or `null` when `value` is nil. Negative or non-finite values are written as `0.000`.
    mutating func fixed3(_ key: StaticString, _ value: Double?) {
        member(key)
        guard let value else { return appendNull() }
        let thousandths = value.isFinite && value > 0 ? Int64(min(value * 1000, 1e15).rounded()) : 0
        bytes.append(contentsOf: String(thousandths / 1000).utf8)
        bytes.append(UInt8(ascii: "."))
        let fraction = thousandths % 1000
        if fraction < 100 { bytes.append(UInt8(ascii: "0")) }
        if fraction < 10 { bytes.append(UInt8(ascii: "0")) }
        bytes.append(contentsOf: String(fraction).utf8)
    }

    /// A member whose value `write` appends as raw JSON (it must be one valid JSON value).
    mutating func raw(_ key: StaticString, _ write: (inout [UInt8]) -> Void) {
        member(key)
        write(&bytes)
    }

    /// Closes the object and returns it as a string.
    mutating func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` as a JSON string: quote, backslash and every control character below U+0020 escaped,
    /// everything else (including non-ASCII UTF-8) copied as is.
    static func appendString(_ value: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0..<0x20:
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func member(_ key: StaticString) {
        if !isFirstMember { bytes.append(UInt8(ascii: ",")) }
        isFirstMember = false
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    private mutating func appendNull() {
        bytes.append(contentsOf: "null".utf8)
    }
}
