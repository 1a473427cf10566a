internal import NIOCore
internal import NIOHTTP1

/// An answer the stand-in is about to write: the head, and a body handed out piece by piece.
struct StandInResponse {
    /// Where the body's bytes come from.
    enum Body {
        /// No body (HEAD, 204, 304, or an empty answer).
        case none
        /// A body built in memory (JSON or HTML, always small).
        case bytes(ByteBuffer)
        /// A `/download` body, generated as it is written.
        case download(StandInDownloadBody)
    }

    var head: HTTPResponseHead
    var body: Body
    /// Close the connection once the answer is written.
    var closeAfter = false

    /// A complete answer with a `Content-Length` body of `contentType`.
    init(status: HTTPResponseStatus, version: HTTPVersion, contentType: String, body: ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: contentType)
        headers.add(name: "content-length", value: String(body.readableBytes))
        self.head = HTTPResponseHead(version: version, status: status, headers: headers)
        self.body = .bytes(body)
    }

    /// A JSON answer.
    static func json(_ status: HTTPResponseStatus, version: HTTPVersion, _ body: ByteBuffer) -> StandInResponse {
        StandInResponse(status: status, version: version, contentType: "application/json", body: body)
    }

    /// A Recraft-style JSON error: `{"code": …, "message": …}`.
    static func error(
        _ status: HTTPResponseStatus, version: HTTPVersion, code: String, message: String
    ) -> StandInResponse {
        .json(status, version: version, StandInJSON.error(code: code, message: message))
    }

    /// A streamed answer whose head the caller frames.
    init(head: HTTPResponseHead, body: Body) {
        self.head = head
        self.body = body
    }

    /// Whether no body bytes remain to be written.
    var isExhausted: Bool {
        switch body {
        case .none: return true
        case .bytes(let buffer): return buffer.readableBytes == 0
        case .download(let download): return download.remaining == 0
        }
    }

    /// Whether this body's writes count towards `RecraftStandIn.downloadBytesAccepted`.
    var isDownload: Bool {
        if case .download = body { return true }
        return false
    }

    /// The next piece of at most `maxBytes`, or nil when the body is done.
    mutating func nextPiece(maxBytes: Int) -> ByteBuffer? {
        switch body {
        case .none:
            return nil
        case .bytes(var buffer):
            body = .none  // avoid a copy-on-write of the buffer while we slice it
            let piece = buffer.readSlice(length: min(maxBytes, buffer.readableBytes))
            body = buffer.readableBytes > 0 ? .bytes(buffer) : .none
            return piece
        case .download(var download):
            body = .none
            let piece = download.next(maxBytes: maxBytes)
            body = .download(download)
            return piece
        }
    }

    /// Drops the body but keeps the head's framing, as a HEAD answer must.
    mutating func dropBody() {
        body = .none
    }
}
