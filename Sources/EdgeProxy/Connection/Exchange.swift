import NIOCore
import Policy

/// Per-request state of one client exchange, reset for every request on a connection.
///
/// Lives inside `EdgeConnectionHandler` by value, so an exchange allocates nothing of its own.
struct Exchange {
    var requestID = RequestID()
    var isHEAD = false
    /// The client allows keep-alive and nothing forces a close.
    var clientKeepAlive = true
    var route: Route?
    /// Index into `EdgeRuntime.endpoints` / the loop's pools.
    var endpointIndex = -1
    var requestDecoder = BodyDecoder(framing: .none, maxChunkLineBytes: 1024, maxTrailerBytes: 0)
    var requestBodyBytes: Int64 = 0
    var bodyLimit: Int64 = 0
    var requestComplete = false
    /// Chunked toward the upstream (the client sent chunked).
    var upstreamChunked = false
    var upstreamChunker = ChunkedEncoder()
    var upstream: UpstreamConnection?
    var responseHeadSent = false
    var responseComplete = false
    var clientFraming: HeadRewriter.ClientFraming = .none
    var clientChunker = ChunkedEncoder()
    /// Close the client connection once the response is written.
    var closeAfterResponse = false
    /// Bytes of a locally answered request's body still to be read and dropped.
    var discardBudget: Int64 = 0

    // Filter chain state (empty chain: none of this is used).
    /// Identifies the exchange so a late future result for an earlier one is ignored.
    var serial: UInt64 = 0
    var filterChain: [any EdgeFilter] = []
    var filterContext: ExchangeContext?
    /// The route's local handler: it answers after the filters instead of an upstream.
    var localHandler: (any LocalHandler)?
    /// The largest body a filter asked to hold (0: stream).
    var holdBodyLimit = 0
    var heldBody: ByteBuffer?
    var sentContinue = false
    var filtersCompleted = false
    /// The upstream's final status, once its head arrived.
    var upstreamStatus: Int?
    /// The status of a local answer.
    var localStatus: Int?

    // Observability (metrics and the access log), recorded once per exchange by `recordExchange`.
    /// Monotonic nanoseconds when the head was parsed (0: no exchange began).
    var startNanos: UInt64 = 0
    /// When the request head was written upstream, and when the upstream's response ended or failed.
    var upstreamSentNanos: UInt64 = 0
    var upstreamEndNanos: UInt64 = 0
    /// Bytes written to the client for this exchange (head and body, framing included).
    var bytesOut: Int64 = 0
    /// The request was refused as malformed before routing (a security event).
    var rejectedAsMalformed = false
    /// The client went away while the exchange still had work (suspended, or awaiting the upstream).
    var clientGone = false
    /// A response filter suspended: the response head waits here and body slices queue up.
    var suspendedResponse: ResponseHead?
    var queuedResponseBody: [ByteBuffer] = []
    var queuedResponseBytes = 0
    /// The upstream finished while the response was suspended.
    var responseEndWhileSuspended: (connection: UpstreamConnection, reusable: Bool)?
}

/// Which phase a suspended filter belongs to.
enum FilterPhase {
    case requestHead
    case requestBody
    case responseHead
}

/// What a connection's single timer is currently guarding.
enum ConnectionTimeout {
    /// Waiting for the next request on a kept-alive connection: close quietly.
    case idle
    /// A request head has started (or the connection is new): 408 and close when it expires.
    case headerRead
    /// Request sent; waiting for the response head: 504.
    case upstreamResponse
    /// Bodies streaming: no progress either way for too long aborts the exchange.
    case streamIdle
}
