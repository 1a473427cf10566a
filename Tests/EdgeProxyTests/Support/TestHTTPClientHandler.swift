import Crypto
import EdgeProxy
import NIOCore
import NIOHTTP1
import Synchronization

/// The event-loop side of `TestHTTPSClient`: matches responses to requests in order, hashes (and
/// optionally keeps) each body, and — for a request that asked to read slowly — delays every socket
/// read by a pause, so the peer sees a slow reader and must apply back-pressure.
final class TestHTTPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    /// A response the client waits for.
    struct Expectation {
        var promise: EventLoopPromise<TestResponse>
        var collectBody: Bool
        var readPause: TimeAmount?
    }

    /// The response being received.
    private struct Partial {
        var head: HTTPResponseHead
        var body: ByteBuffer
        var byteCount = 0
        var hasher = SHA256()
    }

    private let progress: TestClientProgress
    private var expectations: [Expectation] = []
    private var partial: Partial?
    private var isReadDelayed = false
    private var isClosed = false

    init(progress: TestClientProgress) {
        self.progress = progress
    }

    /// Queues the expectation for the next response (call before writing the request head).
    func expect(_ expectation: Expectation) {
        if isClosed {
            expectation.promise.fail(TestClientError("connection is closed"))
        } else {
            expectations.append(expectation)
        }
    }

    /// Fails every waiting request with `error`.
    func failAll(_ error: any Error) {
        let waiting = expectations
        expectations.removeAll()
        partial = nil
        for expectation in waiting { expectation.promise.fail(error) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            partial = Partial(head: head, body: context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard partial != nil else { return }
            progress.add(chunk.readableBytes)
            chunk.withUnsafeReadableBytes { partial?.hasher.update(bufferPointer: $0) }
            partial?.byteCount += chunk.readableBytes
            if expectations.first?.collectBody ?? true {
                partial?.body.writeBuffer(&chunk)
            }
        case .end:
            guard let done = partial, !expectations.isEmpty else { return }
            partial = nil
            let expectation = expectations.removeFirst()
            expectation.promise.succeed(
                TestResponse(
                    status: done.head.status, headers: done.head.headers, body: done.body,
                    bodyByteCount: done.byteCount, bodySHA256: hex(done.hasher.finalize())))
        }
    }

    func read(context: ChannelHandlerContext) {
        guard let pause = expectations.first?.readPause else {
            context.read()
            return
        }
        guard !isReadDelayed else { return }
        isReadDelayed = true
        context.eventLoop.assumeIsolated().scheduleTask(in: pause) { [self] in
            isReadDelayed = false
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        failAll(TestClientError("connection closed before the response was complete"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension TestHTTPClientHandler: Sendable {}

/// Body bytes a test client has received so far, readable from any thread.
final class TestClientProgress: Sendable {
    private let bytes = Mutex(0)
    var bodyBytesReceived: Int { bytes.withLock { $0 } }
    func add(_ count: Int) { bytes.withLock { $0 += count } }
}

/// Lowercase hex of a digest.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let text = String(byte, radix: 16)
        return byte < 16 ? "0" + text : text
    }.joined()
}
