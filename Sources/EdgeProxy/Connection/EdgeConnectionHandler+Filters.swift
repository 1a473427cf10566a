import NIOCore
import Policy

/// The filter-chain runner: runs each phase's hooks in order, holds a small body when asked,
/// suspends on a future (reads paused, nothing buffered) and resumes exactly once.
extension EdgeConnectionHandler {
    /// Largest response a suspended response filter lets queue before upstream reads pause.
    static let maxQueuedResponseBytes = 64 * 1024

    func runRequestHeadFilters(from start: Int) {
        var index = start
        while index < exchange.filterChain.count {
            switch exchange.filterChain[index].requestHead(EdgeRequest(head: head), &exchange.filterContext!) {
            case .continue:
                index += 1
            case .holdBody(let maxBytes):
                exchange.holdBodyLimit = max(exchange.holdBodyLimit, maxBytes)
                index += 1
            case .respond(let reply):
                respondLocally(filterReply(reply))
                return
            case .suspend(let future):
                suspend(on: future, phase: .requestHead, resumeAt: index + 1)
                return
            }
        }
        requestHeadFiltersFinished()
    }

    private func requestHeadFiltersFinished() {
        guard exchange.holdBodyLimit > 0 else {
            requestFiltersFinished()
            return
        }
        var capacity = 1024
        if case .contentLength(let length) = head.framing {
            guard length <= Int64(exchange.holdBodyLimit) else {
                respondLocally(.error(status: 413, code: "body_too_large", message: "This request's body must be at most \(exchange.holdBodyLimit) bytes"), forceClose: true)
                return
            }
            capacity = Int(length)
        }
        exchange.heldBody = context?.channel.allocator.buffer(capacity: capacity) ?? ByteBuffer()
        if exchange.requestComplete {
            runRequestBodyFilters(from: 0)
            return
        }
        if head.expectsContinue, let context {
            context.write(wrapOutboundOut(Self.continueResponse(context.channel.allocator)), promise: nil)
            clientNeedsFlush = true
            exchange.sentContinue = true
        }
        state = .holdingBody
        arm(.streamIdle, after: runtime.upstreamIdleTimeout)
    }

    func runRequestBodyFilters(from start: Int) {
        let body = exchange.heldBody ?? ByteBuffer()
        var index = start
        while index < exchange.filterChain.count {
            switch exchange.filterChain[index].requestBody(body, &exchange.filterContext!) {
            case .continue, .holdBody:
                index += 1
            case .respond(let reply):
                respondLocally(filterReply(reply))
                return
            case .suspend(let future):
                suspend(on: future, phase: .requestBody, resumeAt: index + 1)
                return
            }
        }
        requestFiltersFinished()
    }

    /// Every request filter continued: the local handler answers, or the request goes upstream.
    private func requestFiltersFinished() {
        if exchange.localHandler != nil {
            runLocalHandler()
        } else {
            startForwarding(endpointIndex: exchange.endpointIndex)
        }
    }

    /// Runs response filters in reverse order; writes the head when all continued.
    func runResponseHeadFilters(from start: Int, _ response: inout ResponseHead) {
        var index = start
        while index >= 0 {
            switch exchange.filterChain[index].responseHead(status: response.status, &exchange.filterContext!) {
            case .continue, .holdBody:
                index -= 1
            case .respond(let reply):
                replaceUpstreamResponse(with: reply)
                return
            case .suspend(let future):
                exchange.suspendedResponse = response
                suspend(on: future, phase: .responseHead, resumeAt: index - 1)
                return
            }
        }
        writeResponseHead(&response)
    }

    private func suspend(on future: EventLoopFuture<FilterResolution>, phase: FilterPhase, resumeAt index: Int) {
        let serial = exchange.serial
        if phase != .responseHead {
            // Reading goes on (dropping and re-arming read interest costs two epoll_ctl calls per
            // suspension) until more than `maxPipelinedBytes` wait; see `limitReceivedBytes`.
            state = .filtering
            limitReceivedBytes(closingFor: .awaitingUpstream)
        }
        future.assumeIsolated().whenComplete { [self] result in
            self.resume(serial: serial, phase: phase, at: index, result: result)
        }
    }

    private func resume(serial: UInt64, phase: FilterPhase, at index: Int, result: Result<FilterResolution, any Error>) {
        guard exchange.serial == serial, exchange.filterContext != nil, !exchange.filtersCompleted else { return }
        let resolution: FilterResolution
        switch result {
        case .success(let value): resolution = value
        case .failure: resolution = .respond(EdgeReply(status: 500, code: "internal_error", message: "A filter failed"))
        }
        switch resolution {
        case .continue:
            break
        case .continueAfter(let update):
            update(&exchange.filterContext!)
        case .respond(let reply):
            if exchange.clientGone {
                completeFilters()
                return
            }
            if phase == .responseHead {
                exchange.suspendedResponse = nil
                replaceUpstreamResponse(with: reply)
            } else {
                respondLocally(filterReply(reply))
            }
            if !isProcessing { process() }
            flushPending()
            return
        }
        switch phase {
        case .requestHead, .requestBody:
            if exchange.clientGone {
                completeFilters()
                return
            }
            if phase == .requestHead { runRequestHeadFilters(from: index) } else { runRequestBodyFilters(from: index) }
            if state != .filtering && state != .awaitingUpstream, gate.open(.awaitingUpstream), let context { context.read() }
        case .responseHead:
            guard var response = exchange.suspendedResponse else { return }
            // Cleared before continuing; a later filter that suspends again sets it again.
            exchange.suspendedResponse = nil
            runResponseHeadFilters(from: index, &response)
            if exchange.suspendedResponse == nil { releaseQueuedResponse() }
        }
        if !isProcessing { process() }
        flushPending()
    }

    /// After a suspended response resumed: send what queued, then finish if the upstream already did.
    private func releaseQueuedResponse() {
        let queued = exchange.queuedResponseBody
        exchange.queuedResponseBody = []
        exchange.queuedResponseBytes = 0
        for slice in queued { writeResponseBody(slice) }
        exchange.upstream?.resumeReading()
        if let (connection, reusable) = exchange.responseEndWhileSuspended {
            exchange.responseEndWhileSuspended = nil
            upstreamResponseEnd(connection: connection, reusable: reusable)
        }
    }

    /// A response filter answered instead of the upstream: its response is dropped with its connection.
    private func replaceUpstreamResponse(with reply: EdgeReply) {
        if let upstream = exchange.upstream {
            exchange.upstream = nil
            upstream.abort()
        }
        exchange.queuedResponseBody = []
        exchange.responseEndWhileSuspended = nil
        respondLocally(filterReply(reply), forceClose: !exchange.requestComplete)
    }

    /// Runs `exchangeCompleted` on every filter, exactly once per exchange.
    func completeFilters() {
        guard !exchange.filtersCompleted, exchange.startNanos != 0 else { return }
        exchange.filtersCompleted = true
        let outcome: ExchangeOutcome
        if let status = exchange.upstreamStatus {
            outcome = .upstreamResponded(status: status)
        } else if exchange.clientGone {
            outcome = .clientGone
        } else if let status = exchange.localStatus {
            outcome = .answeredLocally(status: status)
        } else {
            outcome = .upstreamFailed
        }
        if exchange.filterContext != nil {
            for filter in exchange.filterChain.reversed() {
                filter.exchangeCompleted(outcome, &exchange.filterContext!)
            }
        }
        recordExchange(outcome)
    }
}

extension EdgeConnectionHandler {
    /// A filter's local reply, carrying the header lines filters added to `exchange.responseHeaders`
    /// so far (CORS, RateLimit-*, security headers): a browser can read a 401/402/429 only if it
    /// carries the CORS headers of the request's origin.
    func filterReply(_ reply: EdgeReply) -> LocalResponse {
        var response = reply.localResponse
        response.extraLines = exchange.filterContext?.responseHeaders.buffer
        return response
    }
}

extension EdgeReply {
    /// The reply in the edge's JSON error shape (no body for 204).
    var localResponse: LocalResponse {
        if status == 204 {
            var response = LocalResponse(status: 204, body: "")
            response.extraHeaders = headers
            return response
        }
        var response = LocalResponse.error(status: status, code: code, message: message, details: details.map { key, value in
            switch value {
            case .int(let n): return (key, JSONScalar.int(n))
            case .string(let s): return (key, JSONScalar.string(s))
            }
        })
        response.extraHeaders = headers
        return response
    }
}
