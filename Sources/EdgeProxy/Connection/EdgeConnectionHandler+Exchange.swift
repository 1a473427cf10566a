import NIOCore
import Policy

extension EdgeConnectionHandler {
    /// Largest body the edge reads and drops to keep a connection after answering locally.
    static let maxDiscardedBodyBytes: Int64 = 1 << 20

    /// A head was parsed: route it, then answer locally or start forwarding.
    func beginExchange() {
        exchange = Exchange()
        exchangeCounter &+= 1
        exchange.serial = exchangeCounter
        exchange.startNanos = NIODeadline.now().uptimeNanoseconds
        let clientID: ByteBuffer? = head.summaryRequestIDSlice()
        exchange.requestID = RequestID(clientValue: clientID, generator: &idGenerator)
        exchange.isHEAD = head.method == .head
        exchange.clientKeepAlive = head.clientKeepAlive && !quiescing
        exchange.requestDecoder = BodyDecoder(
            framing: head.framing, maxChunkLineBytes: runtime.policy.limits.maxChunkLineBytes,
            maxTrailerBytes: runtime.policy.limits.maxTrailerBytes)
        exchange.requestComplete = head.framing == .none
        disarm()

        var decision: RouteDecision = head.withBytes { b in
            let method = UnsafeRawBufferPointer(rebasing: b[0..<head.methodEnd])
            let path = UnsafeRawBufferPointer(rebasing: b[head.targetStart..<head.pathEnd])
            if head.pathEnd - head.targetStart == 8, (head.method == .get || head.method == .head),
               path.elementsEqual("/healthz".utf8) {
                return .matched(Self.healthRoute)
            }
            if path.count == 1, path[0] == UInt8(ascii: "*") { return .matched(Self.asteriskRoute) }
            return runtime.policy.routes.decide(method: method, path: path)
        }

        if case .preflight(let route, let allowed) = decision {
            // OPTIONS on a route whose chain starts with `cors`: a real preflight runs the chain
            // (the cors filter answers it; it is never forwarded); any other OPTIONS is a 405.
            let request = EdgeRequest(head: head)
            let isPreflight = request.header("origin") != nil && request.header("access-control-request-method") != nil
            decision = isPreflight ? .matched(route) : .methodNotAllowed(allowed: allowed)
        }
        switch decision {
        case .notFound:
            respondLocally(.error(status: 404, code: "not_found", message: "No route for this path"))
        case .methodNotAllowed(let allowed), .preflight(_, let allowed):
            var response = LocalResponse.error(status: 405, code: "method_not_allowed", message: "This path does not accept this method")
            response.extraHeaders = [("Allow", allowed.joined(separator: ", "))]
            respondLocally(response)
        case .matched(let route):
            switch route.action {
            case .respond(let status, let code, let message):
                if route.id == Self.healthRoute.id {
                    respondLocally(LocalResponse(status: 200, body: "{\"status\":\"ok\"}"))
                } else if route.id == Self.asteriskRoute.id {
                    var response = LocalResponse(status: 200, body: "{}")
                    response.extraHeaders = [("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")]
                    respondLocally(response)
                } else {
                    respondLocally(.error(status: status, code: code, message: message))
                }
            case .local:
                beginLocalExchange(route)
            case .forward(let upstreamName, _):
                guard let index = runtime.endpointIndex(named: upstreamName) else {
                    respondLocally(.error(
                        status: 404, code: "upstream_not_configured",
                        message: "No '\(upstreamName)' upstream is configured for this path"))
                    return
                }
                if case .contentLength(let length) = head.framing, length > route.maxBodyBytes {
                    respondLocally(.error(HTTPHeadError.bodyTooLarge), forceClose: true)
                    return
                }
                exchange.route = route
                exchange.bodyLimit = route.maxBodyBytes
                exchange.upstreamChunked = head.framing == .chunked
                exchange.endpointIndex = index
                if let chain = runtime.chains[route.id], let context {
                    exchange.filterChain = chain
                    exchange.filterContext = ExchangeContext(
                        route: route, eventLoop: context.eventLoop, services: pools.services,
                        requestID: exchange.requestID, clientAddress: clientAddress)
                    runRequestHeadFilters(from: 0)
                } else {
                    startForwarding(endpointIndex: index)
                }
            }
        }
    }

    /// Leases an upstream connection; forwarding starts now or when the connection is up.
    func startForwarding(endpointIndex index: Int) {
        exchange.endpointIndex = index
        switch pools.pools[index].lease(for: self) {
        case .ready(let connection):
            attachUpstream(connection)
        case .connecting:
            state = .awaitingUpstream
            gate.close(.awaitingUpstream)
            arm(.upstreamResponse, after: runtime.upstreamResponseTimeout)
        case .exhausted:
            respondLocally(UpstreamFailure.poolExhausted.localResponse)
        }
    }

    /// Binds the exchange to `connection`, writes the rewritten head, and lets the body flow.
    func attachUpstream(_ connection: UpstreamConnection) {
        guard let context else { return }
        exchange.upstream = connection
        exchange.upstreamSentNanos = NIODeadline.now().uptimeNanoseconds
        connection.lease(to: self, requestWasHEAD: exchange.isHEAD)
        let endpoint = pools.pools[exchange.endpointIndex].endpoint
        let heldBody = exchange.heldBody
        connection.write(HeadRewriter.upstreamRequestHead(
            head, upstreamPath: exchange.route?.upstreamPathBytes, endpoint: endpoint,
            requestID: exchange.requestID, forwardedFor: forwardedForLine,
            heldBodyLength: heldBody.map { Int64($0.readableBytes) }, allocator: connection.allocator))
        if let heldBody, heldBody.readableBytes > 0 { connection.write(heldBody) }
        upstreamNeedsFlush = true
        if head.expectsContinue && !exchange.sentContinue {
            exchange.sentContinue = true
            context.write(wrapOutboundOut(Self.continueResponse(context.channel.allocator)), promise: nil)
            clientNeedsFlush = true
        }
        state = .proxying
        if exchange.requestComplete {
            arm(.upstreamResponse, after: runtime.upstreamResponseTimeout)
        } else {
            arm(.streamIdle, after: runtime.upstreamIdleTimeout)
        }
        if gate.open(.awaitingUpstream) { context.read() }
    }

    /// A new upstream connection is up (called by the pool on this event loop).
    func upstreamConnected(_ connection: UpstreamConnection) {
        let pool = connection.pool
        guard state == .awaitingUpstream, context != nil else {
            pool.release(connection, reusable: true)
            return
        }
        attachUpstream(connection)
        process()
        flushPending()
    }

    /// Writes queued bytes out now (outside a read burst).
    func flushPending() {
        if upstreamNeedsFlush, let upstream = exchange.upstream {
            upstreamNeedsFlush = false
            upstream.flush()
        }
        if clientNeedsFlush, let context {
            clientNeedsFlush = false
            context.flush()
        }
    }

    /// Answers the current request at the edge. The upstream is never contacted (or is abandoned).
    func respondLocally(_ response: LocalResponse, forceClose: Bool = false) {
        guard let context else { return }
        var close = forceClose || !exchange.clientKeepAlive || quiescing
        if !close && !exchange.requestComplete {
            // Keep the connection only if the unread body is small enough to read and drop.
            switch head.framing {
            case .contentLength(let n) where n <= Self.maxDiscardedBodyBytes: break
            case .chunked: break
            default: close = true
            }
        }
        exchange.localStatus = response.status
        let bytes = response.encode(
            requestID: exchange.requestID, closeConnection: close, isHEAD: exchange.isHEAD,
            allocator: context.channel.allocator)
        exchange.bytesOut += Int64(bytes.readableBytes)
        context.write(wrapOutboundOut(bytes), promise: nil)
        clientNeedsFlush = true
        exchange.responseHeadSent = true
        exchange.responseComplete = true
        if close {
            closeAfterFlush()
        } else if !exchange.requestComplete {
            exchange.discardBudget = Self.maxDiscardedBodyBytes
            state = .discardingBody
            flushPending()
        } else {
            flushPending()
            finishExchange()
        }
    }

    static func continueResponse(_ allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 25)
        buffer.writeStaticString("HTTP/1.1 100 Continue\r\n\r\n")
        return buffer
    }

    /// Built-in local endpoints, expressed as routes so they flow through the same path.
    static let healthRoute = Route(
        id: "_edge_health", methods: ["GET", "HEAD"], path: .exact("/healthz"),
        action: .respond(status: 200, code: "ok", message: "ok"), operation: nil, maxBodyBytes: 0)
    static let asteriskRoute = Route(
        id: "_edge_asterisk", methods: ["OPTIONS"], path: .exact("/"),
        action: .respond(status: 200, code: "ok", message: "ok"), operation: nil, maxBodyBytes: 0)
}

extension RequestHead {
    /// The client's `X-Request-Id` value as a slice of the head, if present.
    func summaryRequestIDSlice() -> ByteBuffer? {
        for field in fields where field.known == .xRequestID {
            return bytes.getSlice(at: bytes.readerIndex + Int(field.valueStart), length: Int(field.valueEnd - field.valueStart))
        }
        return nil
    }
}
