import EdgeProxy
import Foundation
import Testing

extension Observability {
    @Suite("Observability: access log records")
    struct AccessLogRecordTests {
        /// 2025-03-04T05:06:07.089Z
        static let fixedTime = Date(timeIntervalSince1970: 1_741_064_767.089_4)

        static func fullRecord() -> AccessLogRecord {
            AccessLogRecord(
                time: fixedTime, requestId: "req_0123", method: "POST", route: "v1_generations",
                path: "/v1/images/generations", status: 402, bytesIn: 1234, bytesOut: 99, edgeMs: 12.3456,
                upstreamMs: 10.5, userId: "usr_42", tokensCharged: 15, operation: "generate", client: "203.0.113.7",
                outcome: .local)
        }

        @Test("Every field round-trips through JSONSerialization, in a stable key order")
        func everyField() throws {
            let line = Self.fullRecord().jsonLine()
            #expect(!line.contains("\n"))
            let object = try parse(line)
            #expect(object["time"] as? String == "2025-03-04T05:06:07.089Z")
            #expect(object["requestId"] as? String == "req_0123")
            #expect(object["method"] as? String == "POST")
            #expect(object["route"] as? String == "v1_generations")
            #expect(object["path"] as? String == "/v1/images/generations")
            #expect(object["status"] as? Int == 402)
            #expect(object["bytesIn"] as? Int == 1234)
            #expect(object["bytesOut"] as? Int == 99)
            #expect(object["edgeMs"] as? Double == 12.346)
            #expect(object["upstreamMs"] as? Double == 10.5)
            #expect(object["userId"] as? String == "usr_42")
            #expect(object["tokensCharged"] as? Int == 15)
            #expect(object["operation"] as? String == "generate")
            #expect(object["client"] as? String == "203.0.113.7")
            #expect(object["outcome"] as? String == "local")
            #expect(object.count == 15)
            #expect(line.contains(#""edgeMs":12.346,"upstreamMs":10.500,"#))

            let keys = [
                "time", "requestId", "method", "route", "path", "status", "bytesIn", "bytesOut", "edgeMs", "upstreamMs",
                "userId", "tokensCharged", "operation", "client", "outcome",
            ]
            let positions = try keys.map { key in try #require(line.range(of: "\"\(key)\":")?.lowerBound) }
            #expect(positions == positions.sorted())
        }

        @Test("Absent optional fields are null, so every line has the same members")
        func nulls() throws {
            let record = AccessLogRecord(
                time: Self.fixedTime, requestId: "r", method: "GET", route: nil, path: "/nowhere", status: 404,
                bytesIn: 0, bytesOut: 120, edgeMs: 0.2, client: "::1", outcome: .local)
            let object = try parse(record.jsonLine())
            #expect(object.count == 15)
            for key in ["route", "upstreamMs", "userId", "tokensCharged", "operation"] {
                #expect(object[key] is NSNull, "\(key) should be null")
            }
            #expect(record.jsonLine().contains(#""edgeMs":0.200,"#))
        }

        @Test("Quotes, backslashes, newlines and control characters are escaped; non-ASCII passes through")
        func escaping() throws {
            let nasty = "a\"b\\c\nd\re\tf\u{01}g\u{1F}h\u{08}\u{0C}é日本🦊\u{7F}"
            let record = AccessLogRecord(
                time: Self.fixedTime, requestId: nasty, method: "GET\r\nX-Injected: 1", route: "r", path: "/p\"q",
                status: 200, bytesIn: 0, bytesOut: 0, edgeMs: 1, userId: nasty, client: "c", outcome: .forwarded)
            let line = record.jsonLine()
            #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\t"))
            #expect(line.contains(#"\u0001"#) && line.contains(#"\u001f"#) && line.contains(#"\b\f"#))
            #expect(line.contains("é日本🦊"))
            let object = try parse(line)
            #expect(object["requestId"] as? String == nasty)
            #expect(object["userId"] as? String == nasty)
            #expect(object["method"] as? String == "GET\r\nX-Injected: 1")
            #expect(object["path"] as? String == "/p\"q")
        }

        @Test("The query string and fragment never reach the log")
        func queryStripped() throws {
            let record = AccessLogRecord(
                time: Self.fixedTime, requestId: "r", method: "GET", route: "r",
                path: "/v1/files?api_key=sk-secret&password=hunter2", status: 200, bytesIn: 0, bytesOut: 0, edgeMs: 1,
                client: "c", outcome: .forwarded)
            #expect(record.path == "/v1/files")
            let line = record.jsonLine()
            #expect(!line.contains("secret") && !line.contains("hunter2") && !line.contains("?"))
            #expect(try parse(line)["path"] as? String == "/v1/files")
            #expect(AccessLogRecord.pathWithoutQuery("/a#frag?x") == "/a")
            #expect(AccessLogRecord.pathWithoutQuery("?only") == "")
            #expect(AccessLogRecord.pathWithoutQuery("/plain") == "/plain")
        }

        @Test("Timestamps are RFC 3339 UTC with milliseconds, matching ISO8601DateFormatter")
        func timestamps() throws {
            func time(_ seconds: Double) throws -> String {
                let record = AccessLogRecord(
                    time: Date(timeIntervalSince1970: seconds), requestId: "r", method: "GET", route: nil, path: "/",
                    status: 200, bytesIn: 0, bytesOut: 0, edgeMs: 0, client: "c", outcome: .local)
                return try #require(parse(record.jsonLine())["time"] as? String)
            }
            #expect(try time(0) == "1970-01-01T00:00:00.000Z")
            #expect(try time(-0.001) == "1969-12-31T23:59:59.999Z")
            #expect(try time(1.001) == "1970-01-01T00:00:01.001Z")
            #expect(try time(1_709_251_199.999) == "2024-02-29T23:59:59.999Z")
            #expect(try time(951_782_400) == "2000-02-29T00:00:00.000Z")
            #expect(try time(4_102_444_800) == "2100-01-01T00:00:00.000Z")

            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            formatter.timeZone = TimeZone(identifier: "UTC")
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<500 {
                // 0.4 ms into a millisecond, so truncating and rounding formatters agree.
                let milliseconds = Double(Int64.random(in: -2_000_000_000_000...5_000_000_000_000, using: &generator)) + 0.4
                let expected = formatter.string(from: Date(timeIntervalSince1970: milliseconds / 1000))
                #expect(try time(milliseconds / 1000) == expected)
            }
        }
    }
}

/// Parses one JSON line as an object.
private func parse(_ line: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(value as? [String: Any])
}
