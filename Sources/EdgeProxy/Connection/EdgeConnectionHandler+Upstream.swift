import NIOCore

/// Events from the leased `UpstreamConnection` (same event loop; direct calls). They also run
/// after the client left while a hold awaits settlement: then nothing is written.
extension EdgeConnectionHandler {
    func upstreamResponseHead(_ response: inout ResponseHead) {
        exchange.upstreamStatus = response.status
        if !exchange.filterChain.isEmpty {
            runResponseHeadFilters(from: exchange.filterChain.count - 1, &response)
        } else {
            writeResponseHead(&response)
        }
    }

    /// Writes the client's response head (after the response filters continued).
    func writeResponseHead(_ response: inout ResponseHead) {
        exchange.responseHeadSent = true
        exchange.clientFraming = HeadRewriter.clientFraming(for: response, clientIsHTTP10: head.isHTTP10)
        if case .untilClose = exchange.clientFraming { exchange.closeAfterResponse = true }
        if !exchange.requestComplete && response.status >= 300 {
            // An early final answer (e.g. 413 from the upstream): the rest of the body is not wanted.
            exchange.closeAfterResponse = true
        }
        guard let context else { return }
        let close = exchange.closeAfterResponse || !exchange.clientKeepAlive || quiescing
        let bytes = HeadRewriter.clientResponseHead(
            response, framing: exchange.clientFraming, requestID: exchange.requestID, isHEAD: exchange.isHEAD,
            closeConnection: close, clientIsHTTP10: head.isHTTP10, extraLines: exchange.filterContext?.responseHeaders.buffer,
            extraNames: exchange.filterContext?.responseHeaders.names ?? 0,
            allocator: context.channel.allocator)
        exchange.bytesOut += Int64(bytes.readableBytes)
        context.write(wrapOutboundOut(bytes), promise: nil)
        clientNeedsFlush = true
        arm(.streamIdle, after: runtime.upstreamIdleTimeout)
    }

    func upstreamResponseBody(_ slice: ByteBuffer) {
        if exchange.suspendedResponse != nil {
            // A response filter is deciding (e.g. the charge commits): queue, bounded by pausing reads.
            exchange.queuedResponseBody.append(slice)
            exchange.queuedResponseBytes += slice.readableBytes
            if exchange.queuedResponseBytes > Self.maxQueuedResponseBytes { exchange.upstream?.pauseReading() }
            return
        }
        writeResponseBody(slice)
    }

    func writeResponseBody(_ slice: ByteBuffer) {
        guard let context else { return }
        if case .chunked = exchange.clientFraming {
            context.write(wrapOutboundOut(exchange.clientChunker.framing(beforeChunkOf: slice.readableBytes, allocator: context.channel.allocator)), promise: nil)
        }
        exchange.bytesOut += Int64(slice.readableBytes)
        context.write(wrapOutboundOut(slice), promise: nil)
        clientNeedsFlush = true
        if !context.channel.isWritable { exchange.upstream?.pauseReading() }
    }

    func upstreamResponseEnd(connection: UpstreamConnection, reusable: Bool) {
        guard exchange.upstream === connection else {
            connection.abort()
            return
        }
        if exchange.suspendedResponse != nil {
            exchange.responseEndWhileSuspended = (connection, reusable)
            return
        }
        exchange.responseComplete = true
        exchange.upstreamEndNanos = NIODeadline.now().uptimeNanoseconds
        exchange.upstream = nil
        connection.pool.release(connection, reusable: reusable && exchange.requestComplete)
        guard let context else {
            // The client left; the answer settled the exchange.
            completeFilters()
            return
        }
        if case .chunked = exchange.clientFraming {
            context.write(wrapOutboundOut(exchange.clientChunker.finish(allocator: context.channel.allocator)), promise: nil)
            clientNeedsFlush = true
        }
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
        exchange.upstreamEndNanos = NIODeadline.now().uptimeNanoseconds
        _ = gate.open(.peerUnwritable)
        guard context != nil else {
            completeFilters()
            return
        }
        if exchange.responseHeadSent {
            flushPending()
            closeAfterFlush()
        } else {
            upstreamNeedsFlush = false
            exchange.suspendedResponse = nil
            exchange.queuedResponseBody = []
            exchange.upstreamStatus = nil
            respondLocally(failure.localResponse, forceClose: !exchange.requestComplete)
        }
    }
}
