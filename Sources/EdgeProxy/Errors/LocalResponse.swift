public import NIOCore

/// A response the edge writes itself: errors (one JSON shape everywhere), health, preflights, and
/// whatever local handlers answer (the portal's JSON APIs, pages and assets).
///
/// Error bodies are `{"error": {"code", "message", "type", …details}}` — the shape SDKs already parse.
public struct LocalResponse: Sendable {
    public var status: Int
    public var contentType: String = "application/json"
    public var body: ByteBuffer
    /// `Cache-Control`; API answers are never cached.
    public var cacheControl: String = "no-store"
    public var extraHeaders: [(String, String)] = []
    /// Complete header lines added by the exchange's filters (CORS, rate limits, security headers).
    var extraLines: ByteBuffer? = nil

    public init(status: Int, contentType: String = "application/json", body: ByteBuffer, headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.extraHeaders = headers
    }

    public init(status: Int, contentType: String = "application/json", body: String, headers: [(String, String)] = []) {
        self.init(status: status, contentType: contentType, body: ByteBuffer(string: body), headers: headers)
    }

    private static let noSniffName = Array("x-content-type-options".utf8)

    /// Whether the responder's headers or the filters' lines set the header `name` (lower case).
    private func setsHeader(_ name: [UInt8]) -> Bool {
        if extraHeaders.contains(where: { $0.0.utf8.elementsEqual(name, by: { $0 | 0x20 == $1 | 0x20 }) }) { return true }
        guard let lines = extraLines else { return false }
        return lines.withUnsafeReadableBytes { raw in
            name.withUnsafeBytes { HeadRewriter.lines(raw, name: $0, 0, $0.count) }
        }
    }

    /// Writes the filters' lines, except those naming a header the responder set itself (a page's
    /// own Content-Security-Policy, an account bucket's RateLimit-*): the responder's value wins.
    private func writeFilterLines(_ lines: ByteBuffer, into buffer: inout ByteBuffer) {
        guard !extraHeaders.isEmpty else {
            buffer.writeImmutableBuffer(lines)
            return
        }
        lines.withUnsafeReadableBytes { raw in
            var start = 0
            while start < raw.count {
                let end = (raw[start...].firstIndex(of: HTTPBytes.lf) ?? raw.count - 1) + 1
                let colon = raw[start..<end].firstIndex(of: UInt8(ascii: ":")) ?? end
                let name = UnsafeRawBufferPointer(rebasing: raw[start..<colon])
                let replaced = extraHeaders.contains { $0.0.utf8.elementsEqual(name, by: { $0 | 0x20 == $1 | 0x20 }) }
                if !replaced { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[start..<end])) }
                start = end
            }
        }
    }

    /// The body as text (error bodies are UTF-8 JSON).
    var bodyText: String { String(buffer: body) }

    /// Whether the status forbids content (204, 304): no body, no Content-Type or Content-Length.
    var hasNoContent: Bool { status == 204 || status == 304 }

    /// A JSON error with the given status and code. `details` are extra members of `error` (numbers or strings).
    public static func error(status: Int, code: String, message: String, details: [(String, JSONScalar)] = [],
                             headers: [(String, String)] = []) -> LocalResponse {
        var json = "{\"error\":{\"code\":"
        json += jsonString(code)
        json += ",\"message\":"
        json += jsonString(message)
        json += ",\"type\":"
        json += jsonString(errorType(status: status))
        for (key, value) in details {
            json += ",\(jsonString(key)):"
            switch value {
            case .int(let n): json += String(n)
            case .string(let s): json += jsonString(s)
            }
        }
        json += "}}"
        return LocalResponse(status: status, body: json, headers: headers)
    }

    static func error(_ e: HTTPHeadError) -> LocalResponse {
        error(status: e.status, code: e.code.description, message: e.message.description)
    }

    /// The `type` member: who is at fault, in the vocabulary of OpenAI-style SDKs.
    static func errorType(status: Int) -> String {
        switch status {
        case 401: return "authentication_error"
        case 402: return "billing_error"
        case 403: return "permission_error"
        case 429: return "rate_limit_error"
        case 400..<500: return "invalid_request_error"
        case 502, 504: return "upstream_error"
        default: return "api_error"
        }
    }

    /// Serialises the whole response (head and body) into one buffer.
    func encode(requestID: RequestID, closeConnection: Bool, isHEAD: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256 + body.readableBytes)
        buffer.writeStaticString("HTTP/1.1 ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(Self.reasonPhrase(status))
        if !hasNoContent {
            buffer.writeStaticString("\r\nContent-Type: ")
            buffer.writeString(contentType)
            buffer.writeStaticString("\r\nContent-Length: ")
            buffer.writeString(String(body.readableBytes))
        }
        buffer.writeStaticString("\r\nCache-Control: ")
        buffer.writeString(cacheControl)
        if !setsHeader(Self.noSniffName) { buffer.writeStaticString("\r\nX-Content-Type-Options: nosniff") }
        buffer.writeStaticString("\r\nX-Request-Id: ")
        requestID.write(into: &buffer)
        buffer.writeStaticString("\r\n")
        for (name, value) in extraHeaders {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if let lines = extraLines { writeFilterLines(lines, into: &buffer) }
        if closeConnection { buffer.writeStaticString("Connection: close\r\n") }
        buffer.writeStaticString("\r\n")
        if !isHEAD && !hasNoContent { buffer.writeImmutableBuffer(body) }
        return buffer
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 204: return "No Content"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 402: return "Payment Required"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 413: return "Content Too Large"
        case 417: return "Expectation Failed"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(status)"
        }
    }

    /// Escapes a string as a JSON string literal.
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// A number or string detail in a JSON error body (e.g. `required`, `balance`).
public enum JSONScalar: Sendable {
    case int(Int64)
    case string(String)
}
