import NIOCore

/// Events from the leased `UpstreamConnection` (same event loop; direct calls).
extension EdgeConnectionHandler {
    func upstreamResponseHead(_ response: inout ResponseHead) {
        guard let context else { return }
        exchange.responseHeadSent = true
        exchange.clientFraming = HeadRewriter.clientFraming(for: response, clientIsHTTP10: head.isHTTP10)
        if case .untilClose = exchange.clientFraming { exchange.closeAfterResponse = true }
        if !exchange.requestComplete && response.status >= 300 {
            // An early final answer (e.g. 413 from the upstream): the rest of the body is not wanted.
            exchange.closeAfterResponse = true
        }
        let close = exchange.closeAfterResponse || !exchange.clientKeepAlive || quiescing
        let bytes = HeadRewriter.clientResponseHead(
            response, framing: exchange.clientFraming, requestID: exchange.requestID, isHEAD: exchange.isHEAD,
            closeConnection: close, clientIsHTTP10: head.isHTTP10, extraLines: nil, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(bytes), promise: nil)
        clientNeedsFlush = true
        arm(.streamIdle, after: runtime.upstreamIdleTimeout)
    }

    func upstreamResponseBody(_ slice: ByteBuffer) {
        guard let context else { return }
        if case .chunked = exchange.clientFraming {
            context.write(wrapOutboundOut(exchange.clientChunker.framing(beforeChunkOf: slice.readableBytes, allocator: context.channel.allocator)), promise: nil)
        }
        context.write(wrapOutboundOut(slice), promise: nil)
        clientNeedsFlush = true
        if !context.channel.isWritable { exchange.upstream?.pauseReading() }
    }

    func upstreamResponseEnd(connection: UpstreamConnection, reusable: Bool) {
        guard let context, exchange.upstream === connection else {
            connection.abort()
            return
        }
        if case .chunked = exchange.clientFraming {
            context.write(wrapOutboundOut(exchange.clientChunker.finish(allocator: context.channel.allocator)), promise: nil)
            clientNeedsFlush = true
        }
        exchange.responseComplete = true
        exchange.upstream = nil
        pools.pools[exchange.endpointIndex].release(connection, reusable: reusable && exchange.requestComplete)
        flushPending()
        if exchange.requestComplete {
            finishExchange()
        } else {
            // The upstream answered before the whole body arrived; the connection's framing is lost.
            closeAfterFlush()
        }
    }

    func upstreamReadComplete() {
        if timeoutKind == .streamIdle { deadline = .now() + runtime.upstreamIdleTimeout }
        if clientNeedsFlush, let context {
            clientNeedsFlush = false
            context.flush()
        }
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable {
            if gate.open(.peerUnwritable), let context { context.read() }
        } else {
            gate.close(.peerUnwritable)
        }
    }

    /// The upstream failed. Before a response head: a JSON 502/503/504. After: the client's
    /// response is cut short, so its connection is closed (it cannot be mistaken for complete).
    func upstreamFailed(_ failure: UpstreamFailure, connection: UpstreamConnection?, afterHead: Bool) {
        if let connection {
            guard exchange.upstream === connection else { return }
        } else {
            guard state == .awaitingUpstream else { return }
        }
        exchange.upstream = nil
        _ = gate.open(.peerUnwritable)
        if exchange.responseHeadSent {
            flushPending()
            closeAfterFlush()
        } else {
            upstreamNeedsFlush = false
            respondLocally(failure.localResponse, forceClose: !exchange.requestComplete)
        }
    }
}
