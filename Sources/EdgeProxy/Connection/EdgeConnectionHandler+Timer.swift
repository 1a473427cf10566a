import NIOCore

/// One timer per connection, re-armed by moving `deadline` (no reschedule per request): when it
/// fires early it re-schedules itself for the current deadline, as NIO's IdleStateHandler does.
extension EdgeConnectionHandler {
    func arm(_ kind: ConnectionTimeout, after amount: TimeAmount) {
        timeoutKind = kind
        deadline = .now() + amount
        if scheduledTimer == nil || scheduledFor > deadline { schedule(at: deadline) }
    }

    func disarm() {
        deadline = .distantFuture
    }

    private func schedule(at when: NIODeadline) {
        guard let context else { return }
        scheduledTimer?.cancel()
        scheduledFor = when
        scheduledTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
            self.timerFired()
        }
    }

    private func timerFired() {
        scheduledTimer = nil
        scheduledFor = .distantFuture
        guard state != .closed, state != .closing else { return }
        if deadline == .distantFuture { return }
        let now = NIODeadline.now()
        guard now >= deadline else {
            schedule(at: deadline)
            return
        }
        deadline = .distantFuture
        switch timeoutKind {
        case .idle:
            closeNow()
        case .headerRead:
            if (received?.readableBytes ?? 0) > 0 || state != .awaitingHead {
                exchange = Exchange()
                exchange.requestID = RequestID(generatedWith: &idGenerator)
                respondLocally(.error(status: 408, code: "request_timeout", message: "The request head did not arrive in time"), forceClose: true)
            } else {
                closeNow()
            }
        case .upstreamResponse:
            if !exchange.responseHeadSent {
                upstreamNeedsFlush = false
                state = state == .awaitingUpstream ? .proxying : state
            }
            abandonExchange(answering: UpstreamFailure.timedOut.localResponse)
        case .streamIdle:
            abandonExchange(answering: UpstreamFailure.timedOut.localResponse)
        }
    }
}
