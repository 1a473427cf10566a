import NIOCore
import Policy
import NIOSSL

/// One pooled keep-alive connection to an upstream, as the last handler of its channel.
///
/// It parses response heads with the strict byte-level parser and forwards body slices to the
/// `EdgeConnectionHandler` it is leased to. Both channels live on the same event loop, so the two
/// handlers call each other directly: no hop, no future, no lock.
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        /// In the pool (or being connected); any byte from the upstream now is a protocol error.
        case idle
        /// Request sent (or being sent); waiting for the response head.
        case awaitingHead
        /// Streaming the response body to the leaseholder.
        case body
        case closed
    }

    unowned let pool: UpstreamPool
    private var context: ChannelHandlerContext?
    private var state: State = .idle
    /// The downstream exchange this connection is leased to.
    private var leaseholder: EdgeConnectionHandler?
    private var received: ByteBuffer?
    private var parser: ResponseHeadParser
    private var head = ResponseHead()
    private var decoder = BodyDecoder(framing: .none, maxChunkLineBytes: 1024, maxTrailerBytes: 8192)
    private var requestWasHEAD = false
    private var gate = ReadGate()
    private var lastError: (any Error)?
    /// When the connection went back to the pool (for the idle-age limit).
    var idleSince = NIODeadline.now()

    init(pool: UpstreamPool, maxHeaderBytes: Int, maxHeaderCount: Int) {
        self.pool = pool
        self.parser = ResponseHeadParser(maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount)
    }

    var isUsable: Bool { state == .idle && (context?.channel.isActive ?? false) }
    var isWritable: Bool { context?.channel.isWritable ?? false }
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    // MARK: Called by the leaseholder

    /// Binds the connection to an exchange; the request head is written next.
    func lease(to handler: EdgeConnectionHandler, requestWasHEAD: Bool) {
        leaseholder = handler
        self.requestWasHEAD = requestWasHEAD
        state = .awaitingHead
        if gate.reset(), let context { context.read() }
    }

    func write(_ buffer: ByteBuffer) {
        context?.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush() { context?.flush() }

    /// Stops reading the response while the client cannot take more.
    func pauseReading() { gate.close(.peerUnwritable) }

    func resumeReading() {
        if gate.open(.peerUnwritable), let context { context.read() }
    }

    /// Ends the lease without reuse (client gone, timeout, request error).
    func abort() {
        leaseholder = nil
        if state != .closed {
            state = .closed
            context?.close(promise: nil)
        }
    }

    /// Closes the connection for shutdown; the future completes once the channel is closed.
    func closeForShutdown() -> EventLoopFuture<Void>? {
        guard let channel = context?.channel else { return nil }
        leaseholder = nil
        state = .closed
        channel.close(promise: nil)
        return channel.closeFuture
    }

    // MARK: ChannelHandler

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        if gate.reset() { context.read() }
    }

    func read(context: ChannelHandlerContext) {
        if gate.shouldPassRead() { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = unwrapInboundIn(data)
        guard state == .awaitingHead || state == .body else {
            // Bytes while idle: the upstream broke HTTP framing; this connection cannot be trusted.
            if state == .idle { close(failure: .invalidResponse) }
            return
        }
        if received == nil || received!.readableBytes == 0 {
            received = incoming
        } else {
            var more = incoming
            received!.writeBuffer(&more)
        }
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        leaseholder?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        leaseholder?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lastError = error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        pool.connectionClosed(self)
        guard let holder = leaseholder else { return }
        leaseholder = nil
        if previous == .body, decoder.isUntilClose {
            holder.upstreamResponseEnd(connection: self, reusable: false)
        } else if previous == .awaitingHead || previous == .body {
            holder.upstreamFailed(lastError is NIOSSLError ? .tlsFailed : .reset, connection: self, afterHead: previous == .body)
        }
    }

    // MARK: Response parsing

    private func process() {
        while var buffer = received, let holder = leaseholder {
            received = nil
            switch state {
            case .awaitingHead:
                let outcome: ResponseHeadParser.Outcome
                do {
                    outcome = try parser.parse(&buffer, requestWasHEAD: requestWasHEAD, into: &head)
                } catch {
                    close(failure: .invalidResponse)
                    return
                }
                guard case .complete = outcome else {
                    received = buffer
                    return
                }
                if head.isInterim {
                    // 1xx: the edge answers `100 Continue` itself and never upgrades; drop it.
                    received = buffer
                    continue
                }
                decoder = BodyDecoder(framing: head.framing, maxChunkLineBytes: pool.limits.maxChunkLineBytes, maxTrailerBytes: pool.limits.maxTrailerBytes)
                state = .body
                holder.upstreamResponseHead(&head)
                received = buffer
            case .body:
                do {
                    bodyLoop: while true {
                        switch try decoder.next(&buffer) {
                        case .data(let slice):
                            holder.upstreamResponseBody(slice)
                            if leaseholder == nil { return }
                        case .needMore:
                            received = buffer.readableBytes > 0 ? buffer : nil
                            return
                        case .end:
                            break bodyLoop
                        }
                    }
                } catch {
                    close(failure: .invalidResponse)
                    return
                }
                // Leftover bytes after a complete response mean the upstream is out of sync.
                let reusable = head.upstreamKeepAlive && buffer.readableBytes == 0
                // Keep no slice of the TLS handler's read buffer while idle: its next decode would
                // copy the whole buffer (copy-on-write) first.
                head.bytes = ByteBuffer()
                head.fields.removeAll(keepingCapacity: true)
                state = .idle
                leaseholder = nil
                holder.upstreamResponseEnd(connection: self, reusable: reusable)
                return
            case .idle, .closed:
                return
            }
        }
    }

    private func close(failure: UpstreamFailure) {
        let holder = leaseholder
        let afterHead = state == .body
        leaseholder = nil
        state = .closed
        context?.close(promise: nil)
        holder?.upstreamFailed(failure, connection: self, afterHead: afterHead)
    }
}

@available(*, unavailable)
extension UpstreamConnection: Sendable {}
