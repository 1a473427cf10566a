internal import NIOCore

/// A minimal JSON text builder for the stand-in's answers: cheaper than `JSONEncoder` per request, and the
/// key order is exactly the order written (so tests and humans read the same shape every time).
struct StandInJSON {
    private(set) var buffer: ByteBuffer
    private var needsComma = false

    init(allocator: ByteBufferAllocator = ByteBufferAllocator(), capacity: Int = 256) {
        self.buffer = allocator.buffer(capacity: capacity)
    }

    /// Opens an object (as a value, or at top level).
    mutating func beginObject() {
        separate()
        buffer.writeInteger(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func endObject() {
        buffer.writeInteger(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginArray() {
        separate()
        buffer.writeInteger(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endArray() {
        buffer.writeInteger(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":` inside an object; the next value call supplies the value.
    mutating func key(_ name: String) {
        separate()
        writeQuoted(name)
        buffer.writeInteger(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        writeQuoted(value)
        needsComma = true
    }

    mutating func integer(_ value: Int) {
        separate()
        buffer.writeString(String(value))
        needsComma = true
    }

    mutating func field(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    mutating func field(_ name: String, _ value: Int) {
        key(name)
        integer(value)
    }

    private mutating func separate() {
        if needsComma { buffer.writeInteger(UInt8(ascii: ",")) }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Writes a JSON string literal: `"` and `\` escaped, C0 controls as `\u00XX`, everything else as UTF-8.
    private mutating func writeQuoted(_ text: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(byte)
            case 0x0A:
                buffer.writeStaticString("\\n")
            case 0x0D:
                buffer.writeStaticString("\\r")
            case 0x09:
                buffer.writeStaticString("\\t")
            case 0x00..<0x20:
                buffer.writeStaticString("\\u00")
                buffer.writeInteger(Self.hex[Int(byte >> 4)])
                buffer.writeInteger(Self.hex[Int(byte & 0x0F)])
            default:
                buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}

extension StandInJSON {
    /// Recraft's error shape: `{"code": "...", "message": "..."}`.
    static func error(code: String, message: String) -> ByteBuffer {
        var json = StandInJSON(capacity: 64 + message.utf8.count)
        json.beginObject()
        json.field("code", code)
        json.field("message", message)
        json.endObject()
        return json.buffer
    }
}
