import Logging
import NIOCore
import Policy

/// Routes answered at the edge by a `LocalHandler`: the filters run as for a forwarded route, the
/// (bounded) body is held, then the handler answers — now, or when its future completes (reads
/// stay paused meanwhile, exactly as for a suspended filter).
extension EdgeConnectionHandler {
    func beginLocalExchange(_ route: Route) {
        guard let handler = runtime.localHandlers[route.id], let context else {
            respondLocally(.error(status: 404, code: "not_found", message: "No handler for this path"))
            return
        }
        exchange.route = route
        exchange.localHandler = handler
        exchange.bodyLimit = Int64(handler.maxBodyBytes)
        if handler.maxBodyBytes > 0 && !exchange.requestComplete {
            exchange.holdBodyLimit = handler.maxBodyBytes
        }
        exchange.filterChain = runtime.chains[route.id] ?? []
        exchange.filterContext = ExchangeContext(
            route: route, eventLoop: context.eventLoop, services: pools.services,
            requestID: exchange.requestID, clientAddress: clientAddress)
        runRequestHeadFilters(from: 0)
    }

    /// Calls the handler with the held body and writes its answer, decorated with the lines the
    /// filters added (CORS, rate-limit headers).
    func runLocalHandler() {
        guard let handler = exchange.localHandler, exchange.filterContext != nil else { return }
        let request = LocalRequest(head: EdgeRequest(head: head), body: exchange.heldBody ?? ByteBuffer())
        exchange.heldBody = nil
        switch handler.respond(to: request, &exchange.filterContext!) {
        case .now(let response):
            respondLocally(decorated(response))
        case .later(let future):
            let serial = exchange.serial
            state = .filtering
            gate.close(.awaitingUpstream)
            future.assumeIsolated().whenComplete { [self] result in
                guard exchange.serial == serial, exchange.filterContext != nil, !exchange.filtersCompleted else { return }
                if exchange.clientGone {
                    completeFilters()
                    return
                }
                let response: LocalResponse
                switch result {
                case .success(let value):
                    response = value
                case .failure(let error):
                    pools.services.logger.error("local handler failed", metadata: [
                        "route": "\(exchange.route?.id ?? "-")", "error": "\(error)", "request_id": "\(exchange.requestID)"])
                    response = .error(status: 500, code: "internal_error", message: "The request could not be completed")
                }
                respondLocally(decorated(response))
                if !isProcessing { process() }
                flushPending()
            }
        }
    }

    /// The handler's answer with the lines the filters added (CORS, rate limits, security headers);
    /// `LocalResponse.encode` lets a header the handler set itself win over a filter's line.
    private func decorated(_ response: LocalResponse) -> LocalResponse {
        var response = response
        if var lines = exchange.filterContext?.responseHeaders.buffer {
            if var own = response.extraLines { lines.writeBuffer(&own) }
            response.extraLines = lines
        }
        return response
    }
}
