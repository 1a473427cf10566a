// The invariants the HTTP/1.1 codec must never break, checked on one fuzzer input.
// Every broken invariant calls `fatalError`, which libFuzzer reports as a crash (and saves the input).

import EdgeProxy
import Policy

/// Checks one input as a request stream (up to four pipelined requests) and as an upstream response.
enum HTTP1FuzzChecks {
    static func run(_ input: [UInt8]) {
        requests(input)
        response(input)
    }

    /// Small limits, so that short inputs reach every bound.
    static let limits = HTTP1Conformance.Limits(maxHeaderBytes: 2048, maxHeaderCount: 24, maxChunkLineBytes: 48, maxTrailerBytes: 128)
    /// Room for the fields the edge adds when a rewritten head is parsed again.
    static let roomy = HTTP1Conformance.Limits(maxHeaderBytes: 1 << 20, maxHeaderCount: 1000)

    static let methods: Set<[UInt8]> = Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"].map { Array($0.utf8) })
    static let requestStatuses: Set<Int> = [400, 417, 431, 501]
    /// Fields the edge itself writes into every rewritten head (so a client naming them in
    /// Connection cannot remove them).
    static let edgeSet: Set<String> = ["host", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "content-length", "transfer-encoding"]
    static let hopByHop: Set<String> = ["connection", "keep-alive", "te", "trailer", "upgrade", "transfer-encoding"]

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { fatalError("HTTP1Fuzzer invariant broken: \(message())") }
    }

    /// FNV-1a of the input: where to cut it into reads, reproducibly.
    static func hash(_ input: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in input { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    static func cuts(_ input: [UInt8]) -> [Int] {
        let h = hash(input)
        let n = UInt64(input.count + 1)
        return [Int(h % n), Int((h >> 21) % n), Int((h >> 42) % n)]
    }

    /// ASCII-only lower case (never Unicode case mapping: "\u{212A}" must not become "k").
    static func lower(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    // MARK: Requests

    /// Up to four pipelined requests, each decoded whole, in reads cut at three places, and byte by byte.
    static func requests(_ input: [UInt8]) {
        var offset = 0
        for _ in 0..<4 {
            let rest = Array(input[offset...])
            let whole = HTTP1Conformance.decodeRequest(rest, limits: limits)
            let split = HTTP1Conformance.decodeRequest(rest, splitAt: cuts(rest), limits: limits)
            check(whole == split, "cutting the input into reads at \(cuts(rest)) changed the result")
            // Byte by byte: always for short inputs, for one in sixteen up to 1 KiB (it is slow).
            if rest.count <= 64 || (rest.count <= 1024 && hash(rest) % 16 == 0) {
                let bytewise = HTTP1Conformance.decodeRequest(rest, splitAt: Array(0..<rest.count), limits: limits)
                check(whole == bytewise, "reading byte by byte changed the result")
            }
            check(whole.consumed >= 0 && whole.consumed <= rest.count, "consumed \(whole.consumed) of \(rest.count) bytes")
            if let rejection = whole.rejection {
                check(whole.request != nil || requestStatuses.contains(rejection.status), "head refused with \(rejection)")
                check(whole.request == nil || [400, 413, 431].contains(rejection.status), "body refused with \(rejection)")
                check(!whole.complete, "a refused message is complete")
            }
            guard let request = whole.request else { return }
            accepted(request, whole)
            guard whole.complete, whole.consumed > 0 else { return }
            offset += whole.consumed
        }
    }

    static func accepted(_ r: HTTP1Conformance.Request, _ result: HTTP1Conformance.RequestResult) {
        check(methods.contains(r.method), "method \(r.method)")
        check(r.target.allSatisfy { $0 > 0x20 && $0 < 0x7F }, "target has a control, space or non-ASCII byte")
        if r.target == Array("*".utf8) {
            check(r.method == Array("OPTIONS".utf8), "asterisk-form for a method other than OPTIONS")
        } else {
            check(r.target.first == UInt8(ascii: "/") && !r.target.contains(UInt8(ascii: "#")), "target is not origin-form")
            check(r.target.starts(with: r.path), "path is not a prefix of the target")
            let valid = r.path.withUnsafeBytes { RequestTarget.validate($0) }
            check((try? valid.get()) == r.path.count, "path \(r.path) is not in normal form")
        }
        wellFormedHead(r.head, "accepted head")

        var hosts = 0, lengths: [[UInt8]] = [], encodings: [[UInt8]] = []
        for f in r.fields {
            check(!f.name.isEmpty && f.name.allSatisfy(isToken), "field name is not a token")
            check(f.value.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }, "field value has a control byte")
            check(f.value.first.map { $0 != 0x20 && $0 != 0x09 } ?? true, "value not trimmed at its start")
            check(f.value.last.map { $0 != 0x20 && $0 != 0x09 } ?? true, "value not trimmed at its end")
            switch lower(f.name) {
            case "host": hosts += 1
            case "content-length": lengths.append(f.value)
            case "transfer-encoding": encodings.append(f.value)
            default: break
            }
        }
        check(hosts == 1, "\(hosts) Host fields")
        check(lengths.isEmpty || encodings.isEmpty, "both Content-Length and Transfer-Encoding")
        check(Set(lengths.map { Int64(String(decoding: $0, as: UTF8.self)) }).count <= 1, "differing Content-Lengths")
        switch r.framing {
        case .chunked:
            check(encodings.count == 1 && lower(encodings[0]) == "chunked" && !r.isHTTP10, "chunked framing without one 'chunked'")
        case .contentLength(let n):
            check(n > 0 && lengths.allSatisfy { Int64(String(decoding: $0, as: UTF8.self)) == n }, "Content-Length \(n) disagrees with the fields")
        case .none:
            check(encodings.isEmpty && lengths.allSatisfy { Int64(String(decoding: $0, as: UTF8.self)) == 0 }, "no body despite framing fields")
        case .untilClose:
            check(false, "a request framed until close")
        }
        check(!r.expectsContinue || (!r.isHTTP10 && r.framing != .none), "100-continue without a body")
        if result.complete {
            switch r.framing {
            case .contentLength(let n): check(Int64(result.body.count) == n, "body of \(result.body.count) bytes for Content-Length \(n)")
            case .none: check(result.body.isEmpty, "body without framing")
            default: break
            }
            if !result.body.isEmpty { chunkedRoundTrip(result.body) }
        }
        rewritten(r, r.upstreamHead, credential: false)
        rewritten(r, r.upstreamHeadWithCredential, credential: true)
    }

    /// A head is CRLF-terminated lines with no bare CR or LF, ending at its only empty line.
    static func wellFormedHead(_ head: [UInt8], _ what: String) {
        check(head.count >= 4 && head.suffix(4).elementsEqual([13, 10, 13, 10]), "\(what) does not end with CRLF CRLF")
        for i in head.indices {
            if head[i] == 13 { check(i + 1 < head.count && head[i + 1] == 10, "\(what) has a bare CR at \(i)") }
            if head[i] == 10 { check(i > 0 && head[i - 1] == 13, "\(what) has a bare LF at \(i)") }
            if i >= 3, i < head.count - 1, head[i - 3] == 13, head[i - 2] == 10, head[i - 1] == 13, head[i] == 10 {
                check(false, "\(what) has an empty line before its end")
            }
        }
    }

    /// The head sent upstream: well formed, accepted by our own parser, and free of everything the
    /// edge must not forward.
    static func rewritten(_ r: HTTP1Conformance.Request, _ head: [UInt8], credential: Bool) {
        let what = credential ? "head toward the credentialed upstream" : "head toward the app"
        wellFormedHead(head, what)
        let again = HTTP1Conformance.decodeRequest(head, limits: roomy)
        guard let up = again.request else {
            check(false, "\(what) is refused by our own parser: \(String(describing: again.rejection))")
            return
        }
        check(again.consumed == head.count, "\(what) is not exactly one head")
        check(up.method == r.method, "\(what) changed the method")
        // Toward the credentialed upstream the path is mapped (and the base path prepended); the query stays.
        let target = credential ? Array("/base/mapped".utf8) + r.target[r.path.count...] : r.target
        check(up.target == target, "\(what) target \(up.target)")
        check(!up.isHTTP10, "\(what) is not HTTP/1.1")
        switch r.framing {
        case .chunked: check(up.framing == .chunked, "\(what) lost chunked framing")
        case .contentLength(let n): check(up.framing == .contentLength(n), "\(what) changed the length")
        default: check(up.framing == .none, "\(what) gained a body")
        }

        // Names listed in Connection, ASCII-lower-cased byte by byte (as the parser compares them).
        var listed = Set<String>()
        for f in r.fields where lower(f.name) == "connection" {
            for token in f.value.split(separator: UInt8(ascii: ",")) {
                var t = ArraySlice(token)
                while let c = t.first, c == 0x20 || c == 0x09 { t.removeFirst() }
                while let c = t.last, c == 0x20 || c == 0x09 { t.removeLast() }
                listed.insert(lower(Array(t)))
            }
        }
        var counts: [String: Int] = [:]
        for f in up.fields {
            let name = lower(f.name)
            counts[name, default: 0] += 1
            check(!hopByHop.contains(name) || (name == "transfer-encoding" && r.framing == .chunked), "\(what) forwards \(name)")
            check(!name.hasPrefix("proxy-"), "\(what) forwards \(name)")
            check(!listed.contains(name) || edgeSet.contains(name) || (credential && name == "authorization"),
                  "\(what) forwards \(name), which Connection names")
            if !edgeSet.contains(name), !(credential && name == "authorization") {
                check(r.fields.contains { $0.name == f.name && $0.value == f.value }, "\(what) invented \(name)")
            }
        }
        for name in ["host", "x-request-id", "x-forwarded-for", "x-forwarded-proto"] {
            check(counts[name] == 1, "\(what) has \(counts[name] ?? 0) \(name) fields")
        }
        if credential {
            check(counts["cookie"] == nil, "\(what) forwards the client's Cookie")
            check(counts["authorization"] == 1 && up.fields.contains { $0.value == Array("Bearer fuzz-token".utf8) },
                  "\(what) does not carry exactly the edge's credential")
        }
    }

    /// ChunkedEncoder's framing of `body` (cut into pieces) decodes back to `body`.
    static func chunkedRoundTrip(_ body: [UInt8]) {
        var pieces: [[UInt8]] = []
        var start = 0
        for cut in Set(cuts(body)).sorted() where cut > start {
            pieces.append(Array(body[start..<cut]))
            start = cut
        }
        pieces.append(Array(body[start...]))
        let head = Array("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        let wire = head + HTTP1Conformance.chunkedEncode(pieces)
        let decoded = HTTP1Conformance.decodeRequest(wire)
        check(decoded.complete && decoded.body == body && decoded.consumed == wire.count, "chunked round trip failed")
    }

    static func isToken(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    // MARK: Responses

    static func response(_ input: [UInt8]) {
        let wasHEAD = hash(input) & 1 == 1
        let whole = HTTP1Conformance.decodeResponse(input, requestWasHEAD: wasHEAD, limits: limits)
        let split = HTTP1Conformance.decodeResponse(input, requestWasHEAD: wasHEAD, splitAt: cuts(input), limits: limits)
        check(whole == split, "cutting a response into reads changed the result")
        check(whole.consumed >= 0 && whole.consumed <= input.count, "response consumed \(whole.consumed) of \(input.count)")
        guard let r = whole.response else { return }
        check((100...599).contains(r.status), "status \(r.status)")
        check(r.reason.allSatisfy { $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }, "reason phrase has a control byte")
        let bodiless = (100..<200).contains(r.status) || r.status == 204 || r.status == 304 || wasHEAD
        let names = r.fields.map { lower($0.name) }
        switch r.framing {
        case .none: check(bodiless || names.contains("content-length"), "no body without a reason")
        case .contentLength(let n): check(!bodiless && n > 0, "a body for status \(r.status)")
        case .chunked: check(!bodiless && names.contains("transfer-encoding"), "chunked without Transfer-Encoding")
        case .untilClose:
            check(!bodiless && !names.contains("content-length") && !names.contains("transfer-encoding"), "close-delimited despite framing")
            check(!r.keepAlive && !whole.complete, "a close-delimited body ended or kept the connection")
        }
        if whole.complete, case .contentLength(let n) = r.framing {
            check(Int64(whole.body.count) == n, "response body of \(whole.body.count) bytes for Content-Length \(n)")
        }
    }
}
