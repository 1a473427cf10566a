import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A byte-level client over TLS (or plain TCP) for malformed-request, pipelining and partial-head tests:
/// it writes exactly the bytes given — in one go or in pieces with pauses — and collects whatever comes
/// back until the peer closes or a timeout passes.
final class RawTLSClient: Sendable {
    /// What arrived so far, and whether the connection has ended.
    struct Received: Sendable {
        /// Every byte received, in order.
        var bytes: ByteBuffer
        /// True once the connection is closed (by the peer, an error, or `close()`).
        var isClosed: Bool
        /// The error that ended the connection, if one did (e.g. a TLS alert).
        var error: String?

        /// The bytes as text (invalid UTF-8 repaired).
        var text: String { String(buffer: bytes) }
    }

    /// The connection.
    let channel: any Channel
    private let inbox: RawInbox

    private init(channel: any Channel, inbox: RawInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects (TLS when `tls` is given, verifying `serverHostname`).
    static func connect(
        host: String = "127.0.0.1", port: Int, tls: TLSConfiguration?, serverHostname: String = "localhost",
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RawTLSClient {
        let sslContext = try tls.map { try NIOSSLContext(configuration: $0) }
        let inbox = RawInbox()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(RawCollectingHandler(inbox: inbox))
                }
            }
            .connect(host: host, port: port).get()
        return RawTLSClient(channel: channel, inbox: inbox)
    }

    /// Writes `text`'s UTF-8 bytes exactly.
    func write(_ text: String) async throws {
        try await write(ByteBuffer(string: text))
    }

    /// Writes `bytes` exactly.
    func write(_ bytes: [UInt8]) async throws {
        try await write(ByteBuffer(bytes: bytes))
    }

    /// Writes `buffer` exactly and flushes.
    func write(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(buffer).get()
    }

    /// Writes each piece (flushed on its own), pausing `pause` between pieces.
    func write(pieces: [String], pause: Duration) async throws {
        for (index, piece) in pieces.enumerated() {
            if index > 0 { try await Task.sleep(for: pause) }
            try await write(piece)
        }
    }

    /// What arrived so far.
    var received: Received { inbox.snapshot }

    /// Waits until `condition` holds for what arrived (or the connection ends, or `timeout` passes).
    func read(until condition: @Sendable (Received) -> Bool, timeout: Duration = .seconds(5)) async -> Received {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let snapshot = inbox.snapshot
            if condition(snapshot) || snapshot.isClosed || ContinuousClock.now >= deadline { return snapshot }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Waits until the connection ends (or `timeout` passes) and returns everything that arrived.
    func readUntilClose(timeout: Duration = .seconds(5)) async -> Received {
        await read(until: { $0.isClosed }, timeout: timeout)
    }

    /// Waits until `marker` occurs `count` times in what arrived (e.g. `"HTTP/1.1 "` per response).
    func read(untilContains marker: String, count: Int = 1, timeout: Duration = .seconds(5)) async -> Received {
        await read(until: { $0.text.components(separatedBy: marker).count - 1 >= count }, timeout: timeout)
    }

    /// Half-closes: no more bytes will be sent (TLS close_notify, then FIN), the read side stays open.
    func closeOutput() async throws {
        try await channel.close(mode: .output)
    }

    /// Closes the connection.
    func close() async {
        try? await channel.close()
    }
}

/// Bytes received by a `RawTLSClient`, shared between its event loop and the test.
final class RawInbox: Sendable {
    private let state: Mutex<RawTLSClient.Received> = Mutex(.init(bytes: ByteBuffer(), isClosed: false))

    var snapshot: RawTLSClient.Received { state.withLock { $0 } }

    func append(_ buffer: ByteBuffer) {
        var buffer = buffer
        state.withLock { _ = $0.bytes.writeBuffer(&buffer) }
    }

    func close(error: String?) {
        state.withLock { state in
            state.isClosed = true
            if state.error == nil { state.error = error }
        }
    }
}

/// Appends every inbound byte to a `RawInbox`.
final class RawCollectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let inbox: RawInbox

    init(inbox: RawInbox) {
        self.inbox = inbox
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inbox.append(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.close(error: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        inbox.close(error: "\(error)")
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RawCollectingHandler: Sendable {}
