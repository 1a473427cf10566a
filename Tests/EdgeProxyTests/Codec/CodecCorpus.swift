@testable import EdgeProxy
import NIOCore
import Testing

/// The codec's test inputs, shared by the per-rule unit tests, the differential test against
/// NIOHTTP1 and the fuzzer's seed corpus (Tests/Fuzz/corpus/, kept in sync by `FuzzCorpusTests`).
enum CodecCorpus {
    /// What the strict request parser must do with a case's bytes.
    enum Expected: Sendable, Equatable {
        /// The head is accepted.
        case accept
        /// The head is refused with this status and error code.
        case reject(Int, String)
    }

    /// One request input and the rule it exercises.
    struct RequestCase: Sendable, CustomTestStringConvertible {
        /// Stable, file-name-safe name (also the seed file's name).
        let name: String
        let input: [UInt8]
        let expected: Expected
        var testDescription: String { name }
    }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// "GET / HTTP/1.1" with a Host, then `lines` (each without CRLF), then the empty line.
    static func get(_ lines: String..., target: String = "/", method: String = "GET", version: String = "HTTP/1.1") -> [UInt8] {
        var s = "\(method) \(target) \(version)\r\nHost: example.com\r\n"
        for line in lines { s += line + "\r\n" }
        return b(s + "\r\n")
    }

    /// A request line and `lines` verbatim (no Host added), then the empty line.
    static func raw(_ requestLine: String, _ lines: String...) -> [UInt8] {
        var s = requestLine + "\r\n"
        for line in lines { s += line + "\r\n" }
        return b(s + "\r\n")
    }

    /// A head with one header line whose value contains `byte` between "a" and "b".
    static func valueWith(_ byte: UInt8) -> [UInt8] {
        b("GET / HTTP/1.1\r\nHost: example.com\r\nX-Test: a") + [byte] + b("b\r\n\r\n")
    }

    /// A head with one header line whose name contains `byte` between "X" and "Y".
    static func nameWith(_ byte: UInt8) -> [UInt8] {
        b("GET / HTTP/1.1\r\nHost: example.com\r\nX") + [byte] + b("Y: 1\r\n\r\n")
    }

    static let malformedLine = Expected.reject(400, "malformed_request_line")
    static let badVersion = Expected.reject(400, "unsupported_http_version")
    static let notImplemented = Expected.reject(501, "method_not_implemented")
    static let bareLineBreak = Expected.reject(400, "bad_line_break")
    static let obsFold = Expected.reject(400, "obsolete_line_folding")
    static let badName = Expected.reject(400, "invalid_header_name")
    static let badValue = Expected.reject(400, "invalid_header_value")
    static let missingHost = Expected.reject(400, "missing_host")
    static let duplicateHost = Expected.reject(400, "duplicate_host")
    static let badHost = Expected.reject(400, "invalid_host")
    static let badLength = Expected.reject(400, "invalid_content_length")
    static let conflictingLength = Expected.reject(400, "conflicting_content_length")
    static let ambiguous = Expected.reject(400, "ambiguous_framing")
    static let badTE = Expected.reject(400, "unsupported_transfer_encoding")
    static let tooLarge = Expected.reject(431, "headers_too_large")
    static let tooMany = Expected.reject(431, "too_many_headers")
    static let badPath = Expected.reject(400, "invalid_path")
    static let expectationFailed = Expected.reject(417, "expectation_failed")

    /// The request line: exactly `METHOD SP request-target SP HTTP/1.1|HTTP/1.0 CRLF`.
    static let requestLine: [RequestCase] = [
        .init(name: "rl-double-space-after-method", input: raw("GET  / HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-double-space-before-version", input: raw("GET /  HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-trailing-space", input: raw("GET / HTTP/1.1 ", "Host: a"), expected: malformedLine),
        .init(name: "rl-leading-space", input: raw(" GET / HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-tab-separator", input: raw("GET\t/ HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-missing-version", input: raw("GET /", "Host: a"), expected: malformedLine),
        .init(name: "rl-missing-target", input: raw("GET HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-no-method", input: raw("/ HTTP/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-http09", input: b("GET /\r\n"), expected: malformedLine),
        .init(name: "rl-http09-then-blank", input: b("GET /\r\n\r\n"), expected: malformedLine),
        .init(name: "rl-http2", input: raw("GET / HTTP/2.0", "Host: a"), expected: badVersion),
        .init(name: "rl-http12", input: raw("GET / HTTP/1.2", "Host: a"), expected: badVersion),
        .init(name: "rl-http09-versioned", input: raw("GET / HTTP/0.9", "Host: a"), expected: badVersion),
        .init(name: "rl-lowercase-version", input: raw("GET / http/1.1", "Host: a"), expected: malformedLine),
        .init(name: "rl-short-version", input: raw("GET / HTTP/1", "Host: a"), expected: malformedLine),
        .init(name: "rl-long-version", input: raw("GET / HTTP/1.10", "Host: a"), expected: malformedLine),
        .init(name: "rl-bare-lf", input: b("GET / HTTP/1.1\nHost: a\r\n\r\n"), expected: bareLineBreak),
        .init(name: "rl-bare-cr", input: b("GET / HTTP/1.1\rHost: a\r\n\r\n"), expected: malformedLine),
        .init(name: "rl-bare-cr-in-target", input: b("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n"), expected: malformedLine),
        .init(name: "rl-nul-in-target", input: b("GET /a") + [0] + b("b HTTP/1.1\r\nHost: a\r\n\r\n"), expected: malformedLine),
        .init(name: "rl-non-ascii-target", input: b("GET /a") + [0xC3, 0xA9] + b(" HTTP/1.1\r\nHost: a\r\n\r\n"), expected: malformedLine),
        .init(name: "rl-space-in-target", input: raw("GET /a b HTTP/1.1", "Host: a"), expected: malformedLine),
    ]

    /// Only the methods the edge forwards are implemented; anything else is 501.
    static let methods: [RequestCase] = [
        .init(name: "method-unknown", input: get(method: "FOO"), expected: notImplemented),
        .init(name: "method-lowercase", input: get(method: "get"), expected: notImplemented),
        .init(name: "method-connect", input: get(target: "example.com:443", method: "CONNECT"), expected: notImplemented),
        .init(name: "method-trace", input: get(method: "TRACE"), expected: notImplemented),
        .init(name: "method-prefix", input: get(method: "GETS"), expected: notImplemented),
    ]

    /// Header lines: CRLF only, no obs-fold, token names, no whitespace before the colon, no controls.
    static let headerLines: [RequestCase] = [
        .init(name: "obs-fold-space", input: get("X-A: 1", "  2"), expected: obsFold),
        .init(name: "obs-fold-tab", input: get("X-A: 1", "\t2"), expected: obsFold),
        .init(name: "obs-fold-first-line", input: raw("GET / HTTP/1.1", " Host: a"), expected: obsFold),
        .init(name: "bare-lf-header-line", input: b("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), expected: bareLineBreak),
        .init(name: "bare-lf-end-of-head", input: b("GET / HTTP/1.1\r\nHost: a\r\n\n"), expected: bareLineBreak),
        .init(name: "bare-lf-everywhere", input: b("GET / HTTP/1.1\nHost: a\n\n"), expected: bareLineBreak),
        .init(name: "bare-cr-header-value", input: get("X: a\rb"), expected: bareLineBreak),
        .init(name: "bare-cr-end-of-head", input: b("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n\r\n"), expected: bareLineBreak),
        .init(name: "bare-cr-header-name", input: nameWith(0x0D), expected: badName),
        .init(name: "ws-before-colon-space", input: raw("GET / HTTP/1.1", "Host : a"), expected: badName),
        .init(name: "ws-before-colon-tab", input: get("X-A\t: 1"), expected: badName),
        .init(name: "name-paren", input: nameWith(UInt8(ascii: "(")), expected: badName),
        .init(name: "name-at", input: nameWith(UInt8(ascii: "@")), expected: badName),
        .init(name: "name-slash", input: nameWith(UInt8(ascii: "/")), expected: badName),
        .init(name: "name-quote", input: nameWith(UInt8(ascii: "\"")), expected: badName),
        .init(name: "name-nul", input: nameWith(0), expected: badName),
        .init(name: "name-del", input: nameWith(0x7F), expected: badName),
        .init(name: "name-non-ascii", input: nameWith(0xE9), expected: badName),
        .init(name: "name-empty", input: get(": 1"), expected: badName),
        .init(name: "name-no-colon", input: get("NoColon"), expected: badName),
        .init(name: "value-nul", input: valueWith(0x00), expected: badValue),
        .init(name: "value-soh", input: valueWith(0x01), expected: badValue),
        .init(name: "value-us", input: valueWith(0x1F), expected: badValue),
        .init(name: "value-del", input: valueWith(0x7F), expected: badValue),
        .init(name: "value-vt", input: valueWith(0x0B), expected: badValue),
        .init(name: "value-htab-allowed", input: valueWith(0x09), expected: .accept),
        .init(name: "value-obs-text-allowed", input: valueWith(0x80), expected: .accept),
        .init(name: "value-empty-allowed", input: get("X-Empty:"), expected: .accept),
        .init(name: "value-ows-trimmed", input: get("X-Ows: \t a b \t "), expected: .accept),
    ]

    /// Host: exactly one, and a valid `host[:port]`.
    static let hosts: [RequestCase] = [
        .init(name: "host-missing", input: raw("GET / HTTP/1.1", "X: 1"), expected: missingHost),
        .init(name: "host-missing-http10", input: raw("GET / HTTP/1.0"), expected: missingHost),
        .init(name: "host-repeated", input: get("Host: other.example"), expected: duplicateHost),
        .init(name: "host-repeated-same", input: get("Host: example.com"), expected: duplicateHost),
        .init(name: "host-empty", input: raw("GET / HTTP/1.1", "Host:"), expected: badHost),
        .init(name: "host-space", input: raw("GET / HTTP/1.1", "Host: a b"), expected: badHost),
        .init(name: "host-userinfo", input: raw("GET / HTTP/1.1", "Host: user@a"), expected: badHost),
        .init(name: "host-path", input: raw("GET / HTTP/1.1", "Host: a/b"), expected: badHost),
        .init(name: "host-port-letters", input: raw("GET / HTTP/1.1", "Host: a:80x"), expected: badHost),
        .init(name: "host-port-long", input: raw("GET / HTTP/1.1", "Host: a:123456"), expected: badHost),
        .init(name: "host-ipv6-unclosed", input: raw("GET / HTTP/1.1", "Host: [::1"), expected: badHost),
        .init(name: "host-ipv6-bad", input: raw("GET / HTTP/1.1", "Host: [::g]"), expected: badHost),
        .init(name: "host-comma", input: raw("GET / HTTP/1.1", "Host: a, b"), expected: badHost),
        .init(name: "host-ipv6-port", input: raw("GET / HTTP/1.1", "Host: [::1]:8443"), expected: .accept),
        .init(name: "host-name-port", input: raw("GET / HTTP/1.1", "Host: EXAMPLE.com:443"), expected: .accept),
        .init(name: "host-ipv4", input: raw("GET / HTTP/1.1", "Host: 127.0.0.1"), expected: .accept),
    ]

    /// Content-Length and Transfer-Encoding.
    static let framing: [RequestCase] = [
        .init(name: "cl-and-te", input: get("Content-Length: 5", "Transfer-Encoding: chunked", method: "POST"), expected: ambiguous),
        .init(name: "te-and-cl", input: get("Transfer-Encoding: chunked", "Content-Length: 5", method: "POST"), expected: ambiguous),
        .init(name: "cl-differing", input: get("Content-Length: 5", "Content-Length: 6", method: "POST"), expected: conflictingLength),
        .init(name: "cl-identical-repeated", input: get("Content-Length: 5", "Content-Length: 5", method: "POST") + b("hello"), expected: .accept),
        .init(name: "cl-list", input: get("Content-Length: 5, 5", method: "POST"), expected: badLength),
        .init(name: "cl-letters", input: get("Content-Length: abc", method: "POST"), expected: badLength),
        .init(name: "cl-negative", input: get("Content-Length: -1", method: "POST"), expected: badLength),
        .init(name: "cl-plus", input: get("Content-Length: +5", method: "POST"), expected: badLength),
        .init(name: "cl-hex", input: get("Content-Length: 0x5", method: "POST"), expected: badLength),
        .init(name: "cl-decimal-point", input: get("Content-Length: 1.0", method: "POST"), expected: badLength),
        .init(name: "cl-inner-space", input: get("Content-Length: 5 5", method: "POST"), expected: badLength),
        .init(name: "cl-empty", input: get("Content-Length:", method: "POST"), expected: badLength),
        .init(name: "cl-too-many-digits", input: get("Content-Length: 1000000000000000000", method: "POST"), expected: badLength),
        .init(name: "te-gzip", input: get("Transfer-Encoding: gzip", method: "POST"), expected: badTE),
        .init(name: "te-chunked-gzip", input: get("Transfer-Encoding: chunked, gzip", method: "POST"), expected: badTE),
        .init(name: "te-gzip-chunked", input: get("Transfer-Encoding: gzip, chunked", method: "POST"), expected: badTE),
        .init(name: "te-duplicated", input: get("Transfer-Encoding: chunked", "Transfer-Encoding: chunked", method: "POST"), expected: badTE),
        .init(name: "te-identity", input: get("Transfer-Encoding: identity", method: "POST"), expected: badTE),
        .init(name: "te-empty", input: get("Transfer-Encoding:", method: "POST"), expected: badTE),
        .init(name: "te-http10", input: get("Transfer-Encoding: chunked", method: "POST", version: "HTTP/1.0"), expected: badTE),
        .init(name: "te-chunked-uppercase", input: get("Transfer-Encoding: CHUNKED", method: "POST") + b("0\r\n\r\n"), expected: .accept),
    ]

    /// Head size and field count limits (the standard policy: 16 KiB, 100 fields).
    static let limits: [RequestCase] = [
        .init(name: "head-too-large", input: get("X-Big: " + String(repeating: "a", count: 16_400)), expected: tooLarge),
        .init(name: "head-too-large-incomplete", input: b("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "a", count: 16_400)), expected: tooLarge),
        // A request line that ends within the limit is judged first, however the head is cut into reads.
        .init(name: "head-too-large-bad-method", input: get("X-Big: " + String(repeating: "a", count: 16_400), method: "FOO"), expected: notImplemented),
        .init(name: "head-too-large-long-line", input: get(target: "/" + String(repeating: "a", count: 16_400), method: "FOO"), expected: tooLarge),
        .init(name: "too-many-headers", input: b("GET / HTTP/1.1\r\nHost: a\r\n" + (0..<100).map { "X-\($0): 1\r\n" }.joined() + "\r\n"), expected: tooMany),
        .init(name: "max-headers-allowed", input: b("GET / HTTP/1.1\r\nHost: a\r\n" + (0..<99).map { "X-\($0): 1\r\n" }.joined() + "\r\n"), expected: .accept),
    ]

    /// The path must be in normal form (RequestTarget); the query is opaque.
    static let paths: [RequestCase] = [
        .init(name: "path-dot", input: get(target: "/a/./b"), expected: badPath),
        .init(name: "path-dotdot", input: get(target: "/a/../b"), expected: badPath),
        .init(name: "path-dotdot-end", input: get(target: "/a/.."), expected: badPath),
        .init(name: "path-dot-start", input: get(target: "/./a"), expected: badPath),
        .init(name: "path-dotdot-before-query", input: get(target: "/a/..?x"), expected: badPath),
        .init(name: "path-double-slash-start", input: get(target: "//a"), expected: badPath),
        .init(name: "path-double-slash-inner", input: get(target: "/a//b"), expected: badPath),
        .init(name: "path-pct-2f", input: get(target: "/a%2fb"), expected: badPath),
        .init(name: "path-pct-2F", input: get(target: "/a%2Fb"), expected: badPath),
        .init(name: "path-pct-2e", input: get(target: "/%2e%2e/a"), expected: badPath),
        .init(name: "path-pct-5c", input: get(target: "/a%5cb"), expected: badPath),
        .init(name: "path-pct-00", input: get(target: "/a%00b"), expected: badPath),
        .init(name: "path-pct-invalid", input: get(target: "/a%zz"), expected: badPath),
        .init(name: "path-pct-truncated", input: get(target: "/a%4"), expected: badPath),
        .init(name: "path-backslash", input: get(target: "/a\\b"), expected: malformedLine),
        .init(name: "path-fragment", input: get(target: "/a#frag"), expected: badPath),
        .init(name: "path-query-fragment", input: get(target: "/a?x#y"), expected: badPath),
        .init(name: "path-absolute-form", input: get(target: "http://example.com/a"), expected: badPath),
        .init(name: "path-relative", input: get(target: "a/b"), expected: badPath),
        .init(name: "path-asterisk-get", input: get(target: "*"), expected: badPath),
        .init(name: "path-query-opaque", input: get(target: "/a/b?x=../y//z%2f"), expected: .accept),
        .init(name: "path-well-known", input: get(target: "/.well-known/a"), expected: .accept),
        .init(name: "path-trailing-slash", input: get(target: "/a/"), expected: .accept),
        .init(name: "path-dots-in-name", input: get(target: "/a..b/c.d"), expected: .accept),
        .init(name: "path-pct-letter", input: get(target: "/%41%7e"), expected: .accept),
        .init(name: "path-asterisk-options", input: get(target: "*", method: "OPTIONS"), expected: .accept),
    ]

    /// Expect: only 100-continue.
    static let expectations: [RequestCase] = [
        .init(name: "expect-unknown", input: get("Expect: foo"), expected: expectationFailed),
        .init(name: "expect-with-extra", input: get("Expect: 100-continue, foo", "Content-Length: 1", method: "POST"), expected: expectationFailed),
        .init(name: "expect-empty", input: get("Expect:"), expected: expectationFailed),
        .init(name: "expect-unknown-then-continue", input: get("Expect: foo", "Expect: 100-continue", "Content-Length: 1", method: "POST"), expected: expectationFailed),
        .init(name: "expect-continue", input: get("Expect: 100-Continue", "Content-Length: 5", method: "POST") + b("hello"), expected: .accept),
    ]

    /// Valid requests, including the edge cases the parser must tolerate.
    static let valid: [RequestCase] = [
        .init(name: "ok-get", input: get("User-Agent: t/1", "Accept: */*", target: "/v1/images?x=1"), expected: .accept),
        .init(name: "ok-head", input: get(method: "HEAD"), expected: .accept),
        .init(name: "ok-post-content-length", input: get("Content-Type: text/plain", "Content-Length: 5", method: "POST") + b("hello"), expected: .accept),
        .init(name: "ok-post-chunked", input: get("Transfer-Encoding: chunked", method: "POST") + b("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"), expected: .accept),
        .init(name: "ok-put-empty", input: get("Content-Length: 0", method: "PUT"), expected: .accept),
        .init(name: "ok-delete", input: get(method: "DELETE"), expected: .accept),
        .init(name: "ok-patch", input: get("Content-Length: 2", method: "PATCH") + b("{}"), expected: .accept),
        .init(name: "ok-http10", input: get(version: "HTTP/1.0"), expected: .accept),
        .init(name: "ok-http10-keep-alive", input: get("Connection: keep-alive", version: "HTTP/1.0"), expected: .accept),
        .init(name: "ok-leading-crlf", input: b("\r\n\r\n") + get(), expected: .accept),
        .init(name: "ok-pipelined", input: get(target: "/one") + get(target: "/two"), expected: .accept),
        .init(name: "ok-connection-lists", input: get("Connection: close, X-Hop", "X-Hop: 1", "X-End: 2"), expected: .accept),
        .init(name: "ok-credentials", input: get("Cookie: s=1", "Authorization: Bearer k", "X-Request-Id: abc-123", "X-Forwarded-For: 6.6.6.6"), expected: .accept),
        .init(name: "ok-short-proxy-fields", input: get("Proxy-X: 1", "proxy-: 2", "Kepe-Alive: 5"), expected: .accept),
        .init(name: "ok-hop-by-hop", input: get("Keep-Alive: 5", "Proxy-Authorization: x", "TE: trailers", "Trailer: X", "Upgrade: h2c", "Connection: Upgrade"), expected: .accept),
    ]

    static let allRequests: [RequestCase] =
        requestLine + methods + headerLines + hosts + framing + limits + paths + expectations + valid

    /// Chunked bodies (after a chunked POST head), for the decoder tests and the other harnesses.
    static let chunkedHead = get("Transfer-Encoding: chunked", method: "POST")

    struct ChunkedCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// The body's bytes on the wire (chunk framing included).
        let wire: [UInt8]
        /// The decoded body, or nil when the decoder must refuse the framing.
        let body: [UInt8]?
        /// The error expected when `body` is nil.
        let error: Expected?
        var testDescription: String { name }
    }

    static let badChunk = Expected.reject(400, "invalid_chunked_body")
    static let badTrailers = Expected.reject(431, "trailers_too_large")

    static let chunked: [ChunkedCase] = [
        .init(name: "chunk-hex-lower", wire: b("a\r\n0123456789\r\n0\r\n\r\n"), body: b("0123456789"), error: nil),
        .init(name: "chunk-hex-upper", wire: b("A\r\n0123456789\r\n0\r\n\r\n"), body: b("0123456789"), error: nil),
        .init(name: "chunk-hex-mixed", wire: b("1F\r\n" + String(repeating: "x", count: 31) + "\r\n1f\r\n" + String(repeating: "y", count: 31) + "\r\n0\r\n\r\n"),
              body: b(String(repeating: "x", count: 31) + String(repeating: "y", count: 31)), error: nil),
        .init(name: "chunk-leading-zeros", wire: b("0005\r\nhello\r\n000\r\n\r\n"), body: b("hello"), error: nil),
        .init(name: "chunk-extension", wire: b("5;name=value;flag\r\nhello\r\n0;last\r\n\r\n"), body: b("hello"), error: nil),
        .init(name: "chunk-extension-quoted", wire: b("5;n=\"a b\"\r\nhello\r\n0\r\n\r\n"), body: b("hello"), error: nil),
        .init(name: "chunk-trailers", wire: b("5\r\nhello\r\n0\r\nX-One: 1\r\nX-Two:\t2\r\n\r\n"), body: b("hello"), error: nil),
        .init(name: "chunk-empty-body", wire: b("0\r\n\r\n"), body: [], error: nil),
        .init(name: "chunk-extension-quoted-pair", wire: b("5;a=\"x\\\"y\";b=\"\"\r\nhello\r\n0\r\n\r\n"), body: b("hello"), error: nil),
        .init(name: "chunk-size-trailing-space", wire: b("5 \r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-bws", wire: b("5 ;a=b\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-space-in-value", wire: b("5;a=b c\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-double-equals", wire: b("5;a==1\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-backslash", wire: b("5;a\\1\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-empty-name", wire: b("5;=1\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-empty-value", wire: b("5;a=\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-open-quote", wire: b("5;a=\"b\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-after-quote", wire: b("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-too-long", wire: b("5;" + String(repeating: "e", count: 1100) + "\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-too-many-digits", wire: b("0000000000000005\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-missing", wire: b("\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-not-hex", wire: b("5g\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-0x", wire: b("0x5\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-negative", wire: b("-5\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-bare-lf", wire: b("5\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-size-bare-cr", wire: b("5\rhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-bare-lf", wire: b("5;a\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-extension-control", wire: b("5;a") + [0x01] + b("\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-data-no-crlf", wire: b("5\r\nhelloX\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-data-bare-lf", wire: b("5\r\nhello\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-data-too-long", wire: b("3\r\nhello\r\n0\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-no-colon", wire: b("0\r\nbad trailer\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-ws-before-colon", wire: b("0\r\nX-A : 1\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-obs-fold", wire: b("0\r\nX-A: 1\r\n 2\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-control", wire: b("0\r\nX-A: a") + [0x7F] + b("\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-bare-lf", wire: b("0\r\nX-A: 1\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-bare-cr", wire: b("0\r\nX-A: 1\r2\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-content-length", wire: b("0\r\nContent-Length: 5\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailer-transfer-encoding", wire: b("0\r\ntransfer-encoding: chunked\r\n\r\n"), body: nil, error: badChunk),
        .init(name: "chunk-last-bare-lf", wire: b("0\r\n\n"), body: nil, error: badChunk),
        .init(name: "chunk-trailers-too-large", wire: b("0\r\n" + (0..<20).map { "X-T\($0): " + String(repeating: "v", count: 500) + "\r\n" }.joined() + "\r\n"),
              body: nil, error: badTrailers),
    ]

    /// Upstream responses for the response-head parser.
    struct ResponseCase: Sendable, CustomTestStringConvertible {
        let name: String
        let input: [UInt8]
        let requestWasHEAD: Bool
        /// Expected status, or nil when the head must be refused.
        let status: Int?
        let framing: HTTP1Conformance.Framing?
        /// Expected body (bytes before `consumed`), when the head is accepted.
        let body: [UInt8]
        var testDescription: String { name }
    }

    static let responses: [ResponseCase] = [
        .init(name: "resp-ok-cl", input: b("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"), requestWasHEAD: false, status: 200, framing: .contentLength(2), body: b("hi")),
        .init(name: "resp-no-reason", input: b("HTTP/1.1 204\r\n\r\n"), requestWasHEAD: false, status: 204, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-empty-reason", input: b("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"), requestWasHEAD: false, status: 200, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-http10", input: b("HTTP/1.0 404 Not Found\r\nContent-Length: 1\r\n\r\nx"), requestWasHEAD: false, status: 404, framing: .contentLength(1), body: b("x")),
        .init(name: "resp-chunked", input: b("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), requestWasHEAD: false, status: 200, framing: .chunked, body: b("abc")),
        .init(name: "resp-close-delimited", input: b("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"), requestWasHEAD: false, status: 200, framing: .untilClose, body: b("until close")),
        .init(name: "resp-100", input: b("HTTP/1.1 100 Continue\r\n\r\n"), requestWasHEAD: false, status: 100, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-103-with-length", input: b("HTTP/1.1 103 Early Hints\r\nContent-Length: 5\r\n\r\n"), requestWasHEAD: false, status: 103, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-204-with-length", input: b("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), requestWasHEAD: false, status: 204, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-304-chunked", input: b("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), requestWasHEAD: false, status: 304, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-head-with-length", input: b("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), requestWasHEAD: true, status: 200, framing: HTTP1Conformance.Framing.none, body: []),
        .init(name: "resp-cl-and-te", input: b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-te-gzip", input: b("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-cl-differing", input: b("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-status-600", input: b("HTTP/1.1 600 Odd\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-status-2-digits", input: b("HTTP/1.1 20 OK\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-status-4-digits", input: b("HTTP/1.1 2000 OK\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-http2", input: b("HTTP/2 200 OK\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-lowercase", input: b("http/1.1 200 OK\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-bare-lf", input: b("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-reason-control", input: b("HTTP/1.1 200 O") + [0x01] + b("K\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
        .init(name: "resp-obs-fold", input: b("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\nContent-Length: 0\r\n\r\n"), requestWasHEAD: false, status: nil, framing: nil, body: []),
    ]
}
