import Crypto
import EdgeProxy
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP/1.1 client over one kept-alive connection (TLS trusting the test CA, or plain), for
/// end-to-end tests: plain requests, streamed generated uploads, and deliberately slow reads.
final class TestHTTPSClient: Sendable {
    /// The connection; closed by `close()` or by the peer.
    let channel: any Channel
    /// Value sent as `Host` unless a request sets its own.
    let hostHeader: String
    private let handler: NIOLoopBound<TestHTTPClientHandler>
    private let progress: TestClientProgress

    private init(channel: any Channel, hostHeader: String, handler: NIOLoopBound<TestHTTPClientHandler>, progress: TestClientProgress) {
        self.channel = channel
        self.hostHeader = hostHeader
        self.handler = handler
        self.progress = progress
    }

    /// Opens the connection. A TLS handshake failure surfaces as the first request's error.
    /// - Parameters:
    ///   - host: Address to connect to.
    ///   - port: Port to connect to.
    ///   - tls: Client TLS configuration (e.g. `TestCertificateAuthority.clientTLSConfiguration()`); nil for plain HTTP.
    ///   - serverHostname: Name for SNI and certificate verification.
    ///   - receiveBufferBytes: `SO_RCVBUF`, to make a slow reader's window small.
    static func connect(
        host: String = "127.0.0.1", port: Int, tls: TLSConfiguration?, serverHostname: String = "localhost",
        receiveBufferBytes: Int? = nil, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> TestHTTPSClient {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let progress = TestClientProgress()
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
        if let receiveBufferBytes {
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferBytes))
        }
        let channel = try await bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                let pipeline = channel.pipeline.syncOperations
                if let sslContext {
                    try pipeline.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                }
                try pipeline.addHTTPClientHandlers()
                try pipeline.addHandler(TestHTTPClientHandler(progress: progress))
            }
        }.connect(host: host, port: port).get()
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: TestHTTPClientHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return TestHTTPSClient(channel: channel, hostHeader: serverHostname, handler: handler, progress: progress)
    }

    /// Connects to a stand-in (TLS trusting `ca` when the stand-in speaks TLS).
    static func connect(to standIn: RecraftStandIn, ca: TestCertificateAuthority?, receiveBufferBytes: Int? = nil) async throws -> TestHTTPSClient {
        try await connect(
            port: standIn.port, tls: standIn.isTLS ? ca?.clientTLSConfiguration() : nil,
            receiveBufferBytes: receiveBufferBytes)
    }

    /// Response body bytes received on this connection so far (all responses).
    var bodyBytesReceived: Int { progress.bodyBytesReceived }

    /// Sends one request and waits for its response.
    /// - Parameters:
    ///   - body: The whole body; `Content-Length` is added unless `headers` frame the body themselves.
    ///   - collectBody: False hashes and counts the response body without keeping it (huge downloads).
    ///   - readPause: Delay every socket read by this much while this response is outstanding (slow reader).
    ///   - timeout: Fail (and close the connection) if the response is not complete by then.
    func send(
        method: HTTPMethod = .GET, path: String, headers: HTTPHeaders = [:], body: ByteBuffer? = nil,
        collectBody: Bool = true, readPause: TimeAmount? = nil, timeout: TimeAmount = .seconds(30)
    ) async throws -> TestResponse {
        var head = makeHead(method: method, path: path, headers: headers)
        if let body, !head.headers.contains(name: "content-length"), !head.headers.contains(name: "transfer-encoding") {
            head.headers.add(name: "content-length", value: String(body.readableBytes))
        }
        let response = try await begin(head, collectBody: collectBody, readPause: readPause, timeout: timeout)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        return try await response.get()
    }

    /// What `sendGenerated` sent, and what came back.
    struct UploadResult: Sendable {
        /// The response (possibly an early one, if the peer answered before the body was done).
        var response: TestResponse
        /// Body bytes the socket accepted.
        var sentBytes: Int
        /// Lowercase hex SHA-256 of the bytes sent, computed while sending.
        var sentSHA256: String
    }

    /// Streams a generated body of `bodyBytes` (the `StandInDownload` stream for `seed`), hashing it while
    /// sending and never holding more than a few pieces: each batch of pieces is awaited until the
    /// socket accepted it. If the peer stops the upload (answers early and closes), sending stops and
    /// the response, if any, is returned.
    func sendGenerated(
        method: HTTPMethod = .POST, path: String, headers: HTTPHeaders = [:], bodyBytes: Int, seed: UInt64 = 0,
        chunked: Bool = false, pieceBytes: Int = 64 * 1024, collectBody: Bool = true, timeout: TimeAmount = .seconds(120)
    ) async throws -> UploadResult {
        var head = makeHead(method: method, path: path, headers: headers)
        if chunked {
            head.headers.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        } else if !head.headers.contains(name: "content-length") {
            head.headers.add(name: "content-length", value: String(bodyBytes))
        }
        let response = try await begin(head, collectBody: collectBody, readPause: nil, timeout: timeout)
        let block = StandInDownload.blockBuffer(seed: seed)
        let pieceBytes = max(1, min(pieceBytes, StandInDownload.blockSize))
        var hasher = SHA256()
        var sent = 0
        var offset = 0
        var batch = 0
        do {
            while sent < bodyBytes {
                let length = min(pieceBytes, bodyBytes - sent, StandInDownload.blockSize - offset)
                guard let piece = block.getSlice(at: block.readerIndex + offset, length: length) else { break }
                piece.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                offset = (offset + length) % StandInDownload.blockSize
                sent += length
                batch += 1
                if batch % 8 == 0 || sent == bodyBytes {
                    try await channel.writeAndFlush(HTTPClientRequestPart.body(.byteBuffer(piece))).get()
                } else {
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(piece)), promise: nil)
                }
            }
            try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        } catch {
            // The peer ended the upload; whatever it answered is the result.
        }
        return UploadResult(response: try await response.get(), sentBytes: sent, sentSHA256: hex(hasher.finalize()))
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }

    private func makeHead(method: HTTPMethod, path: String, headers: HTTPHeaders) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
        if !head.headers.contains(name: "host") {
            head.headers.add(name: "host", value: hostHeader)
        }
        return head
    }

    /// Registers the expectation and writes the head, in that order, on the event loop.
    private func begin(
        _ head: HTTPRequestHead, collectBody: Bool, readPause: TimeAmount?, timeout: TimeAmount
    ) async throws -> EventLoopFuture<TestResponse> {
        let (channel, handler) = (self.channel, self.handler)
        return try await channel.eventLoop.submit {
            let promise = channel.eventLoop.makePromise(of: TestResponse.self)
            handler.value.expect(.init(promise: promise, collectBody: collectBody, readPause: readPause))
            let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                handler.value.failAll(TestClientError("no complete response within \(timeout)"))
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            return promise.futureResult
        }.get()
    }
}
