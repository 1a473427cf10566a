import Logging
import NIOCore
import NIOExtras
import Policy

/// The edge's per-client-connection handler: strict HTTP/1.1 in, routing, forwarding to a pooled
/// upstream connection on the same event loop, and streaming both ways with back-pressure.
///
/// It serves one request at a time (pipelined requests wait in `received`, bounded by
/// `limits.maxPipelinedBytes`, and are answered in order). Client reads are withheld — never
/// buffered — while the upstream is not writable, and upstream reads while the client is not.
/// Writes are flushed once per read burst. Nothing on the forwarding path creates a future, a
/// closure or a Task per request.
final class EdgeConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum State {
        /// Reading the next request head.
        case awaitingHead
        /// A request filter suspended (e.g. on the ledger hold). Client reads are paused.
        case filtering
        /// Collecting a small body a filter asked to see whole (a generation's JSON).
        case holdingBody
        /// The head was accepted; an upstream connection is being opened. Client reads are paused.
        case awaitingUpstream
        /// Bound to an upstream connection: request body and/or response streaming.
        case proxying
        /// A local response was sent; the rest of the request body is read and dropped.
        case discardingBody
        /// Closing after the last write; nothing more is read.
        case closing
        case closed
    }

    let runtime: EdgeRuntime
    let pools: UpstreamPools
    var context: ChannelHandlerContext?
    var state: State = .awaitingHead
    /// Bytes read from the client and not yet consumed (a partial head, body bytes, pipelined requests).
    var received: ByteBuffer?
    var parser: RequestHeadParser
    var head = RequestHead()
    var exchange = Exchange()
    var gate = ReadGate()
    var idGenerator = RequestIDGenerator()
    /// `X-Forwarded-For: <client ip>\r\n`, computed once per connection.
    var forwardedForLine: [UInt8] = []
    var quiescing = false
    var isProcessing = false
    var upstreamNeedsFlush = false
    var clientNeedsFlush = false
    // The connection's single timer (see ConnectionTimeout).
    var timeoutKind: ConnectionTimeout = .headerRead
    var deadline: NIODeadline = .distantFuture
    var scheduledTimer: Scheduled<Void>?
    var scheduledFor: NIODeadline = .distantFuture
    /// Counts exchanges on this connection (see `Exchange.serial`).
    var exchangeCounter: UInt64 = 0
    /// The client's address as text (for filters and logs).
    var clientAddress = "unknown"
    /// The connection's event loop, kept for work that outlives the channel (a detached settlement).
    var eventLoop: (any EventLoop)?

    init(runtime: EdgeRuntime, pools: UpstreamPools) {
        self.runtime = runtime
        self.pools = pools
        self.parser = RequestHeadParser(maxHeaderBytes: runtime.policy.limits.maxHeaderBytes, maxHeaderCount: runtime.policy.limits.maxHeaderCount)
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.eventLoop = context.eventLoop
        if context.channel.isActive { connectionStarted(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionStarted(context)
        context.fireChannelActive()
    }

    private func connectionStarted(_ context: ChannelHandlerContext) {
        guard forwardedForLine.isEmpty else { return }
        let ip = context.channel.remoteAddress?.ipAddress ?? "unknown"
        clientAddress = ip
        pools.metrics.connectionOpened()
        forwardedForLine = Array("X-Forwarded-For: \(ip)\r\n".utf8)
        arm(.headerRead, after: runtime.headerReadTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        scheduledTimer?.cancel()
        scheduledTimer = nil
        if gate.reset() { context.read() }
    }

    func read(context: ChannelHandlerContext) {
        if gate.shouldPassRead() { context.read() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let incoming = unwrapInboundIn(data)
        if state == .closing || state == .closed { return }
        if received == nil || received!.readableBytes == 0 {
            received = incoming
        } else {
            var more = incoming
            received!.writeBuffer(&more)
        }
        process()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if timeoutKind == .streamIdle { deadline = .now() + runtime.upstreamIdleTimeout }
        if upstreamNeedsFlush, let upstream = exchange.upstream {
            upstreamNeedsFlush = false
            upstream.flush()
        }
        if clientNeedsFlush {
            clientNeedsFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            exchange.upstream?.resumeReading()
        } else if let upstream = exchange.upstream {
            upstream.pauseReading()
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if state == .awaitingHead && (received?.readableBytes ?? 0) == 0 {
                state = .closing
                context.close(promise: nil)
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        runtime.logger.debug("client connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !forwardedForLine.isEmpty { pools.metrics.connectionClosed() }
        let previous = state
        state = .closed
        received = nil
        scheduledTimer?.cancel()
        scheduledTimer = nil
        if previous == .filtering {
            // A filter's future is pending (e.g. a hold): it settles when it resolves.
            exchange.clientGone = true
        } else if let upstream = exchange.upstream, exchange.filterContext?.hold != nil, exchange.requestComplete,
                  exchange.upstreamStatus == nil {
            // The request reached the upstream and tokens are held: its answer still settles them.
            exchange.clientGone = true
            detachForSettlement(upstream)
        } else {
            if let upstream = exchange.upstream {
                // The client is gone: the upstream exchange cannot complete toward anyone.
                exchange.upstream = nil
                upstream.abort()
            }
            if exchange.upstreamStatus == nil && exchange.localStatus == nil { exchange.clientGone = true }
            completeFilters()
        }
        context.fireChannelInactive()
    }

    /// Keeps reading the upstream's answer after the client left, to settle the hold by it; gives
    /// up (releasing the hold) after `upstream_response_seconds`.
    private func detachForSettlement(_ upstream: UpstreamConnection) {
        guard let eventLoop else { return }
        let serial = exchange.serial
        eventLoop.assumeIsolated().scheduleTask(in: runtime.upstreamResponseTimeout) { [self] in
            guard exchange.serial == serial, !exchange.filtersCompleted else { return }
            if let upstream = exchange.upstream {
                exchange.upstream = nil
                upstream.abort()
            }
            completeFilters()
        }
    }

    // MARK: The request loop

    /// Consumes `received` as far as the current state allows. Re-entrant calls are folded into
    /// the running loop, which re-reads `state` on every turn.
    func process() {
        guard !isProcessing, context != nil else { return }
        isProcessing = true
        defer { isProcessing = false }
        while true {
            switch state {
            case .awaitingHead:
                guard var buffer = received, buffer.readableBytes > 0 else {
                    received = nil
                    return
                }
                if timeoutKind == .idle { arm(.headerRead, after: runtime.headerReadTimeout) }
                let outcome: RequestHeadParser.Outcome
                do {
                    outcome = try parser.parse(&buffer, into: &head)
                } catch {
                    received = nil
                    exchange = Exchange()
                    exchange.requestID = RequestID(generatedWith: &idGenerator)
                    exchange.startNanos = NIODeadline.now().uptimeNanoseconds
                    exchange.rejectedAsMalformed = true
                    respondLocally(.error(error), forceClose: true)
                    return
                }
                // No empty buffer is kept: any reference into the TLS handler's read buffer
                // makes its next decode copy the whole buffer (copy-on-write).
                received = buffer.readableBytes > 0 ? buffer : nil
                guard case .complete = outcome else { return }
                beginExchange()
            case .awaitingUpstream:
                return
            case .filtering:
                limitReceivedBytes(closingFor: .awaitingUpstream)
                return
            case .holdingBody:
                guard pumpRequestBody(into: .held) else { return }
            case .proxying:
                if exchange.requestComplete {
                    limitReceivedBytes(closingFor: .pipelineFull)
                    return
                }
                guard pumpRequestBody(into: .upstream) else { return }
            case .discardingBody:
                guard pumpRequestBody(into: .discard) else { return }
            case .closing, .closed:
                received = nil
                return
            }
        }
    }

    /// Stops reading (for `reason`) once more than `maxPipelinedBytes` wait in `received`. While filters
    /// decide (a hold is pending) that is the rest of the body or a pipelined request — a large upload is
    /// never buffered, and the filter's resume opens the gate again (`.awaitingUpstream`); while a
    /// response is outstanding, pipelined requests (`.pipelineFull`).
    func limitReceivedBytes(closingFor reason: ReadGate.Reasons) {
        if let pending = received, pending.readableBytes > runtime.policy.limits.maxPipelinedBytes {
            gate.close(reason)
        }
    }

    /// Ends the exchange once both the request and the response are complete.
    func finishExchange() {
        completeFilters()
        let keepAlive = exchange.clientKeepAlive && !exchange.closeAfterResponse && !quiescing
        exchange = Exchange()
        // The head is a slice of the TLS handler's read buffer: holding it until the next read
        // would make that read copy the whole buffer (copy-on-write) before decrypting into it.
        head.releaseBytes()
        guard keepAlive else {
            closeAfterFlush()
            return
        }
        state = .awaitingHead
        arm(.idle, after: runtime.clientIdleTimeout)
        // Every reason to pause reads belonged to the finished exchange (a suspended filter or
        // handler, an upstream, pipelining): the next request starts with reads open.
        if gate.reset(), let context { context.read() }
        if !isProcessing {
            // Called from an upstream event: serve what is pipelined now, and send what it wrote.
            process()
            flushPending()
        }
    }

    /// Flushes what is queued, then closes (TLS close_notify included).
    func closeAfterFlush() {
        completeFilters()
        guard let context, state != .closed, state != .closing else { return }
        state = .closing
        received = nil
        clientNeedsFlush = false
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func closeNow() {
        completeFilters()
        guard let context, state != .closed else { return }
        state = .closing
        received = nil
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension EdgeConnectionHandler: Sendable {}
