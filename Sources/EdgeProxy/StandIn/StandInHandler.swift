internal import Logging
internal import NIOCore
internal import NIOHTTP1

/// Serves one stand-in connection behind NIOHTTP1's server pipeline (whose pipelining helper hands us one
/// request at a time and holds further reads until our response's end is written).
///
/// Request bodies are hashed and dropped chunk by chunk, so an upload of any size costs constant memory.
/// Response bodies are written piece by piece and only while the channel is writable: when the socket
/// backs up we stop and resume on `channelWritabilityChanged`, so a slow reader holds at most the
/// channel's high watermark plus the kernel's buffers — which is what back-pressure tests observe
/// through `downloadBytesAccepted`. Every delay is an event-loop timer, cancelled when the channel closes.
final class StandInHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the connection is in its current exchange.
    private enum State {
        /// Waiting for a request head.
        case idle
        /// Head seen; body chunks are being hashed until `.end`.
        case receiving
        /// Request complete; the response head waits for `X-StandIn-Delay-Ms`.
        case delayingHead
        /// Head written; body pieces go out as the socket (and any trickle timer) allows.
        case responding
        /// Closed or closing: nothing more is read or written.
        case closed
    }

    /// Body piece size when streaming without a trickle delay.
    static let streamingPieceBytes = 64 * 1024
    /// Body piece size when trickling (`X-StandIn-Body-Delay-Ms`) without an explicit piece size.
    static let tricklePieceBytes = 16

    private let recorder: StandInRecorder
    private let logger: Logger
    private var state = State.idle
    private var request: StandInIncomingRequest?
    private var response: StandInResponse?
    /// Piece size and trickle delay of the response being written.
    private var pieceBytes = StandInHandler.streamingPieceBytes
    private var pieceDelay: TimeAmount?
    /// Set when the trickle timer fired and the next piece may go out.
    private var pieceDue = false
    private var timer: Scheduled<Void>?

    init(recorder: StandInRecorder, logger: Logger) {
        self.recorder = recorder
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHeadReceived(head, context: context)
        case .body(let chunk):
            if case .receiving = state { request?.absorb(chunk) }
        case .end:
            requestEndReceived(context: context)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .responding = state, context.channel.isWritable {
            pump(context: context)
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .receiving = state, let request {
            // The peer went away mid-request: keep what did arrive, marked incomplete.
            recorder.record(request.recorded(sha256: request.bodySHA256, isComplete: false))
        }
        enterClosed()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        enterClosed()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("stand-in connection error", metadata: ["error": "\(error)"])
        enterClosed()
        context.close(promise: nil)
    }

    // MARK: - Receiving

    private func requestHeadReceived(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        let incoming = StandInIncomingRequest(head: head, allocator: context.channel.allocator)
        if incoming.controls.reset {
            recorder.record(incoming.recorded(sha256: incoming.bodySHA256, isComplete: false))
            enterClosed()
            context.close(promise: nil)
            return
        }
        request = incoming
        state = .receiving
        if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
            let interim = HTTPResponseHead(version: head.version, status: .continue)
            context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
        }
    }

    private func requestEndReceived(context: ChannelHandlerContext) {
        guard case .receiving = state, let request else { return }
        self.request = nil
        let sha256 = request.bodySHA256
        recorder.record(request.recorded(sha256: sha256, isComplete: true))

        var response = StandInResponder.respond(to: request, sha256: sha256)
        if request.head.method == .HEAD { response.dropBody() }
        if request.controls.close || !request.head.isKeepAlive { response.closeAfter = true }
        if response.closeAfter { response.head.headers.replaceOrAdd(name: "connection", value: "close") }
        self.response = response

        let controls = request.controls
        pieceDelay = controls.bodyDelayMilliseconds.map { .milliseconds(Int64($0)) }
        pieceBytes = controls.pieceBytes
            ?? (pieceDelay == nil ? Self.streamingPieceBytes : Self.tricklePieceBytes)
        pieceDue = false

        if controls.headDelayMilliseconds > 0 {
            state = .delayingHead
            timer = context.eventLoop.assumeIsolated().scheduleTask(
                in: .milliseconds(Int64(controls.headDelayMilliseconds))
            ) { [self] in
                timer = nil
                if case .delayingHead = state { writeHead(context: context) }
            }
        } else {
            writeHead(context: context)
        }
    }

    // MARK: - Responding

    private func writeHead(context: ChannelHandlerContext) {
        guard let head = response?.head else { return }
        state = .responding
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        pump(context: context)
    }

    /// Writes body pieces while the socket takes them (and, when trickling, one per timer tick), then the end.
    private func pump(context: ChannelHandlerContext) {
        while case .responding = state {
            guard let response, !response.isExhausted else {
                finishResponse(context: context)
                return
            }
            let isDownload = response.isDownload
            if let delay = pieceDelay, !pieceDue {
                context.flush()
                scheduleNextPiece(after: delay, context: context)
                return
            }
            guard context.channel.isWritable else {
                context.flush()  // resumed by channelWritabilityChanged
                return
            }
            guard let piece = self.response?.nextPiece(maxBytes: pieceBytes) else {
                finishResponse(context: context)
                return
            }
            pieceDue = false
            if isDownload {
                let promise = context.eventLoop.makePromise(of: Void.self)
                let (recorder, count) = (self.recorder, piece.readableBytes)
                promise.futureResult.whenSuccess { recorder.addDownloadBytesAccepted(count) }
                context.write(wrapOutboundOut(.body(.byteBuffer(piece))), promise: promise)
            } else {
                context.write(wrapOutboundOut(.body(.byteBuffer(piece))), promise: nil)
            }
            if self.response?.isExhausted ?? true {
                finishResponse(context: context)
                return
            }
            context.flush()
        }
    }

    private func scheduleNextPiece(after delay: TimeAmount, context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            timer = nil
            pieceDue = true
            pump(context: context)
        }
    }

    private func finishResponse(context: ChannelHandlerContext) {
        let closeAfter = response?.closeAfter ?? false
        response = nil
        if closeAfter {
            enterClosed()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            state = .idle
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    private func enterClosed() {
        state = .closed
        request = nil
        response = nil
        timer?.cancel()
        timer = nil
    }
}

@available(*, unavailable)
extension StandInHandler: Sendable {}
