@testable import EdgeProxy
import NIOCore
import Testing

/// The byte classes are bit masks; each is checked against its definition, spelled out, for all 256 bytes.
@Suite struct HTTPBytesTests {
    private static func alphaNum(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
            || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }

    @Test func tokenIsTchar() {
        for b in UInt8.min...UInt8.max {
            let expected = Self.alphaNum(b) || "!#$%&'*+-.^_`|~".utf8.contains(b)
            #expect(HTTPBytes.isToken(b) == expected, "byte \(b)")
        }
    }

    @Test func fieldValueIsVcharSpaceTabOrObsText() {
        for b in UInt8.min...UInt8.max {
            let expected = (0x21...0x7E).contains(b) || b >= 0x80 || b == 0x20 || b == 0x09
            #expect(HTTPBytes.isFieldValue(b) == expected, "byte \(b)")
        }
    }

    @Test func targetIsVisibleASCIIWithoutUnsafeCharacters() {
        for b in UInt8.min...UInt8.max {
            let expected = (0x21...0x7E).contains(b) && !"\"<>\\^`{|}".utf8.contains(b)
            #expect(HTTPBytes.isTarget(b) == expected, "byte \(b)")
        }
    }

    @Test func hostIsRegNameOrIPv4WithPort() {
        for b in UInt8.min...UInt8.max {
            let expected = Self.alphaNum(b) || "-._~!$&'()*+,;=%".utf8.contains(b)
            #expect(HTTPBytes.isHost(b) == expected, "byte \(b)")
        }
    }

    @Test func generatedRequestIDIs32LowercaseHexDigitsBothWays() {
        var generator = RequestIDGenerator()
        for _ in 0..<100 {
            let id = RequestID(generatedWith: &generator)
            var buffer = ByteBuffer()
            id.write(into: &buffer)
            let text = id.description
            #expect(String(buffer: buffer) == text)
            #expect(text.utf8.count == 32)
            #expect(text.utf8.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) })
        }
    }
}
