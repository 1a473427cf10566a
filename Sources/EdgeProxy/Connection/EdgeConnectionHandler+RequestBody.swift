import NIOCore

/// Where the request body pump sends decoded body bytes.
enum RequestBodySink {
    /// Stream to the bound upstream connection (re-chunked when the client sent chunked).
    case upstream
    /// Collect into `exchange.heldBody`, bounded by `exchange.holdBodyLimit` (a filter reads it whole).
    case held
    /// Read and drop, bounded by `exchange.discardBudget` (the request was answered locally).
    case discard
}

extension EdgeConnectionHandler {
    /// Decodes body bytes from `received` into `sink`; true when the body ended and the request
    /// loop should go on with the bytes after it, false when more bytes are needed or the
    /// exchange failed.
    ///
    /// The one place that drives `BodyDecoder` for requests: whatever the sink, bytes the decoder
    /// did not consume (the rest of a partial chunk line, the next pipelined request) are put back
    /// into `received`, so a keep-alive connection never loses a byte between requests.
    func pumpRequestBody(into sink: RequestBodySink) -> Bool {
        guard var buffer = received else { return false }
        let upstream = exchange.upstream
        if case .upstream = sink, upstream == nil { return false }
        received = nil
        while true {
            let event: BodyDecoder.Event
            do {
                event = try exchange.requestDecoder.next(&buffer)
            } catch {
                requestBodyFailed(error, sink: sink)
                return false
            }
            switch event {
            case .data(var slice):
                exchange.requestBodyBytes += Int64(slice.readableBytes)
                switch sink {
                case .upstream:
                    if exchange.requestBodyBytes > exchange.bodyLimit {
                        requestBodyFailed(.bodyTooLarge, sink: sink)
                        return false
                    }
                    if exchange.upstreamChunked {
                        upstream!.write(exchange.upstreamChunker.framing(beforeChunkOf: slice.readableBytes, allocator: upstream!.allocator))
                    }
                    upstream!.write(slice)
                    upstreamNeedsFlush = true
                case .held:
                    guard (exchange.heldBody?.readableBytes ?? 0) + slice.readableBytes <= exchange.holdBodyLimit else {
                        respondLocally(.error(status: 413, code: "body_too_large", message: "This request's body must be at most \(exchange.holdBodyLimit) bytes"), forceClose: true)
                        return false
                    }
                    exchange.heldBody!.writeBuffer(&slice)
                case .discard:
                    exchange.discardBudget -= Int64(slice.readableBytes)
                    if exchange.discardBudget < 0 {
                        closeAfterFlush()
                        return false
                    }
                }
            case .needMore:
                received = buffer.readableBytes > 0 ? buffer : nil
                if case .upstream = sink, !upstream!.isWritable { gate.close(.peerUnwritable) }
                return false
            case .end:
                received = buffer.readableBytes > 0 ? buffer : nil
                exchange.requestComplete = true
                switch sink {
                case .upstream:
                    if exchange.upstreamChunked {
                        upstream!.write(exchange.upstreamChunker.finish(allocator: upstream!.allocator))
                    }
                    upstreamNeedsFlush = true
                    if !exchange.responseHeadSent { arm(.upstreamResponse, after: runtime.upstreamResponseTimeout) }
                    if exchange.responseComplete { finishExchange() }
                case .held:
                    disarm()
                    runRequestBodyFilters(from: 0)
                case .discard:
                    finishExchange()
                }
                return true
            }
        }
    }

    /// A malformed or oversized body: what happens depends on how far the exchange got.
    private func requestBodyFailed(_ error: HTTPHeadError, sink: RequestBodySink) {
        switch sink {
        case .upstream:
            abandonExchange(answering: .error(error))
        case .held:
            respondLocally(.error(error), forceClose: true)
        case .discard:
            // The answer is already on its way; a broken body only ends the connection.
            closeAfterFlush()
        }
    }

    /// Gives up on the exchange: drops its upstream connection, then answers `response` and closes —
    /// or, when a response head already went out (the client cannot tell a cut response), just closes.
    func abandonExchange(answering response: LocalResponse) {
        if let upstream = exchange.upstream {
            exchange.upstream = nil
            upstream.abort()
        }
        if exchange.responseHeadSent {
            closeNow()
        } else {
            respondLocally(response, forceClose: true)
        }
    }
}
