/// Why a request or response head (or body framing) was refused; maps to one JSON error.
struct HTTPHeadError: Error, Equatable, Sendable {
    /// HTTP status sent to the client (400, 413, 431, 501 …).
    var status: Int
    /// Stable machine-readable code for the error body.
    var code: StaticString
    /// Human-readable explanation.
    var message: StaticString

    static func == (a: HTTPHeadError, b: HTTPHeadError) -> Bool {
        a.status == b.status && a.code.description == b.code.description
    }

    static let malformedRequestLine = HTTPHeadError(status: 400, code: "malformed_request_line", message: "The request line must be 'METHOD SP request-target SP HTTP/1.1'")
    static let unsupportedVersion = HTTPHeadError(status: 400, code: "unsupported_http_version", message: "Only HTTP/1.1 and HTTP/1.0 are accepted here")
    static let methodNotImplemented = HTTPHeadError(status: 501, code: "method_not_implemented", message: "This method is not supported by the gateway")
    static let bareLineBreak = HTTPHeadError(status: 400, code: "bad_line_break", message: "Lines must end with CRLF; a bare CR or LF is not allowed")
    static let obsFold = HTTPHeadError(status: 400, code: "obsolete_line_folding", message: "Header line folding (obs-fold) is not allowed")
    static let invalidHeaderName = HTTPHeadError(status: 400, code: "invalid_header_name", message: "A header name contains a character that is not a token character")
    static let whitespaceBeforeColon = HTTPHeadError(status: 400, code: "invalid_header_name", message: "Whitespace between a header name and its colon is not allowed")
    static let invalidHeaderValue = HTTPHeadError(status: 400, code: "invalid_header_value", message: "A header value contains a control character")
    static let missingHost = HTTPHeadError(status: 400, code: "missing_host", message: "The request has no Host header")
    static let duplicateHost = HTTPHeadError(status: 400, code: "duplicate_host", message: "The request has more than one Host header")
    static let invalidHost = HTTPHeadError(status: 400, code: "invalid_host", message: "The Host header is not a valid host[:port]")
    static let invalidContentLength = HTTPHeadError(status: 400, code: "invalid_content_length", message: "Content-Length must be one non-negative decimal number")
    static let conflictingContentLength = HTTPHeadError(status: 400, code: "conflicting_content_length", message: "The request has differing Content-Length values")
    static let contentLengthWithTransferEncoding = HTTPHeadError(status: 400, code: "ambiguous_framing", message: "A request must not carry both Content-Length and Transfer-Encoding")
    static let unsupportedTransferEncoding = HTTPHeadError(status: 400, code: "unsupported_transfer_encoding", message: "Only 'Transfer-Encoding: chunked' is accepted")
    static let headersTooLarge = HTTPHeadError(status: 431, code: "headers_too_large", message: "The request header section is larger than allowed")
    static let tooManyHeaders = HTTPHeadError(status: 431, code: "too_many_headers", message: "The request has more header fields than allowed")
    static let unsupportedExpectation = HTTPHeadError(status: 417, code: "expectation_failed", message: "Only 'Expect: 100-continue' is supported")
    static let invalidChunk = HTTPHeadError(status: 400, code: "invalid_chunked_body", message: "The chunked request body is malformed")
    static let chunkLineTooLong = HTTPHeadError(status: 400, code: "invalid_chunked_body", message: "A chunk-size line (with extensions) is longer than allowed")
    static let trailersTooLarge = HTTPHeadError(status: 431, code: "trailers_too_large", message: "The chunked body's trailer section is larger than allowed")
    static let bodyTooLarge = HTTPHeadError(status: 413, code: "body_too_large", message: "The request body is larger than this route allows")
    static let invalidTarget = HTTPHeadError(status: 400, code: "invalid_path", message: "The request path is not in normal form")
}
