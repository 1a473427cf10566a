internal import Crypto
internal import NIOCore
internal import NIOHTTP1

/// Which stand-in behaviour a request gets, decided from its method and path when the head arrives.
enum StandInRoute: Equatable {
    /// `POST /v1/images/generations`: the small JSON body is parsed.
    case generations
    /// `POST /v1/images/{vectorize,removeBackground,crispUpscale,creativeUpscale}`: any body, streamed.
    case imageOperation(vector: Bool)
    /// `POST /v1/styles`.
    case styles
    /// `GET /v1/users/me`.
    case usersMe
    /// Any method on `/echo…`: describe what arrived.
    case echo
    /// `GET /download?bytes=N…`: deterministic bytes.
    case download
    /// Anything outside `/v1`: the Recraftor app's HTML page.
    case app
    /// A `/v1` path Recraft does not have.
    case notFound
    /// A known path with the wrong method; `allow` is the `Allow` header.
    case methodNotAllowed(allow: String)

    init(method: HTTPMethod, path: Substring) {
        let isRead = method == .GET || method == .HEAD
        switch path {
        case "/v1/images/generations":
            self = method == .POST ? .generations : .methodNotAllowed(allow: "POST")
        case "/v1/images/vectorize":
            self = method == .POST ? .imageOperation(vector: true) : .methodNotAllowed(allow: "POST")
        case "/v1/images/removeBackground", "/v1/images/crispUpscale", "/v1/images/creativeUpscale":
            self = method == .POST ? .imageOperation(vector: false) : .methodNotAllowed(allow: "POST")
        case "/v1/styles":
            self = method == .POST ? .styles : .methodNotAllowed(allow: "POST")
        case "/v1/users/me":
            self = isRead ? .usersMe : .methodNotAllowed(allow: "GET, HEAD")
        case "/download":
            self = isRead ? .download : .methodNotAllowed(allow: "GET, HEAD")
        default:
            if path.hasPrefix("/echo") {
                self = .echo
            } else if path == "/v1" || path.hasPrefix("/v1/") {
                self = .notFound
            } else {
                self = .app
            }
        }
    }
}

/// A request being received: its head, and its body hashed and counted as it streams by. Only a
/// generation body is kept, and only up to `jsonBodyLimit`; every other body is dropped chunk by chunk.
struct StandInIncomingRequest {
    /// Largest generation body kept for parsing; a larger one is answered 413.
    static let jsonBodyLimit = 1 << 20

    let head: HTTPRequestHead
    let route: StandInRoute
    let controls: StandInControls
    private var hasher = SHA256()
    private(set) var bodyByteCount = 0
    /// The generation body so far; nil for other routes or once it outgrew `jsonBodyLimit`.
    private(set) var jsonBody: ByteBuffer?
    private(set) var jsonBodyOverflowed = false

    init(head: HTTPRequestHead, allocator: ByteBufferAllocator) {
        self.head = head
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        self.route = StandInRoute(method: head.method, path: path)
        self.controls = StandInControls(headers: head.headers)
        if route == .generations {
            jsonBody = allocator.buffer(capacity: 512)
        }
    }

    /// Hashes and counts one body chunk (and keeps it if this is a generation body within the limit).
    mutating func absorb(_ chunk: ByteBuffer) {
        chunk.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        bodyByteCount += chunk.readableBytes
        if jsonBody != nil {
            if bodyByteCount > Self.jsonBodyLimit {
                jsonBody = nil
                jsonBodyOverflowed = true
            } else {
                var chunk = chunk
                jsonBody?.writeBuffer(&chunk)
            }
        }
    }

    /// Lowercase hex SHA-256 of the body absorbed so far.
    var bodySHA256: String {
        StandInHex.encode(hasher.finalize())
    }

    /// The record kept for `RecraftStandIn.requests`.
    func recorded(sha256: String, isComplete: Bool) -> StandInRecordedRequest {
        StandInRecordedRequest(
            method: head.method.rawValue,
            path: head.uri,
            headers: head.headers.map { (name: $0.name, value: $0.value) },
            bodyByteCount: bodyByteCount,
            bodySHA256: sha256,
            isComplete: isComplete
        )
    }
}
